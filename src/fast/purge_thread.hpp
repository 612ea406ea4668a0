// The purge thread: memory that waits for the purge delay where every thread
// can reach it (the segment cache, the large segments, the segments of
// exited threads), and the free slots of the segments of a thread that
// stopped calling the allocator (under that heap's slot lock), go back to
// the OS when their delay is over even if no thread calls the allocator
// again, so a program that frees most of its memory and then idles shrinks
// (issue #3). Of exited threads' pages, which no thread owns, it also
// discards the free blocks among the survivors. One detached thread per
// process, started the first time memory waits for the delay (in a
// thread's own segments: once 16 MiB are committed), then asleep between
// checks a quarter of the delay apart; after a whole delay with nothing new
// it checks once a second, and once nothing is left to purge it waits for
// news (the notes below wake it), so an idle process costs no wake-ups.
// It ends itself once every other thread of the process has ended (a
// process whose main thread left by pthread_exit ends with its last
// thread, and this one must not keep it alive: it blocks every signal, so
// the process could not even be stopped but by SIGKILL).
// It never touches a live thread's pages (its
// empty current pages included): the fast paths change those without a
// lock. Option purge_thread=0 turns it off.
#pragma once

#include <atomic>
#include <cstdint>

namespace globalloc::fast {

/// Memory now waits for the delay in a shared place (a segment went to the
/// cache, a thread left segments behind): the thread, when it runs, goes on
/// checking, and wakes if it waited for news. May be called with allocator
/// locks held: it sets a flag, and makes a system call only to wake the
/// thread from such a wait.
void purge_thread_note_pending() noexcept;

/// A free slot (a heap's, a large segment's) now waits for the delay: a
/// reason to start the thread once the process has
/// Config::purge_thread_start_committed bytes committed; from then on it
/// watches the heaps itself (purge_idle_heaps), and wakes if it waited for
/// news. Sets a flag, or wakes the thread as purge_thread_note_pending does.
void purge_thread_note_slots_freed() noexcept;

/// The purge options changed: wakes the thread if it waits for news (it
/// does not start it).
void purge_thread_note_options_changed() noexcept;

/// A thread is about to end (its exit hook): wakes the thread, which ends
/// itself once no other thread of the process runs, so that it never keeps
/// a process alive whose main thread left by pthread_exit.
void purge_thread_note_thread_exit() noexcept;

/// Starts the thread if memory waits and it is not running (and the option
/// and a positive delay allow it). Creating a thread allocates: call it
/// only where no allocator lock is held and the calling heap is consistent.
/// `caller_exits`: called from a thread's exit hook, where the thread is not
/// started when the caller is the process's last thread.
void purge_thread_start_if_wanted(bool caller_exits = false) noexcept;

/// After fork, in the child: the thread did not come along.
void purge_thread_fork_child() noexcept;

/// Whether the thread was started in this process (tests).
bool purge_thread_running() noexcept;

namespace purge_thread_state {
/// 1 while the thread waits for news (purge_thread.cpp). A cache line of its
/// own: every remote free reads it, and the thread's other flags and counts
/// change on each pass.
struct alignas(64) AsleepFlag {
  std::atomic<unsigned> value{0};
};
[[gnu::visibility("hidden")]] extern AsleepFlag asleep;
}  // namespace purge_thread_state

/// Whether the thread waits for news, with nothing left to purge: a remote
/// free into an exited thread's page then tells it (remote_free.cpp, on
/// every remote free, hence inline).
inline bool purge_thread_asleep() noexcept {
  return purge_thread_state::asleep.value.load(std::memory_order_relaxed) != 0;
}

/// The thread's looks at the places memory waits so far (tests: an idle
/// process with nothing left to purge costs no wake-ups).
std::uint64_t purge_thread_passes() noexcept;

}  // namespace globalloc::fast
