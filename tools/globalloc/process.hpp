// Running a child program and measuring it: wall time from clock_gettime
// around fork/exec/wait, peak resident size from wait4's rusage, exit status
// or signal, and its output captured for checksums and error reports.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace globalloc::tool {

struct RunOutcome {
  double seconds = 0;        // wall time, fork to reaped
  long peak_rss_kb = 0;      // ru_maxrss of the child
  int exit_code = 0;         // valid when signal == 0 and !timed_out
  int signal = 0;            // the signal that ended it, or 0
  bool timed_out = false;    // killed after the time limit
  int exec_errno = 0;        // non-zero: the program could not be started
  std::string output;        // stdout (captured)
  std::string errors;        // stderr (captured)

  bool succeeded() const { return exec_errno == 0 && !timed_out && signal == 0 && exit_code == 0; }
  // "ok", "exit 3", "signal 11 (Segmentation fault)", "timeout", "cannot execute: ...".
  std::string status() const;
};

struct RunRequest {
  std::string program;                   // a path (resolved beforehand)
  std::vector<std::string> arguments;    // argv, argv[0] included
  std::vector<std::string> environment;  // "NAME=value"
  double timeout_seconds = 300;
  int cpu = -1;  // >= 0: the child runs on this CPU only (sched_setaffinity before exec)
};

RunOutcome run_and_measure(const RunRequest& request);

// The lowest-numbered CPU this process may run on, and how many it may run on.
int first_allowed_cpu();
int allowed_cpu_count();
// Whether this process may run on `cpu` (so a child pinned there can).
bool cpu_allowed(int cpu);

// PATH lookup as execvp does it; empty if not found. A name containing '/'
// is returned as is when it exists.
std::string find_program(const std::string& name);

// "key=value" lines of a program's output (e.g. checksum, resident_after_free_kb).
std::map<std::string, std::string> parse_key_values(const std::string& output);

// The last `lines` lines of `text`, for error reports.
std::string tail_lines(const std::string& text, std::size_t lines);

}  // namespace globalloc::tool
