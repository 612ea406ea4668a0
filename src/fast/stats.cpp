// The global counters and the snapshot function of stats.hpp.
#include "fast/stats.hpp"

#include "fast/heap.hpp"

namespace globalloc::fast {

Counters counter_shards[counter_shard_count];

namespace {
/// The sum over the shards of the counter `of(shard)`.
template <class CounterOf>
std::int64_t sum_over_shards(CounterOf of) noexcept {
  std::int64_t total = 0;
  for (const Counters& shard : counter_shards) total += of(shard).load(std::memory_order_relaxed);
  return total;
}

/// A total as a snapshot reports it: a sum caught between two shards' updates
/// may dip below zero for a moment.
std::uint64_t read(std::int64_t total) noexcept { return total < 0 ? 0 : static_cast<std::uint64_t>(total); }

/// The snapshot's fields that are one counter each.
struct CounterField {
  std::atomic<std::int64_t> Counters::*counter;
  std::uint64_t Statistics::*field;
};
constexpr CounterField counter_fields[] = {
    {&Counters::bytes_mapped, &Statistics::bytes_mapped},
    {&Counters::bytes_committed, &Statistics::bytes_committed},
    {&Counters::bytes_purged_total, &Statistics::bytes_purged_total},
    {&Counters::purge_operations_total, &Statistics::purge_operations_total},
    {&Counters::segments_in_use, &Statistics::segments_in_use},
    {&Counters::segments_cached, &Statistics::segments_cached},
    {&Counters::segments_abandoned, &Statistics::segments_abandoned},
    {&Counters::large_blocks, &Statistics::large_blocks},
    {&Counters::large_bytes, &Statistics::large_bytes},
    {&Counters::huge_blocks, &Statistics::huge_blocks},
    {&Counters::huge_bytes, &Statistics::huge_bytes},
    {&Counters::heaps_in_use, &Statistics::heaps_in_use},
    {&Counters::heaps_created_total, &Statistics::heaps_created_total},
};
}  // namespace

std::int64_t counter_total(std::atomic<std::int64_t> Counters::*field) noexcept {
  return sum_over_shards([field](const Counters& shard) -> const std::atomic<std::int64_t>& { return shard.*field; });
}

std::int64_t class_pages_total(unsigned size_class) noexcept {
  return sum_over_shards(
      [size_class](const Counters& shard) -> const std::atomic<std::int64_t>& { return shard.class_pages[size_class]; });
}

void get_statistics(Statistics* out) noexcept {
  if (out == nullptr) return;
  std::int64_t cached_blocks = 0;
  std::int64_t cached_bytes = 0;
  heap_sum_cached_large(&cached_blocks, &cached_bytes);
  for (const CounterField& entry : counter_fields) out->*entry.field = read(counter_total(entry.counter));
  // Freed large blocks that threads keep for their next one (heap.hpp, cached_large).
  out->large_blocks = read(static_cast<std::int64_t>(out->large_blocks) - cached_blocks);
  out->large_bytes = read(static_cast<std::int64_t>(out->large_bytes) - cached_bytes);
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
