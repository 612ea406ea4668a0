// Large blocks (runs of 64 KiB units in segments shared by a shard of
// threads) and huge blocks (their own mapping, grown with mremap). See
// large.hpp for the layout.
#include "fast/large.hpp"

#include <cstring>

#include "fast/heap.hpp"
#include "fast/bits.hpp"
#include "fast/lock.hpp"
#include "fast/options.hpp"
#include "fast/misuse.hpp"
#include "fast/stats.hpp"
#include "platform/clock.hpp"
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
  segment_reset_state(segment);
  segment->mapping_size = total;
  segment->touched_end = total;
  set_block(&segment->pages[0], start + offset, rounded);
  segment_guard_metadata(segment);
  segment_register(segment);
  count(&Counters::huge_blocks, 1);
  count(&Counters::huge_bytes, static_cast<std::int64_t>(rounded));
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
      count_huge_mapping(-static_cast<std::int64_t>(have - total));
      have = total;
    }
  } else if (have < total) {
    if (!platform::resize_in_place(segment, have, total)) {
      segment_unregister(segment);  // registered while cached; it moves
      auto* moved = static_cast<Segment*>(platform::move_aligned(segment, have, total, segment_size));
      if (moved == nullptr) {
        count_huge_mapping(-static_cast<std::int64_t>(have));
        platform::release(segment, have);
        return nullptr;
      }
      segment = moved;
    }
    count_huge_mapping(static_cast<std::int64_t>(total - have));
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
  count_huge_mapping(static_cast<std::int64_t>(total));
  // A huge block is its own mapping, so huge pages cannot spill over into
  // other blocks' memory; only whole 2 MiB ranges inside it get one, so a
  // block's partial end stays in small pages. wl-large: 0.28 -> 0.15 s and
  // 23k -> 12k page faults; the mapping keeps the advice when it is cached,
  // grown or moved with mremap.
  if (huge_pages_enabled()) platform::advise_huge_pages(start, total);
  return huge_format(start, offset, rounded, total);
}

void* large_allocate_unsampled(std::size_t size, std::size_t alignment, bool zero) noexcept;
std::size_t resize_large_run(Segment* segment, Page* page, std::size_t rounded,
                             GrowOver over = GrowOver::free_slots) noexcept;

/// The descriptor of a large or huge block's first page (its own region's
/// header, or for a huge block aligned to 4 MiB or more, the one below).
Page* block_page(void* block) noexcept {
  if (Segment* segment = segment_lookup(block)) return segment_page_of(segment, block);
  return &huge_segment_before(block)->pages[0];
}

}  // namespace

void* large_allocate(std::size_t size, std::size_t alignment, bool zero) noexcept {
  void* block = large_allocate_unsampled(size, alignment, zero);
  if (block != nullptr) {
    Page* page = block_page(block);
    heap_count_large(page, block, page->block_size);
  }
  return block;
}

// ---- large blocks: runs of units in shared segments --------------------------

namespace {

constexpr unsigned units_per_segment = static_cast<unsigned>(segment_size / large_unit_size);
static_assert(units_per_segment == 64, "a segment's units are the bits of one word");

/// Large segments of a shard: every one with a block or free units, under the
/// lock. A cache line each: packed four to a line, two threads of different
/// shards still fought over the line of their locks (3 MiB malloc+free, two
/// threads: 341 -> 107 ns a turn, alone 100).
struct alignas(64) Shard {
  Lock lock;
  Segment* segments = nullptr;
};
Shard shards[Config::large_shard_count];

std::uint64_t run_mask(unsigned first, unsigned units) noexcept {
  const std::uint64_t ones = units >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << units) - 1;
  return ones << first;
}

/// Units covering `bytes` (at most large_block_max).
unsigned units_for(std::size_t bytes) noexcept {
  return static_cast<unsigned>((bytes + large_unit_size - 1) >> Config::large_unit_shift);
}

/// The step between the unit indexes a block with `alignment` may start at
/// (segments are aligned to 4 MiB, so unit i is aligned to i's low bits).
unsigned alignment_step(std::size_t alignment) noexcept {
  return alignment <= large_unit_size ? 1 : static_cast<unsigned>(alignment >> Config::large_unit_shift);
}

