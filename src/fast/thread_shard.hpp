// The calling thread's shard: a small number that spreads threads over the
// copies of state they would otherwise all write (the statistics' counters,
// the large-block shards), so that threads on different cores seldom write
// the same cache line. Assigned round-robin at a thread's first need (its
// heap, or a large block), with no system call; threads with no heap yet
// (one that only allocates large blocks, or never allocates) get theirs too.
#pragma once

#include <atomic>

namespace globalloc::fast {

/// Shard number plus one; 0 until assigned (counters then go to shard 0).
inline constinit thread_local unsigned thread_shard [[gnu::tls_model("initial-exec")]] = 0;
inline constinit std::atomic<unsigned> next_thread_shard{0};

/// The calling thread's shard number plus one, assigned on first call.
inline unsigned this_thread_shard() noexcept {
  if (thread_shard == 0) [[unlikely]] {
    unsigned assigned = next_thread_shard.fetch_add(1, std::memory_order_relaxed) + 1;
    if (assigned == 0) assigned = 1;  // after 2^32 threads
    thread_shard = assigned;
  }
  return thread_shard;
}

}  // namespace globalloc::fast
