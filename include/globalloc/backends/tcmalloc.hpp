// tcmalloc (gperftools) as a globalloc allocator, through its tc_ API.
// Link libtcmalloc_minimal (globalloc::tcmalloc does both).
#pragma once

#include <gperftools/nallocx.h>
#include <gperftools/tcmalloc.h>

#include <cstring>

#include "globalloc/layout.hpp"

namespace globalloc {

struct TcmallocAllocator {
  static constexpr const char* name = "tcmalloc";
  static bool plain(Layout layout) noexcept { return layout.align <= natural_alignment(layout.size); }

  static void* allocate(Layout layout) noexcept {
    if (!is_valid_layout(layout)) return nullptr;
    // The _skip_new_handler form: the contract returns null, it never calls
    // the new-handler (the override layer does that for operator new).
    return plain(layout) ? tc_malloc_skip_new_handler(layout.size) : tc_memalign(layout.align, layout.size);
  }
  static void deallocate(void* block, Layout layout) noexcept {
    if (block == nullptr) return;
    if (plain(layout) && layout.size != 0) {
      tc_free_sized(block, layout.size);
    } else {
      tc_free(block);
    }
  }
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
  static std::size_t resize_in_place(void* block, Layout, std::size_t) noexcept { return tc_malloc_size(block); }
  static std::size_t usable_size(Layout layout) noexcept {
    if (!plain(layout) || !is_valid_layout(layout)) return layout.size;
    const std::size_t usable = tc_nallocx(layout.size, 0);
    return usable < layout.size ? layout.size : usable;
  }
  static void deallocate(void* block) noexcept { tc_free(block); }
  static std::size_t usable_size(const void* block) noexcept {
    return block == nullptr ? 0 : tc_malloc_size(const_cast<void*>(block));
  }
  static void* reallocate(void* block, std::size_t new_size) noexcept {
    if (new_size > SIZE_MAX / 2) return nullptr;
    return tc_realloc(block, new_size == 0 ? 1 : new_size);
  }
};

}  // namespace globalloc
