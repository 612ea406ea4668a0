// jemalloc as a globalloc allocator, through its extended API (mallocx and
// friends), which takes the alignment, the size at free time, and resizes in
// place. Link libjemalloc (globalloc::jemalloc does both).
#pragma once

#include <jemalloc/jemalloc.h>

#include "globalloc/layout.hpp"

namespace globalloc {

struct JemallocAllocator {
  static constexpr const char* name = "jemalloc";
  // mallocx(0) is undefined in jemalloc: a zero-size block is a 1-byte one.
  static std::size_t nonzero(std::size_t size) noexcept { return size == 0 ? 1 : size; }
  static int flags(Layout layout) noexcept {
    return layout.align > natural_alignment(layout.size) ? MALLOCX_ALIGN(layout.align) : 0;
  }
  static void* allocate(Layout layout) noexcept {
    if (!is_valid_layout(layout)) return nullptr;
    return mallocx(nonzero(layout.size), flags(layout));
  }
  static void* allocate_zeroed(Layout layout) noexcept {
    if (!is_valid_layout(layout)) return nullptr;
    return mallocx(nonzero(layout.size), flags(layout) | MALLOCX_ZERO);
  }
  static void deallocate(void* block, Layout layout) noexcept {
    if (block != nullptr) sdallocx(block, nonzero(layout.size), flags(layout));
  }
  static void* reallocate(void* block, Layout old_layout, std::size_t new_size) noexcept {
    const Layout layout{new_size, old_layout.align};
    if (!is_valid_layout(layout)) return nullptr;
    if (block == nullptr) return allocate(layout);
    return rallocx(block, nonzero(new_size), flags(layout));
  }
  static std::size_t resize_in_place(void* block, Layout old_layout, std::size_t new_size) noexcept {
    if (!is_valid_layout(Layout{new_size, old_layout.align})) return sallocx(block, 0);
    return xallocx(block, nonzero(new_size), 0, flags(Layout{new_size, old_layout.align}));
  }
  static std::size_t usable_size(Layout layout) noexcept {
    if (!is_valid_layout(layout)) return layout.size;
    const std::size_t usable = nallocx(nonzero(layout.size), flags(layout));
    return usable == 0 ? layout.size : usable;
  }
  static void deallocate(void* block) noexcept {
    if (block != nullptr) dallocx(block, 0);
  }
  static std::size_t usable_size(const void* block) noexcept { return block == nullptr ? 0 : sallocx(block, 0); }
  static void* reallocate(void* block, std::size_t new_size) noexcept {
    if (block == nullptr) return allocate(Layout{new_size, natural_alignment(new_size)});
    if (new_size > SIZE_MAX / 2) return nullptr;
    return rallocx(block, nonzero(new_size), 0);
  }
};

}  // namespace globalloc
