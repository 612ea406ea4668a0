// The fast allocator's explicit C++ API: thread-caching, size classes of at
// most 12.5% waste, pages carved from OS segments, lock-free remote frees and
// delayed return of free memory to the OS. `FastAllocator` is the contract
// shape of it, the default global allocator of every executable linked with
// globalloc_link(). The implementation lives in src/fast/.
#pragma once

#include <cstddef>

#include "globalloc/layout.hpp"

namespace globalloc::fast {

/// A block of at least `size` bytes aligned to `align` (a power of two), or
/// null when memory is exhausted or the request cannot be met. Size 0 gives a
/// unique pointer.
[[nodiscard]] void* allocate(std::size_t size, std::size_t align) noexcept;
/// allocate(size, natural_alignment(size)): the request of malloc(size) and
/// operator new(size), served from a table that needs no alignment arithmetic.
/// Sets errno to ENOMEM when it fails.
[[nodiscard]] void* allocate_natural(std::size_t size) noexcept;
/// allocate for a caller whose alignment is above 16 (posix_memalign,
/// aligned_alloc, aligned operator new): skips allocate's test for the small
/// alignments its table serves. Any size and alignment give what allocate
/// gives, only more slowly for alignments of 16 or less.
[[nodiscard]] void* allocate_over_aligned(std::size_t size, std::size_t align) noexcept;
/// As allocate, with the block's first `size` bytes zero.
[[nodiscard]] void* allocate_zeroed(std::size_t size, std::size_t align) noexcept;
/// Frees a block this allocator returned; null is a no-op.
void deallocate(void* block) noexcept;
/// Frees a block whose size and alignment the caller knows (a hint).
void deallocate_sized(void* block, std::size_t size, std::size_t align) noexcept;
/// Moves or resizes `block` to hold `new_size` bytes aligned to `align`. On
/// failure returns null and leaves `block` untouched. A null block allocates.
[[nodiscard]] void* reallocate(void* block, std::size_t new_size, std::size_t align) noexcept;
/// Grows or shrinks without moving; returns the usable size afterwards, which
/// is >= new_size exactly when the resize succeeded.
std::size_t resize_in_place(void* block, std::size_t new_size) noexcept;
/// Bytes the block really holds (>= the size it was allocated with); 0 for null.
std::size_t usable_size(const void* block) noexcept;
/// Bytes a block of this size and alignment would hold.
std::size_t usable_size_for(std::size_t size, std::size_t align) noexcept;
/// True when `block` points to the start of a live or free block of this allocator.
bool owns(const void* block) noexcept;
/// Returns free memory to the OS now: the calling thread's cached pages and
/// every page that has fallen free, without waiting for the purge delay.
void purge() noexcept;
/// purge(), and whether any memory went back to the OS (malloc_trim's answer).
bool trim() noexcept;

}  // namespace globalloc::fast

namespace globalloc {

/// The fast allocator in the shape of the allocator contract.
struct FastAllocator {
  static constexpr const char* name = "fast";  ///< the allocator's name
  /// deallocate never changes errno (its system calls restore it), so free()
  /// needs no save and restore around it.
  static constexpr bool preserves_errno = true;
  /// deallocate(nullptr) (and deallocate(nullptr, layout)) is a no-op found
  /// off the fast path (no segment is registered at address 0), so free()
  /// and operator delete need no null test of their own.
  static constexpr bool deallocate_accepts_null = true;
  /// A null result from allocate for a natural layout (malloc's) has set
  /// errno to ENOMEM already, so malloc() can return it as it is (and
  /// tail-call the allocator).
  static constexpr bool allocate_sets_errno = true;
  /// fast::allocate with the layout's size and alignment; fast::allocate_natural
  /// (which sets errno to ENOMEM on failure) when the alignment is the natural
  /// one, and fast::allocate_over_aligned when it is above every natural one.
  static void* allocate(Layout layout) noexcept {
    // Folds to one call when the layout comes from malloc(size) or operator
    // new(size) (align == natural_alignment(size) by construction), or from
    // posix_memalign, aligned_alloc or aligned new with an alignment above
    // the default (EntryPoints::aligned).
    if (layout.align == natural_alignment(layout.size)) return fast::allocate_natural(layout.size);
    if (layout.align > default_alignment) return fast::allocate_over_aligned(layout.size, layout.align);
    return fast::allocate(layout.size, layout.align);
  }
  /// fast::allocate_zeroed with the layout's size and alignment.
  static void* allocate_zeroed(Layout layout) noexcept { return fast::allocate_zeroed(layout.size, layout.align); }
  /// fast::deallocate: the layout is only a hint (fast::deallocate_sized
  /// ignores it too), so sized delete neither computes the natural alignment
  /// nor takes a second jump; null is a no-op.
  static void deallocate(void* block, Layout) noexcept { fast::deallocate(block); }
  /// fast::reallocate keeping `old_layout.align`: null on failure with
  /// `block` untouched; a null block allocates.
  static void* reallocate(void* block, Layout old_layout, std::size_t new_size) noexcept {
    return fast::reallocate(block, new_size, old_layout.align);
  }
  /// fast::resize_in_place: never moves; the usable size afterwards, >= new_size
  /// exactly on success. The layout is not needed.
  static std::size_t resize_in_place(void* block, Layout, std::size_t new_size) noexcept {
    return fast::resize_in_place(block, new_size);
  }
  /// fast::usable_size_for: the bytes a block of that layout would hold.
  static std::size_t usable_size(Layout layout) noexcept { return fast::usable_size_for(layout.size, layout.align); }
  /// fast::deallocate; null is a no-op.
  static void deallocate(void* block) noexcept { fast::deallocate(block); }
  /// fast::usable_size: the bytes the block really holds; 0 for null.
  static std::size_t usable_size(const void* block) noexcept { return fast::usable_size(block); }
  /// C realloc: the block keeps the default alignment.
  static void* reallocate(void* block, std::size_t new_size) noexcept {
    return fast::reallocate(block, new_size, default_alignment);
  }
  /// malloc_trim: fast::trim (every free page back now; the pad is moot,
  /// nothing here grows by moving a break).
  static bool trim(std::size_t) noexcept { return fast::trim(); }
};

}  // namespace globalloc
