// The fast allocator's public API (include/globalloc/fast_allocator.hpp):
// the allocation and free fast paths, and the dispatch of everything else to
// the slow paths of the heap, large and huge blocks.
//
// Fast path of allocate: size and alignment -> direct-table index -> current
// page -> pop the first block of its free list. Fast path of deallocate:
// segment map byte -> segment (mask) -> page (shift) -> owned by this
// thread? -> push onto the page's local free list. Everything else is out of
// line, so these two stay a handful of instructions each.
#include "globalloc/fast_allocator.hpp"

#include <bit>
#include <cerrno>
#include <cstring>

#include "fast/heap.hpp"
#include "fast/large.hpp"
#include "fast/misuse.hpp"
#include "fast/segment.hpp"
#include "fast/size_classes.hpp"
#include "fast/stats.hpp"
#include "platform/os_memory.hpp"

namespace globalloc::fast {

namespace {

/// Bit a of this mask is set for the alignments the fast path serves: 1, 2, 4, 8, 16.
constexpr unsigned small_alignments = (1u << 1) | (1u << 2) | (1u << 4) | (1u << 8) | (1u << 16);

[[gnu::always_inline]] inline void* pop_block(Page* page) noexcept {
  return page_pop(page);
}

/// A current page ran dry: its local frees, else the slow path of its class,
/// which `class_of_page()` works out only then. Every allocation path ends
/// here when its pop fails (out of line from the fast paths, which keep no
/// frame), so none pops or tries the refill twice.
template <class ClassOfPage>
[[gnu::always_inline]] inline void* refill_or_slow(Page* page, ClassOfPage class_of_page) noexcept {
  page_check_head(page);
  if (void* block = heap_refill_local(page)) [[likely]] return block;
  return heap_allocate_slow(class_of_page());
}

void* allocate_class(unsigned size_class) noexcept {
  Page* page = thread_heap->current[size_class];
  void* block = pop_block(page);
  if (block != nullptr) [[likely]] return block;
  return refill_or_slow(page, [size_class] { return size_class; });
}

/// allocate's current page (entry `index` of the direct table) ran dry.
[[gnu::noinline]] void* allocate_refill(Page* page, std::size_t index) noexcept {
  return refill_or_slow(page, [index] { return direct_class_of_index(index); });
}

void* allocate_generic_unchecked(std::size_t size, std::size_t alignment, bool zero) noexcept {
  if (!is_valid_alignment(alignment)) return nullptr;
  if (size == 0) size = 16;  // as on the fast path: size 0 is served by the 16-byte class
  void* block;
  if (alignment <= small_alignment_max) {
    if (size > Config::medium_block_max) return large_allocate(size, alignment, zero);
    block = allocate_class(class_of(align_up(size, alignment)));
  } else {
    const unsigned size_class = over_aligned_class(size, alignment);
    if (size_class >= class_count) return large_allocate(size, alignment, zero);
    block = allocate_class(size_class);
  }
  if (zero && block != nullptr) std::memset(block, 0, size);
  return block;
}

[[gnu::noinline]] void* allocate_generic(std::size_t size, std::size_t alignment, bool zero) noexcept {
  return allocate_generic_unchecked(size, alignment, zero);
}

}  // namespace

/// allocate past its fast path, and the entry of the aligned interfaces.
/// Over-aligned small and medium blocks take the class from a table and pop
/// from the class's current page, as allocate_class does, without searching
/// for the class (wl-aligned: about 25 fewer instructions per allocation
/// than the search in allocate_generic, which took 67 in all). Out of line,
/// so allocate's own fast path needs no stack frame.
void* allocate_over_aligned(std::size_t size, std::size_t alignment) noexcept {
  if (alignment > small_alignment_max && alignment <= aligned_table_size && size <= aligned_table_size &&
      (alignment & (alignment - 1)) == 0) {
    // An empty current page goes to the slow path with the class in hand,
    // not back through allocate_generic's validation and class search.
    return allocate_class(aligned_class_of(size, alignment));
  }
  return allocate_generic(size, alignment, false);
}

namespace {

/// allocate_natural past its fast path: a null result sets errno to ENOMEM,
/// so malloc needs no test of its own (FastAllocator::allocate_sets_errno).
[[gnu::noinline]] void* allocate_natural_slow(std::size_t size) noexcept {
  // Above the natural table, a medium or small block's class comes straight
  // from its size: the natural alignment there is 16, which every class
  // from 128 bytes up has (allocate_generic's checks of the alignment and
  // its rounding cost a 2-16 KiB malloc+free 11 instructions: 4 KiB, 102 -> 91).
  static_assert(natural_alignment(Config::direct_size_max + 1) == small_alignment_max);
  static_assert([] {
    for (unsigned c = class_of(Config::direct_size_max + 1); c < class_count; ++c)
      if (class_size(c) % small_alignment_max != 0) return false;
    return true;
  }());
  void* block = size <= Config::medium_block_max ? allocate_class(class_of(size))
                                                 : allocate_generic_unchecked(size, natural_alignment(size), false);
  if (block == nullptr) [[unlikely]] errno = ENOMEM;
  return block;
}

/// allocate_natural's current page (entry `index` of the natural table) ran
/// dry: refill_or_slow, and errno as allocate_natural_slow sets it.
[[gnu::noinline]] void* allocate_natural_refill(Page* page, std::size_t index) noexcept {
  void* block = refill_or_slow(page, [index] { return natural_class_of_index(index); });
  if (block == nullptr) [[unlikely]] errno = ENOMEM;
  return block;
}

/// Finds the segment holding `block`: its own region's header, or for huge
/// blocks aligned to 4 MiB or more, the header in the region below.
Segment* find_segment(const void* block) noexcept {
  Segment* segment = segment_lookup(block);
  return segment != nullptr ? segment : huge_segment_before(block);
}

[[gnu::noinline, gnu::cold]] void free_unregistered(void* block) noexcept {
  if (block == nullptr) return;
  if (Segment* segment = huge_segment_before(block)) {
    large_free(segment, &segment->pages[0], block, "free");
    return;
  }
  if constexpr (Config::mitigations.detect_invalid_free) report_invalid_free(block, "free");
}


bool is_small_kind(const Segment* segment) noexcept {
  return segment->kind == SegmentKind::heap;
}

/// The size to allocate when reallocate moves a small or medium block to a
/// bigger one: an eighth more than asked (one class step), within the medium
/// sizes. A buffer grown a little at a time then moves and is copied about
/// half as often; the slack is what its next growth uses. (wl-realloc: 370 ->
/// 300 ms of CPU, peak RSS unchanged; a quarter more cost 4 MiB of RSS.)
std::size_t growth_size(const Segment* segment, std::size_t old_usable, std::size_t new_size) noexcept {
  if (!is_small_kind(segment) || new_size <= old_usable || new_size < Config::direct_size_max) return new_size;
  const std::size_t padded = new_size + new_size / 8;
  return padded <= Config::medium_block_max ? padded : (new_size > Config::medium_block_max ? new_size : Config::medium_block_max);
}

}  // namespace

void* allocate(std::size_t size, std::size_t alignment) noexcept {
  if (size <= Config::direct_size_max && alignment <= small_alignment_max &&
      ((small_alignments >> alignment) & 1) != 0) [[likely]] {
    const std::size_t index = (((size + alignment - 1) & ~(alignment - 1)) + 7) >> 3;
    Page* page = thread_heap->direct[index];
    void* block = pop_block(page);
    if (block != nullptr) [[likely]] return block;
    return allocate_refill(page, index);
  }
  return allocate_over_aligned(size, alignment);
}

void* allocate_natural(std::size_t size) noexcept {
  // The malloc / operator new(size) path: no alignment arithmetic, the
  // natural table already folds the rounding to 16 in.
  if (size <= Config::direct_size_max) [[likely]] {
    const std::size_t index = (size + 7) >> 3;
    Page* page = thread_heap->natural[index];
    void* block = pop_block(page);
    if (block != nullptr) [[likely]] return block;
    return allocate_natural_refill(page, index);
  }
  return allocate_natural_slow(size);
}

void* allocate_zeroed(std::size_t size, std::size_t alignment) noexcept {
  if (size <= Config::medium_block_max) {
    void* block = allocate(size, alignment);
    if (block != nullptr) std::memset(block, 0, size);
    return block;
  }
  return allocate_generic(size, alignment, true);
}

void deallocate(void* pointer) noexcept {
  const auto address = reinterpret_cast<std::uintptr_t>(pointer);
  const unsigned shift = segment_map_load(segment_map_index(address), std::memory_order_relaxed);
  if (shift == 0) [[unlikely]] {
    free_unregistered(pointer);
    return;
  }
  // Integer arithmetic on purpose: it lets the compiler fold the descriptor
  // offset into the address modes instead of recomputing the index.
  const std::uintptr_t descriptor = ((address & segment_offset_mask) >> shift) * sizeof(Page);
  auto* page = reinterpret_cast<Page*>((address & ~segment_offset_mask) + offsetof(Segment, pages) + descriptor);
  ThreadHeap* heap = thread_heap;
  if (page->owner_tag.load(std::memory_order_relaxed) != reinterpret_cast<std::uintptr_t>(heap)) [[unlikely]] {
    free_slow(page, pointer);
    return;
  }
  auto* block = static_cast<Block*>(pointer);
  if constexpr (Config::mitigations.detect_interior_free) {
    if (!page_is_block_start(page, address)) [[unlikely]] report_invalid_free(pointer, "free");
  }
  void* const head = page->local_free;
  if constexpr (Config::mitigations.detect_double_free) {
    // The block just freed is the head of the local list: an immediate
    // double free. Compared, not read (see Mitigations::detect_double_free).
    if (head == pointer) [[unlikely]] report_double_free(pointer, "free");
  }
  block->encoded_next = page->encode(head, block);
  page->local_free = block;
  if (--page->used == 0) [[unlikely]] heap_page_emptied(heap, page);
}

void deallocate_sized(void* block, std::size_t, std::size_t) noexcept {
  // The size is only a hint; a wrong one must not corrupt anything, and the
  // address alone finds the page as fast as the size would find the class.
  deallocate(block);
}

std::size_t usable_size(const void* block) noexcept {
  if (block == nullptr) return 0;
  Segment* segment = find_segment(block);
  if (segment == nullptr) return 0;
  Page* page = segment_page_of(segment, block);
  if (segment_lookup(block) != segment) page = &segment->pages[0];
  if (!is_small_kind(segment)) return large_usable_size(segment, page, block);
  return page->block_size;
}

std::size_t usable_size_for(std::size_t size, std::size_t alignment) noexcept {
  if (!is_valid_alignment(alignment) || size > SIZE_MAX / 2) return 0;
  if (size == 0) size = 16;  // the fast path serves size 0 from the 16-byte class
  unsigned size_class = class_count;
  if (alignment <= small_alignment_max) {
    if (size <= Config::medium_block_max) size_class = class_of(align_up(size, alignment));
  } else {
    size_class = over_aligned_class(size, alignment);
  }
  if (size_class < class_count) return class_size(size_class);
  // Large and huge blocks are whole OS pages.
  const std::size_t page = platform::page_size();
  if (size == 0) return page;
  return (size + page - 1) & ~(page - 1);
}

bool owns(const void* block) noexcept {
  if (block == nullptr) return false;
  Segment* segment = find_segment(block);
  if (segment == nullptr) return false;
  Page* page = segment_lookup(block) == segment ? segment_page_of(segment, block) : &segment->pages[0];
  if (!page->in_use) return false;
  if (!is_small_kind(segment)) return block == page->area;
  return page_has_carved_block_at(page, reinterpret_cast<std::uintptr_t>(block));
}

namespace {

/// realloc and resize_in_place must find a live block, as free does: grown
/// in place, a freed large block would take units that are free, and a
/// freed small one would go back to the program while still on a free list.
/// Reports what free would (a pointer never returned, a block freed
/// already) and aborts. The small-block test reads the block's first word,
/// which the caller is about to copy or hand back anyway; the list scan that
/// confirms it is the free slow path's, for pages of the calling thread.
/// (Unused where detect_invalid_free is off: the unchecked build.)
[[gnu::noinline, maybe_unused]] void check_live_block(Segment* segment, Page* page, void* block, const char* operation) noexcept {
  const auto address = reinterpret_cast<std::uintptr_t>(block);
  const auto area = reinterpret_cast<std::uintptr_t>(page->area);
  if (!page->in_use) {
    // A page that went back to its segment: its first block (a large block
    // is its page's only one) was freed, or the pointer is stale.
    if (address == area) report_freed_block_use(block, operation);
    report_invalid_free(block, operation);
  }
  if (!is_small_kind(segment) || page->size_class == large_page_class) {
    if (address != area) report_invalid_free(block, operation);
    return;
  }
  if (!page_has_carved_block_at(page, address)) report_invalid_free(block, operation);
  if constexpr (Config::mitigations.detect_double_free) {
    if (page->owner.load(std::memory_order_relaxed) == thread_heap && page_block_is_free(page, block)) {
      report_freed_block_use(block, operation);
    }
  }
}

}  // namespace

std::size_t resize_in_place(void* block, std::size_t new_size) noexcept {
  if (block == nullptr) return 0;
  Segment* segment = find_segment(block);
  if (segment == nullptr) {
    if constexpr (Config::mitigations.detect_invalid_free) report_invalid_free(block, "resize_in_place");
    return 0;
  }
  Page* page = segment_lookup(block) == segment ? segment_page_of(segment, block) : &segment->pages[0];
  if constexpr (Config::mitigations.detect_invalid_free) check_live_block(segment, page, block, "resize_in_place");
  if (is_small_kind(segment) && page->size_class != large_page_class) return page->block_size;
  // A large block shrunk to a small size would keep its whole segment: fine
  // for resize_in_place, whose caller asked not to move.
  return large_resize_in_place(segment, page, block, new_size);
}

void* reallocate(void* block, std::size_t new_size, std::size_t alignment) noexcept {
  if (block == nullptr) return allocate(new_size, alignment);
  if (!is_valid_alignment(alignment)) return nullptr;
  Segment* segment = find_segment(block);
  if (segment == nullptr) {
    if constexpr (Config::mitigations.detect_invalid_free) report_invalid_free(block, "realloc");
    return nullptr;
  }
  Page* page = segment_lookup(block) == segment ? segment_page_of(segment, block) : &segment->pages[0];
  if constexpr (Config::mitigations.detect_invalid_free) check_live_block(segment, page, block, "realloc");
  const bool aligned = (reinterpret_cast<std::uintptr_t>(block) & (alignment - 1)) == 0;
  std::size_t old_usable;
  if (is_small_kind(segment)) {
    old_usable = page->block_size;
    // Stay when the new size fits and would not waste more than half.
    if (aligned && new_size <= old_usable && new_size >= old_usable / 2) return block;
    if (aligned && page->size_class == large_page_class && new_size > old_usable &&
        page->sampled_blocks.load(std::memory_order_relaxed) == 0 &&
        large_resize_in_place(segment, page, block, new_size) >= new_size) {
      return block;
    }
  } else {
    old_usable = large_usable_size(segment, page, block);
    // A recorded (sampled) block moves the ordinary way, so that the
    // profiler hears of its free.
    if (aligned && new_size > Config::medium_block_max && page->sampled_blocks.load(std::memory_order_relaxed) == 0) {
      if (segment->kind == SegmentKind::huge) {
        if (void* moved = huge_reallocate(segment, page, block, new_size)) return moved;
      } else if (large_resize_in_place(segment, page, block, new_size) >= new_size) {
        return block;
      }
    }
  }
  void* fresh = allocate(growth_size(segment, old_usable, new_size), alignment);
  if (fresh == nullptr) return nullptr;
  std::memcpy(fresh, block, old_usable < new_size ? old_usable : new_size);
  deallocate(block);
  return fresh;
}

void purge() noexcept { heap_purge_all(); }

bool trim() noexcept {
  // What went back shows in the counters: bytes discarded, or mappings
  // (segments, huge blocks) released. Other threads may move them too; an
  // answer for the process, as glibc's.
  const std::int64_t purged = counter_total(&Counters::bytes_purged_total);
  const std::int64_t mapped = counter_total(&Counters::bytes_mapped);
  heap_purge_all();
  return counter_total(&Counters::bytes_purged_total) > purged || counter_total(&Counters::bytes_mapped) < mapped;
}

}  // namespace globalloc::fast
