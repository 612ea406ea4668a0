// The allocator's lock (fast/lock.hpp): mutual exclusion with many more
// threads than CPUs (where waiters sleep on the futex and each release must
// wake one), try_lock, and the fork child's reset.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "fast/lock.hpp"

using globalloc::fast::LockGuard;
using globalloc::fast::Lock;

namespace {

TEST(Lock, ExcludesManyMoreThreadsThanCpus) {
  Lock lock;
  // Plain (not atomic) on purpose: only the lock keeps the updates whole.
  std::uint64_t counter = 0;
  std::uint64_t inside = 0;
  std::atomic<bool> overlap{false};
  constexpr int kThreads = 64;
  constexpr int kRounds = 3000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kRounds; ++i) {
        LockGuard guard(lock);
        if (++inside != 1) overlap.store(true);
        for (int spin = 0; spin < 50; ++spin) counter = counter + 1;
        // Now and then the holder gives its CPU away, as a preempted holder
        // does: the others spin out and sleep on the futex.
        if (i % 64 == 0) std::this_thread::yield();
        --inside;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_FALSE(overlap.load());
  EXPECT_EQ(counter, std::uint64_t{kThreads} * kRounds * 50);
  EXPECT_TRUE(lock.try_lock()) << "left held";
  lock.unlock();
}

TEST(Lock, TryLockFailsWhileHeldAndSucceedsAfter) {
  Lock lock;
  ASSERT_TRUE(lock.try_lock());
  std::atomic<int> other{-1};
  std::thread([&] { other.store(lock.try_lock() ? 1 : 0); }).join();
  EXPECT_EQ(other.load(), 0);
  lock.unlock();
  std::thread([&] {
    other.store(lock.try_lock() ? 1 : 0);
    if (other.load() == 1) lock.unlock();
  }).join();
  EXPECT_EQ(other.load(), 1);
}

TEST(Lock, AWaiterSleepingOnTheLockIsWokenByTheRelease) {
  Lock lock;
  lock.lock();
  std::atomic<bool> taken{false};
  std::thread waiter([&] {
    LockGuard guard(lock);
    taken.store(true);
  });
  // Long enough for the waiter to pass its spins and sleep on the futex.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(taken.load());
  const auto released = std::chrono::steady_clock::now();
  lock.unlock();
  waiter.join();
  EXPECT_TRUE(taken.load());
  // A sleeper also looks again on its own after a second (the lock's
  // safety net); only the release's wake-up brings it much sooner. Not a
  // speed figure: a missed wake-up is a whole second.
  EXPECT_LT(std::chrono::steady_clock::now() - released, std::chrono::milliseconds(500))
      << "the waiter was not woken by the release";
}

TEST(Lock, AForkChildResetsALockItsParentHeld) {
  static Lock lock;
  lock.lock();
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    lock.reset();
    _exit(lock.try_lock() ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  lock.unlock();
}

}  // namespace
