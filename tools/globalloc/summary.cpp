// Medians, ratios and tables for the bench and compare commands.
#include "summary.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace globalloc::tool {

namespace {

std::optional<double> ratio(bool ok, double value, std::optional<double> base) {
  if (!ok || !base || *base <= 0) return std::nullopt;
  return value / *base;
}

std::string ratio_text(std::optional<double> value) {
  return value ? format_fixed(*value, 2) : std::string("-");
}

}  // namespace

std::string format_fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

void Measurement::record(const RunOutcome& outcome) {
  if (!outcome.succeeded()) {
    if (failure.empty()) {
      failure = outcome.status();
      failure_detail = tail_lines(outcome.errors, 3);
    }
    return;
  }
  seconds.push_back(outcome.seconds);
  peak_rss_kb.push_back(static_cast<double>(outcome.peak_rss_kb));
  for (const auto& [key, value] : parse_key_values(outcome.output)) {
    if (key == "checksum") {
      if (checksum.empty())
        checksum = value;
      else if (checksum != value && failure.empty())
        failure = "checksum varies between runs";
      continue;
    }
    char* end = nullptr;
    double number = std::strtod(value.c_str(), &end);
    if (end != value.c_str() && *end == '\0') metrics[key].push_back(number);
  }
}

double Measurement::median_seconds() const { return median(seconds); }
double Measurement::median_rss_kb() const { return median(peak_rss_kb); }

std::optional<double> Measurement::median_metric(const std::string& key) const {
  auto found = metrics.find(key);
  if (found == metrics.end() || found->second.empty()) return std::nullopt;
  return median(found->second);
}

const Measurement* Comparison::find(const std::string& allocator) const {
  for (const auto& row : rows)
    if (row.allocator == allocator) return &row;
  return nullptr;
}

std::optional<double> Comparison::glibc_seconds() const {
  const Measurement* glibc = find("glibc");
  if (glibc == nullptr || !glibc->ok()) return std::nullopt;
  return glibc->median_seconds();
}

std::optional<double> Comparison::glibc_rss_kb() const {
  const Measurement* glibc = find("glibc");
  if (glibc == nullptr || !glibc->ok()) return std::nullopt;
  return glibc->median_rss_kb();
}

std::optional<double> Comparison::best_peer_seconds() const {
  std::optional<double> best;
  for (const auto& row : rows)
    if (!row.ours && row.ok() && (!best || row.median_seconds() < *best)) best = row.median_seconds();
  return best;
}

std::optional<double> Comparison::best_peer_rss_kb() const {
  std::optional<double> best;
  for (const auto& row : rows)
    if (!row.ours && row.ok() && (!best || row.median_rss_kb() < *best)) best = row.median_rss_kb();
  return best;
}

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  std::size_t middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

double geometric_mean(const std::vector<double>& values) {
  if (values.empty()) return 0;
  double log_sum = 0;
  for (double value : values) log_sum += std::log(value);
  return std::exp(log_sum / static_cast<double>(values.size()));
}

std::string Table::text(const std::string& indent) const {
  std::vector<std::size_t> widths(header.size(), 0);
  auto widen = [&](const std::vector<std::string>& row) {
    for (std::size_t c = 0; c < row.size() && c < widths.size(); ++c)
      widths[c] = std::max(widths[c], row[c].size());
  };
  widen(header);
  for (const auto& row : rows) widen(row);
  auto line = [&](const std::vector<std::string>& row) {
    std::string out = indent;
    for (std::size_t c = 0; c < row.size() && c < widths.size(); ++c) {
      bool right = c < right_aligned.size() && right_aligned[c];
      std::string padding(widths[c] - row[c].size(), ' ');
      bool last = c + 1 == row.size();
      out += right ? padding + row[c] : row[c] + (last ? std::string() : padding);
      if (!last) out += "  ";
    }
    return out + "\n";
  };
  std::string out = line(header);
  for (const auto& row : rows) out += line(row);
  return out;
}

std::string Table::markdown() const {
  auto line = [](const std::vector<std::string>& row) {
    std::string out = "|";
    for (const auto& cell : row) out += " " + cell + " |";
    return out + "\n";
  };
  std::string out = line(header) + "|";
  for (std::size_t c = 0; c < header.size(); ++c)
    out += (c < right_aligned.size() && right_aligned[c]) ? "---:|" : "---|";
  out += "\n";
  for (const auto& row : rows) out += line(row);
  return out;
}

