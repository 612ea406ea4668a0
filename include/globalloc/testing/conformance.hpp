// The allocator conformance suite: GoogleTest typed tests that check an
// allocator against the contract of globalloc/contract.hpp, through
// globalloc::Operations<A> (and the pointer-only pair deallocate(void*) /
// usable_size(const void*) where A has it). Every allocator of the project runs
// through it, and so can any allocator a user writes:
//
//   #include <globalloc/testing/conformance.hpp>
//   GLOBALLOC_CONFORMANCE_SUITE(MySuiteName, MyAllocator);           // at namespace scope
//   // or: INSTANTIATE_TYPED_TEST_SUITE_P(MySuiteName, GloballocConformance,
//   //                                    ::testing::Types<MyAllocator, Other>);
//
// and link the test with GTest::gtest_main. The suite lives at global scope
// because GoogleTest pastes the suite name into identifiers, so it cannot be
// named with a qualified name.
//
// What it checks: alignments 1 B to 2 MiB, size 0 gives unique pointers,
// usable sizes cover the request and are writable, reallocate keeps contents
// and alignment and leaves the block intact on failure, resize_in_place never
// moves, zeroed blocks are zero (also when the memory is reused), impossible
// sizes and invalid alignments give null, and eight threads freeing each
// other's blocks. Every test is deterministic and bounded in time.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <latch>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "globalloc/contract.hpp"
#include "globalloc/layout.hpp"
#include "globalloc/testing/patterns.hpp"

namespace globalloc::testing {

/// The calls the suite makes: the contract through Operations<A>, and the
/// pointer-only pair where A has it.
template <class A>
struct Subject {
  using Ops = Operations<A>;
  static constexpr bool has_pointer_only = HasPointerOnlyOperations<A>;

  /// Frees a block; `which` alternates between the sized and the pointer-only
  /// form where both exist.
  static void release(void* block, Layout layout, std::size_t which = 0) noexcept {
    if constexpr (has_pointer_only) {
      if (which % 2 == 1) {
        A{}.deallocate(block);
        return;
      }
    }
    (void)which;
    Ops::deallocate(block, layout);
  }

  /// Checks what the allocator reports about a live block of `layout`.
  static void expect_usable(const void* block, Layout layout) {
    EXPECT_GE(Ops::usable_size(layout), layout.size) << "usable_size(Layout{" << layout.size << ", " << layout.align << "})";
    if constexpr (has_pointer_only) {
      EXPECT_GE(A{}.usable_size(block), layout.size)
          << "usable_size(ptr) for Layout{" << layout.size << ", " << layout.align << "}";
      EXPECT_GE(A{}.usable_size(block), Ops::usable_size(layout))
          << "usable_size(ptr) is below usable_size(layout) for Layout{" << layout.size << ", " << layout.align
          << "}";
    } else {
      (void)block;
    }
  }

  /// What the block can be written to: the larger of what the allocator
  /// reports for the layout and for the pointer.
  static std::size_t writable_size(const void* block, Layout layout) noexcept {
    std::size_t usable = Ops::usable_size(layout);
    if constexpr (has_pointer_only) {
      const std::size_t by_pointer = A{}.usable_size(block);
      if (by_pointer > usable) usable = by_pointer;
    } else {
      (void)block;
    }
    return usable;
  }
};

/// What the suite expects of A beyond the contract's core. Specialise it to
/// record a known, reported gap; the affected test then skips with a message
/// instead of failing, so the gap stays visible in every run.
template <class A>
struct ConformanceExpectations {
  /// allocate and allocate_zeroed give null for an alignment that is not a
  /// power of two (the only answer that honours such a Layout).
  static constexpr bool rejects_invalid_alignments = true;
};

inline constexpr std::size_t kMiB = std::size_t{1} << 20;

/// Impossible sizes: each must give null, never a short block.
inline constexpr std::size_t huge_sizes[] = {SIZE_MAX, SIZE_MAX / 2, SIZE_MAX - 4096, SIZE_MAX - 15,
                                             SIZE_MAX / 2 + 1, (SIZE_MAX >> 4) + 12345};

}  // namespace globalloc::testing

