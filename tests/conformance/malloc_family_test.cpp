// The C and C++ entry points of one registered allocator, through the real
// symbols: this executable links a registration object (globalloc::<name>),
// so malloc, free, operator new and the rest resolve to it. Built once per
// registered allocator with GLOBALLOC_EXPECTED_ALLOCATOR set to its name.
//
// The compiler must not see through the calls: sizes and pointers go through
// opaque() and escape(), and the file is compiled with -fno-builtin, so g++
// neither removes malloc/free pairs nor folds malloc(SIZE_MAX) to null.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <malloc.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <set>
#include <thread>
#include <vector>

#include <globalloc/globalloc.h>
#include <globalloc/testing/patterns.hpp>

#ifndef GLOBALLOC_EXPECTED_ALLOCATOR
#error "build with -DGLOBALLOC_EXPECTED_ALLOCATOR=\"name\""
#endif

extern "C" const char* globalloc_global_allocator_name(void) noexcept;
// C23's sized frees; glibc 2.36's <stdlib.h> does not declare them yet.
extern "C" void free_sized(void* block, std::size_t size) noexcept;
extern "C" void free_aligned_sized(void* block, std::size_t alignment, std::size_t size) noexcept;

namespace {

using globalloc::testing::fill_pattern;
using globalloc::testing::first_nonzero;
using globalloc::testing::is_aligned;
using globalloc::testing::opaque;
using globalloc::testing::pattern_mismatch;

/// Makes the optimiser believe the block is used, so the call that made it stays.
inline void escape(void* block) { asm volatile("" : : "g"(block) : "memory"); }

template <class T>
T* opaque_pointer(T* pointer) {
  asm volatile("" : "+r"(pointer));
  return pointer;
}

const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));

// ---- the registration is really in effect ----

TEST(Registration, TheExpectedAllocatorIsRegistered) {
  EXPECT_STREQ(globalloc_global_allocator_name(), GLOBALLOC_EXPECTED_ALLOCATOR);
}

// The process-wide malloc and operator new (what the C library and
// libstdc++ call) are the ones this executable defines, not libc's.
TEST(Registration, TheProcessUsesThisExecutablesSymbols) {
  Dl_info self{}, found{};
  ASSERT_NE(::dladdr(reinterpret_cast<void*>(&globalloc_global_allocator_name), &self), 0);
  for (const char* symbol : {"malloc", "free", "calloc", "realloc", "posix_memalign", "aligned_alloc",
                             "malloc_usable_size", "_Znwm", "_ZdlPv", "_ZnwmSt11align_val_t"}) {
    void* address = ::dlsym(RTLD_DEFAULT, symbol);
    ASSERT_NE(address, nullptr) << symbol;
    ASSERT_NE(::dladdr(address, &found), 0) << symbol;
    EXPECT_EQ(found.dli_fbase, self.dli_fbase)
        << symbol << " resolves to " << (found.dli_fname ? found.dli_fname : "?") << ", not to this executable";
  }
}

// C23's sized frees are this executable's too. glibc 2.36 has none, so no
// shared library references them and the linker leaves them out of the
// dynamic symbol table (dlsym cannot see them): where they are defined is
// the question.
TEST(Registration, TheSizedFreesAreThisExecutables) {
  Dl_info self{}, found{};
  ASSERT_NE(::dladdr(reinterpret_cast<void*>(&globalloc_global_allocator_name), &self), 0);
  for (void* address : {reinterpret_cast<void*>(&free_sized), reinterpret_cast<void*>(&free_aligned_sized)}) {
    ASSERT_NE(::dladdr(address, &found), 0);
    EXPECT_EQ(found.dli_fbase, self.dli_fbase) << (found.dli_sname ? found.dli_sname : "?") << " is in "
                                               << (found.dli_fname ? found.dli_fname : "?");
  }
}

// ---- malloc, free, malloc_usable_size ----

