// Purging: memory of freed pages goes back to the OS; purge() forces it, and
// the delay option delays it.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>
#include <tuple>
#include <vector>

#include <sys/mman.h>
#include <unistd.h>

#include "fast/heap.hpp"
#include "fast/options.hpp"
#include "fast/segment.hpp"
#include "fast/stats.hpp"
#include "globalloc/fast_allocator.hpp"
#include "platform/clock.hpp"
#include "rss.hpp"
#include "own_heap.hpp"

using namespace globalloc;

TEST(Purge, PurgeLowersResidentMemory) {
  fast::purge();
  const std::size_t baseline = resident_bytes();
  std::vector<void*> blocks;
  for (int i = 0; i < 200000; ++i) {  // ~200 MB of small and medium blocks
    const std::size_t size = 200 + (i % 13) * 150;
    void* block = fast::allocate(size, 16);
    ASSERT_NE(block, nullptr);
    std::memset(block, 1, size);
    blocks.push_back(block);
  }
  for (int i = 0; i < 20; ++i) {
    void* block = fast::allocate(std::size_t{1} << 20, 16);
    std::memset(block, 1, std::size_t{1} << 20);
    blocks.push_back(block);
  }
  const std::size_t full = resident_bytes();
  EXPECT_GT(full, baseline + (std::size_t{100} << 20));
  for (void* block : blocks) fast::deallocate(block);
  std::vector<void*>().swap(blocks);
  fast::purge();
  const std::size_t after = resident_bytes();
  // Loose bound: back near the start, far below the peak.
  EXPECT_LT(after, baseline + (std::size_t{16} << 20)) << "baseline " << baseline << " full " << full;
}

TEST(Purge, DelayedPurgeHappensOnSlowPaths) {
  const long saved = fast::purge_delay_ms();
  fast::set_purge_delay_ms(1);
  fast::Statistics before{};
  fast::get_statistics(&before);
  std::vector<void*> blocks;
  for (int i = 0; i < 20000; ++i) blocks.push_back(fast::allocate(1000, 16));
  for (void* block : blocks) std::memset(block, 2, 1000);
  for (void* block : blocks) fast::deallocate(block);
  // Keep allocating other classes (slow paths) for a while: the pages freed
  // above must be purged without calling purge().
  std::vector<void*> churn;
  for (int round = 0; round < 200; ++round) {
    for (int i = 0; i < 200; ++i) churn.push_back(fast::allocate(3000 + round * 8, 16));
    for (void* block : churn) fast::deallocate(block);
    churn.clear();
    usleep(500);
  }
  fast::Statistics after{};
  fast::get_statistics(&after);
  EXPECT_GT(after.bytes_purged_total, before.bytes_purged_total);
  fast::set_purge_delay_ms(saved);
}

