// Stress: many threads, random sizes and alignments, blocks handed between
// threads and freed there, reallocations; every block's contents checked.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "fast/stats.hpp"
#include "globalloc/fast_allocator.hpp"
#include "test_random.hpp"

using namespace globalloc;

namespace {

using Random = globalloc::testing::XorShift;

struct Slot {
  std::atomic<unsigned char*> block{nullptr};
};

constexpr int slot_count = 4096;
Slot slots[slot_count];

std::size_t random_size(Random& random) {
  const std::uint64_t pick = random.next() % 1000;
  if (pick < 700) return 16 + random.next() % 256;
  if (pick < 950) return 16 + random.next() % 8192;
  if (pick < 995) return 16 + random.next() % 200000;
  return 16 + random.next() % (std::size_t{6} << 20);
}

// Each block records its own size in its first word (slots hold only the
// pointer, so the size travels with the block), then a tag pattern.
void fill(unsigned char* block, std::size_t size) {
  std::memcpy(block, &size, sizeof(size));
  const auto tag = static_cast<unsigned char>(reinterpret_cast<std::uintptr_t>(block) >> 4);
  const std::size_t head = size < 64 ? size : 64;
  std::memset(block + 8, tag, head - 8);
  if (size > 64) std::memset(block + size - 16, tag, 16);
}

std::size_t check(const unsigned char* block) {
  std::size_t size = 0;
  std::memcpy(&size, block, sizeof(size));
  const auto tag = static_cast<unsigned char>(reinterpret_cast<std::uintptr_t>(block) >> 4);
  const std::size_t head = size < 64 ? size : 64;
  for (std::size_t i = 8; i < head; ++i) EXPECT_EQ(block[i], tag);
  if (size > 64) {
    for (std::size_t i = size - 16; i < size; ++i) EXPECT_EQ(block[i], tag);
  }
  return size;
}

void worker(int id, int operations) {
  Random random{0x9e3779b97f4a7c15ull * static_cast<std::uint64_t>(id + 1)};
  for (int op = 0; op < operations; ++op) {
    Slot& slot = slots[random.next() % slot_count];
    unsigned char* old = slot.block.exchange(nullptr, std::memory_order_acq_rel);
    if (old != nullptr) {
      const std::size_t size = check(old);
      if (random.next() % 8 == 0) {
        const std::size_t next = random_size(random);
        auto* moved = static_cast<unsigned char*>(fast::reallocate(old, next, 16));
        ASSERT_NE(moved, nullptr);
        const std::size_t kept = size < next ? size : next;
        const auto tag = static_cast<unsigned char>(reinterpret_cast<std::uintptr_t>(old) >> 4);
        for (std::size_t i = 8; i < (kept < 64 ? kept : 64); ++i) ASSERT_EQ(moved[i], tag);
        fill(moved, next);
        unsigned char* previous = slot.block.exchange(moved, std::memory_order_acq_rel);
        if (previous != nullptr) fast::deallocate(previous);
        continue;
      }
      fast::deallocate(old);
    }
    const std::size_t size = random_size(random);
    const std::size_t alignment = random.next() % 16 == 0 ? std::size_t{1} << (random.next() % 13) : 16;
    auto* block = static_cast<unsigned char*>(fast::allocate(size, alignment));
    ASSERT_NE(block, nullptr);
    ASSERT_EQ(reinterpret_cast<std::uintptr_t>(block) % alignment, 0u);
    fill(block, size);
    unsigned char* previous = slot.block.exchange(block, std::memory_order_acq_rel);
    if (previous != nullptr) {
      check(previous);
      fast::deallocate(previous);
    }
  }
}

}  // namespace

TEST(Stress, ManyThreadsCrossFreesContentsChecked) {
  std::vector<std::thread> threads;
  for (int round = 0; round < 3; ++round) {
    for (int id = 0; id < 8; ++id) threads.emplace_back(worker, id + round * 8, 60000);
    for (auto& thread : threads) thread.join();
    threads.clear();
  }
  for (auto& slot : slots) fast::deallocate(slot.block.exchange(nullptr));
}

TEST(Stress, ThreadChurnWithSharedBlocks) {
  std::atomic<void*> handoff[64];
  for (auto& entry : handoff) entry.store(nullptr);
  for (int round = 0; round < 100; ++round) {
    std::vector<std::thread> threads;
    for (int id = 0; id < 4; ++id) {
      threads.emplace_back([&, id] {
        Random random{static_cast<std::uint64_t>(round * 4 + id + 1) * 0x2545F4914F6CDD1Dull};
        for (int i = 0; i < 2000; ++i) {
          void* block = fast::allocate(random.next() % 600, 16);
          void* previous = handoff[random.next() % 64].exchange(block);
          fast::deallocate(previous);
        }
      });
    }
    for (auto& thread : threads) thread.join();
  }
  for (auto& entry : handoff) fast::deallocate(entry.exchange(nullptr));
}

