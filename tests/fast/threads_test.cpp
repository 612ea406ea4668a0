// Thread life cycle and fork: exited threads' heaps are reclaimed and their
// memory reused, also when other libraries' thread-exit destructors allocate
// after the allocator's hook; a child forked from a threaded program can
// allocate and free, blocks of other parent threads included.
#include <gtest/gtest.h>

#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "fast/options.hpp"
#include "fast/stats.hpp"
#include "globalloc/fast_allocator.hpp"
#include "sanitizers.hpp"

using namespace globalloc;

namespace {
void thread_work(std::vector<void*>* keep, int seed) {
  std::vector<void*> blocks;
  for (int i = 0; i < 3000; ++i) {
    const std::size_t size = 8 + static_cast<std::size_t>((i * 131 + seed * 7) % 3000);
    void* block = fast::allocate(size, 16);
    std::memset(block, 0x11, size);
    blocks.push_back(block);
  }
  // Free most, keep a few alive past the thread's exit.
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    if (keep != nullptr && i % 500 == 0) {
      keep->push_back(blocks[i]);
    } else {
      fast::deallocate(blocks[i]);
    }
  }
}
}  // namespace

TEST(Threads, ExitedThreadsAreReclaimed) {
  // Warm up, then measure: many generations of threads must not grow the mapping.
  for (int i = 0; i < 4; ++i) std::thread(thread_work, nullptr, i).join();
  fast::Statistics start{};
  fast::get_statistics(&start);
  std::vector<void*> survivors;
  for (int generation = 0; generation < 300; ++generation) {
    std::vector<void*> keep;
    std::thread a(thread_work, &keep, generation);
    a.join();
    std::thread b(thread_work, nullptr, generation + 1);
    b.join();
    // Blocks of dead threads are freed late, from this thread.
    for (void* block : keep) fast::deallocate(block);
  }
  fast::Statistics end{};
  fast::get_statistics(&end);
  EXPECT_LE(end.heaps_in_use, start.heaps_in_use + 1);
  EXPECT_LT(end.bytes_mapped, start.bytes_mapped + (std::size_t{32} << 20))
      << "start " << start.bytes_mapped << " end " << end.bytes_mapped;
}

TEST(Threads, ForkFromThreadedProgram) {
  std::atomic<bool> stop{false};
  std::vector<void*> from_other(100);
  std::atomic<bool> ready{false};
  std::vector<std::thread> workers;
  workers.emplace_back([&] {
    for (auto& block : from_other) block = fast::allocate(64, 16);
    ready.store(true);
    while (!stop.load()) {
      void* block = fast::allocate(100, 16);
      fast::deallocate(block);
    }
  });
  for (int t = 0; t < 2; ++t) {
    workers.emplace_back([&] {
      std::vector<void*> local;
      while (!stop.load()) {
        for (int i = 0; i < 100; ++i) local.push_back(fast::allocate(8 + i * 40, 16));
        for (void* block : local) fast::deallocate(block);
        local.clear();
      }
    });
  }
  while (!ready.load()) std::this_thread::yield();
  for (int round = 0; round < 6; ++round) {
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      // In the child: allocate, free, free the other thread's blocks, and
      // start a thread.
      if (kThreadSanitizer) {
        // TSan cannot start threads in the child of a multi-threaded fork
        // ("starting new threads after multi-threaded fork is not
        // supported": the child dies or hangs), and the child's frees may
        // start the purge thread anew; keep it off here.
        fast::set_purge_thread_enabled(false);
      }
      // The child's own bookkeeping comes from the allocator under test, not
      // from the C library's malloc: under TSan that is the sanitizer's,
      // whose locks the workers may have held at the fork (it does not take
      // them around fork, and the child then waits for ever).
      constexpr int kBlocks = 10000;
      auto** blocks = static_cast<void**>(fast::allocate(kBlocks * sizeof(void*), alignof(void*)));
      for (int i = 0; i < kBlocks; ++i) blocks[i] = fast::allocate(static_cast<std::size_t>(i % 5000), 16);
      for (int i = 0; i < kBlocks; ++i) fast::deallocate(blocks[i]);
      fast::deallocate(blocks);
      for (void* block : from_other) fast::deallocate(block);
      auto large_round_trip = [] {
        void* block = fast::allocate(1 << 20, 16);
        fast::deallocate(block);
      };
      if (kThreadSanitizer) {
        // TSan cannot start threads in the child of a multi-threaded fork
        // ("starting new threads after multi-threaded fork is not
        // supported"); everything else of the scenario still runs.
        large_round_trip();
      } else {
        std::thread helper(large_round_trip);
        helper.join();
      }
      fast::purge();
      _exit(0);
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status)) << "child crashed in round " << round;
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  stop.store(true);
  for (auto& worker : workers) worker.join();
  for (void* block : from_other) fast::deallocate(block);
}

