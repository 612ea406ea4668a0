// Cross-thread frees: blocks freed by another thread go back to the owning
// heap; a producer/consumer pipeline runs in bounded memory.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "fast/page.hpp"
#include "fast/remote_free.hpp"
#include "fast/segment.hpp"
#include "fast/stats.hpp"
#include "globalloc/fast_allocator.hpp"
#include "rss.hpp"

using namespace globalloc;

TEST(RemoteFree, BlocksLandOnTheRemoteListAndAreReused) {
  std::vector<void*> blocks;
  for (int i = 0; i < 64; ++i) blocks.push_back(fast::allocate(48, 16));
  fast::Page* page = fast::segment_page_of(fast::segment_lookup(blocks[0]), blocks[0]);
  std::thread other([&] {
    for (void* block : blocks) fast::deallocate(block);
  });
  other.join();
  // Every block went to a remote list (the page's or, for full pages, the
  // heap's delayed list); allocating the same class takes them back.
  EXPECT_TRUE((page->remote.load() & ~fast::remote_notify_bit) != 0 || page->in_full);
  std::vector<void*> again;
  for (int i = 0; i < 2000; ++i) again.push_back(fast::allocate(48, 16));
  bool reused = false;
  for (void* block : again) {
    for (void* old : blocks) reused |= block == old;
  }
  EXPECT_TRUE(reused);
  for (void* block : again) fast::deallocate(block);
}

namespace {
/// A producer (this thread) hands `count` blocks of `size_of(i)` bytes to a
/// consumer thread through a ring of `slots`, which checks and frees them.
/// Returns the peak of the bytes mapped above what was mapped at the start.
template <class SizeOf>
std::size_t pipeline_peak_growth(int count, int slots, SizeOf size_of) {
  std::vector<std::atomic<void*>> ring(static_cast<std::size_t>(slots));
  for (auto& slot : ring) slot.store(nullptr);
  std::atomic<bool> done{false};
  std::thread consumer([&] {
    std::size_t index = 0;
    for (;;) {
      void* block = ring[index].exchange(nullptr, std::memory_order_acquire);
      if (block == nullptr) {
        if (done.load(std::memory_order_acquire)) {
          bool empty = true;
          for (auto& slot : ring) empty &= slot.load() == nullptr;
          if (empty) return;
        }
        std::this_thread::yield();
        continue;
      }
      EXPECT_EQ(static_cast<unsigned char*>(block)[0], 0x77);
      fast::deallocate(block);
      index = (index + 1) % ring.size();
    }
  });
  fast::Statistics start{};
  fast::get_statistics(&start);
  std::size_t peak_mapped = start.bytes_mapped;
  std::size_t index = 0;
  for (int i = 0; i < count; ++i) {
    const std::size_t size = size_of(i);
    void* block = fast::allocate(size, 16);
    EXPECT_NE(block, nullptr);
    if (block == nullptr) break;
    std::memset(block, 0x77, size < 4096 ? size : 4096);
    while (ring[index].load(std::memory_order_acquire) != nullptr) std::this_thread::yield();
    ring[index].store(block, std::memory_order_release);
    index = (index + 1) % ring.size();
    if (i % 1000 == 0) {
      fast::Statistics now{};
      fast::get_statistics(&now);
      if (now.bytes_mapped > peak_mapped) peak_mapped = now.bytes_mapped;
    }
  }
  done.store(true);
  consumer.join();
  return peak_mapped - start.bytes_mapped;
}
}  // namespace

TEST(RemoteFree, ProducerConsumerStaysBounded) {
  // At most 1024 blocks (< 2 MiB) are in flight: the mapping must not grow
  // with the number of blocks passed through (600k blocks, ~600 MB total).
  const std::size_t growth = pipeline_peak_growth(600000, 1024, [](int i) { return 16 + static_cast<std::size_t>(i * 37) % 2000; });
  EXPECT_LT(growth, std::size_t{64} << 20);
}

TEST(RemoteFree, ProducerConsumerOfLargeBlocksStaysBounded) {
  // Blocks of 256 KiB to 1.5 MiB live in the producer's own segments; a
  // producer that allocates nothing else takes the consumer's frees back
  // through its delayed list at its large-block allocations. Before it did,
  // it mapped a new segment every few blocks: 20,000 blocks (about 17 GB
  // passed through, 64 in flight) would have mapped gigabytes.
  const std::size_t growth = pipeline_peak_growth(20000, 64, [](int i) {
    return (std::size_t{256} << 10) + static_cast<std::size_t>(i % 5) * (std::size_t{320} << 10);
  });
  EXPECT_LT(growth, std::size_t{256} << 20);
}