namespace {

constexpr std::size_t abandoned_block_size = 20000;

// A thread fills 40 MB of medium blocks (ten segments), frees nine in ten
// and exits: its segments are abandoned with the survivors, returned here.
// `resident_full`: the resident bytes while every block was live.
std::vector<char*> abandon_segments_with_survivors(std::size_t* resident_full) {
  std::vector<char*> survivors;
  std::thread([&] {
    std::vector<char*> blocks;
    for (int i = 0; i < 2000; ++i) {
      char* block = static_cast<char*>(fast::allocate(abandoned_block_size, 16));
      ASSERT_NE(block, nullptr);
      std::memset(block, i & 0xff, abandoned_block_size);
      blocks.push_back(block);
    }
    *resident_full = resident_bytes();
    for (int i = 0; i < 2000; ++i) {
      if (i % 10 == 0)
        survivors.push_back(blocks[i]);
      else
        fast::deallocate(blocks[i]);
    }
  }).join();
  return survivors;
}

// The survivors of abandon_segments_with_survivors kept their contents
// wherever their segments went; frees them.
void expect_survivors_intact_then_free(const std::vector<char*>& survivors) {
  for (std::size_t k = 0; k < survivors.size(); ++k) {
    const char expected = static_cast<char>((k * 10) & 0xff);
    EXPECT_EQ(survivors[k][0], expected);
    EXPECT_EQ(survivors[k][abandoned_block_size - 1], expected);
    fast::deallocate(survivors[k]);
  }
}

// A thread's segments are abandoned with survivors. No thread runs short of
// pages to adopt them, yet this thread's slow paths must, once they stayed
// abandoned for the purge delay, take them over and give their free memory
// back (within a bound), and the survivors must keep their contents.
void expect_exited_threads_memory_back_at_delay(long delay_ms) {
  const long saved = fast::purge_delay_ms();
  fast::set_purge_delay_ms(delay_ms);
  std::size_t resident_full = 0;
  const std::vector<char*> survivors = abandon_segments_with_survivors(&resident_full);
  ASSERT_GT(fast::counter_total(&fast::Counters::segments_abandoned), 0) << "delay " << delay_ms;
  const std::size_t wanted = resident_full - (std::size_t{24} << 20);
  std::vector<void*> churn;
  // Bounded by time, not rounds: under a sanitizer with other tests beside
  // it, 1000 rounds once ran out 64 KiB short of the goal.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (int round = 0; std::chrono::steady_clock::now() < deadline &&
                      (fast::counter_total(&fast::Counters::segments_abandoned) > 0 || resident_bytes() > wanted);
       ++round) {
    // Slow paths: a new class each round, its page set up and carved.
    for (int i = 0; i < 16; ++i) churn.push_back(fast::allocate(1000 + (round % 64) * 16, 16));
    for (void* block : churn) fast::deallocate(block);
    churn.clear();
    usleep(1000);
  }
  EXPECT_EQ(fast::counter_total(&fast::Counters::segments_abandoned), 0) << "delay " << delay_ms;
  EXPECT_LT(resident_bytes(), wanted) << "delay " << delay_ms << ", full " << resident_full;
  expect_survivors_intact_then_free(survivors);
  fast::set_purge_delay_ms(saved);
}

}  // namespace

TEST(Purge, AnExitedThreadsFreeMemoryGoesBackWithoutPurgeCalls) { expect_exited_threads_memory_back_at_delay(1); }

// purge_delay_ms=0 ("at once") must not mean "never" for what only the
// periodic checks give back.
TEST(Purge, AnExitedThreadsFreeMemoryGoesBackAtDelayZero) { expect_exited_threads_memory_back_at_delay(0); }

TEST(Purge, IdleAbandonedSegmentsAreAdoptedOnceTheyWaitedTheDelayAFewPerCheck) {
  // The periodic check itself, called with a clock of the test's choosing:
  // segments abandoned less than the delay ago stay where they are, those
  // that waited longer are adopted, the longest-waiting first and at most
  // four per call. A long delay keeps this thread's own slow paths from
  // adopting anything meanwhile.
  const long saved = fast::purge_delay_ms();
  fast::set_purge_delay_ms(100'000'000);
  void* keep_heap = fast::allocate(64, 16);  // this thread has a heap to adopt into
  ASSERT_NE(keep_heap, nullptr);
  std::size_t resident_full = 0;
  const std::vector<char*> survivors = abandon_segments_with_survivors(&resident_full);
  const std::int64_t abandoned = fast::counter_total(&fast::Counters::segments_abandoned);
  ASSERT_GE(abandoned, 6);
  constexpr std::uint64_t delay = 1'000'000'000;
  const std::uint64_t now = platform::monotonic_milliseconds();
  fast::heap_adopt_idle_abandoned(fast::thread_heap, now, delay);
  EXPECT_EQ(fast::counter_total(&fast::Counters::segments_abandoned), abandoned) << "none has waited the delay yet";
  fast::heap_adopt_idle_abandoned(fast::thread_heap, now + delay, delay);
  EXPECT_EQ(fast::counter_total(&fast::Counters::segments_abandoned), abandoned - 4) << "four per check";
  for (int check = 0; check < 8 && fast::counter_total(&fast::Counters::segments_abandoned) > 0; ++check)
    fast::heap_adopt_idle_abandoned(fast::thread_heap, now + delay, delay);
  EXPECT_EQ(fast::counter_total(&fast::Counters::segments_abandoned), 0);
  expect_survivors_intact_then_free(survivors);
  fast::deallocate(keep_heap);
  fast::set_purge_delay_ms(saved);
}