struct Run {
  Segment* segment = nullptr;
  unsigned first = 0;
  unsigned clean = units_per_segment + 1;  ///< units not resident: page faults to come
};

/// The run of `units` free units in `segment` starting at a multiple of
/// `step` with the fewest non-resident units (then the lowest), into `best`
/// when better than what it holds.
void find_run(Segment* segment, unsigned units, unsigned step, Run* best) noexcept {
  const std::uint64_t free = segment->free_pages;
  for (unsigned first = step; first + units <= units_per_segment; first += step) {
    const std::uint64_t mask = run_mask(first, units);
    if ((free & mask) != mask) continue;
    const unsigned clean = count_ones(mask & ~segment->dirty_pages);
    if (clean < best->clean) {
      *best = Run{segment, first, clean};
      if (clean == 0) return;
    }
  }
}

/// Marks the descriptors of units [from, to) as inside a block, not block starts.
void clear_unit_descriptors(Segment* segment, unsigned from, unsigned to) noexcept {
  for (unsigned unit = from; unit < to; ++unit) {
    segment->pages[unit].in_use = false;
    segment->pages[unit].area = nullptr;
  }
}

/// Marks the run used and sets up the descriptor of its first unit (shard lock held).
char* take_run(const Run& run, unsigned units, std::size_t rounded, bool zero, std::size_t size) noexcept {
  Segment* segment = run.segment;
  const std::uint64_t mask = run_mask(run.first, units);
  const std::uint64_t was_dirty = segment->dirty_pages & mask;
  segment->free_pages &= ~mask;
  segment->dirty_pages &= ~mask;
  segment->expiring_pages &= ~mask;
  segment->used_pages += units;
  char* block = reinterpret_cast<char*>(segment) + (std::size_t{run.first} << Config::large_unit_shift);
  set_block(&segment->pages[run.first], block, rounded);
  segment->pages[run.first].reserved = static_cast<std::uint16_t>(units);
  clear_unit_descriptors(segment, run.first + 1, run.first + units);
  const std::size_t end = std::size_t{run.first + units} << Config::large_unit_shift;
  if (end > segment->touched_end) segment->touched_end = end;
  count(&Counters::bytes_committed, static_cast<std::int64_t>(run.clean) << Config::large_unit_shift);
  if (zero && was_dirty != 0) {
    // Units never used, or purged since, read as zero: only resident ones are cleared.
    for (std::uint64_t dirty = was_dirty; dirty != 0; dirty &= dirty - 1) {
      const unsigned unit = static_cast<unsigned>(__builtin_ctzll(dirty));
      char* from = reinterpret_cast<char*>(segment) + (std::size_t{unit} << Config::large_unit_shift);
      char* to = from + large_unit_size;
      if (to > block + size) to = block + size;
      if (from < to) std::memset(from, 0, static_cast<std::size_t>(to - from));
    }
  }
  return block;
}

/// Gives the units [first, first + units) of a large segment back (shard lock held).
void return_units(Segment* segment, unsigned first, unsigned units) noexcept {
  const std::uint64_t mask = run_mask(first, units);
  segment->free_pages |= mask;
  segment->used_pages -= units;
  segment_mark_dirty(segment, mask);
}

/// The calling thread's shard (thread_shard.hpp): threads with no heap, such
/// as one that allocates only large blocks, spread over the shards as well.
Shard& shard_of_thread() noexcept { return shards[large_shard_of_this_thread()]; }

