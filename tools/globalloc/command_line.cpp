// Usage texts and flag parsing for the globalloc command.
#include "command_line.hpp"

#include <cerrno>
#include <cstdlib>

namespace globalloc::tool {

std::string usage_text(const std::string& command) {
  if (command.empty())
    return R"(usage: globalloc <command> [options]

Compare memory allocators on standard workloads or on your own program.
Allocators are injected with LD_PRELOAD; glibc is the baseline.

commands:
  bench     run the benchmark workloads under every allocator found
  run       run a program under one allocator
  compare   run a program under each allocator and compare time and memory
  list      show the allocators found and their libraries
  help CMD  show the usage of one command

Allocator libraries of this project are looked up in <bin>/../lib, or in
GLOBALLOC_LIBDIR when that is set. Try first:  globalloc bench --quick
)";
  if (command == "bench")
    return R"(usage: globalloc bench [--quick] [--runs N] [--scale X] [--only LIST] [--out DIR]
                      [--threads LIST] [--timeout SECONDS] [--strict]

Runs every workload (wl-* next to this command) under every allocator found,
interleaved run by run (A B C A B C), and reports median wall time and median
peak RSS, with ratios against glibc and against the best peer, and geometric
means. With fast and fast-unchecked (the fast allocator with its misuse checks
compiled out) both in the run, a table of what the checks cost, round by round.
The single-thread workloads run on one CPU, the same for every allocator.
Writes report.md, chart.svg and runs.csv to DIR/<date>/.

  --quick          one run each at a reduced scale (0.25)
  --runs N         runs per workload and allocator (default 5)
  --scale X        work multiplier passed to every workload (default 1.0)
  --only LIST      comma-separated workloads and/or allocators to keep,
                   e.g. --only churn,larson,glibc,fast
  --out DIR        results folder (default ./results)
  --threads LIST   comma-separated thread counts from 1 to 64, e.g. 1,2,4,8,16:
                   every workload runs once per count (rows named wl-larson/4t),
                   to see how it scales; the multi-thread workloads split a
                   fixed amount of work among that many threads, the others
                   ignore the count (default: the CPU count, 2 to 8)
  --timeout S      kill a run after S seconds (default 300)
  --strict         a peer's failed run (jemalloc, mimalloc, tcmalloc, scudo)
                   fails the bench too

Exit status: 0 when every run of glibc and of globalloc's allocators succeeded
with matching checksums, 1 otherwise. A peer's failed run is reported in its
row and in a last line, and counts only with --strict.
)";
  if (command == "run")
    return R"(usage: globalloc run [--allocator NAME] [--stats] [--profile] -- PROGRAM [ARGS...]

Executes PROGRAM under the allocator NAME (default: fast). The exit status is
the program's (127 if it cannot be found, 2 for a usage error).

  --allocator NAME   glibc, fast, fast-unchecked, hardened, jemalloc, mimalloc, tcmalloc, scudo
  --stats            add stats=1 to GLOBALLOC_OPTIONS so globalloc's allocators
                     print their statistics when the program exits
  --profile          add prof=1 to GLOBALLOC_OPTIONS: the fast allocator samples
                     allocation sites and prints the top ones at exit
)";
  if (command == "compare")
    return R"(usage: globalloc compare [--runs N] [--only LIST] [--timeout S] [--cpu N] -- PROGRAM [ARGS...]

Runs PROGRAM under each allocator found, interleaved run by run, and prints
median wall time and peak RSS with ratios against glibc and the best peer,
and what fast's misuse checks cost the program (fast against fast-unchecked).
The program's own output is discarded; a failing row shows its exit status
or signal and the end of its stderr. Exit status 1 if any run failed.

  --runs N       runs per allocator (default 3)
  --only LIST    comma-separated allocators, e.g. --only glibc,jemalloc
  --timeout S    kill a run after S seconds (default 300)
  --cpu N        run the program on CPU N only, under every allocator alike
                 (for a single-thread program on a machine whose CPUs differ
                 in speed; a program with threads then shares that one CPU)
)";
  if (command == "list")
    return R"(usage: globalloc list

Lists the allocators found on this machine with their libraries, and the ones
that are missing with the reason.
)";
  if (command == "help") return "usage: globalloc help [COMMAND]\n";
  return {};
}

std::vector<std::string> split_list(const std::string& text, char separator) {
  std::vector<std::string> items;
  std::string item;
  for (char c : text) {
    if (c == separator) {
      if (!item.empty()) items.push_back(item);
      item.clear();
    } else {
      item += c;
    }
  }
  if (!item.empty()) items.push_back(item);
  return items;
}

std::string join_list(const std::vector<std::string>& items, const std::string& separator) {
  std::string joined;
  for (std::size_t i = 0; i < items.size(); ++i) joined += (i == 0 ? "" : separator) + items[i];
  return joined;
}

namespace {
int parse_whole(const std::string& command, const std::string& flag, const std::string& value, long minimum,
                const char* wanted) {
  errno = 0;
  char* end = nullptr;
  long number = std::strtol(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || errno != 0 || number < minimum || number > 1'000'000)
    throw UsageError(command, flag + " wants " + wanted + ", not '" + value + "'");
  return static_cast<int>(number);
}
}  // namespace

int parse_positive(const std::string& command, const std::string& flag, const std::string& value) {
  return parse_whole(command, flag, value, 1, "a positive whole number");
}

int parse_non_negative(const std::string& command, const std::string& flag, const std::string& value) {
  return parse_whole(command, flag, value, 0, "a whole number from 0 on");
}

double parse_positive_double(const std::string& command, const std::string& flag,
                             const std::string& value) {
  char* end = nullptr;
  double number = std::strtod(value.c_str(), &end);
  if (value.empty() || *end != '\0' || !(number > 0))
    throw UsageError(command, flag + " wants a positive number, not '" + value + "'");
  return number;
}

bool ArgumentCursor::take_value(const std::string& flag, std::string& value) {
  if (done()) return false;
  const std::string& arg = args_[index_];
  if (arg == flag) {
    if (index_ + 1 >= args_.size()) throw UsageError(command_, flag + " needs a value");
    value = args_[index_ + 1];
    index_ += 2;
    return true;
  }
  if (arg.size() > flag.size() && arg.compare(0, flag.size(), flag) == 0 && arg[flag.size()] == '=') {
    value = arg.substr(flag.size() + 1);
    ++index_;
    return true;
  }
  return false;
}

}  // namespace globalloc::tool