TEST(Purge, DelayIsTheOptionInTheTable) {
  // The delay lives in globalloc's option table (parsing is tested in tests/options).
  const long saved = fast::purge_delay_ms();
  fast::set_purge_delay_ms(1234);
  EXPECT_EQ(fast::purge_delay_ms(), 1234);
  fast::set_purge_delay_ms(-1);
  EXPECT_EQ(fast::purge_delay_ms(), -1);
  fast::set_purge_delay_ms(saved);
}

TEST(Purge, FreeBlocksInsideLivePagesGiveTheirPagesBack) {
  // Medium blocks freed at random leave every page with survivors, so no
  // page falls free: only discarding the OS pages inside the free blocks
  // returns the memory.
  fast::purge();
  const std::size_t baseline = resident_bytes();
  constexpr std::size_t size = 40 * 1024;
  std::vector<void*> blocks;
  for (int i = 0; i < 3000; ++i) {  // ~120 MB
    auto* block = static_cast<unsigned char*>(fast::allocate(size, 16));
    ASSERT_NE(block, nullptr);
    std::memset(block, 0x33, size);
    blocks.push_back(block);
  }
  std::vector<void*> kept;
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    if (i % 10 == 3) {
      kept.push_back(blocks[i]);
    } else {
      fast::deallocate(blocks[i]);
    }
  }
  const std::size_t before_purge = resident_bytes();
  fast::purge();
  const std::size_t after = resident_bytes();
  // 90% of ~120 MB was freed; at least 80 MB of it must have gone back.
  EXPECT_LT(after + (std::size_t{80} << 20), before_purge)
      << "baseline " << baseline << " before purge " << before_purge << " after " << after;
  for (void* block : kept) {
    const auto* bytes = static_cast<const unsigned char*>(block);
    for (std::size_t i = 0; i < size; i += 512) ASSERT_EQ(bytes[i], 0x33) << "a live block lost its contents";
    fast::deallocate(block);
  }
}

TEST(Purge, APageFreedAfterTheDeadlineWasSetWaitsForItsOwnDelay) {
  // Each page is purged one to two delays after it fell free: a page freed
  // just before another page's deadline is not discarded with it (discarding
  // pages that are about to be reused is what made short delays slow).
  const long saved = fast::purge_delay_ms();
  fast::set_purge_delay_ms(1000);
  fast::purge();  // empties the segment cache: the segment below is fresh, nothing in it dirty
  fast::Segment* segment = fast::segment_acquire(fast::SegmentKind::heap);
  ASSERT_NE(segment, nullptr);
  fast::Page* first = fast::segment_take_page(segment, 1);
  fast::Page* second = fast::segment_take_page(segment, 1);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  fast::count_class_pages(0, 2);  // segment_return_page counts them off
  fast::segment_return_page(segment, first);
  const std::uint64_t deadline = segment->purge_deadline_ms;
  ASSERT_NE(deadline, 0u);
  fast::segment_return_page(segment, second);
  EXPECT_EQ(fast::segment_purge_pages(segment, deadline - 1, false), 0u);
  EXPECT_EQ(fast::segment_purge_pages(segment, deadline, false), fast::small_page_size);  // the first only
  const std::uint64_t next = segment->purge_deadline_ms;
  EXPECT_EQ(next, deadline + 1000);
  EXPECT_EQ(fast::segment_purge_pages(segment, next - 1, false), 0u);
  EXPECT_EQ(fast::segment_purge_pages(segment, next, false), fast::small_page_size);  // now the second
  EXPECT_EQ(segment->purge_deadline_ms, 0u);
  fast::segment_release(segment);
  fast::set_purge_delay_ms(saved);
}

