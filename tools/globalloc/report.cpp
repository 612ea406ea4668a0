// Markdown report, hand-written SVG chart and CSV for `globalloc bench`.
#include "report.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <fstream>
#include <sys/utsname.h>
#include <thread>

#include "command_line.hpp"

namespace globalloc::tool {

namespace {

// Fixed colours per allocator, so charts of different runs compare by eye.
const char* colour_of(const std::string& name) {
  if (name == "fast") return "#d62728";
  if (name == "hardened") return "#ff7f0e";
  if (name == "fast-unchecked") return "#e377c2";
  if (name == "jemalloc") return "#1f77b4";
  if (name == "mimalloc") return "#2ca02c";
  if (name == "tcmalloc") return "#9467bd";
  if (name == "scudo") return "#8c564b";
  return "#7f7f7f";
}

std::string escape_xml(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// fast against the allocators it is meant to beat, each alone and the best
// of them per workload: whether it is faster on the whole, smaller, and
// where it falls furthest behind.
std::string head_to_head_section(const std::vector<Comparison>& comparisons) {
  const std::vector<std::string> peers = {"jemalloc", "mimalloc", "tcmalloc"};
  const Table table = head_to_head_table(comparisons, "fast", peers);
  if (table.rows.empty()) return {};
  std::string out =
      "\n## fast against jemalloc, mimalloc and tcmalloc\n\n"
      "Per peer, over the workloads both ran: the geometric means of fast's median time and median peak RSS "
      "divided by the peer's (below 1: fast is faster, or smaller), and fast's slowest workload against it.\n\n" +
      table.markdown();
  const std::vector<Shortfall> behind = slowest_against_best(comparisons, "fast", peers, 3);
  out += "\nAgainst the fastest of them on each workload, fast is slowest on: ";
  if (behind.empty()) out += "none (fast is the fastest on every workload)";
  for (std::size_t i = 0; i < behind.size(); ++i) {
    if (i > 0) out += ", ";
    out += behind[i].target;
    out += ' ';
    out += format_fixed(behind[i].ratio, 3);
    out += "x ";
    out += behind[i].peer;
  }
  out += ".\n";
  return out;
}

// One table of a metric the workloads report themselves (KiB, shown in
// MiB), a row per workload that reported it; empty when none did.
std::string metric_section(const std::vector<Comparison>& comparisons, const std::vector<std::string>& names,
                           const std::string& key, const std::string& title) {
  std::vector<std::string> rows;
  for (const auto& comparison : comparisons) {
    std::string row = "| " + comparison.target + " |";
    bool any = false;
    for (const auto& name : names) {
      const Measurement* measurement = comparison.find(name);
      auto value = measurement != nullptr && measurement->ok() ? measurement->median_metric(key) : std::nullopt;
      any = any || value.has_value();
      row += ' ';
      row += value ? format_fixed(*value / 1024, 1) : std::string("-");
      row += " |";
    }
    if (any) rows.push_back(row + "\n");
  }
  if (rows.empty()) return {};
  std::string out = "\n## " + title + " (reported by the workload)\n\n| workload |";
  for (const auto& name : names) out += " " + name + " |";
  out += "\n|---|";
  for (std::size_t i = 0; i < names.size(); ++i) out += "---:|";
  out += "\n";
  for (const auto& row : rows) out += row;
  return out;
}

}  // namespace

std::string describe_machine() {
  std::string model = "unknown CPU";
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) model = line.substr(line.find_first_not_of(' ', colon + 1));
      break;
    }
  }
  utsname name{};
  std::string kernel = uname(&name) == 0 ? std::string(name.sysname) + " " + name.release : "";
  return model + ", " + std::to_string(std::thread::hardware_concurrency()) + " CPUs, " + kernel;
}

std::string local_time_now(const char* format) {
  std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char buffer[64];
  std::strftime(buffer, sizeof buffer, format, &local);
  return buffer;
}

