// The purge thread (src/fast/purge_thread.hpp): a program whose threads
// freed their memory (and exited, or stay alive), and which then makes no
// allocator call at all, still gets back to near its starting resident size
// once the delay is over. Each case runs in a child process, so that the thread starts fresh
// (the rest of this test binary runs with purge_thread=0: its purge tests
// drive the checks themselves and count what they do).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <ucontext.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fast/options.hpp"
#include "fast/purge_thread.hpp"
#include "fast/stats.hpp"
#include "globalloc/fast_allocator.hpp"
#include "sanitizers.hpp"

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

/// Allocates about 200 MB of small blocks, notes the committed bytes in
/// `full`, and frees all but one in 3000 (about one per segment), so that
/// what comes back is free slots of segments still in use, not whole
/// segments, which go to the shared cache.
void allocate_and_free(std::size_t& full) {
  std::vector<void*> blocks;
  blocks.reserve(200000);
  for (int i = 0; i < 200000; ++i) {
    const std::size_t size = 200 + (i % 13) * 150;
    void* block = fast::allocate(size, 16);
    std::memset(block, 1, size);
    blocks.push_back(block);
  }
  full = committed_bytes();
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    if (i % 3000 != 0) fast::deallocate(blocks[i]);
  }
}

enum class Freer { exited_thread, live_thread };

