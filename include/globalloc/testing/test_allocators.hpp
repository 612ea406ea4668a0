// Small allocators for tests of the contract and of registration:
//   MinimalAllocator   the five required operations only (no pointer-only
//                      pair, no allocate_zeroed), as members of a stateless
//                      object, on the C library's posix_memalign;
//                      (static counters), so a test can see which allocator
//                      served a call, for instance across a shared library.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "globalloc/contract.hpp"
#include "globalloc/layout.hpp"

namespace globalloc::testing {

struct MinimalAllocator {
  static constexpr const char* name = "minimal";

  void* allocate(Layout layout) const noexcept {
    if (!is_valid_layout(layout)) return nullptr;
    const std::size_t align = layout.align < sizeof(void*) ? sizeof(void*) : layout.align;
    void* block = nullptr;
    if (::posix_memalign(&block, align, layout.size == 0 ? 1 : layout.size) != 0) return nullptr;
    return block;
  }
  void deallocate(void* block, Layout) const noexcept { std::free(block); }
  void* reallocate(void* block, Layout old_layout, std::size_t new_size) const noexcept {
    void* moved = allocate(Layout{new_size, old_layout.align});
    if (moved == nullptr) return nullptr;
    std::memcpy(moved, block, old_layout.size < new_size ? old_layout.size : new_size);
    deallocate(block, old_layout);
    return moved;
  }
  // Never grows: the block keeps what it was allocated with, which covers any
  // smaller size.
  std::size_t resize_in_place(void*, Layout old_layout, std::size_t) const noexcept { return old_layout.size; }
  std::size_t usable_size(Layout layout) const noexcept { return layout.size; }
};

}  // namespace globalloc::testing
