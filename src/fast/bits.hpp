// Bit counting for the slot and unit masks (64 bits, one per slot of a
// segment). Without -mpopcnt (the x86-64 baseline, which this library is
// built for) __builtin_popcountll is a call into libgcc through the PLT;
// counting in registers is about a dozen instructions and no call (a large
// block's malloc+free spent a third of its time in those calls).
#pragma once

#include <cstdint>

namespace globalloc::fast {

[[gnu::always_inline]] constexpr unsigned count_ones(std::uint64_t bits) noexcept {
#if defined(__POPCNT__)
  return static_cast<unsigned>(__builtin_popcountll(bits));
#else
  bits = bits - ((bits >> 1) & 0x5555555555555555u);
  bits = (bits & 0x3333333333333333u) + ((bits >> 2) & 0x3333333333333333u);
  bits = (bits + (bits >> 4)) & 0x0f0f0f0f0f0f0f0fu;
  return static_cast<unsigned>((bits * 0x0101010101010101u) >> 56);
#endif
}

static_assert(count_ones(0) == 0 && count_ones(~std::uint64_t{0}) == 64 && count_ones(0x8000000000000001u) == 2 &&
              count_ones(0x00ff00ff00ff00ffu) == 32);

}  // namespace globalloc::fast
