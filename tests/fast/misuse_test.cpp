// Cheap misuse detection of the default build: double free and free of a
// pointer the allocator never returned print one line and abort.
#include <gtest/gtest.h>

#include <cstdlib>
#include <thread>

#include "fast/config.hpp"
#include "fast/segment.hpp"
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

// A double free with other frees of the same page in between passes the
// local fast path (catching it there would need a read of the block, a cache
// miss per free of a cold block). It is caught later, before it can hand one
// block to two owners: by the allocation that meets the block on the free
// list a second time, or by the page's count of blocks in use, which the
// extra free throws off (the tests below). The hardened build catches it at
// the free.

namespace {
// Blocks of 7000 bytes: a class of its own (7168-byte blocks, nine to a
// 64 KiB page) that nothing else in the test process uses.
constexpr std::size_t kPageTestSize = 7000;

std::uintptr_t page_slot_of(const void* block) {
  return reinterpret_cast<std::uintptr_t>(block) >> 16;  // small pages are 64 KiB slots
}

void free_twice_from_another_thread(void* block) {
  std::thread([block] {
    fast::deallocate(block);
    fast::deallocate(block);
  }).join();
}

constexpr const char* kRemoteDoubleFree =
    "globalloc: double free found in free from another thread: block 0x[0-9a-f]+ was freed again while it waited "
    "for its owner";
}  // namespace

TEST(MisuseDeathTest, DoubleFreeWithFreesInBetweenIsCaughtWhenItEmptiesTheCurrentPage) {
  // The current page counts one more block than it hands out (its pin), so
  // no correct sequence of frees brings it to zero.
  EXPECT_DEATH(
      {
        void* first = fast::allocate(kPageTestSize, 16);
        void* second = fast::allocate(kPageTestSize, 16);
        fast::deallocate(first);
        fast::deallocate(second);
        fast::deallocate(first);
      },
      "globalloc: double free found in free of 0x[0-9a-f]+ \\(its page counts more frees than allocations\\)");
}

TEST(MisuseDeathTest, DoubleFreeWithFreesInBetweenIsCaughtBeforeTheLiveBlocksPageIsReleased) {
  // The extra free brings a page that still holds a live block to a count of
  // zero; releasing it would give the live block's bytes to the next page
  // set up in its slot. The release finds the live block first.
  EXPECT_DEATH(
      {
        void* blocks[40];
        for (auto& block : blocks) block = fast::allocate(kPageTestSize, 16);
        // The first page's blocks; the current page is the last block's.
        void* page[16];
        int count = 0;
        for (void* block : blocks) {
          if (page_slot_of(block) == page_slot_of(blocks[0]) && count < 16) page[count++] = block;
        }
        if (count < 4 || page_slot_of(blocks[0]) == page_slot_of(blocks[39])) std::abort();  // not the layout assumed
        static_cast<char*>(page[0])[0] = 'L';  // page[0] stays live
        for (int i = 3; i < count; ++i) fast::deallocate(page[i]);
        fast::deallocate(page[1]);
        fast::deallocate(page[2]);
        fast::deallocate(page[1]);
      },
      "globalloc: double free found: block 0x[0-9a-f]+ is in use \\(or was written after its free\\) while its page "
      "counts every block freed");
}

TEST(MisuseDeathTest, DoubleFreeFromAnotherThreadIsCaughtWhenTheOwnerTakesTheRemoteFrees) {
  // Both frees go onto the page's list of remote frees: the block links to
  // itself, and taking the list in would never end.
  EXPECT_DEATH(
      {
        free_twice_from_another_thread(fast::allocate(kPageTestSize, 16));
        for (int i = 0; i < 20; ++i) sink = fast::allocate(kPageTestSize, 16);
      },
      kRemoteDoubleFree);
}

TEST(MisuseDeathTest, DoubleFreeFromAnotherThreadIntoAFullPageIsCaught) {
  // The first free of a block of a full page goes onto the owner's list of
  // delayed frees, the second onto the page's remote list, whose push
  // rewrites the block's link of the first list.
  EXPECT_DEATH(
      {
        void* blocks[20];
        for (auto& block : blocks) block = fast::allocate(kPageTestSize, 16);
        free_twice_from_another_thread(blocks[1]);  // on the first page, full since the tenth allocation
        for (int i = 0; i < 40; ++i) sink = fast::allocate(kPageTestSize, 16);
      },
      kRemoteDoubleFree);
}

TEST(MisuseDeathTest, ABadLinkAtTheHeadOfTheFreeListIsReportedNotReplacedByTheLocalFrees) {
  // The fast path's pop tests the head's link once for both an empty list
  // and a bad link. A bad one must be reported, not taken for an empty list
  // whose refill (the page's local frees) would drop the damaged list.
  EXPECT_DEATH(
      {
        void* kept = fast::allocate(1000, 16);
        fast::Page* page = fast::segment_page_of(fast::segment_of(kept), kept);
        while (page->free == page->sentinel()) {  // until carved blocks wait on the free list
          kept = fast::allocate(1000, 16);
          page = fast::segment_page_of(fast::segment_of(kept), kept);
        }
        auto* head = static_cast<fast::Block*>(page->free);
        fast::deallocate(kept);  // the page's local frees are not empty now
        head->encoded_next = 0x1234567;  // a write after free into the head's link
        sink = fast::allocate(1000, 16);
      },
      "globalloc: double free of 0x[0-9a-f]+ \\(or a write after free into it\\) found in a later allocation");
}

TEST(MisuseDeathTest, ResizeInPlaceOfAFreedLargeBlock) {
  // Growing it would take the free units after it for a block nobody owns.
  EXPECT_DEATH(
      {
        void* keep = fast::allocate(300000, 16);
        void* block = fast::allocate(300000, 16);
        fast::deallocate(block);
        sink = keep;
        fast::resize_in_place(block, 600000);
      },
      "globalloc: resize of freed block 0x[0-9a-f]+ in resize_in_place");
}

TEST(MisuseDeathTest, ReallocOfAnInteriorPointer) {
  EXPECT_DEATH(
      {
        auto* block = static_cast<char*>(fast::allocate(256, 16));
        sink = fast::reallocate(block + 16, 512, 16);
      },
      "globalloc: free of invalid pointer 0x[0-9a-f]+ \\(not allocated by globalloc\\) in realloc");
}

TEST(Misuse, ReallocAndResizeOfLiveBlocksNeverTrip) {
  // Live data that reads like a free-list link is not a freed block: the
  // first word is the very link a free block of the page would hold.
  for (const std::size_t size : {std::size_t{32}, std::size_t{3000}, std::size_t{100000}, std::size_t{3} << 20}) {
    void* neighbours[4];
    for (auto& neighbour : neighbours) neighbour = fast::allocate(size, 16);
    auto* block = static_cast<std::uintptr_t*>(fast::allocate(size, 16));
    const std::uintptr_t word = fast::segment_page_of(fast::segment_of(block), block)->encode(neighbours[0], block);
    *block = word;
    fast::resize_in_place(block, size);
    block = static_cast<std::uintptr_t*>(fast::reallocate(block, size + size / 4, 16));
    ASSERT_NE(block, nullptr);
    EXPECT_EQ(*block, word) << size;
    fast::deallocate(block);
    for (void* neighbour : neighbours) fast::deallocate(neighbour);
  }
}

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
