// Heap misuse, each case in a child process (GoogleTest death tests): the
// allocator must abort with one line naming the error, the address and the
// operation. Built once per allocator: the hardened one must catch every
// case, the fast one the cheap ones (double free, invalid pointer).
#include <gtest/gtest.h>

#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>
#include <atomic>
#include <chrono>

#ifdef GLOBALLOC_MISUSE_HARDENED
#include "globalloc/hardened_allocator.hpp"
#endif
#include "vm_flags.hpp"

// C23's sized frees; glibc 2.36's <stdlib.h> does not declare them yet.
extern "C" void free_sized(void* block, std::size_t size) noexcept;
extern "C" void free_aligned_sized(void* block, std::size_t alignment, std::size_t size) noexcept;

namespace {

// The compiler must not see through these: it would warn about, or remove,
// the very misuse under test.
[[gnu::noinline]] void* opaque(void* pointer) {
  asm volatile("" : "+r"(pointer));
  return pointer;
}
[[gnu::noinline]] void free_opaque(void* pointer) { std::free(opaque(pointer)); }

constexpr const char* address = "0x[0-9a-f]+";

std::string message(const char* error, const char* operation) {
  return std::string("globalloc: ") + error + " " + address + ".* in " + operation;
}

TEST(MisuseDeathTest, DoubleFreeOfASmallBlock) {
  EXPECT_DEATH(
      {
        void* block = std::malloc(32);
        free_opaque(block);
        free_opaque(block);
      },
      message("double free of", "free"));
}

TEST(MisuseDeathTest, FreeOfAStackPointer) {
  EXPECT_DEATH(
      {
        alignas(16) char on_stack[64];
        free_opaque(on_stack);
      },
      message("free of invalid pointer", "free"));
}

alignas(64) char global_buffer[256];
TEST(MisuseDeathTest, FreeOfAGlobal) {
  EXPECT_DEATH(free_opaque(global_buffer + 64), message("free of invalid pointer", "free"));
}

// A block freed twice with other frees in between: the hardened allocator's
// block state catches the second free itself. The fast one does not read the
// block on its free fast path (a cold block's load stalls); the allocation
// that meets the block on the free list a second time finds its link
// cleared by the first and stops before handing the block out twice.
TEST(MisuseDeathTest, DoubleFreeAfterOtherFreesInBetween) {
  EXPECT_DEATH(
      {
        void* block = std::malloc(48);
        void* others[64];
        for (auto& other : others) other = std::malloc(48);
        free_opaque(block);
        for (auto* other : others) free_opaque(other);
        free_opaque(block);
        for (int i = 0; i < 200; ++i) opaque(std::malloc(48));
      },
#ifdef GLOBALLOC_MISUSE_HARDENED
      message("double free of", "free"));
#else
      message("double free of", "a later allocation"));
#endif
}

#ifndef GLOBALLOC_MISUSE_HARDENED
// The default build: a write into the link of a freed block is found by the
// allocation that takes the block (the link no longer leads into its segment).
TEST(MisuseDeathTest, WriteIntoTheLinkOfAFreedBlockIsCaughtWhenItIsReused) {
  EXPECT_DEATH(
      {
        auto* block = static_cast<std::uint64_t*>(opaque(std::malloc(64)));
        free_opaque(block);
        static_cast<volatile std::uint64_t*>(opaque(block))[0] = 0x1234567;
        for (int i = 0; i < 200; ++i) opaque(std::malloc(64));
      },
      message("double free of", "a later allocation"));
}
#endif

// realloc of a freed block, in every build: the fast one checks the block
// is live before it copies, keeps or grows it.
TEST(MisuseDeathTest, ReallocOfAFreedBlock) {
  EXPECT_DEATH(
      {
        void* block = std::malloc(100);
        free_opaque(block);
        void* moved = std::realloc(opaque(block), 200);
        std::free(moved);
      },
      message("realloc of freed block", "realloc"));
}

TEST(MisuseDeathTest, ReallocOfAFreedBlockWithOtherFreesInBetween) {
  EXPECT_DEATH(
      {
        void* block = std::malloc(100);
        void* others[8];
        for (auto& other : others) other = std::malloc(100);
        free_opaque(block);
        for (auto* other : others) free_opaque(other);
        void* moved = std::realloc(opaque(block), 90);  // fits: a realloc that keeps the block
        std::free(moved);
      },
      message("realloc of freed block", "realloc"));
}

