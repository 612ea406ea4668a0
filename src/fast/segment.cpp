// Segments: formatting, the segment map, taking and returning pages, purging
// free pages after the delay, and the small cache of whole free segments that
// spares mmap/munmap calls when a program's footprint goes up and down.
#include "fast/segment.hpp"

#include <cstring>

#include "fast/bits.hpp"
#include "fast/lock.hpp"
#include "fast/options.hpp"
#include "fast/purge_thread.hpp"
#include "fast/recent_ranges.hpp"
#include "fast/stats.hpp"
#include "fast/thread_shard.hpp"
#include "platform/clock.hpp"
#include "platform/memory_protection.hpp"
#include "platform/os_memory.hpp"

namespace globalloc::fast {

std::uint8_t segment_map[segment_map_entries];

namespace {

Lock cache_lock;
Segment* cache_head = nullptr;  // most recently cached first
unsigned cache_count = 0;

// Freed huge mappings, one cache per large shard: threads that allocate and
// free huge blocks at once took one lock and two cache lines in turn, and on
// 16 cores a thread's malloc+free of 8 MiB went from 170 ns alone to 15 us
// with 16 threads (block-pairs). Each cache has a byte bound of its own,
// what one shared cache had split among the shards handed out so far (a
// count that only grows: exited threads' shards too) but not below
// Config::huge_cache_shard_bytes_min: with the whole bound for each, two
// threads of wl-large each kept their own and its peak RSS rose from 90 to
// 107 MB; with one atomic total for all, 16 threads took 2.5 us a turn.
struct alignas(64) HugeCache {
  Lock lock;
  /// Written under the lock; read without it to pass over an empty cache.
  std::atomic<unsigned> count{0};
  std::size_t bytes = 0;
  Segment* entries[Config::huge_cache_capacity] = {};
};
constinit HugeCache huge_caches[Config::large_shard_count];

/// The bytes `cache` may keep: an empty cache takes a mapping of up to the
/// whole bound (with only its share, a loop of 32 MiB blocks, 32 MiB and the
/// header, in a program of two threads mapped and faulted in each one: 16
/// cores, 109 us a turn against 0.2); else its share.
std::size_t huge_cache_bytes_bound(const HugeCache& cache) noexcept {
  if (cache.count.load(std::memory_order_relaxed) == 0) return Config::huge_cache_bytes_max;
  unsigned in_use = next_thread_shard.load(std::memory_order_relaxed);
  if (in_use == 0) in_use = 1;
  if (in_use > Config::large_shard_count) in_use = Config::large_shard_count;
  const std::size_t share = Config::huge_cache_bytes_max / in_use;
  return share > Config::huge_cache_shard_bytes_min ? share : Config::huge_cache_shard_bytes_min;
}

/// The last regions unmapped after their blocks were freed (past the
/// header), for the misuse reports (segment_memory_was_freed); under
/// cache_lock.
constinit RecentRanges<64> unmapped_ranges;

unsigned shift_for(SegmentKind kind) noexcept {
  switch (kind) {
    case SegmentKind::heap: return Config::small_page_shift;
    case SegmentKind::large: return Config::large_unit_shift;
    default: return Config::segment_shift;
  }
}

void format(Segment* segment, SegmentKind kind, bool fresh) noexcept {
  segment->kind = kind;
  segment->page_shift = static_cast<std::uint8_t>(shift_for(kind));
  segment->page_count = static_cast<std::uint32_t>(segment_size >> segment->page_shift);
  // Page descriptors hold atomics; clearing them as bytes is fine because no
  // other thread can see a segment that is being formatted. A fresh mapping
  // reads as zeros already: clearing it would fault in the OS pages of
  // descriptors the segment may never use (8 KiB of them span three).
  if (!fresh) std::memset(static_cast<void*>(segment->pages), 0, sizeof(Page) * segment->page_count);
  segment->used_pages = 0;
  std::uint64_t all = segment->page_count == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << segment->page_count) - 1;
  // Slot 0 is the header itself.
  all &= ~std::uint64_t{1};
  segment->free_pages = all;
  segment_reset_state(segment);
}

/// Discards [from, to) of the segment, of which `committed` bytes (its
/// dirty pages) were counted committed: the rest was purged before, or
/// never touched, and leaves the counts as they are.
void discard_range(Segment* segment, std::size_t from, std::size_t to, std::size_t committed) noexcept {
  if (to <= from) return;
  platform::discard(reinterpret_cast<char*>(segment) + from, to - from);
  count(&Counters::bytes_purged_total, static_cast<std::int64_t>(committed));
  count(&Counters::bytes_committed, -static_cast<std::int64_t>(committed));
  count(&Counters::purge_operations_total, 1);
}

/// The bytes of a segment's dirty free pages: what it holds committed
/// besides its header and the pages in use. While the segment is cached its
/// dirty mask is kept for this (touched_end only bounds where they lie).
std::size_t dirty_bytes(const Segment* segment) noexcept {
  return std::size_t{count_ones(segment->dirty_pages & segment->free_pages)}
         << segment->page_shift;
}

std::atomic<bool> metadata_guards{false};

}  // namespace

