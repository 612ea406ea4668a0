// `globalloc bench`: every workload under every allocator found, interleaved
// run by run; tables on stdout, report.md, chart.svg and runs.csv on disk.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <unistd.h>

#include "allocators.hpp"
#include "command_line.hpp"
#include "commands.hpp"
#include "interleaved_runs.hpp"
#include "process.hpp"
#include "report.hpp"

namespace globalloc::tool {
namespace fs = std::filesystem;

namespace {

// Report order: the kinds roughly from the simplest to the most specialised.
const std::vector<std::string> kPreferredOrder = {
    "wl-churn", "wl-prodcons", "wl-larson", "wl-cache-scratch", "wl-containers",
    "wl-realloc", "wl-large", "wl-footprint", "wl-aligned"};

// Whether the workload at `path` runs one thread whatever --threads says
// (it prints threads=one for --describe). bench runs each of those on one
// CPU, the same for every allocator: a VM's CPUs can differ in speed for
// minutes at a time (on this project's 2-core machine one ran wl-churn
// 30-40% slower than the other), and where the scheduler put a run then
// decided its time more than the allocator did, the same way for an
// allocator through a whole pass. The others use every CPU under every
// allocator, as does a workload that does not answer.
bool runs_one_thread(const std::string& path, const std::string& name) {
  RunRequest request;
  request.program = path;
  request.arguments = {name, "--describe"};
  request.timeout_seconds = 10;
  const RunOutcome outcome = run_and_measure(request);
  if (!outcome.succeeded()) return false;
  const auto values = parse_key_values(outcome.output);
  const auto threads = values.find("threads");
  return threads != values.end() && threads->second == "one";
}

// The wl-* programs next to this executable.
std::vector<std::string> find_workloads(const std::string& directory) {
  std::vector<std::string> found;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(directory, error)) {
    std::string name = entry.path().filename().string();
    if (name.rfind("wl-", 0) == 0 && entry.is_regular_file(error) && access(entry.path().c_str(), X_OK) == 0)
      found.push_back(name);
  }
  auto rank = [](const std::string& name) {
    auto at = std::find(kPreferredOrder.begin(), kPreferredOrder.end(), name);
    return at == kPreferredOrder.end() ? kPreferredOrder.size() : static_cast<std::size_t>(at - kPreferredOrder.begin());
  };
  std::sort(found.begin(), found.end(), [&](const std::string& a, const std::string& b) {
    return rank(a) != rank(b) ? rank(a) < rank(b) : a < b;
  });
  return found;
}

// Marks rows whose checksum differs from glibc's (or, without glibc, from
// the most common one), and successful rows that printed none.
void check_checksums(Comparison& comparison) {
  std::string reference;
  if (const Measurement* glibc = comparison.find("glibc"); glibc != nullptr && glibc->ok())
    reference = glibc->checksum;
  if (reference.empty()) {
    std::map<std::string, int> votes;
    for (const auto& row : comparison.rows)
      if (row.ok() && !row.checksum.empty()) ++votes[row.checksum];
    int best = 0;
    for (const auto& [checksum, count] : votes)
      if (count > best) reference = checksum, best = count;
  }
  for (auto& row : comparison.rows) {
    if (!row.ok()) continue;
    if (row.checksum.empty())
      row.failure = "no checksum printed";
    else if (!reference.empty() && row.checksum != reference)
      row.failure = "checksum mismatch (" + row.checksum + " vs " + reference + ")";
  }
}

}  // namespace