TEST(Purge, AnIdleClassGivesItsEmptyCurrentPageBack) {
  // The current page of a class whose blocks are all freed stays while the
  // class is in use, and goes back to its segment once the thread has taken
  // slow paths for other classes for a while without touching it.
  std::thread([] {
    fast::testing::skip_starter_heaps();  // the class's page is this thread's own
    const unsigned idle = fast::class_of(40000);
    const unsigned busy = fast::class_of(20000);
    ASSERT_NE(idle, busy);
    const std::int64_t pages_before = fast::class_pages_total(idle);
    void* block = fast::allocate(40000, 16);
    ASSERT_NE(block, nullptr);
    fast::deallocate(block);
    EXPECT_EQ(fast::class_pages_total(idle), pages_before + 1);  // kept as the current page
    // Each allocation of a 20000-byte block carves a new block: a slow path.
    std::vector<void*> blocks;
    for (int i = 0; i < 300; ++i) blocks.push_back(fast::allocate(20000, 16));
    EXPECT_EQ(fast::class_pages_total(idle), pages_before);
    for (void* each : blocks) fast::deallocate(each);
  }).join();
}

namespace {
void* volatile sink_block;

// Blocks of 2000 bytes (2048-byte class, 32 to a 64 KiB page): pages this
// test carved whole, found by their first block at the page's start and
// block first + 31 at the end.
constexpr std::size_t kHoleSize = 2000;
constexpr int kHoleCount = 3200;

std::vector<int> whole_pages(const std::vector<unsigned char*>& blocks, std::size_t stride) {
  std::vector<int> firsts;
  for (std::size_t i = 0; i + 31 < blocks.size(); i += 32) {
    if (blocks[i + 31] == blocks[i] + 31 * stride && (reinterpret_cast<std::uintptr_t>(blocks[i]) & 0xffff) == 0) {
      firsts.push_back(static_cast<int>(i));
    }
  }
  return firsts;
}

/// Resident OS pages of [from, to) (rounded inwards to OS pages), and how many there are.
std::pair<std::size_t, std::size_t> resident_pages(std::uintptr_t from, std::uintptr_t to) {
  const std::size_t os_page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  from = (from + os_page - 1) & ~(os_page - 1);
  to &= ~(os_page - 1);
  if (to <= from) return {0, 0};
  std::vector<unsigned char> map((to - from) / os_page);
  EXPECT_EQ(mincore(reinterpret_cast<void*>(from), to - from, map.data()), 0);
  std::size_t resident = 0;
  for (unsigned char page : map) resident += page & 1;
  return {resident, map.size()};
}

/// `count` blocks of `size` bytes, block i filled with i & 0xff; fewer
/// when an allocation fails.
std::vector<unsigned char*> allocate_marked(int count, std::size_t size) {
  std::vector<unsigned char*> blocks;
  for (int i = 0; i < count; ++i) {
    auto* block = static_cast<unsigned char*>(fast::allocate(size, 16));
    if (block == nullptr) break;
    std::memset(block, i & 0xff, size);
    blocks.push_back(block);
  }
  return blocks;
}

/// resident_pages summed over the pages `firsts` names, each over the
/// range `range(first)` gives (a pair of addresses).
template <class Range>
std::pair<std::size_t, std::size_t> resident_over(const std::vector<int>& firsts, Range range) {
  std::size_t resident = 0, pages = 0;
  for (int first : firsts) {
    const auto [from, to] = range(first);
    const auto [in, all] = resident_pages(from, to);
    resident += in;
    pages += all;
  }
  return {resident, pages};
}

/// Allocates kHoleCount blocks, keeps the first and last of every page,
/// frees the rest and purges; returns the blocks (the freed ones too) and
/// the pages' first indices after checking that the OS pages between each
/// page's two survivors went back.
std::pair<std::vector<unsigned char*>, std::vector<int>> survivors_at_both_ends_after_purge() {
  fast::purge();
  std::vector<unsigned char*> blocks = allocate_marked(kHoleCount, kHoleSize);
  EXPECT_EQ(blocks.size(), std::size_t{kHoleCount});
  if (blocks.size() != std::size_t{kHoleCount}) return {blocks, {}};
  const std::size_t stride = fast::usable_size(blocks[0]);
  std::vector<int> firsts = whole_pages(blocks, stride);
  EXPECT_GT(firsts.size(), 20u);
  for (int i = 0; i < kHoleCount; ++i) {
    if (i % 32 != 0 && i % 32 != 31) fast::deallocate(blocks[i]);
  }
  auto between = [&](int first) {
    return std::pair{reinterpret_cast<std::uintptr_t>(blocks[first]) + stride,
                     reinterpret_cast<std::uintptr_t>(blocks[first + 31])};
  };
  const std::size_t before = resident_over(firsts, between).first;
  fast::purge();
  const auto [after, pages] = resident_over(firsts, between);
  // Neither a tail (the last block lives) nor a block of two OS pages: only
  // holes give these pages back.
  EXPECT_EQ(before, pages) << "the freed blocks were resident before the purge";
  EXPECT_LT(after * 10, pages) << after << " of " << pages << " OS pages between survivors still resident";
  for (int first : firsts) {
    for (int end : {first, first + 31}) {
      for (std::size_t byte = 0; byte < kHoleSize; byte += 100) {
        EXPECT_EQ(blocks[end][byte], end & 0xff) << "a survivor lost its contents";
      }
    }
  }
  return {blocks, firsts};
}
}  // namespace

