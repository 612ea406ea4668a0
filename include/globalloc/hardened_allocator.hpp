// The hardened allocator: the fast allocator behind a layer that stops heap
// misuse with a one-line message and an abort instead of corrupting memory.
// Detected: double free (also with other frees in between), free of a pointer
// never returned (stack, global, another heap), free of an interior pointer,
// sized delete with a wrong size or alignment, writes past the end of a block
// (a canary checked on free), writes into a freed block (freed blocks wait in
// a quarantine and are checked before reuse), realloc of a freed block.
// Ships as libgloballoc-hardened.so and as globalloc_link(... ALLOCATOR hardened).
#pragma once

#include <cstddef>

#include "globalloc/layout.hpp"

namespace globalloc::hardened {

[[nodiscard]] void* allocate(std::size_t size, std::size_t align) noexcept;
[[nodiscard]] void* allocate_zeroed(std::size_t size, std::size_t align) noexcept;
void deallocate(void* block) noexcept;
/// Checks that size and alignment match the block's before freeing it.
void deallocate_sized(void* block, std::size_t size, std::size_t align) noexcept;
[[nodiscard]] void* reallocate(void* block, std::size_t new_size, std::size_t align) noexcept;
std::size_t resize_in_place(void* block, std::size_t new_size) noexcept;
/// Exactly the size the block was allocated with: any byte past it is a canary.
std::size_t usable_size(const void* block) noexcept;
/// Frees every block held in the quarantine (after checking it).
void flush_quarantine() noexcept;
/// Settings (GLOBALLOC_OPTIONS: zero_on_free, quarantine_bytes).
void set_zero_on_free(bool enabled) noexcept;
void set_quarantine_bytes(std::size_t bytes) noexcept;

}  // namespace globalloc::hardened

namespace globalloc {

struct HardenedAllocator {
  static constexpr const char* name = "hardened";
  static void* allocate(Layout layout) noexcept { return hardened::allocate(layout.size, layout.align); }
  static void* allocate_zeroed(Layout layout) noexcept { return hardened::allocate_zeroed(layout.size, layout.align); }
  static void deallocate(void* block, Layout layout) noexcept {
    hardened::deallocate_sized(block, layout.size, layout.align);
  }
  static void* reallocate(void* block, Layout old_layout, std::size_t new_size) noexcept {
    return hardened::reallocate(block, new_size, old_layout.align);
  }
  static std::size_t resize_in_place(void* block, Layout, std::size_t new_size) noexcept {
    return hardened::resize_in_place(block, new_size);
  }
  static std::size_t usable_size(Layout layout) noexcept { return layout.size; }
  static void deallocate(void* block) noexcept { hardened::deallocate(block); }
  static std::size_t usable_size(const void* block) noexcept { return hardened::usable_size(block); }
  static void* reallocate(void* block, std::size_t new_size) noexcept {
    return hardened::reallocate(block, new_size, default_alignment);
  }
};

}  // namespace globalloc
