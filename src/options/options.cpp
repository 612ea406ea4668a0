// The option table and the GLOBALLOC_OPTIONS parser; see options.hpp.
#include "options/options.hpp"

#include <atomic>
#include <cstdlib>
#include <initializer_list>

#include "platform/environment.hpp"
#include "platform/number_text.hpp"
#include "platform/process_memory.hpp"

namespace globalloc::options {
namespace {

constexpr unsigned option_count = static_cast<unsigned>(Option::count);

// Each option once: name, default, unit (what a value means), documentation.
constexpr Description table[option_count] = {
    {"purge_delay_ms", 250, "milliseconds",
     "how long free pages wait before their memory goes back to the OS; 0 at once, -1 never (but purge())"},
    {"stats", 0, "0 or 1", "print the fast allocator's statistics to stderr when the process exits"},
    {"verbose", 0, "0 or 1", "print the options in force when the allocator starts"},
    {"zero_on_free", 0, "0 or 1", "hardened allocator: fill freed blocks with zeros instead of 0xDF"},
    {"quarantine_bytes", 512 << 10, "bytes", "hardened allocator: bytes of freed blocks held before reuse"},
    {"prof", 0, "0 or 1", "heap profiling: sample allocations with their stacks (docs/profiling.md)"},
    {"prof_interval", 512 << 10, "bytes, 1 or more", "heap profiling: mean bytes allocated between two samples"},
    {"prof_at_exit", 1, "0 or 1", "heap profiling: print the profile report to stderr at exit when prof=1"},
    {"prof_top", 20, "1 to 64", "heap profiling: sites listed in each ranking of the report"},
    {"huge_pages", 1, "0, 1 or 2", "ask for transparent huge pages for blocks with a mapping of their own (above 4 MiB); 2: for the fast allocator's small and medium pages too"},
    {"purge_thread", 1, "0 or 1", "a thread of the process returns shared free memory when its delay is over, also while no thread calls the allocator"},
    {"starter_allocations", 128, "0 to 65536", "fast allocator: a thread's first small blocks come from heaps that threads share, so that one that allocates little needs no pages of its own; 0: every thread's own heap from its first block"},
};

constinit std::atomic<long> values[option_count] = {
    table[0].default_value, table[1].default_value, table[2].default_value, table[3].default_value,
    table[4].default_value, table[5].default_value, table[6].default_value, table[7].default_value,
    table[8].default_value, table[9].default_value, table[10].default_value, table[11].default_value,
};
static_assert(sizeof values / sizeof values[0] == sizeof table / sizeof table[0]);
constinit std::atomic<bool> loaded{false};

std::size_t length_of(const char* text) noexcept {
  std::size_t length = 0;
  while (text[length] != '\0') ++length;
  return length;
}

// One line on stderr from pieces (a null-terminated list; a piece given with
// a length stops there), in one write.
struct Piece {
  const char* text;
  std::size_t length;
  Piece(const char* whole) noexcept : text(whole), length(length_of(whole)) {}
  Piece(const char* start, std::size_t size) noexcept : text(start), length(size) {}
};
void warn(std::initializer_list<Piece> pieces) noexcept {
  char line[512];
  std::size_t length = 0;
  for (const Piece& piece : pieces) {
    for (std::size_t i = 0; i < piece.length && length < sizeof line - 1; ++i) line[length++] = piece.text[i];
  }
  line[length++] = '\n';
  platform::write_all(2, line, length);
}

void format_number(long value, char (&text)[24]) noexcept {
  const bool negative = value < 0;
  unsigned long magnitude = negative ? 0UL - static_cast<unsigned long>(value) : static_cast<unsigned long>(value);
  char digits[platform::number_text_max];
  const unsigned count = platform::number_digits(magnitude, 10, digits);
  std::size_t out = 0;
  if (negative) text[out++] = '-';
  for (unsigned i = 0; i < count; ++i) text[out++] = digits[i];
  text[out] = '\0';
}

bool parse_number(const char* begin, const char* end, long* out) noexcept {
  bool negative = false;
  if (begin != end && (*begin == '-' || *begin == '+')) negative = *begin++ == '-';
  if (begin == end) return false;
  long value = 0;
  for (; begin != end; ++begin) {
    if (*begin < '0' || *begin > '9') {
      // A size may end in k, m or g.
      if (begin + 1 == end && (*begin == 'k' || *begin == 'K')) value <<= 10;
      else if (begin + 1 == end && (*begin == 'm' || *begin == 'M')) value <<= 20;
      else if (begin + 1 == end && (*begin == 'g' || *begin == 'G')) value <<= 30;
      else return false;
      break;
    }
    if (value > 1000000000000L) return false;
    value = value * 10 + (*begin - '0');
  }
  *out = negative ? -value : value;
  return true;
}

bool name_is(const char* begin, const char* end, const char* name) noexcept {
  for (; begin != end && *name != '\0'; ++begin, ++name) {
    if (*begin != *name) return false;
  }
  return begin == end && *name == '\0';
}

bool valid_value(Option option, long value) noexcept {
  switch (option) {
    case Option::purge_delay_ms: return value >= -1;
    case Option::stats:
    case Option::verbose:
    case Option::zero_on_free:
    case Option::prof:
    case Option::prof_at_exit:
    case Option::purge_thread: return value == 0 || value == 1;
    case Option::huge_pages: return value >= 0 && value <= 2;
    case Option::quarantine_bytes: return value >= 0;
    case Option::starter_allocations: return value >= 0 && value <= 65536;
    case Option::prof_interval: return value >= 1;
    case Option::prof_top: return value >= 1 && value <= 64;
    case Option::count: break;
  }
  return false;
}

// "purge_delay_ms, stats, ...": every name of the table, for the warning.
struct KnownNames {
  char text[256];
  std::size_t length = 0;
  KnownNames() noexcept {
    for (unsigned i = 0; i < option_count; ++i) {
      if (i > 0) append(", ");
      append(table[i].name);
    }
    text[length] = '\0';
  }
  void append(const char* piece) noexcept {
    while (*piece != '\0' && length < sizeof text - 1) text[length++] = *piece++;
  }
};

void print_options_in_force() noexcept {
  for (unsigned i = 0; i < option_count; ++i) {
    char number[24];
    format_number(values[i].load(std::memory_order_relaxed), number);
    warn({"globalloc: option ", table[i].name, "=", number});
  }
}

}  // namespace

long value(Option option) noexcept { return values[static_cast<unsigned>(option)].load(std::memory_order_relaxed); }

void set(Option option, long value) noexcept {
  values[static_cast<unsigned>(option)].store(value, std::memory_order_relaxed);
}

const Description& describe(Option option) noexcept { return table[static_cast<unsigned>(option)]; }

unsigned parse(const char* text) noexcept {
  unsigned warnings = 0;
  while (text != nullptr && *text != '\0') {
    const char* item_end = text;
    while (*item_end != '\0' && *item_end != ',') ++item_end;
    const char* equals = text;
    while (equals != item_end && *equals != '=') ++equals;
    if (item_end != text) {
      unsigned found = option_count;
      for (unsigned i = 0; i < option_count; ++i) {
        if (name_is(text, equals, table[i].name)) found = i;
      }
      long number = 0;
      if (found == option_count) {
        const KnownNames known;
        warn({"globalloc: unknown option '", Piece(text, static_cast<std::size_t>(equals - text)),
              "' in GLOBALLOC_OPTIONS ignored; known options: ", known.text});
        ++warnings;
      } else if (equals == item_end || !parse_number(equals + 1, item_end, &number) ||
                 !valid_value(static_cast<Option>(found), number)) {
        const char* shown = equals == item_end ? equals : equals + 1;
        char current[24];
        format_number(value(static_cast<Option>(found)), current);
        warn({"globalloc: bad value '", Piece(shown, static_cast<std::size_t>(item_end - shown)), "' for option ",
              table[found].name, " (expected ", table[found].unit, "); keeping ", current});
        warnings += 1;
      } else {
        set(static_cast<Option>(found), number);
      }
    }
    text = *item_end == '\0' ? item_end : item_end + 1;
  }
  return warnings;
}

void load_from_environment() noexcept {
  if (loaded.exchange(true, std::memory_order_acq_rel)) return;
  // Not getenv alone: the first allocation, which loads the options, may
  // come before libc has set up the environment (platform/environment.hpp).
  char text[1024];
  parse(platform::environment_value("GLOBALLOC_OPTIONS", text, sizeof text));
  if (value(Option::verbose) != 0) print_options_in_force();
}

}  // namespace globalloc::options
