// Numbers as text without the printf family, which may allocate: for the
// one-line messages and the reports that the allocators write with write(2)
// (fatal errors, misuse reports, options, the heap profile).
#pragma once

#include <cstdint>

namespace globalloc::platform {

/// Room for any 64-bit number in decimal (20 digits) or hex (16).
inline constexpr unsigned number_text_max = 20;

/// Writes `value`'s digits in `base` (10 or 16, lowercase), most significant
/// first and without a terminator, into `out`; returns how many.
inline unsigned number_digits(std::uint64_t value, unsigned base, char (&out)[number_text_max]) noexcept {
  char reversed[number_text_max];
  unsigned count = 0;
  do {
    reversed[count++] = "0123456789abcdef"[value % base];
    value /= base;
  } while (value != 0);
  for (unsigned i = 0; i < count; ++i) out[i] = reversed[count - 1 - i];
  return count;
}

}  // namespace globalloc::platform
