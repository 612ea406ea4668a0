// `globalloc compare [--runs N] [--only LIST] [--cpu N] -- PROGRAM ARGS`: the
// user's own program under each allocator, interleaved, in one table.
#include <cstdio>

#include "allocators.hpp"
#include "command_line.hpp"
#include "commands.hpp"
#include "interleaved_runs.hpp"
#include "process.hpp"

namespace globalloc::tool {

int command_compare(const std::vector<std::string>& args) {
  ArgumentCursor cursor("compare", args);
  int runs = 3;
  double timeout = 300;
  std::vector<std::string> only;
  int cpu = -1;
  while (!cursor.done()) {
    std::string value;
    if (cursor.peek() == "--") {
      cursor.next();
      break;
    }
    if (cursor.take_value("--runs", value)) {
      runs = parse_positive("compare", "--runs", value);
    } else if (cursor.take_value("--only", value)) {
      only = split_list(value);
    } else if (cursor.take_value("--timeout", value)) {
      timeout = parse_positive_double("compare", "--timeout", value);
    } else if (cursor.take_value("--cpu", value)) {
      cpu = parse_non_negative("compare", "--cpu", value);
      if (!cpu_allowed(cpu))
        throw UsageError("compare", "--cpu " + value + ": not a CPU this process may run on (" +
                                        std::to_string(allowed_cpu_count()) + " allowed, the first " +
                                        std::to_string(first_allowed_cpu()) + ")");
    } else if (cursor.peek().rfind("-", 0) == 0) {
      throw UsageError("compare", "unknown option '" + cursor.peek() + "'");
    } else {
      break;
    }
  }
  std::vector<std::string> program = cursor.rest();
  if (program.empty()) throw UsageError("compare", "no program given");

  AllocatorDiscovery discovery = discover_allocators();
  std::vector<Allocator> allocators = select_allocators(discovery, only, "compare");
  if (only.empty())
    for (const auto& note : discovery.notes) std::fprintf(stderr, "globalloc: note: %s\n", note.c_str());
  if (allocators.empty()) {
    std::fprintf(stderr, "globalloc: none of the chosen allocators is available\n");
    return 1;
  }
  std::string path = find_program(program.front());
  if (path.empty()) {
    std::fprintf(stderr, "globalloc: program not found: '%s'\n", program.front().c_str());
    return kExitNotFound;
  }

  std::string shown = program.front();
  for (std::size_t i = 1; i < program.size(); ++i) shown += " " + program[i];
  Progress progress(runs * static_cast<int>(allocators.size()));
  Comparison comparison = run_interleaved({shown, path, program, cpu}, allocators, runs, timeout, progress);
  progress.finish();

  std::printf("%s  (%d run%s each, medians%s)\n", shown.c_str(), runs, runs == 1 ? "" : "s",
              cpu >= 0 ? (", on CPU " + std::to_string(cpu) + " only").c_str() : "");
  std::fputs(comparison_table(comparison).text().c_str(), stdout);
  // With fast-unchecked in the run: what fast's misuse checks cost this program.
  if (const Table checks = checks_cost_table({comparison}, "fast", "fast-unchecked"); !checks.rows.empty())
    std::printf("\nwhat fast's misuse checks cost (fast against fast-unchecked)\n%s", checks.text().c_str());
  bool failed = false;
  for (const auto& row : comparison.rows) {
    if (row.ok()) continue;
    failed = true;
    std::printf("\n%s: %s\n", row.allocator.c_str(), row.failure.c_str());
    if (!row.failure_detail.empty()) std::printf("  stderr: %s\n", row.failure_detail.c_str());
  }
  return failed ? 1 : 0;
}

}  // namespace globalloc::tool