TEST(MisuseDeathTest, ReallocOfAFreedLargeBlock) {
  // Grown in place, a freed large block would take memory that is free.
  // A 3 MiB block has a 4 MiB large segment of its own in the fast
  // allocator, which goes to the segment cache when the block is freed: the
  // report must still name a freed block, not a foreign pointer.
  for (const std::size_t size : {std::size_t{100000}, std::size_t{3} << 20}) {
    EXPECT_DEATH(
        {
          void* keep = std::malloc(size);  // shares the 100000-byte block's segment
          void* block = std::malloc(size);
          free_opaque(block);
          void* moved = std::realloc(opaque(block), size * 2);
          std::free(moved);
          std::free(keep);
        },
        message("realloc of freed block", "realloc"))
        << size << " bytes";
  }
}

TEST(MisuseDeathTest, DoubleFreeOfABlockWhoseMemoryWentBack) {
  // Freeing a large block with a segment of its own (3 MiB) or a huge one
  // (16 MiB) unregisters its memory, which the caches keep mapped for reuse;
  // a 128 MiB one is too large for them and is unmapped at once. A second
  // free of any of them is a double free, not a foreign pointer.
  for (const std::size_t size : {std::size_t{3} << 20, std::size_t{16} << 20, std::size_t{128} << 20}) {
    EXPECT_DEATH(
        {
          void* block = std::malloc(size);
          std::memset(block, 1, size);
          free_opaque(block);
          free_opaque(block);
        },
        message("double free of", "free"))
        << size << " bytes";
  }
}

TEST(MisuseDeathTest, DoubleFreeOfALargeBlockItsThreadKeepsForTheNextOne) {
  // A freed large block of up to 2 MiB waits in its thread's heap for the
  // next large block (the fast allocator): a second free, by the same
  // thread or another, is still a double free, and so is one after the
  // block's span served another block and was freed again.
  EXPECT_DEATH(
      {
        void* block = std::malloc(256 * 1024);
        std::memset(block, 1, 256 * 1024);
        free_opaque(block);
        free_opaque(block);
      },
      message("double free of", "free"));
  EXPECT_DEATH(
      {
        void* block = std::malloc(256 * 1024);
        std::memset(block, 1, 256 * 1024);
        free_opaque(block);
        std::thread([block] { free_opaque(block); }).join();
      },
      message("double free of", "free"));
  // (In the hardened build the block's guarded region served the second
  // block, which starts elsewhere in it, before the second free.)
  EXPECT_DEATH(
      {
        void* block = std::malloc(256 * 1024);
        free_opaque(block);
        void* again = std::malloc(250 * 1024);
        free_opaque(again);
        free_opaque(block);
      },
      message("double free of", "free"));
}

#ifdef GLOBALLOC_MISUSE_HARDENED

TEST(MisuseDeathTest, DoubleFreeOfALargeBlock) {
  EXPECT_DEATH(
      {
        void* block = std::malloc(1 << 20);
        std::memset(block, 1, 1 << 20);
        free_opaque(block);
        free_opaque(block);
      },
      message("double free of", "free"));
}

TEST(MisuseDeathTest, FreeOfTheFirstAddressAfterASegmentHeader) {
  // A wild pointer just past a segment's metadata (and its guard page): the
  // header read before it would fault; it is reported instead.
  EXPECT_DEATH(
      {
        void* block = std::malloc(48);
        const auto segment = reinterpret_cast<std::uintptr_t>(block) & ~((std::uintptr_t{1} << 22) - 1);
        free_opaque(reinterpret_cast<void*>(segment + 64 * 1024));
      },
      message("free of invalid pointer", "free"));
}

TEST(MisuseDeathTest, FreeOfAnInteriorPointer) {
  EXPECT_DEATH(
      {
        char* block = static_cast<char*>(std::malloc(64));
        free_opaque(block + 16);
      },
      message("free of interior or corrupted pointer", "free"));
}

TEST(MisuseDeathTest, SizedDeleteWithTheWrongSize) {
  EXPECT_DEATH(
      {
        void* block = opaque(::operator new(64));
        ::operator delete(block, 100);
      },
      "globalloc: size mismatch in sized delete of block 0x[0-9a-f]+ \\(allocated with size 64 align 16, freed "
      "with size 100 align 16\\) in sized delete");
}