TEST(Malloc, ZeroGivesDistinctNonNullPointers) {
  std::set<void*> distinct;
  std::vector<void*> blocks;
  for (int i = 0; i < 100; ++i) {
    void* block = std::malloc(opaque(std::size_t{0}));
    escape(block);
    ASSERT_NE(block, nullptr);
    EXPECT_TRUE(distinct.insert(block).second) << "malloc(0) gave " << block << " twice";
    blocks.push_back(block);
  }
  for (void* block : blocks) std::free(block);
}

TEST(Malloc, BlocksAreAlignedAndUsableSizeCoversTheRequest) {
  for (std::size_t size = 1; size < 3000000; size = size * 3 / 2 + 1) {
    void* block = std::malloc(opaque(size));
    escape(block);
    ASSERT_NE(block, nullptr) << size;
    const std::size_t natural = size >= alignof(std::max_align_t) ? alignof(std::max_align_t) : 1;
    EXPECT_TRUE(is_aligned(block, natural)) << "malloc(" << size << ") = " << block;
    const std::size_t usable = ::malloc_usable_size(block);
    EXPECT_GE(usable, size);
    std::memset(block, 0x5A, usable);
    std::free(block);
  }
  EXPECT_EQ(::malloc_usable_size(opaque_pointer(static_cast<void*>(nullptr))), 0u);
}

TEST(Malloc, ImpossibleSizesGiveNullAndEnomem) {
  for (std::size_t size : {SIZE_MAX, SIZE_MAX / 2, SIZE_MAX - 4096, SIZE_MAX / 2 + 1}) {
    errno = 0;
    void* block = std::malloc(opaque(size));
    escape(block);
    EXPECT_EQ(block, nullptr) << "malloc(" << size << ")";
    EXPECT_EQ(errno, ENOMEM) << "malloc(" << size << ")";
  }
}

TEST(Free, NullIsANoOpAndErrnoIsPreserved) {
  std::free(opaque_pointer(static_cast<void*>(nullptr)));
  for (std::size_t size : {std::size_t{16}, std::size_t{5000}, std::size_t{4} << 20}) {
    void* block = std::malloc(opaque(size));
    escape(block);
    ASSERT_NE(block, nullptr);
    errno = 1234;
    std::free(block);
    EXPECT_EQ(errno, 1234) << "free of a " << size << "-byte block changed errno";
  }
  errno = 1234;
  std::free(opaque_pointer(static_cast<void*>(nullptr)));
  EXPECT_EQ(errno, 1234);
}

// ---- free_sized, free_aligned_sized (C23) ----

TEST(FreeSized, FreesWhatMallocCallocAndReallocGaveWithTheirSizes) {
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{24}, std::size_t{1000}, std::size_t{5000},
                           std::size_t{70000}, std::size_t{3} << 20, std::size_t{40} << 20}) {
    for (int round = 0; round < 3; ++round) {
      void* from_malloc = std::malloc(opaque(size));
      void* from_calloc = std::calloc(1, opaque(size));
      void* from_realloc = std::realloc(std::malloc(opaque(std::size_t{10})), opaque(size));
      ASSERT_NE(from_malloc, nullptr);
      ASSERT_NE(from_calloc, nullptr);
      ASSERT_NE(from_realloc, nullptr);
      fill_pattern(from_malloc, size, static_cast<std::uint32_t>(size));
      EXPECT_EQ(first_nonzero(from_calloc, size), size) << "calloc(1, " << size << ")";
      errno = 1234;
      free_sized(from_malloc, size);
      free_sized(from_calloc, size);
      free_sized(from_realloc, size);
      EXPECT_EQ(errno, 1234) << "free_sized of " << size << "-byte blocks changed errno";
    }
  }
  errno = 1234;
  free_sized(opaque_pointer(static_cast<void*>(nullptr)), 100);
  EXPECT_EQ(errno, 1234);
}

