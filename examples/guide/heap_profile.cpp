// Heap profiling from code: two call sites, one keeping memory and one
// churning through it, and the profiler's report of where the live memory
// was allocated. GLOBALLOC_OPTIONS=prof=1 profiles a program without any of
// this code; the C API starts, stops and reports on demand.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <globalloc/globalloc.h>

std::vector<std::unique_ptr<char[]>> cache;

// Keeps 16 MiB live.
[[gnu::noinline]] void fill_cache() {
  for (int i = 0; i < 4096; ++i) cache.push_back(std::make_unique<char[]>(4096));
}

// Allocates about 34 MiB in short-lived strings.
[[gnu::noinline]] std::size_t parse_requests() {
  std::size_t total = 0;
  for (int request = 0; request < 10000; ++request) {
    std::vector<std::string> fields(10, std::string(300, 'x'));
    total += fields.size();
  }
  return total;
}

int main() {
  // Sample about one allocation per 64 KiB (unless prof=1 started it already).
  if (!globalloc_profile_enabled()) globalloc_profile_start(64 * 1024);

  fill_cache();
  const std::size_t fields = parse_requests();

  globalloc_profile_totals totals;
  globalloc_profile_get(&totals);
  std::printf("%zu fields parsed; %llu samples, about %llu MiB live and %llu MiB allocated\n", fields,
              static_cast<unsigned long long>(totals.samples_total),
              static_cast<unsigned long long>(totals.live_bytes >> 20),
              static_cast<unsigned long long>(totals.allocated_bytes >> 20));

  std::fflush(stdout);          // the report goes to stderr, without stdio
  globalloc_profile_report();   // the top sites by live bytes, then by allocated bytes
  return totals.samples_total > 0 ? 0 : 1;
}