TEST(MisuseDeathTest, AlignedDeleteWithTheWrongAlignment) {
  EXPECT_DEATH(
      {
        void* block = opaque(::operator new(64, std::align_val_t{128}));
        ::operator delete(block, 64, std::align_val_t{256});
      },
      "globalloc: size mismatch in sized delete of block 0x[0-9a-f]+ \\(allocated with size 64 align 128, freed "
      "with size 64 align 256\\)");
}

TEST(MisuseDeathTest, FreeSizedWithTheWrongSize) {
  EXPECT_DEATH(
      {
        void* block = opaque(std::malloc(64));
        free_sized(block, 100);
      },
      "globalloc: size mismatch in sized delete of block 0x[0-9a-f]+ \\(allocated with size 64 align 16, freed "
      "with size 100 align 16\\)");
}

TEST(MisuseDeathTest, FreeAlignedSizedWithTheWrongAlignment) {
  EXPECT_DEATH(
      {
        void* block = opaque(std::aligned_alloc(128, 256));
        free_aligned_sized(block, 256, 256);
      },
      "globalloc: size mismatch in sized delete of block 0x[0-9a-f]+ \\(allocated with size 256 align 128, freed "
      "with size 256 align 256\\)");
}

TEST(MisuseDeathTest, WritePastTheEndIsCaughtOnFree) {
  EXPECT_DEATH(
      {
        char* block = static_cast<char*>(opaque(std::malloc(24)));
        // A byte the canary does not hold there (a fixed one would match the
        // random canary's byte once in 256 runs).
        block[24] = static_cast<char>(~block[24]);
        free_opaque(block);
      },
      message("heap buffer overflow \\(canary overwritten\\) past the end of block", "free"));
}

TEST(MisuseDeathTest, WriteIntoAFreedBlockIsCaughtBeforeReuse) {
  EXPECT_DEATH(
      {
        char* block = static_cast<char*>(opaque(std::malloc(100)));
        free_opaque(block);
        static_cast<volatile char*>(opaque(block))[10] = 1;
        globalloc::hardened::flush_quarantine();
      },
      message("write after free into block", "reuse after quarantine"));
}

TEST(MisuseDeathTest, WriteIntoAFreedBlockIsCaughtWhenItIsReused) {
  // No flush: the block leaves the quarantine as other blocks are freed, and
  // the allocation that would hand it out again finds the write.
  EXPECT_DEATH(
      {
        char* block = static_cast<char*>(opaque(std::malloc(100)));
        free_opaque(block);
        static_cast<volatile char*>(opaque(block))[60] = 1;
        for (int i = 0; i < 2000; ++i) free_opaque(std::malloc(100));
      },
      message("write after free into block", "reuse after quarantine"));
}

TEST(MisuseDeathTest, WriteIntoASmallFreedBlockIsCaughtWhenItIsReused) {
  // The smallest blocks are filled and checked too (at least 16 bytes: past
  // an 8-byte block, its room up to the canary).
  EXPECT_DEATH(
      {
        char* block = static_cast<char*>(opaque(std::malloc(8)));
        free_opaque(block);
        static_cast<volatile char*>(opaque(block))[7] = 1;
        for (int i = 0; i < 2000; ++i) free_opaque(std::malloc(8));
      },
      message("write after free into block", "reuse after quarantine"));
}

// Blocks of 16 KiB up to the guarded size (64 KiB) are too large for the
// thread's main quarantine ring and wait in its mid-size ring: a write into
// one is caught like any other (until that ring existed they were freed at
// once, and these writes went unnoticed).
void write_after_free_then_flush(std::size_t size, std::size_t offset) {
  char* block = static_cast<char*>(opaque(std::malloc(size)));
  std::memset(block, 1, size);
  free_opaque(block);
  static_cast<volatile char*>(opaque(block))[offset] = 1;
  globalloc::hardened::flush_quarantine();
}

TEST(MisuseDeathTest, WriteIntoA16KiBFreedBlockIsCaughtBeforeReuse) {
  EXPECT_DEATH(write_after_free_then_flush(16 * 1024, 10), message("write after free into block", "reuse after quarantine"));
}

TEST(MisuseDeathTest, WriteIntoA32KiBFreedBlockIsCaughtBeforeReuse) {
  EXPECT_DEATH(write_after_free_then_flush(32 * 1024, 40), message("write after free into block", "reuse after quarantine"));
}

TEST(MisuseDeathTest, WriteIntoA60KiBFreedBlockIsCaughtBeforeReuse) {
  EXPECT_DEATH(write_after_free_then_flush(60 * 1024 + 100, 63),
               message("write after free into block", "reuse after quarantine"));
}

