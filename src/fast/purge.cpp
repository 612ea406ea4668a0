// The periodic purge check of purge.hpp.
#include "fast/purge.hpp"

#include "fast/options.hpp"
#include "platform/clock.hpp"

namespace globalloc::fast {

void heap_maybe_purge(ThreadHeap* heap) noexcept {
  const long delay = purge_delay_ms();
  if (delay <= 0) return;  // 0 purges eagerly when pages fall free; negative never
  const std::uint64_t now = platform::monotonic_milliseconds();
  if (now < heap->next_purge_check_ms) return;
  // Check again after a fraction of the delay: a page is purged at most a
  // quarter of the delay late, and the scan runs a few times per delay.
  const std::uint64_t step = static_cast<std::uint64_t>(delay / 4 > 0 ? delay / 4 : 1);
  heap->next_purge_check_ms = now + step;
  for (unsigned kind = 0; kind < 2; ++kind) {
    for (Segment* segment = heap->segments[kind]; segment != nullptr; segment = segment->next) {
      if (segment->dirty_pages != 0) segment_purge_pages(segment, now, false);
    }
  }
  segment_cache_purge(now, false);
}

}  // namespace globalloc::fast