TEST(FreeSized, FreesWhatAlignedAllocGaveWithItsAlignmentAndSize) {
  for (std::size_t alignment : {std::size_t{8}, std::size_t{16}, std::size_t{64}, std::size_t{4096},
                                std::size_t{1} << 21}) {
    for (std::size_t size : {alignment, alignment * 3, alignment * 40}) {
      void* block = std::aligned_alloc(opaque(alignment), opaque(size));
      ASSERT_NE(block, nullptr);
      EXPECT_TRUE(is_aligned(block, alignment));
      fill_pattern(block, size, static_cast<std::uint32_t>(alignment));
      errno = 1234;
      free_aligned_sized(block, alignment, size);
      EXPECT_EQ(errno, 1234) << "free_aligned_sized(" << alignment << ", " << size << ") changed errno";
    }
  }
  free_aligned_sized(opaque_pointer(static_cast<void*>(nullptr)), 64, 64);
}

// The fast allocator counts its huge blocks: a sized free really frees.
TEST(FreeSized, TheBlockIsGone) {
  if (std::strcmp(globalloc_global_allocator_name(), "fast") != 0) GTEST_SKIP() << "counts only the fast allocator's";
  globalloc_stats before{};
  globalloc_stats_get(&before);
  const std::size_t size = std::size_t{48} << 20;
  void* plain = std::malloc(opaque(size));
  void* aligned = std::aligned_alloc(opaque(std::size_t{4096}), opaque(size));
  globalloc_stats held{};
  globalloc_stats_get(&held);
  EXPECT_EQ(held.huge_blocks, before.huge_blocks + 2);
  free_sized(plain, size);
  free_aligned_sized(aligned, 4096, size);
  globalloc_stats after{};
  globalloc_stats_get(&after);
  EXPECT_EQ(after.huge_blocks, before.huge_blocks);
}

// ---- malloc_trim ----

namespace {
std::size_t resident_bytes() {
  long total = 0, resident = 0;
  if (FILE* statm = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(statm, "%ld %ld", &total, &resident) != 2) resident = 0;
    std::fclose(statm);
  }
  return static_cast<std::size_t>(resident) * page;
}
}  // namespace

// Two halves of 96 MiB of small blocks: one from a thread that then exits,
// one from this thread, with a block allocated after them that stays live
// (so that glibc cannot give the memory back at free by lowering its heap's
// top). This thread frees all the rest and calls malloc_trim(0), as a
// server does after a burst: at least 80 MiB go back to the OS then, not
// only after a purge delay (fast, hardened), and the system allocator's
// malloc_trim is glibc's own (which gives back the free pages inside its
// main heap), not a stub.
TEST(MallocTrim, GivesWhatFreedBlocksHeldBack) {
  const std::string name = globalloc_global_allocator_name();
  if (name != "fast" && name != "hardened" && name != "system") GTEST_SKIP() << name << " has no trim";
  constexpr std::size_t count = 96 * 1024;
  constexpr std::size_t size = 500;
  auto fill = [](std::vector<void*>& blocks) {
    for (void*& block : blocks) {
      block = std::malloc(opaque(size));
      if (block != nullptr) std::memset(block, 0x5A, size);
    }
  };
  std::vector<void*> exited_threads(count), this_threads(count);
  std::thread([&] { fill(exited_threads); }).join();
  fill(this_threads);
  void* fence = std::malloc(opaque(size));
  escape(fence);
  for (void* block : exited_threads) ASSERT_NE(block, nullptr);
  for (void* block : this_threads) ASSERT_NE(block, nullptr);
  const std::size_t held = resident_bytes();
  for (void* block : exited_threads) std::free(block);
  for (void* block : this_threads) std::free(block);
  const std::size_t before_trim = resident_bytes();
  const int answer = ::malloc_trim(0);
  const std::size_t after_trim = resident_bytes();
  std::free(fence);
  EXPECT_LT(after_trim + (80 << 20), held) << "held " << (held >> 20) << " MiB, " << (before_trim >> 20)
                                           << " MiB after the frees, " << (after_trim >> 20)
                                           << " MiB after malloc_trim(0)";
  // What went back during the call: then the answer says so. (A purge
  // thread may have given some back first, after its delay.)
  if (before_trim > after_trim + (16 << 20)) {
    EXPECT_EQ(answer, 1);
  }
  EXPECT_TRUE(answer == 0 || answer == 1);
}

