// The purge thread (purge_thread.hpp).
#include "fast/purge_thread.hpp"

#include <atomic>
#include <cstdint>

#include "fast/heap.hpp"
#include "fast/large.hpp"
#include "fast/options.hpp"
#include "fast/segment.hpp"
#include "fast/starter_heaps.hpp"
#include "fast/stats.hpp"
#include "platform/clock.hpp"
#include "platform/threads.hpp"

namespace globalloc::fast {

namespace purge_thread_state {
/// 1 while the thread waits for news with nothing left to purge; whoever
/// brings news sets it to 0 and wakes the thread (wake_if_asleep).
constinit AsleepFlag asleep;
}  // namespace purge_thread_state

namespace {

std::atomic<unsigned>& asleep = purge_thread_state::asleep.value;

enum class State : int { not_started, running, failed };

std::atomic<State> state{State::not_started};
/// Set when memory starts to wait in a shared place; the thread clears it
/// at each check, so it knows whether anything new came.
std::atomic<bool> pending{false};
/// Set when a free slot first waits for its delay (purge_thread_note_slots_freed).
std::atomic<bool> slots_freed{false};

/// Checks after the last news before the thread slows to one a second (while
/// memory still waits) or waits for news (once none does): a whole delay
/// and a step more, so that the last memory's deadline passed.
constexpr unsigned active_checks_after_news = 5;
constexpr unsigned long idle_step_ms = 1000;
/// The longest wait for news once nothing is left to purge: a wake-up that
/// was missed (a remote free into an exited thread's page racing with the
/// thread falling asleep, an option changed through the generic table) is
/// made up for after this long.
constexpr unsigned long news_wait_max_ms = 30000;

/// Set by purge_thread_note_thread_exit: a thread is leaving, perhaps the
/// program's last but this one.
std::atomic<bool> thread_left{false};
/// Set with it when the leaving thread is the main thread.
std::atomic<bool> main_thread_leaving{false};
/// Whether the main thread ended by pthread_exit (seen at the last look):
/// the process then ends with its last thread, which may be one that never
/// allocated and so sends no note, and the wait for news is kept short.
std::atomic<bool> main_thread_left{false};
constexpr unsigned long news_wait_after_main_left_ms = 1000;
/// How long the thread watches a thread that sent an exit note go: this
/// many polls, this far apart.
constexpr unsigned leaving_watch_polls = 100;
constexpr unsigned long leaving_watch_step_ms = 10;

/// The thread's passes over the places memory waits (tests).
std::atomic<std::uint64_t> passes{0};

/// One look at every place memory waits for its delay, purging what is due.
/// True when memory still waits (for its deadline, or behind a lock another
/// thread held) or a live heap changed since the last look.
bool purge_pass(long delay, bool* heaps_changed) noexcept {
  passes.fetch_add(1, std::memory_order_relaxed);
  *heaps_changed = false;
  if (delay < 0 || !purge_thread_enabled()) return false;  // nothing to do until an option changes
  const std::uint64_t now = platform::monotonic_milliseconds();
  bool waits = segment_cache_purge(now, false);
  waits |= large_purge(now, false);
  bool starters_changed = false;
  waits |= starter_heaps_purge(now, static_cast<std::uint64_t>(delay), false, &starters_changed);
  waits |= purge_abandoned(now, static_cast<std::uint64_t>(delay), false);
  if (starters_changed) {
    *heaps_changed = true;
    waits = true;
  }
  switch (purge_idle_heaps(now, static_cast<std::uint64_t>(delay))) {
    case HeapsOutlook::changed:
      *heaps_changed = true;
      return true;
    case HeapsOutlook::memory_waits:
      return true;
    case HeapsOutlook::settled:
      break;
  }
  return waits;
}

/// Nothing waits: sleeps until news (or news_wait_max_ms). Announces the
/// sleep first and then looks once more, so news that came before the
/// announcement (whose bringer saw the thread awake and woke nobody) is
/// seen here, and news after it finds the thread asleep and wakes it.
void wait_for_news() noexcept {
  asleep.store(1, std::memory_order_seq_cst);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  bool heaps_changed = false;
  if (pending.load(std::memory_order_relaxed) || purge_pass(purge_delay_ms(), &heaps_changed)) {
    asleep.store(0, std::memory_order_relaxed);
    return;
  }
  platform::wait_while_equal(&asleep, 1, main_thread_left.load(std::memory_order_relaxed) ? news_wait_after_main_left_ms
                                                                                         : news_wait_max_ms);
  asleep.store(0, std::memory_order_relaxed);
}

/// platform::running_threads, noting whether the main thread has ended.
long running_threads() noexcept {
  bool main_thread_ended = false;
  const long running = platform::running_threads(&main_thread_ended);
  main_thread_left.store(main_thread_ended, std::memory_order_relaxed);
  return running;
}

/// Whether every other thread of the process has ended. A process ends when
/// its last thread does (glibc then calls exit(0)), also when the main
/// thread left by pthread_exit; this thread must not keep it alive, nor
/// keep it from its signals, which this thread blocks. With the others
/// gone it returns, and the process ends as it would have without it.
bool others_gone() noexcept { return running_threads() == 1; }

/// A leaving thread sent its exit note but may still run its exit hooks
/// for a while: when it may be the last thread besides this one, or is the
/// main thread, the thread watches it go, with a look at the running
/// threads every leaving_watch_step_ms, until their count falls below what
/// it was at the note (the looks after it then see the process as the
/// thread left it, main_thread_left among them) or for a second at most.
/// Other threads' exits (a server's workers that come and go) cost one look.
struct LeavingWatch {
  unsigned polls_left = 0;
  long running_at_note = 0;

