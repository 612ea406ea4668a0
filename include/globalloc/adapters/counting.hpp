// Counting<Inner, Tag>: an allocator that counts what passes through it to
// Inner (operations, live and peak bytes) and is itself an allocator, so it
// stacks with the other wrappers. Counters are per <Inner, Tag> type; give
// each independent use its own Tag.
#pragma once

#include <atomic>
#include <cstddef>

#include "globalloc/contract.hpp"

namespace globalloc {

struct AllocationCounts {
  unsigned long allocations;
  unsigned long deallocations;
  unsigned long reallocations;
  unsigned long failures;
  std::size_t live_bytes;
  std::size_t peak_bytes;
};

template <Allocator Inner, class Tag = void>
struct Counting {
  static constexpr const char* name = "counting";
  using Ops = Operations<Inner>;

  static AllocationCounts counts() noexcept {
    return AllocationCounts{state.allocations.load(), state.deallocations.load(), state.reallocations.load(),
                            state.failures.load(), state.live.load(), state.peak.load()};
  }
  static void reset() noexcept {
    state.allocations = 0;
    state.deallocations = 0;
    state.reallocations = 0;
    state.failures = 0;
    state.live = 0;
    state.peak = 0;
  }

  static void* allocate(Layout layout) noexcept { return counted(Ops::allocate(layout), layout.size); }
  static void* allocate_zeroed(Layout layout) noexcept { return counted(Ops::allocate_zeroed(layout), layout.size); }
  static void deallocate(void* block, Layout layout) noexcept {
    if (block == nullptr) return;
    released(layout.size);
    Ops::deallocate(block, layout);
  }
  static void* reallocate(void* block, Layout old_layout, std::size_t new_size) noexcept {
    void* moved = Ops::reallocate(block, old_layout, new_size);
    if (moved == nullptr) {
      state.failures.fetch_add(1, std::memory_order_relaxed);
      return nullptr;
    }
    state.reallocations.fetch_add(1, std::memory_order_relaxed);
    add_live(new_size);
    state.live.fetch_sub(block == nullptr ? 0 : old_layout.size, std::memory_order_relaxed);
    return moved;
  }
  static std::size_t resize_in_place(void* block, Layout old_layout, std::size_t new_size) noexcept {
    const std::size_t usable = Ops::resize_in_place(block, old_layout, new_size);
    if (usable >= new_size) {
      add_live(new_size);
      state.live.fetch_sub(old_layout.size, std::memory_order_relaxed);
    }
    return usable;
  }
  static std::size_t usable_size(Layout layout) noexcept { return Ops::usable_size(layout); }

  // Pointer-only operations when Inner has them; live bytes then count the
  // block's usable size, the only size known.
  static void deallocate(void* block) noexcept
    requires HasPointerOnlyOperations<Inner>
  {
    if (block == nullptr) return;
    released(Inner{}.usable_size(static_cast<const void*>(block)));
    Inner{}.deallocate(block);
  }
  static std::size_t usable_size(const void* block) noexcept
    requires HasPointerOnlyOperations<Inner>
  {
    return Inner{}.usable_size(block);
  }

 private:
  struct State {
    std::atomic<unsigned long> allocations{0}, deallocations{0}, reallocations{0}, failures{0};
    std::atomic<std::size_t> live{0}, peak{0};
  };
  static inline State state;

  static void add_live(std::size_t size) noexcept {
    const std::size_t now = state.live.fetch_add(size, std::memory_order_relaxed) + size;
    std::size_t peak = state.peak.load(std::memory_order_relaxed);
    while (now > peak && !state.peak.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
    }
  }
  static void* counted(void* block, std::size_t size) noexcept {
    if (block == nullptr) {
      state.failures.fetch_add(1, std::memory_order_relaxed);
      return nullptr;
    }
    state.allocations.fetch_add(1, std::memory_order_relaxed);
    add_live(size);
    return block;
  }
  static void released(std::size_t size) noexcept {
    state.deallocations.fetch_add(1, std::memory_order_relaxed);
    state.live.fetch_sub(size, std::memory_order_relaxed);
  }
};

}  // namespace globalloc