void segment_set_metadata_guards(bool on) noexcept { metadata_guards.store(on, std::memory_order_relaxed); }

void segment_guard_metadata(Segment* segment) noexcept {
  if (!metadata_guards.load(std::memory_order_relaxed) || segment->metadata_guarded) return;
  const std::size_t os_page = platform::page_size();
  segment->metadata_guarded =
      platform::protect_no_access(reinterpret_cast<char*>(segment) + segment_header_size - os_page, os_page);
}

void segment_register(Segment* segment) noexcept {
  const std::size_t index = segment_map_index(reinterpret_cast<std::uintptr_t>(segment));
  // A cached huge mapping is registered still: no store, which would take
  // the map's cache line from the other cores that read it (and one line
  // covers 256 MiB of address space, other threads' blocks included).
  if (segment_map_load(index, std::memory_order_relaxed) == segment->page_shift) return;
  segment_map_store(index, segment->page_shift, std::memory_order_release);
}

void segment_unregister(Segment* segment) noexcept {
  segment_map_store(segment_map_index(reinterpret_cast<std::uintptr_t>(segment)), 0, std::memory_order_release);
}

Segment* segment_acquire(SegmentKind kind, std::size_t want_touched) noexcept {
  Segment* segment = nullptr;
  {
    LockGuard guard(cache_lock);
    if (cache_head != nullptr) {
      Segment** pick = &cache_head;
      const std::size_t enough = want_touched > segment_header_size ? want_touched : segment_size;
      if (cache_head->touched_end < enough) {
        // The segment that saves the most page faults.
        for (Segment** link = &cache_head->next; *link != nullptr; link = &(*link)->next) {
          if ((*link)->touched_end > (*pick)->touched_end) pick = link;
          if ((*pick)->touched_end >= enough) break;
        }
      }
      segment = *pick;
      *pick = segment->next;
      --cache_count;
    }
  }
  // huge_pages=2: the kernel backs whole 2 MiB ranges of the segment, which
  // saves TLB misses where a program touches many scattered blocks
  // (wl-aligned: 9% faster) and costs resident memory (its peak 9.5 -> 15 MB,
  // a small program's 3 -> 9 MB), hence not the default. Advised before the
  // header is first written: a range that already holds a small page is not
  // given a huge one. A cached segment keeps the advice it was mapped with.
  const bool huge = kind == SegmentKind::heap && huge_pages_for_small_blocks();
  const bool fresh = segment == nullptr;
  if (!fresh) {
    count(&Counters::segments_cached, -1);
  } else {
    segment = static_cast<Segment*>(platform::reserve_aligned(segment_size, segment_size));
    if (segment == nullptr) return nullptr;
    if (huge) platform::advise_huge_pages(segment, segment_size);
    segment->mapping_size = segment_size;
    segment->touched_end = segment_header_size;
    count(&Counters::bytes_mapped, segment_size);
    count(&Counters::bytes_committed, segment_header_size);
  }
  // A cached segment's dirty mask: the pages an earlier use left resident
  // (and counted committed). Units and slots have the same size, so it
  // holds whichever kind the segment is formatted as.
  static_assert(Config::small_page_shift == Config::large_unit_shift);
  const std::uint64_t left_dirty = segment->touched_end > segment_header_size ? segment->dirty_pages : 0;
  format(segment, kind, fresh);
  segment_guard_metadata(segment);
  // They are free and dirty: reused first, purged if they stay free.
  if (left_dirty != 0) segment_mark_dirty(segment, segment->free_pages & left_dirty);
  count(&Counters::segments_in_use, 1);
  segment_register(segment);
  return segment;
}