namespace {
// A key created after the allocator's, so its destructor runs after the
// allocator's exit hook in each of the C library's rounds of destructors.
pthread_key_t late_key;
constexpr unsigned kKeptSlots = 512;
std::atomic<void*> kept_by_late_destructors[kKeptSlots];
std::atomic<unsigned> late_destructor_calls{0};

/// Small blocks and, every other call, a large one of the heap's own slots.
std::size_t kept_size(unsigned call) { return call % 2 == 0 ? 48 : 200 * 1024; }

void late_destructor(void* value) {
  // Allocates after the allocator let the thread's heap go, keeps a block
  // past the thread, and asks for another round until the C library stops
  // (PTHREAD_DESTRUCTOR_ITERATIONS): the last round's allocations come after
  // the allocator's last chance to run its own hook.
  const auto round = reinterpret_cast<std::uintptr_t>(value);
  void* scratch = fast::allocate(200, 16);
  std::memset(scratch, 0x5a, 200);
  fast::deallocate(scratch);
  const unsigned call = late_destructor_calls.fetch_add(1);
  void* kept = fast::allocate(kept_size(call), 16);
  std::memset(kept, static_cast<int>(call % kKeptSlots % 251), 48);
  void* previous = kept_by_late_destructors[call % kKeptSlots].exchange(kept);
  if (previous != nullptr) fast::deallocate(previous);
  pthread_setspecific(late_key, reinterpret_cast<void*>(round + 1));
}
}  // namespace

TEST(Threads, AllocationsFromLaterThreadExitDestructorsDoNotLeakHeaps) {
  // TSan tears its own state of a thread down in an early round of these
  // destructors; instrumented code in the last round crashes in its runtime.
  if (kThreadSanitizer) GTEST_SKIP() << "ThreadSanitizer cannot run code in the last round of key destructors";
  // Warm up: the allocator's exit key exists once a thread allocated.
  std::thread([] { fast::deallocate(fast::allocate(16, 16)); }).join();
  ASSERT_EQ(pthread_key_create(&late_key, late_destructor), 0);
  fast::Statistics start{};
  fast::get_statistics(&start);
  constexpr int kThreads = 200;
  for (int i = 0; i < kThreads; ++i) {
    std::thread([] {
      fast::deallocate(fast::allocate(64, 16));
      pthread_setspecific(late_key, reinterpret_cast<void*>(std::uintptr_t{1}));
    }).join();
  }
  fast::Statistics end{};
  fast::get_statistics(&end);
  // Every thread ran the destructor in more than one round.
  EXPECT_GE(late_destructor_calls.load(), 2u * kThreads);
  // Without the fix: one heap per thread stayed in use (201 against 3).
  EXPECT_LE(end.heaps_in_use, start.heaps_in_use + 2) << "heaps of exited threads left in use";
  pthread_key_delete(late_key);
  for (unsigned slot = 0; slot < kKeptSlots; ++slot) {
    auto* block = static_cast<unsigned char*>(kept_by_late_destructors[slot].exchange(nullptr));
    if (block == nullptr) continue;
    for (int i = 0; i < 48; ++i) ASSERT_EQ(block[i], slot % 251) << "slot " << slot;
    fast::deallocate(block);
  }
}
