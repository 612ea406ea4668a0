// RecentRanges: the last N address ranges noted, in a ring. The misuse
// reports use it to tell a stale pointer into memory that went back to the
// OS (a block freed already) from a foreign one: the fast allocator for its
// unmapped segments and huge mappings, the hardened one for its unmapped
// guarded blocks. No lock of its own: each user notes and asks under the
// lock that guards its unmapping. Constant-initialised (usable before any
// constructor runs).
#pragma once

#include <cstdint>

namespace globalloc::fast {

template <unsigned N>
class RecentRanges {
 public:
  constexpr RecentRanges() noexcept = default;

  /// Notes [start, end), forgetting the oldest range once N are held.
  void note(std::uintptr_t start, std::uintptr_t end) noexcept { ranges_[next_++ % N] = {start, end}; }

  bool contains(std::uintptr_t address) const noexcept {
    for (const Range& range : ranges_) {
      if (address >= range.start && address < range.end) return true;
    }
    return false;
  }

 private:
  struct Range {
    std::uintptr_t start = 0;
    std::uintptr_t end = 0;  // empty until noted: contains nothing
  };
  Range ranges_[N] = {};
  unsigned next_ = 0;
};

}  // namespace globalloc::fast
