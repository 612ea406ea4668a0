// The system allocator: the C library's own malloc, made to honour every
// alignment (plain malloc promises 16 bytes and realloc forgets any larger
// alignment). It calls the C library's internal entry points, so it still
// reaches the real malloc when the malloc family of the process is replaced,
// for instance by a registration of the system allocator itself.
#pragma once

#include <cstddef>

#include "globalloc/layout.hpp"

namespace globalloc {

/// The C library's malloc in the shape of the allocator contract, correct for
/// every alignment. Reaches glibc through __libc_malloc and friends, so it can
/// be registered with GLOBALLOC_GLOBAL_ALLOCATOR_WITH_MALLOC itself.
struct SystemAllocator {
  static constexpr const char* name = "system";  ///< the allocator's name
  /// malloc for alignments up to 16, memalign above; null for an invalid layout.
  static void* allocate(Layout layout) noexcept;
  /// calloc for alignments up to 16, allocate and memset above; null for an invalid layout.
  static void* allocate_zeroed(Layout layout) noexcept;
  /// free(block); the layout is not needed. Null is a no-op.
  static void deallocate(void* block, Layout layout) noexcept;
  /// Keeps layout.align across a move; null and the old block intact on failure.
  static void* reallocate(void* block, Layout old_layout, std::size_t new_size) noexcept;
  /// The C library cannot resize in place beyond the block's usable size,
  /// which is what this returns.
  static std::size_t resize_in_place(void* block, Layout old_layout, std::size_t new_size) noexcept;
  /// A lower bound of what a block of this layout holds.
  static std::size_t usable_size(Layout layout) noexcept;
  /// free(block); null is a no-op.
  static void deallocate(void* block) noexcept;
  /// malloc_usable_size of the block.
  static std::size_t usable_size(const void* block) noexcept;
  /// C realloc: default alignment only, as the C standard says.
  static void* reallocate(void* block, std::size_t new_size) noexcept;
  /// malloc_trim: the C library's own (registering malloc_trim replaces it).
  static bool trim(std::size_t pad) noexcept;
  /// Whether deallocate(void*) is known to leave errno unchanged. False: the
  /// registered free() saves and restores errno around it.
  static constexpr bool preserves_errno = false;
};

}  // namespace globalloc
