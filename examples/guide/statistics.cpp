// Reading the fast allocator's statistics from code: a snapshot with
// globalloc_stats_get(), the readable table with globalloc_stats_print(),
// and globalloc_purge() to give free memory back to the OS at once.
#include <cstdio>
#include <memory>
#include <vector>

#include <globalloc/globalloc.h>

int main() {
  std::vector<std::unique_ptr<char[]>> blocks;
  for (int i = 0; i < 20000; ++i) blocks.push_back(std::make_unique<char[]>(1000));

  globalloc_stats stats;
  globalloc_stats_get(&stats);
  std::printf("with 20000 blocks: %llu pages in use, %llu KiB committed\n",
              static_cast<unsigned long long>(stats.pages_in_use),
              static_cast<unsigned long long>(stats.bytes_committed >> 10));

  blocks.clear();
  globalloc_purge();
  globalloc_stats_get(&stats);
  std::printf("after freeing and purging: %llu KiB returned to the OS in total\n",
              static_cast<unsigned long long>(stats.bytes_purged_total >> 10));

  std::fflush(stdout);      // the table goes to stderr, without stdio
  globalloc_stats_print();  // the table that GLOBALLOC_OPTIONS=stats=1 prints at exit
  return stats.bytes_purged_total > 0 ? 0 : 1;
}
