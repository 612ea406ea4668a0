// Statistics: the fast allocator's counters with the process's resident
// memory, as structs (globalloc_stats_get, per size class and per thread)
// and as a readable table (globalloc_stats_print). The table is formatted into a stack buffer and
// written with write(2): printing statistics must not allocate.
#include <cstdarg>
#include <cstdio>

#include "fast/stats.hpp"
#include "globalloc/globalloc.h"
#include "options/options.hpp"
#include "platform/os_memory.hpp"
#include "platform/process_memory.hpp"

namespace globalloc::api {
namespace {

class Report {
 public:
  explicit Report(int fd) noexcept : fd_(fd) {}
  ~Report() { flush(); }

  [[gnu::format(printf, 2, 3)]] void line(const char* format, ...) noexcept {
    if (length_ > sizeof(buffer_) - 256) flush();
    va_list arguments;
    va_start(arguments, format);
    const int written = std::vsnprintf(buffer_ + length_, sizeof(buffer_) - length_, format, arguments);
    va_end(arguments);
    if (written > 0) length_ += static_cast<std::size_t>(written) < sizeof(buffer_) - length_
                                    ? static_cast<std::size_t>(written)
                                    : sizeof(buffer_) - length_ - 1;
  }

 private:
  void flush() noexcept {
    platform::write_all(fd_, buffer_, length_);
    length_ = 0;
  }
  int fd_;
  std::size_t length_ = 0;
  char buffer_[4096];
};

// "12.3 MiB": sizes as a person reads them.
struct HumanSize {
  char text[32];
  explicit HumanSize(std::uint64_t bytes) noexcept {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(bytes);
    unsigned unit = 0;
    while (value >= 1024.0 && unit < 4) {
      value /= 1024.0;
      ++unit;
    }
    std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.1f %s", value, units[unit]);
  }
};

// The threads shown in the table; the rest are summed on one line.
constexpr std::size_t printed_threads = 64;

void copy_thread(const fast::ThreadStatistics& from, globalloc_thread_stats* to) noexcept {
  to->thread_id = from.thread_id;
  to->live_blocks = from.live_blocks;
  to->live_bytes = from.live_bytes;
  to->requests_total = from.requests_total;
  to->pages = from.pages;
}

}  // namespace
}  // namespace globalloc::api

using globalloc::api::HumanSize;

extern "C" void globalloc_stats_get(globalloc_stats* out) noexcept {
  globalloc::fast::Statistics fast;
  globalloc::fast::get_statistics(&fast);
  *out = globalloc_stats{};
  out->bytes_mapped = fast.bytes_mapped;
  out->bytes_committed = fast.bytes_committed;
  out->bytes_resident = globalloc::platform::resident_bytes();
  out->bytes_peak_resident = globalloc::platform::peak_resident_bytes();
  out->bytes_purged_total = fast.bytes_purged_total;
  out->purge_operations_total = fast.purge_operations_total;
  out->pages_in_use = fast.small_pages_in_use;
  out->large_blocks = fast.large_blocks;
  out->large_bytes = fast.large_bytes;
  out->huge_blocks = fast.huge_blocks;
  out->huge_bytes = fast.huge_bytes;
  out->segments_in_use = fast.segments_in_use;
  out->segments_cached = fast.segments_cached;
  out->heaps_in_use = fast.heaps_in_use;
  out->heaps_created_total = fast.heaps_created_total;
}

