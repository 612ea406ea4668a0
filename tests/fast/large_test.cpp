// Large blocks (own segment) and huge blocks (own mapping): contents survive
// growth, huge growth moves pages instead of bytes, statistics follow.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "fast/heap.hpp"
#include "fast/options.hpp"
#include "fast/segment.hpp"
#include "fast/stats.hpp"
#include "fast/thread_shard.hpp"
#include "options/options.hpp"
#include "vm_flags.hpp"
#include "globalloc/fast_allocator.hpp"
#include "own_heap.hpp"

using namespace globalloc;

TEST(Large, ManySizesRoundTrip) {
  for (std::size_t size = 64 * 1024 + 1; size < (std::size_t{64} << 20); size = size * 3 / 2) {
    auto* block = static_cast<unsigned char*>(fast::allocate(size, 16));
    ASSERT_NE(block, nullptr) << size;
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(block) % 16, 0u);
    block[0] = 1;
    block[size - 1] = 2;
    EXPECT_GE(fast::usable_size(block), size);
    fast::deallocate(block);
  }
}

TEST(Large, HugeGrowthKeepsContentsWithoutCopyLimits) {
  std::size_t size = std::size_t{8} << 20;
  auto* block = static_cast<std::uint64_t*>(fast::allocate(size, 16));
  ASSERT_NE(block, nullptr);
  for (std::size_t i = 0; i < size / 8; i += 512) block[i] = i;
  // Grow to 512 MiB in steps: with mremap this is page-table work only.
  for (int step = 0; step < 6; ++step) {
    const std::size_t next = size * 2;
    auto* grown = static_cast<std::uint64_t*>(fast::reallocate(block, next, 16));
    ASSERT_NE(grown, nullptr);
    for (std::size_t i = 0; i < size / 8; i += 512) ASSERT_EQ(grown[i], i) << step;
    for (std::size_t i = size / 8; i < next / 8; i += 512) grown[i] = i;
    block = grown;
    size = next;
  }
  // Shrink back keeps the prefix.
  auto* shrunk = static_cast<std::uint64_t*>(fast::reallocate(block, std::size_t{5} << 20, 16));
  ASSERT_NE(shrunk, nullptr);
  for (std::size_t i = 0; i < (std::size_t{5} << 20) / 8; i += 512) ASSERT_EQ(shrunk[i], i);
  fast::deallocate(shrunk);
}

TEST(Large, HugeStatisticsFollowBlocks) {
  fast::Statistics before{};
  fast::get_statistics(&before);
  void* block = fast::allocate(std::size_t{20} << 20, 16);
  fast::Statistics during{};
  fast::get_statistics(&during);
  EXPECT_EQ(during.huge_blocks, before.huge_blocks + 1);
  EXPECT_GE(during.huge_bytes, before.huge_bytes + (std::size_t{20} << 20));
  fast::deallocate(block);
  fast::Statistics after{};
  fast::get_statistics(&after);
  EXPECT_EQ(after.huge_blocks, before.huge_blocks);
}

// For the tests of the huge caches: empty caches, a purge delay long enough
// that freed mappings stay cached whatever GLOBALLOC_OPTIONS says, and both
// put back afterwards.
class EmptyHugeCachesKeptForTheTest {
 public:
  EmptyHugeCachesKeptForTheTest() noexcept : delay_(fast::purge_delay_ms()) {
    fast::set_purge_delay_ms(60000);
    fast::segment_cache_purge(0, true);
  }
  ~EmptyHugeCachesKeptForTheTest() {
    fast::segment_cache_purge(0, true);
    fast::set_purge_delay_ms(delay_);
  }
  EmptyHugeCachesKeptForTheTest(const EmptyHugeCachesKeptForTheTest&) = delete;
  EmptyHugeCachesKeptForTheTest& operator=(const EmptyHugeCachesKeptForTheTest&) = delete;

 private:
  long delay_;
};

