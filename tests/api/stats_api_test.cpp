// The statistics of the C API seen from C++: per-class and per-thread
// figures for another thread, and the printed table's new sections.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "globalloc/globalloc.h"

namespace {

std::string printed_table() {
  std::FILE* file = std::tmpfile();
  globalloc_stats_print_fd(fileno(file));
  std::rewind(file);
  std::string text;
  char buffer[4096];
  while (std::size_t read = std::fread(buffer, 1, sizeof buffer, file)) text.append(buffer, read);
  std::fclose(file);
  return text;
}

unsigned class_of_block_size(std::uint64_t size) {
  for (unsigned i = 0; i < globalloc_stats_class_count(); ++i) {
    globalloc_class_stats one{};
    if (globalloc_stats_class(i, &one) == 0 && one.block_size == size) return i;
  }
  return globalloc_stats_class_count();
}

// A thread that holds blocks of the fast allocator while the test looks.
TEST(StatisticsApi, AnotherThreadsHeapIsListedWithItsBlocks) {
  constexpr int count = 20000;  // several pages, so the thread publishes on its refills
  std::atomic<pid_t> worker_id{0};
  std::atomic<bool> done{false};
  std::vector<void*> blocks(count);
  std::thread worker([&] {
    for (void*& block : blocks) block = globalloc_malloc(48);
    worker_id = ::gettid();
    while (!done) std::this_thread::yield();
    for (void* block : blocks) globalloc_free(block);
  });
  while (worker_id == 0) std::this_thread::yield();

  std::vector<globalloc_thread_stats> threads(256);
  const std::size_t total = globalloc_stats_threads(threads.data(), threads.size());
  ASSERT_GE(total, 1u);
  bool found = false;
  for (std::size_t i = 0; i < total && i < threads.size(); ++i) {
    if (threads[i].thread_id != static_cast<std::uint64_t>(worker_id.load())) continue;
    found = true;
    // Published when a page stops being current: all but the current page's.
    EXPECT_GE(threads[i].requests_total, count / 2u);
    EXPECT_GE(threads[i].live_blocks, count / 2u);
    EXPECT_GE(threads[i].live_bytes, threads[i].live_blocks * 48);
    EXPECT_GE(threads[i].pages, 2u);
  }
  EXPECT_TRUE(found) << "no entry for thread " << worker_id.load() << " among " << total;

  // More room than threads: the answer is the same; no room: only the count.
  EXPECT_EQ(globalloc_stats_threads(nullptr, 0), total);

  const unsigned size_class = class_of_block_size(48);
  ASSERT_LT(size_class, globalloc_stats_class_count());
  globalloc_class_stats figures{};
  ASSERT_EQ(globalloc_stats_class(size_class, &figures), 0);
  EXPECT_GE(figures.live_blocks, count / 2u);

  const std::string table = printed_table();
  EXPECT_NE(table.find("threads with a heap"), std::string::npos) << table;
  EXPECT_NE(table.find(std::to_string(worker_id.load())), std::string::npos) << table;
  done = true;
  worker.join();
}

TEST(StatisticsApi, ManyThreadsFitInALargeBuffer) {
  // This thread gets a heap of the fast allocator (the test's global
  // allocator is another one); another thread's first block comes from a
  // starter heap, listed with thread id 0.
  std::vector<void*> blocks{globalloc_malloc(100)};
  std::thread([&blocks] { blocks.push_back(globalloc_malloc(100)); }).join();
  // More than the 64 records the function keeps on its stack.
  std::vector<globalloc_thread_stats> threads(1000);
  const std::size_t total = globalloc_stats_threads(threads.data(), threads.size());
  for (void* block : blocks) globalloc_free(block);
  EXPECT_GE(total, 2u);
  EXPECT_LE(total, threads.size());
  std::size_t starters = 0;
  std::set<std::uint64_t> ids;
  for (std::size_t i = 0; i < total; ++i) {
    if (threads[i].thread_id == 0) {
      ++starters;
      EXPECT_GT(threads[i].requests_total, 0u);
    } else {
      EXPECT_TRUE(ids.insert(threads[i].thread_id).second) << "thread listed twice: " << threads[i].thread_id;
    }
  }
  EXPECT_GE(starters, 1u);  // this thread's, and those of earlier tests' threads
  EXPECT_LE(starters, 8u);  // one per CPU, modulo eight
  EXPECT_EQ(ids.count(static_cast<std::uint64_t>(gettid())), 1u);
}

TEST(StatisticsApi, TheTableHasLiveBlocksAndRequestsPerClass) {
  std::vector<void*> blocks;
  for (int i = 0; i < 1000; ++i) blocks.push_back(globalloc_malloc(80));
  const std::string table = printed_table();
  for (void* block : blocks) globalloc_free(block);
  EXPECT_NE(table.find("size classes in use"), std::string::npos) << table;
  EXPECT_NE(table.find("live blocks"), std::string::npos) << table;
  EXPECT_NE(table.find("requests"), std::string::npos) << table;
  // The 80-byte class's row: block size, pages, then at least 1000 live blocks.
  bool row = false;
  std::size_t at = 0;
  while ((at = table.find("\n          80 ", at)) != std::string::npos) {
    unsigned long long pages = 0, live = 0;
    if (std::sscanf(table.c_str() + at, "\n %llu %llu %llu", &pages, &pages, &live) == 3 && live >= 1000) row = true;
    ++at;
  }
  EXPECT_TRUE(row) << table;
}

}  // namespace
