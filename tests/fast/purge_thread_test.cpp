// The purge thread (src/fast/purge_thread.hpp): a program whose threads
// freed their memory and exited, and which then makes no allocator call at
// all, still gets back to near its starting resident size once the delay is
// over. Each case runs in a child process, so that the thread starts fresh
// (the rest of this test binary runs with purge_thread=0: its purge tests
// drive the checks themselves and count what they do).
#include <gtest/gtest.h>

#include <cstring>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "fast/options.hpp"
#include "fast/purge_thread.hpp"
#include "fast/stats.hpp"
#include "globalloc/fast_allocator.hpp"

using namespace globalloc;

namespace {

constexpr int kShrank = 0;
constexpr int kStayedHigh = 10;
constexpr int kThreadRunning = 20;  // added when the purge thread was started

/// The allocator's own count of bytes that may be resident (not purged
/// since use): the resident size would count ThreadSanitizer's shadow too.
std::size_t committed_bytes() {
  fast::Statistics statistics{};
  fast::get_statistics(&statistics);
  return statistics.bytes_committed;
}

/// In a child: a thread allocates about 200 MB of small and medium blocks,
/// frees them all and exits; then the process sleeps, with no allocator
/// call, for ten delays. Exit code: whether the committed bytes came back to
/// within 16 MiB of where they started, plus kThreadRunning if the purge
/// thread runs.
int run_child(bool purge_thread) {
  const pid_t child = fork();
  if (child == 0) {
    fast::set_purge_delay_ms(50);
    fast::set_purge_thread_enabled(purge_thread);
    const std::size_t baseline = committed_bytes();
    std::size_t full = 0;
    std::thread([&full] {
      std::vector<void*> blocks;
      blocks.reserve(200000);
      for (int i = 0; i < 200000; ++i) {
        const std::size_t size = 200 + (i % 13) * 150;
        void* block = fast::allocate(size, 16);
        std::memset(block, 1, size);
        blocks.push_back(block);
      }
      full = committed_bytes();
      for (void* block : blocks) fast::deallocate(block);
    }).join();
    usleep(500 * 1000);
    const std::size_t idle = committed_bytes();
    const bool shrank = idle < baseline + (std::size_t{16} << 20) && full > baseline + (std::size_t{100} << 20);
    _exit((shrank ? kShrank : kStayedHigh) + (fast::purge_thread_running() ? kThreadRunning : 0));
  }
  int status = 0;
  waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST(PurgeThread, MemoryFreedByExitedThreadsGoesBackWhileTheProcessIdles) {
  EXPECT_EQ(run_child(true), kShrank + kThreadRunning);
}

TEST(PurgeThread, WithoutItTheSameProgramKeepsTheMemory) {
  // What the test above would see without the thread: nothing purges.
  EXPECT_EQ(run_child(false), kStayedHigh);
}