std::string markdown_report(const std::vector<Comparison>& comparisons,
                            const std::vector<Allocator>& allocators,
                            const std::vector<std::string>& notes, const BenchSettings& settings) {
  std::vector<std::string> names;
  for (const auto& allocator : allocators) names.push_back(allocator.name);

  std::string out = "# globalloc bench report\n\n";
  out += "- date: " + local_time_now("%Y-%m-%d %H:%M:%S %Z") + "\n";
  out += "- machine: " + describe_machine() + "\n";
  out += "- runs: " + std::to_string(settings.runs) + " per workload and allocator, interleaved; " +
         "scale " + format_fixed(settings.scale, 2) + (settings.quick ? " (--quick)" : "") + "\n";
  if (!settings.threads.empty()) {
    std::string counts;
    for (int count : settings.threads) counts += (counts.empty() ? "" : ", ") + std::to_string(count);
    out += "- threads: " + counts + " (each workload once per count, rows named wl-NAME/Nt)\n";
  }
  if (!settings.pinned_workloads.empty()) {
    out += "- CPU: the single-thread workloads (" + join_list(settings.pinned_workloads) + ") ran on CPU " + std::to_string(settings.pinned_cpu) +
           " only, under every allocator, so that CPUs of different speed do not favour one; the others on "
           "every CPU\n";
  }
  out += "- figures: median wall time (fork to exit) and median peak RSS (wait4 ru_maxrss); "
         "ratios below 1 are better than the reference\n\n";
  out += "## Allocators\n\n";
  // Appended piece by piece: g++ 12 gives a false -Wrestrict on the long
  // concatenation chain.
  for (const auto& allocator : allocators) {
    out += "- ";
    out += allocator.name;
    out += ": ";
    if (allocator.library.empty()) {
      out += "C library malloc, no preload";
    } else {
      out += '`';
      out += allocator.library;
      out += '`';
    }
    out += allocator.ours ? " (globalloc)\n" : "\n";
  }
  for (const auto& note : notes) out += "- " + note + "\n";

  out += "\n## Summary (geometric means over workloads)\n\n" +
         geometric_mean_table(comparisons, names).markdown();
  if (const Table checks = checks_cost_table(comparisons, "fast", "fast-unchecked"); !checks.rows.empty())
    out += "\n## What fast's misuse checks cost\n\n"
           "fast against fast-unchecked (the same allocator with its double-free and invalid-free checks "
           "compiled out), round by round: the two run one after the other in each round, so the cost is "
           "the median of the rounds' ratios and the noise half their range. Above noise: fast was slower "
           "in every round (at least 5).\n\n" +
           checks.markdown();
  out += head_to_head_section(comparisons);
  out += "\n## Time\n\n" + time_matrix(comparisons, names).markdown();
  out += "\n![time ratio against glibc](chart.svg)\n";
  out += "\n## Peak RSS\n\n" + rss_matrix(comparisons, names).markdown();

  // Metrics a workload reports itself (wl-footprint: the resident size
  // right after freeing, and after an idle second with no allocator call).
  for (const auto& [key, title] : kResidentMetrics) out += metric_section(comparisons, names, key, title);

  out += "\n## Per workload\n";
  for (const auto& comparison : comparisons) {
    std::string checksum;
    for (const auto& row : comparison.rows)
      if (!row.checksum.empty()) {
        checksum = row.checksum;
        break;
      }
    out += "\n### " + comparison.target + (checksum.empty() ? "" : " (checksum " + checksum + ")") +
           "\n\n" + comparison_table(comparison).markdown();
    for (const auto& row : comparison.rows)
      if (!row.ok() && !row.failure_detail.empty())
        out += "\n" + row.allocator + ": `" + row.failure + "`\n\n```\n" + row.failure_detail + "\n```\n";
  }
  return out;
}

