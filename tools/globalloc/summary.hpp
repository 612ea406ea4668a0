// Results of running one target (a workload or the user's program) under
// several allocators, and the tables made from them: medians, ratios against
// glibc and against the best peer, and geometric means across targets.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "process.hpp"

namespace globalloc::tool {

// One target under one allocator, over all its runs.
struct Measurement {
  std::string allocator;
  bool ours = false;
  std::vector<double> seconds;                         // successful runs only
  std::vector<double> peak_rss_kb;                     // successful runs only
  std::map<std::string, std::vector<double>> metrics;  // numeric key=value lines
  std::string checksum;                                // of the first successful run
  std::string failure;                                 // first failure, "" if none
  std::string failure_detail;                          // end of its stderr

  void record(const RunOutcome& outcome);
  bool ok() const { return failure.empty() && !seconds.empty(); }
  double median_seconds() const;
  double median_rss_kb() const;
  std::optional<double> median_metric(const std::string& key) const;
};

// One target under every allocator.
struct Comparison {
  std::string target;
  std::vector<Measurement> rows;

  const Measurement* find(const std::string& allocator) const;
  // glibc's median time/RSS, when glibc ran and succeeded.
  std::optional<double> glibc_seconds() const;
  std::optional<double> glibc_rss_kb() const;
  // The best (smallest) median among the peers (allocators not ours) that succeeded.
  std::optional<double> best_peer_seconds() const;
  std::optional<double> best_peer_rss_kb() const;
};

double median(std::vector<double> values);
double geometric_mean(const std::vector<double>& values);

// A rectangular table of text cells, printed as aligned text or Markdown.
struct Table {
  std::vector<std::string> header;
  std::vector<bool> right_aligned;  // per column
  std::vector<std::vector<std::string>> rows;

  std::string text(const std::string& indent = "  ") const;
  std::string markdown() const;
};

// Per allocator: time, ratios, peak RSS, ratios, status.
Table comparison_table(const Comparison& comparison);

// Per allocator: geometric means over all targets of the ratios against
// glibc and the best peer, and the number of failed targets.
Table geometric_mean_table(const std::vector<Comparison>& comparisons,
                           const std::vector<std::string>& allocators);

// The ratio of `with`'s time to `without`'s in each round of an interleaved
// run (bench and compare run every allocator once per round, one after the
// other): a slow phase of the machine that spans a round's two runs cancels
// out of their ratio, where it would move one build's median and not the
// other's. Rounds are matched by position (a row that is ok ran every round).
std::vector<double> paired_ratios(const Measurement& with, const Measurement& without);

// Rounds below which the checks table gives no verdict: with five, the
// checked build comes out slower in every round by chance once in 32.
inline constexpr std::size_t checks_verdict_rounds = 5;

// What the fast allocator's default misuse checks cost: per target, the
// `checked` build (fast) against the same allocator with the checks compiled
// out (`unchecked`, fast-unchecked): the median of the per-round ratios
// (paired_ratios) and the ratio of the fastest runs; the noise, half the
// range of the per-round ratios; in how many rounds the checked build was
// slower; and "above noise" when it was slower in every round (a sign test,
// given at least checks_verdict_rounds rounds). A last row holds the
// geometric means when there are several targets. No rows when the two
// never ran side by side.
Table checks_cost_table(const std::vector<Comparison>& comparisons, const std::string& checked,
                        const std::string& unchecked);

// `ours` against each of `peers` alone (fast against jemalloc, mimalloc and
// tcmalloc: the allocators it is meant to beat), per peer: over the targets
// both ran, the geometric means of ours' time and peak RSS divided by the
// peer's, and ours' slowest target against it. Peers that did not run are
// left out; no rows when ours did not run at all (when it ran and failed,
// a peer's row counts 0 targets and has no means).
Table head_to_head_table(const std::vector<Comparison>& comparisons, const std::string& ours,
                         const std::vector<std::string>& peers);

// One target where `ours` took longer than the fastest of `peers`.
struct Shortfall {
  std::string target;
  std::string peer;  // the fastest of the peers on that target
  double ratio = 0;  // ours' median time over that peer's
};
// The targets on which `ours` was slowest against the fastest of `peers`
// that ran them, slowest first, at most `count` of them (targets where ours
// was the fastest are left out).
std::vector<Shortfall> slowest_against_best(const std::vector<Comparison>& comparisons, const std::string& ours,
                                            const std::vector<std::string>& peers, std::size_t count);

// Targets x allocators: median time in ms with the ratio against glibc.
Table time_matrix(const std::vector<Comparison>& comparisons,
                  const std::vector<std::string>& allocators);
// Targets x allocators: median peak RSS in MiB with the ratio against glibc.
Table rss_matrix(const std::vector<Comparison>& comparisons,
                 const std::vector<std::string>& allocators);

std::string format_fixed(double value, int decimals);

}  // namespace globalloc::tool
