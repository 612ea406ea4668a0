// Allocation sampling (src/fast/sampling.hpp): about one sample per interval
// of bytes, every recorded block's free is reported (local, remote, large,
// realloc), and nothing is sampled once sampling is off.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "fast/sampling.hpp"
#include "globalloc/fast_allocator.hpp"

using namespace globalloc;

namespace {

// A fixed open-addressing set of recorded blocks: the hooks must not allocate.
constexpr std::size_t slot_count = std::size_t{1} << 16;
std::atomic<void*> slots[slot_count];
std::atomic<std::size_t> recorded{0};
std::atomic<std::size_t> forgotten{0};
std::atomic<std::size_t> weight_total{0};
// A forgotten block leaves a tombstone, so that lookups keep probing past it.
void* const tombstone = reinterpret_cast<void*>(1);

std::size_t slot_of(const void* block) noexcept {
  return (reinterpret_cast<std::uintptr_t>(block) >> 4) * 0x9E3779B97F4A7C15ull >> 48;
}

bool on_allocated(void* block, std::size_t usable, std::size_t weight) noexcept {
  if (usable == 0 || weight == 0) return false;
  for (std::size_t probe = 0; probe < slot_count; ++probe) {
    void* expected = nullptr;
    if (slots[(slot_of(block) + probe) % slot_count].compare_exchange_strong(expected, block)) {
      recorded.fetch_add(1);
      weight_total.fetch_add(weight);
      return true;
    }
  }
  return false;
}

bool on_freed(void* block) noexcept {
  for (std::size_t probe = 0; probe < slot_count; ++probe) {
    void* expected = block;
    auto& slot = slots[(slot_of(block) + probe) % slot_count];
    if (slot.compare_exchange_strong(expected, tombstone)) {
      forgotten.fetch_add(1);
      return true;
    }
    if (expected == nullptr) return false;
  }
  return false;
}

constexpr fast::SampleHooks hooks{on_allocated, on_freed};

/// Recorded blocks still in the set that are among `blocks` (their frees
/// were not reported).
std::size_t still_recorded(std::vector<void*> blocks) {
  std::sort(blocks.begin(), blocks.end());
  std::size_t count = 0;
  for (auto& slot : slots) {
    void* block = slot.load();
    if (block != nullptr && std::binary_search(blocks.begin(), blocks.end(), block)) ++count;
  }
  return count;
}

}  // namespace

TEST(Sampling, AboutOneSamplePerIntervalAndEveryFreeIsHeard) {
  constexpr std::size_t interval = 64 * 1024;
  constexpr std::size_t count = 200000;
  constexpr std::size_t size = 100;
  std::vector<void*> blocks;
  blocks.reserve(count + 200);
  fast::set_sampling(&hooks, interval);
  const std::size_t recorded_before = recorded.load();
  for (std::size_t i = 0; i < count; ++i) {
    void* block = fast::allocate(size, 16);
    ASSERT_NE(block, nullptr);
    std::memset(block, 0x5A, size);
    blocks.push_back(block);
  }
  for (int i = 0; i < 100; ++i) blocks.push_back(fast::allocate(std::size_t{256} << 10, 16));  // large blocks
  const std::size_t samples = recorded.load() - recorded_before;
  // 20 MB of small blocks and 25 MB of large ones at 64 KiB: ~300 small
  // samples, and up to 100 large ones (a large block is sampled at most once).
  EXPECT_GT(samples, 150u);
  EXPECT_LT(samples, 1000u);
  EXPECT_GT(weight_total.load(), std::size_t{10} << 20);

  // Free a third from another thread, grow a few with realloc, free the rest.
  std::thread remote([&] {
    for (std::size_t i = 0; i < blocks.size(); i += 3) fast::deallocate(blocks[i]);
  });
  remote.join();
  std::vector<void*> freed;
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    if (i % 3 == 0) {
      freed.push_back(blocks[i]);
      continue;
    }
    void* block = blocks[i];
    if (i % 3 == 1 && i % 7 == 0) {
      void* moved = fast::reallocate(block, 3 * size + (std::size_t{1} << 20) * (i % 2), 16);
      ASSERT_NE(moved, nullptr);
      if (moved != block) freed.push_back(block);
      block = moved;
    }
    freed.push_back(block);
    fast::deallocate(block);
  }
  EXPECT_EQ(still_recorded(freed), 0u) << "recorded blocks whose free went unreported";

  // Off: nothing more is sampled.
  fast::set_sampling(nullptr, 0);
  const std::size_t recorded_off = recorded.load();
  for (int round = 0; round < 4; ++round) {
    std::vector<void*> more;
    more.reserve(50000);
    for (int i = 0; i < 50000; ++i) more.push_back(fast::allocate(128, 16));
    for (void* block : more) fast::deallocate(block);
  }
  EXPECT_EQ(recorded.load(), recorded_off);
}
