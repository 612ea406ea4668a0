// The global counters and the snapshot function of stats.hpp.
#include "fast/stats.hpp"

#include "fast/heap.hpp"

namespace globalloc::fast {

Counters counters;

namespace {
std::uint64_t read(const std::atomic<std::int64_t>& counter) noexcept {
  std::int64_t value = counter.load(std::memory_order_relaxed);
  return value < 0 ? 0 : static_cast<std::uint64_t>(value);
}
}  // namespace

void get_statistics(Statistics* out) noexcept {
  if (out == nullptr) return;
  out->bytes_mapped = read(counters.bytes_mapped);
  out->bytes_committed = read(counters.bytes_committed);
  out->bytes_purged_total = read(counters.bytes_purged_total);
  out->purge_operations_total = read(counters.purge_operations_total);
  out->segments_in_use = read(counters.segments_in_use);
  out->segments_cached = read(counters.segments_cached);
  out->segments_abandoned = read(counters.segments_abandoned);
  out->large_blocks = read(counters.large_blocks);
  out->large_bytes = read(counters.large_bytes);
  out->huge_blocks = read(counters.huge_blocks);
  out->huge_bytes = read(counters.huge_bytes);
  out->heaps_in_use = read(counters.heaps_in_use);
  out->heaps_created_total = read(counters.heaps_created_total);
  out->small_pages_in_use = 0;
  for (unsigned size_class = 0; size_class < class_count; ++size_class) {
    out->class_pages[size_class] = read(counters.class_pages[size_class]);
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
