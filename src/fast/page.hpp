// Page: a run of memory carved into blocks of one size class, with the three
// free lists of free-list sharding (mimalloc): `free` to allocate from,
// `local_free` that the owning thread frees into, and the atomic `remote`
// list that other threads push onto with one CAS. The lists are swapped in
// only when `free` runs dry, so the fast paths touch one list each.
//
// Links are stored XOR-ed with a per-page key and with the address of the
// block that holds them: a free block's first word XOR-ed with the key is
// then below the segment size (its link leads into the block's own segment),
// which is what the double-free check looks for, one masked test, and live
// user data almost never is. Lists
// end at a sentinel, the page descriptor's own address, which also lies in the
// segment (null would decode to an address outside it and hide the double
// free of the last block).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "fast/config.hpp"
#include "fast/misuse.hpp"

namespace globalloc::fast {

struct ThreadHeap;

/// A free block: its first word holds the encoded link to the next one.
struct Block {
  std::uintptr_t encoded_next;
};

/// Set in Page::remote while the page sits in its heap's full queue: the
/// first remote free must then tell the owning heap (remote_free.cpp).
inline constexpr std::uintptr_t remote_notify_bit = 1;

/// Page::owner_tag is the owning heap's address, or-ed with these bits; the
/// free fast path compares it with the caller's heap, so any bit sends the
/// free to the slow path.
inline constexpr std::uintptr_t owner_tag_full = 1;     ///< the page is in the full queue
inline constexpr std::uintptr_t owner_tag_sampled = 2;  ///< the page holds recorded blocks

/// Set in every page's key (heap.cpp: page_key), the empty page's included.
inline constexpr std::uintptr_t page_key_bit = std::uintptr_t{1} << 63;

/// Page::size_class of a page of a heap segment that holds one large block
/// (heap.cpp: heap_allocate_large); such a page is in no class queue.
inline constexpr std::uint8_t large_page_class = 255;

struct alignas(128) Page {
  // Hot fields: the allocation and free fast paths read only this cache line.
  void* free = nullptr;                              ///< ends at sentinel()
  std::uintptr_t key = 0;                      ///< XOR key of every link in this page
  std::uint32_t used = 0;                      ///< blocks out of free/local_free, +1 while current
  /// Blocks carved so far. Atomic because a remote free validates the block
  /// against it (free_slow) while the owner carves more (page_extend): only
  /// the owner writes it, and it only grows while the page is in use.
  std::atomic<std::uint32_t> capacity{0};
  void* local_free = nullptr;                        ///< ends at sentinel()
  std::atomic<std::uintptr_t> owner_tag{0};   ///< owning heap when in its queue; heap|1 when full; 0 otherwise
  std::atomic<std::uintptr_t> remote{0};      ///< null-terminated list of remote frees | remote_notify_bit
  char* area = nullptr;                              ///< first block
  /// Blocks handed out by the fast path since the page was set up (wraps):
  /// the statistics' requests and the sampler's byte count, published on
  /// slow paths (heap.cpp), which is why it sits on the hot line.
  std::uint32_t allocated = 0;
  /// Recorded (sampled) blocks of a heap profiler in this page. While
  /// non-zero, owner_tag carries owner_tag_sampled so that local frees take
  /// the slow path and report them. Only the owner increments it.
  std::atomic<std::uint32_t> sampled_blocks{0};

  // Cold fields.
  std::uint64_t divisor_magic = 0;             ///< ceil(2^64 / block_size): interior pointer test
  std::uint32_t published_allocated = 0;  ///< `allocated` at the last publication to the statistics
  std::uint32_t published_used = 0;       ///< blocks live (pin excluded) at the last publication
  Page* next = nullptr;///< in the heap's class queue or full queue
  Page* prev = nullptr;
  std::atomic<ThreadHeap*> owner{nullptr};///< owning heap; null when abandoned, free, large or huge
  std::size_t block_size = 0;        ///< bytes per block (usable bytes of a large or huge block)
  std::uint16_t reserved = 0;        ///< blocks that fit in the page (units of a large run)
  /// In a heap segment: the slots of the page's span (1 or medium_page_slots)
  /// on its first descriptor, and on the others their distance back to it.
  std::uint8_t span_slots = 0;
  std::uint8_t span_offset = 0;
  /// `allocated` and `used` when the block purge last looked (purge.cpp): a
  /// page whose counts held still for a purge interval has quiet free blocks.
  std::uint32_t quiet_allocated = 0;
  std::uint32_t quiet_used = 0;
  std::uint8_t size_class = 0;
  bool in_use = false; ///< handed to a size class (or holding a large/huge block)
  bool in_full = false;///< in the heap's full queue
  /// Purge checks in a row that found the page's counts unchanged; at
  /// quiet_checks_purged once its free memory went back (purge.cpp).
  std::uint8_t quiet_checks = 0;

