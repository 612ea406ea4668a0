// Segment: a 4 MiB region aligned to 4 MiB, obtained from the OS and cut into
// 64 slots of 64 KiB, the first of which is the header. A thread heap's
// segment makes pages of its slots: a small page is one slot, a medium page a
// span of eight; a large segment's slots (units) are taken by large blocks in
// runs. Huge blocks get a segment header in front of their own mapping.
// Because segments are aligned to their size, masking a block's address gives
// its segment header, and the slot's descriptor is one shift away (then one
// step back to the first descriptor of a medium page).
//
// The segment map is a byte per 4 MiB of address space saying whether a
// segment header starts there and, if so, the shift from offset to page
// index. free() reads it before touching the header, so a pointer that never
// came from us is caught instead of dereferenced.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "fast/config.hpp"
#include "fast/page.hpp"
#include "fast/thread_shard.hpp"

namespace globalloc::fast {

/// Holes (holes.hpp) are tracked for a page's first this many blocks: every
/// block of the classes of 128 bytes and more, and of the medium classes.
inline constexpr unsigned page_hole_blocks_max = 512;

enum class SegmentKind : std::uint8_t { heap, large, huge };

struct Segment {
  SegmentKind kind;
  std::uint8_t page_shift;
  /// The last OS page of the header region is inaccessible (kept across
  /// reuse from the cache; a fresh mapping starts false).
  bool metadata_guarded;
  std::uint8_t shard;  ///< large segments: the shard whose lock guards its units
  std::uint32_t page_count;
  std::uint32_t used_pages;
  std::uint64_t free_pages;   ///< bit i: slot (large unit) i belongs to no page or block
  std::uint64_t dirty_pages;  ///< free slots whose memory may still be resident
  /// The dirty pages purge_deadline_ms is for: those dirty when it was set.
  /// Pages freed later wait for the next deadline, so a page is purged one
  /// to two delays after it fell free, never at once.
  std::uint64_t expiring_pages;
  std::uint64_t purge_deadline_ms;  ///< when the expiring pages are due to be purged
  /// Bit i: the page whose span starts at slot i has holes (holes.hpp).
  /// Written by whoever may change the page's lists: its owner, or the
  /// purge of an exited thread's segment, which holds it off every list
  /// (never the purge thread's return of a live heap's kept large span).
  /// On the header's first cache line, which free's slow path reads anyway
  /// (`kind`), as its double-free check reads this.
  std::uint64_t holed_pages;
  ThreadHeap* owner;                ///< heap that carves its pages; null when abandoned, cached or large
  Segment* next;                    ///< in the owner's list, a large shard, the abandoned list or the cache
  Segment* prev;
  std::size_t mapping_size;  ///< bytes mapped from the header on
  std::size_t touched_end;   ///< bytes from the header that may be resident and non-zero
  std::uint64_t abandoned_ms;  ///< when its thread finished, while it is in the abandoned list
  /// After the fields above (one cache line), so a large segment's header and
  /// its only page descriptor share the first OS page.
  Page pages[small_pages_per_segment];
  /// Per slot, for the page whose span starts there: bit b of word w set
  /// when block 64 * w + b is a hole. Meaningful only where holed_pages
  /// says so (a page set up clears its bit, not these words).
  std::uint64_t hole_bits[small_pages_per_segment][page_hole_blocks_max / 64];
};

static_assert(sizeof(Segment) <= segment_header_size - 16384, "room for a metadata guard page of up to 16 KiB");

inline constexpr std::size_t segment_map_entries = std::size_t{1} << (48 - Config::segment_shift);

/// Page shift per 4 MiB of address space; 0 where no segment header starts.
/// Plain bytes, zero before any code runs, read and written as atomics
/// through segment_map_load and segment_map_store. Not an array of
/// std::atomic: 2^26 constexpr constructor calls are past what clang
/// evaluates at compile time, so it zeroed the map in a static constructor
/// instead (at -O0 and -O2, not -O3), touching 64 MiB and forgetting the
/// segments of every allocation made before that constructor ran.
[[gnu::visibility("hidden")]] extern std::uint8_t segment_map[segment_map_entries];

[[gnu::always_inline]] inline unsigned segment_map_load(std::size_t index, std::memory_order order) noexcept {
  return std::atomic_ref<std::uint8_t>(segment_map[index]).load(order);
}
inline void segment_map_store(std::size_t index, std::uint8_t shift, std::memory_order order) noexcept {
  std::atomic_ref<std::uint8_t>(segment_map[index]).store(shift, order);
}

[[gnu::always_inline]] inline std::size_t segment_map_index(std::uintptr_t address) noexcept {
  return (address >> Config::segment_shift) & (segment_map_entries - 1);
}

[[gnu::always_inline]] inline Segment* segment_of(const void* address) noexcept {
  return reinterpret_cast<Segment*>(reinterpret_cast<std::uintptr_t>(address) & ~segment_offset_mask);
}

/// The segment whose header starts in the region of `address`, or null.
inline Segment* segment_lookup(const void* address) noexcept {
  auto value = reinterpret_cast<std::uintptr_t>(address);
  if (segment_map_load(segment_map_index(value), std::memory_order_relaxed) == 0) return nullptr;
  return segment_of(address);
}

/// Page descriptor of an address inside a registered segment: the first
/// descriptor of the page's span.
inline Page* segment_page_of(Segment* segment, const void* address) noexcept {
  auto offset = reinterpret_cast<std::uintptr_t>(address) & segment_offset_mask;
  Page* slot = &segment->pages[offset >> segment->page_shift];
  return slot - slot->span_offset;
}

/// Clears a segment header's purge state and links, which may hold a previous
/// use's values (a segment from the cache, a huge mapping reused).
inline void segment_reset_state(Segment* segment) noexcept {
  segment->dirty_pages = 0;
  segment->expiring_pages = 0;
  segment->purge_deadline_ms = 0;
  segment->holed_pages = 0;
  segment->owner = nullptr;
  segment->next = nullptr;
  segment->prev = nullptr;
}

/// Doubly linked lists of segments through next/prev (a heap's segments of
/// one kind, a large shard's segments).
inline void segment_list_push_front(Segment*& head, Segment* segment) noexcept {
  segment->prev = nullptr;
  segment->next = head;
  if (head != nullptr) head->prev = segment;
  head = segment;
}

inline void segment_list_remove(Segment*& head, Segment* segment) noexcept {
  if (segment->prev != nullptr) {
    segment->prev->next = segment->next;
  } else {
    head = segment->next;
  }
  if (segment->next != nullptr) segment->next->prev = segment->prev;
  segment->next = nullptr;
  segment->prev = nullptr;
}

/// A segment of `kind` (heap or large) from the cache or the OS, its
/// pages all free and registered in the segment map. Null when out of memory.
/// `want_touched`: bytes from the header the caller will use at once; the
/// cache prefers the first segment whose resident part already covers them
/// (no page faults), else the most resident one (with 0: the most resident).
Segment* segment_acquire(SegmentKind kind, std::size_t want_touched = 0) noexcept;

/// The large shard of the calling thread (thread_shard.hpp): which large
/// segments (large.cpp) and which cache of freed huge mappings it uses.
inline unsigned large_shard_of_this_thread() noexcept { return this_thread_shard() % Config::large_shard_count; }

/// Huge mappings whose block was freed are kept (bounded, purged after the
/// delay) so that the next huge block reuses their resident pages instead of
/// mapping and faulting fresh ones; each large shard's threads have a cache
/// of their own, with a share of the bound (Config). take: the
/// smallest mapping of at least `total` bytes of the calling thread's cache,
/// else of another's, else the largest mapping of the first cache that has
/// one (the caller grows it); null when all are empty. A cached mapping
/// stays registered in the segment map (its block's page not in use).
Segment* huge_cache_take(std::size_t total) noexcept;
/// Caches a huge segment (registered still); false when the cache is full.
bool huge_cache_put(Segment* segment) noexcept;

/// Caches or unmaps a segment whose blocks are all free, unregistering it
/// unless it is a cached huge mapping.
void segment_release(Segment* segment) noexcept;

/// From now on every segment gets an inaccessible OS page between its
/// header (the page descriptors) and the first block, so that an overflow
/// backwards out of user data faults instead of rewriting the metadata. The
/// hardened allocator turns it on; it costs one mprotect per new mapping.
void segment_set_metadata_guards(bool on) noexcept;

/// Puts the metadata guard in place when guards are on and it is not there yet.
void segment_guard_metadata(Segment* segment) noexcept;

/// Registers a huge segment at `segment` (mapping_size already set).
void segment_register(Segment* segment) noexcept;
void segment_unregister(Segment* segment) noexcept;

/// Where a page of `slots` slots would go in a heap segment: at the position
/// with the fewest slots to fault in (the most resident ones), and among
/// those in the shortest run of free slots it fits (best fit keeps long runs
/// whole for medium pages), the first such. `first` is 64 when no run is
/// long enough; `clean` counts the slots that would be faulted in.
struct SpanChoice {
  unsigned first = 64;
  unsigned clean = 0;
};
SpanChoice segment_choose_span(const Segment* segment, unsigned slots) noexcept;

/// Takes the span chosen above (slots first .. first + slots - 1) as a page.
Page* segment_take_span(Segment* segment, unsigned first, unsigned slots) noexcept;

/// Which free slots a span may grow over: any, or only those whose memory
/// is still resident (no page faults to come).
enum class GrowOver { free_slots, resident_slots };

/// Grows a page's span to `slots` slots over the free slots after it; false
/// (and nothing changed) when they are not all free (or, with
/// resident_slots, not all resident).
bool segment_grow_span(Segment* segment, Page* page, unsigned slots,
                       GrowOver over = GrowOver::free_slots) noexcept;

/// Shrinks a page's span to its first `slots` slots (at least one); the
/// others fall free, dirty (their memory is still resident until purged).
void segment_shrink_span(Segment* segment, Page* page, unsigned slots) noexcept;

/// A page of `slots` free slots of a heap segment (1 for a small page,
/// medium_page_slots for a medium one), marked used, preferring slots whose
/// memory is still resident; null when no run of free slots is that long.
/// `choice`, when given, receives where it went and how many slots were clean.
Page* segment_take_page(Segment* segment, unsigned slots, SpanChoice* choice = nullptr) noexcept;

/// Start and length of a page's usable memory.
char* segment_page_area(Segment* segment, const Page* page, std::size_t* bytes) noexcept;

/// Marks a page of a heap segment free again (its memory is purged later, or
/// now when the purge delay is 0).
void segment_return_page(Segment* segment, Page* page) noexcept;

/// Marks free pages (or large units) dirty and starts their purge delay.
void segment_mark_dirty(Segment* segment, std::uint64_t pages) noexcept;

/// Discards the memory of the segment's dirty free pages when their deadline
/// passed (or always, with force). Returns bytes discarded.
std::size_t segment_purge_pages(Segment* segment, std::uint64_t now_ms, bool force) noexcept;

/// Purges cached segments whose delay expired; unmaps them all with force.
/// True when cached memory still waits for its deadline.
bool segment_cache_purge(std::uint64_t now_ms, bool force) noexcept;

/// Whether `address` lies in no registered segment but past the header of a
/// segment or huge mapping that the caches hold, or of one of the last 64
/// unmapped: memory of freed blocks, so a pointer into it is stale (freed
/// already) rather than foreign. For the misuse reports: false when the
/// cache lock is taken (a report must not wait, and its caller may hold it).
bool segment_memory_was_freed(const void* address) noexcept;

/// Fork support: the segment cache's and the huge caches' locks, taken and
/// released around fork().
void segment_cache_lock() noexcept;
void segment_cache_unlock() noexcept;
void segment_cache_reset_lock() noexcept;

}  // namespace globalloc::fast
