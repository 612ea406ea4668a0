// The process-wide heap profiler: the hooks the fast allocator calls for
// sampled blocks, starting and stopping, the fork handlers and the report at
// exit; see profiler.hpp.
#include "profiling/profiler.hpp"

#include <pthread.h>

#include <atomic>

#include "fast/lock.hpp"
#include "fast/sampling.hpp"
#include "options/options.hpp"
#include "platform/os_memory.hpp"
#include "profiling/report.hpp"
#include "profiling/stack_capture.hpp"

namespace globalloc::profiling {
namespace {

// 8192 sites (of which 6144 are used before new stacks are dropped) and
// 131072 live sampled blocks: 6.5 MiB of address space, of which only the
// pages the hashes touch become resident. At the default interval the block
// table holds the samples of about 48 GiB of live memory.
constexpr unsigned site_capacity = 8192;
constexpr unsigned block_capacity = 131072;

constinit SiteTable table;
constinit fast::Lock start_lock;
constinit std::atomic<bool> table_ready{false};
constinit std::atomic<bool> sampling{false};
constinit std::atomic<std::size_t> mean_interval{0};
constinit std::atomic<bool> started_by_options{false};

// Set while this thread is inside the profiler: an allocation made meanwhile
// (by the unwinder, say) is served but not sampled, so the profiler never
// re-enters itself.
constinit thread_local bool inside_profiler [[gnu::tls_model("initial-exec")]] = false;

bool on_allocated(void* block, std::size_t usable, std::size_t weight) noexcept {
  if (inside_profiler) return false;
  inside_profiler = true;
  void* frames[max_stack_depth];
  // Skips this function: the stack starts in the allocator that called it.
  const unsigned depth = capture_stack(frames, max_stack_depth, 1);
  const bool recorded = table.record_allocation(block, usable, weight, frames, depth);
  inside_profiler = false;
  return recorded;
}

// Called for every block freed from a page that holds recorded blocks; true
// only for the recorded ones.
bool on_freed(void* block) noexcept { return table.record_free(block); }

constinit const fast::SampleHooks hooks{on_allocated, on_freed};

void fork_prepare() noexcept { table.lock_for_fork(); }
void fork_parent() noexcept { table.unlock_after_fork(); }
void fork_child() noexcept { table.reset_lock_in_child(); }

unsigned configured_top_sites() noexcept {
  const long top = options::value(options::Option::prof_top);
  return top < 1 ? 1u : top > static_cast<long>(max_ranked_sites) ? max_ranked_sites : static_cast<unsigned>(top);
}

// GLOBALLOC_OPTIONS=prof=1,prof_at_exit=1: the report on stderr when the
// process exits, from a destructor of the library or executable that holds
// the allocator (atexit may allocate).
[[gnu::destructor]] void report_at_exit() noexcept {
  if (started_by_options.load(std::memory_order_acquire) && options::value(options::Option::prof_at_exit) != 0) {
    write_report(2);
  }
}

}  // namespace

void start_from_options() noexcept {
  // Registered before the allocator registers its own (this runs first in
  // process_init), so the prepare handler runs after the allocator's has
  // taken its locks, and the table's lock is the innermost: the profiler
  // never takes an allocator lock while it holds its own. The handlers are
  // installed whether or not profiling starts, so that one started later
  // from the API keeps that order. pthread_atfork fills a static table in
  // glibc and does not allocate.
  static constinit std::atomic<bool> done{false};
  if (done.exchange(true, std::memory_order_acq_rel)) return;
  ::pthread_atfork(fork_prepare, fork_parent, fork_child);
  if (options::value(options::Option::prof) == 0) return;
  if (start(static_cast<std::size_t>(options::value(options::Option::prof_interval)))) {
    started_by_options.store(true, std::memory_order_release);
  }
}

bool start(std::size_t mean_interval_bytes) noexcept {
  if (mean_interval_bytes == 0) return false;
  {
    fast::LockGuard guard(start_lock);
    if (!table_ready.load(std::memory_order_acquire)) {
      const std::size_t bytes = SiteTable::bytes_needed(site_capacity, block_capacity);
      const std::size_t page = platform::page_size();
      void* memory = platform::reserve_aligned((bytes + page - 1) / page * page, page);
      if (memory == nullptr) return false;
      table.attach(memory, site_capacity, block_capacity);
      table_ready.store(true, std::memory_order_release);
    }
    mean_interval.store(mean_interval_bytes, std::memory_order_relaxed);
    sampling.store(true, std::memory_order_release);
  }
  fast::set_sampling(&hooks, mean_interval_bytes);
  return true;
}

void stop() noexcept {
  fast::set_sampling(nullptr, 0);
  sampling.store(false, std::memory_order_release);
}

bool running() noexcept { return sampling.load(std::memory_order_acquire); }

ProfileTotals totals() noexcept { return table.totals(); }

void write_report(int fd, unsigned top_sites) noexcept {
  if (!table_ready.load(std::memory_order_acquire)) {
    write_report_when_off(fd);
    return;
  }
  // The report's own allocations, if any, are not sampled.
  const bool was_inside = inside_profiler;
  inside_profiler = true;
  write_profile_report(fd, table,
                       ReportSettings{top_sites == 0 ? configured_top_sites() : top_sites,
                                      mean_interval.load(std::memory_order_relaxed), running()});
  inside_profiler = was_inside;
}

}  // namespace globalloc::profiling