TEST(Purge, PurgeGivesBackTheFreeTailsOfLivePages) {
  // Blocks of 2000 bytes (32 to a 64 KiB page) hold no OS page of their
  // own: after each page's first block, kept, the free ones become uncarved
  // again and their OS pages go back; the kept ones keep their contents,
  // and the pages carve their tails again for the next blocks.
  fast::purge();
  constexpr std::size_t size = 2000;
  constexpr int count = 3200;
  std::vector<unsigned char*> blocks(count);
  for (int i = 0; i < count; ++i) {
    blocks[i] = static_cast<unsigned char*>(fast::allocate(size, 16));
    ASSERT_NE(blocks[i], nullptr);
    std::memset(blocks[i], i & 0xff, size);
  }
  // Pages this test carved whole (earlier tests of this process may have
  // left a page of this class partly used).
  const std::size_t stride = fast::usable_size(blocks[0]);  // the class's block size
  const std::vector<int> firsts = whole_pages(blocks, stride);
  ASSERT_GT(firsts.size(), 20u);
  for (int i = 0; i < count; ++i) {
    if (i % 32 != 0) fast::deallocate(blocks[i]);
  }
  auto tail = [&](int first) {
    return std::pair{reinterpret_cast<std::uintptr_t>(blocks[first]) + stride,
                     reinterpret_cast<std::uintptr_t>(blocks[first]) + 31 * stride + size};
  };
  const std::size_t before = resident_over(firsts, tail).first;
  fast::purge();
  const auto [after, pages] = resident_over(firsts, tail);
  EXPECT_EQ(before, pages) << "the freed tails were resident before the purge";
  EXPECT_LT(after * 10, pages) << after << " of " << pages << " OS pages of the freed tails still resident";
  std::vector<unsigned char*> more(count);
  for (int i = 0; i < count; ++i) {
    more[i] = static_cast<unsigned char*>(fast::allocate(size, 16));
    std::memset(more[i], (i * 7) & 0xff, size);
  }
  for (int i = 0; i < count; ++i) {
    ASSERT_EQ(more[i][size - 1], (i * 7) & 0xff) << "a block carved again lost its contents";
    fast::deallocate(more[i]);
  }
  for (int i = 0; i < count; i += 32) {
    for (std::size_t byte = 0; byte < size; byte += 100) ASSERT_EQ(blocks[i][byte], i & 0xff) << "a kept block lost its contents";
    fast::deallocate(blocks[i]);
  }
}