// ---- calloc ----

TEST(Calloc, OverflowGivesNullAndEnomem) {
  const std::size_t pairs[][2] = {{SIZE_MAX, 2}, {SIZE_MAX / 2 + 1, 2}, {std::size_t{1} << 33, std::size_t{1} << 33},
                                  {2, SIZE_MAX}, {SIZE_MAX, SIZE_MAX}};
  for (const auto& pair : pairs) {
    errno = 0;
    void* block = std::calloc(opaque(pair[0]), opaque(pair[1]));
    escape(block);
    EXPECT_EQ(block, nullptr) << "calloc(" << pair[0] << ", " << pair[1] << ")";
    EXPECT_EQ(errno, ENOMEM) << "calloc(" << pair[0] << ", " << pair[1] << ")";
  }
  errno = 0;
  EXPECT_EQ(std::calloc(opaque(std::size_t{1}), opaque(SIZE_MAX - 4096)), nullptr);
  EXPECT_EQ(errno, ENOMEM);
}

TEST(Calloc, ZeroesFreshAndReusedMemory) {
  for (std::size_t size : {std::size_t{1}, std::size_t{24}, std::size_t{100}, std::size_t{4096}, std::size_t{50000},
                           std::size_t{300000}, std::size_t{3} << 20}) {
    std::vector<void*> dirty;
    for (int i = 0; i < 16; ++i) {
      void* block = std::malloc(opaque(size));
      escape(block);
      ASSERT_NE(block, nullptr);
      std::memset(block, 0xC3, ::malloc_usable_size(block));
      dirty.push_back(block);
    }
    for (void* block : dirty) std::free(block);
    for (int i = 0; i < 16; ++i) {
      void* block = std::calloc(opaque(size), opaque(std::size_t{1}));
      escape(block);
      ASSERT_NE(block, nullptr);
      EXPECT_EQ(first_nonzero(block, size), size) << "calloc(" << size << ", 1)";
      dirty[static_cast<std::size_t>(i)] = block;
    }
    for (void* block : dirty) std::free(block);
  }
  void* block = std::calloc(opaque(std::size_t{0}), opaque(std::size_t{8}));
  escape(block);
  EXPECT_NE(block, nullptr);
  std::free(block);
}

// ---- realloc, reallocarray ----

TEST(Realloc, KeepsContentsAcrossGrowthAndShrink) {
  std::size_t size = 5;
  void* block = std::malloc(opaque(size));
  escape(block);
  ASSERT_NE(block, nullptr);
  std::uint32_t seed = 1;
  fill_pattern(block, size, seed);
  for (std::size_t new_size : {std::size_t{64}, std::size_t{1000}, std::size_t{200000}, std::size_t{5} << 20,
                               std::size_t{333}, std::size_t{17}, std::size_t{1} << 21, std::size_t{2}}) {
    void* moved = std::realloc(block, opaque(new_size));
    escape(moved);
    ASSERT_NE(moved, nullptr) << "realloc to " << new_size;
    const std::size_t kept = size < new_size ? size : new_size;
    EXPECT_EQ(pattern_mismatch(moved, kept, seed), kept) << "realloc from " << size << " to " << new_size;
    EXPECT_TRUE(is_aligned(moved, new_size >= 16 ? 16 : 1));
    EXPECT_GE(::malloc_usable_size(moved), new_size);
    block = moved;
    size = new_size;
    fill_pattern(block, size, ++seed);
  }
  std::free(block);
}

