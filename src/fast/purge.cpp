// Delayed purging (purge.hpp): the periodic check, and the purge of whole OS
// pages inside free blocks.
#include "fast/purge.hpp"

#include "fast/heap.hpp"
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

/// Discards the OS pages of a free block after the one holding its link.
std::size_t discard_block_inside(const Page* page, void* block) noexcept {
  const std::uintptr_t os_page = platform::page_size();
  const auto start = reinterpret_cast<std::uintptr_t>(block);
  const std::uintptr_t first = (start + sizeof(Block) + os_page - 1) & ~(os_page - 1);
  const std::uintptr_t last = (start + page->block_size) & ~(os_page - 1);
  if (last <= first) return 0;
  platform::discard(reinterpret_cast<void*>(first), last - first);
  return last - first;
}

std::size_t discard_list(const Page* page, void* list) noexcept {
  std::size_t bytes = 0;
  // A list never holds more blocks than were carved: the bound keeps a
  // corrupted list from looping.
  std::uint32_t left = page->capacity.load(std::memory_order_relaxed);
  for (void* block = list; block != page->sentinel() && left != 0; --left) {
    bytes += discard_block_inside(page, block);
    block = page->decode(static_cast<Block*>(block));
  }
  return bytes;
}

/// The first size class whose blocks always hold a whole OS page past their link.
unsigned first_class_with_inner_pages() noexcept {
  const std::size_t need = 2 * platform::page_size();
  for (unsigned size_class = 0; size_class < class_count; ++size_class) {
    if (class_size(size_class) >= need) return size_class;
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

/// Discards the inner OS pages of the page's free blocks and marks it
/// purged. Returns bytes discarded.
std::size_t discard_free_blocks(Page* page) noexcept {
  mark_purged(page);
  return discard_list(page, page->free) + discard_list(page, page->local_free);
}

/// Most blocks a page carves (64 KiB of 8-byte blocks): trim_free_tail's
/// bitmap, 1 KiB of the caller's stack.
constexpr std::uint32_t trim_blocks_max = small_page_size / 8;

/// For a page whose lists no other thread touches (an exited thread's, or
/// the calling owner's own in purge()): the free blocks after its last
/// block in use become uncarved again. The lists lose them, the carved
/// count ends after that block, and the OS pages from there to the end of
/// the page's span are discarded, links and all (carving writes the links
/// again if a thread takes the page over). Blocks of any size, so the small
/// ones among an exited thread's survivors go back too, which no discard of
/// whole pages inside one block can reach. The lists are rebuilt in address
/// order. Returns bytes discarded; 0, touching nothing, when the lists do
/// not read as this page's (a misuse the allocation that meets it reports).
std::size_t trim_free_tail(Page* page) noexcept {
  const std::uint32_t carved = page->capacity.load(std::memory_order_relaxed);
  if (carved == 0 || carved > trim_blocks_max) return 0;
  std::uint64_t free_bits[trim_blocks_max / 64] = {};
  const auto area = reinterpret_cast<std::uintptr_t>(page->area);
  const std::size_t size = page->block_size;
  for (void* list : {page->free, page->local_free}) {
    std::uint32_t left = carved;
    for (void* block = list; block != page->sentinel(); block = page->decode(static_cast<Block*>(block))) {
      const auto address = reinterpret_cast<std::uintptr_t>(block);
      if (left-- == 0 || !page_has_carved_block_at(page, address)) return 0;
      const auto index = static_cast<std::uint32_t>((address - area) / size);
      const std::uint64_t bit = std::uint64_t{1} << (index % 64);
      if ((free_bits[index / 64] & bit) != 0) return 0;  // on the lists twice
      free_bits[index / 64] |= bit;
    }
  }
  auto is_free = [&free_bits](std::uint32_t index) { return (free_bits[index / 64] >> (index % 64) & 1) != 0; };
  std::uint32_t kept = carved;
  while (kept > 0 && is_free(kept - 1)) --kept;
  if (kept == carved || kept == 0) return 0;  // no free tail; or no block in use (the caller returns such pages)
  void* head = page->sentinel();
  for (std::uint32_t index = kept; index-- > 0;) {
    if (!is_free(index)) continue;
    auto* block = reinterpret_cast<Block*>(area + std::size_t{index} * size);
    block->encoded_next = page->encode(head, block);
    head = block;
  }
  page->free = head;
  page->local_free = page->sentinel();
  // Remote frees check a block against the carved count (free_slow); the
  // blocks still in use all lie below the new one.
  page->capacity.store(kept, std::memory_order_relaxed);
  const std::uintptr_t os_page = platform::page_size();
  const std::uintptr_t from = (area + std::size_t{kept} * size + os_page - 1) & ~(os_page - 1);
  std::size_t span_bytes = 0;
  const auto span = reinterpret_cast<std::uintptr_t>(segment_page_area(segment_of(page), page, &span_bytes));
  const std::uintptr_t to = (span + span_bytes) & ~(os_page - 1);
  if (to <= from) return 0;
  platform::discard(reinterpret_cast<void*>(from), to - from);
  return to - from;
}

/// The free memory of a page whose lists no other thread touches: its free
/// tail with `trim`, then the OS pages inside its free blocks where its
/// blocks hold any; marks it purged either way. Returns bytes discarded.
std::size_t purge_free_memory_of(Page* page, bool trim) noexcept {
  const std::size_t trimmed = trim ? trim_free_tail(page) : 0;
  if (page->size_class >= first_class_with_inner_pages()) return trimmed + discard_free_blocks(page);
  mark_purged(page);
  return trimmed;
}

void count_purged(std::size_t bytes, std::size_t operations) noexcept {
  if (bytes == 0) return;
  count(counters.bytes_purged_total, static_cast<std::int64_t>(bytes));
  count(counters.purge_operations_total, static_cast<std::int64_t>(operations));
}

}  // namespace

std::size_t heap_purge_free_blocks(ThreadHeap* heap, bool force) noexcept {
  std::size_t bytes = 0;
  std::size_t operations = 0;
  // With force (purge()), the free tails of every class's pages too: the
  // periodic checks leave the small classes alone, whose pages can be
  // thousands, each a cache miss to look at.
  for (unsigned size_class = force ? 0 : first_class_with_inner_pages(); size_class < class_count; ++size_class) {
    for (Page* page = heap->queues[size_class].first; page != nullptr; page = page->next) {
      // A page in use since the last look is left alone: its free blocks are
      // likely to be taken again soon, and discarding them would cost faults.
      const bool quiet = page->allocated == page->quiet_allocated && page->used == page->quiet_used;
      if (!quiet) {
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
  if (page->quiet_checks == quiet_checks_purged && !lists_grew) return 0;
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
