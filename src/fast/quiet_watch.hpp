// QuietWatch: how the purge thread tells that something went unused for a
// whole delay without a clock read on its owner's paths. The owner only
// counts its changes; each look compares the count with the last look's and
// notes the time when it moved.
#pragma once

#include <cstdint>

namespace globalloc::fast {

struct QuietWatch {
  std::uint64_t seen = 0;            ///< the count at the last look
  std::uint64_t quiet_since_ms = 0;  ///< when a look last found it moved

  /// True when `count` moved since the last look (quiet from `now_ms` on,
  /// at the earliest).
  bool moved(std::uint64_t count, std::uint64_t now_ms) noexcept {
    if (count == seen) return false;
    seen = count;
    quiet_since_ms = now_ms;
    return true;
  }
  /// Whether it has not moved for `delay_ms` (after a look that found it still).
  bool quiet_for(std::uint64_t now_ms, std::uint64_t delay_ms) const noexcept {
    return now_ms - quiet_since_ms >= delay_ms;
  }
};

}  // namespace globalloc::fast