TEST(MisuseDeathTest, WriteIntoAMidSizeFreedBlockIsCaughtWhenItIsReused) {
  // No flush: the block leaves the mid-size ring as other blocks of its
  // size are freed, and is checked before the fast allocator gets it back.
  EXPECT_DEATH(
      {
        char* block = static_cast<char*>(opaque(std::malloc(48 * 1024)));
        free_opaque(block);
        static_cast<volatile char*>(opaque(block))[0] = 1;
        for (int i = 0; i < 100; ++i) free_opaque(std::malloc(48 * 1024));
      },
      message("write after free into block", "reuse after quarantine"));
}

TEST(MisuseDeathTest, WriteIntoAMidSizeFreedBlockIsCaughtWhenItsThreadExits) {
  EXPECT_DEATH(
      {
        std::thread([] {
          char* block = static_cast<char*>(opaque(std::malloc(20 * 1024)));
          free_opaque(block);
          static_cast<volatile char*>(opaque(block))[30] = 1;
        }).join();
      },
      message("write after free into block", "reuse after quarantine"));
}

TEST(Misuse, MidSizeBlocksAreReusedWithoutFalseReports) {
  // Every size from just below the main ring's limit to the guarded size,
  // freed directly, through realloc, and zeroed: nothing may trip.
  std::vector<void*> kept;
  for (std::size_t size = 15 * 1024; size < 64 * 1024; size += 1531) {
    char* block = static_cast<char*>(std::malloc(size));
    std::memset(block, 3, size);
    block = static_cast<char*>(std::realloc(block, size + 4000));
    kept.push_back(std::malloc(size / 2));
    std::free(block);
  }
  for (void* block : kept) std::free(block);
  globalloc::hardened::set_zero_on_free(true);
  for (int i = 0; i < 200; ++i) free_opaque(std::malloc(16 * 1024 + static_cast<std::size_t>(i) * 200));
  globalloc::hardened::flush_quarantine();
  globalloc::hardened::set_zero_on_free(false);
  for (int i = 0; i < 200; ++i) free_opaque(std::malloc(16 * 1024 + static_cast<std::size_t>(i) * 200));
  globalloc::hardened::flush_quarantine();
  SUCCEED();
}

TEST(Misuse, ZeroOnFreeZeroesFreedBlocks) {
  // With zero_on_free every byte of a freed block reads zero while it waits
  // in the quarantine (read here through a dangling pointer, on purpose).
  globalloc::hardened::set_zero_on_free(true);
  for (std::size_t size : {std::size_t{8}, std::size_t{100}, std::size_t{3000}, std::size_t{40000}}) {
    auto* block = static_cast<unsigned char*>(opaque(std::malloc(size)));
    std::memset(block, 0x5A, size);
    free_opaque(block);
    const auto* dangling = static_cast<const volatile unsigned char*>(opaque(block));
    std::size_t nonzero = 0;
    for (std::size_t i = 0; i < size; ++i) nonzero += dangling[i] != 0 ? 1 : 0;
    EXPECT_EQ(nonzero, 0u) << "size " << size;
  }
  // Zeroed blocks are reused after their check like any other.
  for (int i = 0; i < 5000; ++i) free_opaque(std::malloc(static_cast<std::size_t>(i % 700)));
  globalloc::hardened::flush_quarantine();
  globalloc::hardened::set_zero_on_free(false);
}

TEST(MisuseDeathTest, WriteIntoAZeroedFreedBlockIsCaughtWhenItIsReused) {
  EXPECT_DEATH(
      {
        globalloc::hardened::set_zero_on_free(true);
        char* block = static_cast<char*>(opaque(std::malloc(100)));
        free_opaque(block);
        static_cast<volatile char*>(opaque(block))[20] = 1;
        for (int i = 0; i < 2000; ++i) free_opaque(std::malloc(100));
      },
      message("write after free into block", "reuse after quarantine"));
}

TEST(MisuseDeathTest, WriteIntoAFreedBlockIsCaughtWhenItsThreadExits) {
  // A thread's quarantine is flushed, every block checked, when the thread exits.
  EXPECT_DEATH(
      {
        std::thread([] {
          char* block = static_cast<char*>(opaque(std::malloc(200)));
          free_opaque(block);
          static_cast<volatile char*>(opaque(block))[3] = 1;
        }).join();
      },
      message("write after free into block", "reuse after quarantine"));
}