// Each large shard's threads cache the huge mappings they free, and a
// thread whose own cache is empty takes another's before mapping anew: a
// pipeline whose consumer frees the producer's huge blocks reuses them.
TEST(Large, AHugeMappingFreedByOneThreadServesAnother) {
  const std::size_t size = std::size_t{8} << 20;
  EmptyHugeCachesKeptForTheTest caches;
  void* block = nullptr;
  std::thread([&] { block = fast::allocate(size, 16); }).join();
  ASSERT_NE(block, nullptr);
  unsigned freeing_shard = 0;
  std::thread([&] {
    freeing_shard = fast::this_thread_shard() % fast::Config::large_shard_count;
    fast::deallocate(block);
  }).join();
  fast::Statistics before{};
  fast::get_statistics(&before);
  void* again = nullptr;
  unsigned taking_shard = 0;
  std::thread([&] {
    taking_shard = fast::this_thread_shard() % fast::Config::large_shard_count;
    again = fast::allocate(size, 16);
  }).join();
  EXPECT_NE(taking_shard, freeing_shard);  // the path across caches
  EXPECT_EQ(again, block);
  fast::Statistics after{};
  fast::get_statistics(&after);
  EXPECT_EQ(after.bytes_mapped, before.bytes_mapped);
  fast::deallocate(again);
}

// A thread's cache of freed huge mappings keeps at most its share of
// Config::huge_cache_bytes_max (at least huge_cache_shard_bytes_min): a
// thread that frees four 20 MiB blocks leaves at most three of them mapped,
// and keeps at least one.
TEST(Large, AThreadsHugeCacheKeepsAtMostItsBound) {
  const std::size_t size = std::size_t{20} << 20;
  EmptyHugeCachesKeptForTheTest caches;
  fast::Statistics before{};
  fast::get_statistics(&before);
  std::vector<void*> blocks;
  for (int i = 0; i < 4; ++i) blocks.push_back(fast::allocate(size, 16));
  for (void* block : blocks) ASSERT_NE(block, nullptr);
  std::thread([&] {
    for (void* block : blocks) fast::deallocate(block);
  }).join();
  fast::Statistics after{};
  fast::get_statistics(&after);
  EXPECT_LE(after.bytes_mapped, before.bytes_mapped + fast::Config::huge_cache_bytes_max);
  EXPECT_GE(after.bytes_mapped, before.bytes_mapped + size);
}

// A block bigger than a cache's share (32 MiB and the header, with more
// than two threads) is still cached when the cache is empty, so a loop of
// such blocks does not map and fault in each one.
TEST(Large, AHugeBlockBiggerThanItsCachesShareIsStillReused) {
  const std::size_t size = std::size_t{32} << 20;
  EmptyHugeCachesKeptForTheTest caches;
  for (int i = 0; i < 4; ++i) std::thread([] { fast::deallocate(fast::allocate(16, 16)); }).join();
  std::thread([&] {
    void* first = fast::allocate(size, 16);
    ASSERT_NE(first, nullptr);
    fast::deallocate(first);
    fast::Statistics before{};
    fast::get_statistics(&before);
    void* second = fast::allocate(size, 16);
    EXPECT_EQ(second, first);
    fast::Statistics after{};
    fast::get_statistics(&after);
    EXPECT_EQ(after.bytes_mapped, before.bytes_mapped);
    fast::deallocate(second);
  }).join();
}

TEST(Large, LargeBlockGrowsInPlaceWithinItsSegment) {
  // Over free slots after it; a block placed in a shorter hole (earlier
  // tests of this process leave some, and best fit fills them first)
  // moves, and a block of its size then fills the hole it left, so that the
  // next try lands elsewhere.
  std::vector<void*> set_aside;
  bool grew_in_place = false;
  for (int attempt = 0; attempt < 32 && !grew_in_place; ++attempt) {
    void* block = fast::allocate(100000, 16);
    void* grown = fast::reallocate(block, 2000000, 16);
    ASSERT_NE(grown, nullptr);
    grew_in_place = grown == block;
    if (!grew_in_place) set_aside.push_back(fast::allocate(100000, 16));
    fast::deallocate(grown);
  }
  EXPECT_TRUE(grew_in_place);
  for (void* block : set_aside) fast::deallocate(block);
}

