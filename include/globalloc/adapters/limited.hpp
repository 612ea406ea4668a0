// Limited<Inner, Tag>: an allocator that refuses (returns null) any request
// that would take the bytes live through it above a budget, set at run time
// with set_budget(). A way to test how a program behaves when memory runs
// out, or to cap a subsystem. The budget counts requested bytes.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "globalloc/contract.hpp"

namespace globalloc {

/// An allocator that forwards to Inner but returns null for any request that
/// would take the requested bytes live through it above a budget (unlimited
/// until set_budget() is called). Budget and live bytes are shared by every
/// use of the same <Inner, Tag> type.
template <Allocator Inner, class Tag = void>
struct Limited {
  static constexpr const char* name = "limited";  ///< the allocator's name
  using Ops = Operations<Inner>;                   ///< how Inner is called

  /// Sets the budget in requested bytes. Blocks already live stay valid even
  /// when they exceed a lower budget; only new requests are refused.
  static void set_budget(std::size_t bytes) noexcept { budget.store(bytes, std::memory_order_relaxed); }
  /// The requested bytes of the blocks live through this allocator now.
  static std::size_t live_bytes() noexcept { return live.load(std::memory_order_relaxed); }

  /// @name Contract operations
  /// Inner's operations, after the budget has been reserved; a request that
  /// does not fit fails as if Inner had run out of memory.
  /// @{

  /// Null when `layout.size` does not fit in the budget, else Inner's allocate.
  static void* allocate(Layout layout) noexcept {
    if (!reserve(layout.size)) return nullptr;
    void* block = Ops::allocate(layout);
    if (block == nullptr) unreserve(layout.size);
    return block;
  }
  /// Null when `layout.size` does not fit in the budget, else Inner's allocate_zeroed.
  static void* allocate_zeroed(Layout layout) noexcept {
    if (!reserve(layout.size)) return nullptr;
    void* block = Ops::allocate_zeroed(layout);
    if (block == nullptr) unreserve(layout.size);
    return block;
  }
  /// Inner's deallocate; gives `layout.size` back to the budget. Null is a no-op.
  static void deallocate(void* block, Layout layout) noexcept {
    if (block == nullptr) return;
    Ops::deallocate(block, layout);
    unreserve(layout.size);
  }
  /// Inner's reallocate; growing needs the difference to fit in the budget
  /// (else null, `block` untouched), shrinking gives the difference back.
  static void* reallocate(void* block, Layout old_layout, std::size_t new_size) noexcept {
    const std::size_t old_size = block == nullptr ? 0 : old_layout.size;
    if (new_size > old_size && !reserve(new_size - old_size)) return nullptr;
    void* moved = Ops::reallocate(block, old_layout, new_size);
    if (moved == nullptr) {
      if (new_size > old_size) unreserve(new_size - old_size);
      return nullptr;
    }
    if (new_size < old_size) unreserve(old_size - new_size);
    return moved;
  }
  /// Inner's resize_in_place; growing past the budget is refused without
  /// calling Inner and returns the old size as the usable size.
  static std::size_t resize_in_place(void* block, Layout old_layout, std::size_t new_size) noexcept {
    if (new_size > old_layout.size) {
      // Growing past the budget is refused: report the old size as usable.
      if (!reserve(new_size - old_layout.size)) return old_layout.size;
      const std::size_t usable = Ops::resize_in_place(block, old_layout, new_size);
      if (usable < new_size) unreserve(new_size - old_layout.size);
      return usable;
    }
    const std::size_t usable = Ops::resize_in_place(block, old_layout, new_size);
    unreserve(old_layout.size - new_size);
    return usable;
  }
  /// Inner's usable_size.
  static std::size_t usable_size(Layout layout) noexcept { return Ops::usable_size(layout); }

  /// @}

 private:
  static inline std::atomic<std::size_t> budget{SIZE_MAX};
  static inline std::atomic<std::size_t> live{0};

  static bool reserve(std::size_t size) noexcept {
    std::size_t current = live.load(std::memory_order_relaxed);
    do {
      const std::size_t limit = budget.load(std::memory_order_relaxed);
      if (size > limit || current > limit - size) return false;
    } while (!live.compare_exchange_weak(current, current + size, std::memory_order_relaxed));
    return true;
  }
  static void unreserve(std::size_t size) noexcept { live.fetch_sub(size, std::memory_order_relaxed); }
};

}  // namespace globalloc