TEST(MisuseDeathTest, LinearOverflowOfALargeBlockHitsTheGuardPage) {
  EXPECT_EXIT(
      {
        const std::size_t size = 300000;
        char* block = static_cast<char*>(opaque(std::malloc(size)));
        for (std::size_t i = 0; i < size + 4096; ++i) static_cast<volatile char*>(block)[i] = 1;
        std::_Exit(0);  // not reached: the write past the end faults
      },
      ::testing::KilledBySignal(SIGSEGV), "");
}

TEST(MisuseDeathTest, LinearOverflowOfAMediumBlockHitsTheGuardPage) {
  // Guard pages start at 64 KiB; a region freed and reused by a smaller block
  // still ends at its trailing guard.
  EXPECT_EXIT(
      {
        void* larger = std::malloc(120000);
        free_opaque(larger);
        const std::size_t size = 100000;
        char* block = static_cast<char*>(opaque(std::malloc(size)));
        for (std::size_t i = 0; i < size + 4096; ++i) static_cast<volatile char*>(block)[i] = 1;
        std::_Exit(0);
      },
      ::testing::KilledBySignal(SIGSEGV), "");
}

TEST(MisuseDeathTest, UnderflowOfALargeBlockHitsTheGuardPage) {
  EXPECT_EXIT(
      {
        char* block = static_cast<char*>(opaque(std::malloc(1 << 20)));
        for (std::size_t i = 1; i < 8192; ++i) static_cast<volatile char*>(block)[-static_cast<long>(i)] = 1;
        std::_Exit(0);
      },
      ::testing::KilledBySignal(SIGSEGV), "");
}

TEST(Misuse, LargeBlocksWork) {
  // Guarded large blocks: every alignment, realloc across the threshold, zeroed.
  for (std::size_t align : {std::size_t{16}, std::size_t{4096}, std::size_t{1} << 16}) {
    void* block = nullptr;
    ASSERT_EQ(posix_memalign(&block, align, 400000), 0);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(block) % align, 0u);
    std::memset(block, 3, 400000);
    std::free(block);
  }
  char* grown = static_cast<char*>(std::malloc(1000));
  std::memset(grown, 9, 1000);
  grown = static_cast<char*>(std::realloc(grown, 600000));
  ASSERT_NE(grown, nullptr);
  EXPECT_EQ(grown[999], 9);
  grown = static_cast<char*>(std::realloc(grown, 100));
  EXPECT_EQ(grown[99], 9);
  std::free(grown);
  auto* zeroed = static_cast<unsigned char*>(std::calloc(1, 500000));
  for (std::size_t i = 0; i < 500000; i += 997) EXPECT_EQ(zeroed[i], 0);
  std::free(zeroed);
  EXPECT_DEATH(
      {
        void* block = std::malloc(1 << 20);
        free_opaque(block);
        free_opaque(block);
      },
      message("double free of", "free"));
}

