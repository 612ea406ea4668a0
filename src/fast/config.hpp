// Compile-time configuration of the fast allocator: one struct of constants
// per build (design.md section 6). The default build and a future hardened
// build (issue #5) are the same code instantiated with different structs;
// every check names its mitigation flag here and compiles away when it is off.
#pragma once

#include <cstddef>
#include <cstdint>

namespace globalloc::fast {

/// Misuse checks, each cheap enough to decide per build.
struct Mitigations {
  /// free() of an address outside every segment reports and aborts (costs a
  /// byte-map load the free path does anyway to find the segment).
  bool detect_invalid_free = true;
  /// free() of a block that is already free reports and aborts. The fast
  /// path compares the block with the head of its page's local list (an
  /// immediate double free) without reading the block: a load of a block the
  /// program has not touched lately is a cache miss that stalls, where the
  /// store of the link alone does not (measured: 35 ns against 14 ns per free
  /// of a cold block). The slow paths read the block's first word, and when
  /// it decodes to a link into the same segment (which live data cannot do
  /// without knowing the page's key) scan the page's lists. A double free
  /// with other frees in between on the fast path is caught by the
  /// allocation that meets the block on the free list a second time
  /// (page_pop, page_hand_out): handing a block out clears its link, so the second
  /// time it decodes outside the segment, and the program aborts before the
  /// block is handed out twice. The extra free also throws off the page's
  /// count of blocks in use: a page counted empty is checked for a block
  /// still in use before it is released (page_find_block_in_use), and the
  /// lists of frees from other threads are walked with bounds.
  bool detect_double_free = true;
  /// free() of an address inside a small block but not at its start reports
  /// and aborts on the local fast path too (six instructions there). Off by
  /// default: the slow free paths (remote frees, full pages, large blocks)
  /// always check, and the hardened build catches the rest.
  bool detect_interior_free = false;
};

/// The default build: speed first, cheap checks on.
struct DefaultConfig {
  /// Segments are 4 MiB and aligned to 4 MiB, so masking a block's address
  /// finds its segment header.
  static constexpr unsigned segment_shift = 22;
  /// A thread heap's segments are cut into 64 KiB slots. A small page is
  /// one slot and holds blocks up to small_block_max.
  static constexpr unsigned small_page_shift = 16;
  /// A medium page is a span of this many slots (512 KiB) of the same
  /// segments and holds blocks up to medium_block_max. Sharing the slots lets
  /// memory that small pages gave back serve medium pages and the other way
  /// round, without waiting for the purge delay (wl-realloc's buffers grow
  /// from small into medium classes).
  static constexpr unsigned medium_page_slots = 8;
  static constexpr std::size_t small_block_max = 8 * 1024;
  static constexpr std::size_t medium_block_max = 64 * 1024;
  /// Large blocks are runs of 64 KiB units of a shared large segment.
  static constexpr unsigned large_unit_shift = 16;
  /// Large segments are shared by the threads in a few shards, each behind
  /// its own lock (large blocks are rare next to small ones).
  static constexpr unsigned large_shard_count = 8;
  /// Sizes up to this are mapped to a page by a per-heap table indexed by
  /// (size + 7) / 8, the one-load fast path.
  static constexpr std::size_t direct_size_max = 1024;
  /// A page carves new blocks in steps of about this many bytes, so a page
  /// that is barely used keeps few resident bytes.
  static constexpr std::size_t page_extend_bytes = 4096;
  /// Blocks of which page_extend_bytes holds only one are carved this many
  /// at a time, up to page_extend_bytes_max: one 4 KiB block per step made a
  /// loop that allocates and frees such a block refill its page on every
  /// allocation (malloc+free of 4 KiB: 128 -> 102 instructions). Smaller
  /// blocks keep the plain step: a thread that uses many classes a little
  /// would touch more pages (thread-storm: +2.5% peak RSS with four blocks
  /// from 1 KiB up).
  static constexpr std::uint32_t page_extend_blocks_min = 4;
  static constexpr std::size_t page_extend_bytes_max = 16 * 1024;
  /// Starter heaps (starter_heaps.hpp), which serve the first allocations
  /// of threads without a heap (option starter_allocations): a thread takes
  /// the one of the CPU it runs on, modulo this count.
  static constexpr unsigned starter_heap_count = 8;
  /// Whole free segments kept mapped for reuse before unmapping.
  static constexpr unsigned segment_cache_capacity = 32;
  /// Freed huge mappings kept (until the purge delay) for the next huge
  /// block, in a cache per large shard: at most this many in each, and this
  /// many bytes split among the shards handed out so far, but at least
  /// huge_cache_shard_bytes_min each (a one-thread program's cache keeps 64
  /// MiB, two threads' 32 each, eight threads' 32 each). An empty cache
  /// takes one mapping of up to huge_cache_bytes_max, so all of them keep
  /// 8 x 64 MiB at the very most, for the purge delay.
  static constexpr unsigned huge_cache_capacity = 16;
  static constexpr std::size_t huge_cache_bytes_max = std::size_t{64} << 20;
  static constexpr std::size_t huge_cache_shard_bytes_min = std::size_t{32} << 20;
  /// A thread heap's free slots start the purge thread (which makes the
  /// process multi-threaded) only once this much memory is committed: a
  /// small program idles near its start anyway, and most command-line
  /// tools then never get the thread from this (the shared places still
  /// start it: the segment cache, exited threads' segments).
  static constexpr std::size_t purge_thread_start_committed = std::size_t{16} << 20;
#if defined(GLOBALLOC_FAST_UNCHECKED) && GLOBALLOC_FAST_UNCHECKED
  /// libgloballoc-unchecked.so only: every check off, the baseline against
  /// which the benchmark suite measures what the checks cost.
  static constexpr Mitigations mitigations{false, false, false};
#else
  static constexpr Mitigations mitigations{};
#endif
};

using Config = DefaultConfig;

inline constexpr std::size_t segment_size = std::size_t{1} << Config::segment_shift;
inline constexpr std::uintptr_t segment_offset_mask = segment_size - 1;
inline constexpr std::size_t small_page_size = std::size_t{1} << Config::small_page_shift;
inline constexpr std::size_t medium_page_size = small_page_size * Config::medium_page_slots;
/// The first small page of every segment holds the segment header (the page
/// descriptors); blocks start after it.
inline constexpr std::size_t segment_header_size = small_page_size;
inline constexpr unsigned small_pages_per_segment = segment_size / small_page_size;
/// Large blocks: runs of units of a large segment, up to what fits after the header.
inline constexpr std::size_t large_unit_size = std::size_t{1} << Config::large_unit_shift;
inline constexpr std::size_t large_block_max = segment_size - segment_header_size;
static_assert(segment_header_size == large_unit_size, "unit 0 of a large segment is its header");
/// Largest alignment a small or medium class can serve by its own layout.
inline constexpr std::size_t small_alignment_max = 16;

}  // namespace globalloc::fast