TEST(Large, BlocksShareASegmentAndReuseResidentUnits) {
  // Several large blocks live in one 4 MiB segment (runs of 64 KiB units).
  void* first = fast::allocate(200 * 1024, 16);
  void* second = fast::allocate(200 * 1024, 16);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  const auto region = [](void* block) { return reinterpret_cast<std::uintptr_t>(block) >> 22; };
  EXPECT_EQ(region(first), region(second));
  std::memset(first, 0x7E, 200 * 1024);
  fast::deallocate(first);
  // A block of the same size takes the resident units just freed, and calloc
  // still hands them out cleared.
  auto* again = static_cast<unsigned char*>(fast::allocate_zeroed(150 * 1024, 16));
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(static_cast<void*>(again), first);
  for (std::size_t i = 0; i < 150 * 1024; i += 97) ASSERT_EQ(again[i], 0) << i;
  fast::deallocate(again);
  fast::deallocate(second);
}

namespace {
/// The large blocks and their bytes in a statistics snapshot.
std::pair<std::uint64_t, std::uint64_t> large_counts() {
  fast::Statistics statistics{};
  fast::get_statistics(&statistics);
  return {statistics.large_blocks, statistics.large_bytes};
}

/// A slot of a thread's heap segment is free (not a block's, not cached).
bool slot_is_free(void* block) {
  fast::Segment* segment = fast::segment_lookup(block);
  const auto slot = static_cast<unsigned>(fast::segment_page_of(segment, block) - segment->pages);
  return (segment->free_pages >> slot & 1) != 0;
}
}  // namespace

TEST(Large, AThreadKeepsItsLastFreedLargeBlockForItsNextOneOfAboutItsSize) {
  // A long delay, so that no purge check looks at the cache meanwhile.
  const long saved_delay = fast::purge_delay_ms();
  fast::set_purge_delay_ms(60000);
  std::thread([] {
    const auto before = large_counts();
    auto* first = static_cast<unsigned char*>(fast::allocate(256 * 1024, 16));
    ASSERT_NE(first, nullptr);
    std::memset(first, 0x5A, 256 * 1024);
    EXPECT_EQ(large_counts().first, before.first + 1);
    fast::deallocate(first);
    // Freed as far as anyone can tell, though its span waits for the next block.
    EXPECT_EQ(large_counts(), before);
    EXPECT_FALSE(slot_is_free(first));
    // At most a quarter smaller: the same span, cleared for calloc.
    auto* again = static_cast<unsigned char*>(fast::allocate_zeroed(200 * 1024, 16));
    EXPECT_EQ(again, first);
    for (std::size_t i = 0; i < 200 * 1024; i += 61) ASSERT_EQ(again[i], 0) << i;
    EXPECT_EQ(fast::usable_size(again), fast::usable_size_for(200 * 1024, 16));
    EXPECT_EQ(large_counts(), std::make_pair(before.first + 1, before.second + fast::usable_size(again)));
    fast::deallocate(again);
    EXPECT_EQ(large_counts(), before);
    // Half its size: the span goes back to its segment, and the smaller
    // block takes its resident slots.
    void* half = fast::allocate(128 * 1024, 16);
    EXPECT_EQ(half, first);
    EXPECT_TRUE(slot_is_free(first + 128 * 1024));
    fast::deallocate(half);
    // A new small page takes the kept span's slots too (resident ones first).
    std::vector<void*> blocks;
    bool reused = false;
    for (int i = 0; i < 64 && !reused; ++i) {
      blocks.push_back(fast::allocate(20000, 16));
      reused = blocks.back() == static_cast<void*>(first);
    }
    EXPECT_TRUE(reused);
    for (void* block : blocks) fast::deallocate(block);
    EXPECT_EQ(large_counts(), before);
  }).join();
  fast::set_purge_delay_ms(saved_delay);
}