extern "C" void globalloc_stats_print_fd(int fd) noexcept {
  globalloc::fast::Statistics fast;
  globalloc::fast::get_statistics(&fast);
  globalloc_stats stats;
  globalloc_stats_get(&stats);
  globalloc::api::Report report(fd);
  report.line("globalloc statistics (fast allocator)\n");
  report.line("  %-26s %12s\n", "address space mapped", HumanSize(stats.bytes_mapped).text);
  report.line("  %-26s %12s\n", "committed", HumanSize(stats.bytes_committed).text);
  report.line("  %-26s %12s   peak %s\n", "resident (whole process)", HumanSize(stats.bytes_resident).text,
              HumanSize(stats.bytes_peak_resident).text);
  report.line("  %-26s %12s   in %llu purges\n", "returned to the OS", HumanSize(stats.bytes_purged_total).text,
              static_cast<unsigned long long>(stats.purge_operations_total));
  report.line("  %-26s %12llu   %s\n", "large blocks", static_cast<unsigned long long>(stats.large_blocks),
              HumanSize(stats.large_bytes).text);
  report.line("  %-26s %12llu   %s\n", "huge blocks", static_cast<unsigned long long>(stats.huge_blocks),
              HumanSize(stats.huge_bytes).text);
  report.line("  %-26s %12llu   %llu cached, %llu abandoned by exited threads\n", "segments in use",
              static_cast<unsigned long long>(stats.segments_in_use),
              static_cast<unsigned long long>(stats.segments_cached),
              static_cast<unsigned long long>(fast.segments_abandoned));
  report.line("  %-26s %12llu   %llu created\n", "thread heaps in use", static_cast<unsigned long long>(stats.heaps_in_use),
              static_cast<unsigned long long>(stats.heaps_created_total));
  report.line("  %-26s %12llu\n", "pages in use", static_cast<unsigned long long>(stats.pages_in_use));
  report.line("  size classes in use (live: blocks not yet freed; requests: blocks handed out, ever):\n");
  report.line("  %10s %8s %12s %12s %14s\n", "block size", "pages", "live blocks", "live bytes", "requests");
  for (unsigned size_class = 0; size_class < globalloc::fast::class_count; ++size_class) {
    if (fast.class_pages[size_class] == 0 && fast.class_live_blocks[size_class] == 0 &&
        fast.class_requests_total[size_class] == 0) {
      continue;
    }
    report.line("  %10llu %8llu %12llu %12s %14llu\n", static_cast<unsigned long long>(fast.class_block_size[size_class]),
                static_cast<unsigned long long>(fast.class_pages[size_class]),
                static_cast<unsigned long long>(fast.class_live_blocks[size_class]),
                HumanSize(fast.class_live_blocks[size_class] * fast.class_block_size[size_class]).text,
                static_cast<unsigned long long>(fast.class_requests_total[size_class]));
  }
  globalloc::fast::ThreadStatistics threads[globalloc::api::printed_threads];
  const std::size_t thread_count = globalloc::fast::get_thread_statistics(threads, globalloc::api::printed_threads);
  const std::size_t shown = thread_count < globalloc::api::printed_threads ? thread_count : globalloc::api::printed_threads;
  report.line("  threads with a heap (small and medium blocks):\n");
  report.line("  %10s %12s %12s %14s %8s\n", "thread id", "live blocks", "live bytes", "requests", "pages");
  for (std::size_t i = 0; i < shown; ++i) {
    char number[24];
    std::snprintf(number, sizeof number, "%llu", static_cast<unsigned long long>(threads[i].thread_id));
    const char* id = threads[i].thread_id == 0 ? "starter" : number;  // 0: a starter heap, no thread's own
    report.line("  %10s %12llu %12s %14llu %8llu\n", id,
                static_cast<unsigned long long>(threads[i].live_blocks), HumanSize(threads[i].live_bytes).text,
                static_cast<unsigned long long>(threads[i].requests_total),
                static_cast<unsigned long long>(threads[i].pages));
  }
  if (thread_count > shown) {
    report.line("  ... and %llu more threads\n", static_cast<unsigned long long>(thread_count - shown));
  }
}

extern "C" unsigned globalloc_stats_class_count(void) noexcept { return globalloc::fast::class_count; }

extern "C" int globalloc_stats_class(unsigned index, globalloc_class_stats* out) noexcept {
  if (index >= globalloc::fast::class_count || out == nullptr) return -1;
  globalloc::fast::Statistics fast;
  globalloc::fast::get_statistics(&fast);
  out->block_size = fast.class_block_size[index];
  out->pages = fast.class_pages[index];
  out->live_blocks = fast.class_live_blocks[index];
  out->requests_total = fast.class_requests_total[index];
  return 0;
}

extern "C" size_t globalloc_stats_threads(globalloc_thread_stats* out, size_t max) noexcept {
  using globalloc::fast::ThreadStatistics;
  if (out == nullptr) max = 0;
  // The allocator's own records, copied field by field: on the stack for a
  // few threads, in pages from the OS for more (this may not call malloc).
  ThreadStatistics nearby[globalloc::api::printed_threads];
  ThreadStatistics* records = nearby;
  std::size_t mapped_bytes = 0;
  if (max > globalloc::api::printed_threads) {
    const std::size_t page = globalloc::platform::page_size();
    mapped_bytes = (max * sizeof(ThreadStatistics) + page - 1) / page * page;
    records = static_cast<ThreadStatistics*>(globalloc::platform::reserve_aligned(mapped_bytes, page));
    if (records == nullptr) {
      records = nearby;
      mapped_bytes = 0;
      max = globalloc::api::printed_threads;
    }
  }
  const std::size_t count = globalloc::fast::get_thread_statistics(records, max);
  for (std::size_t i = 0; i < count && i < max; ++i) globalloc::api::copy_thread(records[i], &out[i]);
  if (mapped_bytes != 0) globalloc::platform::release(records, mapped_bytes);
  return count;
}

extern "C" void globalloc_stats_print(void) noexcept { globalloc_stats_print_fd(2); }

namespace globalloc::api {
namespace {

// GLOBALLOC_OPTIONS=stats=1: the table on stderr when the process exits. A
// destructor of the library (or executable) that holds the allocator, so it
// runs without registering anything through atexit, which may allocate.
[[gnu::destructor]] void print_statistics_at_exit() noexcept {
  if (options::value(options::Option::stats) != 0) globalloc_stats_print();
}

}  // namespace
}  // namespace globalloc::api
