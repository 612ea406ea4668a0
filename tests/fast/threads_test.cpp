// Thread life cycle and fork: exited threads' heaps are reclaimed and their
// memory reused; a child forked from a threaded program can allocate and
// free, blocks of other parent threads included.
#include <gtest/gtest.h>

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
