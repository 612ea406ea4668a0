// The C library's heap statistics functions (mallinfo2, mallinfo,
// malloc_stats, malloc_info) answered from the fast allocator's own figures,
// where the fast allocator is the global one (its registration and
// libgloballoc.so). Without these a program that reports its heap through
// them reads glibc's arenas, which nothing allocates from once malloc is
// replaced: zeros, or the few bytes the dynamic loader took before.
//
// The fields keep glibc's meaning as far as the two designs share one:
//   arena     bytes the allocator holds from the OS for blocks up to a
//             segment (committed, not purged), and freed huge mappings it
//             keeps for reuse
//   uordblks  usable bytes of the live small, medium and large blocks
//   fordblks  arena - uordblks: held but not handed out
//   hblks, hblkhd  the live huge blocks (each a mapping of its own) and
//             their bytes, which glibc also keeps out of uordblks
//   ordblks, smblks, usmblks, fsmblks, keepcost  0: no free chunks, fast
//             bins or top chunk exist here (glibc itself always gives 0 for
//             usmblks)
// Live small and medium blocks are counted per size class: other threads'
// counts may lag by what they did since their last slow path (stats.hpp).
#include <malloc.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>

#include "fast/stats.hpp"
#include "globalloc/globalloc.h"

namespace {

struct HeapFigures {
  std::uint64_t held;        ///< arena
  std::uint64_t live_bytes;  ///< uordblks
  std::uint64_t huge_blocks;
  std::uint64_t huge_bytes;
  std::uint64_t mapped;
};

HeapFigures heap_figures() noexcept {
  globalloc::fast::Statistics stats;
  globalloc::fast::get_statistics(&stats);
  HeapFigures figures{};
  figures.huge_blocks = stats.huge_blocks;
  figures.huge_bytes = stats.huge_bytes;
  figures.mapped = stats.bytes_mapped;
  // Committed bytes count live huge mappings too (count_huge_mapping).
  figures.held = stats.bytes_committed > stats.huge_bytes ? stats.bytes_committed - stats.huge_bytes : 0;
  figures.live_bytes = stats.large_bytes;
  for (unsigned size_class = 0; size_class < globalloc::fast::class_count; ++size_class) {
    figures.live_bytes += stats.class_live_blocks[size_class] * stats.class_block_size[size_class];
  }
  // Lagging counts of other threads may say more is live than is held.
  if (figures.live_bytes > figures.held) figures.held = figures.live_bytes;
  return figures;
}

/// mallinfo's int fields: a figure that does not fit reads as INT_MAX, not
/// as whatever its low bits make (which is what glibc's own gives).
int clamp_to_int(std::uint64_t value) noexcept { return value > INT_MAX ? INT_MAX : static_cast<int>(value); }

}  // namespace

extern "C" {

struct mallinfo2 mallinfo2(void) noexcept {
  const HeapFigures figures = heap_figures();
  struct mallinfo2 info {};
  info.arena = figures.held;
  info.hblks = figures.huge_blocks;
  info.hblkhd = figures.huge_bytes;
  info.uordblks = figures.live_bytes;
  info.fordblks = figures.held - figures.live_bytes;
  return info;
}

struct mallinfo mallinfo(void) noexcept {
  const struct mallinfo2 wide = mallinfo2();
  struct mallinfo info {};
  info.arena = clamp_to_int(wide.arena);
  info.hblks = clamp_to_int(wide.hblks);
  info.hblkhd = clamp_to_int(wide.hblkhd);
  info.uordblks = clamp_to_int(wide.uordblks);
  info.fordblks = clamp_to_int(wide.fordblks);
  return info;
}

/// glibc prints its arenas on stderr; this prints the fast allocator's table
/// (globalloc_stats_print) there instead.
void malloc_stats(void) noexcept { globalloc_stats_print(); }

/// glibc's XML document, with the totals this allocator has (no arenas and
/// no free-chunk histogram exist here): held but free bytes as "rest", huge
/// blocks as "mmap", so that current minus rest, plus mmap, is what is in
/// use, as with glibc's. As glibc: options must be 0.
int malloc_info(int options, FILE* stream) noexcept {
  if (options != 0 || stream == nullptr) return EINVAL;
  const HeapFigures figures = heap_figures();
  const auto value = [](std::uint64_t number) { return static_cast<unsigned long long>(number); };
  std::fprintf(stream,
               "<malloc version=\"1\">\n"
               "<total type=\"fast\" count=\"0\" size=\"0\"/>\n"
               "<total type=\"rest\" count=\"0\" size=\"%llu\"/>\n"
               "<total type=\"mmap\" count=\"%llu\" size=\"%llu\"/>\n"
               "<system type=\"current\" size=\"%llu\"/>\n"
               "<aspace type=\"total\" size=\"%llu\"/>\n"
               "</malloc>\n",
               value(figures.held - figures.live_bytes), value(figures.huge_blocks), value(figures.huge_bytes),
               value(figures.held), value(figures.mapped));
  return 0;
}

}  // extern "C"