template <class A>
class GloballocConformance : public ::testing::Test {
 protected:
  using Subject = ::globalloc::testing::Subject<A>;
  using Ops = ::globalloc::Operations<A>;
};

TYPED_TEST_SUITE_P(GloballocConformance);

// Every power-of-two alignment from 1 B to 2 MiB, with sizes that are zero,
// smaller than, not a multiple of, and larger than the alignment; all blocks
// of one alignment are live together, so overlapping blocks are caught.
TYPED_TEST_P(GloballocConformance, AlignmentsFrom1ByteTo2MiB) {
  using namespace globalloc;
  using namespace globalloc::testing;
  using S = typename TestFixture::Subject;
  using Ops = typename TestFixture::Ops;
  std::uint32_t seed = 1;
  for (std::size_t align = 1; align <= 2 * kMiB; align <<= 1) {
    std::vector<std::size_t> sizes = {0, 1, 7, 100, align + 1, align + align / 2 + 5};
    if (align > 2) sizes.push_back(align - 1);
    struct Live {
      void* block;
      Layout layout;
      std::uint32_t seed;
    };
    std::vector<Live> live;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      const Layout layout{sizes[i], align};
      void* block = (i % 2 == 0) ? Ops::allocate(layout) : Ops::allocate_zeroed(layout);
      ASSERT_NE(block, nullptr) << "Layout{" << layout.size << ", " << align << "}";
      EXPECT_TRUE(is_aligned(block, align)) << block << " for Layout{" << layout.size << ", " << align << "}";
      S::expect_usable(block, layout);
      fill_pattern(block, layout.size, seed);
      live.push_back({block, layout, seed++});
    }
    for (std::size_t i = 0; i < live.size(); ++i) {
      EXPECT_EQ(pattern_mismatch(live[i].block, live[i].layout.size, live[i].seed), live[i].layout.size)
          << "block of Layout{" << live[i].layout.size << ", " << align << "} was overwritten";
      S::release(live[i].block, live[i].layout, i);
    }
  }
}

TYPED_TEST_P(GloballocConformance, SizeZeroGivesUniqueNonNullPointers) {
  using namespace globalloc;
  using S = typename TestFixture::Subject;
  using Ops = typename TestFixture::Ops;
  for (std::size_t align : {std::size_t{1}, std::size_t{8}, default_alignment, std::size_t{64}, std::size_t{4096}}) {
    std::vector<void*> blocks;
    std::set<void*> distinct;
    for (int i = 0; i < 64; ++i) {
      void* block = (i % 3 == 2) ? Ops::allocate_zeroed(Layout{0, align}) : Ops::allocate(Layout{0, align});
      ASSERT_NE(block, nullptr) << "Layout{0, " << align << "}";
      EXPECT_TRUE(globalloc::testing::is_aligned(block, align));
      EXPECT_TRUE(distinct.insert(block).second) << "Layout{0, " << align << "} gave " << block << " twice";
      blocks.push_back(block);
    }
    for (std::size_t i = 0; i < blocks.size(); ++i) S::release(blocks[i], Layout{0, align}, i);
  }
}

TYPED_TEST_P(GloballocConformance, DeallocateNullIsANoOp) {
  using namespace globalloc;
  using Ops = typename TestFixture::Ops;
  Ops::deallocate(nullptr, Layout{16, 16});
  Ops::deallocate(nullptr, Layout{0, 4096});
  if constexpr (HasPointerOnlyOperations<TypeParam>) TypeParam{}.deallocate(nullptr);
  SUCCEED();
}

