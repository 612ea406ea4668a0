// Cheap misuse detection of the default build: double free and free of a
// pointer the allocator never returned print one line and abort.
#include <gtest/gtest.h>

#include <cstdlib>
#include <thread>

#include "fast/config.hpp"
#include "globalloc/fast_allocator.hpp"

using namespace globalloc;

namespace {
// Keeps the compiler from reasoning about the misuse.
void* volatile sink;
}  // namespace

TEST(MisuseDeathTest, DoubleFreeOfSmallBlock) {
  EXPECT_DEATH(
      {
        void* block = fast::allocate(32, 16);
        sink = block;
        fast::deallocate(block);
        fast::deallocate(block);
      },
      "globalloc: double free of 0x[0-9a-f]+ in free");
}

// A double free with other frees of the same page in between is caught by
// the default build only on its slow paths (a full page, a page with sampled
// blocks); on the local fast path it would need a read of the block, a cache
// miss per free of a cold block. The hardened build catches it everywhere.

TEST(MisuseDeathTest, DoubleFreeAfterTheBlockWasReusedAndFreedAgainIsNotConfused) {
  // A block freed, handed out again and freed once more is not a double free;
  // nor is a block whose first word the program never wrote.
  for (int round = 0; round < 1000; ++round) {
    void* block = fast::allocate(64, 16);
    fast::deallocate(block);
    void* again = fast::allocate(64, 16);
    void* untouched = fast::allocate(64, 16);
    fast::deallocate(again);
    fast::deallocate(untouched);
  }
  SUCCEED();
}

TEST(MisuseDeathTest, DoubleFreeOfLargeBlock) {
  EXPECT_DEATH(
      {
        void* block = fast::allocate(300000, 16);
        fast::deallocate(block);
        void* keep = fast::allocate(300000, 16);  // the segment is reused
        sink = keep;
        fast::deallocate(block);
        fast::deallocate(block);
      },
      "globalloc: (double free of|free of invalid pointer) 0x[0-9a-f]+");
}

TEST(MisuseDeathTest, FreeOfStackAddress) {
  EXPECT_DEATH(
      {
        int local = 0;
        sink = &local;
        fast::deallocate(sink);
      },
      "globalloc: free of invalid pointer 0x[0-9a-f]+ \\(not allocated by globalloc\\) in free");
}

TEST(MisuseDeathTest, FreeOfSystemMallocBlock) {
  EXPECT_DEATH(
      {
        void* block = std::malloc(100);
        sink = block;
        fast::deallocate(block);
      },
      "globalloc: free of invalid pointer 0x[0-9a-f]+ \\(not allocated by globalloc\\) in free");
}

TEST(MisuseDeathTest, FreeOfInteriorPointer) {
  if constexpr (!fast::Config::mitigations.detect_interior_free) GTEST_SKIP() << "checked on slow paths only";
  EXPECT_DEATH(
      {
        char* block = static_cast<char*>(fast::allocate(64, 16));
        sink = block;
        fast::deallocate(block + 16);
      },
      "globalloc: free of invalid pointer 0x[0-9a-f]+");
}

TEST(MisuseDeathTest, FreeOfInteriorPointerFromAnotherThread) {
  // Frees that miss the local fast path always check the block start.
  EXPECT_DEATH(
      {
        char* block = static_cast<char*>(fast::allocate(64, 16));
        sink = block;
        std::thread([block] { fast::deallocate(block + 16); }).join();
      },
      "globalloc: free of invalid pointer 0x[0-9a-f]+");
}

TEST(Misuse, UserDataThatLooksLikeLinksIsNoDoubleFree) {
  // Blocks whose first word points at a neighbour in the same page.
  void* blocks[256];
  for (auto& block : blocks) block = fast::allocate(32, 16);
  for (int i = 0; i < 256; ++i) *static_cast<void**>(blocks[i]) = blocks[(i + 1) % 256];
  for (auto& block : blocks) fast::deallocate(block);
  SUCCEED();
}
