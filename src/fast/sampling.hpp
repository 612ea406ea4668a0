// Allocation sampling: the fast allocator's side of the heap profiler
// (src/profiling). The allocator counts bytes handed out per thread on its
// slow paths only (a page's pops since its last refill, each large block),
// and when a thread's countdown passes zero the allocation in progress is
// sampled: the hook gets the block, and the block's page is marked so that
// its frees leave the fast path and report it. With no hooks installed the
// countdown never runs out: sampling costs nothing when it is off.
#pragma once

#include <cstddef>

namespace globalloc::fast {

struct SampleHooks {
  /// A sampled block was just allocated by the calling thread: `usable`
  /// bytes (the block's size class or large size), standing for `weight`
  /// bytes of allocation since the previous sample. Called with no allocator
  /// lock held. Returns true when the profiler recorded the block (false,
  /// e.g., when it re-entered itself or its table is full): only recorded
  /// blocks report their free. An allocation made inside the hook is served
  /// normally.
  bool (*allocated)(void* block, std::size_t usable, std::size_t weight) noexcept;
  /// A block of a page holding recorded blocks is being freed (by free,
  /// delete, or a realloc that moves it), before its memory may be reused.
  /// Returns true when it was one of the recorded blocks (now forgotten).
  /// May be called for blocks never recorded: answer false.
  bool (*freed)(void* block) noexcept;
};

/// Installs the hooks (a pointer to storage that outlives the process's
/// allocations) and the mean number of bytes between samples. Null hooks or
/// a zero interval turn sampling off again for allocations made afterwards
/// (blocks already sampled still report their free). Threads pick up a
/// change at their next slow path.
void set_sampling(const SampleHooks* hooks, std::size_t mean_interval_bytes) noexcept;

}  // namespace globalloc::fast