TEST(Realloc, NullAllocates) {
  void* block = std::realloc(opaque_pointer(static_cast<void*>(nullptr)), opaque(std::size_t{100}));
  escape(block);
  ASSERT_NE(block, nullptr);
  EXPECT_GE(::malloc_usable_size(block), 100u);
  std::memset(block, 1, 100);
  std::free(block);
}

// The foundation's documented choice (entry_points.hpp): realloc(p, 0) gives
// a minimal block, so that null always means failure with p intact.
TEST(Realloc, ZeroSizeGivesAMinimalBlock) {
  void* block = std::malloc(opaque(std::size_t{100}));
  escape(block);
  ASSERT_NE(block, nullptr);
  void* moved = std::realloc(block, opaque(std::size_t{0}));
  escape(moved);
  EXPECT_NE(moved, nullptr);
  std::free(moved);
}

TEST(Realloc, ImpossibleSizeGivesNullEnomemAndKeepsTheBlock) {
  for (std::size_t old_size : {std::size_t{100}, std::size_t{1} << 20}) {
    void* block = std::malloc(opaque(old_size));
    escape(block);
    ASSERT_NE(block, nullptr);
    fill_pattern(block, old_size, 42);
    for (std::size_t size : {SIZE_MAX, SIZE_MAX / 2, SIZE_MAX - 4096}) {
      errno = 0;
      void* moved = std::realloc(block, opaque(size));
      escape(moved);
      ASSERT_EQ(moved, nullptr) << "realloc(p, " << size << ")";
      EXPECT_EQ(errno, ENOMEM);
      ASSERT_EQ(pattern_mismatch(block, old_size, 42), old_size) << "the failed realloc changed the block";
    }
    std::free(block);
  }
}

TEST(Reallocarray, OverflowGivesNullEnomemAndKeepsTheBlock) {
  void* block = ::reallocarray(opaque_pointer(static_cast<void*>(nullptr)), opaque(std::size_t{10}),
                               opaque(std::size_t{10}));
  escape(block);
  ASSERT_NE(block, nullptr);
  fill_pattern(block, 100, 3);
  errno = 0;
  void* moved = ::reallocarray(block, opaque(SIZE_MAX / 2 + 1), opaque(std::size_t{2}));
  escape(moved);
  EXPECT_EQ(moved, nullptr);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_EQ(pattern_mismatch(block, 100, 3), 100u);
  moved = ::reallocarray(block, opaque(std::size_t{300}), opaque(std::size_t{7}));
  escape(moved);
  ASSERT_NE(moved, nullptr);
  EXPECT_EQ(pattern_mismatch(moved, 100, 3), 100u);
  EXPECT_GE(::malloc_usable_size(moved), 2100u);
  std::free(moved);
}

// ---- aligned allocation ----

TEST(PosixMemalign, BadAlignmentGivesEinvalAndLeavesOutUntouched) {
  for (std::size_t align : {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{3}, sizeof(void*) / 2,
                            std::size_t{24}, std::size_t{48}, (SIZE_MAX >> 1) + 8}) {
    void* sentinel = reinterpret_cast<void*>(std::uintptr_t{0xDEADBEEF});
    void* out = sentinel;
    const int result = ::posix_memalign(&out, opaque(align), opaque(std::size_t{64}));
    EXPECT_EQ(result, EINVAL) << "posix_memalign(align " << align << ")";
    EXPECT_EQ(out, sentinel) << "posix_memalign(align " << align << ") wrote its out parameter";
  }
}

TEST(PosixMemalign, ImpossibleSizeGivesEnomemAndLeavesOutUntouched) {
  void* sentinel = reinterpret_cast<void*>(std::uintptr_t{0xDEADBEEF});
  void* out = sentinel;
  EXPECT_EQ(::posix_memalign(&out, opaque(std::size_t{64}), opaque(SIZE_MAX - 16)), ENOMEM);
  EXPECT_EQ(out, sentinel);
}

