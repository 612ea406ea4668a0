// Per-class and per-thread statistics (src/fast/stats.hpp): live blocks and
// requests follow what this thread and exited threads allocate and free.
#include <gtest/gtest.h>

#include <memory>
#include <thread>
#include <vector>

#include "fast/size_classes.hpp"
#include "fast/stats.hpp"
#include "globalloc/fast_allocator.hpp"
#include "platform/threads.hpp"

using namespace globalloc;

namespace {
// A size nothing else in this test program allocates.
constexpr std::size_t odd_size = 2700;

struct ClassFigures {
  std::uint64_t live;
  std::uint64_t requests;
};

ClassFigures figures(unsigned size_class) {
  auto stats = std::make_unique<fast::Statistics>();
  fast::get_statistics(stats.get());
  return {stats->class_live_blocks[size_class], stats->class_requests_total[size_class]};
}
}  // namespace

TEST(Statistics, ClassLiveBlocksAndRequestsFollowThisThread) {
  const unsigned size_class = fast::class_of(odd_size);
  const ClassFigures before = figures(size_class);
  std::vector<void*> blocks;
  for (int i = 0; i < 1000; ++i) blocks.push_back(fast::allocate(odd_size, 16));
  const ClassFigures holding = figures(size_class);
  EXPECT_EQ(holding.live, before.live + 1000);
  EXPECT_EQ(holding.requests, before.requests + 1000);

  std::vector<fast::ThreadStatistics> threads(64);
  const std::size_t count = fast::get_thread_statistics(threads.data(), threads.size());
  ASSERT_GE(count, 1u);
  bool found = false;
  for (std::size_t i = 0; i < std::min(count, threads.size()); ++i) {
    if (threads[i].thread_id != platform::current_thread_id()) continue;
    found = true;
    EXPECT_GE(threads[i].live_blocks, 1000u);
    EXPECT_GE(threads[i].live_bytes, 1000u * odd_size);
    EXPECT_GE(threads[i].requests_total, 1000u);
    EXPECT_GE(threads[i].pages, 1u);
  }
  EXPECT_TRUE(found) << "no entry for this thread";

  for (void* block : blocks) fast::deallocate(block);
  const ClassFigures after = figures(size_class);
  EXPECT_EQ(after.live, before.live);
  EXPECT_EQ(after.requests, before.requests + 1000);
}

TEST(Statistics, ExitedThreadsKeepTheirCounts) {
  const unsigned size_class = fast::class_of(odd_size);
  const ClassFigures before = figures(size_class);
  std::vector<void*> blocks(500);
  std::thread worker([&] {
    for (auto& block : blocks) block = fast::allocate(odd_size, 16);
  });
  worker.join();
  const ClassFigures left = figures(size_class);
  EXPECT_EQ(left.live, before.live + 500);
  EXPECT_EQ(left.requests, before.requests + 500);
  for (void* block : blocks) fast::deallocate(block);  // remote frees into an abandoned segment
  fast::purge();                                       // collects them
  EXPECT_EQ(figures(size_class).live, before.live);
}

TEST(Statistics, CommittedBytesComeBackExactlyThroughTheSegmentCache) {
  // Segments whose free slots were purged while some blocks lived on, and
  // which then fell wholly free, go to the segment cache with those slots
  // clean: unmapping them must take back only what was counted. (The count
  // went below zero in whole runs of this binary when the cache took back
  // every byte up to the highest dirty slot.)
  fast::purge();
  const std::int64_t baseline = fast::counter_total(&fast::Counters::bytes_committed);
  std::vector<void*> blocks;
  for (int i = 0; i < 12000; ++i) blocks.push_back(fast::allocate(1000, 16));  // about three segments
  std::vector<void*> survivors;
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    if (i % 1000 == 999) {
      survivors.push_back(blocks[i]);  // one per 64 KiB page, the last ones of each segment among them
    } else {
      fast::deallocate(blocks[i]);
    }
  }
  fast::purge();  // the free slots go clean while the segments stay in use
  const std::int64_t with_survivors = fast::counter_total(&fast::Counters::bytes_committed);
  for (void* block : survivors) fast::deallocate(block);
  fast::purge();  // the segments fell free: to the cache, then unmapped
  const std::int64_t after = fast::counter_total(&fast::Counters::bytes_committed);
  EXPECT_GE(with_survivors, baseline);
  EXPECT_GE(after, baseline - (std::int64_t{64} << 10)) << "taken back more than was counted";
  EXPECT_LE(after, baseline + (std::int64_t{1} << 20));
}
