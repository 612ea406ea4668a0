// Large blocks (one per cached 4 MiB segment) and huge blocks (their own
// mapping, grown with mremap). See large.hpp for the layout.
#include "fast/large.hpp"

#include <cstring>

#include "fast/heap.hpp"
#include "fast/misuse.hpp"
#include "fast/stats.hpp"
#include "platform/os_memory.hpp"

namespace globalloc::fast {

namespace {

bool round_to_os_pages(std::size_t size, std::size_t* rounded) noexcept {
  const std::size_t page = platform::page_size();
  if (size > SIZE_MAX - page) return false;
  *rounded = (size + page - 1) & ~(page - 1);
  if (*rounded == 0) *rounded = page;
  return true;
}

void set_block(Page* page, char* block, std::size_t usable) noexcept {
  page->free = page->sentinel();
  page->local_free = page->sentinel();
  page->area = block;
  page->block_size = usable;
  page->divisor_magic = 0;
  page->used = 1;
  page->capacity.store(1, std::memory_order_relaxed);
  page->reserved = 1;
  page->size_class = 0;
  page->in_use = true;
  page->in_full = false;
  page->owner.store(nullptr, std::memory_order_relaxed);
  page->owner_tag.store(0, std::memory_order_relaxed);
  page->remote.store(0, std::memory_order_relaxed);
  page->sampled_blocks.store(0, std::memory_order_relaxed);
}

/// Sets up a huge segment header at `start` (its fields may hold a previous
/// use's values) for a block at `offset`.
void* huge_format(char* start, std::size_t offset, std::size_t rounded, std::size_t total) noexcept {
  auto* segment = reinterpret_cast<Segment*>(start);
  segment->kind = SegmentKind::huge;
  segment->page_shift = Config::segment_shift;
  segment->page_count = 1;
  segment->used_pages = 1;
  segment->free_pages = 0;
  segment->dirty_pages = 0;
  segment->purge_deadline_ms = 0;
  segment->owner = nullptr;
  segment->next = nullptr;
  segment->prev = nullptr;
  segment->mapping_size = total;
  segment->touched_end = total;
  set_block(&segment->pages[0], start + offset, rounded);
  segment_guard_metadata(segment);
  segment_register(segment);
  count(counters.huge_blocks, 1);
  count(counters.huge_bytes, static_cast<std::int64_t>(rounded));
  return start + offset;
}

/// A huge block from a cached mapping (its pages still resident): trimmed,
/// grown in place or moved with mremap as needed. Null when none is cached.
void* huge_allocate_cached(std::size_t rounded, bool zero) noexcept {
  const std::size_t offset = segment_header_size;
  const std::size_t total = offset + rounded;
  Segment* segment = huge_cache_take(total);
  if (segment == nullptr) return nullptr;
  std::size_t have = segment->mapping_size;
  const std::size_t dirty = have;
  if (have > total) {
    // Keep a tail up to the block's own size: blocks of a program's large
    // sizes come and go, and a kept tail serves the next bigger one without
    // page faults. Anything more goes back to the OS.
    if (have - total > total) {
      platform::release(reinterpret_cast<char*>(segment) + total, have - total);
      count(counters.bytes_mapped, -static_cast<std::int64_t>(have - total));
      count(counters.bytes_committed, -static_cast<std::int64_t>(have - total));
      have = total;
    }
  } else if (have < total) {
    if (!platform::resize_in_place(segment, have, total)) {
      auto* moved = static_cast<Segment*>(platform::move_aligned(segment, have, total, segment_size));
      if (moved == nullptr) {
        count(counters.bytes_mapped, -static_cast<std::int64_t>(have));
        count(counters.bytes_committed, -static_cast<std::int64_t>(have));
        platform::release(segment, have);
        return nullptr;
      }
      segment = moved;
    }
    count(counters.bytes_mapped, static_cast<std::int64_t>(total - have));
    count(counters.bytes_committed, static_cast<std::int64_t>(total - have));
    have = total;
  }
  char* start = reinterpret_cast<char*>(segment);
  if (zero) std::memset(start + offset, 0, (dirty < total ? dirty : total) - offset);
  return huge_format(start, offset, rounded, have);
}

void* huge_allocate(std::size_t rounded, std::size_t alignment, bool zero) noexcept {
  const std::size_t offset =
      alignment >= segment_size ? segment_size : (alignment > segment_header_size ? alignment : segment_header_size);
  if (rounded > SIZE_MAX / 2 - offset) return nullptr;
  const std::size_t total = offset + rounded;
  if (offset == segment_header_size) {
    if (void* block = huge_allocate_cached(rounded, zero)) return block;
  }
  char* start;
  if (alignment <= segment_size) {
    start = static_cast<char*>(platform::reserve_aligned(total, segment_size));
    if (start == nullptr) return nullptr;
  } else {
    // The block must sit on `alignment` and its header 4 MiB below it.
    if (alignment > SIZE_MAX / 4 || total > SIZE_MAX / 2 - alignment) return nullptr;
    const std::size_t padded = total + alignment;
    char* base = static_cast<char*>(platform::reserve_aligned(padded, segment_size));
    if (base == nullptr) return nullptr;
    const auto block_address =
        (reinterpret_cast<std::uintptr_t>(base) + segment_size + alignment - 1) & ~(alignment - 1);
    start = reinterpret_cast<char*>(block_address - segment_size);
    if (start > base) platform::release(base, static_cast<std::size_t>(start - base));
    char* end = start + total;
    if (base + padded > end) platform::release(end, static_cast<std::size_t>(base + padded - end));
  }
  count(counters.bytes_mapped, static_cast<std::int64_t>(total));
  count(counters.bytes_committed, static_cast<std::int64_t>(total));
  return huge_format(start, offset, rounded, total);
}

void* large_allocate_unsampled(std::size_t size, std::size_t alignment, bool zero) noexcept;

}  // namespace

void* large_allocate(std::size_t size, std::size_t alignment, bool zero) noexcept {
  void* block = large_allocate_unsampled(size, alignment, zero);
  if (block != nullptr) {
    Segment* segment = segment_lookup(block);
    if (segment == nullptr) segment = huge_segment_before(block);
    heap_count_large(&segment->pages[0], block, segment->pages[0].block_size);
  }
  return block;
}

namespace {

void* large_allocate_unsampled(std::size_t size, std::size_t alignment, bool zero) noexcept {
  std::size_t rounded = 0;
  if (size > SIZE_MAX / 2 || !round_to_os_pages(size, &rounded)) return nullptr;
  const std::size_t offset = alignment > segment_header_size ? alignment : segment_header_size;
  if (alignment > segment_size / 2 || rounded > segment_size - offset) return huge_allocate(rounded, alignment, zero);

  Segment* segment = segment_acquire(SegmentKind::large, offset + rounded);
  if (segment == nullptr) return nullptr;
  segment->free_pages = 0;
  segment->used_pages = 1;
  char* block = reinterpret_cast<char*>(segment) + offset;
  set_block(&segment->pages[0], block, rounded);
  const std::size_t end = offset + rounded;
  if (zero && segment->touched_end > offset) {
    // Only what an earlier block may have written needs clearing.
    const std::size_t dirty_end = segment->touched_end < end ? segment->touched_end : end;
    std::memset(block, 0, dirty_end - offset);
  }
  if (end > segment->touched_end) {
    count(counters.bytes_committed, static_cast<std::int64_t>(end - segment->touched_end));
    segment->touched_end = end;
  }
  count(counters.large_blocks, 1);
  count(counters.large_bytes, static_cast<std::int64_t>(rounded));
  return block;
}

}  // namespace

void large_free(Segment* segment, Page* page, void* block, const char* operation) noexcept {
  if (block != page->area) {
    if constexpr (Config::mitigations.detect_invalid_free) report_invalid_free(block, operation);
    return;
  }
  if (!page->in_use) {
    if constexpr (Config::mitigations.detect_double_free) report_double_free(block, operation);
    return;
  }
  if (page->sampled_blocks.load(std::memory_order_relaxed) != 0) heap_note_sampled_free(page, block);
  page->in_use = false;
  if (segment->kind == SegmentKind::huge) {
    count(counters.huge_blocks, -1);
    count(counters.huge_bytes, -static_cast<std::int64_t>(page->block_size));
  } else {
    count(counters.large_blocks, -1);
    count(counters.large_bytes, -static_cast<std::int64_t>(page->block_size));
    segment->used_pages = 0;
  }
  segment_release(segment);
}

std::size_t large_usable_size(Segment*, const Page* page, const void* block) noexcept {
  return static_cast<std::size_t>(page->area + page->block_size - static_cast<const char*>(block));
}

std::size_t large_resize_in_place(Segment* segment, Page* page, void* block, std::size_t new_size) noexcept {
  std::size_t rounded = 0;
  if (new_size > SIZE_MAX / 2 || !round_to_os_pages(new_size, &rounded)) return page->block_size;
  const std::size_t offset = static_cast<std::size_t>(static_cast<char*>(block) - reinterpret_cast<char*>(segment));
  const std::size_t old = page->block_size;
  if (segment->kind == SegmentKind::large) {
    if (rounded > segment_size - offset) return old;
    page->block_size = rounded;
    if (offset + rounded > segment->touched_end) {
      count(counters.bytes_committed, static_cast<std::int64_t>(offset + rounded - segment->touched_end));
      segment->touched_end = offset + rounded;
    }
    count(counters.large_bytes, static_cast<std::int64_t>(rounded) - static_cast<std::int64_t>(old));
    return rounded;
  }
  const std::size_t new_total = offset + rounded;
  const std::size_t old_total = segment->mapping_size;
  if (new_total == old_total) return old;
  if (new_total < old_total && old_total - new_total < 64 * 1024) return old;  // not worth a system call
  if (!platform::resize_in_place(segment, old_total, new_total)) return old;
  segment->mapping_size = new_total;
  segment->touched_end = new_total;
  page->block_size = rounded;
  count(counters.bytes_mapped, static_cast<std::int64_t>(new_total) - static_cast<std::int64_t>(old_total));
  count(counters.bytes_committed, static_cast<std::int64_t>(new_total) - static_cast<std::int64_t>(old_total));
  count(counters.huge_bytes, static_cast<std::int64_t>(rounded) - static_cast<std::int64_t>(old));
  return rounded;
}

void* huge_reallocate(Segment* segment, Page* page, void* block, std::size_t new_size) noexcept {
  if (segment->kind != SegmentKind::huge) return nullptr;
  if (large_resize_in_place(segment, page, block, new_size) >= new_size) return block;
  std::size_t rounded = 0;
  if (new_size > SIZE_MAX / 2 || !round_to_os_pages(new_size, &rounded)) return nullptr;
  const std::size_t offset = static_cast<std::size_t>(static_cast<char*>(block) - reinterpret_cast<char*>(segment));
  // A block at offset 4 MiB (alignment of 4 MiB or more) needs more than a
  // 4 MiB aligned destination; let the caller copy instead.
  if (offset >= segment_size) return nullptr;
  const std::size_t old_total = segment->mapping_size;
  const std::size_t new_total = offset + rounded;
  segment_unregister(segment);
  auto* moved = static_cast<Segment*>(platform::move_aligned(segment, old_total, new_total, segment_size));
  if (moved == nullptr) {
    segment_register(segment);
    return nullptr;
  }
  Page* moved_page = &moved->pages[0];
  const std::size_t old_usable = moved_page->block_size;
  moved->mapping_size = new_total;
  moved->touched_end = new_total;
  moved_page->area = reinterpret_cast<char*>(moved) + offset;
  moved_page->block_size = rounded;
  segment_register(moved);
  count(counters.bytes_mapped, static_cast<std::int64_t>(new_total) - static_cast<std::int64_t>(old_total));
  count(counters.bytes_committed, static_cast<std::int64_t>(new_total) - static_cast<std::int64_t>(old_total));
  count(counters.huge_bytes, static_cast<std::int64_t>(rounded) - static_cast<std::int64_t>(old_usable));
  return moved_page->area;
}

Segment* huge_segment_before(const void* block) noexcept {
  const auto address = reinterpret_cast<std::uintptr_t>(block);
  if ((address & segment_offset_mask) != 0 || address < segment_size) return nullptr;
  const std::uintptr_t header = address - segment_size;
  if (segment_map[segment_map_index(header)].load(std::memory_order_acquire) == 0) return nullptr;
  auto* segment = reinterpret_cast<Segment*>(header);
  if (segment->kind != SegmentKind::huge || segment->pages[0].area != block) return nullptr;
  return segment;
}

}  // namespace globalloc::fast
