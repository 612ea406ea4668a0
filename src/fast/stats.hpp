// Statistics of the fast allocator: cheap counters kept on slow paths only
// (segment, page and large/huge events; never per small allocation), and a
// function that copies them into a plain struct. Printing is built on top of
// this elsewhere.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstddef>

#include "fast/size_classes.hpp"
#include "fast/thread_shard.hpp"

namespace globalloc::fast {

/// A snapshot; all byte counts are current values unless named _total.
struct Statistics {
  std::uint64_t bytes_mapped;        ///< address space reserved from the OS now
  std::uint64_t bytes_committed;     ///< mapped bytes that may be resident (not purged since use)
  std::uint64_t bytes_purged_total;  ///< bytes handed back with discard, ever
  std::uint64_t purge_operations_total;
  std::uint64_t segments_in_use;     ///< small/medium/large segments owned or abandoned
  std::uint64_t segments_cached;
  std::uint64_t segments_abandoned;
  std::uint64_t large_blocks;        ///< live large blocks and their usable bytes
  std::uint64_t large_bytes;
  std::uint64_t huge_blocks;
  std::uint64_t huge_bytes;
  std::uint64_t heaps_in_use;        ///< threads with a heap
  std::uint64_t heaps_created_total;
  std::uint64_t small_pages_in_use;  ///< pages handed to a size class, by class below
  std::uint64_t class_pages[class_count];
  std::uint64_t class_block_size[class_count];
  /// Small and medium blocks per class: handed out and not yet freed, and
  /// handed out ever. Threads publish their counts on their slow paths (a
  /// page refill, a page emptied, thread exit), the calling thread at the
  /// snapshot: another thread's figures may lag by what it did since.
  std::uint64_t class_live_blocks[class_count];
  std::uint64_t class_requests_total[class_count];
};

/// Fills `out` with the current counters (a racy but consistent-enough view).
void get_statistics(Statistics* out) noexcept;

/// One thread heap's figures (small and medium blocks; large and huge blocks
/// belong to no thread), published as for Statistics above.
struct ThreadStatistics {
  std::uint64_t thread_id;       ///< the kernel's thread id (gettid); 0 for a starter heap
  std::uint64_t live_blocks;
  std::uint64_t live_bytes;      ///< usable bytes of the live blocks
  std::uint64_t requests_total;  ///< blocks handed out by this heap, ever
  std::uint64_t pages;           ///< pages the heap holds
};

/// Copies the figures of up to `max` threads that have a heap now (and of
/// the starter heaps in use) into `out` and returns how many there are (may
/// exceed `max`).
std::size_t get_thread_statistics(ThreadStatistics* out, std::size_t max) noexcept;

/// The counters themselves, for the allocator's own files. They are kept in
/// shards, each on cache lines of its own, and a thread adds to the shard
/// it was given (thread_shard.hpp): with one set of counters every page, segment and
/// large-block event of every thread was a locked add to the same few lines,
/// and two threads that each allocated and freed a 256 KiB block in a loop
/// took 640 ns a turn against 80 alone. A total is the sum of the shards
/// (counter_total), exact once the threads that add to it are quiet.
struct alignas(64) Counters {
  std::atomic<std::int64_t> bytes_mapped{0};
  std::atomic<std::int64_t> bytes_committed{0};
  std::atomic<std::int64_t> bytes_purged_total{0};
  std::atomic<std::int64_t> purge_operations_total{0};
  std::atomic<std::int64_t> segments_in_use{0};
  std::atomic<std::int64_t> segments_cached{0};
  std::atomic<std::int64_t> segments_abandoned{0};
  std::atomic<std::int64_t> large_blocks{0};
  std::atomic<std::int64_t> large_bytes{0};
  std::atomic<std::int64_t> huge_blocks{0};
  std::atomic<std::int64_t> huge_bytes{0};
  std::atomic<std::int64_t> heaps_in_use{0};
  std::atomic<std::int64_t> heaps_created_total{0};
  std::atomic<std::int64_t> class_pages[class_count]{};
};

inline constexpr unsigned counter_shard_count = 16;
[[gnu::visibility("hidden")]] extern Counters counter_shards[counter_shard_count];

static_assert((counter_shard_count & (counter_shard_count - 1)) == 0);

/// The calling thread's counters: those of its shard (thread_shard.hpp),
/// assigned when it got a heap or a large block, shard 0 until then.
inline Counters& counters_of_this_thread() noexcept { return counter_shards[thread_shard % counter_shard_count]; }

/// Adds `delta` to the counter `field` (for example &Counters::bytes_mapped).
inline void count(std::atomic<std::int64_t> Counters::*field, std::int64_t delta) noexcept {
  (counters_of_this_thread().*field).fetch_add(delta, std::memory_order_relaxed);
}
/// A huge mapping's bytes: mapped and committed alike (its pages are the
/// block's, or resident in a cache of freed mappings).
inline void count_huge_mapping(std::int64_t delta) noexcept {
  count(&Counters::bytes_mapped, delta);
  count(&Counters::bytes_committed, delta);
}
inline void count_class_pages(unsigned size_class, std::int64_t delta) noexcept {
  counters_of_this_thread().class_pages[size_class].fetch_add(delta, std::memory_order_relaxed);
}

/// The sum over the shards.
std::int64_t counter_total(std::atomic<std::int64_t> Counters::*field) noexcept;
std::int64_t class_pages_total(unsigned size_class) noexcept;

}  // namespace globalloc::fast