// usable_size(layout) >= size, usable_size(ptr) >= size, and every usable
// byte can be written without touching a neighbour.
TYPED_TEST_P(GloballocConformance, UsableSizeCoversTheRequestAndIsWritable) {
  using namespace globalloc;
  using namespace globalloc::testing;
  using S = typename TestFixture::Subject;
  using Ops = typename TestFixture::Ops;
  std::vector<std::size_t> sizes;
  for (std::size_t size = 0; size <= 160; ++size) sizes.push_back(size);
  for (std::size_t size = 161; size < 3 * kMiB; size = size * 5 / 4 + 3) sizes.push_back(size);
  for (std::size_t align : {default_alignment, std::size_t{64}, std::size_t{4096}}) {
    // Neighbours are live and patterned while each block is filled to its end.
    void* previous = nullptr;
    Layout previous_layout{};
    std::uint32_t previous_seed = 0;
    std::uint32_t seed = 7;
    for (std::size_t size : sizes) {
      const Layout layout{size, align};
      void* block = Ops::allocate(layout);
      ASSERT_NE(block, nullptr) << "Layout{" << size << ", " << align << "}";
      S::expect_usable(block, layout);
      const std::size_t writable = S::writable_size(block, layout);
      std::memset(block, 0xA5, writable);
      fill_pattern(block, size, seed);
      if (previous != nullptr) {
        ASSERT_EQ(pattern_mismatch(previous, previous_layout.size, previous_seed), previous_layout.size)
            << "writing the usable size of Layout{" << size << ", " << align << "} overwrote its neighbour";
        S::release(previous, previous_layout, seed);
      }
      previous = block;
      previous_layout = layout;
      previous_seed = seed++;
    }
    S::release(previous, previous_layout);
  }
}

// Contents survive reallocate up to the smaller size, through growth into
// large blocks and shrinking back, for the default and a larger alignment.
TYPED_TEST_P(GloballocConformance, ReallocateKeepsContentsAcrossGrowthAndShrink) {
  using namespace globalloc;
  using namespace globalloc::testing;
  using S = typename TestFixture::Subject;
  using Ops = typename TestFixture::Ops;
  const std::size_t steps[] = {1,     8,   17,  100, 5000, 70000, kMiB + 13, 3 * kMiB, 300, 17,
                               4096, 0, 33, 2 * kMiB + 1, 64, 1};
  for (std::size_t align : {std::size_t{1}, default_alignment, std::size_t{64}}) {
    Layout layout{3, align};
    void* block = Ops::allocate(layout);
    ASSERT_NE(block, nullptr);
    std::uint32_t seed = 100;
    fill_pattern(block, layout.size, seed);
    for (std::size_t new_size : steps) {
      void* moved = Ops::reallocate(block, layout, new_size);
      ASSERT_NE(moved, nullptr) << "reallocate from " << layout.size << " to " << new_size;
      const std::size_t kept = layout.size < new_size ? layout.size : new_size;
      EXPECT_EQ(pattern_mismatch(moved, kept, seed), kept)
          << "reallocate from " << layout.size << " to " << new_size << " (align " << align << ") lost contents";
      EXPECT_TRUE(is_aligned(moved, align));
      layout = Layout{new_size, align};
      S::expect_usable(moved, layout);
      block = moved;
      fill_pattern(block, layout.size, ++seed);
    }
    S::release(block, layout, align);
  }
}