TEST(Stress, ThreadsAdoptPagesWithHolesWhileAnotherThreadPurges) {
  // Exited threads leave pages whose free blocks between survivors become
  // holes at the purge (holes.hpp); the next round's threads adopt those
  // pages and take the holes back, while another thread purges the
  // abandoned segments over and over and frees survivors across threads.
  // The workers check every block they meet.
  std::atomic<bool> stop{false};
  std::thread purger([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      fast::purge();
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  for (int round = 0; round < 6; ++round) {
    std::vector<std::thread> threads;
    for (int id = 0; id < 4; ++id) threads.emplace_back(worker, 100 + id + round * 4, 30000);
    for (auto& thread : threads) thread.join();
    // Nine in ten of the survivors go (from this thread: remote frees into
    // the exited threads' pages), the rest stay scattered across the pages.
    Random random{static_cast<std::uint64_t>(round + 1)};
    for (auto& slot : slots) {
      if (random.next() % 10 != 0) {
        if (unsigned char* block = slot.block.exchange(nullptr)) {
          check(block);
          fast::deallocate(block);
        }
      }
    }
    fast::purge();
  }
  stop.store(true);
  purger.join();
  for (auto& slot : slots) {
    if (unsigned char* block = slot.block.exchange(nullptr)) {
      check(block);
      fast::deallocate(block);
    }
  }
}

namespace {

/// Blocks of `size_of(random)` bytes handed between `thread_count` threads
/// through twice as many slots: each operation takes a slot's block and
/// grows or shrinks it with reallocate (one time in four) or frees it and
/// puts a new one there, so most blocks are freed by a thread other than
/// the one that allocated them, while a purger calls purge() every
/// millisecond. Every block's first and last bytes are checked by whoever
/// frees or resizes it.
template <class SizeOf>
void hand_blocks_between_threads(int thread_count, int operations, SizeOf size_of) {
  std::vector<std::atomic<unsigned char*>> slots(static_cast<std::size_t>(thread_count) * 2);
  for (auto& slot : slots) slot.store(nullptr);
  std::atomic<bool> stop{false};
  std::thread purger([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      fast::purge();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  std::vector<std::thread> threads;
  for (int id = 0; id < thread_count; ++id) {
    threads.emplace_back([&, id] {
      Random random{static_cast<std::uint64_t>(id + 1) * 0x9E3779B97F4A7C15ull};
      for (int op = 0; op < operations; ++op) {
        std::atomic<unsigned char*>& slot = slots[random.next() % slots.size()];
        unsigned char* block = slot.exchange(nullptr, std::memory_order_acq_rel);
        if (block != nullptr && random.next() % 4 == 0) {
          const std::size_t size = check(block);
          const std::size_t next = size_of(random);
          auto* moved = static_cast<unsigned char*>(fast::reallocate(block, next, 16));
          ASSERT_NE(moved, nullptr);
          const auto tag = static_cast<unsigned char>(reinterpret_cast<std::uintptr_t>(block) >> 4);
          for (std::size_t i = 8; i < 64; ++i) ASSERT_EQ(moved[i], tag);
          if (next >= size) {
            for (std::size_t i = size - 16; i < size; ++i) ASSERT_EQ(moved[i], tag);
          }
          block = moved;
          fill(block, next);
        } else {
          if (block != nullptr) {
            check(block);
            fast::deallocate(block);
          }
          block = static_cast<unsigned char*>(fast::allocate(size_of(random), 16));
          ASSERT_NE(block, nullptr);
          fill(block, fast::usable_size(block));
        }
        if (unsigned char* previous = slot.exchange(block, std::memory_order_acq_rel)) {
          check(previous);
          fast::deallocate(previous);
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  stop.store(true);
  purger.join();
  for (auto& slot : slots) {
    if (unsigned char* block = slot.exchange(nullptr)) {
      check(block);
      fast::deallocate(block);
    }
  }
}

}  // namespace

TEST(Stress, LargeBlocksHandedBetweenThreadsThatKeepTheirLastFreedOne) {
  // Large blocks (spans of a heap's slots up to 2 MiB, runs of shared large
  // segments above), of the same few sizes again and again: each thread
  // keeps the last one it freed, most often one another thread allocated
  // (heap.hpp, cached_large), and hands it out again.
  hand_blocks_between_threads(4, 2000, [](Random& random) {
    return std::size_t{700} * 1024 * (1 + random.next() % 5) + random.next() % 4096;
  });
}

TEST(Stress, HugeBlocksHandedBetweenThreadsWhileAnotherThreadPurges) {
  // Huge blocks (their own mappings): the per-shard caches of freed
  // mappings take from and give to one another while the purger unmaps
  // whatever they hold.
  fast::Statistics before{};
  fast::get_statistics(&before);
  hand_blocks_between_threads(6, 1000, [](Random& random) {
    return (std::size_t{4} << 20) + random.next() % (std::size_t{12} << 20);
  });
  fast::Statistics after{};
  fast::get_statistics(&after);
  EXPECT_EQ(after.huge_blocks, before.huge_blocks);
}