void* large_allocate_unsampled(std::size_t size, std::size_t alignment, bool zero) noexcept {
  std::size_t rounded = 0;
  if (size > SIZE_MAX / 2 || !round_to_os_pages(size, &rounded)) return nullptr;
  if (rounded > large_block_max || alignment > segment_size / 2) return huge_allocate(rounded, alignment, zero);
  const unsigned step = alignment_step(alignment);
  const unsigned units = units_for(rounded);
  if (step + units > units_per_segment) return huge_allocate(rounded, alignment, zero);
  if (alignment <= large_unit_size) {
    if (void* block = heap_allocate_large(rounded, zero, size)) return block;
  }
  bool fits = false;
  Page* page = heap_take_kept_run(units, alignment, &fits);
  // One that does not fit is cut, or grown over resident units only (the
  // search prefers them to units that would fault).
  if (page != nullptr && !fits &&
      resize_large_run(segment_of(page), page, rounded, GrowOver::resident_slots) != rounded) {
    // Too small, and the units after it are taken or not resident: back,
    // before the search.
    large_return_run(segment_of(page), page);
    page = nullptr;
  }
  if (page != nullptr) {
    // A run of a large segment the thread freed last (heap.hpp, cached_large),
    // cut or grown in place where it did not fit.
    if (page->block_size != rounded) {
      count(&Counters::large_bytes, static_cast<std::int64_t>(rounded) - static_cast<std::int64_t>(page->block_size));
      page->block_size = rounded;
    }
    page->sampled_blocks.store(0, std::memory_order_relaxed);
    page->remote.store(0, std::memory_order_relaxed);  // unclaimed: the next free claims it
    page->in_use = true;
    if (zero) std::memset(page->area, 0, size);  // it was in use
    return page->area;
  }

  Shard& shard = shard_of_thread();
  char* block;
  Run best;
  {
    LockGuard guard(shard.lock);
    for (Segment* segment = shard.segments; segment != nullptr && best.clean != 0; segment = segment->next) {
      find_run(segment, units, step, &best);
    }
    if (best.segment == nullptr) {
      Segment* segment =
          segment_acquire(SegmentKind::large, segment_header_size + (std::size_t{units} << Config::large_unit_shift));
      if (segment == nullptr) return nullptr;
      segment->shard = static_cast<std::uint8_t>(&shard - shards);
      segment_list_push_front(shard.segments, segment);
      find_run(segment, units, step, &best);
    }
    block = take_run(best, units, rounded, zero, size);
  }
  count(&Counters::large_blocks, 1);
  count(&Counters::large_bytes, static_cast<std::int64_t>(rounded));
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
  if (segment->kind == SegmentKind::huge) {
    page->in_use = false;
    count(&Counters::huge_blocks, -1);
    count(&Counters::huge_bytes, -static_cast<std::int64_t>(page->block_size));
    segment_release(segment);
    return;
  }
  // Claimed once (the remote word is otherwise unused in a large segment):
  // of two frees of the block at the same time, the second is a double free.
  if (page->remote.exchange(1, std::memory_order_acq_rel) != 0) {
    if constexpr (Config::mitigations.detect_double_free) report_double_free(block, operation);
    return;
  }
  if (heap_keep_large_run(page)) return;
  large_return_run(segment, page);
}

void large_return_run(Segment* segment, Page* page) noexcept {
  Shard& shard = shards[segment->shard];
  LockGuard guard(shard.lock);
  page->in_use = false;
  count(&Counters::large_blocks, -1);
  count(&Counters::large_bytes, -static_cast<std::int64_t>(page->block_size));
  return_units(segment, static_cast<unsigned>(page - segment->pages), page->reserved);
  // An empty segment goes to the cache, where the next segment of any kind
  // (small and medium pages too) reuses its resident units, unless it is the
  // shard's only one: a program that allocates and frees one big buffer over
  // and over keeps its segment (taking it from the cache each time costs
  // ~250 ns). The purge check hands that one over once its delay passed.
  if (segment->used_pages == 0 && (segment->next != nullptr || segment->prev != nullptr)) {
    segment_list_remove(shard.segments, segment);
    segment_release(segment);
  }
}

std::size_t large_usable_size(Segment*, const Page* page, const void* block) noexcept {
  return static_cast<std::size_t>(page->area + page->block_size - static_cast<const char*>(block));
}

namespace {

/// Grows or shrinks a large block over the units after it (shard lock
/// taken here); growth over resident units only when `over` says so.
std::size_t resize_large_run(Segment* segment, Page* page, std::size_t rounded, GrowOver over) noexcept {
  const std::size_t old = page->block_size;
  if (rounded > large_block_max) return old;
  const unsigned first = static_cast<unsigned>(page - segment->pages);
  const unsigned units = page->reserved;
  const unsigned wanted = units_for(rounded);
  if (first + wanted > units_per_segment) return old;
  LockGuard guard(shards[segment->shard].lock);
  if (wanted > units) {
    const std::uint64_t more = run_mask(first + units, wanted - units);
    if ((segment->free_pages & more) != more) return old;
    if (over == GrowOver::resident_slots && (segment->dirty_pages & more) != more) return old;
    count(&Counters::bytes_committed,
          static_cast<std::int64_t>(count_ones(more & ~segment->dirty_pages)) << Config::large_unit_shift);
    segment->free_pages &= ~more;
    segment->dirty_pages &= ~more;
    segment->expiring_pages &= ~more;
    segment->used_pages += wanted - units;
    clear_unit_descriptors(segment, first + units, first + wanted);
    const std::size_t end = std::size_t{first + wanted} << Config::large_unit_shift;
    if (end > segment->touched_end) segment->touched_end = end;
  } else if (wanted < units) {
    return_units(segment, first + wanted, units - wanted);
  }
  page->reserved = static_cast<std::uint16_t>(wanted);
  page->block_size = rounded;
  count(&Counters::large_bytes, static_cast<std::int64_t>(rounded) - static_cast<std::int64_t>(old));
  return rounded;
}

}  // namespace