TYPED_TEST_P(GloballocConformance, ReallocateKeepsAlignment) {
  using namespace globalloc;
  using namespace globalloc::testing;
  using S = typename TestFixture::Subject;
  using Ops = typename TestFixture::Ops;
  const std::size_t steps[] = {100, 5000, 3, 70000, 33, 300000, 4095, 4097, 1};
  for (std::size_t align = 32; align <= 4096; align <<= 1) {
    Layout layout{24, align};
    void* block = Ops::allocate(layout);
    ASSERT_NE(block, nullptr);
    ASSERT_TRUE(is_aligned(block, align));
    std::uint32_t seed = static_cast<std::uint32_t>(align);
    fill_pattern(block, layout.size, seed);
    // A neighbour of the same alignment makes growing in place unlikely.
    void* neighbour = Ops::allocate(Layout{24, align});
    ASSERT_NE(neighbour, nullptr);
    for (std::size_t new_size : steps) {
      void* moved = Ops::reallocate(block, layout, new_size);
      ASSERT_NE(moved, nullptr) << "reallocate to " << new_size << " at align " << align;
      EXPECT_TRUE(is_aligned(moved, align)) << "reallocate from " << layout.size << " to " << new_size
                                            << " lost alignment " << align << ": " << moved;
      const std::size_t kept = layout.size < new_size ? layout.size : new_size;
      EXPECT_EQ(pattern_mismatch(moved, kept, seed), kept);
      layout = Layout{new_size, align};
      block = moved;
      fill_pattern(block, layout.size, ++seed);
    }
    S::release(block, layout);
    S::release(neighbour, Layout{24, align}, 1);
  }
}

// A reallocate that cannot be met returns null and leaves the old block
// allocated, with its contents, still owned by the caller.
TYPED_TEST_P(GloballocConformance, ReallocateFailureLeavesTheOldBlockIntact) {
  using namespace globalloc;
  using namespace globalloc::testing;
  using S = typename TestFixture::Subject;
  using Ops = typename TestFixture::Ops;
  for (std::size_t align : {default_alignment, std::size_t{64}, std::size_t{4096}}) {
    for (std::size_t old_size : {std::size_t{100}, std::size_t{200000}}) {
      const Layout layout{old_size, align};
      void* block = Ops::allocate(layout);
      ASSERT_NE(block, nullptr);
      fill_pattern(block, old_size, 77);
      for (std::size_t huge : huge_sizes) {
        void* moved = Ops::reallocate(block, layout, opaque(huge));
        EXPECT_EQ(moved, nullptr) << "reallocate to " << huge << " succeeded";
        if (moved != nullptr) {
          // Never free it: a short block might now be all that is left.
          block = nullptr;
          break;
        }
        ASSERT_EQ(pattern_mismatch(block, old_size, 77), old_size)
            << "failed reallocate to " << huge << " changed the old block";
        S::expect_usable(block, layout);
      }
      if (block != nullptr) {
        // The old block is still usable: it can still grow.
        void* grown = Ops::reallocate(block, layout, old_size * 2);
        ASSERT_NE(grown, nullptr);
        EXPECT_EQ(pattern_mismatch(grown, old_size, 77), old_size);
        S::release(grown, Layout{old_size * 2, align});
      }
    }
  }
}

// resize_in_place returns the usable size the block has afterwards; when that
// covers the new size, the block holds the new size at the same address.
TYPED_TEST_P(GloballocConformance, ResizeInPlaceNeverMovesAndReportsTheUsableSize) {
  using namespace globalloc;
  using namespace globalloc::testing;
  using S = typename TestFixture::Subject;
  using Ops = typename TestFixture::Ops;
  const std::size_t steps[] = {50, 100, 120, 200, 4000, kMiB, 1, 0, 8, 300, 70000, 64, 2 * kMiB + 5, 16};
  for (std::size_t align : {default_alignment, std::size_t{64}, std::size_t{4096}}) {
    Layout layout{100, align};
    void* block = Ops::allocate(layout);
    ASSERT_NE(block, nullptr);
    std::uint32_t seed = 900;
    fill_pattern(block, layout.size, seed);
    for (std::size_t new_size : steps) {
      const std::size_t usable = Ops::resize_in_place(block, layout, new_size);
      const std::size_t kept = layout.size < new_size ? layout.size : new_size;
      EXPECT_EQ(pattern_mismatch(block, kept, seed), kept)
          << "resize_in_place from " << layout.size << " to " << new_size << " changed the contents";
      if (usable >= new_size) {
        // Succeeded: the block now holds new_size bytes, all writable.
        layout = Layout{new_size, align};
        S::expect_usable(block, layout);
        fill_pattern(block, layout.size, ++seed);
      } else {
        // Failed: the block keeps its size, and the answer says so.
        EXPECT_GE(usable, layout.size) << "failed resize_in_place from " << layout.size << " to " << new_size
                                       << " reported a usable size below the block's size";
        S::expect_usable(block, layout);
      }
    }
    EXPECT_EQ(pattern_mismatch(block, layout.size, seed), layout.size);
    S::release(block, layout);
  }
}

