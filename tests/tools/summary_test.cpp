// The checks-cost table of `globalloc bench` and `compare` (summary.cpp),
// and fast against its peers (head_to_head_table, slowest_against_best),
// fed with run times chosen here: it must pair each round's two runs, so
// that a slow phase of the machine neither hides a cost nor invents one.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "summary.hpp"

using namespace globalloc::tool;

namespace {

Measurement runs_of(const std::string& allocator, std::vector<double> seconds) {
  Measurement measurement;
  measurement.allocator = allocator;
  measurement.ours = true;
  measurement.seconds = std::move(seconds);
  measurement.peak_rss_kb.assign(measurement.seconds.size(), 1000);
  return measurement;
}

Comparison target(const std::string& name, std::vector<double> checked, std::vector<double> unchecked) {
  Comparison comparison;
  comparison.target = name;
  comparison.rows.push_back(runs_of("fast", std::move(checked)));
  comparison.rows.push_back(runs_of("fast-unchecked", std::move(unchecked)));
  return comparison;
}

// Column of the table's first row with `header`.
std::string cell(const Table& table, const std::string& header, std::size_t row = 0) {
  for (std::size_t column = 0; column < table.header.size(); ++column)
    if (table.header[column] == header) return table.rows.at(row).at(column);
  ADD_FAILURE() << "no column " << header;
  return {};
}

}  // namespace

TEST(ChecksCostTable, PairsEachRoundsRunsSoAPhaseSpanningARoundCancels) {
  // A 5% cost in every round, under slow phases of up to 60% that hit both
  // of a round's runs: the rounds show it where the builds' spreads hide it.
  const std::vector<double> phase = {1.0, 1.6, 1.0, 1.3, 1.1};
  std::vector<double> checked, unchecked;
  for (double factor : phase) {
    unchecked.push_back(0.200 * factor);
    checked.push_back(0.210 * factor);
  }
  const Table table = checks_cost_table({target("wl-a", checked, unchecked)}, "fast", "fast-unchecked");
  ASSERT_EQ(table.rows.size(), 1u) << "one target, no mean row";
  EXPECT_EQ(cell(table, "cost (rounds)"), "+5.0%");
  EXPECT_EQ(cell(table, "noise"), "+-0.0%");
  EXPECT_EQ(cell(table, "rounds slower"), "5/5");
  EXPECT_EQ(cell(table, "above noise"), "yes");
}

TEST(ChecksCostTable, ASlowPhaseOnOneBuildsRunsIsNoCost) {
  // The same times but for two rounds in which only the checked run hit a
  // slow phase (40%): its median moves by 40%, the rounds' median not at all.
  const std::vector<double> unchecked = {0.200, 0.200, 0.200, 0.200, 0.200};
  const std::vector<double> checked = {0.280, 0.200, 0.280, 0.280, 0.200};
  const Table table = checks_cost_table({target("wl-b", checked, unchecked)}, "fast", "fast-unchecked");
  ASSERT_EQ(table.rows.size(), 1u);
  EXPECT_EQ(cell(table, "cost (rounds)"), "+40.0%") << "three rounds of five were slow: the median is one of them";
  const std::vector<double> two_slow = {0.280, 0.200, 0.200, 0.280, 0.200};
  const Table fewer = checks_cost_table({target("wl-b", two_slow, unchecked)}, "fast", "fast-unchecked");
  EXPECT_EQ(cell(fewer, "cost (rounds)"), "+0.0%");
  EXPECT_EQ(cell(fewer, "rounds slower"), "2/5");
  EXPECT_EQ(cell(fewer, "above noise"), "no");
  EXPECT_EQ(cell(fewer, "cost (fastest runs)"), "+0.0%");
}

TEST(ChecksCostTable, NoVerdictFromFewRoundsAndAMeanRowForSeveralTargets) {
  const Table table = checks_cost_table({target("wl-c", {0.21, 0.21, 0.21}, {0.20, 0.20, 0.20}),
                                         target("wl-d", {0.30, 0.30, 0.30}, {0.30, 0.30, 0.30})},
                                        "fast", "fast-unchecked");
  ASSERT_EQ(table.rows.size(), 3u);
  EXPECT_EQ(cell(table, "rounds slower", 0), "3/3");
  EXPECT_EQ(cell(table, "above noise", 0), "-") << "three rounds are too few for a verdict";
  EXPECT_EQ(cell(table, "rounds slower", 1), "0/3");
  EXPECT_EQ(table.rows[2][0], "geometric mean");
  EXPECT_EQ(cell(table, "cost (rounds)", 2), "+2.5%");  // sqrt(1.05 * 1.00)
}

TEST(ChecksCostTable, NothingWithoutBothBuildsOrWhenOneFailed) {
  Comparison only_fast;
  only_fast.target = "wl-e";
  only_fast.rows.push_back(runs_of("fast", {0.2, 0.2, 0.2, 0.2, 0.2}));
  EXPECT_TRUE(checks_cost_table({only_fast}, "fast", "fast-unchecked").rows.empty());
  Comparison failed = target("wl-f", {0.2, 0.2, 0.2, 0.2, 0.2}, {0.2, 0.2, 0.2, 0.2, 0.2});
  failed.rows[1].failure = "exit 1";
  EXPECT_TRUE(checks_cost_table({failed}, "fast", "fast-unchecked").rows.empty());
}

