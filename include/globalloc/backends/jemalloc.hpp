// jemalloc as a globalloc allocator, through its extended API (mallocx and
// friends), which takes the alignment, the size at free time, and resizes in
// place. Link libjemalloc (globalloc::jemalloc does both).
#pragma once

#include <jemalloc/jemalloc.h>

#include "globalloc/layout.hpp"

namespace globalloc {

/// jemalloc in the shape of the allocator contract, through mallocx, sdallocx,
/// rallocx, xallocx, sallocx and nallocx. A size of 0 is served as 1 byte;
/// an invalid layout gives null.
struct JemallocAllocator {
  static constexpr const char* name = "jemalloc";  ///< the allocator's name
  /// @cond
  // Implementation helpers, left out of the API reference.
  // mallocx(0) is undefined in jemalloc: a zero-size block is a 1-byte one.
  static std::size_t nonzero(std::size_t size) noexcept { return size == 0 ? 1 : size; }
  static int flags(Layout layout) noexcept {
    return layout.align > natural_alignment(layout.size) ? MALLOCX_ALIGN(layout.align) : 0;
  }
  /// @endcond
  /// mallocx, with MALLOCX_ALIGN when the alignment exceeds the natural one.
  static void* allocate(Layout layout) noexcept {
    if (!is_valid_layout(layout)) return nullptr;
    return mallocx(nonzero(layout.size), flags(layout));
  }
  /// As allocate, with MALLOCX_ZERO.
  static void* allocate_zeroed(Layout layout) noexcept {
    if (!is_valid_layout(layout)) return nullptr;
    return mallocx(nonzero(layout.size), flags(layout) | MALLOCX_ZERO);
  }
  /// sdallocx with the block's size and alignment; null is a no-op.
  static void deallocate(void* block, Layout layout) noexcept {
    if (block != nullptr) sdallocx(block, nonzero(layout.size), flags(layout));
  }
  /// rallocx keeping `old_layout.align`; a null block allocates.
  static void* reallocate(void* block, Layout old_layout, std::size_t new_size) noexcept {
    const Layout layout{new_size, old_layout.align};
    if (!is_valid_layout(layout)) return nullptr;
    if (block == nullptr) return allocate(layout);
    return rallocx(block, nonzero(new_size), flags(layout));
  }
  /// xallocx: resizes without moving and returns the usable size afterwards
  /// (the current one, from sallocx, when the new layout is invalid).
  static std::size_t resize_in_place(void* block, Layout old_layout, std::size_t new_size) noexcept {
    if (!is_valid_layout(Layout{new_size, old_layout.align})) return sallocx(block, 0);
    return xallocx(block, nonzero(new_size), 0, flags(Layout{new_size, old_layout.align}));
  }
  /// nallocx: the size jemalloc would really give that layout (`layout.size`
  /// when the layout is invalid or nallocx cannot tell).
  static std::size_t usable_size(Layout layout) noexcept {
    if (!is_valid_layout(layout)) return layout.size;
    const std::size_t usable = nallocx(nonzero(layout.size), flags(layout));
    return usable == 0 ? layout.size : usable;
  }
  /// dallocx; null is a no-op.
  static void deallocate(void* block) noexcept {
    if (block != nullptr) dallocx(block, 0);
  }
  /// sallocx: the block's real size; 0 for null.
  static std::size_t usable_size(const void* block) noexcept { return block == nullptr ? 0 : sallocx(block, 0); }
  /// C realloc through rallocx without alignment flags; null for sizes above
  /// SIZE_MAX / 2. A null block allocates with natural_alignment(new_size).
  static void* reallocate(void* block, std::size_t new_size) noexcept {
    if (block == nullptr) return allocate(Layout{new_size, natural_alignment(new_size)});
    if (new_size > SIZE_MAX / 2) return nullptr;
    return rallocx(block, nonzero(new_size), 0);
  }
};

}  // namespace globalloc
