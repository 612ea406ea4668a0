// The heap profiler of the fast allocator (docs/profiling.md): when on, the
// allocator hands it about one allocation per `prof_interval` bytes
// (src/fast/sampling.hpp); it records the allocating stack and, until the
// block is freed, the block's weight against that stack's site. A report
// lists the sites holding the most live memory, on demand or at exit.
//
// Off by default and free when off: nothing is mapped or hooked until it
// starts, and the allocator's sampling countdown then never runs out.
// It never allocates: its tables are mapped from the OS, its stacks are
// walked with libgcc's unwinder and its report is written with write(2).
#pragma once

#include <cstddef>

#include "profiling/site_table.hpp"

namespace globalloc::profiling {

/// Called once per process by the fast allocator as it reads its options
/// (before the first heap exists): installs the fork handlers, and starts
/// the profiler when GLOBALLOC_OPTIONS has prof=1.
void start_from_options() noexcept;

/// Starts sampling about one allocation per `mean_interval_bytes` (or
/// changes the interval); false when the interval is 0 or the tables could
/// not be mapped. Sites recorded earlier are kept.
bool start(std::size_t mean_interval_bytes) noexcept;
/// Stops sampling new allocations; blocks sampled already still leave the
/// live figures when freed, and the report still shows what was recorded.
void stop() noexcept;
/// Whether sampling is on now.
bool running() noexcept;
/// The figures summed over every site (zero when never started).
ProfileTotals totals() noexcept;
/// Writes the report to `fd` (a one-line note when never started), listing
/// `top_sites` sites per ranking (0: the prof_top option).
void write_report(int fd, unsigned top_sites = 0) noexcept;

}  // namespace globalloc::profiling
