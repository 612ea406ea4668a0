// Counting<Inner, Tag>: an allocator that counts what passes through it to
// Inner (operations, live and peak bytes) and is itself an allocator, so it
// stacks with the other wrappers. Counters are per <Inner, Tag> type; give
// each independent use its own Tag.
#pragma once

#include <atomic>
#include <cstddef>

#include "globalloc/contract.hpp"

namespace globalloc {

/// A snapshot of the counters of one Counting<Inner, Tag> type.
struct AllocationCounts {
  unsigned long allocations;    ///< successful allocate and allocate_zeroed calls
  unsigned long deallocations;  ///< deallocations of non-null blocks
  unsigned long reallocations;  ///< successful reallocate calls
  unsigned long failures;       ///< allocate, allocate_zeroed and reallocate calls that returned null
  std::size_t live_bytes;       ///< bytes requested and not yet freed (usable size for pointer-only frees)
  std::size_t peak_bytes;       ///< the highest live_bytes seen since the start or the last reset()
};

/// An allocator that forwards every operation to Inner and counts them
/// (operations, failures, live and peak bytes). The counters are shared by
/// every use of the same <Inner, Tag> type and updated with relaxed atomics.
template <Allocator Inner, class Tag = void>
struct Counting {
  static constexpr const char* name = "counting";  ///< the allocator's name
  using Ops = Operations<Inner>;                    ///< how Inner is called

  /// The current counters (each read on its own: not one atomic snapshot).
  static AllocationCounts counts() noexcept {
    return AllocationCounts{state.allocations.load(), state.deallocations.load(), state.reallocations.load(),
                            state.failures.load(), state.live.load(), state.peak.load()};
  }
  /// Sets every counter, live and peak bytes included, back to zero.
  static void reset() noexcept {
    state.allocations = 0;
    state.deallocations = 0;
    state.reallocations = 0;
    state.failures = 0;
    state.live = 0;
    state.peak = 0;
  }

  /// @name Contract operations
  /// Inner's operations; a successful allocation adds its requested size to
  /// the live bytes, a free subtracts it, a null result counts as a failure.
  /// @{

  /// Inner's allocate, counted.
  static void* allocate(Layout layout) noexcept { return counted(Ops::allocate(layout), layout.size); }
  /// Inner's allocate_zeroed, counted.
  static void* allocate_zeroed(Layout layout) noexcept { return counted(Ops::allocate_zeroed(layout), layout.size); }
  /// Inner's deallocate; a null block is not passed on nor counted.
  static void deallocate(void* block, Layout layout) noexcept {
    if (block == nullptr) return;
    released(layout.size);
    Ops::deallocate(block, layout);
  }
  /// Inner's reallocate; on success the live bytes move from the old size
  /// (0 for a null block) to `new_size`.
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
  /// Inner's resize_in_place; when it succeeds the live bytes move from the
  /// old size to `new_size`.
  static std::size_t resize_in_place(void* block, Layout old_layout, std::size_t new_size) noexcept {
    const std::size_t usable = Ops::resize_in_place(block, old_layout, new_size);
    if (usable >= new_size) {
      add_live(new_size);
      state.live.fetch_sub(old_layout.size, std::memory_order_relaxed);
    }
    return usable;
  }
  /// Inner's usable_size, not counted.
  static std::size_t usable_size(Layout layout) noexcept { return Ops::usable_size(layout); }

  /// @}

  // Pointer-only operations when Inner has them; live bytes then count the
  // block's usable size, the only size known.

  /// Inner's pointer-only deallocate (only when Inner has the pointer-only
  /// pair); subtracts the block's usable size from the live bytes. Null is a no-op.
  static void deallocate(void* block) noexcept
    requires HasPointerOnlyOperations<Inner>
  {
    if (block == nullptr) return;
    released(Inner{}.usable_size(static_cast<const void*>(block)));
    Inner{}.deallocate(block);
  }
  /// Inner's usable_size of a block (only when Inner has the pointer-only pair).
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
