// The program the profiling tests run as a child process (the fast
// allocator is its global allocator): it allocates from three call sites
// that a report must tell apart, then writes the report on demand.
//
//   profiled_program sites   keep_site keeps 8 MiB live, small_site 0.8 MiB
//                            (a tenth), churn_site allocates 24 MiB and frees
//                            it all; then the report goes to stdout
//   profiled_program api     starts profiling from code (no GLOBALLOC_OPTIONS),
//                            checks the totals move, stops, checks they stop
//   profiled_program threads four threads allocate small, medium and large
//                            blocks that the main thread frees (remote frees);
//                            afterwards no sampled block may be left live
//   profiled_program fork    forks while other threads allocate; the child
//                            allocates and reports (no lock left held)
//
// The site functions are extern "C", not inlined and exported (the target
// has ENABLE_EXPORTS) so that dladdr names them in the report.
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "globalloc/globalloc.h"

namespace {

constexpr std::size_t block_size = 512;
constexpr std::size_t keep_count = 16384;  // 8 MiB
void* kept[keep_count + keep_count / 10];
std::size_t kept_count = 0;
void* volatile sink;

}  // namespace

extern "C" {

// Each stores what malloc returned before returning, so malloc is never
// called as a tail call (which would leave the site off the stack).
[[gnu::noinline]] void profiled_keep_site(std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    kept[kept_count] = std::malloc(block_size);
    std::memset(kept[kept_count], 1, 8);
    ++kept_count;
  }
}

[[gnu::noinline]] void profiled_small_site(std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    kept[kept_count] = std::malloc(block_size);
    std::memset(kept[kept_count], 2, 8);
    ++kept_count;
  }
}

[[gnu::noinline]] void profiled_churn_site(std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    void* block = std::malloc(block_size);
    sink = block;
    std::free(block);
  }
}

}  // extern "C"

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "sites";
  if (std::strcmp(mode, "sites") == 0) {
    profiled_keep_site(keep_count);
    profiled_small_site(keep_count / 10);
    profiled_churn_site(keep_count * 3);
    globalloc_profile_totals totals;
    globalloc_profile_get(&totals);
    std::printf("profiling enabled=%d samples=%llu live_bytes=%llu allocated_bytes=%llu dropped=%llu\n",
                globalloc_profile_enabled(), static_cast<unsigned long long>(totals.samples_total),
                static_cast<unsigned long long>(totals.live_bytes),
                static_cast<unsigned long long>(totals.allocated_bytes),
                static_cast<unsigned long long>(totals.samples_dropped));
    std::fflush(stdout);  // the report uses write(2)
    globalloc_profile_report_fd(1);
    return 0;
  }
  if (std::strcmp(mode, "api") == 0) {
    if (globalloc_profile_enabled() != 0 || globalloc_profile_start(0) != -1) return 2;
    if (globalloc_profile_start(4096) != 0 || globalloc_profile_enabled() != 1) return 3;
    profiled_keep_site(keep_count);
    globalloc_profile_totals running;
    globalloc_profile_get(&running);
    if (running.samples_total == 0 || running.live_bytes == 0) return 4;
    globalloc_profile_stop();
    if (globalloc_profile_enabled() != 0) return 5;
    // Blocks allocated once stopped are not sampled (a thread may take one
    // last sample drawn before the stop reached it)...
    profiled_keep_site(keep_count / 10);
    globalloc_profile_totals stopped;
    globalloc_profile_get(&stopped);
    if (stopped.samples_total > running.samples_total + 1) return 6;
    // ...but sampled blocks freed after the stop still leave the live figures.
    for (std::size_t i = 0; i < kept_count; ++i) std::free(kept[i]);
    kept_count = 0;
    globalloc_profile_totals freed;
    globalloc_profile_get(&freed);
    if (freed.live_bytes != 0 || freed.live_samples != 0) return 7;
    std::printf("api ok: %llu samples while running\n", static_cast<unsigned long long>(running.samples_total));
    return 0;
  }
  if (std::strcmp(mode, "threads") == 0) {
    constexpr int thread_count = 4;
    constexpr int per_thread = 20000;
    std::vector<void*> blocks(thread_count * per_thread);
    std::vector<std::thread> threads;
    threads.reserve(thread_count);
    // The two vectors stay live throughout (and may be sampled): the
    // figures below count from here.
    globalloc_profile_totals before;
    globalloc_profile_get(&before);
    for (int t = 0; t < thread_count; ++t) {
      threads.emplace_back([&blocks, t] {
        for (int i = 0; i < per_thread; ++i) {
          const std::size_t size = i % 100 == 0 ? 300000 : i % 10 == 0 ? 20000 : 16 + (i % 37) * 24;
          void* block = std::malloc(size);
          std::memset(block, 3, 16);
          if (i % 3 == 0) {
            std::free(block);  // a local free
            block = std::malloc(64);
          }
          blocks[t * per_thread + i] = block;
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    globalloc_profile_totals holding;
    globalloc_profile_get(&holding);
    for (void* block : blocks) std::free(block);  // remote frees into the threads' pages
    globalloc_profile_totals freed;
    globalloc_profile_get(&freed);
    std::printf("threads: %llu samples, %llu live while held, %llu live after (dropped %llu)\n",
                static_cast<unsigned long long>(holding.samples_total),
                static_cast<unsigned long long>(holding.live_samples - before.live_samples),
                static_cast<unsigned long long>(freed.live_samples - before.live_samples),
                static_cast<unsigned long long>(freed.samples_dropped));
    return holding.live_samples > before.live_samples + 100 && freed.live_samples == before.live_samples ? 0 : 8;
  }
  if (std::strcmp(mode, "fork") == 0) {
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < 3; ++t) {
      threads.emplace_back([&stop] {
        while (!stop.load()) {
          void* blocks[64];
          for (void*& block : blocks) block = std::malloc(1000);
          for (void* block : blocks) std::free(block);
        }
      });
    }
    int children_ok = 0;
    for (int round = 0; round < 20; ++round) {
      const pid_t child = fork();
      if (child == 0) {
        profiled_keep_site(2000);
        globalloc_profile_totals totals;
        globalloc_profile_get(&totals);
        _exit(totals.samples_total > 0 ? 0 : 1);
      }
      int status = 0;
      waitpid(child, &status, 0);
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) ++children_ok;
    }
    stop = true;
    for (std::thread& thread : threads) thread.join();
    std::printf("fork: %d of 20 children profiled and exited\n", children_ok);
    return children_ok == 20 ? 0 : 9;
  }
  return 1;
}
