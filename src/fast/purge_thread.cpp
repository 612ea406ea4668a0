// The purge thread (purge_thread.hpp).
#include "fast/purge_thread.hpp"

#include <atomic>
#include <cstdint>

#include "fast/heap.hpp"
#include "fast/large.hpp"
#include "fast/options.hpp"
#include "fast/segment.hpp"
#include "fast/stats.hpp"
#include "platform/clock.hpp"
#include "platform/threads.hpp"

namespace globalloc::fast {

namespace {

enum class State : int { not_started, running, failed };

std::atomic<State> state{State::not_started};
/// Set when memory starts to wait in a shared place; the thread clears it
/// at each check, so it knows whether anything new came.
std::atomic<bool> pending{false};
/// Set when a free slot first waits for its delay (purge_thread_note_slots_freed).
std::atomic<bool> slots_freed{false};

/// Checks after the last news before the thread slows to one a second: a
/// whole delay and a step more, so that the last memory's deadline passed.
constexpr unsigned active_checks_after_news = 5;
constexpr unsigned long idle_step_ms = 1000;

void* purge_thread_main(void*) {
  unsigned quiet_checks = 0;
  for (;;) {
    const long delay = purge_delay_ms();
    const bool active = quiet_checks < active_checks_after_news;
    const unsigned long step = delay > 0 && active ? static_cast<unsigned long>(delay / 4 > 0 ? delay / 4 : 1) : idle_step_ms;
    platform::sleep_milliseconds(step);
    if (pending.exchange(false, std::memory_order_acq_rel)) {
      quiet_checks = 0;
    } else if (quiet_checks < active_checks_after_news) {
      ++quiet_checks;
    }
    if (delay < 0 || !purge_thread_enabled()) continue;
    const std::uint64_t now = platform::monotonic_milliseconds();
    segment_cache_purge(now, false);
    large_purge(now, false);
    purge_abandoned(now, static_cast<std::uint64_t>(delay), false);
    // A heap whose slots changed since the last look may go quiet next:
    // news, so that its purge comes a delay after, not a second later.
    if (purge_idle_heaps(now, static_cast<std::uint64_t>(delay))) quiet_checks = 0;
  }
  return nullptr;
}

/// Sets a flag many threads set: looked at first, since a store each time
/// would bounce its cache line between them.
void raise(std::atomic<bool>& flag) noexcept {
  if (!flag.load(std::memory_order_relaxed)) flag.store(true, std::memory_order_release);
}

}  // namespace

void purge_thread_note_pending() noexcept { raise(pending); }

void purge_thread_note_slots_freed() noexcept {
  // Once set, nothing more to look at; before, only a process with this
  // much committed starts the thread for its heaps' slots.
  if (slots_freed.load(std::memory_order_relaxed)) return;
  if (counters.bytes_committed.load(std::memory_order_relaxed) <
      static_cast<std::int64_t>(Config::purge_thread_start_committed)) {
    return;
  }
  raise(slots_freed);
}

void purge_thread_start_if_wanted() noexcept {
  if (state.load(std::memory_order_relaxed) != State::not_started) return;
  if ((!pending.load(std::memory_order_relaxed) && !slots_freed.load(std::memory_order_relaxed)) || !purge_thread_enabled() || purge_delay_ms() <= 0) return;
  State expected = State::not_started;
  if (!state.compare_exchange_strong(expected, State::running, std::memory_order_acq_rel)) return;
  if (!platform::start_background_thread(purge_thread_main, nullptr)) {
    state.store(State::failed, std::memory_order_release);
  }
}

void purge_thread_fork_child() noexcept {
  state.store(State::not_started, std::memory_order_relaxed);
}

bool purge_thread_running() noexcept { return state.load(std::memory_order_acquire) == State::running; }

}  // namespace globalloc::fast
