// Interleaved measurement shared by `globalloc bench` and `globalloc compare`.
#include "interleaved_runs.hpp"

#include <algorithm>
#include <cstdio>
#include <unistd.h>

#include "command_line.hpp"
#include "process.hpp"

namespace globalloc::tool {

Progress::Progress(int total) : total_(total), terminal_(isatty(STDERR_FILENO) != 0) {}

void Progress::step(const std::string& target, const std::string& allocator) {
  ++done_;
  // On a terminal the line rewrites itself; in a log each run gets a line.
  std::fprintf(stderr, "%s[%d/%d] %s under %s ...%s", terminal_ ? "\r\033[K" : "", done_, total_,
               target.c_str(), allocator.c_str(), terminal_ ? "" : "\n");
  std::fflush(stderr);
}

void Progress::finish() {
  if (terminal_) std::fputs("\r\033[K", stderr);
  std::fflush(stderr);
}

Comparison run_interleaved(const TargetProgram& target, const std::vector<Allocator>& allocators,
                           int runs, double timeout_seconds, Progress& progress) {
  Comparison comparison;
  comparison.target = target.name;
  std::vector<std::vector<std::string>> environments;
  for (const auto& allocator : allocators) {
    comparison.rows.push_back({});
    comparison.rows.back().allocator = allocator.name;
    comparison.rows.back().ours = allocator.ours;
    environments.push_back(child_environment(allocator));
  }
  for (int run = 0; run < runs; ++run) {
    for (std::size_t a = 0; a < allocators.size(); ++a) {
      progress.step(target.name, allocators[a].name);
      RunRequest request{target.path, target.arguments, environments[a], timeout_seconds, target.cpu};
      comparison.rows[a].record(run_and_measure(request));
    }
  }
  return comparison;
}

std::vector<Allocator> select_allocators(const AllocatorDiscovery& discovery,
                                         const std::vector<std::string>& names,
                                         const std::string& command) {
  if (names.empty()) return discovery.found;
  for (const auto& name : names)
    if (!is_known_allocator(name))
      throw UsageError(command, "unknown allocator '" + name + "'; known allocators: " +
                                    known_allocator_list());
  std::vector<Allocator> selected;
  for (const auto& allocator : discovery.found)
    if (std::find(names.begin(), names.end(), allocator.name) != names.end())
      selected.push_back(allocator);
  for (const auto& name : names) {
    bool found = std::any_of(selected.begin(), selected.end(),
                             [&](const Allocator& allocator) { return allocator.name == name; });
    if (!found) {
      for (const auto& note : discovery.notes)
        if (note.rfind(name + ":", 0) == 0) std::fprintf(stderr, "globalloc: note: %s\n", note.c_str());
    }
  }
  return selected;
}

std::vector<std::string> allocator_names(const std::vector<Allocator>& allocators) {
  std::vector<std::string> names;
  for (const auto& allocator : allocators) names.push_back(allocator.name);
  return names;
}

}  // namespace globalloc::tool
