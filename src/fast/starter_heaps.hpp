// Starter heaps: where a thread's first small and medium blocks come from
// before it has a heap of its own (option starter_allocations). A thread heap
// gives each size class a page of its own, and the first block of a class
// faults in an OS page, so a thread that allocates a few dozen blocks of as
// many classes and exits paid a page fault and 4 KiB per class. The starter
// heaps are ordinary thread heaps that no thread owns: a thread allocates from
// one (that of the CPU it runs on) under the heap's lock, acting as its owner
// for that allocation, so threads share its pages as they would share glibc's
// arenas. Frees of starter blocks, by any thread, are remote frees (no thread's
// heap pointer is a starter heap outside its lock), which the starter heap
// takes back when it next allocates. A starter heap that went unused for a
// purge delay is let go by the purge thread, as an exited thread's heap is:
// empty pages go back, pages still holding blocks are abandoned and adopted
// later by whoever needs a segment. The main thread takes its own heap at
// once.
#pragma once

#include <cstdint>

#include "fast/config.hpp"
#include "fast/options.hpp"

namespace globalloc::fast {

/// Allocations the calling thread made from starter heaps (it takes its own
/// heap once this reaches the option starter_allocations).
inline constinit thread_local std::uint32_t starter_allocations_made [[gnu::tls_model("initial-exec")]] = 0;

/// The calling thread's first look: false for the main thread, which takes
/// its own heap at once (it usually lives as long as the process, and a
/// program without threads would touch a page per class in a starter heap
/// and again in its own: wl-churn +90 KB peak).
bool starter_heaps_wanted_by_this_thread() noexcept;

/// Whether the calling thread, which has no heap, should allocate from a
/// starter heap (counts the allocation).
inline bool starter_allocation_due() noexcept {
  if (starter_allocations_made >= starter_allocations()) return false;
  if (starter_allocations_made == 0 && !starter_heaps_wanted_by_this_thread()) {
    starter_allocations_made = UINT32_MAX;
    return false;
  }
  ++starter_allocations_made;
  return true;
}

/// A block of `size_class` from the calling thread's starter heap. Null when
/// no starter heap could be set up or the memory ran out (the caller then
/// sets up the thread's own heap).
[[gnu::noinline]] void* starter_allocate(unsigned size_class) noexcept;

/// Lets go of the starter heaps nobody allocated from for `delay_ms` (all of
/// them when `force`). True while one is kept (memory may wait in it);
/// `*changed` set when one served allocations since the last look (the
/// purge thread then keeps looking often, to let it go a delay after its
/// last use rather than at its next idle wake-up, a second later).
bool starter_heaps_purge(std::uint64_t now_ms, std::uint64_t delay_ms, bool force, bool* changed = nullptr) noexcept;

/// Publishes the starter heaps' counts to the statistics (heap_publish_all).
void starter_heaps_publish() noexcept;

/// The fork handlers: every starter heap's lock is held across fork(), so
/// the child finds each heap consistent.
void starter_heaps_fork_prepare() noexcept;
void starter_heaps_fork_parent() noexcept;
void starter_heaps_fork_child() noexcept;

}  // namespace globalloc::fast
