// POSIX implementation of the thread and process hooks (threads.hpp), with
// Linux futexes for the waits.
// pthread_key_create and pthread_atfork in glibc fill static tables and do
// not call malloc; pthread_setspecific only allocates for keys past the first
// 32, which is why the allocator installs its key as early as it can (a
// constructor) and sets its heap pointer before arming the key.
#include "platform/threads.hpp"

#include "platform/process_memory.hpp"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <time.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <climits>

namespace globalloc::platform {

namespace {
pthread_key_t exit_key;
std::atomic<int> exit_key_state{0};  // 0 none, 1 creating, 2 ready, 3 failed
std::atomic<int> fork_hooks_state{0};
}  // namespace

bool install_thread_exit_hook(ThreadExitFunction on_exit) noexcept {
  int state = exit_key_state.load(std::memory_order_acquire);
  while (state != 2) {
    if (state == 3) return false;
    int expected = 0;
    if (state == 0 && exit_key_state.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) {
      bool created = ::pthread_key_create(&exit_key, on_exit) == 0;
      exit_key_state.store(created ? 2 : 3, std::memory_order_release);
      return created;
    }
    yield_processor();
    state = exit_key_state.load(std::memory_order_acquire);
  }
  return true;
}

void arm_thread_exit(void* value) noexcept {
  if (exit_key_state.load(std::memory_order_acquire) == 2) ::pthread_setspecific(exit_key, value);
}

bool install_fork_hooks(ForkFunction prepare, ForkFunction parent, ForkFunction child) noexcept {
  int expected = 0;
  if (!fork_hooks_state.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) return true;
  return ::pthread_atfork(prepare, parent, child) == 0;
}

bool start_background_thread(void* (*function)(void*), void* argument) noexcept {
  pthread_attr_t attributes;
  if (::pthread_attr_init(&attributes) != 0) return false;
  ::pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
  // Its own work needs a few KiB, but when it is a process's last thread
  // glibc runs exit(0) on it, with the program's atexit handlers and static
  // destructors: a usual stack's size, of which only what is touched costs
  // memory.
  ::pthread_attr_setstacksize(&attributes, 1024 * 1024);
  // The new thread inherits the signal mask in force here: all blocked.
  sigset_t all;
  sigset_t saved;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &saved);
  pthread_t thread;
  const bool started = ::pthread_create(&thread, &attributes, function, argument) == 0;
  ::pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  ::pthread_attr_destroy(&attributes);
  return started;
}

long running_threads(bool* main_thread_ended) noexcept {
  // "Threads:" of /proc/self/status counts every task of the process, the
  // main thread included while it is a zombie; the main thread's state is
  // the field after the command's closing parenthesis in /proc/self/stat.
  char status[4096];
  if (read_proc_file("/proc/self/status", status, sizeof status) <= 0) return -1;
  const char* field = nullptr;
  constexpr char key[] = "Threads:";
  for (const char* line = status; *line != '\0' && field == nullptr;) {
    unsigned matched = 0;
    while (matched < sizeof key - 1 && line[matched] == key[matched]) ++matched;
    if (matched == sizeof key - 1) field = line + matched;
    while (*line != '\0' && *line != '\n') ++line;
    if (*line == '\n') ++line;
  }
  if (field == nullptr) return -1;
  while (*field == ' ' || *field == '\t') ++field;
  long threads = 0;
  for (; *field >= '0' && *field <= '9'; ++field) threads = threads * 10 + (*field - '0');
  if (threads <= 0) return -1;
  char stat[1024];
  if (read_proc_file("/proc/self/stat", stat, sizeof stat) <= 0) return -1;
  const char* command_end = nullptr;  // the command may hold ')' itself: the last one
  for (const char* c = stat; *c != '\0'; ++c) {
    if (*c == ')') command_end = c;
  }
  if (command_end == nullptr || command_end[1] != ' ') return -1;
  const bool ended = command_end[2] == 'Z';
  if (main_thread_ended != nullptr) *main_thread_ended = ended;
  return ended ? threads - 1 : threads;
}

void unblock_signals() noexcept {
  sigset_t none;
  ::sigemptyset(&none);
  ::pthread_sigmask(SIG_SETMASK, &none, nullptr);
}

void sleep_milliseconds(unsigned long milliseconds) noexcept {
  timespec wait{static_cast<time_t>(milliseconds / 1000), static_cast<long>(milliseconds % 1000) * 1000000L};
  while (::nanosleep(&wait, &wait) != 0) {
  }
}

static_assert(sizeof(std::atomic<unsigned>) == sizeof(int) && std::atomic<unsigned>::is_always_lock_free,
              "a futex is a plain 32-bit word");

void wait_while_equal(const std::atomic<unsigned>* word, unsigned expected, unsigned long timeout_milliseconds) noexcept {
  timespec timeout{static_cast<time_t>(timeout_milliseconds / 1000), static_cast<long>(timeout_milliseconds % 1000) * 1000000L};
  // Returns at once when the word no longer holds `expected` (EAGAIN), on a
  // wake-up, a signal or the timeout: the caller looks again in each case.
  ::syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, expected, &timeout, nullptr, 0);
}

void wake_all_waiting(const std::atomic<unsigned>* word) noexcept {
  ::syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
}

void wake_one_waiting(const std::atomic<unsigned>* word) noexcept {
  ::syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

void yield_processor() noexcept { ::sched_yield(); }

unsigned long current_thread_id() noexcept { return static_cast<unsigned long>(::syscall(SYS_gettid)); }

unsigned current_cpu() noexcept {
  const int cpu = ::sched_getcpu();  // the vDSO's getcpu: no system call
  return cpu > 0 ? static_cast<unsigned>(cpu) : 0;
}

bool is_main_thread() noexcept { return current_thread_id() == static_cast<unsigned long>(::getpid()); }

}  // namespace globalloc::platform
