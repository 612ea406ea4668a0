// Options storage and the GLOBALLOC_OPTIONS parser. getenv returns a pointer
// into the environment block, and the parser walks it in place, so nothing
// here allocates: it runs inside the first malloc of the process.
#include "fast/options.hpp"

#include <atomic>
#include <cstdlib>

#include "fast/config.hpp"

namespace globalloc::fast {

namespace {
std::atomic<long> purge_delay{Config::default_purge_delay_ms};

bool key_is(const char* begin, const char* end, const char* key) noexcept {
  for (; begin != end && *key != '\0'; ++begin, ++key) {
    if (*begin != *key) return false;
  }
  return begin == end && *key == '\0';
}

bool parse_long(const char* begin, const char* end, long* out) noexcept {
  bool negative = false;
  if (begin != end && (*begin == '-' || *begin == '+')) negative = *begin++ == '-';
  if (begin == end) return false;
  long value = 0;
  for (; begin != end; ++begin) {
    if (*begin < '0' || *begin > '9') return false;
    if (value > 100000000000L) return false;
    value = value * 10 + (*begin - '0');
  }
  *out = negative ? -value : value;
  return true;
}
}  // namespace

void set_purge_delay_ms(long delay_ms) noexcept { purge_delay.store(delay_ms, std::memory_order_relaxed); }

long purge_delay_ms() noexcept { return purge_delay.load(std::memory_order_relaxed); }

void load_options_from_environment() noexcept {
  const char* text = std::getenv("GLOBALLOC_OPTIONS");
  if (text == nullptr) return;
  while (*text != '\0') {
    const char* item_end = text;
    while (*item_end != '\0' && *item_end != ',' && *item_end != ' ' && *item_end != ';') ++item_end;
    const char* equals = text;
    while (equals != item_end && *equals != '=' && *equals != ':') ++equals;
    if (equals != item_end) {
      long value = 0;
      if (key_is(text, equals, "purge_delay_ms") && parse_long(equals + 1, item_end, &value)) {
        set_purge_delay_ms(value);
      }
    }
    text = *item_end == '\0' ? item_end : item_end + 1;
  }
}

}  // namespace globalloc::fast
