// platform/number_text.hpp: the digits every message and report of the
// allocators is written with (no printf family inside the allocator).
#include "platform/number_text.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace {

std::string text_of(std::uint64_t value, unsigned base) {
  char digits[globalloc::platform::number_text_max];
  const unsigned count = globalloc::platform::number_digits(value, base, digits);
  return std::string(digits, count);
}

TEST(NumberText, DecimalDigitsMostSignificantFirst) {
  EXPECT_EQ(text_of(0, 10), "0");
  EXPECT_EQ(text_of(7, 10), "7");
  EXPECT_EQ(text_of(10, 10), "10");
  EXPECT_EQ(text_of(4096, 10), "4096");
  EXPECT_EQ(text_of(UINT64_MAX, 10), "18446744073709551615");  // all 20 places
}

TEST(NumberText, HexDigitsLowercase) {
  EXPECT_EQ(text_of(0, 16), "0");
  EXPECT_EQ(text_of(0xab, 16), "ab");
  EXPECT_EQ(text_of(0x7f00deadbeef, 16), "7f00deadbeef");
  EXPECT_EQ(text_of(UINT64_MAX, 16), "ffffffffffffffff");
}

}  // namespace