namespace {
/// The smallest mapping of `cache` of at least `total` bytes, else (unless
/// `must_fit`) its largest; null when there is none (its lock held).
Segment* huge_cache_take_locked(HugeCache& cache, std::size_t total, bool must_fit) noexcept {
  const unsigned count = cache.count.load(std::memory_order_relaxed);
  if (count == 0) return nullptr;
  unsigned best = count;
  unsigned largest = 0;
  for (unsigned index = 0; index < count; ++index) {
    const std::size_t size = cache.entries[index]->mapping_size;
    if (size > cache.entries[largest]->mapping_size) largest = index;
    if (size >= total && (best == count || size < cache.entries[best]->mapping_size)) best = index;
  }
  if (best == count) {
    if (must_fit) return nullptr;
    best = largest;
  }
  Segment* segment = cache.entries[best];
  cache.entries[best] = cache.entries[count - 1];
  cache.count.store(count - 1, std::memory_order_relaxed);
  cache.bytes -= segment->mapping_size;
  return segment;
}
}  // namespace

Segment* huge_cache_take(std::size_t total) noexcept {
  // A mapping that fits, from this thread's cache, else from another's (a
  // thread may free what another allocates); only then one to grow. Each
  // cache is looked at in that order, starting with this thread's.
  const unsigned own = large_shard_of_this_thread();
  for (const bool must_fit : {true, false}) {
    for (unsigned step = 0; step < Config::large_shard_count; ++step) {
      HugeCache& cache = huge_caches[(own + step) % Config::large_shard_count];
      if (cache.count.load(std::memory_order_relaxed) == 0) continue;
      LockGuard guard(cache.lock);
      if (Segment* segment = huge_cache_take_locked(cache, total, must_fit)) return segment;
    }
  }
  return nullptr;
}

bool huge_cache_put(Segment* segment) noexcept {
  const long delay = purge_delay_ms();
  if (delay == 0) return false;  // purge at once: unmap
  segment->purge_deadline_ms = delay > 0 ? platform::monotonic_milliseconds() + static_cast<std::uint64_t>(delay) : 0;
  HugeCache& cache = huge_caches[large_shard_of_this_thread()];
  {
    LockGuard guard(cache.lock);
    const unsigned count = cache.count.load(std::memory_order_relaxed);
    if (count == Config::huge_cache_capacity || cache.bytes + segment->mapping_size > huge_cache_bytes_bound(cache)) {
      return false;
    }
    cache.entries[count] = segment;
    cache.count.store(count + 1, std::memory_order_relaxed);
    cache.bytes += segment->mapping_size;
  }
  // It waits for its deadline where only the purge thread may reach it.
  if (delay > 0) purge_thread_note_pending();
  return true;
}

namespace {
/// Unmaps a segment or huge mapping whose blocks were all freed, noting it.
void unmap_freed(Segment* segment, std::size_t bytes) noexcept {
  const auto start = reinterpret_cast<std::uintptr_t>(segment);
  {
    LockGuard guard(cache_lock);
    unmapped_ranges.note(start + segment_header_size, start + bytes);
  }
  platform::release(segment, bytes);
}
}  // namespace

