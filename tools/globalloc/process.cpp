// fork/exec/wait4 with a time limit. The parent waits on the child's pidfd
// and its output pipes together with poll, so a hung child is killed at the
// deadline and a chatty one never blocks on a full pipe.
#include "process.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <filesystem>
#include <poll.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace globalloc::tool {

namespace {

double now_seconds() {
  timespec time{};
  clock_gettime(CLOCK_MONOTONIC, &time);
  return static_cast<double>(time.tv_sec) + static_cast<double>(time.tv_nsec) * 1e-9;
}

int open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
#else
  (void)pid;
  errno = ENOSYS;
  return -1;
#endif
}

// Reads what is available from `fd` into `sink`; returns false at end of file.
bool drain(int fd, std::string& sink) {
  char buffer[65536];
  for (;;) {
    ssize_t count = read(fd, buffer, sizeof buffer);
    if (count > 0) {
      // Keep at most 1 MiB: enough for checksums and error tails.
      if (sink.size() < (1u << 20)) sink.append(buffer, static_cast<std::size_t>(count));
      continue;
    }
    if (count == 0) return false;
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK;
  }
}

std::vector<char*> as_pointers(const std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (const auto& text : strings) pointers.push_back(const_cast<char*>(text.c_str()));
  pointers.push_back(nullptr);
  return pointers;
}

}  // namespace

std::string RunOutcome::status() const {
  if (exec_errno != 0) return std::string("cannot execute: ") + std::strerror(exec_errno);
  if (timed_out) return "timeout";
  if (signal != 0) {
    const char* name = strsignal(signal);
    return "signal " + std::to_string(signal) + (name ? std::string(" (") + name + ")" : "");
  }
  if (exit_code != 0) return "exit " + std::to_string(exit_code);
  return "ok";
}

RunOutcome run_and_measure(const RunRequest& request) {
  RunOutcome outcome;
  int out_pipe[2], err_pipe[2], exec_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0 ||
      pipe2(exec_pipe, O_CLOEXEC) != 0) {
    outcome.exec_errno = errno;
    return outcome;
  }
  auto argv = as_pointers(request.arguments);
  auto envp = as_pointers(request.environment);

  const double start = now_seconds();
  pid_t pid = fork();
  if (pid < 0) {
    outcome.exec_errno = errno;
    return outcome;
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls from here on.
    dup2(out_pipe[1], STDOUT_FILENO);
    dup2(err_pipe[1], STDERR_FILENO);
    if (request.cpu >= 0) {
      cpu_set_t only;
      CPU_ZERO(&only);
      if (request.cpu < CPU_SETSIZE) CPU_SET(request.cpu, &only);  // else the empty set: EINVAL below
      if (sched_setaffinity(0, sizeof only, &only) != 0) {
        int error = errno;
        ssize_t ignored = write(exec_pipe[1], &error, sizeof error);
        (void)ignored;
        _exit(127);
      }
    }
    execve(request.program.c_str(), argv.data(), envp.data());
    int error = errno;
    ssize_t ignored = write(exec_pipe[1], &error, sizeof error);
    (void)ignored;
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  close(exec_pipe[1]);
  fcntl(out_pipe[0], F_SETFL, O_NONBLOCK);
  fcntl(err_pipe[0], F_SETFL, O_NONBLOCK);

  const int pidfd = open_pidfd(pid);
  const double deadline = start + request.timeout_seconds;
  bool out_open = true, err_open = true, exited = false;
  while (!exited) {
    pollfd fds[3];
    nfds_t count = 0;
    int out_index = -1, err_index = -1, pid_index = -1;
    if (out_open) { out_index = static_cast<int>(count); fds[count++] = {out_pipe[0], POLLIN, 0}; }
    if (err_open) { err_index = static_cast<int>(count); fds[count++] = {err_pipe[0], POLLIN, 0}; }
    if (pidfd >= 0) { pid_index = static_cast<int>(count); fds[count++] = {pidfd, POLLIN, 0}; }
    double remaining = deadline - now_seconds();
    if (remaining <= 0) {
      kill(pid, SIGKILL);
      outcome.timed_out = true;
      break;
    }
    // Without a pidfd (old kernels), fall back to blocking in wait4 once
    // both pipes are closed; the timeout then only covers the output phase.
    if (count == 0) break;
    int timeout_ms = static_cast<int>(remaining * 1000) + 1;
    if (poll(fds, count, timeout_ms) < 0 && errno != EINTR) break;
    if (out_index >= 0 && fds[out_index].revents != 0) out_open = drain(out_pipe[0], outcome.output);
    if (err_index >= 0 && fds[err_index].revents != 0) err_open = drain(err_pipe[0], outcome.errors);
    if (pid_index >= 0 && fds[pid_index].revents != 0) exited = true;
  }

  int status = 0;
  rusage usage{};
  while (wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
  }
  const double end = now_seconds();
  // Whatever the child wrote just before it exited.
  if (out_open) drain(out_pipe[0], outcome.output);
  if (err_open) drain(err_pipe[0], outcome.errors);

  int exec_error = 0;
  if (read(exec_pipe[0], &exec_error, sizeof exec_error) == static_cast<ssize_t>(sizeof exec_error))
    outcome.exec_errno = exec_error;
  close(out_pipe[0]);
  close(err_pipe[0]);
  close(exec_pipe[0]);
  if (pidfd >= 0) close(pidfd);

  outcome.seconds = end - start;
  outcome.peak_rss_kb = usage.ru_maxrss;
  if (WIFSIGNALED(status) && !outcome.timed_out) outcome.signal = WTERMSIG(status);
  if (WIFEXITED(status)) outcome.exit_code = WEXITSTATUS(status);
  return outcome;
}

