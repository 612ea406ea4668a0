// The files `globalloc bench` leaves behind: report.md (Markdown tables with
// the machine and settings), chart.svg (time ratios against glibc as a bar
// chart) and runs.csv (medians per workload and allocator).
#pragma once

#include <string>
#include <vector>

#include "allocators.hpp"
#include "summary.hpp"

namespace globalloc::tool {

struct BenchSettings {
  int runs = 5;
  double scale = 1.0;
  bool quick = false;
  // Thread counts passed to every workload (--threads); empty: each
  // workload's own default (the CPU count, 2 to 8).
  std::vector<int> threads;
  // The single-thread workloads that ran on one CPU only (pinned_cpu), every
  // allocator alike; empty when none was pinned (one CPU allowed).
  std::vector<std::string> pinned_workloads;
  int pinned_cpu = -1;
};

// The resident sizes a workload reports itself (wl-footprint: right after
// freeing, and after an idle second with no allocator call), in KiB, with
// the title of their table.
struct ResidentMetric {
  const char* key;
  const char* title;
};
inline constexpr ResidentMetric kResidentMetrics[] = {
    {"resident_after_free_kb", "Resident MiB after freeing"},
    {"resident_after_idle_kb", "Resident MiB after an idle second"},
};

// "AMD EPYC, 2 CPUs, Linux 6.1.0" from /proc/cpuinfo and uname.
std::string describe_machine();
// The local date and time now, formatted by strftime (e.g. "%Y-%m-%d %H:%M:%S %Z").
std::string local_time_now(const char* format);

std::string markdown_report(const std::vector<Comparison>& comparisons,
                            const std::vector<Allocator>& allocators,
                            const std::vector<std::string>& notes, const BenchSettings& settings);

std::string svg_chart(const std::vector<Comparison>& comparisons,
                      const std::vector<Allocator>& allocators);

std::string csv_medians(const std::vector<Comparison>& comparisons);

}  // namespace globalloc::tool
