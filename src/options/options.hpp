// Run-time options: every option of globalloc, listed once (options.cpp)
// with its default and its documentation, set from one environment variable,
//   GLOBALLOC_OPTIONS="purge_delay_ms=1000,stats=1"
// parsed in place without allocating (it runs inside the first malloc of the
// process). An unknown key or a bad value gives a one-line warning naming it
// on stderr; the other options still apply. docs/options.md is the table.
#pragma once

#include <cstddef>

namespace globalloc::options {

enum class Option : unsigned {
  purge_delay_ms,
  stats,
  verbose,
  zero_on_free,
  quarantine_bytes,
  prof,
  prof_interval,
  prof_at_exit,
  prof_top,
  huge_pages,
  purge_thread,
  starter_allocations,
  count
};

/// The option's current value (its default until set).
long value(Option option) noexcept;
/// Sets an option from code (tests, the explicit API).
void set(Option option, long value) noexcept;

/// Parses GLOBALLOC_OPTIONS once per process; later calls do nothing.
void load_from_environment() noexcept;
/// Parses one "key=value,..." text (the parser itself, for tests).
/// Returns the number of warnings it printed.
unsigned parse(const char* text) noexcept;

/// For the documentation and `verbose`: the option's name, default and text.
struct Description {
  const char* name;
  long default_value;
  const char* unit;
  const char* documentation;
};
const Description& describe(Option option) noexcept;

}  // namespace globalloc::options
