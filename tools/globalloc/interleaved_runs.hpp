// Runs one target under several allocators, interleaved run by run
// (A B C A B C ...), so that a machine's slow moments spread over all of
// them instead of favouring whichever ran first; prints progress to stderr.
#pragma once

#include <string>
#include <vector>

#include "allocators.hpp"
#include "summary.hpp"

namespace globalloc::tool {

// Counts runs across a whole bench for the "[12/90] ..." progress line.
class Progress {
public:
  explicit Progress(int total);
  void step(const std::string& target, const std::string& allocator);
  void finish();

private:
  int total_;
  int done_ = 0;
  bool terminal_;
};

struct TargetProgram {
  std::string name;                     // shown in tables ("wl-churn", or the program)
  std::string path;                     // resolved executable
  std::vector<std::string> arguments;   // argv, argv[0] included
  int cpu = -1;                         // >= 0: every run on this CPU only
};

Comparison run_interleaved(const TargetProgram& target, const std::vector<Allocator>& allocators,
                           int runs, double timeout_seconds, Progress& progress);

// Picks the allocators named in `names` (all found ones if empty). An
// unknown name throws UsageError listing the known ones; a known but missing
// one is skipped with a note on stderr.
std::vector<Allocator> select_allocators(const AllocatorDiscovery& discovery,
                                         const std::vector<std::string>& names,
                                         const std::string& command);

std::vector<std::string> allocator_names(const std::vector<Allocator>& allocators);

}  // namespace globalloc::tool