TYPED_TEST_P(GloballocConformance, AllocateZeroedGivesZeroBytes) {
  using namespace globalloc;
  using namespace globalloc::testing;
  using S = typename TestFixture::Subject;
  using Ops = typename TestFixture::Ops;
  for (std::size_t align : {std::size_t{1}, default_alignment, std::size_t{64}, std::size_t{4096}}) {
    for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{64}, std::size_t{1000},
                             std::size_t{4101}, kMiB, 3 * kMiB + 3}) {
      void* block = Ops::allocate_zeroed(Layout{size, align});
      ASSERT_NE(block, nullptr) << "Layout{" << size << ", " << align << "}";
      EXPECT_TRUE(is_aligned(block, align));
      EXPECT_EQ(first_nonzero(block, size), size) << "allocate_zeroed(Layout{" << size << ", " << align << "})";
      S::release(block, Layout{size, align}, size);
    }
  }
}

// Memory that was dirtied and freed comes back zeroed from allocate_zeroed.
TYPED_TEST_P(GloballocConformance, AllocateZeroedZeroesReusedMemory) {
  using namespace globalloc;
  using namespace globalloc::testing;
  using S = typename TestFixture::Subject;
  using Ops = typename TestFixture::Ops;
  for (std::size_t size : {std::size_t{16}, std::size_t{48}, std::size_t{256}, std::size_t{4000}, std::size_t{40000},
                           std::size_t{300000}}) {
    for (std::size_t align : {default_alignment, std::size_t{64}}) {
      const Layout layout{size, align};
      std::vector<void*> blocks;
      for (int i = 0; i < 32; ++i) {
        void* block = Ops::allocate(layout);
        ASSERT_NE(block, nullptr);
        std::memset(block, 0xEE, S::writable_size(block, layout));
        blocks.push_back(block);
      }
      for (std::size_t i = 0; i < blocks.size(); ++i) S::release(blocks[i], layout, i);
      blocks.clear();
      for (int i = 0; i < 32; ++i) {
        void* block = Ops::allocate_zeroed(layout);
        ASSERT_NE(block, nullptr);
        EXPECT_EQ(first_nonzero(block, size), size) << "reused block of Layout{" << size << ", " << align << "}";
        std::memset(block, 0xEE, size);
        blocks.push_back(block);
      }
      for (std::size_t i = 0; i < blocks.size(); ++i) S::release(blocks[i], layout, i + 1);
    }
  }
}

TYPED_TEST_P(GloballocConformance, HugeSizesGiveNullNeverAShortBlock) {
  using namespace globalloc;
  using namespace globalloc::testing;
  using Ops = typename TestFixture::Ops;
  for (std::size_t align : {std::size_t{1}, default_alignment, std::size_t{64}, std::size_t{4096}, 2 * kMiB}) {
    for (std::size_t size : huge_sizes) {
      const Layout layout{opaque(size), opaque(align)};
      // A non-null answer is leaked on purpose: it cannot hold `size` bytes.
      EXPECT_EQ(Ops::allocate(layout), nullptr) << "allocate(Layout{" << size << ", " << align << "})";
      EXPECT_EQ(Ops::allocate_zeroed(layout), nullptr) << "allocate_zeroed(Layout{" << size << ", " << align << "})";
    }
  }
}