std::string find_program(const std::string& name) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (name.empty()) return {};
  if (name.find('/') != std::string::npos) return fs::exists(name, error) ? name : std::string();
  const char* path = std::getenv("PATH");
  std::string directories = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t begin = 0;
  while (begin <= directories.size()) {
    std::size_t end = directories.find(':', begin);
    if (end == std::string::npos) end = directories.size();
    std::string directory = directories.substr(begin, end - begin);
    fs::path candidate = fs::path(directory.empty() ? "." : directory) / name;
    if (fs::is_regular_file(candidate, error) && access(candidate.c_str(), X_OK) == 0)
      return candidate.string();
    begin = end + 1;
  }
  return {};
}

std::map<std::string, std::string> parse_key_values(const std::string& output) {
  std::map<std::string, std::string> values;
  std::size_t begin = 0;
  while (begin < output.size()) {
    std::size_t end = output.find('\n', begin);
    if (end == std::string::npos) end = output.size();
    std::string line = output.substr(begin, end - begin);
    std::size_t equals = line.find('=');
    if (equals != std::string::npos && equals > 0 && line.find(' ') == std::string::npos)
      values[line.substr(0, equals)] = line.substr(equals + 1);
    begin = end + 1;
  }
  return values;
}

std::string tail_lines(const std::string& text, std::size_t lines) {
  std::size_t position = text.size();
  if (position > 0 && text[position - 1] == '\n') --position;
  std::size_t found = 0;
  while (position > 0) {
    if (text[position - 1] == '\n' && ++found == lines) break;
    --position;
  }
  return text.substr(position);
}

namespace {
/// The CPUs this process may run on; false when the kernel will not say.
bool allowed_cpus(cpu_set_t* allowed) { return sched_getaffinity(0, sizeof *allowed, allowed) == 0; }
}  // namespace

int first_allowed_cpu() {
  cpu_set_t allowed;
  if (!allowed_cpus(&allowed)) return -1;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, &allowed)) return cpu;
  return -1;
}

bool cpu_allowed(int cpu) {
  cpu_set_t allowed;
  return cpu >= 0 && cpu < CPU_SETSIZE && allowed_cpus(&allowed) && CPU_ISSET(cpu, &allowed);
}

int allowed_cpu_count() {
  cpu_set_t allowed;
  return allowed_cpus(&allowed) ? CPU_COUNT(&allowed) : 0;
}

}  // namespace globalloc::tool
