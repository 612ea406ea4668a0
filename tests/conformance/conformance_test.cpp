// The conformance suite over every allocator of the project: the system
// allocator, the system allocator behind a size header, a minimal allocator
// without the pointer-only pair (as it is, and in the GlobalForm a
// registration would give it), and the fast allocator where it is built.
#include <globalloc/globalloc.hpp>
#include <globalloc/testing/conformance.hpp>
#include <globalloc/testing/test_allocators.hpp>

namespace {
using globalloc::GlobalForm;
using globalloc::SystemAllocator;
using globalloc::WithSizeHeader;
using globalloc::testing::MinimalAllocator;

static_assert(std::is_same_v<GlobalForm<SystemAllocator>, SystemAllocator>);
static_assert(std::is_same_v<GlobalForm<MinimalAllocator>, WithSizeHeader<MinimalAllocator>>);
}  // namespace

TEST(SystemAllocator, InvalidAlignmentsGiveNull) {
  for (std::size_t align : {std::size_t{0}, std::size_t{3}, std::size_t{12}}) {
    const globalloc::Layout layout{globalloc::testing::opaque(std::size_t{64}), globalloc::testing::opaque(align)};
    EXPECT_EQ(SystemAllocator::allocate(layout), nullptr) << "align " << align;
    EXPECT_EQ(SystemAllocator::allocate_zeroed(layout), nullptr) << "align " << align;
  }
}

GLOBALLOC_CONFORMANCE_SUITE(System, SystemAllocator);
GLOBALLOC_CONFORMANCE_SUITE(SystemWithSizeHeader, WithSizeHeader<SystemAllocator>);
GLOBALLOC_CONFORMANCE_SUITE(Minimal, MinimalAllocator);
GLOBALLOC_CONFORMANCE_SUITE(MinimalGlobalForm, GlobalForm<MinimalAllocator>);
#ifdef GLOBALLOC_TEST_FAST
GLOBALLOC_CONFORMANCE_SUITE(Fast, globalloc::FastAllocator);
#endif
