// Size classes: the block sizes small and medium pages are carved into.
// Classes go 8, 16, ..., 128 in steps of 8, then eight classes per doubling
// up to medium_block_max, so a block wastes at most 12.5% of its size above
// 64 bytes (mimalloc's bound). Requests aligned to 16 are rounded up to a
// multiple of 16 before the lookup, and every class that is a multiple of 16
// exists, so a 16-aligned request always lands in a 16-byte-multiple class.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

#include "fast/config.hpp"

namespace globalloc::fast {

/// Classes 0..15 are 8..128 step 8; then 8 per doubling from 128 up.
inline constexpr unsigned linear_class_count = 16;
inline constexpr unsigned classes_per_doubling = 8;

/// The class of a size (1..medium_block_max; 0 is treated as 1).
[[gnu::always_inline]] constexpr unsigned class_of(std::size_t size) noexcept {
  if (size <= 128) return size == 0 ? 0 : static_cast<unsigned>((size - 1) >> 3);
  const std::size_t last = size - 1;
  const unsigned top_bit = static_cast<unsigned>(std::bit_width(last)) - 1;  // >= 7
  const unsigned step_shift = top_bit - 3;
  return linear_class_count + (top_bit - 7) * classes_per_doubling + static_cast<unsigned>((last >> step_shift) & 7);
}

/// The block size of a class.
constexpr std::size_t class_size(unsigned size_class) noexcept {
  if (size_class < linear_class_count) return (std::size_t{size_class} + 1) * 8;
  const unsigned index = size_class - linear_class_count;
  const unsigned top_bit = 7 + index / classes_per_doubling;
  const std::size_t step = std::size_t{1} << (top_bit - 3);
  return (std::size_t{1} << top_bit) + (index % classes_per_doubling + 1) * step;
}

inline constexpr unsigned class_count = class_of(Config::medium_block_max) + 1;
inline constexpr unsigned small_class_max = class_of(Config::small_block_max);
static_assert(class_size(class_count - 1) == Config::medium_block_max);
static_assert(class_size(small_class_max) == Config::small_block_max);
static_assert(class_count <= 256, "Page::size_class is a byte");

/// Entries of the per-heap direct table: index (size + 7) / 8 for sizes up to
/// direct_size_max.
inline constexpr unsigned direct_entry_count = Config::direct_size_max / 8 + 1;

/// The smallest class whose blocks, laid out from a 64 KiB aligned page start,
/// all start at a multiple of `alignment` and hold `size` bytes; class_count
/// when no small or medium class can.
constexpr unsigned class_for_aligned(std::size_t size, std::size_t alignment) noexcept {
  // `alignment` is a power of two: a multiple of it is a masked test, and the
  // first class at or above the size rounded up to it nearly always is one
  // (classes step by an eighth of their power of two).
  const std::size_t mask = alignment - 1;
  // (A size so large that rounding wraps comes out below the alignment.)
  size = size < alignment ? alignment : (size + mask) & ~mask;
  if (size > Config::medium_block_max || size < alignment) return class_count;
  for (unsigned size_class = class_of(size); size_class < class_count; ++size_class) {
    if ((class_size(size_class) & mask) == 0) return size_class;
  }
  return class_count;
}

/// Over-aligned small requests (posix_memalign, aligned_alloc, aligned new):
/// for each alignment from 32 to aligned_table_size, the class of every size
/// up to aligned_table_size, indexed by the size rounded up to the alignment
/// and divided by it, so the aligned allocation path looks the class up
/// instead of searching (wl-aligned: 67 instructions per allocation in the
/// generic path before).
/// 16 KiB covers the medium blocks a program aligns to a cache line or a
/// page as well (about 1 KiB of table; wl-aligned asks up to 16 KiB).
inline constexpr std::size_t aligned_table_size = 16 * 1024;
inline constexpr unsigned aligned_shift_min = 5;
inline constexpr unsigned aligned_shift_max = std::bit_width(aligned_table_size) - 1;

/// Where alignment 1 << shift's entries start in the aligned table.
constexpr unsigned aligned_table_offset(unsigned shift) noexcept {
  unsigned offset = 0;
  for (unsigned below = aligned_shift_min; below < shift; ++below) {
    offset += static_cast<unsigned>(aligned_table_size >> below) + 1;
  }
  return offset;
}

struct AlignedClassTable {
  std::uint8_t classes[aligned_table_offset(aligned_shift_max + 1)];
};

constexpr AlignedClassTable make_aligned_class_table() noexcept {
  AlignedClassTable table{};
  for (unsigned shift = aligned_shift_min; shift <= aligned_shift_max; ++shift) {
    const std::size_t alignment = std::size_t{1} << shift;
    for (std::size_t units = 0; units <= (aligned_table_size >> shift); ++units) {
      const std::size_t size = units == 0 ? alignment : units << shift;
      table.classes[aligned_table_offset(shift) + units] = static_cast<std::uint8_t>(class_for_aligned(size, alignment));
    }
  }
  return table;
}

// Not inline: internal linkage, so the shared object reaches the tables
// PC-relative instead of through the GOT.
constexpr AlignedClassTable aligned_class_table = make_aligned_class_table();

struct AlignedOffsets {
  std::uint16_t start[aligned_shift_max + 1];
};
constexpr AlignedOffsets make_aligned_offsets() noexcept {
  AlignedOffsets offsets{};
  for (unsigned shift = aligned_shift_min; shift <= aligned_shift_max; ++shift) {
    offsets.start[shift] = static_cast<std::uint16_t>(aligned_table_offset(shift));
  }
  return offsets;
}
constexpr AlignedOffsets aligned_offsets = make_aligned_offsets();

constexpr bool aligned_table_is_served_by_classes() noexcept {
  for (std::uint8_t size_class : aligned_class_table.classes) {
    if (size_class >= class_count) return false;
  }
  return true;
}
static_assert(aligned_table_is_served_by_classes(), "every aligned request up to the table size has a class");

/// The class for `size` (at most aligned_table_size) at `alignment`, a power
/// of two from 1 << aligned_shift_min to aligned_table_size.
[[gnu::always_inline]] inline unsigned aligned_class_of(std::size_t size, std::size_t alignment) noexcept {
  const unsigned shift = static_cast<unsigned>(std::countr_zero(alignment));
  const std::size_t units = (size + alignment - 1) >> shift;
  return aligned_class_table.classes[aligned_offsets.start[shift] + units];
}

/// The class for `size` at `alignment`, a power of two above
/// small_alignment_max: looked up where the aligned table covers the request,
/// searched otherwise; class_count when no small or medium class can serve it.
static_assert((std::size_t{1} << aligned_shift_min) == 2 * small_alignment_max,
              "the table starts at the first alignment above small_alignment_max");
inline unsigned over_aligned_class(std::size_t size, std::size_t alignment) noexcept {
  if (alignment <= aligned_table_size && size <= aligned_table_size) return aligned_class_of(size, alignment);
  return class_for_aligned(size, alignment);
}

/// The class serving entry `index` of the per-heap natural table: requests
/// of (index - 1) * 8 + 1 .. index * 8 bytes at their natural alignment (what
/// malloc and operator new(size) ask for: 16 from 16 bytes on, 8 below), so
/// sizes above 16 are rounded to a multiple of 16 first. Entry 0 (size 0) is
/// the 16-byte class, as everywhere.
constexpr unsigned natural_class_of_index(std::size_t index) noexcept {
  if (index == 0) return class_of(16);
  const std::size_t size = index * 8;
  return class_of(size > 16 ? (size + 15) & ~std::size_t{15} : size);
}

/// The class serving entry `index` of the per-heap direct table: requests
/// of (index - 1) * 8 + 1 .. index * 8 bytes, already rounded to their
/// alignment. Entry 0 (size 0) is the 16-byte class, as everywhere.
constexpr unsigned direct_class_of_index(std::size_t index) noexcept {
  return index == 0 ? class_of(16) : class_of(index * 8);
}

/// Entries [natural_first, natural_last] of the natural table belong to a
/// class (for i >= 1 the mapping is monotonic, so each class owns one run;
/// entry 0 is added separately for the 16-byte class). first > last when the
/// class owns none (classes not a multiple of 16 above 16 bytes).
struct NaturalRange {
  std::uint8_t first;
  std::uint8_t last;
};

constexpr NaturalRange natural_range(unsigned size_class) noexcept {
  NaturalRange range{1, 0};
  bool found = false;
  for (std::size_t index = 1; index < direct_entry_count; ++index) {
    if (natural_class_of_index(index) != size_class) continue;
    if (!found) range.first = static_cast<std::uint8_t>(index);
    range.last = static_cast<std::uint8_t>(index);
    found = true;
  }
  return range;
}

static_assert(direct_entry_count <= 256, "natural ranges are stored in bytes");

}  // namespace globalloc::fast
