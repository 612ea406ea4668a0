// The hardened layer's checks as a compile-time set: each check names its
// mitigation and compiles away when the set leaves it out, so one body of code
// serves every configuration and tests can build any of them.
#pragma once

#include <cstdint>

namespace globalloc::hardening {

enum class Mitigation : std::uint32_t {
  block_header = 1u << 0,       ///< size, alignment and state kept (encoded) before each block
  double_free = 1u << 1,        ///< a freed block's state is checked on every free and realloc
  invalid_pointer = 1u << 2,    ///< pointers the allocator never returned are refused
  size_check = 1u << 3,         ///< sized delete must name the block's size and alignment
  canary = 1u << 4,             ///< a keyed word after each block, checked on free
  quarantine = 1u << 5,         ///< freed blocks wait before reuse, filled and checked
  guard_pages = 1u << 6,        ///< large blocks sit between inaccessible pages
  random_choice = 1u << 7,      ///< the next block of a size is picked at random among a few candidates
};

struct MitigationSet {
  std::uint32_t bits;
  constexpr bool has(Mitigation mitigation) const noexcept {
    return (bits & static_cast<std::uint32_t>(mitigation)) != 0;
  }
};

constexpr MitigationSet operator|(Mitigation a, Mitigation b) noexcept {
  return MitigationSet{static_cast<std::uint32_t>(a) | static_cast<std::uint32_t>(b)};
}
constexpr MitigationSet operator|(MitigationSet a, Mitigation b) noexcept {
  return MitigationSet{a.bits | static_cast<std::uint32_t>(b)};
}

/// Everything on: the configuration of libgloballoc-hardened.so.
inline constexpr MitigationSet all_mitigations = Mitigation::block_header | Mitigation::double_free |
                                                 Mitigation::invalid_pointer | Mitigation::size_check |
                                                 Mitigation::canary | Mitigation::quarantine |
                                                 Mitigation::guard_pages | Mitigation::random_choice;

}  // namespace globalloc::hardening
