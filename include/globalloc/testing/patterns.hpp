// Helpers for allocator tests: byte patterns that catch lost, shifted or
// overlapping contents, a deterministic random generator, and opaque(), which
// hides a value from the optimiser so an impossible request is really made.
#pragma once

#include <cstddef>
#include <cstdint>

namespace globalloc::testing {

/// Hides a value from the optimiser, so that a call with a constant such as
/// SIZE_MAX cannot be folded by a compiler that knows the allocator inline.
template <class T>
[[gnu::always_inline]] inline T opaque(T value) noexcept {
  asm volatile("" : "+r"(value));
  return value;
}

inline bool is_aligned(const void* block, std::size_t align) noexcept {
  return (reinterpret_cast<std::uintptr_t>(block) & (align - 1)) == 0;
}

/// The byte a block filled with `seed` holds at `index`: changes with both,
/// and is not periodic in any power of two, so a shifted copy is caught too.
inline unsigned char pattern_byte(std::size_t index, std::uint32_t seed) noexcept {
  std::uint32_t x = static_cast<std::uint32_t>(index) * 2654435761u + seed * 40503u + static_cast<std::uint32_t>(index >> 13);
  return static_cast<unsigned char>((x >> 24) ^ (x >> 11));
}

inline void fill_pattern(void* block, std::size_t size, std::uint32_t seed) noexcept {
  auto* bytes = static_cast<unsigned char*>(block);
  for (std::size_t i = 0; i < size; ++i) bytes[i] = pattern_byte(i, seed);
}

/// The index of the first byte that differs from the pattern, or `size`.
inline std::size_t pattern_mismatch(const void* block, std::size_t size, std::uint32_t seed) noexcept {
  const auto* bytes = static_cast<const unsigned char*>(block);
  for (std::size_t i = 0; i < size; ++i) {
    if (bytes[i] != pattern_byte(i, seed)) return i;
  }
  return size;
}

/// The index of the first non-zero byte, or `size`.
inline std::size_t first_nonzero(const void* block, std::size_t size) noexcept {
  const auto* bytes = static_cast<const unsigned char*>(block);
  for (std::size_t i = 0; i < size; ++i) {
    if (bytes[i] != 0) return i;
  }
  return size;
}

/// A small deterministic generator (xorshift), so the suite does the same
/// thing on every run.
struct Random {
  std::uint64_t state;
  explicit Random(std::uint64_t seed) noexcept : state(seed * 0x9E3779B97F4A7C15ull + 1) {}
  std::uint64_t next() noexcept {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  }
  std::size_t below(std::size_t bound) noexcept { return static_cast<std::size_t>(next() % bound); }
};

}  // namespace globalloc::testing