  /// Starts a watch when a thread sent a note since the last call.
  void take_notes() noexcept {
    if (!thread_left.exchange(false, std::memory_order_acq_rel)) return;
    const bool main_leaves = main_thread_leaving.exchange(false, std::memory_order_relaxed);
    running_at_note = running_threads();
    polls_left = running_at_note == 2 || main_leaves ? leaving_watch_polls : 0;
  }

  /// Sleeps about `milliseconds`, in steps with a look after each while
  /// watching. True when every other thread ended meanwhile.
  bool sleep(unsigned long milliseconds) noexcept {
    for (;;) {
      take_notes();
      if (polls_left == 0) {
        platform::sleep_milliseconds(milliseconds);
        return false;
      }
      const unsigned long step = milliseconds < leaving_watch_step_ms ? milliseconds : leaving_watch_step_ms;
      platform::sleep_milliseconds(step);
      --polls_left;
      const long running = running_threads();
      if (running == 1) return true;
      if (running < running_at_note) polls_left = 0;
      milliseconds -= step;
      if (milliseconds == 0) return false;
    }
  }
};

/// Every other thread has ended: returning ends the process (glibc calls
/// exit(0) on this thread), with signals unblocked as in the program's
/// threads, so a signal that waited for the process is taken now.
void* end_with_the_process() noexcept {
  platform::unblock_signals();
  return nullptr;
}

void* purge_thread_main(void*) {
  unsigned quiet_checks = 0;
  bool waits = true;
  LeavingWatch watch;
  for (;;) {
    const long delay = purge_delay_ms();
    const bool active = quiet_checks < active_checks_after_news;
    watch.take_notes();
    if (!waits && !active && watch.polls_left == 0) {
      // An idle program with nothing left to give back costs no wake-ups.
      wait_for_news();
      quiet_checks = 0;
    } else {
      const unsigned long step = delay >= 0 && active ? static_cast<unsigned long>(delay / 4 > 0 ? delay / 4 : 1) : idle_step_ms;
      if (watch.sleep(step)) return end_with_the_process();
    }
    if (others_gone()) return end_with_the_process();
    if (pending.exchange(false, std::memory_order_acq_rel)) {
      quiet_checks = 0;
    } else if (quiet_checks < active_checks_after_news) {
      ++quiet_checks;
    }
    // A heap whose slots changed since the last look may go quiet next:
    // news, so that its purge comes a delay after, not a second later.
    bool heaps_changed = false;
    waits = purge_pass(purge_delay_ms(), &heaps_changed);
    if (heaps_changed) quiet_checks = 0;
  }
  return nullptr;
}

/// Sets a flag many threads set: looked at first, since a store each time
/// would bounce its cache line between them.
void raise(std::atomic<bool>& flag) noexcept {
  if (!flag.load(std::memory_order_relaxed)) flag.store(true, std::memory_order_release);
}

/// After news (memory that now waits, published before the call): wakes
/// the thread if it waits for news. The fence pairs with wait_for_news's:
/// either the thread's last look sees the news, or this sees it asleep.
void wake_if_asleep() noexcept {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (asleep.load(std::memory_order_relaxed) != 0 && asleep.exchange(0, std::memory_order_acq_rel) != 0) {
    platform::wake_all_waiting(&asleep);
  }
}

}  // namespace

void purge_thread_note_pending() noexcept {
  raise(pending);
  wake_if_asleep();
}

void purge_thread_note_slots_freed() noexcept {
  // Once set, the thread watches the heaps itself while it is awake: only
  // a thread waiting for news needs telling. Before, only a process with
  // this much committed starts the thread for its heaps' slots.
  if (slots_freed.load(std::memory_order_relaxed)) {
    wake_if_asleep();
    return;
  }
  if (counter_total(&Counters::bytes_committed) <
      static_cast<std::int64_t>(Config::purge_thread_start_committed)) {
    return;
  }
  raise(slots_freed);
  wake_if_asleep();
}

void purge_thread_note_options_changed() noexcept { wake_if_asleep(); }

void purge_thread_note_thread_exit() noexcept {
  if (state.load(std::memory_order_relaxed) != State::running) return;
  if (platform::is_main_thread()) main_thread_leaving.store(true, std::memory_order_relaxed);
  raise(thread_left);
  wake_if_asleep();
}

std::uint64_t purge_thread_passes() noexcept { return passes.load(std::memory_order_relaxed); }

void purge_thread_start_if_wanted(bool caller_exits) noexcept {
  if (state.load(std::memory_order_relaxed) != State::not_started) return;
  if ((!pending.load(std::memory_order_relaxed) && !slots_freed.load(std::memory_order_relaxed)) || !purge_thread_enabled() || purge_delay_ms() < 0) return;
  // Not from the exit hook of the process's last thread: the process ends
  // with it, and a thread started now would keep it alive until the purge
  // thread noticed.
  if (caller_exits && platform::running_threads() == 1) return;
  State expected = State::not_started;
  if (!state.compare_exchange_strong(expected, State::running, std::memory_order_acq_rel)) return;
  if (!platform::start_background_thread(purge_thread_main, nullptr)) {
    state.store(State::failed, std::memory_order_release);
  }
}

void purge_thread_fork_child() noexcept {
  state.store(State::not_started, std::memory_order_relaxed);
  thread_left.store(false, std::memory_order_relaxed);
  main_thread_leaving.store(false, std::memory_order_relaxed);
  main_thread_left.store(false, std::memory_order_relaxed);  // the forking thread is the child's main thread
  asleep.store(0, std::memory_order_relaxed);
}

bool purge_thread_running() noexcept { return state.load(std::memory_order_acquire) == State::running; }

}  // namespace globalloc::fast
