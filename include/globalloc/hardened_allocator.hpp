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
/// allocate(size, natural_alignment(size)): the request of malloc(size) and
/// operator new(size), without the alignment tests. Sets errno to ENOMEM
/// when it fails.
[[nodiscard]] void* allocate_natural(std::size_t size) noexcept;
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
/// malloc_trim: the freed guarded blocks kept for reuse (checked first) and
/// every free page of the fast allocator beneath go back to the OS; the
/// quarantine keeps its blocks, which are what catches writes after free.
/// Whether any memory went back (the fast allocator's part).
bool trim() noexcept;
/// Settings (GLOBALLOC_OPTIONS: zero_on_free, quarantine_bytes).
void set_zero_on_free(bool enabled) noexcept;
void set_quarantine_bytes(std::size_t bytes) noexcept;

}  // namespace globalloc::hardened

namespace globalloc {

/// The hardened allocator (the functions of globalloc::hardened) in the shape
/// of the allocator contract. Misuse it detects ends the process with a
/// one-line message instead of returning.
struct HardenedAllocator {
  static constexpr const char* name = "hardened";  ///< the allocator's name
  /// deallocate never changes errno (its system calls restore it), so free()
  /// needs no save and restore around it.
  static constexpr bool preserves_errno = true;
  /// deallocate(nullptr) and deallocate(nullptr, layout) are no-ops, so free()
  /// and operator delete need no null test of their own.
  static constexpr bool deallocate_accepts_null = true;
  /// A null result from allocate for a natural layout (malloc's) has set
  /// errno to ENOMEM already (hardened::allocate_natural), so malloc() can
  /// return it as it is (and tail-call the allocator).
  static constexpr bool allocate_sets_errno = true;
  /// hardened::allocate: a checked block of `layout.size` bytes, or null.
  static void* allocate(Layout layout) noexcept {
    // Folds to the first call when the layout comes from malloc(size) or
    // operator new(size) (align == natural_alignment(size) by construction).
    if (layout.align == natural_alignment(layout.size)) return hardened::allocate_natural(layout.size);
    return hardened::allocate(layout.size, layout.align);
  }
  /// hardened::allocate_zeroed: as allocate, with the block zeroed.
  static void* allocate_zeroed(Layout layout) noexcept { return hardened::allocate_zeroed(layout.size, layout.align); }
  /// hardened::deallocate_sized: aborts unless `layout` matches the block's
  /// size (and its alignment, when above the default); null is a no-op.
  static void deallocate(void* block, Layout layout) noexcept {
    hardened::deallocate_sized(block, layout.size, layout.align);
  }
  /// hardened::reallocate with `old_layout.align`: in place when the block has
  /// room (and would not shrink below half of it), else moved; null on
  /// failure with `block` untouched.
  static void* reallocate(void* block, Layout old_layout, std::size_t new_size) noexcept {
    return hardened::reallocate(block, new_size, old_layout.align);
  }
  /// hardened::resize_in_place: `new_size` when the block has room for it,
  /// else the block's unchanged size. The layout is not needed.
  static std::size_t resize_in_place(void* block, Layout, std::size_t new_size) noexcept {
    return hardened::resize_in_place(block, new_size);
  }
  /// `layout.size`: a hardened block holds exactly what was asked for.
  static std::size_t usable_size(Layout layout) noexcept { return layout.size; }
  /// hardened::deallocate: checks the block, then frees it through the
  /// quarantine; null is a no-op.
  static void deallocate(void* block) noexcept { hardened::deallocate(block); }
  /// hardened::usable_size: the size the block was allocated with; 0 for null.
  static std::size_t usable_size(const void* block) noexcept { return hardened::usable_size(block); }
  /// C realloc: hardened::reallocate with the default alignment.
  static void* reallocate(void* block, std::size_t new_size) noexcept {
    return hardened::reallocate(block, new_size, default_alignment);
  }
  /// malloc_trim: hardened::trim.
  static bool trim(std::size_t) noexcept { return hardened::trim(); }
};

}  // namespace globalloc
