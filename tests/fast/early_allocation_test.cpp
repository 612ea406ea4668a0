// An allocation made before any static constructor of the program runs (a
// sanitizer runtime, or a library's init function, may allocate that early):
// the allocator's state must be constant-initialized, not set up by a
// constructor of its own, or that constructor would wipe what the early
// allocation registered. clang once zeroed the segment map in a static
// constructor (src/fast/segment.hpp), and every later free of such a block
// was reported as a pointer the allocator never returned.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#include "fast/options.hpp"
#include "globalloc/fast_allocator.hpp"
#include "sanitizers.hpp"

using namespace globalloc;

namespace {

void* early_small = nullptr;
void* early_large = nullptr;

void allocate_before_constructors(int, char**, char**) {
  early_small = fast::allocate(100, 16);
  early_large = fast::allocate(std::size_t{1} << 20, 16);
  if (early_small != nullptr) std::memset(early_small, 7, 100);
}

}  // namespace

#ifndef GLOBALLOC_TEST_TSAN
// .preinit_array runs before every constructor of the executable and its
// libraries. Not under ThreadSanitizer, whose runtime starts from there too.
[[gnu::section(".preinit_array"), gnu::used]] static void (*const allocate_early)(int, char**, char**) =
    allocate_before_constructors;
#endif

TEST(EarlyAllocation, BlocksAllocatedBeforeStaticConstructorsStayTheAllocators) {
  if (kThreadSanitizer) GTEST_SKIP() << "no .preinit_array function under ThreadSanitizer";
  ASSERT_NE(early_small, nullptr);
  ASSERT_NE(early_large, nullptr);
  EXPECT_TRUE(fast::owns(early_small));
  EXPECT_TRUE(fast::owns(early_large));
  EXPECT_EQ(static_cast<unsigned char*>(early_small)[99], 7);
  fast::deallocate(early_small);  // aborts as "not allocated by globalloc" if the map was wiped
  fast::deallocate(early_large);
}

TEST(EarlyAllocation, OptionsAreReadEvenThoughTheFirstAllocationCameBeforeLibcSetUpTheEnvironment) {
  // The options are read at the first allocation, which was the one above,
  // while `environ` was still null; CTest runs this binary with
  // GLOBALLOC_OPTIONS=purge_thread=0.
  if (kThreadSanitizer) GTEST_SKIP() << "no .preinit_array function under ThreadSanitizer";
  const char* options = std::getenv("GLOBALLOC_OPTIONS");
  if (options == nullptr || std::strstr(options, "purge_thread=0") == nullptr) {
    GTEST_SKIP() << "run through CTest, which sets GLOBALLOC_OPTIONS=purge_thread=0";
  }
  EXPECT_FALSE(fast::purge_thread_enabled());
}