namespace {
constexpr std::size_t kKiB = 1024;

/// Frees a large block of `big` bytes, then asks for `small` bytes and for
/// `big` again: both must come at its address (the kept block cut, its
/// tail free, then grown back over it and cleared), with exact statistics
/// meanwhile. Returns the address; the block there is freed (kept).
unsigned char* expect_cut_then_grown_in_place(std::size_t big, std::size_t small) {
  const auto before = large_counts();
  auto* first = static_cast<unsigned char*>(fast::allocate(big, 16));
  EXPECT_NE(first, nullptr);
  if (first == nullptr) return nullptr;
  std::memset(first, 0x11, big);
  fast::deallocate(first);
  auto* cut = static_cast<unsigned char*>(fast::allocate(small, 16));
  EXPECT_EQ(cut, first);
  EXPECT_TRUE(slot_is_free(first + small));
  EXPECT_TRUE(slot_is_free(first + big - 1));
  EXPECT_EQ(fast::usable_size(cut), fast::usable_size_for(small, 16));
  EXPECT_EQ(large_counts(), std::make_pair(before.first + 1, before.second + fast::usable_size(cut)));
  std::memset(cut, 0x22, small);
  fast::deallocate(cut);
  EXPECT_EQ(large_counts(), before);
  auto* grown = static_cast<unsigned char*>(fast::allocate_zeroed(big, 16));
  EXPECT_EQ(grown, first);
  EXPECT_FALSE(slot_is_free(first + big - 1));
  for (std::size_t i = 0; i < big; i += 509) {
    if (grown[i] != 0) {
      ADD_FAILURE() << "byte " << i << " of the grown block is not cleared";
      break;
    }
  }
  EXPECT_EQ(large_counts(), std::make_pair(before.first + 1, before.second + fast::usable_size(grown)));
  fast::deallocate(grown);
  EXPECT_EQ(large_counts(), before);
  return first;
}
}  // namespace

TEST(Large, AKeptSpanIsCutOrGrownInPlaceForALargeRequestOfAnotherSize) {
  // A thread whose large sizes vary: the kept block gives its tail back for
  // a smaller request and grows over the free slots after it for a bigger
  // one, without a search; when those slots are taken it goes back, and
  // the request is served elsewhere.
  const long saved_delay = fast::purge_delay_ms();
  fast::set_purge_delay_ms(60000);
  std::thread([] {
    const auto before = large_counts();
    // A span of the heap's slots: 1 MiB, cut to a quarter, grown back.
    unsigned char* first = expect_cut_then_grown_in_place(1024 * kKiB, 256 * kKiB);
    ASSERT_NE(first, nullptr);
    // Cut to 128 KiB; another block takes the resident slots after it, so
    // the kept span cannot grow for a request of 1 MiB: it goes back.
    void* small = fast::allocate(128 * kKiB, 16);
    EXPECT_EQ(small, static_cast<void*>(first));
    auto* neighbour = static_cast<unsigned char*>(fast::allocate(512 * kKiB, 16));
    ASSERT_EQ(neighbour, first + 128 * kKiB) << "the free resident slots after the cut span come first";
    std::memset(neighbour, 0x33, 512 * kKiB);
    fast::deallocate(small);
    EXPECT_EQ(fast::thread_heap->cached_large.load(), fast::segment_page_of(fast::segment_lookup(first), first));
    auto* elsewhere = static_cast<unsigned char*>(fast::allocate(1024 * kKiB, 16));
    ASSERT_NE(elsewhere, nullptr);
    EXPECT_NE(elsewhere, first);
    EXPECT_TRUE(slot_is_free(first));
    EXPECT_EQ(fast::thread_heap->cached_large.load(), nullptr);
    std::memset(elsewhere, 0x44, 1024 * kKiB);
    for (std::size_t i = 0; i < 512 * kKiB; i += 509) ASSERT_EQ(neighbour[i], 0x33) << i;
    fast::deallocate(neighbour);
    fast::deallocate(elsewhere);
    EXPECT_EQ(large_counts(), before);
    // A run of a shared large segment (blocks above 2 MiB): 3.5 MiB, cut
    // to 2.25 MiB, grown back.
    EXPECT_NE(expect_cut_then_grown_in_place(3584 * kKiB, 2304 * kKiB), nullptr);
  }).join();
  fast::set_purge_delay_ms(saved_delay);
}