void segment_release(Segment* segment) noexcept {
  if (segment->kind == SegmentKind::huge) {
    // A plainly placed block (not over-aligned) can serve the next huge
    // request of about its size without new page faults. It stays
    // registered while cached (its page is not in use, so a second free of
    // the block is still reported as one): two threads that each allocated
    // and freed an 8 MiB block in a loop spent half their time on the two
    // stores to the segment map's shared line.
    if (segment->pages[0].area == reinterpret_cast<char*>(segment) + segment_header_size && huge_cache_put(segment)) {
      return;
    }
    segment_unregister(segment);
    count_huge_mapping(-static_cast<std::int64_t>(segment->mapping_size));
    unmap_freed(segment, segment->mapping_size);
    return;
  }
  segment_unregister(segment);
  count(&Counters::segments_in_use, -1);
  // Every page is free now; those not purged yet may be resident, and the
  // highest of them bounds what the cache has to purge later.
  const std::uint64_t dirty = segment->dirty_pages & segment->free_pages;
  segment->dirty_pages = dirty;
  segment->touched_end =
      dirty != 0 ? (std::size_t{64} - static_cast<unsigned>(__builtin_clzll(dirty))) << segment->page_shift
                 : segment_header_size;
  const long delay = purge_delay_ms();
  if (delay == 0) {
    discard_range(segment, segment_header_size, segment->touched_end, dirty_bytes(segment));
    segment->dirty_pages = 0;
    segment->touched_end = segment_header_size;
  }
  segment->owner = nullptr;
  segment->purge_deadline_ms = delay > 0 ? platform::monotonic_milliseconds() + static_cast<std::uint64_t>(delay) : 0;
  {
    LockGuard guard(cache_lock);
    if (cache_count < Config::segment_cache_capacity) {
      segment->next = cache_head;
      cache_head = segment;
      ++cache_count;
      count(&Counters::segments_cached, 1);
      if (segment->touched_end > segment_header_size) purge_thread_note_pending();
      return;
    }
  }
  count(&Counters::bytes_mapped, -static_cast<std::int64_t>(segment_size));
  count(&Counters::bytes_committed, -static_cast<std::int64_t>(segment_header_size + dirty_bytes(segment)));
  unmap_freed(segment, segment_size);
}

char* segment_page_area(Segment* segment, const Page* page, std::size_t* bytes) noexcept {
  const auto index = static_cast<std::size_t>(page - segment->pages);
  *bytes = std::size_t{page->span_slots} << segment->page_shift;
  return reinterpret_cast<char*>(segment) + (index << segment->page_shift);
}

namespace {

std::uint64_t span_mask(unsigned first, unsigned slots) noexcept {
  const std::uint64_t ones = slots >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << slots) - 1;
  return ones << first;
}

/// Marks the free slots `from` .. `to` - 1 of `page`'s span (counted from
/// its first slot) used, and points their descriptors back at the page
/// (span_offset), which the slow path of a free that lands on them follows.
/// Only span_offset is written: a free slot's descriptor already reads as
/// an inner one (owner_tag 0, so such a free leaves the fast path; not in
/// use; no span of its own), since a new mapping reads as zeros, a reused
/// segment's header is cleared, and free_span_slots and segment_return_page
/// leave every slot they free so (tests/fast/segment_test.cpp checks it).
/// Four stores a slot before: block-pairs with sizes of 64 KiB to 2 MiB
/// took 507 -> 484 instructions a turn (callgrind) and 58.3 -> 56.6 ns
/// (medians of 7 interleaved, one CPU, 2026-11-28; glibc 44.0).
void claim_slots(Segment* segment, Page* page, unsigned from, unsigned to) noexcept {
  const unsigned first = static_cast<unsigned>(page - segment->pages);
  const std::uint64_t mask = span_mask(first + from, to - from);
  const unsigned clean = to - from - count_ones(segment->dirty_pages & mask);
  segment->free_pages &= ~mask;
  segment->dirty_pages &= ~mask;
  segment->expiring_pages &= ~mask;
  const std::size_t page_end = (std::size_t{first} + to) << segment->page_shift;
  if (page_end > segment->touched_end) segment->touched_end = page_end;
  if (clean != 0) count(&Counters::bytes_committed, static_cast<std::int64_t>(std::size_t{clean} << segment->page_shift));
  for (unsigned offset = from > 0 ? from : 1; offset < to; ++offset) {
    page[offset].span_offset = static_cast<std::uint8_t>(offset);
  }
  page->span_slots = static_cast<std::uint8_t>(to);
}

}  // namespace