TEST(PosixMemalign, GoodAlignmentsAreHonoured) {
  for (std::size_t align = sizeof(void*); align <= (std::size_t{2} << 20); align <<= 1) {
    for (std::size_t size : {std::size_t{0}, std::size_t{1}, align - 1, align + 3}) {
      void* out = nullptr;
      ASSERT_EQ(::posix_memalign(&out, opaque(align), opaque(size)), 0) << align << ", " << size;
      escape(out);
      ASSERT_NE(out, nullptr);
      EXPECT_TRUE(is_aligned(out, align)) << "posix_memalign(" << align << ", " << size << ") = " << out;
      EXPECT_GE(::malloc_usable_size(out), size);
      std::memset(out, 0x11, size);
      std::free(out);
    }
  }
}

// Sizes that are exact multiples of the alignment, the common case of an
// over-aligned type or array.
TEST(PosixMemalign, SizesThatAreMultiplesOfTheAlignment) {
  for (std::size_t align = 16; align <= 8192; align <<= 1) {
    for (std::size_t size : {align, 2 * align, 4 * align}) {
      void* out = nullptr;
      ASSERT_EQ(::posix_memalign(&out, opaque(align), opaque(size)), 0);
      escape(out);
      EXPECT_TRUE(is_aligned(out, align)) << "posix_memalign(" << align << ", " << size << ") = " << out;
      std::free(out);
    }
  }
}

TEST(AlignedAlloc, InvalidAlignmentGivesNull) {
  for (std::size_t align : {std::size_t{0}, std::size_t{3}, std::size_t{24}, std::size_t{48}, (SIZE_MAX >> 1) + 3}) {
    errno = 0;
    void* block = ::aligned_alloc(opaque(align), opaque(std::size_t{96}));
    escape(block);
    EXPECT_EQ(block, nullptr) << "aligned_alloc(" << align << ", 96)";
    EXPECT_EQ(errno, EINVAL) << "aligned_alloc(" << align << ", 96)";
  }
}

TEST(AlignedAlloc, GoodAlignmentsAreHonoured) {
  for (std::size_t align = 1; align <= (std::size_t{1} << 16); align <<= 1) {
    void* block = ::aligned_alloc(opaque(align), opaque(align * 3));
    escape(block);
    ASSERT_NE(block, nullptr);
    EXPECT_TRUE(is_aligned(block, align)) << "aligned_alloc(" << align << ")";
    std::memset(block, 2, align * 3);
    std::free(block);
  }
  errno = 0;
  EXPECT_EQ(::aligned_alloc(opaque(std::size_t{64}), opaque(SIZE_MAX - 64)), nullptr);
  EXPECT_EQ(errno, ENOMEM);
}

TEST(Memalign, AlignmentIsHonouredAndRoundedUp) {
  for (std::size_t align = 1; align <= (std::size_t{1} << 20); align <<= 1) {
    void* block = ::memalign(opaque(align), opaque(std::size_t{100}));
    escape(block);
    ASSERT_NE(block, nullptr);
    EXPECT_TRUE(is_aligned(block, align)) << "memalign(" << align << ")";
    EXPECT_GE(::malloc_usable_size(block), 100u);
    std::free(block);
  }
  // An alignment that is not a power of two is rounded up, as glibc does.
  void* block = ::memalign(opaque(std::size_t{48}), opaque(std::size_t{10}));
  escape(block);
  ASSERT_NE(block, nullptr);
  EXPECT_TRUE(is_aligned(block, 64));
  std::free(block);
}

TEST(Valloc, IsPageAligned) {
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{5000}, std::size_t{1} << 20}) {
    void* block = ::valloc(opaque(size));
    escape(block);
    ASSERT_NE(block, nullptr);
    EXPECT_TRUE(is_aligned(block, page)) << "valloc(" << size << ") = " << block;
    EXPECT_GE(::malloc_usable_size(block), size);
    std::free(block);
  }
}