TEST(Large, AKeptLargeBlockGoesBackToItsSegmentAtTheSecondLookWithNoFreeBetween) {
  // The purge checks (the thread's own, every quarter delay, and the purge
  // thread's) look at the kept span: the first look after a free leaves it
  // (the thread may be about to allocate again), a look with no large block
  // freed since the one before returns its slots. Looks are made here
  // directly; the long delay keeps the thread's own checks out of the way.
  const long saved_delay = fast::purge_delay_ms();
  fast::set_purge_delay_ms(60000);
  std::thread([] {
    auto* block = static_cast<unsigned char*>(fast::allocate(512 * 1024, 16));
    ASSERT_NE(block, nullptr);
    fast::ThreadHeap* heap = fast::thread_heap;
    std::memset(block, 1, 512 * 1024);
    fast::deallocate(block);
    EXPECT_EQ(heap->cached_large.load(), fast::segment_page_of(fast::segment_lookup(block), block));
    fast::heap_look_at_kept_block(heap);
    EXPECT_FALSE(slot_is_free(block));
    void* again = fast::allocate(512 * 1024, 16);
    EXPECT_EQ(again, static_cast<void*>(block));
    fast::deallocate(again);
    fast::heap_look_at_kept_block(heap);  // freed again since the last look
    EXPECT_FALSE(slot_is_free(block));
    fast::heap_look_at_kept_block(heap);
    EXPECT_TRUE(slot_is_free(block));
    EXPECT_EQ(heap->cached_large.load(), nullptr);
  }).join();
  fast::set_purge_delay_ms(saved_delay);
}

namespace {
/// A unit of a shared large segment is free (not a block's, not kept).
bool unit_is_free(void* block) {
  fast::Segment* segment = fast::segment_lookup(block);
  const auto unit = static_cast<unsigned>((static_cast<char*>(block) - reinterpret_cast<char*>(segment)) >> 16);
  return (segment->free_pages >> unit & 1) != 0;
}
}  // namespace

TEST(Large, AThreadKeepsTheRunOfALargeSegmentItFreedLastEvenIfAnotherThreadAllocatedIt) {
  const long saved_delay = fast::purge_delay_ms();
  fast::set_purge_delay_ms(60000);
  constexpr std::size_t size = std::size_t{3} << 20;  // a run of a shared large segment
  auto* block = static_cast<unsigned char*>(fast::allocate(size, 16));
  ASSERT_NE(block, nullptr);
  ASSERT_EQ(fast::segment_lookup(block)->kind, fast::SegmentKind::large);
  std::memset(block, 0x3C, size);
  std::thread([block] {
    fast::testing::skip_starter_heaps();
    void* first = fast::allocate(100, 16);  // the thread's heap (a thread without one keeps nothing)
    const auto before = large_counts();
    fast::deallocate(block);  // another thread's block: this thread keeps it
    EXPECT_EQ(large_counts(), std::make_pair(before.first - 1, before.second - fast::usable_size_for(size, 16)));
    EXPECT_FALSE(unit_is_free(block));
    auto* again = static_cast<unsigned char*>(fast::allocate_zeroed(size - 300 * 1024, 16));
    EXPECT_EQ(again, block);
    for (std::size_t i = 0; i < size - 300 * 1024; i += 97) ASSERT_EQ(again[i], 0) << i;
    EXPECT_EQ(fast::usable_size(again), fast::usable_size_for(size - 300 * 1024, 16));
    fast::deallocate(again);
    // Not for a much smaller block: the run goes back to its segment first
    // (a thread holds no block it has no use for while it takes more memory).
    void* smaller = fast::allocate(size / 2, 16);
    EXPECT_NE(smaller, static_cast<void*>(block));
    EXPECT_TRUE(unit_is_free(block));
    fast::deallocate(smaller);
    EXPECT_EQ(large_counts(), std::make_pair(before.first - 1, before.second - fast::usable_size_for(size, 16)));
    fast::deallocate(first);
  }).join();
  fast::set_purge_delay_ms(saved_delay);
}

