// Tracing<Inner>: an allocator that writes one line per operation to a file
// descriptor (stderr unless set_trace_fd says otherwise) and forwards to
// Inner. The line is formatted in a stack buffer and written with one
// write(2): tracing must not allocate, or it would trace itself.
#pragma once

#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdio>

#include "globalloc/contract.hpp"

namespace globalloc {

/// An allocator that forwards every operation to Inner and writes one line
/// per operation (arguments and result) to a file descriptor, with a single
/// write(2) from a stack buffer: tracing never allocates. Lines are cut at
/// 159 bytes. The file descriptor is shared by every use of the same
/// <Inner, Tag> type.
template <Allocator Inner, class Tag = void>
struct Tracing {
  static constexpr const char* name = "tracing";  ///< the allocator's name
  using Ops = Operations<Inner>;                   ///< how Inner is called

  /// The file descriptor the lines go to from now on; 2 (stderr) until set.
  static void set_trace_fd(int fd) noexcept { trace_fd.store(fd, std::memory_order_relaxed); }

  /// @name Contract operations
  /// Inner's operations, each followed (deallocate: preceded) by its trace line.
  /// @{

  /// Inner's allocate; traces size, alignment and the result.
  static void* allocate(Layout layout) noexcept {
    void* block = Ops::allocate(layout);
    trace("allocate size=%zu align=%zu -> %p\n", layout.size, layout.align, block);
    return block;
  }
  /// Inner's allocate_zeroed; traces size, alignment and the result.
  static void* allocate_zeroed(Layout layout) noexcept {
    void* block = Ops::allocate_zeroed(layout);
    trace("allocate_zeroed size=%zu align=%zu -> %p\n", layout.size, layout.align, block);
    return block;
  }
  /// Traces the block and its layout, then calls Inner's deallocate.
  static void deallocate(void* block, Layout layout) noexcept {
    trace("deallocate %p size=%zu align=%zu\n", block, layout.size, layout.align);
    Ops::deallocate(block, layout);
  }
  /// Inner's reallocate; traces the block, old layout, new size and the result.
  static void* reallocate(void* block, Layout old_layout, std::size_t new_size) noexcept {
    void* moved = Ops::reallocate(block, old_layout, new_size);
    trace("reallocate %p size=%zu align=%zu new_size=%zu -> %p\n", block, old_layout.size, old_layout.align,
          new_size, moved);
    return moved;
  }
  /// Inner's resize_in_place; traces the block, sizes and the usable size returned.
  static std::size_t resize_in_place(void* block, Layout old_layout, std::size_t new_size) noexcept {
    const std::size_t usable = Ops::resize_in_place(block, old_layout, new_size);
    trace("resize_in_place %p size=%zu new_size=%zu -> usable %zu\n", block, old_layout.size, new_size, usable);
    return usable;
  }
  /// Inner's usable_size, not traced.
  static std::size_t usable_size(Layout layout) noexcept { return Ops::usable_size(layout); }

  /// @}

 private:
  static inline std::atomic<int> trace_fd{2};

  template <class... Args>
  static void trace(const char* format, Args... args) noexcept {
    char line[160];
    const int length = std::snprintf(line, sizeof line, format, args...);
    if (length <= 0) return;
    const std::size_t size = static_cast<std::size_t>(length) < sizeof line ? static_cast<std::size_t>(length)
                                                                              : sizeof line - 1;
    (void)!::write(trace_fd.load(std::memory_order_relaxed), line, size);
  }
};

}  // namespace globalloc
