// Starter heaps (src/fast/starter_heaps.hpp): a thread's first small blocks
// come from heaps that threads share, then from a heap of its own; blocks
// outlive the starter heap that served them; an idle starter heap is let go.
#include <gtest/gtest.h>

#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

#include "fast/heap.hpp"
#include "fast/options.hpp"
#include "fast/segment.hpp"
#include "fast/starter_heaps.hpp"
#include "fast/stats.hpp"
#include "globalloc/fast_allocator.hpp"
#include "options/options.hpp"
#include "sanitizers.hpp"

using namespace globalloc;

namespace {

fast::Page* page_of(const void* block) { return fast::segment_page_of(fast::segment_lookup(block), block); }

fast::ThreadHeap* owner_of(const void* block) {
  fast::Page* page = page_of(block);
  return (page - page->span_offset)->owner.load();
}

/// Heaps with thread id 0 that the statistics list: the starter heaps kept.
std::size_t starter_heaps_listed() {
  fast::ThreadStatistics threads[512];
  const std::size_t total = fast::get_thread_statistics(threads, 512);
  std::size_t starters = 0;
  for (std::size_t i = 0; i < total && i < 512; ++i) starters += threads[i].thread_id == 0;
  return starters;
}

void fill(void* block, std::size_t size, int value) { std::memset(block, value, size); }

bool holds(const void* block, std::size_t size, int value) {
  const auto* bytes = static_cast<const unsigned char*>(block);
  for (std::size_t i = 0; i < size; ++i) {
    if (bytes[i] != static_cast<unsigned char>(value)) return false;
  }
  return true;
}

}  // namespace

TEST(StarterHeaps, AThreadsFirstBlocksComeFromAStarterHeapThenFromItsOwn) {
  std::thread([] {
    const unsigned shared = fast::starter_allocations();
    ASSERT_GT(shared, 0u);
    std::vector<void*> blocks;
    for (unsigned i = 0; i < shared; ++i) {
      void* block = fast::allocate(100 + i % 7 * 50, 16);
      ASSERT_NE(block, nullptr);
      blocks.push_back(block);
      EXPECT_EQ(fast::thread_heap, &fast::empty_heap) << i;  // no heap of its own yet
      fast::ThreadHeap* owner = owner_of(block);
      ASSERT_NE(owner, nullptr);
      EXPECT_FALSE(owner->owned) << i;  // a starter heap's page
    }
    void* own = fast::allocate(100, 16);
    ASSERT_NE(own, nullptr);
    EXPECT_NE(fast::thread_heap, &fast::empty_heap);
    EXPECT_EQ(owner_of(own), fast::thread_heap);
    EXPECT_TRUE(fast::thread_heap->owned);
    for (void* block : blocks) fast::deallocate(block);  // remote frees now
    fast::deallocate(own);
  }).join();
}

TEST(StarterHeaps, TheMainThreadTakesItsOwnHeapAtOnce) {
  // gtest runs the tests on the process's main thread.
  void* block = fast::allocate(48, 16);
  ASSERT_NE(block, nullptr);
  EXPECT_NE(fast::thread_heap, &fast::empty_heap);
  EXPECT_EQ(owner_of(block), fast::thread_heap);
  fast::deallocate(block);
}

TEST(StarterHeaps, ThreadsThatAllocateLittleSharePages) {
  // 64 threads alive at once, each with one 200-byte block: from heaps of
  // their own, each block would lie in a page of its own (a thread that
  // exits first would pass its heap and pages on to the next one).
  constexpr int threads = 64;
  std::vector<void*> blocks(threads);
  pthread_barrier_t all_allocated;
  pthread_barrier_init(&all_allocated, nullptr, threads);
  std::vector<std::thread> running;
  for (int t = 0; t < threads; ++t) {
    running.emplace_back([&blocks, &all_allocated, t] {
      blocks[t] = fast::allocate(200, 16);
      if (blocks[t] != nullptr) fill(blocks[t], 200, t);
      pthread_barrier_wait(&all_allocated);
    });
  }
  for (std::thread& thread : running) thread.join();
  pthread_barrier_destroy(&all_allocated);
  std::set<fast::Page*> pages;
  for (int t = 0; t < threads; ++t) {
    ASSERT_NE(blocks[t], nullptr);
    pages.insert(page_of(blocks[t]));
  }
  EXPECT_LE(pages.size(), fast::Config::starter_heap_count);
  for (int t = 0; t < threads; ++t) {
    EXPECT_TRUE(holds(blocks[t], 200, t)) << t;
    fast::deallocate(blocks[t]);  // a remote free into the starter heap's page
  }
}

TEST(StarterHeaps, BlocksThatThreadsFreedAreUsedAgain) {
  // 1,000 threads one after the other, each allocating a block of about 4
  // KiB and freeing it: the starter heap takes the frees back (remote
  // frees, as no thread owns it) and hands the blocks out again, so the
  // class does not take a page per 16 threads.
  const unsigned size_class = fast::class_of(4000);
  const std::int64_t pages_before = fast::class_pages_total(size_class);
  for (int t = 0; t < 1000; ++t) {
    std::thread([t] {
      void* block = fast::allocate(4000, 16);
      ASSERT_NE(block, nullptr);
      fill(block, 4000, t & 0xff);
      ASSERT_TRUE(holds(block, 4000, t & 0xff));
      fast::deallocate(block);
    }).join();
  }
  EXPECT_LE(fast::class_pages_total(size_class) - pages_before,
            static_cast<std::int64_t>(2 * fast::Config::starter_heap_count));
}

