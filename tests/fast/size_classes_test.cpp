// The size-class table: monotonic, round-trips, bounded waste, and 16-byte
// multiples for 16-aligned requests.
#include <gtest/gtest.h>

#include "fast/size_classes.hpp"

using namespace globalloc::fast;

TEST(SizeClasses, MonotonicAndRoundTrip) {
  for (unsigned c = 1; c < class_count; ++c) EXPECT_LT(class_size(c - 1), class_size(c)) << c;
  for (unsigned c = 0; c < class_count; ++c) {
    EXPECT_EQ(class_of(class_size(c)), c) << c;
    EXPECT_EQ(class_of(class_size(c) - (c == 0 ? 0 : 1) + (c == 0 ? 0 : 0)), c);
  }
  EXPECT_EQ(class_size(0), 8u);
  EXPECT_EQ(class_size(1), 16u);
  EXPECT_EQ(class_size(class_count - 1), Config::medium_block_max);
}

TEST(SizeClasses, EverySizeFitsItsClass) {
  for (std::size_t size = 0; size <= Config::medium_block_max; ++size) {
    const unsigned c = class_of(size);
    ASSERT_LT(c, class_count);
    ASSERT_GE(class_size(c), size);
    if (c > 0) ASSERT_LT(class_size(c - 1), size) << size;
  }
}

TEST(SizeClasses, WasteAtMostOneEighthAbove64) {
  for (std::size_t size = 65; size <= Config::medium_block_max; ++size) {
    const std::size_t block = class_size(class_of(size));
    ASSERT_LE((block - size) * 8, size) << size;  // waste <= 12.5% of the request
  }
}

TEST(SizeClasses, SixteenAlignedRequestsGetSixteenMultiples) {
  for (std::size_t size = 16; size <= Config::medium_block_max; size += 16) {
    EXPECT_EQ(class_size(class_of(size)) % 16, 0u) << size;
  }
}

TEST(SizeClasses, AlignedClassLookup) {
  for (std::size_t alignment = 32; alignment <= Config::medium_block_max; alignment *= 2) {
    for (std::size_t size : {std::size_t{1}, alignment / 2, alignment, alignment + 1, 3 * alignment}) {
      const unsigned c = class_for_aligned(size, alignment);
      if (c == class_count) continue;
      EXPECT_EQ(class_size(c) % alignment, 0u);
      EXPECT_GE(class_size(c), size);
    }
  }
  EXPECT_EQ(class_for_aligned(Config::medium_block_max + 1, 64), class_count);
}

// The aligned table gives, for every alignment from 32 to 4096 and every
// size up to 4096, the class the search of class_for_aligned finds.
TEST(SizeClasses, AlignedTableMatchesTheSearch) {
  for (std::size_t alignment = std::size_t{1} << aligned_shift_min; alignment <= aligned_table_size; alignment *= 2) {
    for (std::size_t size = 0; size <= aligned_table_size; ++size) {
      const unsigned expected = class_for_aligned(size == 0 ? 1 : size, alignment);
      ASSERT_EQ(aligned_class_of(size, alignment), expected) << size << " at " << alignment;
      ASSERT_EQ(class_size(expected) % alignment, 0u);
      ASSERT_GE(class_size(expected), size);
    }
  }
}

TEST(SizeClasses, OverAlignedClassIsTheSearchInsideAndOutsideTheTable) {
  // Every over-aligned request asks over_aligned_class: the table inside its
  // range, the search beyond it, the same classes either way.
  for (std::size_t alignment = 2 * small_alignment_max; alignment <= 4 * aligned_table_size; alignment *= 2) {
    for (std::size_t size = 1; size <= 3 * aligned_table_size; size += (size < 2 * aligned_table_size ? 1 : 61)) {
      ASSERT_EQ(over_aligned_class(size, alignment), class_for_aligned(size, alignment)) << size << " at " << alignment;
    }
  }
  EXPECT_EQ(over_aligned_class(Config::medium_block_max + 1, 64), class_count);
}

TEST(SizeClasses, DirectTableCoversSmallSizes) {
  EXPECT_EQ(direct_entry_count, Config::direct_size_max / 8 + 1);
  EXPECT_LE(class_of(Config::direct_size_max), small_class_max);
}
