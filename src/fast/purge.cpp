// Delayed purging (purge.hpp): the periodic check, and the purge of the
// whole OS pages that free blocks cover (free tails, holes).
#include "fast/purge.hpp"

#include "fast/heap.hpp"
#include "fast/holes.hpp"
#include "fast/large.hpp"
#include "fast/options.hpp"
#include "fast/segment.hpp"
#include "fast/stats.hpp"
#include "platform/clock.hpp"
#include "platform/os_memory.hpp"

namespace globalloc::fast {

namespace {

/// Slow paths between clock reads: a clock read costs about as much as the
/// slow path itself, and purging a few calls late changes nothing.
constexpr std::uint32_t slow_paths_per_clock_read = 16;

/// The check runs every quarter of the purge delay: a page whose counts held
/// still through this many checks has been quiet for about the delay.
constexpr std::uint8_t quiet_checks_needed = 4;
constexpr std::uint8_t quiet_checks_purged = 255;

/// Whether the page's counts are those of the last look (no block handed
/// out or freed since): what a page's quiet checks and its purged mark
/// stand on.
bool page_counts_held_still(const Page* page) noexcept {
  return page->allocated == page->quiet_allocated && page->used == page->quiet_used;
}

/// The first size class whose small pages hold at most 64 blocks: the
/// periodic checks look at its pages and those of the classes above (the
/// classes below can have thousands of pages, each a cache miss to look at,
/// and seldom an OS page that free blocks alone cover).
unsigned first_class_checked_periodically() noexcept {
  for (unsigned size_class = 0; size_class < class_count; ++size_class) {
    if (class_size(size_class) >= small_page_size / 64) return size_class;
  }
  return class_count;
}

/// Marks the page purged at its present counts: it is not purged again
/// until they move (or, abandoned, until remote frees arrive).
void mark_purged(Page* page) noexcept {
  page->quiet_allocated = page->allocated;
  page->quiet_used = page->used;
  page->quiet_checks = quiet_checks_purged;
}

/// Most blocks a page carves (64 KiB of 8-byte blocks): the free map's
/// bitmap, 1 KiB of the caller's stack.
constexpr std::uint32_t free_map_blocks_max = small_page_size / 8;

/// A page's free blocks, its lists' and its holes, by carved index.
struct FreeMap {
  std::uint64_t free[free_map_blocks_max / 64];
  std::uint64_t holes[page_hole_blocks_max / 64];  ///< the holes it had
  bool is_free(std::uint32_t index) const noexcept { return bitmap_test(free, index); }
  bool is_hole(std::uint32_t index) const noexcept { return index < page_hole_blocks_max && bitmap_test(holes, index); }
};

/// Reads the page's lists and holes into `map`. False, touching nothing,
/// when the lists do not read as this page's (a misuse the allocation that
/// meets it reports) or the page carved more blocks than the map holds.
bool read_free_map(const Page* page, FreeMap& map) noexcept {
  const std::uint32_t carved = page->capacity.load(std::memory_order_relaxed);
  if (carved > free_map_blocks_max) return false;
  for (auto& word : map.free) word = 0;
  for (auto& word : map.holes) word = 0;
  if (page_has_holes(page)) {
    const std::uint64_t* holes = page_hole_words(page);
    for (unsigned word = 0; word < page_hole_blocks_max / 64; ++word) {
      map.holes[word] = holes[word];
      map.free[word] = holes[word];
    }
  }
  const auto area = reinterpret_cast<std::uintptr_t>(page->area);
  for (void* list : {page->free, page->local_free}) {
    std::uint32_t left = carved;
    for (void* block = list; block != page->sentinel(); block = page->decode(static_cast<Block*>(block))) {
      const auto address = reinterpret_cast<std::uintptr_t>(block);
      if (left-- == 0 || !page_has_carved_block_at(page, address)) return false;
      const auto index = static_cast<std::uint32_t>((address - area) / page->block_size);
      if (map.is_free(index)) return false;  // on the lists twice, or a hole too
      bitmap_set(map.free, index);
    }
  }
  return true;
}

/// The OS pages in [area, area + kept blocks) that free blocks alone cover
/// become holes' memory: the free blocks whose links lie in them leave the
/// lists and become holes (`holes` gains them), and the pages are discarded,
/// those of which some covering block was not a hole already (the others
/// went back before). Returns bytes discarded.
std::size_t discard_free_os_pages(const Page* page, const FreeMap& map, std::uint32_t kept,
                                  std::uint64_t* holes) noexcept {
  const std::uintptr_t os_page = platform::page_size();
  const auto area = reinterpret_cast<std::uintptr_t>(page->area);
  const std::size_t size = page->block_size;
  const std::uintptr_t end = area + std::size_t{kept} * size;
  std::size_t bytes = 0;
  std::uintptr_t run = 0;  // start of the run of pages to discard, 0 when none
  auto flush = [&](std::uintptr_t to) {
    if (run != 0 && to > run) {
      platform::discard(reinterpret_cast<void*>(run), to - run);
      bytes += to - run;
    }
    run = 0;
  };
  for (std::uintptr_t start = area & ~(os_page - 1); start < end; start += os_page) {
    bool all_free = start >= area;
    bool anything_new = false;
    if (all_free) {
      const auto first = static_cast<std::uint32_t>((start - area) / size);
      const std::uintptr_t last_byte = (start + os_page < end ? start + os_page : end) - 1;
      const auto last = static_cast<std::uint32_t>((last_byte - area) / size);
      for (std::uint32_t index = first; index <= last && all_free; ++index) {
        all_free = map.is_free(index) && index < page_hole_blocks_max;
        anything_new = anything_new || !map.is_hole(index);
      }
    }
    if (!all_free) {
      flush(start);
      continue;
    }
    // Every block starting in this page becomes a hole (its link goes with
    // it). A new hole's first word is cleared here, not left to the discard:
    // the refill expects zero there (page_collect_holes), and the discard
    // may fail (memory locked with mlockall).
    for (std::uintptr_t address = area + (start > area ? (start - area + size - 1) / size * size : 0);
         address < start + os_page && address < end; address += size) {
      const auto index = static_cast<std::uint32_t>((address - area) / size);
      if (!map.is_hole(index)) reinterpret_cast<Block*>(address)->encoded_next = 0;
      bitmap_set(holes, index);
    }
    if (!anything_new) {
      flush(start);
      continue;
    }
    if (run == 0) run = start;
  }
  // A run reaching the end of the carved blocks ends with its last OS page.
  flush(((end + os_page - 1) & ~(os_page - 1)));
  return bytes;
}

/// For a page whose lists no other thread touches (an exited thread's, or
/// the calling owner's own): with `trim`, the free blocks after its last
/// block in use become uncarved again, and the OS pages from there to the
/// end of the page's span are discarded, links and all (carving writes the
/// links again); then, for a page of at most page_hole_blocks_max carved
/// blocks, the OS pages that free blocks alone cover go back and the blocks
/// whose links they held become holes (holes.hpp). Blocks of any size, so
/// the small ones among an exited thread's survivors go back too, which no
/// discard of whole pages inside one block can reach. The lists are rebuilt
/// in address order. Returns bytes discarded; 0, touching nothing, when
/// the lists do not read as this page's (a misuse the allocation that
/// meets it reports: following them to discard memory could discard any).
std::size_t trim_and_hole(Page* page, bool trim) noexcept {
  const std::uint32_t carved = page->capacity.load(std::memory_order_relaxed);
  const bool can_hole = carved <= page_hole_blocks_max;
  if (carved == 0 || (!trim && !can_hole)) return 0;
  FreeMap map;
  if (!read_free_map(page, map)) return 0;
  std::uint32_t kept = carved;
  if (trim) {
    while (kept > 0 && map.is_free(kept - 1)) --kept;
    // No block in use: the caller returns such pages whole.
    if (kept == 0) kept = carved;
  }
  std::uint64_t holes[page_hole_blocks_max / 64] = {};
  for (std::uint32_t index = 0; index < kept && index < page_hole_blocks_max; ++index) {
    if (map.is_hole(index)) bitmap_set(holes, index);
  }
  std::size_t bytes = can_hole ? discard_free_os_pages(page, map, kept, holes) : 0;
  // The lists: the free blocks below `kept` that are not holes.
  const auto area = reinterpret_cast<std::uintptr_t>(page->area);
  const std::size_t size = page->block_size;
  void* head = page->sentinel();
  for (std::uint32_t index = kept; index-- > 0;) {
    const bool hole = index < page_hole_blocks_max && bitmap_test(holes, index);
    if (!map.is_free(index) || hole) continue;
    auto* block = reinterpret_cast<Block*>(area + std::size_t{index} * size);
    block->encoded_next = page->encode(head, block);
    head = block;
  }
  page->free = head;
  page->local_free = page->sentinel();
  page_set_holes(page, holes);
  if (kept == carved) return bytes;
  // Remote frees check a block against the carved count (free_slow); the
  // blocks still in use all lie below the new one.
  page->capacity.store(kept, std::memory_order_relaxed);
  const std::uintptr_t os_page = platform::page_size();
  const std::uintptr_t from = (area + std::size_t{kept} * size + os_page - 1) & ~(os_page - 1);
  std::size_t span_bytes = 0;
  const auto span = reinterpret_cast<std::uintptr_t>(segment_page_area(segment_of(page), page, &span_bytes));
  const std::uintptr_t to = (span + span_bytes) & ~(os_page - 1);
  if (to <= from) return bytes;
  platform::discard(reinterpret_cast<void*>(from), to - from);
  return bytes + (to - from);
}

/// The free memory of a page whose lists no other thread touches: its free
/// tail with `trim`, and the OS pages its free blocks alone cover; marks it
/// purged either way. Returns bytes discarded.
std::size_t purge_free_memory_of(Page* page, bool trim) noexcept {
  const std::size_t bytes = trim_and_hole(page, trim);
  mark_purged(page);
  return bytes;
}

void count_purged(std::size_t bytes, std::size_t operations) noexcept {
  if (bytes == 0) return;
  count(&Counters::bytes_purged_total, static_cast<std::int64_t>(bytes));
  count(&Counters::purge_operations_total, static_cast<std::int64_t>(operations));
}

}  // namespace

std::size_t heap_purge_free_blocks(ThreadHeap* heap, bool force) noexcept {
  std::size_t bytes = 0;
  std::size_t operations = 0;
  // With force (purge()), the pages of every class, free tails included:
  // the periodic checks leave the classes under 1 KiB alone (see
  // first_class_checked_periodically).
  for (unsigned size_class = force ? 0 : first_class_checked_periodically(); size_class < class_count; ++size_class) {
    for (Page* page = heap->queues[size_class].first; page != nullptr; page = page->next) {
      // A page in use since the last look is left alone: its free blocks are
      // likely to be taken again soon, and discarding them would cost faults.
      if (!page_counts_held_still(page)) {
        page->quiet_allocated = page->allocated;
        page->quiet_used = page->used;
        page->quiet_checks = 0;
      } else if (page->quiet_checks < quiet_checks_needed) {
        ++page->quiet_checks;
      }
      if (page->quiet_checks == quiet_checks_purged) continue;
      if (!force && page->quiet_checks < quiet_checks_needed) continue;
      const std::size_t discarded = purge_free_memory_of(page, force);
      if (discarded != 0) {
        bytes += discarded;
        ++operations;
      }
    }
  }
  count_purged(bytes, operations);
  return bytes;
}

std::size_t abandoned_page_purge_free_blocks(Page* page, bool lists_grew) noexcept {
  if (page->size_class == large_page_class) return 0;
  // Purged already, unless blocks were freed since: into its lists from
  // other threads, or by a thread that adopted the page after that purge
  // and abandoned it again (its own frees, which only its own checks would
  // have noticed: a starter heap's page is often purged when the starter
  // heap is let go, then adopted by a thread that frees its blocks).
  if (page->quiet_checks == quiet_checks_purged && !lists_grew && page_counts_held_still(page)) return 0;
  // Marked as heap_purge_free_blocks marks it: a thread that adopts the
  // page later sees it purged until its counts move.
  const std::size_t bytes = purge_free_memory_of(page, true);
  count_purged(bytes, 1);
  return bytes;
}

void heap_maybe_purge(ThreadHeap* heap) noexcept {
  // The countdown first: it is all most slow paths pay here.
  if (heap->purge_check_countdown != 0) {
    --heap->purge_check_countdown;
    return;
  }
  heap->purge_check_countdown = slow_paths_per_clock_read;
  const long delay = purge_delay_ms();
  // Negative: never (purge() still does). 0: pages that fall free go at once
  // (segment.cpp), and the rest (quiet free blocks, abandoned segments) at
  // the checks, every millisecond.
  if (delay < 0) return;
  const std::uint64_t now = platform::monotonic_milliseconds();
  if (now < heap->next_purge_check_ms) return;
  // Check again after a fraction of the delay: a page is purged at most a
  // quarter of the delay late, and the scan runs a few times per delay.
  const std::uint64_t step = static_cast<std::uint64_t>(delay / 4 > 0 ? delay / 4 : 1);
  heap->next_purge_check_ms = now + step;
  // First, so that the slots an adopted segment freed long ago go below.
  heap_adopt_idle_abandoned(heap, now, static_cast<std::uint64_t>(delay));
  heap_look_at_kept_block(heap);
  {
    OwnSlotsGuard guard(heap);
    for (Segment* segment = heap->segments; segment != nullptr; segment = segment->next) {
      if (segment->dirty_pages != 0) segment_purge_pages(segment, now, false);
    }
  }
  heap_purge_free_blocks(heap, false);
  large_purge(now, false);
  segment_cache_purge(now, false);
}

}  // namespace globalloc::fast
