// A small, fast, reproducible generator for tests that drive allocators with
// random sequences (xorshift64). Not for anything statistical.
#pragma once

#include <cstddef>
#include <cstdint>

namespace globalloc::testing {

struct XorShift {
  std::uint64_t state;  ///< never 0
  std::uint64_t next() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  }
  std::size_t below(std::size_t bound) { return static_cast<std::size_t>(next() % bound); }
};

}  // namespace globalloc::testing
