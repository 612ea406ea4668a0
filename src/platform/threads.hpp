// Thread and process hooks the allocator needs from the OS: a callback when a
// thread exits (so its heap can be reclaimed), callbacks around fork() (so
// locks are never copied held into the child), and a way to give the CPU away
// while spinning. None of these allocate memory, which is what lets the
// allocator call them from inside malloc.
#pragma once

#include <atomic>

namespace globalloc::platform {

using ThreadExitFunction = void (*)(void* value);
using ForkFunction = void (*)();

/// Registers the function called at every thread's exit with the value armed
/// by arm_thread_exit. Idempotent; false when the OS refused.
bool install_thread_exit_hook(ThreadExitFunction on_exit) noexcept;

/// Makes the calling thread call the exit hook with `value` when it exits
/// (null disarms it). Requires install_thread_exit_hook first.
void arm_thread_exit(void* value) noexcept;

/// Registers the fork handlers once: prepare runs in the parent before fork,
/// parent and child after it in each process.
bool install_fork_hooks(ForkFunction prepare, ForkFunction parent, ForkFunction child) noexcept;

/// Starts a detached thread running `function(argument)` with every signal
/// blocked (it must not take the program's signals). False when the OS
/// refused. Creating a thread may allocate: call it with no allocator lock
/// held.
bool start_background_thread(void* (*function)(void*), void* argument) noexcept;

/// How many threads of the calling process are running, the caller
/// included: a main thread that called pthread_exit stays in the kernel's
/// count of the process's threads as a zombie until the process ends, and
/// is left out (and `main_thread_ended`, when given, set). -1 when it
/// cannot tell (no /proc). Reads two small files with system calls only: it
/// neither allocates nor takes locks.
long running_threads(bool* main_thread_ended = nullptr) noexcept;

/// Unblocks every signal for the calling thread: a background thread that
/// ends a process as its last thread (glibc runs exit(0) on it) takes the
/// signals pending for the process and runs the exit handlers as the
/// program's own last thread would have.
void unblock_signals() noexcept;

/// Sleeps the calling thread for about `milliseconds`.
void sleep_milliseconds(unsigned long milliseconds) noexcept;

/// Blocks the calling thread while `*word` holds `expected`, until
/// wake_all_waiting(word) or about `timeout_milliseconds` (a futex on Linux);
/// it may also return early, so the caller looks at `word` again.
void wait_while_equal(const std::atomic<unsigned>* word, unsigned expected, unsigned long timeout_milliseconds) noexcept;

/// Wakes every thread blocked in wait_while_equal on `word` (after the
/// caller changed it).
void wake_all_waiting(const std::atomic<unsigned>* word) noexcept;

/// Wakes one thread blocked in wait_while_equal on `word` (a lock's
/// release: one waiter takes the lock, the others sleep on).
void wake_one_waiting(const std::atomic<unsigned>* word) noexcept;

/// Lets another thread run (a wait on a state another thread is finishing).
void yield_processor() noexcept;

/// The kernel's id of the calling thread (what gettid returns, what ps and
/// gdb show), for per-thread statistics.
unsigned long current_thread_id() noexcept;

/// The CPU the calling thread runs on (it may move right after): spreads
/// threads over copies of shared state so that those on one CPU share one.
/// 0 where the system cannot tell.
unsigned current_cpu() noexcept;

/// Whether the calling thread is the process's main thread (the one that
/// ran main; after a fork, the thread that forked).
bool is_main_thread() noexcept;

/// Tells the CPU we are spinning (a pause instruction where there is one).
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

}  // namespace globalloc::platform