TEST(Purge, PurgeGivesBackTheOsPagesThatOnlyFreeBlocksCoverAndHandsTheirBlocksOutAgain) {
  auto [blocks, firsts] = survivors_at_both_ends_after_purge();
  // The blocks whose links went with those OS pages (holes) come back when
  // the pages' lists run dry: the same addresses, with room for new contents.
  std::vector<unsigned char*> more(kHoleCount);
  for (int i = 0; i < kHoleCount; ++i) {
    more[i] = static_cast<unsigned char*>(fast::allocate(kHoleSize, 16));
    ASSERT_NE(more[i], nullptr);
    std::memset(more[i], (i * 7) & 0xff, kHoleSize);
  }
  std::vector<unsigned char*> sorted = more;
  std::sort(sorted.begin(), sorted.end());
  std::size_t reused = 0, freed = 0;
  for (int first : firsts) {
    for (int i = first + 1; i < first + 31; ++i, ++freed) reused += std::binary_search(sorted.begin(), sorted.end(), blocks[i]);
  }
  EXPECT_EQ(reused, freed) << "every freed block between survivors is handed out again before new pages are taken";
  for (int i = 0; i < kHoleCount; ++i) {
    for (std::size_t byte = 0; byte < kHoleSize; byte += 100) ASSERT_EQ(more[i][byte], (i * 7) & 0xff);
    fast::deallocate(more[i]);
  }
  for (int i = 0; i < kHoleCount; i += 32) {
    fast::deallocate(blocks[i]);
    fast::deallocate(blocks[i + 31]);
  }
}

TEST(Purge, APageWhoseSurvivorsGoWhileItHasHolesIsReleased) {
  // Its holes' first words read zero now (their memory went back): the
  // double-free check of a page counted empty must skip them, and the page
  // must go back to its segment (the next purge then returns the segment).
  auto [blocks, firsts] = survivors_at_both_ends_after_purge();
  fast::Statistics before{};
  fast::get_statistics(&before);
  for (int i = 0; i < kHoleCount; i += 32) {
    fast::deallocate(blocks[i]);
    fast::deallocate(blocks[i + 31]);
  }
  fast::Statistics after{};
  fast::get_statistics(&after);
  // All but the class's current page, which its pin keeps.
  EXPECT_GE(before.small_pages_in_use + 1, after.small_pages_in_use + firsts.size())
      << "the pages emptied with holes went back to their segments";
}

TEST(PurgeDeathTest, AFreeOfAHoleIsCaughtWhenTheHolesAreHandedOutAgain) {
  // The free of a block whose memory went back is a double free the local
  // fast path lets through (it compares, never reads); the block is handed
  // out from the local list and written, and the refill from the holes
  // finds its first word no longer zero, before it hands the block out a
  // second time.
  EXPECT_DEATH(
      {
        const auto survivors = survivors_at_both_ends_after_purge();
        fast::deallocate(survivors.first[survivors.second[0] + 5]);
        for (int i = 0; i < kHoleCount; ++i) {
          void* block = fast::allocate(kHoleSize, 16);
          std::memset(block, 0x5a, kHoleSize);
        }
      },
      "globalloc: double free of 0x[0-9a-f]+ \\(or a write after free into it\\) found in a later allocation");
}

