// Starter heaps (starter_heaps.hpp): a few thread heaps that no thread owns,
// each behind a lock, serving the first allocations of threads that have no
// heap yet.
#include "fast/starter_heaps.hpp"

#include "fast/heap.hpp"
#include "fast/lock.hpp"
#include "fast/purge_thread.hpp"
#include "fast/quiet_watch.hpp"
#include "platform/threads.hpp"

namespace globalloc::fast {

namespace {

struct alignas(64) StarterHeap {
  Lock lock;
  ThreadHeap* heap = nullptr;  ///< null until first needed, and after the purge let it go
  std::uint64_t allocations = 0;  ///< served, ever
  QuietWatch watch;               ///< the purge thread's, over `allocations`
};

constinit StarterHeap starters[Config::starter_heap_count];

// By CPU rather than by thread: threads that run on one CPU at a time seldom
// meet at its lock, and a program with few CPUs uses few starter heaps,
// each of which touches a page per size class (by thread, wl-larson's 40
// workers on 2 CPUs spread over all eight: 7.7 -> 9.0 MB peak).
StarterHeap& starter_of_this_thread() noexcept {
  return starters[platform::current_cpu() % Config::starter_heap_count];
}

}  // namespace

bool starter_heaps_wanted_by_this_thread() noexcept { return !platform::is_main_thread(); }

void* starter_allocate(unsigned size_class) noexcept {
  StarterHeap& starter = starter_of_this_thread();
  LockGuard guard(starter.lock);
  if (starter.heap == nullptr) {
    starter.heap = heap_create_unowned();
    if (starter.heap == nullptr) return nullptr;
  }
  // Its blocks will be freed by other threads and wait in it: the purge
  // thread must look at it, and be started (in the slow path below) if it
  // is not running, at each thread's first starter block: also where the
  // starter heap is older than the purge thread's state (a fork child's,
  // whose parent made it).
  if (starter_allocations_made == 1) purge_thread_note_pending();
  ++starter.allocations;
  // The owner for this allocation: the slow path works on the calling
  // thread's heap, and an allocation it makes meanwhile (pthread_create
  // starting the purge thread, a sampling hook) finds this heap too.
  ThreadHeap* const own = thread_heap;
  thread_heap = starter.heap;
  void* block = heap_allocate_slow(size_class);
  thread_heap = own;
  return block;
}

bool starter_heaps_purge(std::uint64_t now_ms, std::uint64_t delay_ms, bool force, bool* changed) noexcept {
  bool kept = false;
  for (StarterHeap& starter : starters) {
    if (force) {
      starter.lock.lock();
    } else if (!starter.lock.try_lock()) {  // in use: not idle
      kept = true;
      continue;
    }
    if (starter.heap == nullptr) {
      // Nothing to let go.
    } else if (!force && starter.watch.moved(starter.allocations, now_ms)) {
      // In use since the last look: idle from now on at the earliest.
      if (changed != nullptr) *changed = true;
      kept = true;
    } else if (force || starter.watch.quiet_for(now_ms, delay_ms)) {
      heap_release_unowned(starter.heap);
      starter.heap = nullptr;
    } else {
      kept = true;
    }
    starter.lock.unlock();
  }
  return kept;
}

void starter_heaps_publish() noexcept {
  for (StarterHeap& starter : starters) {
    LockGuard guard(starter.lock);
    if (starter.heap != nullptr) heap_publish(starter.heap);
  }
}

void starter_heaps_fork_prepare() noexcept {
  for (StarterHeap& starter : starters) starter.lock.lock();
}

void starter_heaps_fork_parent() noexcept {
  for (StarterHeap& starter : starters) starter.lock.unlock();
}

void starter_heaps_fork_child() noexcept {
  for (StarterHeap& starter : starters) starter.lock.reset();
}

}  // namespace globalloc::fast
