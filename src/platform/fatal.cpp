// write(2) and abort() for the allocator's fatal error reports (fatal.hpp).
#include "platform/fatal.hpp"

#include "platform/number_text.hpp"

#include <unistd.h>

#include <cstdlib>

namespace globalloc::platform {

namespace {
struct LineBuffer {
  char text[256];
  unsigned length = 0;

  void append(const char* piece) noexcept {
    while (piece != nullptr && *piece != '\0' && length < sizeof(text) - 1) text[length++] = *piece++;
  }
  void append_hex(std::uintptr_t value) noexcept {
    append("0x");
    char digits[number_text_max];
    const unsigned count = number_digits(value, 16, digits);
    for (unsigned i = 0; i < count && length < sizeof(text) - 1; ++i) text[length++] = digits[i];
  }
  void write_line() noexcept {
    text[length++] = '\n';
    const char* cursor = text;
    unsigned left = length;
    while (left > 0) {
      ssize_t written = ::write(2, cursor, left);
      if (written <= 0) break;
      cursor += written;
      left -= static_cast<unsigned>(written);
    }
  }
};
}  // namespace

void fatal_error_at(const char* prefix, std::uintptr_t address, const char* suffix) noexcept {
  LineBuffer line;
  line.append(prefix);
  line.append_hex(address);
  line.append(suffix);
  line.write_line();
  std::abort();
}

void fatal_error(const char* message) noexcept {
  LineBuffer line;
  line.append(message);
  line.write_line();
  std::abort();
}

}  // namespace globalloc::platform