TEST(Purge, QuietPagesOfKibibyteBlocksGiveBackBetweenTheirSurvivorsAtTheChecks) {
  // No purge() call: the allocation slow paths' periodic checks make the
  // holes, in pages of blocks from 1 KiB (64 or fewer to a page) that
  // stayed quiet through the checks of a delay, while the thread goes on
  // allocating other classes.
  fast::purge();
  const long saved = fast::purge_delay_ms();
  fast::set_purge_delay_ms(4);
  const std::vector<unsigned char*> blocks = allocate_marked(kHoleCount, kHoleSize);
  ASSERT_EQ(blocks.size(), std::size_t{kHoleCount});
  const std::size_t stride = fast::usable_size(blocks[0]);
  const std::vector<int> firsts = whole_pages(blocks, stride);
  ASSERT_GT(firsts.size(), 20u);
  for (int i = 0; i < kHoleCount; ++i) {
    if (i % 32 != 0 && i % 32 != 31) fast::deallocate(blocks[i]);
  }
  auto resident_between_survivors = [&] {
    return resident_over(firsts, [&](int first) {
      return std::pair{reinterpret_cast<std::uintptr_t>(blocks[first]) + stride,
                       reinterpret_cast<std::uintptr_t>(blocks[first + 31])};
    });
  };
  // Slow paths of other classes until the holes are made (a few checks of
  // a 4 ms delay), bounded by time, not rounds, for loaded machines.
  std::vector<void*> churn;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  auto [resident, pages] = resident_between_survivors();
  for (int round = 0; resident * 10 >= pages && std::chrono::steady_clock::now() < deadline; ++round) {
    for (int i = 0; i < 100; ++i) churn.push_back(fast::allocate(300 + round % 200, 16));
    for (void* block : churn) fast::deallocate(block);
    churn.clear();
    usleep(500);
    std::tie(resident, pages) = resident_between_survivors();
  }
  fast::set_purge_delay_ms(saved);
  EXPECT_LT(resident * 10, pages) << resident << " of " << pages << " OS pages between survivors still resident";
  for (int i = 0; i < kHoleCount; i += 32) {
    for (int end : {i, i + 31}) {
      for (std::size_t byte = 0; byte < kHoleSize; byte += 100) ASSERT_EQ(blocks[end][byte], end & 0xff);
      fast::deallocate(blocks[end]);
    }
  }
}

TEST(PurgeDeathTest, ReallocOfAHoleIsReported) {
  // realloc looks at the block before it copies: a hole counts as free.
  EXPECT_DEATH(
      {
        const auto survivors = survivors_at_both_ends_after_purge();
        sink_block = fast::reallocate(survivors.first[survivors.second[0] + 5], 100, 16);
      },
      "globalloc: realloc of freed block 0x[0-9a-f]+");
}

TEST(PurgeDeathTest, HolesInLockedMemoryAreHandedOutAgainWithoutAFalseReport) {
  // Under mlockall the discard fails and the holes' memory stays as it was:
  // the refill must still find their first words zero (the purge clears
  // them), or it would report a double free that never happened.
  EXPECT_EXIT(
      {
        if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0) _exit(0);  // not allowed here: nothing to show
        fast::purge();
        std::vector<unsigned char*> blocks(kHoleCount);
        for (int i = 0; i < kHoleCount; ++i) {
          blocks[i] = static_cast<unsigned char*>(fast::allocate(kHoleSize, 16));
          std::memset(blocks[i], 0x77, kHoleSize);
        }
        for (int i = 0; i < kHoleCount; ++i) {
          if (i % 32 != 0 && i % 32 != 31) fast::deallocate(blocks[i]);
        }
        fast::purge();
        for (int i = 0; i < kHoleCount; ++i) std::memset(fast::allocate(kHoleSize, 16), 0x11, kHoleSize);
        _exit(0);
      },
      ::testing::ExitedWithCode(0), "");
}
