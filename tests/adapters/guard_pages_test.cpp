// GuardPages: the conformance suite over the system and the fast allocator
// in each placement, the geometry (block flush against its guard, alignment
// kept), and death tests: one byte past the end (or before the start) stops
// the program with SIGSEGV; a damaged header stops it with a message.
#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <cstring>
#include <vector>

#include "globalloc/adapters/counting.hpp"
#include "globalloc/adapters/guard_pages.hpp"
#include "globalloc/adapters/std_allocator.hpp"
#include "globalloc/fast_allocator.hpp"
#include "globalloc/system_allocator.hpp"
#include "globalloc/testing/conformance.hpp"

namespace {

using globalloc::GuardPages;
using globalloc::GuardPlacement;
using globalloc::Layout;
using globalloc::SystemAllocator;
using globalloc::FastAllocator;

using GuardedSystem = GuardPages<SystemAllocator>;
using GuardedFast = GuardPages<FastAllocator>;
using GuardedBefore = GuardPages<SystemAllocator, GuardPlacement::before>;
using GuardedBoth = GuardPages<FastAllocator, GuardPlacement::both>;

}  // namespace

GLOBALLOC_CONFORMANCE_SUITE(GuardPagesAfterOnSystem, GuardedSystem);
GLOBALLOC_CONFORMANCE_SUITE(GuardPagesAfterOnFast, GuardedFast);
GLOBALLOC_CONFORMANCE_SUITE(GuardPagesBefore, GuardedBefore);
GLOBALLOC_CONFORMANCE_SUITE(GuardPagesBoth, GuardedBoth);

namespace {

std::uintptr_t page() { return static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE)); }
std::uintptr_t address_of(const void* block) { return reinterpret_cast<std::uintptr_t>(block); }

// Keeps the compiler from seeing through the accesses the death tests make.
void write_byte(volatile char* at) { *at = 'x'; }
char read_byte(volatile const char* at) { return *at; }

TEST(GuardPages, TheBlockEndsAtItsGuardPage) {
  for (std::size_t size : {std::size_t{1}, std::size_t{100}, std::size_t{4096}, std::size_t{5000}, std::size_t{70000}}) {
    for (std::size_t align : {std::size_t{1}, std::size_t{16}, std::size_t{64}, std::size_t{8192}}) {
      const Layout layout{size, align};
      auto* block = static_cast<char*>(GuardedSystem::allocate(layout));
      ASSERT_NE(block, nullptr) << size << " " << align;
      EXPECT_EQ(address_of(block) % align, 0u) << size << " " << align;
      const std::size_t usable = GuardedSystem::usable_size(layout);
      EXPECT_GE(usable, size);
      EXPECT_LT(usable - size, align) << "more slack than the alignment needs";
      EXPECT_EQ((address_of(block) + usable) % page(), 0u) << "the end is not at the guard: " << size << " " << align;
      std::memset(block, 0x5A, usable);
      GuardedSystem::deallocate(block, layout);
    }
  }
}

TEST(GuardPages, WithAGuardBeforeTheBlockStartsAtIt) {
  for (std::size_t align : {std::size_t{1}, std::size_t{16}, std::size_t{8192}}) {
    const Layout layout{300, align};
    void* block = GuardedBefore::allocate(layout);
    ASSERT_NE(block, nullptr);
    EXPECT_EQ(address_of(block) % page(), 0u);
    EXPECT_EQ(address_of(block) % align, 0u);
    GuardedBefore::deallocate(block, layout);
  }
}

TEST(GuardPages, ShrinkingInPlaceKeepsTheBlockAndItsFree) {
  const Layout layout{10000, 16};
  void* block = GuardedFast::allocate(layout);
  ASSERT_NE(block, nullptr);
  const std::size_t capacity = GuardedFast::resize_in_place(block, layout, 100);
  EXPECT_GE(capacity, 10000u);
  EXPECT_LT(GuardedFast::resize_in_place(block, Layout{100, 16}, 20000), 20000u) << "grew past its guard";
  GuardedFast::deallocate(block, Layout{100, 16});  // freed with the layout after the resize
}

TEST(GuardPages, StacksUnderOtherAdapters) {
  struct Tag {};
  using Counted = globalloc::Counting<GuardedFast, Tag>;
  {
    std::vector<int, globalloc::StdAllocator<int, Counted>> values;
    for (int i = 0; i < 5000; ++i) values.push_back(i);
    EXPECT_EQ(values[4999], 4999);
  }
  EXPECT_EQ(Counted::counts().live_bytes, 0u);
  EXPECT_GT(Counted::counts().allocations, 1u);
}

TEST(GuardPages, ImpossibleRequestsGiveNull) {
  EXPECT_EQ(GuardedSystem::allocate(Layout{SIZE_MAX - 100, 16}), nullptr);
  EXPECT_EQ(GuardedBoth::allocate(Layout{SIZE_MAX / 2, 4096}), nullptr);
  EXPECT_EQ(GuardedBefore::allocate(Layout{16, 24}), nullptr);
}

using GuardPagesDeathTest = ::testing::Test;

TEST_F(GuardPagesDeathTest, WritingOneBytePastTheEndCrashes) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto* block = static_cast<char*>(GuardedSystem::allocate(Layout{100, 1}));
  ASSERT_NE(block, nullptr);
  write_byte(block + 99);  // the last byte is fine
  EXPECT_EXIT(write_byte(block + 100), ::testing::KilledBySignal(SIGSEGV), "");
  GuardedSystem::deallocate(block, Layout{100, 1});
}

TEST_F(GuardPagesDeathTest, ReadingPastTheEndOfAnAlignedBlockCrashes) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const Layout layout{100, 16};  // 12 bytes of slack up to 112
  auto* block = static_cast<char*>(GuardedFast::allocate(layout));
  ASSERT_NE(block, nullptr);
  EXPECT_EQ(read_byte(block + 111), read_byte(block + 111));
  EXPECT_EXIT(read_byte(block + GuardedFast::usable_size(layout)), ::testing::KilledBySignal(SIGSEGV), "");
  GuardedFast::deallocate(block, layout);
}

TEST_F(GuardPagesDeathTest, WritingBeforeTheStartCrashesWithAGuardBefore) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto* block = static_cast<char*>(GuardedBefore::allocate(Layout{64, 16}));
  ASSERT_NE(block, nullptr);
  EXPECT_EXIT(write_byte(block - 1), ::testing::KilledBySignal(SIGSEGV), "");
  GuardedBefore::deallocate(block, Layout{64, 16});

  auto* both = static_cast<char*>(GuardedBoth::allocate(Layout{4096, 4096}));
  ASSERT_NE(both, nullptr);
  EXPECT_EXIT(write_byte(both - 1), ::testing::KilledBySignal(SIGSEGV), "");
  EXPECT_EXIT(write_byte(both + 4096), ::testing::KilledBySignal(SIGSEGV), "");
  GuardedBoth::deallocate(both, Layout{4096, 4096});
}

TEST_F(GuardPagesDeathTest, AnUnderflowIsReportedWhenTheBlockIsFreed) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        auto* block = static_cast<char*>(GuardedSystem::allocate(Layout{64, 16}));
        std::memset(block - 8, 0, 8);
        GuardedSystem::deallocate(block, Layout{64, 16});
      },
      "globalloc::GuardPages: the header below a block is damaged");
}

}  // namespace