std::string svg_chart(const std::vector<Comparison>& comparisons,
                      const std::vector<Allocator>& allocators) {
  // Horizontal grouped bars: one group per workload, one bar per allocator
  // other than glibc, whose ratio of 1 is the dashed reference line.
  std::vector<std::string> names;
  for (const auto& allocator : allocators)
    if (allocator.name != "glibc") names.push_back(allocator.name);

  double largest = 1.0;
  for (const auto& comparison : comparisons) {
    auto base = comparison.glibc_seconds();
    for (const auto& name : names) {
      const Measurement* row = comparison.find(name);
      if (base && row != nullptr && row->ok()) largest = std::max(largest, row->median_seconds() / *base);
    }
  }
  const double axis_max = std::min(4.0, std::ceil(largest * 2) / 2);  // longer bars are clipped
  const int label_width = 150, plot_width = 560, bar_height = 12, bar_gap = 2, group_gap = 14;
  const int top = 60, left = label_width + 10;
  const int group_height = static_cast<int>(std::max<std::size_t>(names.size(), 1)) * (bar_height + bar_gap);
  const int height = top + static_cast<int>(comparisons.size()) * (group_height + group_gap) + 40;
  const int width = left + plot_width + 80;
  auto x_of = [&](double ratio) { return left + static_cast<int>(std::min(ratio, axis_max) / axis_max * plot_width); };

  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width) +
                    "\" height=\"" + std::to_string(height) + "\" font-family=\"sans-serif\" font-size=\"11\">\n";
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg += "<text x=\"10\" y=\"18\" font-size=\"14\" font-weight=\"bold\">Median time relative to glibc "
         "(shorter is faster)</text>\n";
  int legend_x = 10;
  for (const auto& name : names) {
    svg += "<rect x=\"" + std::to_string(legend_x) + "\" y=\"28\" width=\"12\" height=\"12\" fill=\"" +
           colour_of(name) + "\"/><text x=\"" + std::to_string(legend_x + 16) + "\" y=\"38\">" +
           escape_xml(name) + "</text>\n";
    legend_x += 24 + static_cast<int>(name.size()) * 7;
  }
  // Grid lines every 0.5.
  const int plot_bottom = height - 30;
  for (double tick = 0; tick <= axis_max + 1e-9; tick += 0.5) {
    int x = x_of(tick);
    bool reference = std::fabs(tick - 1.0) < 1e-9;
    svg += "<line x1=\"" + std::to_string(x) + "\" y1=\"" + std::to_string(top - 6) + "\" x2=\"" +
           std::to_string(x) + "\" y2=\"" + std::to_string(plot_bottom) + "\" stroke=\"" +
           (reference ? "#000" : "#ddd") + "\"" + (reference ? " stroke-dasharray=\"4,3\"" : "") + "/>\n";
    svg += "<text x=\"" + std::to_string(x) + "\" y=\"" + std::to_string(plot_bottom + 14) +
           "\" text-anchor=\"middle\">" + format_fixed(tick, 1) + "</text>\n";
  }
  int y = top;
  for (const auto& comparison : comparisons) {
    svg += "<text x=\"" + std::to_string(label_width) + "\" y=\"" + std::to_string(y + group_height / 2 + 4) +
           "\" text-anchor=\"end\">" + escape_xml(comparison.target) + "</text>\n";
    auto base = comparison.glibc_seconds();
    int bar_y = y;
    for (const auto& name : names) {
      const Measurement* row = comparison.find(name);
      std::string label;
      if (row == nullptr) {
        label = "";
      } else if (!row->ok()) {
        label = "failed: " + row->failure;
      } else if (!base) {
        label = "no glibc baseline";
      } else {
        double ratio = row->median_seconds() / *base;
        svg += "<rect x=\"" + std::to_string(left) + "\" y=\"" + std::to_string(bar_y) + "\" width=\"" +
               std::to_string(std::max(1, x_of(ratio) - left)) + "\" height=\"" + std::to_string(bar_height) +
               "\" fill=\"" + colour_of(name) + "\"><title>" + escape_xml(comparison.target + " under " + name) +
               ": " + format_fixed(ratio, 2) + "x glibc</title></rect>\n";
        label = format_fixed(ratio, 2) + (ratio > axis_max ? " (clipped)" : "");
        svg += "<text x=\"" + std::to_string(x_of(ratio) + 4) + "\" y=\"" + std::to_string(bar_y + bar_height - 2) +
               "\" font-size=\"10\">" + escape_xml(label) + "</text>\n";
        label.clear();
      }
      if (!label.empty())
        svg += "<text x=\"" + std::to_string(left + 4) + "\" y=\"" + std::to_string(bar_y + bar_height - 2) +
               "\" font-size=\"10\" fill=\"" + colour_of(name) + "\">" + escape_xml(name + " " + label) + "</text>\n";
      bar_y += bar_height + bar_gap;
    }
    y += group_height + group_gap;
  }
  svg += "</svg>\n";
  return svg;
}

std::string csv_medians(const std::vector<Comparison>& comparisons) {
  std::string out = "workload,allocator,runs_ok,median_seconds,median_peak_rss_kb,checksum,status\n";
  for (const auto& comparison : comparisons)
    for (const auto& row : comparison.rows)
      out += comparison.target + "," + row.allocator + "," + std::to_string(row.seconds.size()) + "," +
             (row.ok() ? format_fixed(row.median_seconds(), 6) : "") + "," +
             (row.ok() ? format_fixed(row.median_rss_kb(), 0) : "") + "," + row.checksum + "," +
             (row.ok() ? "ok" : "\"" + row.failure + "\"") + "\n";
  return out;
}

}  // namespace globalloc::tool
