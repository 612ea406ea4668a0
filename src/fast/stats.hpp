// Statistics of the fast allocator: cheap counters kept on slow paths only
// (segment, page and large/huge events; never per small allocation), and a
// function that copies them into a plain struct. Printing is built on top of
// this elsewhere.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstddef>

#include "fast/size_classes.hpp"

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
  std::uint64_t thread_id;       ///< the kernel's thread id (gettid)
  std::uint64_t live_blocks;
  std::uint64_t live_bytes;      ///< usable bytes of the live blocks
  std::uint64_t requests_total;  ///< blocks handed out by this heap, ever
  std::uint64_t pages;           ///< pages the heap holds
};

/// Copies the figures of up to `max` threads that have a heap now into `out`
/// and returns how many threads have one (may exceed `max`).
std::size_t get_thread_statistics(ThreadStatistics* out, std::size_t max) noexcept;

/// The counters themselves, for the allocator's own files.
struct Counters {
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

[[gnu::visibility("hidden")]] extern Counters counters;

inline void count(std::atomic<std::int64_t>& counter, std::int64_t delta) noexcept {
  counter.fetch_add(delta, std::memory_order_relaxed);
}

}  // namespace globalloc::fast