SpanChoice segment_choose_span(const Segment* segment, unsigned slots) noexcept {
  std::uint64_t free = segment->free_pages;
  const std::uint64_t dirty = free & segment->dirty_pages;
  unsigned best = 64;
  unsigned best_run = 65;
  unsigned best_clean = slots + 1;
  while (free != 0) {
    const unsigned start = static_cast<unsigned>(__builtin_ctzll(free));
    const std::uint64_t shifted = free >> start;
    const unsigned length = shifted == ~std::uint64_t{0} >> start ? 64 - start
                                                                  : static_cast<unsigned>(__builtin_ctzll(~shifted));
    free &= ~span_mask(start, length);
    if (length < slots) continue;
    // The window slides one slot at a time, its count of clean slots kept
    // up to date from the slot that leaves and the one that enters.
    int clean = static_cast<int>(slots - count_ones(dirty & span_mask(start, slots)));
    for (unsigned first = start;; ++first) {
      if (static_cast<unsigned>(clean) < best_clean || (static_cast<unsigned>(clean) == best_clean && length < best_run)) {
        best = first;
        best_run = length;
        best_clean = static_cast<unsigned>(clean);
      }
      // Nothing later in this run beats a window with no slot to fault in.
      if (clean == 0 || first + slots == start + length) break;
      clean += static_cast<int>((dirty >> first) & 1) - static_cast<int>((dirty >> (first + slots)) & 1);
    }
    if (best_clean == 0 && best_run == slots) break;  // an exact fit with nothing to fault in
  }
  return SpanChoice{best, best_clean};
}

Page* segment_take_page(Segment* segment, unsigned slots, SpanChoice* choice) noexcept {
  const SpanChoice chosen = segment_choose_span(segment, slots);
  if (choice != nullptr) *choice = chosen;
  return chosen.first < 64 ? segment_take_span(segment, chosen.first, slots) : nullptr;
}

Page* segment_take_span(Segment* segment, unsigned first, unsigned slots) noexcept {
  Page* page = &segment->pages[first];
  page->span_offset = 0;
  segment->holed_pages &= ~(std::uint64_t{1} << first);  // a new page has no holes (holes.hpp)
  claim_slots(segment, page, 0, slots);
  ++segment->used_pages;
  return page;
}

bool segment_grow_span(Segment* segment, Page* page, unsigned slots, GrowOver over) noexcept {
  const unsigned first = static_cast<unsigned>(page - segment->pages);
  const unsigned old_slots = page->span_slots;
  if (slots <= old_slots) return true;
  if (first + slots > segment->page_count) return false;
  const std::uint64_t extra = span_mask(first + old_slots, slots - old_slots);
  if ((segment->free_pages & extra) != extra) return false;
  if (over == GrowOver::resident_slots && (segment->dirty_pages & extra) != extra) return false;
  claim_slots(segment, page, old_slots, slots);
  return true;
}

namespace {
/// Frees the slots of `page`'s span from `keep` on (all of them for 0):
/// free and dirty, their descriptors as claim_slots left them (owner_tag
/// 0, not in use) and pointing at themselves again, so that a stale
/// pointer into them is reported as a free of memory no block holds.
void free_span_slots(Segment* segment, Page* page, unsigned keep) noexcept {
  const unsigned first = static_cast<unsigned>(page - segment->pages);
  const unsigned slots = page->span_slots;
  for (unsigned offset = keep > 0 ? keep : 1; offset < slots; ++offset) page[offset].span_offset = 0;
  page->span_slots = static_cast<std::uint8_t>(keep);
  const std::uint64_t freed = span_mask(first + keep, slots - keep);
  segment->free_pages |= freed;
  segment_mark_dirty(segment, freed);
}
}  // namespace