  // void* rather than Block* so the constant empty page can point at itself
  // in a constant expression (no reinterpret_cast allowed there).
  void* sentinel() noexcept { return this; }
  const void* sentinel() const noexcept { return this; }
  /// The link `holder` (a free block of this page) stores.
  Block* decode(const Block* holder) const noexcept {
    return reinterpret_cast<Block*>(holder->encoded_next ^ key ^ reinterpret_cast<std::uintptr_t>(holder));
  }
  /// What `holder` stores to link to `link`.
  std::uintptr_t encode(const void* link, const void* holder) const noexcept {
    return (reinterpret_cast<std::uintptr_t>(link) ^ reinterpret_cast<std::uintptr_t>(holder)) ^ key;
  }
  /// Whether a block's first word XOR-ed with the key (`relative`: its link
  /// relative to the block) reads as a link of this page's lists, one that
  /// leads into the block's own segment: what a free block holds, and live
  /// data almost never does (the double-free checks).
  static constexpr bool is_relative_link(std::uintptr_t relative) noexcept {
    return (relative & ~segment_offset_mask) == 0;
  }
};

static_assert(sizeof(Page) == 128, "page descriptors are indexed by shifting");
static_assert(offsetof(Page, free) == 0, "the sentinel's first word is `free`, a pointer (page_pop)");
static_assert(offsetof(Page, sampled_blocks) < 64, "hot fields share one cache line");

/// Unlinks `block`, the head of the page's free list, whose link relative
/// to the block (`relative`) was checked: clears the link (with the check
/// on), so that a block on the list twice is caught the second time it
/// comes up, and counts the block out (`used`, and `allocated` for the
/// statistics and the sampler).
[[gnu::always_inline]] inline void page_unlink_head(Page* page, Block* block, std::uintptr_t relative) noexcept {
  if constexpr (Config::mitigations.detect_double_free) block->encoded_next = 0;
  Block* next = reinterpret_cast<Block*>(relative ^ reinterpret_cast<std::uintptr_t>(block));
  // The next block's line, for the next allocation of this class: a list
  // collected from frees long ago is cold, and the load of its link is the
  // stall of the allocation (wl-churn: 542 -> 531 ms; the sentinel is the
  // descriptor, already in cache).
  __builtin_prefetch(next);
  page->free = next;
  ++page->used;
  ++page->allocated;
}

/// Hands out the head of the page's free list, which must not be empty: the
/// quick refill and the slow path end here. A free block's link leads into
/// its own segment (to a block or the sentinel); one that does not means the
/// block was written after it was freed, or freed twice and handed out once
/// since. A masked test of the link XOR-ed with the key (the link relative
/// to the block) and a store to a cache line the load of the link brought in.
[[gnu::always_inline]] inline Block* page_hand_out(Page* page) noexcept {
  auto* block = static_cast<Block*>(page->free);
  const std::uintptr_t relative = block->encoded_next ^ page->key;
  if constexpr (Config::mitigations.detect_double_free) {
    if (!Page::is_relative_link(relative)) [[unlikely]] report_corrupted_free_block(block);
  }
  page_unlink_head(page, block, relative);
  return block;
}

/// Prepares a page for blocks of `size_class` in [area, area + bytes).
void page_init(Page* page, char* area, std::size_t bytes, unsigned size_class, std::uintptr_t key) noexcept;

/// How many blocks of `block_size` one carving step takes (page_extend, and
/// page_collect_holes for holes): page_extend_bytes' worth, or for blocks of
/// which that holds only one, page_extend_blocks_min up to
/// page_extend_bytes_max (Config).
constexpr std::uint32_t page_extend_blocks(std::size_t block_size) noexcept {
  const auto count = static_cast<std::uint32_t>(Config::page_extend_bytes / block_size);
  if (count > 1) return count;
  const auto most = static_cast<std::uint32_t>(Config::page_extend_bytes_max / block_size);
  if (most == 0) return 1;
  return most < Config::page_extend_blocks_min ? most : Config::page_extend_blocks_min;
}
static_assert(page_extend_blocks(16) == 256 && page_extend_blocks(2048) == 2 && page_extend_blocks(4096) == 4 &&
              page_extend_blocks(8192) == 2 && page_extend_blocks(65536) == 1);

/// Carves the next batch of never-used blocks onto the empty `free` list.
/// Returns false when the page has no uncarved room left.
bool page_extend(Page* page) noexcept;

/// Moves every block of the remote list onto `free`; returns how many. With
/// clear_notify the notify bit is cleared in the same step.
std::uint32_t page_collect_remote(Page* page, bool clear_notify = false) noexcept;

/// Moves `local_free` onto `free` (which must be empty).
inline void page_collect_local(Page* page) noexcept {
  page->free = page->local_free;
  page->local_free = page->sentinel();
}

/// True when `address` is the start of one of the page's carved blocks.
[[gnu::always_inline]] inline bool page_is_block_start(const Page* page, std::uintptr_t address) noexcept {
  // Lemire's divisibility test: n % d == 0 exactly when n * ceil(2^64/d) < ceil(2^64/d), for n < 2^32.
  const std::uint64_t offset = static_cast<std::uint32_t>(address - reinterpret_cast<std::uintptr_t>(page->area));
  return offset * page->divisor_magic < page->divisor_magic;
}

/// True when `address` is the start of a block the page has carved (one it
/// may have handed out): what free, realloc and owns() accept.
inline bool page_has_carved_block_at(const Page* page, std::uintptr_t address) noexcept {
  const auto area = reinterpret_cast<std::uintptr_t>(page->area);
  return address >= area && page_is_block_start(page, address) &&
         (address - area) / page->block_size < page->capacity.load(std::memory_order_relaxed);
}

/// True when the block lies on one of the page's owner-side free lists
/// (free or local_free); walks at most `capacity` links of each.
bool page_has_free_block(const Page* page, const void* block) noexcept;

/// True when a carved block of a page the caller owns is free: its first
/// word reads as a link (what a free block holds, as page_pop and
/// page_hand_out test it; live data almost never does), confirmed by the
/// scan of the page's lists; or a hole (holes.hpp). The misuse checks of
/// free's and realloc's slow paths.
bool page_block_is_free(const Page* page, const void* block) noexcept;

/// For a page whose count says no block is in use: the first carved block
/// whose first word does not read as a free-list link (handing a block out
/// clears that word, and data reads as a link only by a 2^-42 chance, a
/// pointer never), or null when every carved block does (holes, whose
/// memory went back, are skipped). Such a block is in use, so the count
/// went wrong by a double free that no list operation saw (one with other
/// frees in between). Reads the blocks in address order, one word each,
/// which the hardware prefetches, instead of following the lists.
const Block* page_find_block_in_use(const Page* page) noexcept;

/// The fast paths' pop: the head of the page's free list, handed out as by
/// page_hand_out, or null when the list is empty. With the double-free
/// check on, one test covers both the empty list and a bad link: the
/// sentinel's first word is `free` itself, a pointer, which never decodes to
/// a link (page_key_bit), so the test of the link that the check needs
/// anyway replaces the test for the sentinel. A null result then may also
/// mean a bad link at the head; page_check_head tells them apart.
[[gnu::always_inline]] inline Block* page_pop(Page* page) noexcept {
  if constexpr (Config::mitigations.detect_double_free) {
    auto* block = static_cast<Block*>(page->free);
    const std::uintptr_t relative = block->encoded_next ^ page->key;
    if (!Page::is_relative_link(relative)) [[unlikely]] return nullptr;
    page_unlink_head(page, block, relative);
    return block;
  } else {
    if (page->free == page->sentinel()) [[unlikely]] return nullptr;
    return page_hand_out(page);
  }
}

/// After page_pop returned null: reports the bad link when the list was not
/// simply empty, before a refill replaces the list.
[[gnu::always_inline]] inline void page_check_head(const Page* page) noexcept {
  if constexpr (Config::mitigations.detect_double_free) {
    if (page->free != page->sentinel()) [[unlikely]] report_corrupted_free_block(page->free);
  }
}

}  // namespace globalloc::fast