TYPED_TEST_P(GloballocConformance, InvalidAlignmentsGiveNull) {
  using namespace globalloc;
  using namespace globalloc::testing;
  using Ops = typename TestFixture::Ops;
  if constexpr (!ConformanceExpectations<TypeParam>::rejects_invalid_alignments) {
    GTEST_SKIP() << "known gap: ConformanceExpectations says this allocator accepts invalid alignments";
  }
  for (std::size_t align : {std::size_t{0}, std::size_t{3}, std::size_t{48}, std::size_t{24}, std::size_t{100},
                            (SIZE_MAX >> 1) + 3}) {
    for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{64}, std::size_t{1000}}) {
      const Layout layout{opaque(size), opaque(align)};
      EXPECT_EQ(Ops::allocate(layout), nullptr) << "allocate(Layout{" << size << ", " << align << "})";
      EXPECT_EQ(Ops::allocate_zeroed(layout), nullptr) << "allocate_zeroed(Layout{" << size << ", " << align << "})";
    }
  }
}

// The C-style reallocate(ptr, size), where the allocator has one: contents
// kept, aligned as malloc of the new size would be.
TYPED_TEST_P(GloballocConformance, PointerOnlyReallocateKeepsContents) {
  using namespace globalloc;
  using namespace globalloc::testing;
  using S = typename TestFixture::Subject;
  if constexpr (HasPointerOnlyReallocate<TypeParam> && HasPointerOnlyOperations<TypeParam>) {
    std::size_t size = 10;
    void* block = S::Ops::allocate(Layout{size, default_alignment});
    ASSERT_NE(block, nullptr);
    std::uint32_t seed = 5;
    fill_pattern(block, size, seed);
    for (std::size_t new_size : {std::size_t{100}, std::size_t{70000}, std::size_t{3}, 2 * kMiB, std::size_t{999}}) {
      void* moved = TypeParam{}.reallocate(block, new_size);
      ASSERT_NE(moved, nullptr);
      EXPECT_TRUE(is_aligned(moved, natural_alignment(new_size)));
      const std::size_t kept = size < new_size ? size : new_size;
      EXPECT_EQ(pattern_mismatch(moved, kept, seed), kept);
      EXPECT_GE(TypeParam{}.usable_size(static_cast<const void*>(moved)), new_size);
      block = moved;
      size = new_size;
      fill_pattern(block, size, ++seed);
    }
    EXPECT_EQ(TypeParam{}.reallocate(block, opaque(SIZE_MAX)), nullptr);
    EXPECT_EQ(pattern_mismatch(block, size, seed), size);
    TypeParam{}.deallocate(block);
  } else {
    GTEST_SKIP() << "the allocator has no reallocate(void*, size_t)";
  }
}

