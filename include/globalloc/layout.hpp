// Layout: the size and alignment of a block, the one argument every
// operation of the allocator contract takes. Alignment is a power of two;
// size may be zero (an allocator then returns a unique, non-null pointer).
#pragma once

#include <cstddef>
#include <cstdint>

namespace globalloc {

/// The alignment that plain `malloc` and `operator new` promise on this
/// platform (alignof(max_align_t), 16 on x86-64 and AArch64 Linux).
inline constexpr std::size_t default_alignment = alignof(std::max_align_t);

/// Size and alignment of a block.
struct Layout {
  std::size_t size = 0;                   ///< bytes requested; may be 0
  std::size_t align = default_alignment;  ///< a power of two

  /// The layout of one object of type T.
  template <class T>
  static constexpr Layout of() noexcept {
    return Layout{sizeof(T), alignof(T)};
  }

  friend constexpr bool operator==(const Layout&, const Layout&) = default;
};

/// True when `align` is a power of two (zero is not).
constexpr bool is_valid_alignment(std::size_t align) noexcept {
  return align != 0 && (align & (align - 1)) == 0;
}

/// True when the layout can be allocated at all: a power-of-two alignment and
/// a size that does not overflow once rounded up to that alignment.
constexpr bool is_valid_layout(Layout layout) noexcept {
  return is_valid_alignment(layout.align) && layout.size <= SIZE_MAX - (layout.align - 1);
}

/// The alignment C and C++ promise for an unaligned request of `size` bytes:
/// a block can only hold objects no larger than itself, so a request smaller
/// than the default alignment needs only the largest power of two <= 8 that
/// fits (C17 7.22.3, and what jemalloc and mimalloc do). Using this in malloc
/// and operator new lets an allocator serve 8-byte requests from 8-byte blocks.
constexpr std::size_t natural_alignment(std::size_t size) noexcept {
  return size >= default_alignment ? default_alignment : (size > 4 ? 8 : (size > 2 ? 4 : (size > 1 ? 2 : 1)));
}

/// `value` rounded up to a multiple of the power of two `align`; the caller
/// checks for overflow with is_valid_layout first.
constexpr std::size_t align_up(std::size_t value, std::size_t align) noexcept {
  return (value + align - 1) & ~(align - 1);
}

}  // namespace globalloc
