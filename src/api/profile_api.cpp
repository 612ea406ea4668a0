// The heap profiler's C API (include/globalloc/globalloc.h): start, stop,
// totals and the report, over src/profiling.
#include "globalloc/globalloc.h"
#include "profiling/profiler.hpp"

extern "C" {

int globalloc_profile_enabled(void) noexcept { return globalloc::profiling::running() ? 1 : 0; }

int globalloc_profile_start(size_t mean_interval_bytes) noexcept {
  return globalloc::profiling::start(mean_interval_bytes) ? 0 : -1;
}

void globalloc_profile_stop(void) noexcept { globalloc::profiling::stop(); }

void globalloc_profile_get(globalloc_profile_totals* out) noexcept {
  if (out == nullptr) return;
  const globalloc::profiling::ProfileTotals totals = globalloc::profiling::totals();
  out->samples_total = totals.figures.samples_total;
  out->live_samples = totals.figures.live_samples;
  out->allocated_bytes = totals.figures.allocated_bytes;
  out->allocated_blocks = totals.figures.allocated_blocks;
  out->live_bytes = totals.figures.live_bytes;
  out->live_blocks = totals.figures.live_blocks;
  out->sites = totals.sites;
  out->samples_dropped = totals.samples_dropped;
}

void globalloc_profile_report_fd(int fd) noexcept { globalloc::profiling::write_report(fd); }

void globalloc_profile_report(void) noexcept { globalloc_profile_report_fd(2); }

}  // extern "C"
