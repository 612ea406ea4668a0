// Delayed purging: free pages keep their memory for purge_delay_ms (a page
// freed and soon reused costs no page faults), then their memory goes back to
// the OS. There is no background thread: the check runs on allocation slow
// paths, at most a few times per delay, and purge() forces it.
#pragma once

#include "fast/heap.hpp"

namespace globalloc::fast {

/// Purges the heap's free pages and the cached segments whose delay expired.
void heap_maybe_purge(ThreadHeap* heap) noexcept;

}  // namespace globalloc::fast