void segment_shrink_span(Segment* segment, Page* page, unsigned slots) noexcept {
  if (slots == 0 || slots >= page->span_slots) return;
  free_span_slots(segment, page, slots);
}

void segment_return_page(Segment* segment, Page* page) noexcept {
  const unsigned first = static_cast<unsigned>(page - segment->pages);
  if (page->size_class == large_page_class) {
    count(&Counters::large_blocks, -1);
    count(&Counters::large_bytes, -static_cast<std::int64_t>(page->block_size));
  } else {
    // Its count says every block is free. A block still in use (the count
    // went wrong by a double free no list operation saw) would hand its
    // bytes to the next page set up here: stop first.
    if constexpr (Config::mitigations.detect_double_free) {
      if (const Block* in_use = page_find_block_in_use(page)) [[unlikely]] {
        report_double_free_found(in_use, DoubleFreeEvidence::block_in_use_in_free_page);
      }
    }
    count_class_pages(page->size_class, -1);
    segment->holed_pages &= ~(std::uint64_t{1} << first);
  }
  // A large span never has holes (segment_take_span cleared its bit), and
  // its bit is left alone: the purge thread returns a live heap's kept span
  // (slot lock held) while the owner reads and writes the header's hole
  // bits without it (holes.hpp).
  page->in_use = false;
  page->in_full = false;
  page->owner.store(nullptr, std::memory_order_relaxed);
  page->owner_tag.store(0, std::memory_order_relaxed);
  --segment->used_pages;
  free_span_slots(segment, page, 0);
}

void segment_mark_dirty(Segment* segment, std::uint64_t pages) noexcept {
  segment->dirty_pages |= pages;
  const long delay = purge_delay_ms();
  if (delay == 0) {
    segment_purge_pages(segment, 0, true);
  } else if (segment->purge_deadline_ms == 0 && delay > 0) {
    segment->expiring_pages = segment->dirty_pages;
    segment->purge_deadline_ms = platform::monotonic_milliseconds() + static_cast<std::uint64_t>(delay);
    purge_thread_note_slots_freed();
  }
}

std::size_t segment_purge_pages(Segment* segment, std::uint64_t now_ms, bool force) noexcept {
  std::uint64_t dirty = segment->dirty_pages & segment->free_pages;
  if (dirty == 0) return 0;
  if (!force && (segment->purge_deadline_ms == 0 || segment->purge_deadline_ms > now_ms)) return 0;
  if (!force) dirty &= segment->expiring_pages;
  std::size_t discarded = 0;
  // Discard runs of adjacent dirty pages with one call each.
  while (dirty != 0) {
    const unsigned first = static_cast<unsigned>(__builtin_ctzll(dirty));
    unsigned last = first;
    while (last + 1 < 64 && (dirty >> (last + 1) & 1) != 0) ++last;
    std::size_t from = std::size_t{first} << segment->page_shift;
    if (from < segment_header_size) from = segment_header_size;
    const std::size_t to = (std::size_t{last} + 1) << segment->page_shift;
    discard_range(segment, from, to, to - from);
    discarded += to - from;
    const std::uint64_t run = (last == 63 ? ~std::uint64_t{0} : (std::uint64_t{1} << (last + 1)) - 1) &
                              ~((std::uint64_t{1} << first) - 1);
    dirty &= ~run;
  }
  segment->dirty_pages &= ~(force ? ~std::uint64_t{0} : segment->expiring_pages);
  // Pages that fell free after the deadline was set wait for a deadline of their own.
  segment->expiring_pages = segment->dirty_pages & segment->free_pages;
  const long delay = purge_delay_ms();
  segment->purge_deadline_ms = segment->expiring_pages != 0 && delay > 0 && !force
                                   ? now_ms + static_cast<std::uint64_t>(delay)
                                   : 0;
  if (segment->purge_deadline_ms == 0) segment->expiring_pages = 0;
  return discarded;
}