TEST(StarterHeaps, BlocksOutliveTheirStarterHeapAndPurgeLetsItGo) {
  // Blocks of exited threads, still live when purge() lets the starter
  // heaps go: their pages are abandoned with them, as an exited thread's
  // are, and the blocks keep their contents and can be freed afterwards.
  constexpr int threads = 16;
  constexpr int per_thread = 20;
  std::vector<std::vector<void*>> blocks(threads);
  for (int t = 0; t < threads; ++t) {
    std::thread([&blocks, t] {
      for (int i = 0; i < per_thread; ++i) {
        void* block = fast::allocate(64 + i * 24, 16);
        ASSERT_NE(block, nullptr);
        fill(block, 64 + i * 24, t * per_thread + i);
        blocks[t].push_back(block);
      }
    }).join();
  }
  EXPECT_GE(starter_heaps_listed(), 1u);
  fast::purge();
  EXPECT_EQ(starter_heaps_listed(), 0u);
  // Later threads allocate again (a new starter heap; the abandoned
  // segments may be adopted by the main thread's heap meanwhile).
  std::thread([] {
    void* block = fast::allocate(100, 16);
    ASSERT_NE(block, nullptr);
    fill(block, 100, 7);
    EXPECT_TRUE(holds(block, 100, 7));
    fast::deallocate(block);
  }).join();
  for (int t = 0; t < threads; ++t) {
    for (int i = 0; i < per_thread; ++i) {
      ASSERT_EQ(blocks[t].size(), static_cast<std::size_t>(per_thread));
      EXPECT_TRUE(holds(blocks[t][i], 64 + i * 24, t * per_thread + i)) << t << " " << i;
      fast::deallocate(blocks[t][i]);
    }
  }
}

TEST(StarterHeaps, ThePurgeThreadLetsAnIdleStarterHeapGo) {
  const pid_t child = fork();
  if (child == 0) {
    fast::set_purge_delay_ms(20);
    fast::set_purge_thread_enabled(true);
    std::vector<void*> blocks;
    std::thread([&blocks] {
      for (int i = 0; i < 50; ++i) blocks.push_back(fast::allocate(16 + i * 40, 16));
    }).join();
    int findings = 0;
    if (starter_heaps_listed() == 0) findings |= 1;  // the blocks came from no starter heap
    for (void* block : blocks) fast::deallocate(block);
    // The thread looks every few milliseconds; a heap counts as idle once
    // it served nothing for the delay.
    for (int wait = 0; wait < 200 && starter_heaps_listed() != 0; ++wait) usleep(10 * 1000);
    if (starter_heaps_listed() != 0) findings |= 2;
    _exit(findings);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: no starter heap served the thread, 2: it was never let go";
}

TEST(StarterHeaps, OptionZeroGivesEveryThreadItsOwnHeapAtOnce) {
  const long saved = options::value(options::Option::starter_allocations);
  options::set(options::Option::starter_allocations, 0);
  std::thread([] {
    void* block = fast::allocate(100, 16);
    ASSERT_NE(block, nullptr);
    EXPECT_NE(fast::thread_heap, &fast::empty_heap);
    EXPECT_EQ(owner_of(block), fast::thread_heap);
    fast::deallocate(block);
  }).join();
  options::set(options::Option::starter_allocations, saved);
}

TEST(StarterHeaps, AForkWhileThreadsAllocateFromThemLeavesThemUsable) {
  // Threads start and allocate from the starter heaps while the main
  // thread forks: the child's threads must find every starter heap's lock
  // free and its lists whole.
  if (kThreadSanitizer) GTEST_SKIP() << "ThreadSanitizer cannot start threads in the child of a threaded process";
  std::atomic<bool> stop{false};
  std::thread spawner([&stop] {
    while (!stop.load()) {
      std::thread([] {
        void* blocks[20];
        for (int i = 0; i < 20; ++i) blocks[i] = fast::allocate(32 + i * 16, 16);
        for (void* block : blocks) fast::deallocate(block);
      }).join();
    }
  });
  for (int round = 0; round < 20; ++round) {
    const pid_t child = fork();
    if (child == 0) {
      int failures = 0;
      for (int t = 0; t < 4; ++t) {
        std::thread([&failures, t] {
          std::vector<void*> blocks;
          for (int i = 0; i < 30; ++i) {
            void* block = fast::allocate(24 + i * 8, 16);
            if (block == nullptr) {
              ++failures;
              continue;
            }
            fill(block, 24 + i * 8, t + i);
            blocks.push_back(block);
          }
          for (std::size_t i = 0; i < blocks.size(); ++i) {
            if (!holds(blocks[i], 24 + i * 8, t + static_cast<int>(i))) ++failures;
            fast::deallocate(blocks[i]);
          }
        }).join();
      }
      _exit(failures == 0 ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "round " << round;
  }
  stop.store(true);
  spawner.join();
}
