// Alignment from 1 byte to 2 MiB and beyond: every block is aligned, holds
// its size, is found again by usable_size and free.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "globalloc/fast_allocator.hpp"

using namespace globalloc;

// allocate, and allocate_over_aligned (the entry of posix_memalign,
// aligned_alloc and aligned new), which must give the same for any alignment.
TEST(Alignment, PowersOfTwoUpTo2MiB) {
  for (auto* allocate : {&fast::allocate, &fast::allocate_over_aligned}) {
    for (std::size_t alignment = 1; alignment <= (std::size_t{1} << 21); alignment *= 2) {
      std::vector<void*> blocks;
      for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{24}, alignment / 2 + 1,
                               alignment, alignment + 8, std::size_t{5000}, std::size_t{12000}, std::size_t{16384},
                               std::size_t{16385}, std::size_t{100000}}) {
        void* block = allocate(size, alignment);
        ASSERT_NE(block, nullptr) << size << " " << alignment;
        EXPECT_EQ(reinterpret_cast<std::uintptr_t>(block) % alignment, 0u) << size << " " << alignment;
        EXPECT_GE(fast::usable_size(block), size);
        EXPECT_EQ(fast::usable_size(block), fast::usable_size_for(size, alignment)) << size << " " << alignment;
        EXPECT_TRUE(fast::owns(block));
        std::memset(block, 0x33, size);
        blocks.push_back(block);
      }
      for (void* block : blocks) fast::deallocate(block);
    }
  }
}

TEST(Alignment, BeyondTheSegmentSize) {
  for (std::size_t alignment : {std::size_t{1} << 22, std::size_t{1} << 23, std::size_t{1} << 25}) {
    for (std::size_t size : {std::size_t{16}, std::size_t{1} << 20, std::size_t{6} << 20}) {
      void* block = fast::allocate(size, alignment);
      ASSERT_NE(block, nullptr);
      EXPECT_EQ(reinterpret_cast<std::uintptr_t>(block) % alignment, 0u);
      EXPECT_GE(fast::usable_size(block), size);
      EXPECT_TRUE(fast::owns(block));
      std::memset(block, 1, size);
      void* grown = fast::reallocate(block, size * 2, alignment);
      ASSERT_NE(grown, nullptr);
      EXPECT_EQ(reinterpret_cast<std::uintptr_t>(grown) % alignment, 0u);
      fast::deallocate(grown);
    }
  }
}

TEST(Alignment, SmallSizesWithDefaultAlignment) {
  // 8-byte blocks for align 8, 16-byte multiples for align 16.
  for (std::size_t size = 1; size <= 2048; ++size) {
    void* block = fast::allocate(size, 16);
    ASSERT_EQ(reinterpret_cast<std::uintptr_t>(block) % 16, 0u) << size;
    EXPECT_EQ(fast::usable_size(block) % 16, 0u);
    fast::deallocate(block);
  }
  void* tiny = fast::allocate(8, 8);
  EXPECT_EQ(fast::usable_size(tiny), 8u);
  fast::deallocate(tiny);
}