Table comparison_table(const Comparison& comparison) {
  Table table;
  table.header = {"allocator", "time ms", "x glibc", "x best peer", "peak RSS MiB", "x glibc",
                  "x best peer", "status"};
  table.right_aligned = {false, true, true, true, true, true, true, false};
  const auto glibc_time = comparison.glibc_seconds();
  const auto glibc_rss = comparison.glibc_rss_kb();
  const auto peer_time = comparison.best_peer_seconds();
  const auto peer_rss = comparison.best_peer_rss_kb();
  for (const auto& row : comparison.rows) {
    const bool ok = row.ok();
    const double time = row.median_seconds(), rss = row.median_rss_kb();
    table.rows.push_back({row.allocator, ok ? format_fixed(time * 1000, 1) : "-",
                          ratio_text(ratio(ok, time, glibc_time)), ratio_text(ratio(ok, time, peer_time)),
                          ok ? format_fixed(rss / 1024, 1) : "-",
                          ratio_text(ratio(ok, rss, glibc_rss)), ratio_text(ratio(ok, rss, peer_rss)),
                          ok ? "ok" : (row.failure.empty() ? "no run" : row.failure)});
  }
  return table;
}

Table geometric_mean_table(const std::vector<Comparison>& comparisons,
                           const std::vector<std::string>& allocators) {
  Table table;
  table.header = {"allocator", "time x glibc", "time x best peer", "RSS x glibc", "RSS x best peer",
                  "failed"};
  table.right_aligned = {false, true, true, true, true, true};
  for (const auto& name : allocators) {
    std::vector<double> time_glibc, time_peer, rss_glibc, rss_peer;
    int failed = 0;
    for (const auto& comparison : comparisons) {
      const Measurement* row = comparison.find(name);
      if (row == nullptr) continue;
      if (!row->ok()) {
        ++failed;
        continue;
      }
      if (auto r = ratio(true, row->median_seconds(), comparison.glibc_seconds())) time_glibc.push_back(*r);
      if (auto r = ratio(true, row->median_seconds(), comparison.best_peer_seconds())) time_peer.push_back(*r);
      if (auto r = ratio(true, row->median_rss_kb(), comparison.glibc_rss_kb())) rss_glibc.push_back(*r);
      if (auto r = ratio(true, row->median_rss_kb(), comparison.best_peer_rss_kb())) rss_peer.push_back(*r);
    }
    auto mean = [](const std::vector<double>& values) {
      return values.empty() ? std::string("-") : format_fixed(geometric_mean(values), 2);
    };
    table.rows.push_back({name, mean(time_glibc), mean(time_peer), mean(rss_glibc), mean(rss_peer),
                          std::to_string(failed)});
  }
  return table;
}

namespace {

/// Half the range of `values`, relative to their median.
double half_range(const std::vector<double>& values) {
  const auto [low, high] = std::minmax_element(values.begin(), values.end());
  const double middle = median(values);
  return middle > 0 ? (*high - *low) / (2 * middle) : 0;
}

std::string signed_percent(double fraction) {
  // Appended piece by piece: g++ 12 gives a false -Wrestrict on the chain.
  std::string text = fraction >= 0 ? "+" : "";
  text += format_fixed(fraction * 100, 1);
  text += '%';
  return text;
}

}  // namespace

std::vector<double> paired_ratios(const Measurement& with, const Measurement& without) {
  std::vector<double> ratios;
  const std::size_t rounds = std::min(with.seconds.size(), without.seconds.size());
  for (std::size_t round = 0; round < rounds; ++round)
    if (without.seconds[round] > 0) ratios.push_back(with.seconds[round] / without.seconds[round]);
  return ratios;
}

Table checks_cost_table(const std::vector<Comparison>& comparisons, const std::string& checked,
                        const std::string& unchecked) {
  Table table;
  table.header = {"workload",     checked + " ms", unchecked + " ms", "cost (rounds)", "cost (fastest runs)",
                  "noise",        "rounds slower", "above noise"};
  table.right_aligned = {false, true, true, true, true, true, true, false};
  std::vector<double> round_costs, fastest_ratios;
  for (const auto& comparison : comparisons) {
    const Measurement* with = comparison.find(checked);
    const Measurement* without = comparison.find(unchecked);
    if (with == nullptr || without == nullptr || !with->ok() || !without->ok()) continue;
    const std::vector<double> ratios = paired_ratios(*with, *without);
    if (ratios.empty()) continue;
    const double round_cost = median(ratios);
    const double fastest_ratio = *std::min_element(with->seconds.begin(), with->seconds.end()) /
                                 *std::min_element(without->seconds.begin(), without->seconds.end());
    round_costs.push_back(round_cost);
    fastest_ratios.push_back(fastest_ratio);
    const auto slower = std::count_if(ratios.begin(), ratios.end(), [](double ratio) { return ratio > 1; });
    const bool enough = ratios.size() >= checks_verdict_rounds;
    table.rows.push_back({comparison.target, format_fixed(with->median_seconds() * 1000, 1),
                          format_fixed(without->median_seconds() * 1000, 1), signed_percent(round_cost - 1),
                          signed_percent(fastest_ratio - 1),
                          ratios.size() > 1 ? "+-" + format_fixed(half_range(ratios) * 100, 1) + '%' : "-",
                          std::to_string(slower) + '/' + std::to_string(ratios.size()),
                          enough ? (static_cast<std::size_t>(slower) == ratios.size() ? "yes" : "no") : "-"});
  }
  if (round_costs.size() > 1)
    table.rows.push_back({"geometric mean", "", "", signed_percent(geometric_mean(round_costs) - 1),
                          signed_percent(geometric_mean(fastest_ratios) - 1), "", "", ""});
  return table;
}

