// The system allocator: the C library's own malloc, made to honour every
// alignment (plain malloc promises 16 bytes and realloc forgets any larger
// alignment). It calls the C library's internal entry points, so it still
// reaches the real malloc when the malloc family of the process is replaced,
// for instance by a registration of the system allocator itself.
#pragma once

#include <cstddef>

#include "globalloc/layout.hpp"

namespace globalloc {

struct SystemAllocator {
  static constexpr const char* name = "system";
  static void* allocate(Layout layout) noexcept;
  static void* allocate_zeroed(Layout layout) noexcept;
  static void deallocate(void* block, Layout layout) noexcept;
  /// Keeps layout.align across a move; null and the old block intact on failure.
  static void* reallocate(void* block, Layout old_layout, std::size_t new_size) noexcept;
  /// The C library cannot resize in place beyond the block's usable size,
  /// which is what this returns.
  static std::size_t resize_in_place(void* block, Layout old_layout, std::size_t new_size) noexcept;
  /// A lower bound of what a block of this layout holds.
  static std::size_t usable_size(Layout layout) noexcept;
  static void deallocate(void* block) noexcept;
  static std::size_t usable_size(const void* block) noexcept;
  /// C realloc: default alignment only, as the C standard says.
  static void* reallocate(void* block, std::size_t new_size) noexcept;
  static constexpr bool preserves_errno = false;
};

}  // namespace globalloc
