// tcmalloc (gperftools) as a globalloc allocator, through its tc_ API.
// Link libtcmalloc_minimal (globalloc::tcmalloc does both).
#pragma once

#include <gperftools/nallocx.h>
#include <gperftools/tcmalloc.h>

#include <cstring>

#include "globalloc/layout.hpp"

namespace globalloc {

/// tcmalloc (gperftools) in the shape of the allocator contract, through its
/// tc_ functions. An invalid layout gives null; the new-handler is never called.
struct TcmallocAllocator {
  static constexpr const char* name = "tcmalloc";  ///< the allocator's name
  /// @cond
  // Implementation helper, left out of the API reference.
  static bool plain(Layout layout) noexcept { return layout.align <= natural_alignment(layout.size); }
  /// @endcond

  /// tc_malloc_skip_new_handler, or tc_memalign for alignments above the natural one.
  static void* allocate(Layout layout) noexcept {
    if (!is_valid_layout(layout)) return nullptr;
    // The _skip_new_handler form: the contract returns null, it never calls
    // the new-handler (the override layer does that for operator new).
    return plain(layout) ? tc_malloc_skip_new_handler(layout.size) : tc_memalign(layout.align, layout.size);
  }
  /// tc_free_sized for naturally aligned non-empty blocks, else tc_free; null is a no-op.
  static void deallocate(void* block, Layout layout) noexcept {
    if (block == nullptr) return;
    if (plain(layout) && layout.size != 0) {
      tc_free_sized(block, layout.size);
    } else {
      tc_free(block);
    }
  }
  /// tc_realloc for naturally aligned layouts (size 0 asks for 1 byte); above
  /// that, the block itself when it already holds `new_size`, else moved by
  /// hand to a new over-aligned block. A null block allocates.
  static void* reallocate(void* block, Layout old_layout, std::size_t new_size) noexcept {
    const Layout layout{new_size, old_layout.align};
    if (!is_valid_layout(layout)) return nullptr;
    if (block == nullptr) return allocate(layout);
    if (plain(layout)) return tc_realloc(block, new_size == 0 ? 1 : new_size);
    // tc_realloc forgets alignments above 16: move by hand.
    const std::size_t usable = tc_malloc_size(block);
    if (new_size <= usable) return block;
    void* moved = allocate(layout);
    if (moved == nullptr) return nullptr;
    std::memcpy(moved, block, old_layout.size < usable ? old_layout.size : usable);
    tc_free(block);
    return moved;
  }
  /// Never changes the block: returns its usable size (tc_malloc_size), so the
  /// resize succeeds exactly when `new_size` already fits.
  static std::size_t resize_in_place(void* block, Layout, std::size_t) noexcept { return tc_malloc_size(block); }
  /// tc_nallocx for naturally aligned layouts (at least `layout.size`), else `layout.size`.
  static std::size_t usable_size(Layout layout) noexcept {
    if (!plain(layout) || !is_valid_layout(layout)) return layout.size;
    const std::size_t usable = tc_nallocx(layout.size, 0);
    return usable < layout.size ? layout.size : usable;
  }
  /// tc_free; null is a no-op.
  static void deallocate(void* block) noexcept { tc_free(block); }
  /// tc_malloc_size: the block's real size; 0 for null.
  static std::size_t usable_size(const void* block) noexcept {
    return block == nullptr ? 0 : tc_malloc_size(const_cast<void*>(block));
  }
  /// C realloc: tc_realloc (size 0 asks for 1 byte); null for sizes above SIZE_MAX / 2.
  static void* reallocate(void* block, std::size_t new_size) noexcept {
    if (new_size > SIZE_MAX / 2) return nullptr;
    return tc_realloc(block, new_size == 0 ? 1 : new_size);
  }
};

}  // namespace globalloc