TEST(Pvalloc, IsPageAlignedAndRoundsTheSizeToPages) {
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{5000}, std::size_t{1} << 20}) {
    void* block = ::pvalloc(opaque(size));
    escape(block);
    ASSERT_NE(block, nullptr);
    EXPECT_TRUE(is_aligned(block, page)) << "pvalloc(" << size << ") = " << block;
    const std::size_t rounded = size == 0 ? page : (size + page - 1) / page * page;
    EXPECT_GE(::malloc_usable_size(block), rounded) << "pvalloc(" << size << ")";
    std::memset(block, 3, rounded);
    std::free(block);
  }
  errno = 0;
  EXPECT_EQ(::pvalloc(opaque(SIZE_MAX - 10)), nullptr);
  EXPECT_EQ(errno, ENOMEM);
}

// ---- operator new and delete ----

int new_handler_calls = 0;
void counting_new_handler() {
  if (++new_handler_calls == 3) std::set_new_handler(nullptr);
}
void throwing_new_handler() {
  ++new_handler_calls;
  throw std::bad_alloc();
}

TEST(OperatorNew, ImpossibleSizesThrowBadAlloc) {
  EXPECT_THROW(escape(::operator new(opaque(SIZE_MAX))), std::bad_alloc);
  EXPECT_THROW(escape(::operator new[](opaque(SIZE_MAX - 4096))), std::bad_alloc);
  EXPECT_THROW(escape(::operator new(opaque(SIZE_MAX / 2), std::align_val_t{64})), std::bad_alloc);
  EXPECT_THROW(escape(::operator new[](opaque(SIZE_MAX), std::align_val_t{4096})), std::bad_alloc);
}

TEST(OperatorNew, NothrowFormsGiveNull) {
  EXPECT_EQ(::operator new(opaque(SIZE_MAX), std::nothrow), nullptr);
  EXPECT_EQ(::operator new[](opaque(SIZE_MAX - 4096), std::nothrow), nullptr);
  EXPECT_EQ(::operator new(opaque(SIZE_MAX), std::align_val_t{256}, std::nothrow), nullptr);
  EXPECT_EQ(::operator new[](opaque(SIZE_MAX / 2), std::align_val_t{64}, std::nothrow), nullptr);
}

TEST(OperatorNew, TheNewHandlerLoopRunsUntilTheHandlerIsRemoved) {
  new_handler_calls = 0;
  std::set_new_handler(counting_new_handler);
  EXPECT_THROW(escape(::operator new(opaque(SIZE_MAX))), std::bad_alloc);
  EXPECT_EQ(new_handler_calls, 3);
  EXPECT_EQ(std::get_new_handler(), nullptr);

  new_handler_calls = 0;
  std::set_new_handler(counting_new_handler);
  EXPECT_THROW(escape(::operator new(opaque(SIZE_MAX), std::align_val_t{128})), std::bad_alloc);
  EXPECT_EQ(new_handler_calls, 3);

  new_handler_calls = 0;
  std::set_new_handler(counting_new_handler);
  EXPECT_EQ(::operator new(opaque(SIZE_MAX), std::nothrow), nullptr);
  EXPECT_EQ(new_handler_calls, 3);
  std::set_new_handler(nullptr);
}

TEST(OperatorNew, NothrowFormsReturnNullWhenTheHandlerThrows) {
  new_handler_calls = 0;
  std::set_new_handler(throwing_new_handler);
  EXPECT_EQ(::operator new(opaque(SIZE_MAX), std::nothrow), nullptr);
  EXPECT_EQ(::operator new[](opaque(SIZE_MAX), std::align_val_t{64}, std::nothrow), nullptr);
  EXPECT_EQ(new_handler_calls, 2);
  EXPECT_THROW(escape(::operator new(opaque(SIZE_MAX))), std::bad_alloc);
  EXPECT_EQ(new_handler_calls, 3);
  std::set_new_handler(nullptr);
}

