// The global counters and the snapshot function of stats.hpp.
#include "fast/stats.hpp"

#include "fast/heap.hpp"

namespace globalloc::fast {

Counters counter_shards[counter_shard_count];

std::int64_t counter_total(std::atomic<std::int64_t> Counters::*field) noexcept {
  std::int64_t total = 0;
  for (const Counters& shard : counter_shards) total += (shard.*field).load(std::memory_order_relaxed);
  return total;
}

std::int64_t class_pages_total(unsigned size_class) noexcept {
  std::int64_t total = 0;
  for (const Counters& shard : counter_shards) total += shard.class_pages[size_class].load(std::memory_order_relaxed);
  return total;
}

namespace {
/// A total as a snapshot reports it: a sum caught between two shards' updates
/// may dip below zero for a moment.
std::uint64_t read(std::int64_t total) noexcept { return total < 0 ? 0 : static_cast<std::uint64_t>(total); }
}  // namespace

void get_statistics(Statistics* out) noexcept {
  if (out == nullptr) return;
  out->bytes_mapped = read(counter_total(&Counters::bytes_mapped));
  out->bytes_committed = read(counter_total(&Counters::bytes_committed));
  out->bytes_purged_total = read(counter_total(&Counters::bytes_purged_total));
  out->purge_operations_total = read(counter_total(&Counters::purge_operations_total));
  out->segments_in_use = read(counter_total(&Counters::segments_in_use));
  out->segments_cached = read(counter_total(&Counters::segments_cached));
  out->segments_abandoned = read(counter_total(&Counters::segments_abandoned));
  out->large_blocks = read(counter_total(&Counters::large_blocks));
  out->large_bytes = read(counter_total(&Counters::large_bytes));
  out->huge_blocks = read(counter_total(&Counters::huge_blocks));
  out->huge_bytes = read(counter_total(&Counters::huge_bytes));
  out->heaps_in_use = read(counter_total(&Counters::heaps_in_use));
  out->heaps_created_total = read(counter_total(&Counters::heaps_created_total));
  out->small_pages_in_use = 0;
  for (unsigned size_class = 0; size_class < class_count; ++size_class) {
    out->class_pages[size_class] = read(class_pages_total(size_class));
    out->class_block_size[size_class] = class_size(size_class);
    out->small_pages_in_use += out->class_pages[size_class];
  }
  heap_publish_all();
  std::int64_t live[class_count];
  heap_sum_class_counts(out->class_requests_total, live);
  for (unsigned size_class = 0; size_class < class_count; ++size_class) {
    out->class_live_blocks[size_class] = live[size_class] > 0 ? static_cast<std::uint64_t>(live[size_class]) : 0;
  }
}

std::size_t get_thread_statistics(ThreadStatistics* out, std::size_t max) noexcept {
  heap_publish_all();
  return heap_thread_statistics(out, max);
}

}  // namespace globalloc::fast
