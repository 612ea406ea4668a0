// Lock: the allocator's only lock, used on rare paths (heap pool,
// segment cache, abandoned segments). Usable before anything is initialised,
// inside malloc, and in a fork child (reset, no system call). It spins a
// little, then sleeps on a futex until the holder lets go: with many more
// threads than CPUs (thousands starting at once, each taking the heap pool's
// lock), waiters that only yielded kept the preempted holder from running
// (3,000 threads: 2.55 s against glibc's 0.71, a third of it in sched_yield).
#pragma once

#include <atomic>

#include "platform/threads.hpp"

namespace globalloc::fast {

class Lock {
 public:
  constexpr Lock() noexcept = default;

  void lock() noexcept {
    unsigned expected = unlocked;
    if (state_.compare_exchange_strong(expected, locked, std::memory_order_acquire)) [[likely]] return;
    lock_contended();
  }
  bool try_lock() noexcept {
    unsigned expected = unlocked;
    return state_.load(std::memory_order_relaxed) == unlocked &&
           state_.compare_exchange_strong(expected, locked, std::memory_order_acquire);
  }
  void unlock() noexcept {
    if (state_.exchange(unlocked, std::memory_order_release) == locked_with_sleepers) [[unlikely]] {
      platform::wake_one_waiting(&state_);
    }
  }
  /// Forcibly released in a fork child, where the holder no longer exists.
  void reset() noexcept { state_.store(unlocked, std::memory_order_relaxed); }

 private:
  static constexpr unsigned unlocked = 0;
  static constexpr unsigned locked = 1;
  /// Held, and a thread may sleep on the futex: the release wakes one.
  static constexpr unsigned locked_with_sleepers = 2;
  static constexpr unsigned spins_before_sleeping = 100;
  /// A sleeper looks again after this long even without a wake-up.
  static constexpr unsigned long sleep_max_ms = 1000;

  [[gnu::noinline]] void lock_contended() noexcept {
    for (unsigned spins = 0; spins < spins_before_sleeping; ++spins) {
      platform::cpu_relax();
      if (try_lock()) return;
    }
    // Taken as locked_with_sleepers: this thread cannot tell whether others
    // sleep, so its own release wakes one, which at worst finds nothing.
    while (state_.exchange(locked_with_sleepers, std::memory_order_acquire) != unlocked) {
      platform::wait_while_equal(&state_, locked_with_sleepers, sleep_max_ms);
    }
  }

  std::atomic<unsigned> state_{unlocked};
};

class LockGuard {
 public:
  explicit LockGuard(Lock& lock) noexcept : lock_(lock) { lock_.lock(); }
  ~LockGuard() { lock_.unlock(); }
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;

 private:
  Lock& lock_;
};

}  // namespace globalloc::fast
