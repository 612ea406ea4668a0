// The checks-cost table of `globalloc bench` and `compare` (summary.cpp),
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