/// In a child: a thread allocates about 200 MB of small blocks and frees
/// them all, then exits (or, with Freer::live_thread, the main thread does
/// it and stays); then the process sleeps, with no allocator call, for ten
/// delays. Exit code: whether the committed bytes came back to within
/// 16 MiB of where they started, plus kThreadRunning if the purge thread runs.
int run_child(bool purge_thread, Freer freer) {
  const pid_t child = fork();
  if (child == 0) {
    fast::set_purge_delay_ms(50);
    fast::set_purge_thread_enabled(purge_thread);
    const std::size_t baseline = committed_bytes();
    std::size_t full = 0;
    if (freer == Freer::exited_thread) {
      std::thread([&full] { allocate_and_free(full); }).join();
    } else {
      allocate_and_free(full);
    }
    usleep(500 * 1000);
    const std::size_t idle = committed_bytes();
    const bool shrank = idle < baseline + (std::size_t{16} << 20) && full > baseline + (std::size_t{100} << 20);
    _exit((shrank ? kShrank : kStayedHigh) + (fast::purge_thread_running() ? kThreadRunning : 0));
  }
  int status = 0;
  waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/// OS pages after the first of each block that are resident (mincore).
std::size_t resident_inner_pages(const std::vector<void*>& blocks, std::size_t size) {
  const std::size_t os_page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  std::size_t resident = 0;
  std::vector<unsigned char> map(size / os_page + 2);
  for (void* block : blocks) {
    const auto start = (reinterpret_cast<std::uintptr_t>(block) + os_page) & ~(os_page - 1);
    const auto end = (reinterpret_cast<std::uintptr_t>(block) + size) & ~(os_page - 1);
    if (end <= start || mincore(reinterpret_cast<void*>(start), end - start, map.data()) != 0) continue;
    for (std::size_t i = 0; i < (end - start) / os_page; ++i) resident += map[i] & 1;
  }
  return resident;
}

/// In a child: a thread allocates 400 blocks of 32 KiB (medium pages),
/// frees three in four and exits, so every page keeps survivors and goes
/// to the abandoned list with free blocks among them; then the process
/// idles for half a second (ten delays of 50 ms). Exit code: the percentage
/// of the freed blocks' inner OS pages still resident (100 when nothing was
/// given back).
int freed_blocks_still_resident_percent(bool purge_thread, long delay_ms = 50) {
  const pid_t child = fork();
  if (child == 0) {
    fast::set_purge_delay_ms(delay_ms);
    fast::set_purge_thread_enabled(purge_thread);
    constexpr std::size_t size = 32 * 1024;
    std::vector<void*> freed;
    freed.reserve(400);
    std::thread([&freed] {
      for (int i = 0; i < 400; ++i) {
        void* block = fast::allocate(size, 16);
        std::memset(block, 1, size);
        if (i % 4 != 0) freed.push_back(block);  // the others stay live
      }
      for (void* block : freed) fast::deallocate(block);
    }).join();
    const std::size_t before = resident_inner_pages(freed, size);
    usleep(500 * 1000);
    const std::size_t after = resident_inner_pages(freed, size);
    _exit(before == 0 ? 255 : static_cast<int>(after * 100 / before));
  }
  int status = 0;
  waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/// What small_block_tail_findings reports, one bit each.
constexpr int kTailStayedResident = 1;  ///< over a tenth of the freed tails' OS pages still resident
constexpr int kSurvivorDamaged = 2;     ///< a live block lost its contents
constexpr int kReuseDamaged = 4;        ///< a block carved again after the trim lost its contents

/// Resident OS pages of [start, end) (mincore), and how many there are.
std::pair<std::size_t, std::size_t> resident_pages(std::uintptr_t start, std::uintptr_t end) {
  const std::size_t os_page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  start = (start + os_page - 1) & ~(os_page - 1);
  end &= ~(os_page - 1);
  if (end <= start) return {0, 0};
  std::vector<unsigned char> map((end - start) / os_page);
  if (mincore(reinterpret_cast<void*>(start), end - start, map.data()) != 0) return {0, 0};
  std::size_t resident = 0;
  for (unsigned char page : map) resident += page & 1;
  return {resident, map.size()};
}

/// In a child: a thread allocates 3200 blocks of 2000 bytes (the 2 KiB
/// class, 32 to a 64 KiB page, too small to hold a whole OS page of their
/// own), keeps the first of every 32 and frees the rest, and exits; the
/// process idles for ten delays. Then the kept blocks are checked, and a
/// second thread allocates and checks 3200 more of the same size (the pages
/// carve their tails again) before everything is freed. Exit code: the k*
/// bits above of what went wrong.
int small_block_tail_findings() {
  const pid_t child = fork();
  if (child == 0) {
    fast::set_purge_delay_ms(50);
    fast::set_purge_thread_enabled(true);
    constexpr std::size_t size = 2000;
    constexpr int count = 3200;
    std::vector<unsigned char*> blocks(count);
    std::thread([&blocks] {
      for (int i = 0; i < count; ++i) {
        blocks[i] = static_cast<unsigned char*>(fast::allocate(size, 16));
        std::memset(blocks[i], i & 0xff, size);
      }
      for (int i = 0; i < count; ++i) {
        if (i % 32 != 0) fast::deallocate(blocks[i]);
      }
    }).join();
    usleep(500 * 1000);
    int findings = 0;
    std::size_t resident = 0;
    std::size_t pages = 0;
    for (int i = 0; i < count; i += 32) {
      // The freed blocks after each kept one, from the OS page after it.
      const auto kept_end = reinterpret_cast<std::uintptr_t>(blocks[i]) + size;
      const auto [in, all] = resident_pages(kept_end, reinterpret_cast<std::uintptr_t>(blocks[i]) + 31 * size);
      resident += in;
      pages += all;
      for (std::size_t byte = 0; byte < size; ++byte) {
        if (blocks[i][byte] != (i & 0xff)) {
          findings |= kSurvivorDamaged;
          break;
        }
      }
    }
    if (pages == 0 || resident * 10 > pages) findings |= kTailStayedResident;
    std::thread([&findings] {
      std::vector<unsigned char*> more(count);
      for (int i = 0; i < count; ++i) {
        more[i] = static_cast<unsigned char*>(fast::allocate(size, 16));
        std::memset(more[i], (i * 7) & 0xff, size);
      }
      for (int i = 0; i < count; ++i) {
        if (more[i][0] != ((i * 7) & 0xff) || more[i][size - 1] != ((i * 7) & 0xff)) findings |= kReuseDamaged;
        fast::deallocate(more[i]);
      }
    }).join();
    for (int i = 0; i < count; i += 32) {
      if (blocks[i][0] != (i & 0xff) || blocks[i][size - 1] != (i & 0xff)) findings |= kSurvivorDamaged;
      fast::deallocate(blocks[i]);
    }
    _exit(findings);
  }
  int status = 0;
  waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/// What idle_child_findings reports, one bit each.
constexpr int kWokeWhileIdle = 1;       ///< the thread made passes while nothing was left to purge
constexpr int kNeverFellAsleep = 2;     ///< it never came to wait for news
constexpr int kMissedLiveFrees = 4;     ///< a live thread's frees did not wake it
constexpr int kMissedRemoteFrees = 8;   ///< frees into an exited thread's pages did not wake it

/// Waits up to two seconds for the purge thread to wait for news.
bool wait_until_asleep() {
  for (int i = 0; i < 200; ++i) {
    if (fast::purge_thread_asleep()) return true;
    usleep(10 * 1000);
  }
  return false;
}

/// In a child: a thread allocates about 200 MB and exits with one block in
/// 3000 still live; once the purge thread gave the rest back, the process
/// idles for three seconds, then frees the exited thread's survivors, and
/// later the main thread allocates and frees 200 MB. Exit code: the
/// k* bits of what went wrong (0: the idle seconds cost no pass, and each
/// later free woke the thread, which gave the memory back).
int idle_child_findings() {
  const pid_t child = fork();
  if (child == 0) {
    fast::set_purge_delay_ms(50);
    fast::set_purge_thread_enabled(true);
    int findings = 0;
    std::vector<void*> survivors;
    std::thread([&survivors] {
      std::vector<void*> blocks;
      blocks.reserve(200000);
      for (int i = 0; i < 200000; ++i) {
        const std::size_t size = 200 + (i % 13) * 150;
        blocks.push_back(fast::allocate(size, 16));
        std::memset(blocks.back(), 1, size);
      }
      for (std::size_t i = 0; i < blocks.size(); ++i) {
        if (i % 3000 == 0) {
          survivors.push_back(blocks[i]);
        } else {
          fast::deallocate(blocks[i]);
        }
      }
    }).join();
    if (!wait_until_asleep()) findings |= kNeverFellAsleep;
    const std::uint64_t passes_before = fast::purge_thread_passes();
    sleep(3);
    if (fast::purge_thread_passes() > passes_before + 1) findings |= kWokeWhileIdle;

    // First, while the main thread has taken no page (it would adopt the
    // exited thread's segments, and these frees would be its own).
    const std::size_t with_survivors = committed_bytes();
    for (void* block : survivors) fast::deallocate(block);  // remote frees: their owner exited
    usleep(500 * 1000);
    // Each survivor held a page of its own segment, about 8 MB in all.
    if (committed_bytes() + (std::size_t{4} << 20) > with_survivors) findings |= kMissedRemoteFrees;

    if (!wait_until_asleep()) findings |= kNeverFellAsleep;
    const std::size_t settled = committed_bytes();
    std::size_t full = 0;
    allocate_and_free(full);  // the main thread's heap stays live
    usleep(500 * 1000);
    if (committed_bytes() > settled + (std::size_t{16} << 20)) findings |= kMissedLiveFrees;
    _exit(findings);
  }
  int status = 0;
  waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST(PurgeThread, FreeBlocksAmongSurvivorsOfAnExitedThreadGoBack) {
  // Free blocks of pages that still hold live blocks: the thread discards
  // their OS pages (all but the one holding the link) once the segment
  // waited the delay.
  EXPECT_LT(freed_blocks_still_resident_percent(true), 10);
  EXPECT_EQ(freed_blocks_still_resident_percent(false), 100);
}

TEST(PurgeThread, WithNoDelayTooFreeBlocksAmongSurvivorsOfAnExitedThreadGoBack) {
  // purge_delay_ms=0 asks for memory back at once: whole free pages go back
  // in the freeing thread, but free blocks among survivors of an exited
  // thread's pages are reached only by the purge thread (the process makes
  // no allocator call while it idles), so it runs with no delay too. It
  // did not before: such a program kept more memory (wl-footprint: 117
  // MiB after a second's idle against 37 with the default delay).
  EXPECT_LT(freed_blocks_still_resident_percent(true, 0), 10);
}

TEST(PurgeThread, SmallFreeBlocksAfterAnExitedThreadsLastSurvivorGoBack) {
  // Blocks too small to hold an OS page of their own: after the last live
  // block of each page, the free ones become uncarved again and their OS
  // pages are discarded; the survivors keep their contents, and the pages
  // carve the tails again for the next thread.
  EXPECT_EQ(small_block_tail_findings(), 0);
}

TEST(PurgeThread, MemoryFreedByExitedThreadsGoesBackWhileTheProcessIdles) {
  EXPECT_EQ(run_child(true, Freer::exited_thread), kShrank + kThreadRunning);
}

TEST(PurgeThread, WithoutItTheSameProgramKeepsTheMemory) {
  // What the test above would see without the thread: nothing purges.
  EXPECT_EQ(run_child(false, Freer::exited_thread), kStayedHigh);
}

TEST(PurgeThread, MemoryFreedByALiveThreadThatThenIdlesGoesBack) {
  // The free slots of the main thread's own segments: its heap is live, so
  // the thread takes them under the heap's slot lock. What stays is one
  // empty page per size class used (13 small pages here).
  EXPECT_EQ(run_child(true, Freer::live_thread), kShrank + kThreadRunning);
}

TEST(PurgeThread, WithoutItALiveThreadKeepsTheMemory) {
  EXPECT_EQ(run_child(false, Freer::live_thread), kStayedHigh);
}

namespace {
/// In a child: the main thread frees 40 MB of medium blocks but one in a
/// hundred (which starts the purge thread, when enabled, for its heap's
/// free slots), then frees a block of `size` bytes (1.5 MiB: a span of its
/// heap's slots; 3 MiB: a run of a shared large segment), which the heap
/// keeps for its next large block, and makes no allocator call for up to
/// two seconds (forty delays). Exit code: kShrank when the block's OS pages
/// are no longer resident (mincore) by then, kStayedHigh when more than a
/// tenth still are, plus kThreadRunning if the purge thread runs.
int kept_large_block_child(bool purge_thread, std::size_t size) {
  const pid_t child = fork();
  if (child == 0) {
    fast::set_purge_delay_ms(50);
    fast::set_purge_thread_enabled(purge_thread);
    std::vector<void*> medium;
    for (int i = 0; i < 2000; ++i) {
      medium.push_back(fast::allocate(20000, 16));
      std::memset(medium.back(), 1, 20000);
    }
    for (std::size_t i = 0; i < medium.size(); ++i) {
      if (i % 100 != 0) fast::deallocate(medium[i]);
    }
    const std::size_t os_page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    std::vector<unsigned char> map(size / os_page);  // before: no allocator call after the free
    void* block = fast::allocate(size, 16);
    std::memset(block, 3, size);
    fast::deallocate(block);
    // Looked at every 50 ms for up to two seconds: a run's large segment
    // goes back through the segment cache, a delay more, and a loaded
    // machine may find the purge thread checking only once a second.
    bool shrank = false;
    for (int look = 0; look < 40 && !shrank; ++look) {
      usleep(50 * 1000);
      std::size_t resident = 0;
      if (mincore(block, size, map.data()) == 0) {
        for (unsigned char entry : map) resident += entry & 1;
      }
      shrank = resident * 10 < map.size();
    }
    _exit((shrank ? kShrank : kStayedHigh) + (fast::purge_thread_running() ? kThreadRunning : 0));
  }
  int status = 0;
  waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
}  // namespace

constexpr std::size_t kSpanOfSlots = std::size_t{3} << 19;
constexpr std::size_t kRunOfALargeSegment = std::size_t{3} << 20;

TEST(PurgeThread, ALargeBlockALiveThreadKeptForReuseGoesBackWhenTheThreadIdles) {
  EXPECT_EQ(kept_large_block_child(true, kSpanOfSlots), kShrank + kThreadRunning);
  EXPECT_EQ(kept_large_block_child(true, kRunOfALargeSegment), kShrank + kThreadRunning);
}

TEST(PurgeThread, WithoutItTheKeptLargeBlockStays) {
  EXPECT_EQ(kept_large_block_child(false, kSpanOfSlots), kStayedHigh);
  EXPECT_EQ(kept_large_block_child(false, kRunOfALargeSegment), kStayedHigh);
}

TEST(PurgeThread, AnIdleProcessWithNothingToPurgeCostsNoWakeUpsAndNewsWakesTheThread) {
  // Once everything went back, the thread waits for news instead of
  // looking once a second; a live thread's frees and frees into an exited
  // thread's pages each wake it.
  EXPECT_EQ(idle_child_findings(), 0);
}

namespace {
constexpr int kDamaged = 1;     ///< a block lost its contents
constexpr int kNotStarted = 2;  ///< the purge thread did not start

/// The churn of the test below, in a child: the purge thread it starts
/// stays out of this process (ThreadSanitizer builds cannot start threads
/// in children forked from a process with threads, which later tests do).
/// Exit code: kDamaged and kNotStarted as they apply (ThreadSanitizer's 66
/// when it saw a race).
[[noreturn]] void churn_with_the_purge_thread_at_1_ms() {
  fast::set_purge_delay_ms(1);
  fast::set_purge_thread_enabled(true);
  std::atomic<int> damaged{0};
  auto churn = [&damaged](unsigned seed) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
    std::vector<std::pair<unsigned char*, std::size_t>> held;
    while (std::chrono::steady_clock::now() < until) {
      for (int round = 0; round < 64; ++round) {
        seed = seed * 1103515245u + 12345u;
        const std::size_t size = (seed >> 8) % 4 == 0 ? 200000 + (seed >> 4) % 1500000 : 9000 + (seed >> 4) % 60000;
        auto* block = static_cast<unsigned char*>(fast::allocate(size, 16));
        std::memset(block, static_cast<int>(size & 0xff), size);
        held.emplace_back(block, size);
      }
      for (auto& [block, size] : held) {
        if (block[0] != (size & 0xff) || block[size - 1] != (size & 0xff)) damaged.fetch_add(1);
        fast::deallocate(block);
      }
      held.clear();
    }
  };
  auto short_lived = [&damaged] {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
    while (std::chrono::steady_clock::now() < until) {
      std::thread([&damaged] {
        auto* block = static_cast<unsigned char*>(fast::allocate(20000, 16));
        std::memset(block, 7, 20000);
        if (block[19999] != 7) damaged.fetch_add(1);
        fast::deallocate(block);
      }).join();
    }
  };
  // One large block freed and allocated again in a loop: its span (or run)
  // waits in the heap's cache between the two, and the pauses let the purge thread
  // find the cache untaken and take the span back, at times just as the
  // owner takes it. Between the two the owner also takes and frees small
  // blocks of pages in the same segments, whose slow paths read the
  // segment header's hole bits without the slot lock: the purge thread's
  // return of the span must not write them.
  auto kept_block = [&damaged] {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
    void* small[512] = {};
    for (unsigned turn = 0; std::chrono::steady_clock::now() < until; ++turn) {
      // Spans of the heap's slots, then runs of a shared large segment, in
      // turn; of varying size, so that the kept one is cut or grown too.
      const std::size_t size = ((turn / 128) % 2 == 0 ? 100000 : 2200000) + (turn % 5) * 400000;
      auto* block = static_cast<unsigned char*>(fast::allocate(size, 16));
      std::memset(block, static_cast<int>(turn & 0xff), size);
      if (block[0] != (turn & 0xff) || block[size - 1] != (turn & 0xff)) damaged.fetch_add(1);
      for (void* each : small) fast::deallocate(each);
      fast::deallocate(block);
      // New pages of small classes, after the large block is kept: their
      // set-up reads the hole bits of the segment header without the slot
      // lock while the purge thread may be returning the kept span.
      for (unsigned index = 0; index < 512; ++index) small[index] = fast::allocate(256 + index % 16 * 384, 16);
      if (turn % 64 == 0) usleep((turn / 64) % 4 * 1000);
    }
    for (void* each : small) fast::deallocate(each);
  };
  std::thread first(churn, 1u);
  std::thread second(churn, 2u);
  std::thread third(short_lived);
  std::thread fourth(kept_block);
  first.join();
  second.join();
  third.join();
  fourth.join();
  _exit((damaged.load() == 0 ? 0 : kDamaged) + (fast::purge_thread_running() ? 0 : kNotStarted));
}
}  // namespace

TEST(PurgeThread, PurgesLiveHeapsWhileTheirThreadsTakeAndReturnPages) {
  // With a 1 ms delay the thread looks at the live heaps every millisecond
  // while two threads keep taking and returning medium pages and large
  // blocks of their slots, a third frees and takes back one large block
  // (the span its heap caches), and short-lived threads start, allocate and
  // exit (their heaps go back to the pool and are rebuilt for the next):
  // the slot locks are what keeps them apart (ThreadSanitizer sees any
  // access left outside them), and every block keeps its contents.
  const pid_t child = fork();
  if (child == 0) churn_with_the_purge_thread_at_1_ms();
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

namespace {
constexpr int kPurgeThreadNotStarted = 3;  ///< the scenario's precondition failed

/// Waits up to two seconds for the purge thread to be started.
bool wait_until_started() {
  for (int i = 0; i < 200 && !fast::purge_thread_running(); ++i) usleep(10 * 1000);
  return fast::purge_thread_running();
}

/// Waits up to `seconds` for `child` to end: its exit status, or -1 when it
/// did not end in time (it is killed then) or a signal ended it.
int exit_status_within(pid_t child, int seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  int status = 0;
  while (waitpid(child, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(child, SIGKILL);
      waitpid(child, &status, 0);
      return -1;
    }
    usleep(10 * 1000);
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/// How the last thread of a process with the purge thread running ends.
enum class LastThread {
  /// The main thread leaves by pthread_exit; a worker that allocates ends later.
  worker_that_allocates,
  /// The same, with a worker that never calls the allocator (no exit hook
  /// of ours runs in it).
  worker_that_never_allocates,
  /// A thread other than the main one forks; in the new process it is the
  /// only thread, and it returns (python's test_threading does this).
  forked_thread_returns,
};

/// pthread_exit for the calling thread, from a stack of its own: called in
/// a test's body, its unwinding would meet GoogleTest's catch-all, which
/// takes it for an exception and aborts. The unwinding ends at the bottom
/// of the new stack, and glibc ends the thread as pthread_exit does.
[[noreturn]] void pthread_exit_on_a_fresh_stack() {
  static ucontext_t context;
  static char stack[256 * 1024];
  getcontext(&context);
  context.uc_stack.ss_sp = stack;
  context.uc_stack.ss_size = sizeof stack;
  context.uc_link = nullptr;
  makecontext(&context, +[] { pthread_exit(nullptr); }, 0);
  setcontext(&context);
  _exit(kPurgeThreadNotStarted);  // not reached
}

/// An exit handler with a stack frame a usual thread stack holds: the
/// process's last thread runs it (glibc's exit(0)), ours included.
void use_a_deep_stack() {
  volatile char frame[256 * 1024];
  for (std::size_t i = 0; i < sizeof frame; i += 4096) frame[i] = 1;
}

void* end_after_a_while(void* allocate) {
  usleep(200 * 1000);
  if (allocate != nullptr) fast::deallocate(fast::allocate(64, 16));
  return nullptr;
}

/// In a child, the scenario `last`: the process must end with its last
/// thread, exit status 0, as it does without the purge thread. Returns the
/// exit status, or -1 when it did not end within its deadline (it is
/// killed then) or a signal ended it.
int end_of_process_with_the_purge_thread(LastThread last) {
  const pid_t child = fork();
  if (child == 0) {
    fast::set_purge_delay_ms(50);
    fast::set_purge_thread_enabled(true);
    if (last == LastThread::forked_thread_returns) {
      int status = -1;
      std::thread([&status] {
        const pid_t grandchild = fork();
        if (grandchild == 0) {
          prctl(PR_SET_PDEATHSIG, SIGKILL);  // no orphan left behind if the middle process is killed
          std::size_t full = 0;
          allocate_and_free(full);  // the segments of this, the only thread, start the purge thread
          if (!wait_until_started()) _exit(kPurgeThreadNotStarted);
          return;  // the thread, and with it the process, ends
        }
        status = exit_status_within(grandchild, 10);
      }).join();
      _exit(status < 0 ? 255 : status);
    }
    std::size_t full = 0;
    std::thread([&full] { allocate_and_free(full); }).join();  // its segments start the purge thread
    if (!wait_until_started()) _exit(kPurgeThreadNotStarted);
    fast::deallocate(fast::allocate(64, 16));  // this thread has a heap, so an exit hook
    std::atexit(use_a_deep_stack);
    pthread_t worker;
    static int allocates = 1;
    if (pthread_create(&worker, nullptr, end_after_a_while,
                       last == LastThread::worker_that_allocates ? &allocates : nullptr) != 0) {
      _exit(kPurgeThreadNotStarted);
    }
    pthread_exit_on_a_fresh_stack();
  }
  const int status = exit_status_within(child, 20);  // longer than the middle process's wait
  return status == 255 ? -1 : status;
}
}  // namespace

/// ThreadSanitizer starts a thread of its own at a process's first
/// pthread_create, which keeps such a process alive with or without ours.
constexpr const char* kSanitizerThread = "ThreadSanitizer's own thread keeps the process alive";

TEST(PurgeThread, AProcessWhoseMainThreadLeftByPthreadExitEndsWithItsLastThread) {
  if (kThreadSanitizer) GTEST_SKIP() << kSanitizerThread;
  // The purge thread blocks every signal. Before it watched for the other
  // threads to end it never ended, and such a process outlived its last
  // thread for ever, deaf to SIGTERM (python's test_threading hung so).
  EXPECT_EQ(end_of_process_with_the_purge_thread(LastThread::worker_that_allocates), 0);
  EXPECT_EQ(end_of_process_with_the_purge_thread(LastThread::worker_that_never_allocates), 0);
}

TEST(PurgeThread, AProcessForkedFromAThreadEndsWhenThatThreadReturns) {
  if (kThreadSanitizer) GTEST_SKIP() << kSanitizerThread;
  EXPECT_EQ(end_of_process_with_the_purge_thread(LastThread::forked_thread_returns), 0);
}