// Eight threads allocate, pass their blocks to one another, and each block is
// checked, sometimes reallocated, and freed by a thread that did not allocate it.
TYPED_TEST_P(GloballocConformance, ManyThreadsFreeEachOthersBlocks) {
  using namespace globalloc;
  using namespace globalloc::testing;
  using S = typename TestFixture::Subject;
  using Ops = typename TestFixture::Ops;
  constexpr int thread_count = 8;
  constexpr int iterations = 6000;
  struct Item {
    void* block;
    Layout layout;
    std::uint32_t seed;
  };
  struct Mailbox {
    std::mutex lock;
    std::vector<Item> items;
  };
  Mailbox mailboxes[thread_count];
  std::atomic<long> null_blocks{0}, misaligned_blocks{0}, changed_blocks{0};
  std::atomic<bool> out_of_time{false};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::latch start(thread_count);

  auto check_and_free = [&](Item item, Random& random, int which) {
    if (pattern_mismatch(item.block, item.layout.size, item.seed) != item.layout.size) changed_blocks.fetch_add(1);
    if (random.below(4) == 0) {
      const std::size_t new_size = 1 + random.below(3000);
      void* moved = Ops::reallocate(item.block, item.layout, new_size);
      if (moved == nullptr) {
        null_blocks.fetch_add(1);
      } else {
        const std::size_t kept = item.layout.size < new_size ? item.layout.size : new_size;
        if (pattern_mismatch(moved, kept, item.seed) != kept) changed_blocks.fetch_add(1);
        if (!is_aligned(moved, item.layout.align)) misaligned_blocks.fetch_add(1);
        item.block = moved;
        item.layout.size = new_size;
      }
    }
    S::release(item.block, item.layout, static_cast<std::size_t>(which));
  };

  auto worker = [&](int self) {
    Random random(static_cast<std::uint64_t>(self) + 1);
    std::vector<Item> inbox;
    start.arrive_and_wait();
    for (int i = 0; i < iterations; ++i) {
      if ((i & 255) == 0 && std::chrono::steady_clock::now() > deadline) {
        out_of_time = true;
        break;
      }
      std::size_t size;
      const std::size_t kind = random.below(16);
      if (kind < 10) {
        size = random.below(256);
      } else if (kind < 15) {
        size = 256 + random.below(8000);
      } else {
        size = 8192 + random.below(70000);
      }
      const std::size_t align = random.below(8) == 0 ? (std::size_t{1} << (4 + random.below(9))) : default_alignment;
      const Layout layout{size, align};
      void* block = Ops::allocate(layout);
      if (block == nullptr) {
        null_blocks.fetch_add(1);
        continue;
      }
      if (!is_aligned(block, align)) misaligned_blocks.fetch_add(1);
      const auto seed = static_cast<std::uint32_t>(self * 1000003 + i);
      fill_pattern(block, size, seed);
      int target = static_cast<int>(random.below(thread_count - 1));
      if (target >= self) ++target;
      {
        std::lock_guard<std::mutex> guard(mailboxes[target].lock);
        mailboxes[target].items.push_back(Item{block, layout, seed});
      }
      if ((i & 7) == 7) {
        {
          std::lock_guard<std::mutex> guard(mailboxes[self].lock);
          inbox.swap(mailboxes[self].items);
        }
        for (const Item& item : inbox) check_and_free(item, random, i);
        inbox.clear();
      }
    }
  };

  std::vector<std::thread> threads;
  for (int t = 0; t < thread_count; ++t) threads.emplace_back(worker, t);
  for (std::thread& thread : threads) thread.join();
  Random random(99);
  for (Mailbox& mailbox : mailboxes) {
    for (const Item& item : mailbox.items) check_and_free(item, random, 1);
    mailbox.items.clear();
  }
  EXPECT_FALSE(out_of_time.load()) << "the threads did not finish within 30 s";
  EXPECT_EQ(null_blocks.load(), 0) << "allocations or reallocations that failed";
  EXPECT_EQ(misaligned_blocks.load(), 0) << "blocks without the alignment asked for";
  EXPECT_EQ(changed_blocks.load(), 0) << "blocks whose contents changed between threads";
}

REGISTER_TYPED_TEST_SUITE_P(GloballocConformance, AlignmentsFrom1ByteTo2MiB, SizeZeroGivesUniqueNonNullPointers,
                            DeallocateNullIsANoOp, UsableSizeCoversTheRequestAndIsWritable,
                            ReallocateKeepsContentsAcrossGrowthAndShrink, ReallocateKeepsAlignment,
                            ReallocateFailureLeavesTheOldBlockIntact, ResizeInPlaceNeverMovesAndReportsTheUsableSize,
                            AllocateZeroedGivesZeroBytes, AllocateZeroedZeroesReusedMemory,
                            HugeSizesGiveNullNeverAShortBlock, InvalidAlignmentsGiveNull,
                            PointerOnlyReallocateKeepsContents, ManyThreadsFreeEachOthersBlocks);

/// Runs the conformance suite for one or more allocators; use at namespace
/// scope, once per suite name: GLOBALLOC_CONFORMANCE_SUITE(Mine, MyAllocator);
#define GLOBALLOC_CONFORMANCE_SUITE(SuiteName, ...) \
  INSTANTIATE_TYPED_TEST_SUITE_P(SuiteName, GloballocConformance, ::testing::Types<__VA_ARGS__>)