TEST(ChecksCostTable, PairedRatiosFollowTheRounds) {
  const auto ratios = paired_ratios(runs_of("fast", {2, 3, 4}), runs_of("fast-unchecked", {1, 3, 8}));
  ASSERT_EQ(ratios.size(), 3u);
  EXPECT_DOUBLE_EQ(ratios[0], 2.0);
  EXPECT_DOUBLE_EQ(ratios[1], 1.0);
  EXPECT_DOUBLE_EQ(ratios[2], 0.5);
}

// ---- fast against jemalloc, mimalloc and tcmalloc (head_to_head_table) ----

namespace {

Measurement peer_runs(const std::string& allocator, double seconds, double rss_kb) {
  Measurement measurement;
  measurement.allocator = allocator;
  measurement.seconds = {seconds, seconds, seconds};
  measurement.peak_rss_kb = {rss_kb, rss_kb, rss_kb};
  return measurement;
}

Comparison workload(const std::string& name, std::vector<Measurement> rows) {
  Comparison comparison;
  comparison.target = name;
  comparison.rows = std::move(rows);
  return comparison;
}

// Three workloads: fast ahead of jemalloc on all; behind mimalloc on wl-b,
// which mimalloc alone ran (it failed wl-c); tcmalloc never ran.
std::vector<Comparison> three_workloads() {
  Measurement failed = peer_runs("mimalloc", 1.0, 1000);
  failed.seconds.clear();
  failed.failure = "exit 1";
  return {workload("wl-a", {peer_runs("fast", 0.50, 1000), peer_runs("jemalloc", 1.00, 2000),
                            peer_runs("mimalloc", 0.40, 1000)}),
          workload("wl-b", {peer_runs("fast", 0.90, 1000), peer_runs("jemalloc", 1.50, 1000),
                            peer_runs("mimalloc", 0.60, 500)}),
          workload("wl-c", {peer_runs("fast", 0.20, 1000), peer_runs("jemalloc", 0.80, 4000), failed})};
}

}  // namespace

TEST(HeadToHeadTable, GeometricMeansOverTheWorkloadsBothRanAndTheSlowestOne) {
  const Table table = head_to_head_table(three_workloads(), "fast", {"jemalloc", "mimalloc", "tcmalloc"});
  ASSERT_EQ(table.rows.size(), 2u) << "tcmalloc never ran: no row";
  EXPECT_EQ(table.rows[0][0], "jemalloc");
  EXPECT_EQ(cell(table, "workloads both ran", 0), "3");
  // (0.5 * 0.6 * 0.25)^(1/3) = 0.422; RSS (0.5 * 1 * 0.25)^(1/3) = 0.5.
  EXPECT_EQ(cell(table, "time fast / peer", 0), "0.42");
  EXPECT_EQ(cell(table, "peak RSS fast / peer", 0), "0.50");
  EXPECT_EQ(cell(table, "fast's slowest workload against it", 0), "wl-b 0.600");
  // mimalloc failed wl-c: only wl-a (1.25) and wl-b (1.5) count.
  EXPECT_EQ(table.rows[1][0], "mimalloc");
  EXPECT_EQ(cell(table, "workloads both ran", 1), "2");
  EXPECT_EQ(cell(table, "time fast / peer", 1), "1.37");
  EXPECT_EQ(cell(table, "peak RSS fast / peer", 1), "1.41");
  EXPECT_EQ(cell(table, "fast's slowest workload against it", 1), "wl-b 1.500");
}

TEST(HeadToHeadTable, NoRowsWithoutOurAllocatorAndNoneForAPeerThatNeverRan) {
  std::vector<Comparison> without_fast = three_workloads();
  for (auto& comparison : without_fast) comparison.rows.erase(comparison.rows.begin());
  EXPECT_TRUE(head_to_head_table(without_fast, "fast", {"jemalloc", "mimalloc"}).rows.empty());
  EXPECT_TRUE(head_to_head_table(three_workloads(), "fast", {"tcmalloc"}).rows.empty());
  // fast failed everywhere: the peers' rows say so, with no means.
  std::vector<Comparison> fast_failed = three_workloads();
  for (auto& comparison : fast_failed) {
    comparison.rows.front().seconds.clear();
    comparison.rows.front().failure = "exit 1";
  }
  const Table table = head_to_head_table(fast_failed, "fast", {"jemalloc"});
  ASSERT_EQ(table.rows.size(), 1u);
  EXPECT_EQ(cell(table, "workloads both ran", 0), "0");
  EXPECT_EQ(cell(table, "time fast / peer", 0), "-");
  EXPECT_EQ(cell(table, "fast's slowest workload against it", 0), "-");
}

TEST(SlowestAgainstBest, TheFastestPeerOfEachWorkloadSlowestFirstAtMostCount) {
  const std::vector<Comparison> comparisons = three_workloads();
  // wl-a: best mimalloc 0.40 (fast 1.25x); wl-b: best mimalloc 0.60 (1.5x);
  // wl-c: best jemalloc 0.80, fast ahead: left out.
  const auto all = slowest_against_best(comparisons, "fast", {"jemalloc", "mimalloc", "tcmalloc"}, 5);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].target, "wl-b");
  EXPECT_EQ(all[0].peer, "mimalloc");
  EXPECT_DOUBLE_EQ(all[0].ratio, 1.5);
  EXPECT_EQ(all[1].target, "wl-a");
  EXPECT_DOUBLE_EQ(all[1].ratio, 1.25);
  const auto one = slowest_against_best(comparisons, "fast", {"jemalloc", "mimalloc"}, 1);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].target, "wl-b");
  EXPECT_TRUE(slowest_against_best(comparisons, "fast", {"jemalloc"}, 3).empty()) << "fast beats jemalloc everywhere";
}
