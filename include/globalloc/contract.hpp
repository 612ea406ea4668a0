// The allocator contract: what a type must provide to serve allocations, as
// C++20 concepts, and `Operations<A>`, the one place that calls an allocator
// and fills in the operations it leaves out.
//
// Required (each with size and alignment, through Layout):
//   void*       allocate(Layout)                       null on failure, never throws
//   void        deallocate(void*, Layout)              the layout it was allocated with
//   void*       reallocate(void*, Layout old, size_t)  null on failure, old block untouched
//   std::size_t resize_in_place(void*, Layout old, size_t)  never moves; usable size afterwards
//   std::size_t usable_size(Layout)                    bytes a block of that layout holds
// Optional:
//   void*       allocate_zeroed(Layout)                default: allocate + memset
//   void        deallocate(void*)                      } the pointer-only pair that free() and
//   std::size_t usable_size(const void*)               } unsized operator delete need; without
//                                                        it the registration adds a size header
//   void*       reallocate(void*, size_t)              C realloc without a known layout
//   static constexpr const char* name                  shown in messages and statistics
//
// The operations may be static member functions or members of a stateless,
// default-constructible object.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstring>

#include "globalloc/layout.hpp"

namespace globalloc {

// One concept per operation, so a static_assert can name the missing one.
template <class A>
concept HasAllocate = requires(A a, Layout layout) {
  { a.allocate(layout) } noexcept -> std::same_as<void*>;
};
template <class A>
concept HasDeallocate = requires(A a, void* block, Layout layout) {
  { a.deallocate(block, layout) } noexcept;
};
template <class A>
concept HasReallocate = requires(A a, void* block, Layout layout, std::size_t size) {
  { a.reallocate(block, layout, size) } noexcept -> std::same_as<void*>;
};
template <class A>
concept HasResizeInPlace = requires(A a, void* block, Layout layout, std::size_t size) {
  { a.resize_in_place(block, layout, size) } noexcept -> std::same_as<std::size_t>;
};
template <class A>
concept HasUsableSize = requires(A a, Layout layout) {
  { a.usable_size(layout) } noexcept -> std::same_as<std::size_t>;
};
template <class A>
concept HasAllocateZeroed = requires(A a, Layout layout) {
  { a.allocate_zeroed(layout) } noexcept -> std::same_as<void*>;
};
template <class A>
concept HasPointerOnlyOperations = requires(A a, void* block, const void* const_block) {
  { a.deallocate(block) } noexcept;
  { a.usable_size(const_block) } noexcept -> std::same_as<std::size_t>;
};
template <class A>
concept HasPointerOnlyReallocate = requires(A a, void* block, std::size_t size) {
  { a.reallocate(block, size) } noexcept -> std::same_as<void*>;
};

/// A type that can serve allocations: the five operations of the contract,
/// on a default-constructible (stateless) object or as static members.
template <class A>
concept Allocator = std::default_initializable<A> && HasAllocate<A> && HasDeallocate<A> && HasReallocate<A> &&
                    HasResizeInPlace<A> && HasUsableSize<A>;

/// An allocator that can stand behind free() and unsized delete directly.
template <class A>
concept GlobalCapableAllocator = Allocator<A> && HasPointerOnlyOperations<A>;

/// Checks A against the contract with one message per missing operation;
/// call it where an allocator is registered or wrapped.
template <class A>
consteval bool check_allocator() {
  static_assert(std::default_initializable<A>,
                "globalloc: an allocator must be default-constructible (stateless, or with static members)");
  static_assert(HasAllocate<A>, "globalloc: allocator is missing `void* allocate(Layout) noexcept`");
  static_assert(HasDeallocate<A>, "globalloc: allocator is missing `void deallocate(void*, Layout) noexcept`");
  static_assert(HasReallocate<A>,
                "globalloc: allocator is missing `void* reallocate(void*, Layout, std::size_t) noexcept`");
  static_assert(HasResizeInPlace<A>,
                "globalloc: allocator is missing `std::size_t resize_in_place(void*, Layout, std::size_t) noexcept`");
  static_assert(HasUsableSize<A>, "globalloc: allocator is missing `std::size_t usable_size(Layout) noexcept`");
  return true;
}

/// The name an allocator reports, "unnamed" when it gives none.
template <class A>
constexpr const char* allocator_name() noexcept {
  if constexpr (requires { A::name; }) {
    return A::name;
  } else {
    return "unnamed";
  }
}

/// Calls an allocator's operations, supplying the optional ones. Everything
/// above the allocators (registration, adapters, tests) goes through here.
template <Allocator A>
struct Operations {
  /// A's allocate: a block of at least `layout.size` bytes aligned to
  /// `layout.align`, or null. Never throws.
  [[gnu::always_inline]] static void* allocate(Layout layout) noexcept { return A{}.allocate(layout); }

  /// A's allocate_zeroed when it has one; otherwise allocate, then the first
  /// `layout.size` bytes set to zero. Null on failure.
  [[gnu::always_inline]] static void* allocate_zeroed(Layout layout) noexcept {
    if constexpr (HasAllocateZeroed<A>) {
      return A{}.allocate_zeroed(layout);
    } else {
      void* block = A{}.allocate(layout);
      if (block != nullptr) std::memset(block, 0, layout.size);
      return block;
    }
  }

  /// A's deallocate: frees a block allocated with `layout`.
  [[gnu::always_inline]] static void deallocate(void* block, Layout layout) noexcept {
    A{}.deallocate(block, layout);
  }

  /// A's reallocate: the block moved or resized to `new_size` bytes with the
  /// old alignment, contents kept up to the smaller size; null on failure,
  /// with `block` untouched.
  static void* reallocate(void* block, Layout old_layout, std::size_t new_size) noexcept {
    return A{}.reallocate(block, old_layout, new_size);
  }

  /// A's resize_in_place: never moves; returns the usable size afterwards,
  /// `>= new_size` exactly when the resize succeeded.
  static std::size_t resize_in_place(void* block, Layout old_layout, std::size_t new_size) noexcept {
    return A{}.resize_in_place(block, old_layout, new_size);
  }

  /// A's usable_size: the bytes a block of `layout` holds (`>= layout.size`).
  static std::size_t usable_size(Layout layout) noexcept { return A{}.usable_size(layout); }
};

/// A reallocate for allocators that cannot grow in place: a new block, the
/// contents up to the smaller size, then the old block freed. On failure the
/// old block is untouched. Allocators call it from their own reallocate.
template <Allocator A>
void* reallocate_by_moving(void* block, Layout old_layout, std::size_t new_size) noexcept {
  void* moved = Operations<A>::allocate(Layout{new_size, old_layout.align});
  if (moved == nullptr) return nullptr;
  if (block != nullptr) {
    std::memcpy(moved, block, old_layout.size < new_size ? old_layout.size : new_size);
    Operations<A>::deallocate(block, old_layout);
  }
  return moved;
}

}  // namespace globalloc