TEST(Large, AlignedLargeBlocksStartOnTheirAlignment) {
  for (std::size_t alignment = std::size_t{128} << 10; alignment <= (std::size_t{2} << 20); alignment *= 2) {
    std::vector<void*> blocks;
    for (int i = 0; i < 5; ++i) {
      void* block = fast::allocate(300 * 1024, alignment);
      ASSERT_NE(block, nullptr);
      EXPECT_EQ(reinterpret_cast<std::uintptr_t>(block) % alignment, 0u) << alignment;
      std::memset(block, i, 300 * 1024);
      blocks.push_back(block);
    }
    for (void* block : blocks) fast::deallocate(block);
  }
}

TEST(Large, ImpossibleGrowthLeavesTheBlock) {
  auto* block = static_cast<unsigned char*>(fast::allocate(500 * 1024, 16));
  ASSERT_NE(block, nullptr);
  block[500 * 1024 - 1] = 9;
  for (std::size_t size : {SIZE_MAX / 2, std::size_t{1} << 62, std::size_t{1} << 47}) {
    EXPECT_EQ(fast::reallocate(block, size, 16), nullptr) << size;
    EXPECT_GE(fast::usable_size(block), 500u * 1024);
  }
  EXPECT_EQ(block[500 * 1024 - 1], 9);
  fast::deallocate(block);
}


// Huge blocks ask for transparent huge pages (madvise MADV_HUGEPAGE, "hg" in
// the mapping's VmFlags) unless the option huge_pages is 0.
TEST(Large, HugeBlocksAskForHugePagesUnlessTheOptionIsOff) {
  if (!kernel_has_transparent_huge_pages()) GTEST_SKIP() << "no transparent huge pages";
  const long saved = options::value(options::Option::huge_pages);
  const std::size_t size = (std::size_t{16} << 20) + 12345;
  fast::purge();  // no cached mapping: the next huge block is a fresh one
  options::set(options::Option::huge_pages, 1);
  void* advised = fast::allocate(size, 16);
  ASSERT_NE(advised, nullptr);
  EXPECT_NE(vm_flags_of(advised).find(" hg"), std::string::npos) << vm_flags_of(advised);
  fast::deallocate(advised);
  fast::purge();
  options::set(options::Option::huge_pages, 0);
  void* plain = fast::allocate(size, 16);
  ASSERT_NE(plain, nullptr);
  const std::string flags = vm_flags_of(plain);
  EXPECT_NE(flags, "");
  EXPECT_EQ(flags.find(" hg"), std::string::npos) << flags;
  fast::deallocate(plain);
  fast::purge();
  options::set(options::Option::huge_pages, saved);
}

// huge_pages=2: the segments of small and medium pages ask for huge pages
// too; at the default 1 they do not (the kernel would back whole 2 MiB
// ranges of a program that touches a few pages).
TEST(Large, SmallBlockSegmentsAskForHugePagesOnlyAtTwo) {
  if (!kernel_has_transparent_huge_pages()) GTEST_SKIP() << "no transparent huge pages";
  const long saved = options::value(options::Option::huge_pages);
  for (long mode : {1L, 2L}) {
    options::set(options::Option::huge_pages, mode);
    fast::purge();  // an empty segment cache: the next segment is a fresh mapping
    fast::Segment* segment = fast::segment_acquire(fast::SegmentKind::heap, 0);
    ASSERT_NE(segment, nullptr);
    const std::string flags = vm_flags_of(reinterpret_cast<char*>(segment) + fast::segment_size / 2);
    EXPECT_NE(flags, "");
    EXPECT_EQ(flags.find(" hg") != std::string::npos, mode == 2) << "huge_pages=" << mode << ": " << flags;
    fast::segment_release(segment);
  }
  fast::purge();
  options::set(options::Option::huge_pages, saved);
}
