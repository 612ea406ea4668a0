// The heap profile report: totals, then the top allocation sites by live
// bytes and by bytes allocated, each with its stack (module+offset and symbol
// per frame). Formatted by hand into a stack buffer and written with
// write(2): the report runs at exit and on demand, inside a process whose
// allocator may be the one being profiled, so it must not allocate.
#pragma once

#include <cstddef>

#include "profiling/site_table.hpp"

namespace globalloc::profiling {

struct ReportSettings {
  unsigned top_sites;              ///< sites listed per ranking (at most max_ranked_sites)
  std::size_t mean_interval_bytes; ///< shown in the header
  bool running;                    ///< whether sampling is on now
};

/// Writes the report of `table` to `fd`.
void write_profile_report(int fd, const SiteTable& table, const ReportSettings& settings) noexcept;

/// The one line written instead when the profiler was never started.
void write_report_when_off(int fd) noexcept;

}  // namespace globalloc::profiling
