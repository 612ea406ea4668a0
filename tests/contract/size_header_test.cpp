// WithSizeHeader<Inner>: the wrapper that gives an allocator without the
// pointer-only pair what free() and unsized delete need. Checked against a
// recording inner allocator, so the tests see exactly what reaches it.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include <globalloc/globalloc.hpp>
#include <globalloc/testing/patterns.hpp>

namespace {

using globalloc::Layout;
using globalloc::testing::is_aligned;

struct RecordingLog {
  int allocations = 0;
  int deallocations = 0;
  void* last_block = nullptr;
  Layout last_allocate{};
  Layout last_deallocate{};
  void* last_deallocated = nullptr;
  bool resize_succeeds = true;
};

// Records every call; can be told to refuse growing in place.
struct Recording {
  static inline RecordingLog log;

  static void* allocate(Layout layout) noexcept {
    if (!globalloc::is_valid_layout(layout)) return nullptr;
    void* block = nullptr;
    const std::size_t align = layout.align < sizeof(void*) ? sizeof(void*) : layout.align;
    if (::posix_memalign(&block, align, layout.size == 0 ? 1 : layout.size) != 0) return nullptr;
    ++log.allocations;
    log.last_block = block;
    log.last_allocate = layout;
    return block;
  }
  static void deallocate(void* block, Layout layout) noexcept {
    ++log.deallocations;
    log.last_deallocated = block;
    log.last_deallocate = layout;
    std::free(block);
  }
  static void* reallocate(void*, Layout, std::size_t) noexcept { return nullptr; }
  static std::size_t resize_in_place(void*, Layout old_layout, std::size_t new_size) noexcept {
    if (new_size <= old_layout.size) return old_layout.size;
    return log.resize_succeeds ? new_size : old_layout.size;
  }
  static std::size_t usable_size(Layout layout) noexcept { return layout.size; }
};

using Wrapped = globalloc::WithSizeHeader<Recording>;
using Ops = globalloc::Operations<Wrapped>;

class SizeHeader : public ::testing::Test {
 protected:
  void SetUp() override { Recording::log = RecordingLog{}; }
};

TEST_F(SizeHeader, KeepsSizeAndAlignmentAndFreesTheInnerBlockItAllocated) {
  for (std::size_t align : {std::size_t{1}, std::size_t{16}, std::size_t{64}, std::size_t{4096}}) {
    for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{100}, std::size_t{5000}}) {
      Recording::log = RecordingLog{};
      void* block = Ops::allocate(Layout{size, align});
      ASSERT_NE(block, nullptr);
      EXPECT_TRUE(is_aligned(block, align));
      EXPECT_EQ(Wrapped{}.usable_size(static_cast<const void*>(block)), size);
      EXPECT_EQ(Ops::usable_size(Layout{size, align}), size);
      // The user block lies inside the inner block, after the header.
      auto* inner = static_cast<char*>(Recording::log.last_block);
      EXPECT_GE(static_cast<char*>(block) - inner, 16);
      EXPECT_LE(static_cast<char*>(block) + size, inner + Recording::log.last_allocate.size);
      const Layout inner_layout = Recording::log.last_allocate;
      std::memset(block, 0x77, size);
      Wrapped{}.deallocate(block);
      EXPECT_EQ(Recording::log.deallocations, 1);
      EXPECT_EQ(Recording::log.last_deallocated, inner) << "freed a different inner block than it allocated";
      EXPECT_EQ(Recording::log.last_deallocate, inner_layout) << "freed with another layout than it allocated with";
    }
  }
}

TEST_F(SizeHeader, SizedDeallocateUsesTheHeaderNotTheCallersLayout) {
  void* block = Ops::allocate(Layout{300, 128});
  ASSERT_NE(block, nullptr);
  const Layout inner_layout = Recording::log.last_allocate;
  Ops::deallocate(block, Layout{300, 128});
  EXPECT_EQ(Recording::log.last_deallocate, inner_layout);
}

TEST_F(SizeHeader, ImpossibleSizesNeverReachTheInnerAllocator) {
  for (std::size_t size : {SIZE_MAX, SIZE_MAX - 8, SIZE_MAX - 16, SIZE_MAX / 2 + 1}) {
    EXPECT_EQ(Ops::allocate(Layout{globalloc::testing::opaque(size), 16}), nullptr) << size;
    EXPECT_EQ(Ops::allocate(Layout{globalloc::testing::opaque(size), 4096}), nullptr) << size;
  }
  EXPECT_EQ(Ops::allocate(Layout{16, 0}), nullptr);
  EXPECT_EQ(Ops::allocate(Layout{16, 3}), nullptr);
  EXPECT_EQ(Recording::log.allocations, 0);
}