std::size_t large_resize_in_place(Segment* segment, Page* page, void* block, std::size_t new_size) noexcept {
  std::size_t rounded = 0;
  if (new_size > SIZE_MAX / 2 || !round_to_os_pages(new_size, &rounded)) return page->block_size;
  if (segment->kind == SegmentKind::large) return resize_large_run(segment, page, rounded);
  if (segment->kind == SegmentKind::heap) return heap_resize_large(page, rounded);
  const std::size_t offset = static_cast<std::size_t>(static_cast<char*>(block) - reinterpret_cast<char*>(segment));
  const std::size_t old = page->block_size;
  const std::size_t new_total = offset + rounded;
  const std::size_t old_total = segment->mapping_size;
  if (new_total == old_total) return old;
  if (new_total < old_total && old_total - new_total < 64 * 1024) return old;  // not worth a system call
  if (!platform::resize_in_place(segment, old_total, new_total)) return old;
  segment->mapping_size = new_total;
  segment->touched_end = new_total;
  page->block_size = rounded;
  count_huge_mapping(static_cast<std::int64_t>(new_total) - static_cast<std::int64_t>(old_total));
  count(&Counters::huge_bytes, static_cast<std::int64_t>(rounded) - static_cast<std::int64_t>(old));
  return rounded;
}

bool large_purge(std::uint64_t now_ms, bool force) noexcept {
  bool waits = false;
  for (Shard& shard : shards) {
    if (force) {
      shard.lock.lock();
    } else if (!shard.lock.try_lock()) {
      waits = true;  // another thread is using the shard; a later check purges it
      continue;
    }
    for (Segment* segment = shard.segments; segment != nullptr;) {
      Segment* following = segment->next;
      const bool expired = force || (segment->purge_deadline_ms != 0 && segment->purge_deadline_ms <= now_ms);
      if (segment->used_pages == 0 && expired) {
        segment_list_remove(shard.segments, segment);
        segment_release(segment);  // the cache purges or reuses it
      } else {
        if (segment->dirty_pages != 0) segment_purge_pages(segment, now_ms, force);
        // Free units not yet due, or a whole segment waiting to go.
        if (segment->purge_deadline_ms != 0) waits = true;
      }
      segment = following;
    }
    shard.lock.unlock();
  }
  return waits;
}

void large_fork_prepare() noexcept {
  for (Shard& shard : shards) shard.lock.lock();
}
void large_fork_parent() noexcept {
  for (Shard& shard : shards) shard.lock.unlock();
}
void large_fork_child() noexcept {
  for (Shard& shard : shards) shard.lock.reset();
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
  count_huge_mapping(static_cast<std::int64_t>(new_total) - static_cast<std::int64_t>(old_total));
  count(&Counters::huge_bytes, static_cast<std::int64_t>(rounded) - static_cast<std::int64_t>(old_usable));
  return moved_page->area;
}

Segment* huge_segment_before(const void* block) noexcept {
  const auto address = reinterpret_cast<std::uintptr_t>(block);
  if ((address & segment_offset_mask) != 0 || address < segment_size) return nullptr;
  const std::uintptr_t header = address - segment_size;
  if (segment_map_load(segment_map_index(header), std::memory_order_acquire) == 0) return nullptr;
  auto* segment = reinterpret_cast<Segment*>(header);
  if (segment->kind != SegmentKind::huge || segment->pages[0].area != block) return nullptr;
  return segment;
}

}  // namespace globalloc::fast
