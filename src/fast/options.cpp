// The fast allocator's run-time options, kept in the one option table of
// globalloc (src/options): this file only names the ones the fast allocator
// reads, so that its files need not know the table.
#include "fast/options.hpp"

#include "fast/purge_thread.hpp"
#include "options/options.hpp"
#include "profiling/profiler.hpp"

namespace globalloc::fast {

// Both setters wake the purge thread if it waits for news: what it has to
// do may have changed.
void set_purge_delay_ms(long delay_ms) noexcept {
  options::set(options::Option::purge_delay_ms, delay_ms);
  purge_thread_note_options_changed();
}

long purge_delay_ms() noexcept { return options::value(options::Option::purge_delay_ms); }

bool purge_thread_enabled() noexcept { return options::value(options::Option::purge_thread) != 0; }
void set_purge_thread_enabled(bool enabled) noexcept {
  options::set(options::Option::purge_thread, enabled ? 1 : 0);
  purge_thread_note_options_changed();
}

bool huge_pages_enabled() noexcept { return options::value(options::Option::huge_pages) != 0; }
bool huge_pages_for_small_blocks() noexcept { return options::value(options::Option::huge_pages) == 2; }

unsigned starter_allocations() noexcept {
  return static_cast<unsigned>(options::value(options::Option::starter_allocations));
}

// Runs once, in process_init, before the first heap exists: the heap
// profiler starts here when GLOBALLOC_OPTIONS asks for it (prof=1), so that
// it samples from the process's first allocations.
void load_options_from_environment() noexcept {
  options::load_from_environment();
  profiling::start_from_options();
}

}  // namespace globalloc::fast