TEST_F(SizeHeader, ReallocateKeepsAlignmentAndContents) {
  Layout layout{10, 512};
  void* block = Ops::allocate(layout);
  ASSERT_NE(block, nullptr);
  globalloc::testing::fill_pattern(block, 10, 1);
  for (std::size_t new_size : {std::size_t{5000}, std::size_t{3}, std::size_t{70000}}) {
    void* moved = Ops::reallocate(block, layout, new_size);
    ASSERT_NE(moved, nullptr);
    EXPECT_TRUE(is_aligned(moved, 512)) << "reallocate to " << new_size << " lost the alignment";
    const std::size_t kept = layout.size < new_size ? layout.size : new_size;
    EXPECT_EQ(globalloc::testing::pattern_mismatch(moved, kept, 1), kept);
    EXPECT_EQ(Wrapped{}.usable_size(static_cast<const void*>(moved)), new_size);
    block = moved;
    layout = Layout{new_size, 512};
    globalloc::testing::fill_pattern(block, new_size, 1);
  }
  // The C-style form keeps the alignment the block was made with, too.
  void* moved = Wrapped{}.reallocate(block, 100);
  ASSERT_NE(moved, nullptr);
  EXPECT_TRUE(is_aligned(moved, 512));
  EXPECT_EQ(globalloc::testing::pattern_mismatch(moved, 100, 1), 100u);
  Wrapped{}.deallocate(moved);
  EXPECT_EQ(Recording::log.allocations, Recording::log.deallocations);
}

TEST_F(SizeHeader, ReallocateFailureLeavesTheBlockAndItsHeader) {
  void* block = Ops::allocate(Layout{64, 32});
  ASSERT_NE(block, nullptr);
  globalloc::testing::fill_pattern(block, 64, 9);
  EXPECT_EQ(Ops::reallocate(block, Layout{64, 32}, globalloc::testing::opaque(SIZE_MAX - 4)), nullptr);
  EXPECT_EQ(Wrapped{}.usable_size(static_cast<const void*>(block)), 64u);
  EXPECT_EQ(globalloc::testing::pattern_mismatch(block, 64, 9), 64u);
  Wrapped{}.deallocate(block);
  EXPECT_EQ(Recording::log.allocations, Recording::log.deallocations);
}

TEST_F(SizeHeader, ResizeInPlaceUpdatesTheHeaderOnlyWhenTheInnerBlockGrew) {
  void* block = Ops::allocate(Layout{100, 16});
  ASSERT_NE(block, nullptr);
  Recording::log.resize_succeeds = false;
  EXPECT_EQ(Ops::resize_in_place(block, Layout{100, 16}, 200), 100u);
  EXPECT_EQ(Wrapped{}.usable_size(static_cast<const void*>(block)), 100u);
  Recording::log.resize_succeeds = true;
  EXPECT_EQ(Ops::resize_in_place(block, Layout{100, 16}, 200), 200u);
  EXPECT_EQ(Wrapped{}.usable_size(static_cast<const void*>(block)), 200u);
  EXPECT_EQ(Ops::resize_in_place(block, Layout{200, 16}, 50), 50u);
  EXPECT_EQ(Wrapped{}.usable_size(static_cast<const void*>(block)), 50u);
  EXPECT_EQ(Ops::resize_in_place(block, Layout{50, 16}, globalloc::testing::opaque(SIZE_MAX)), 50u);
  Wrapped{}.deallocate(block);
}

TEST_F(SizeHeader, AllocateZeroedZeroesTheUserBlock) {
  void* dirty = Ops::allocate(Layout{4096, 64});
  ASSERT_NE(dirty, nullptr);
  std::memset(dirty, 0xAB, 4096);
  Wrapped{}.deallocate(dirty);
  auto* block = static_cast<unsigned char*>(Ops::allocate_zeroed(Layout{4096, 64}));
  ASSERT_NE(block, nullptr);
  EXPECT_TRUE(is_aligned(block, 64));
  EXPECT_EQ(globalloc::testing::first_nonzero(block, 4096), 4096u);
  EXPECT_EQ(Wrapped{}.usable_size(static_cast<const void*>(block)), 4096u);
  Wrapped{}.deallocate(block);
}

TEST_F(SizeHeader, NullIsANoOp) {
  Wrapped{}.deallocate(nullptr);
  Ops::deallocate(nullptr, Layout{8, 8});
  EXPECT_EQ(Wrapped{}.usable_size(static_cast<const void*>(nullptr)), 0u);
  EXPECT_EQ(Recording::log.deallocations, 0);
}

}  // namespace
