// WithSizeHeader<A>: gives an allocator that only knows layouts the
// pointer-only operations that free() and unsized operator delete need, by
// keeping the block's size and alignment in a small header just before it.
// The registration macros wrap an allocator in it automatically when the
// allocator does not provide deallocate(void*) and usable_size(const void*).
#pragma once

#include <cstddef>
#include <cstring>
#include <type_traits>

#include "globalloc/contract.hpp"

namespace globalloc {

/// Inner with the pointer-only operations added: each block is allocated
/// from Inner with room for a header before the user pointer (16 bytes, or
/// `align` bytes for larger alignments) that records the size and alignment
/// asked for, so deallocate(void*) and usable_size(const void*) need no layout.
template <Allocator Inner>
struct WithSizeHeader {
  static constexpr const char* name = allocator_name<Inner>();  ///< Inner's name

  /// @cond
  // The header and its arithmetic, left out of the API reference.
  // The header sits in the last 16 bytes before the user pointer; the user
  // pointer is `offset(align)` bytes into the inner block, a multiple of the
  // alignment, so the user block keeps the alignment asked for.
  struct Header {
    std::size_t size;
    std::size_t align;
  };
  static_assert(sizeof(Header) <= default_alignment);

  static constexpr std::size_t offset(std::size_t align) noexcept {
    return align > default_alignment ? align : default_alignment;
  }
  static constexpr bool inner_layout(Layout user, Layout& inner) noexcept {
    if (!is_valid_alignment(user.align)) return false;
    const std::size_t extra = offset(user.align);
    if (user.size > SIZE_MAX - extra) return false;
    inner = Layout{user.size + extra, extra};
    return true;
  }
  static Header* header_of(const void* block) noexcept {
    return reinterpret_cast<Header*>(static_cast<char*>(const_cast<void*>(block)) - sizeof(Header));
  }
  static char* inner_of(const void* block, const Header& header) noexcept {
    return static_cast<char*>(const_cast<void*>(block)) - offset(header.align);
  }
  static void* finish(void* inner, Layout user) noexcept {
    if (inner == nullptr) return nullptr;
    char* block = static_cast<char*>(inner) + offset(user.align);
    *header_of(block) = Header{user.size, user.align};
    return block;
  }
  /// @endcond

  /// A block from Inner's allocate with the header in front; null when Inner
  /// fails, the alignment is not a power of two or the size overflows.
  static void* allocate(Layout layout) noexcept {
    Layout inner;
    if (!inner_layout(layout, inner)) return nullptr;
    return finish(Operations<Inner>::allocate(inner), layout);
  }
  /// As allocate, through Inner's allocate_zeroed.
  static void* allocate_zeroed(Layout layout) noexcept {
    Layout inner;
    if (!inner_layout(layout, inner)) return nullptr;
    return finish(Operations<Inner>::allocate_zeroed(inner), layout);
  }
  /// Frees the block with the layout read from its header; null is a no-op.
  static void deallocate(void* block) noexcept {
    if (block == nullptr) return;
    const Header header = *header_of(block);
    Layout inner;
    inner_layout(Layout{header.size, header.align}, inner);
    Operations<Inner>::deallocate(inner_of(block, header), inner);
  }
  /// Frees the block; the layout is ignored in favour of the header's.
  static void deallocate(void* block, Layout) noexcept { deallocate(block); }

  /// The size recorded in the block's header (the size asked for); 0 for null.
  static std::size_t usable_size(const void* block) noexcept {
    return block == nullptr ? 0 : header_of(block)->size;
  }
  /// `layout.size`: the header records exactly the size asked for.
  static std::size_t usable_size(Layout layout) noexcept { return layout.size; }

  /// Resizes Inner's block in place (header included); when Inner's block
  /// holds the new size the header records `new_size`. Returns the size in the
  /// header afterwards (the old one on failure). The layout is ignored.
  static std::size_t resize_in_place(void* block, Layout, std::size_t new_size) noexcept {
    Header& header = *header_of(block);
    Layout old_inner, new_inner;
    inner_layout(Layout{header.size, header.align}, old_inner);
    if (!inner_layout(Layout{new_size, header.align}, new_inner)) return header.size;
    const std::size_t inner_usable =
        Operations<Inner>::resize_in_place(inner_of(block, header), old_inner, new_inner.size);
    // The inner block holds the new size only when it reports at least that much.
    if (inner_usable >= new_inner.size) header.size = new_size;
    return header.size;
  }

  /// Always moves: a new block with the header's alignment, the contents up
  /// to the smaller size, the old block freed. A null block allocates with
  /// `old_layout.align`. On failure null, and `block` untouched.
  static void* reallocate(void* block, Layout old_layout, std::size_t new_size) noexcept {
    if (block == nullptr) return allocate(Layout{new_size, old_layout.align});
    const Header header = *header_of(block);
    const Layout new_layout{new_size, header.align};
    void* moved = allocate(new_layout);
    if (moved == nullptr) return nullptr;
    std::memcpy(moved, block, header.size < new_size ? header.size : new_size);
    deallocate(block);
    return moved;
  }
  /// C realloc: as reallocate with the alignment kept from the header (for a
  /// null block, natural_alignment(new_size)).
  static void* reallocate(void* block, std::size_t new_size) noexcept {
    return reallocate(block, Layout{0, natural_alignment(new_size)}, new_size);
  }
};

/// The allocator the registration actually calls: A itself when it has the
/// pointer-only pair, A behind a size header when it has not.
template <Allocator A>
using GlobalForm = std::conditional_t<HasPointerOnlyOperations<A>, A, WithSizeHeader<A>>;

}  // namespace globalloc
