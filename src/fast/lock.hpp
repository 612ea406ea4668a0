// SpinLock: the allocator's only lock, used on rare paths (heap pool,
// segment cache, abandoned segments). A spin lock because it must be usable
// before anything is initialised, inside malloc, and in a fork child without
// system calls; it yields to the OS when contended for long.
#pragma once

#include <atomic>

#include "platform/threads.hpp"

namespace globalloc::fast {

class SpinLock {
 public:
  constexpr SpinLock() noexcept = default;

  void lock() noexcept {
    for (unsigned spins = 0;; ++spins) {
      if (!locked_.exchange(true, std::memory_order_acquire)) return;
      while (locked_.load(std::memory_order_relaxed)) {
        if (++spins > 64) {
          platform::yield_processor();
          spins = 0;
        } else {
          platform::cpu_relax();
        }
      }
    }
  }
  bool try_lock() noexcept {
    return !locked_.load(std::memory_order_relaxed) && !locked_.exchange(true, std::memory_order_acquire);
  }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }
  /// Forcibly released in a fork child, where the holder no longer exists.
  void reset() noexcept { locked_.store(false, std::memory_order_relaxed); }

 private:
  std::atomic<bool> locked_{false};
};

class LockGuard {
 public:
  explicit LockGuard(SpinLock& lock) noexcept : lock_(lock) { lock_.lock(); }
  ~LockGuard() { lock_.unlock(); }
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;

 private:
  SpinLock& lock_;
};

}  // namespace globalloc::fast
