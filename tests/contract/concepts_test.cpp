// The contract as concepts: which types are allocators, which can stand
// behind free() and unsized delete directly, and what GlobalForm makes of
// each. Most checks are static_asserts; the test cases make them show up in
// the test list and check the run-time side (allocator_name, Operations).
#include "globalloc/adapters/counting.hpp"
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <type_traits>

#include <globalloc/globalloc.hpp>
#include <globalloc/testing/test_allocators.hpp>

namespace {

using globalloc::Allocator;
using globalloc::GlobalCapableAllocator;
using globalloc::Layout;

// The five required operations, as static members, without the pointer-only pair.
struct FiveOperations {
  static void* allocate(Layout layout) noexcept { return std::aligned_alloc(layout.align, layout.size); }
  static void deallocate(void* block, Layout) noexcept { std::free(block); }
  static void* reallocate(void*, Layout, std::size_t) noexcept { return nullptr; }
  static std::size_t resize_in_place(void*, Layout layout, std::size_t) noexcept { return layout.size; }
  static std::size_t usable_size(Layout layout) noexcept { return layout.size; }
};

// The same plus the pointer-only pair.
struct WithPointerOnlyPair : FiveOperations {
  using FiveOperations::deallocate;
  using FiveOperations::usable_size;
  static void deallocate(void* block) noexcept { std::free(block); }
  static std::size_t usable_size(const void*) noexcept { return 0; }
};

struct MissingReallocate {
  static void* allocate(Layout) noexcept { return nullptr; }
  static void deallocate(void*, Layout) noexcept {}
  static std::size_t resize_in_place(void*, Layout layout, std::size_t) noexcept { return layout.size; }
  static std::size_t usable_size(Layout layout) noexcept { return layout.size; }
};

struct MissingDeallocate {
  static void* allocate(Layout) noexcept { return nullptr; }
  static void* reallocate(void*, Layout, std::size_t) noexcept { return nullptr; }
  static std::size_t resize_in_place(void*, Layout layout, std::size_t) noexcept { return layout.size; }
  static std::size_t usable_size(Layout layout) noexcept { return layout.size; }
};

// allocate may throw: the contract wants noexcept everywhere.
struct ThrowingAllocate : FiveOperations {
  static void* allocate(Layout) { return nullptr; }
};

// allocate returns the wrong type.
struct WrongReturnType : FiveOperations {
  static char* allocate(Layout) noexcept { return nullptr; }
};

// Stateful: not default-constructible.
struct NotDefaultConstructible : FiveOperations {
  explicit NotDefaultConstructible(int) {}
};

// Only half of the pointer-only pair.
struct HalfPointerOnlyPair : FiveOperations {
  using FiveOperations::deallocate;
  static void deallocate(void* block) noexcept { std::free(block); }
};

static_assert(Allocator<globalloc::SystemAllocator>);
static_assert(GlobalCapableAllocator<globalloc::SystemAllocator>);
static_assert(globalloc::HasAllocateZeroed<globalloc::SystemAllocator>);
static_assert(globalloc::HasPointerOnlyReallocate<globalloc::SystemAllocator>);
static_assert(Allocator<globalloc::FastAllocator>);
static_assert(GlobalCapableAllocator<globalloc::FastAllocator>);

static_assert(Allocator<FiveOperations>);
static_assert(!GlobalCapableAllocator<FiveOperations>);
static_assert(!globalloc::HasAllocateZeroed<FiveOperations>);
static_assert(Allocator<WithPointerOnlyPair>);
static_assert(GlobalCapableAllocator<WithPointerOnlyPair>);
static_assert(Allocator<HalfPointerOnlyPair>);
static_assert(!GlobalCapableAllocator<HalfPointerOnlyPair>);

// Members of a stateless object count as well as static members.
static_assert(Allocator<globalloc::testing::MinimalAllocator>);
static_assert(!GlobalCapableAllocator<globalloc::testing::MinimalAllocator>);

static_assert(!Allocator<MissingReallocate>);
static_assert(!globalloc::HasReallocate<MissingReallocate>);
static_assert(!Allocator<MissingDeallocate>);
static_assert(!globalloc::HasDeallocate<MissingDeallocate>);
static_assert(!Allocator<ThrowingAllocate>);
static_assert(!Allocator<WrongReturnType>);
static_assert(!Allocator<NotDefaultConstructible>);
static_assert(!Allocator<int>);

// What a registration calls: the allocator itself when it has the pair, the
// allocator behind a size header when it has not.
static_assert(std::is_same_v<globalloc::GlobalForm<globalloc::SystemAllocator>, globalloc::SystemAllocator>);
static_assert(std::is_same_v<globalloc::GlobalForm<WithPointerOnlyPair>, WithPointerOnlyPair>);
static_assert(std::is_same_v<globalloc::GlobalForm<FiveOperations>, globalloc::WithSizeHeader<FiveOperations>>);
static_assert(std::is_same_v<globalloc::GlobalForm<HalfPointerOnlyPair>, globalloc::WithSizeHeader<HalfPointerOnlyPair>>);
static_assert(GlobalCapableAllocator<globalloc::WithSizeHeader<FiveOperations>>);
static_assert(GlobalCapableAllocator<globalloc::Counting<globalloc::SystemAllocator>>);
static_assert(!GlobalCapableAllocator<globalloc::Counting<FiveOperations>>);

// Layout.
static_assert(Layout{}.align == alignof(std::max_align_t));
static_assert(Layout::of<double>() == Layout{sizeof(double), alignof(double)});
static_assert(globalloc::is_valid_alignment(1) && globalloc::is_valid_alignment(4096));
static_assert(!globalloc::is_valid_alignment(0) && !globalloc::is_valid_alignment(3) && !globalloc::is_valid_alignment(48));
static_assert(globalloc::is_valid_layout(Layout{SIZE_MAX - 63, 64}));
static_assert(!globalloc::is_valid_layout(Layout{SIZE_MAX - 62, 64}));
static_assert(!globalloc::is_valid_layout(Layout{16, 0}));
static_assert(globalloc::natural_alignment(1) == 1 && globalloc::natural_alignment(3) == 4);
static_assert(globalloc::natural_alignment(9) == 8 && globalloc::natural_alignment(16) == 16);
static_assert(globalloc::natural_alignment(1000) == alignof(std::max_align_t));
static_assert(globalloc::align_up(17, 16) == 32 && globalloc::align_up(32, 16) == 32);

TEST(Contract, AllocatorNameIsReported) {
  EXPECT_STREQ(globalloc::allocator_name<globalloc::SystemAllocator>(), "system");
  EXPECT_STREQ(globalloc::allocator_name<FiveOperations>(), "unnamed");
  EXPECT_STREQ(globalloc::allocator_name<globalloc::WithSizeHeader<globalloc::SystemAllocator>>(), "system");
}

TEST(Contract, OperationsFillsInAllocateZeroed) {
  // FiveOperations has no allocate_zeroed: Operations builds it on allocate.
  void* dirty = globalloc::Operations<FiveOperations>::allocate(Layout{256, 64});
  ASSERT_NE(dirty, nullptr);
  std::memset(dirty, 0xFF, 256);
  globalloc::Operations<FiveOperations>::deallocate(dirty, Layout{256, 64});
  for (int i = 0; i < 8; ++i) {
    auto* block = static_cast<unsigned char*>(globalloc::Operations<FiveOperations>::allocate_zeroed(Layout{256, 64}));
    ASSERT_NE(block, nullptr);
    for (int j = 0; j < 256; ++j) ASSERT_EQ(block[j], 0) << j;
    globalloc::Operations<FiveOperations>::deallocate(block, Layout{256, 64});
  }
}

}  // namespace