TEST(Misuse, ForkWhileOtherThreadsUseLargeBlocks) {
  // Large blocks (guarded ones in the hardened build) allocated and freed by
  // two threads while the main thread forks: each child must be able to
  // allocate and free one itself, so no lock may stay taken in the child.
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  for (int t = 0; t < 2; ++t) {
    workers.emplace_back([&stop, t] {
      while (!stop.load()) {
        void* block = std::malloc(70000 + static_cast<std::size_t>(t) * 50000);
        static_cast<volatile char*>(block)[0] = 1;
        free_opaque(block);
      }
    });
  }
  int hung = 0;
  int failed = 0;
  for (int round = 0; round < 300 && hung == 0; ++round) {
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      void* block = std::malloc(200000);
      std::memset(block, 5, 200000);
      free_opaque(block);
      _exit(0);
    }
    int status = 0;
    pid_t done = 0;
    for (int wait_ms = 0; wait_ms < 2000 && done == 0; ++wait_ms) {
      done = waitpid(child, &status, WNOHANG);
      if (done == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (done == 0) {
      ++hung;
      kill(child, SIGKILL);
      waitpid(child, &status, 0);
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      ++failed;
    }
  }
  stop.store(true);
  for (auto& worker : workers) worker.join();
  EXPECT_EQ(hung, 0) << "children that never finished (a lock held across fork)";
  EXPECT_EQ(failed, 0);
}

// How many times, in `count` consecutive allocations, the next block is the
// one right after the previous (at the smallest positive step seen): what a
// free list carved from a fresh page gives every time.
std::size_t adjacent_successors(void* const* blocks, std::size_t count) {
  std::uintptr_t stride = UINTPTR_MAX;
  for (std::size_t i = 0; i + 1 < count; ++i) {
    const auto a = reinterpret_cast<std::uintptr_t>(blocks[i]);
    const auto b = reinterpret_cast<std::uintptr_t>(blocks[i + 1]);
    if (b > a && b - a < stride) stride = b - a;
  }
  std::size_t adjacent = 0;
  for (std::size_t i = 0; i + 1 < count; ++i) {
    if (reinterpret_cast<std::uintptr_t>(blocks[i + 1]) == reinterpret_cast<std::uintptr_t>(blocks[i]) + stride) {
      ++adjacent;
    }
  }
  return adjacent;
}

TEST(Misuse, TheMeasureOfSequentialOrderSeesASequence) {
  // The control of the next test: blocks handed out one after the other count as sequential.
  alignas(64) static char pool[64 * 100];
  void* blocks[100];
  for (std::size_t i = 0; i < 100; ++i) blocks[i] = pool + 64 * i;
  EXPECT_EQ(adjacent_successors(blocks, 100), 99u);
}

TEST(Misuse, TheNextBlockIsChosenAtRandom) {
  // Consecutive allocations of one size from fresh memory: the fast allocator
  // hands out neighbours in address order; the hardened allocator picks each
  // block at random among a few candidates, so few successors are neighbours
  // and the order is not ascending. Several sizes, each a separate bucket.
  for (std::size_t size : {std::size_t{24}, std::size_t{100}, std::size_t{200}, std::size_t{700}}) {
    constexpr std::size_t count = 400;
    void* blocks[count];
    for (auto& block : blocks) block = opaque(std::malloc(size));
    std::size_t ascending = 0;
    for (std::size_t i = 0; i + 1 < count; ++i) ascending += blocks[i + 1] > blocks[i] ? 1 : 0;
    const std::size_t adjacent = adjacent_successors(blocks, count);
    EXPECT_LT(adjacent, count / 3) << "size " << size << ": allocation order looks sequential";
    EXPECT_LT(ascending, count * 3 / 4) << "size " << size << ": allocation order is mostly ascending";
    EXPECT_GT(ascending, count / 4) << "size " << size;
    for (void* block : blocks) std::free(block);
  }
}

TEST(Misuse, BlocksShrunkInPlaceToAFewBytesAreFreedCleanly) {
  // A freed block's first 16 bytes at least are filled and checked; a block
  // shrunk in place below that (a guarded one too) must not be reported.
  for (std::size_t size : {std::size_t{100}, std::size_t{300000}}) {
    void* block = std::malloc(size);
    ASSERT_EQ(globalloc::hardened::resize_in_place(block, 5), 5u) << "size " << size;
    std::free(block);
  }
  globalloc::hardened::flush_quarantine();
  for (int i = 0; i < 3000; ++i) free_opaque(std::malloc(static_cast<std::size_t>(i % 90)));
  globalloc::hardened::flush_quarantine();
  SUCCEED();
}

TEST(Misuse, CorrectUseNeverTrips) {
  // The checks must not fire on legal programs: every size, alignment, realloc.
  for (std::size_t size = 0; size < 5000; size += 37) {
    char* block = static_cast<char*>(std::malloc(size));
    std::memset(block, 7, size);
    block = static_cast<char*>(std::realloc(block, size * 2 + 1));
    std::free(block);
    void* aligned = ::operator new(size + 1, std::align_val_t{256});
    ::operator delete(aligned, size + 1, std::align_val_t{256});
  }
  globalloc::hardened::flush_quarantine();
  SUCCEED();
}

#endif

// Both builds give blocks of 4 MiB and more a mapping of their own (a huge
// block, or a guarded region) and advise it MADV_HUGEPAGE by default (option
// huge_pages), which /proc/self/smaps shows as "hg".
TEST(Misuse, BigBlocksAskForHugePages) {
  if (!kernel_has_transparent_huge_pages()) GTEST_SKIP() << "no transparent huge pages";
  const std::size_t size = std::size_t{12} << 20;
  auto* block = static_cast<char*>(opaque(std::malloc(size)));
  ASSERT_NE(block, nullptr);
  std::memset(block, 1, size);
  EXPECT_NE(vm_flags_of(block + size / 2).find(" hg"), std::string::npos) << vm_flags_of(block + size / 2);
  free_opaque(block);
}

}  // namespace
