// mimalloc as a globalloc allocator, through its aligned and sized API.
// Link libmimalloc (globalloc::mimalloc does both).
#pragma once

#include <mimalloc.h>

#include "globalloc/layout.hpp"

namespace globalloc {

/// mimalloc in the shape of the allocator contract: mi_malloc and friends when
/// the natural alignment of the size suffices, the mi_*_aligned forms above it.
/// An invalid layout gives null.
struct MimallocAllocator {
  static constexpr const char* name = "mimalloc";  ///< the allocator's name
  /// @cond
  // Implementation helpers, left out of the API reference.
  static bool plain(Layout layout) noexcept { return layout.align <= natural_alignment(layout.size); }

  // mimalloc before 2.1 (Debian 12 ships 2.0.9) returns blocks only 128-byte
  // aligned from mi_malloc_aligned(size, align) when size is a power of two
  // from 256 to 1024 and align is 256 or more (upstream issue 700). Asking
  // for one byte more moves the request off those sizes.
  static std::size_t aligned_request(std::size_t size, std::size_t align) noexcept {
#if MI_MALLOC_VERSION < 210
    if (align >= 256 && size >= 256 && size <= 1024 && (size & (size - 1)) == 0) return size + 1;
#endif
    (void)align;
    return size;
  }
  /// @endcond

  /// mi_malloc, or mi_malloc_aligned for alignments above the natural one.
  static void* allocate(Layout layout) noexcept {
    if (!is_valid_layout(layout)) return nullptr;
    return plain(layout) ? mi_malloc(layout.size) : mi_malloc_aligned(aligned_request(layout.size, layout.align), layout.align);
  }
  /// mi_zalloc, or mi_zalloc_aligned for alignments above the natural one.
  static void* allocate_zeroed(Layout layout) noexcept {
    if (!is_valid_layout(layout)) return nullptr;
    return plain(layout) ? mi_zalloc(layout.size) : mi_zalloc_aligned(aligned_request(layout.size, layout.align), layout.align);
  }
  /// mi_free; the layout is not needed.
  static void deallocate(void* block, Layout) noexcept { mi_free(block); }
  /// mi_realloc, or mi_realloc_aligned to keep an alignment above the natural one.
  static void* reallocate(void* block, Layout old_layout, std::size_t new_size) noexcept {
    const Layout layout{new_size, old_layout.align};
    if (!is_valid_layout(layout)) return nullptr;
    return plain(layout) ? mi_realloc(block, new_size) : mi_realloc_aligned(block, aligned_request(new_size, layout.align), layout.align);
  }
  /// mi_expand, then the block's usable size (>= new_size when it fits).
  static std::size_t resize_in_place(void* block, Layout, std::size_t new_size) noexcept {
    // mi_expand only grows within the block's size class; the usable size
    // then tells the caller whether new_size fits.
    (void)mi_expand(block, new_size);
    return mi_usable_size(block);
  }
  /// mi_good_size for naturally aligned layouts, else `layout.size`.
  static std::size_t usable_size(Layout layout) noexcept {
    return plain(layout) ? mi_good_size(layout.size) : layout.size;
  }
  /// mi_free; null is a no-op.
  static void deallocate(void* block) noexcept { mi_free(block); }
  /// mi_usable_size: the block's real size; 0 for null.
  static std::size_t usable_size(const void* block) noexcept { return mi_usable_size(block); }
  /// C realloc: mi_realloc.
  static void* reallocate(void* block, std::size_t new_size) noexcept { return mi_realloc(block, new_size); }
};

}  // namespace globalloc