int command_bench(const std::vector<std::string>& args) {
  ArgumentCursor cursor("bench", args);
  BenchSettings settings;
  bool runs_given = false, scale_given = false, strict = false;
  double timeout = 300;
  std::string out_directory = "results";
  std::vector<std::string> only;
  while (!cursor.done()) {
    std::string value;
    if (cursor.peek() == "--quick") {
      cursor.next();
      settings.quick = true;
    } else if (cursor.peek() == "--strict") {
      cursor.next();
      strict = true;
    } else if (cursor.take_value("--runs", value)) {
      settings.runs = parse_positive("bench", "--runs", value);
      runs_given = true;
    } else if (cursor.take_value("--scale", value)) {
      settings.scale = parse_positive_double("bench", "--scale", value);
      scale_given = true;
    } else if (cursor.take_value("--threads", value)) {
      for (const auto& item : split_list(value)) {
        const int count = parse_positive("bench", "--threads", item);
        // The workloads run at most 64 threads (workload.hpp); a larger
        // count would label rows with a number they did not run.
        if (count > 64) throw UsageError("bench", "--threads counts are 1 to 64, not " + item);
        settings.threads.push_back(count);
      }
      if (settings.threads.empty()) throw UsageError("bench", "--threads needs at least one count");
    } else if (cursor.take_value("--only", value)) {
      only = split_list(value);
    } else if (cursor.take_value("--out", value)) {
      out_directory = value;
    } else if (cursor.take_value("--timeout", value)) {
      timeout = parse_positive_double("bench", "--timeout", value);
    } else {
      throw UsageError("bench", "unexpected argument '" + cursor.peek() + "'");
    }
  }
  if (settings.quick) {
    if (!runs_given) settings.runs = 1;
    if (!scale_given) settings.scale = 0.25;
  }

  const std::string bin = executable_directory();
  const std::vector<std::string> all_workloads = find_workloads(bin);
  if (all_workloads.empty()) {
    std::fprintf(stderr, "globalloc: no workloads (wl-*) found in %s\n", bin.c_str());
    return 1;
  }

  // --only mixes workload and allocator names.
  std::vector<std::string> chosen_workloads, chosen_allocators;
  for (const auto& item : only) {
    if (is_known_allocator(item)) {
      chosen_allocators.push_back(item);
      continue;
    }
    std::string workload = item.rfind("wl-", 0) == 0 ? item : "wl-" + item;
    if (std::find(all_workloads.begin(), all_workloads.end(), workload) == all_workloads.end()) {
      std::string workloads;
      for (const auto& name : all_workloads) workloads += (workloads.empty() ? "" : ", ") + name.substr(3);
      throw UsageError("bench", "'" + item + "' is neither a workload nor an allocator; workloads: " +
                                    workloads + "; allocators: " + known_allocator_list());
    }
    chosen_workloads.push_back(workload);
  }
  if (chosen_workloads.empty()) chosen_workloads = all_workloads;

  AllocatorDiscovery discovery = discover_allocators();
  std::vector<Allocator> allocators = select_allocators(discovery, chosen_allocators, "bench");
  std::vector<std::string> notes;
  for (const auto& note : discovery.notes) {
    std::string name = note.substr(0, note.find(':'));
    if (chosen_allocators.empty() ||
        std::find(chosen_allocators.begin(), chosen_allocators.end(), name) != chosen_allocators.end())
      notes.push_back(note);
  }
  if (chosen_allocators.empty())
    for (const auto& note : notes) std::fprintf(stderr, "globalloc: note: %s\n", note.c_str());
  if (allocators.empty()) {
    std::fprintf(stderr, "globalloc: none of the chosen allocators is available\n");
    return 1;
  }

  const std::string folder_name = local_time_now("%Y-%m-%d_%H%M%S");  // when the run started
  const std::string scale_argument = format_fixed(settings.scale, 3);
  // Without --threads each workload runs once with its default thread count;
  // with it, once per count, named "wl-larson/4t" in every table.
  const std::vector<int> thread_counts = settings.threads.empty() ? std::vector<int>{0} : settings.threads;
  Progress progress(static_cast<int>(chosen_workloads.size() * thread_counts.size() * allocators.size()) *
                    settings.runs);
  // The single-thread workloads of this run, on one CPU when there are several.
  if (allowed_cpu_count() > 1) {
    for (const auto& workload : chosen_workloads)
      if (runs_one_thread((fs::path(bin) / workload).string(), workload)) settings.pinned_workloads.push_back(workload);
    if (!settings.pinned_workloads.empty()) settings.pinned_cpu = first_allowed_cpu();
  }
  std::vector<Comparison> comparisons;
  for (const auto& workload : chosen_workloads) {
    for (int threads : thread_counts) {
      TargetProgram target{workload, (fs::path(bin) / workload).string(), {workload, scale_argument}};
      if (std::find(settings.pinned_workloads.begin(), settings.pinned_workloads.end(), workload) !=
          settings.pinned_workloads.end())
        target.cpu = settings.pinned_cpu;
      if (threads > 0) {
        target.name += "/" + std::to_string(threads) + "t";
        target.arguments.push_back("--threads=" + std::to_string(threads));
      }
      comparisons.push_back(run_interleaved(target, allocators, settings.runs, timeout, progress));
      check_checksums(comparisons.back());
    }
  }
  progress.finish();

  const std::vector<std::string> names = allocator_names(allocators);
  // A failed run of glibc or of this project's allocators fails the bench; a
  // peer's is that allocator's own finding (Debian 12's mimalloc 2.0.9
  // returns misaligned blocks on wl-aligned), reported in its row and below,
  // and fails the bench only with --strict.
  bool failed = false;
  std::vector<std::string> peer_failures;
  auto is_peer = [&](const std::string& name) {
    return std::any_of(allocators.begin(), allocators.end(),
                       [&](const Allocator& allocator) { return allocator.name == name && !allocator.ours && !allocator.library.empty(); });
  };
  std::printf("globalloc bench: %zu workloads x %zu allocators x %d run%s, scale %s, medians\n",
              comparisons.size(), allocators.size(), settings.runs, settings.runs == 1 ? "" : "s",
              scale_argument.c_str());
  if (!settings.pinned_workloads.empty())
    std::printf("single-thread workloads on CPU %d only (every allocator alike)\n", settings.pinned_cpu);
  for (const auto& comparison : comparisons) {
    std::printf("\n%s\n%s", comparison.target.c_str(), comparison_table(comparison).text().c_str());
    // What the workload reported itself (wl-footprint: resident size left).
    for (const auto& [key, title] : kResidentMetrics) {
      std::string resident;
      for (const auto& row : comparison.rows)
        if (auto value = row.ok() ? row.median_metric(key) : std::nullopt)
          resident += "  " + row.allocator + " " + format_fixed(*value / 1024, 1);
      if (!resident.empty()) std::printf("  %s:%s\n", title, resident.c_str());
    }
    for (const auto& row : comparison.rows) {
      if (row.ok()) continue;
      if (is_peer(row.allocator))
        peer_failures.push_back(row.allocator + " on " + comparison.target);
      else
        failed = true;
      if (!row.failure_detail.empty())
        std::printf("    %s stderr: %s\n", row.allocator.c_str(), row.failure_detail.c_str());
    }
  }
  std::printf("\ngeometric means over %zu workloads\n%s", comparisons.size(),
              geometric_mean_table(comparisons, names).text().c_str());
  if (const Table checks = checks_cost_table(comparisons, "fast", "fast-unchecked"); !checks.rows.empty())
    std::printf("\nwhat fast's misuse checks cost (fast against fast-unchecked)\n%s", checks.text().c_str());

  const fs::path folder = fs::path(out_directory) / folder_name;
  std::error_code error;
  fs::create_directories(folder, error);
  if (error) {
    std::fprintf(stderr, "globalloc: cannot create %s: %s\n", folder.c_str(), error.message().c_str());
    return 1;
  }
  auto write = [&](const char* file, const std::string& text) {
    std::ofstream stream(folder / file);
    stream << text;
    if (!stream) {
      std::fprintf(stderr, "globalloc: cannot write %s\n", (folder / file).c_str());
      failed = true;
    }
  };
  write("report.md", markdown_report(comparisons, allocators, notes, settings));
  write("chart.svg", svg_chart(comparisons, allocators));
  write("runs.csv", csv_medians(comparisons));
  std::printf("\nreport: %s\nchart:  %s\n", (folder / "report.md").c_str(), (folder / "chart.svg").c_str());
  if (failed) std::printf("some runs failed: see the status column\n");
  if (!peer_failures.empty()) {
    std::string list;
    for (const auto& failure : peer_failures) list += (list.empty() ? "" : ", ") + failure;
    std::printf("peers that failed a workload (their rows say how%s): %s\n",
                strict ? "; --strict counts them" : "; --strict would fail the bench", list.c_str());
    if (strict) failed = true;
  }
  return failed ? 1 : 0;
}

}  // namespace globalloc::tool