Table head_to_head_table(const std::vector<Comparison>& comparisons, const std::string& ours,
                         const std::vector<std::string>& peers) {
  Table table;
  table.header = {"peer", "workloads both ran", "time " + ours + " / peer", "peak RSS " + ours + " / peer",
                  ours + "'s slowest workload against it"};
  table.right_aligned = {false, true, true, true, false};
  const bool ours_ran = std::any_of(comparisons.begin(), comparisons.end(),
                                    [&](const Comparison& comparison) { return comparison.find(ours) != nullptr; });
  if (!ours_ran) return table;
  for (const auto& peer : peers) {
    std::vector<double> times, sizes;
    const Comparison* slowest = nullptr;
    double slowest_ratio = 0;
    bool ran = false;
    for (const auto& comparison : comparisons) {
      const Measurement* mine = comparison.find(ours);
      const Measurement* theirs = comparison.find(peer);
      if (theirs != nullptr) ran = true;
      if (mine == nullptr || theirs == nullptr || !mine->ok() || !theirs->ok()) continue;
      if (theirs->median_seconds() <= 0 || theirs->median_rss_kb() <= 0) continue;
      const double time_ratio = mine->median_seconds() / theirs->median_seconds();
      times.push_back(time_ratio);
      sizes.push_back(mine->median_rss_kb() / theirs->median_rss_kb());
      if (slowest == nullptr || time_ratio > slowest_ratio) {
        slowest = &comparison;
        slowest_ratio = time_ratio;
      }
    }
    if (!ran) continue;
    table.rows.push_back({peer, std::to_string(times.size()),
                          times.empty() ? "-" : format_fixed(geometric_mean(times), 2),
                          sizes.empty() ? "-" : format_fixed(geometric_mean(sizes), 2),
                          slowest == nullptr ? "-" : slowest->target + " " + format_fixed(slowest_ratio, 3)});
  }
  return table;
}

std::vector<Shortfall> slowest_against_best(const std::vector<Comparison>& comparisons, const std::string& ours,
                                            const std::vector<std::string>& peers, std::size_t count) {
  std::vector<Shortfall> shortfalls;
  for (const auto& comparison : comparisons) {
    const Measurement* mine = comparison.find(ours);
    if (mine == nullptr || !mine->ok()) continue;
    const Measurement* best = nullptr;
    for (const auto& peer : peers) {
      const Measurement* theirs = comparison.find(peer);
      if (theirs == nullptr || !theirs->ok() || theirs->median_seconds() <= 0) continue;
      if (best == nullptr || theirs->median_seconds() < best->median_seconds()) best = theirs;
    }
    if (best == nullptr) continue;
    const double ratio = mine->median_seconds() / best->median_seconds();
    if (ratio > 1) shortfalls.push_back({comparison.target, best->allocator, ratio});
  }
  std::sort(shortfalls.begin(), shortfalls.end(),
            [](const Shortfall& a, const Shortfall& b) { return a.ratio > b.ratio; });
  if (shortfalls.size() > count) shortfalls.resize(count);
  return shortfalls;
}

namespace {

Table matrix(const std::vector<Comparison>& comparisons, const std::vector<std::string>& allocators,
             bool time) {
  Table table;
  table.header.push_back(time ? "time ms (x glibc)" : "peak RSS MiB (x glibc)");
  table.right_aligned.push_back(false);
  for (const auto& name : allocators) {
    table.header.push_back(name);
    table.right_aligned.push_back(true);
  }
  for (const auto& comparison : comparisons) {
    std::vector<std::string> cells = {comparison.target};
    const auto base = time ? comparison.glibc_seconds() : comparison.glibc_rss_kb();
    for (const auto& name : allocators) {
      const Measurement* row = comparison.find(name);
      if (row == nullptr) {
        cells.push_back("-");
      } else if (!row->ok()) {
        cells.push_back(row->failure.empty() ? "no run" : "FAILED: " + row->failure);
      } else {
        double value = time ? row->median_seconds() * 1000 : row->median_rss_kb() / 1024;
        double raw = time ? row->median_seconds() : row->median_rss_kb();
        auto r = ratio(true, raw, base);
        cells.push_back(format_fixed(value, 1) + (r ? " (" + format_fixed(*r, 2) + ")" : ""));
      }
    }
    table.rows.push_back(cells);
  }
  return table;
}

}  // namespace

Table time_matrix(const std::vector<Comparison>& comparisons, const std::vector<std::string>& allocators) {
  return matrix(comparisons, allocators, true);
}

Table rss_matrix(const std::vector<Comparison>& comparisons, const std::vector<std::string>& allocators) {
  return matrix(comparisons, allocators, false);
}

}  // namespace globalloc::tool