void check_block(void* block, std::size_t size, std::size_t align, const char* form) {
  ASSERT_NE(block, nullptr) << form;
  EXPECT_TRUE(is_aligned(block, align)) << form << " size " << size << " align " << align << ": " << block;
  // The same allocator serves new and malloc, so it knows the block's size.
  EXPECT_GE(::malloc_usable_size(block), size) << form;
  fill_pattern(block, size, static_cast<std::uint32_t>(size));
  EXPECT_EQ(pattern_mismatch(block, size, static_cast<std::uint32_t>(size)), size) << form;
}

TEST(OperatorNew, EveryFormRoundTrips) {
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{24}, std::size_t{1000}, std::size_t{1} << 20}) {
    const std::size_t natural = size >= 16 ? 16 : 1;
    const std::size_t n = opaque(size);
    void* block = ::operator new(n);
    check_block(block, size, natural, "new");
    ::operator delete(block);
    block = ::operator new(n);
    check_block(block, size, natural, "new/sized delete");
    ::operator delete(block, n);
    block = ::operator new[](n);
    check_block(block, size, natural, "new[]");
    ::operator delete[](block);
    block = ::operator new[](n);
    check_block(block, size, natural, "new[]/sized delete[]");
    ::operator delete[](block, n);
    block = ::operator new(n, std::nothrow);
    check_block(block, size, natural, "nothrow new");
    ::operator delete(block, std::nothrow);
    block = ::operator new[](n, std::nothrow);
    check_block(block, size, natural, "nothrow new[]");
    ::operator delete[](block, std::nothrow);
  }
}

TEST(OperatorNew, AlignedFormsHonourTheAlignment) {
  for (std::size_t align = 64; align <= 4096; align <<= 1) {
    const std::align_val_t a{align};
    for (std::size_t size : {std::size_t{0}, std::size_t{8}, align - 1, align * 3 + 5}) {
      const std::size_t n = opaque(size);
      void* block = ::operator new(n, a);
      check_block(block, size, align, "aligned new");
      ::operator delete(block, a);
      block = ::operator new(n, a);
      check_block(block, size, align, "aligned new/sized aligned delete");
      ::operator delete(block, n, a);
      block = ::operator new[](n, a);
      check_block(block, size, align, "aligned new[]");
      ::operator delete[](block, a);
      block = ::operator new[](n, a);
      check_block(block, size, align, "aligned new[]/sized aligned delete[]");
      ::operator delete[](block, n, a);
      block = ::operator new(n, a, std::nothrow);
      check_block(block, size, align, "aligned nothrow new");
      ::operator delete(block, a, std::nothrow);
      block = ::operator new[](n, a, std::nothrow);
      check_block(block, size, align, "aligned nothrow new[]");
      ::operator delete[](block, a, std::nothrow);
    }
  }
}

TEST(OperatorNew, AlignedFormsWithSizesThatAreMultiplesOfTheAlignment) {
  for (std::size_t align = 32; align <= 8192; align <<= 1) {
    const std::align_val_t a{align};
    for (std::size_t size : {align, 2 * align, 4 * align}) {
      const std::size_t n = opaque(size);
      void* block = ::operator new(n, a);
      check_block(block, size, align, "aligned new");
      ::operator delete(block, n, a);
      block = ::operator new[](n, a, std::nothrow);
      check_block(block, size, align, "aligned nothrow new[]");
      ::operator delete[](block, a);
    }
  }
}

struct alignas(256) OverAligned {
  unsigned char bytes[300];
};

TEST(OperatorNew, NewExpressionsOfOverAlignedTypes) {
  std::vector<OverAligned*> objects;
  for (int i = 0; i < 20; ++i) {
    auto* object = new OverAligned;
    escape(object);
    EXPECT_TRUE(is_aligned(object, 256));
    std::memset(object->bytes, i, sizeof object->bytes);
    objects.push_back(object);
  }
  auto* array = new OverAligned[opaque(std::size_t{7})];
  escape(array);
  EXPECT_TRUE(is_aligned(array, 256));
  for (OverAligned* object : objects) delete object;
  delete[] array;
}

}  // namespace