bool segment_cache_purge(std::uint64_t now_ms, bool force) noexcept {
  bool waits = false;
  Segment* to_unmap = nullptr;
  Segment* huge_to_unmap = nullptr;
  for (HugeCache& cache : huge_caches) {
    if (cache.count.load(std::memory_order_relaxed) == 0) continue;
    LockGuard guard(cache.lock);
    for (unsigned index = 0; index < cache.count.load(std::memory_order_relaxed);) {
      Segment* segment = cache.entries[index];
      if (force || (segment->purge_deadline_ms != 0 && segment->purge_deadline_ms <= now_ms)) {
        const unsigned last = cache.count.load(std::memory_order_relaxed) - 1;
        cache.entries[index] = cache.entries[last];
        cache.count.store(last, std::memory_order_relaxed);
        cache.bytes -= segment->mapping_size;
        segment->next = huge_to_unmap;
        huge_to_unmap = segment;
        continue;
      }
      if (segment->purge_deadline_ms != 0) waits = true;
      ++index;
    }
  }
  {
    LockGuard guard(cache_lock);
    Segment** link = &cache_head;
    while (*link != nullptr) {
      Segment* segment = *link;
      if (force) {
        *link = segment->next;
        --cache_count;
        count(&Counters::segments_cached, -1);
        segment->next = to_unmap;
        to_unmap = segment;
        continue;
      }
      if (segment->touched_end > segment_header_size && segment->purge_deadline_ms != 0 &&
          segment->purge_deadline_ms <= now_ms) {
        discard_range(segment, segment_header_size, segment->touched_end, dirty_bytes(segment));
        segment->dirty_pages = 0;
        segment->touched_end = segment_header_size;
      }
      if (segment->touched_end > segment_header_size && segment->purge_deadline_ms != 0) waits = true;
      link = &segment->next;
    }
  }
  while (huge_to_unmap != nullptr) {
    Segment* segment = huge_to_unmap;
    huge_to_unmap = segment->next;
    segment_unregister(segment);
    count_huge_mapping(-static_cast<std::int64_t>(segment->mapping_size));
    unmap_freed(segment, segment->mapping_size);
  }
  while (to_unmap != nullptr) {
    Segment* segment = to_unmap;
    to_unmap = segment->next;
    count(&Counters::bytes_mapped, -static_cast<std::int64_t>(segment_size));
    count(&Counters::bytes_committed, -static_cast<std::int64_t>(segment_header_size + dirty_bytes(segment)));
    unmap_freed(segment, segment_size);
  }
  return waits;
}

bool segment_memory_was_freed(const void* address) noexcept {
  if (segment_lookup(address) != nullptr) return false;  // registered again since, or never left
  const auto target = reinterpret_cast<std::uintptr_t>(address);
  const auto holds = [target](const Segment* segment, std::size_t bytes) {
    const auto start = reinterpret_cast<std::uintptr_t>(segment);
    return target >= start + segment_header_size && target < start + bytes;
  };
  if (!cache_lock.try_lock()) return false;
  bool found = unmapped_ranges.contains(target);
  for (const Segment* segment = cache_head; segment != nullptr && !found; segment = segment->next) {
    found = holds(segment, segment_size);
  }
  cache_lock.unlock();
  // A cached huge mapping is registered, but only its first 4 MiB region.
  for (HugeCache& cache : huge_caches) {
    if (found || !cache.lock.try_lock()) continue;
    for (unsigned index = 0; index < cache.count.load(std::memory_order_relaxed) && !found; ++index) {
      found = holds(cache.entries[index], cache.entries[index]->mapping_size);
    }
    cache.lock.unlock();
  }
  return found;
}

void segment_cache_lock() noexcept {
  for (HugeCache& cache : huge_caches) cache.lock.lock();
  cache_lock.lock();
}
void segment_cache_unlock() noexcept {
  cache_lock.unlock();
  for (HugeCache& cache : huge_caches) cache.lock.unlock();
}
void segment_cache_reset_lock() noexcept {
  cache_lock.reset();
  for (HugeCache& cache : huge_caches) cache.lock.reset();
}

}  // namespace globalloc::fast
