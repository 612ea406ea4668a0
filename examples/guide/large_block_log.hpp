// LargeBlockLog<Inner>: a wrapper allocator. It forwards every operation to
// the allocator it wraps and writes one line to stderr for each block of
// 1 MiB or more. Any allocator of the contract can be wrapped, and the
// wrapper is itself an allocator: it can be registered, wrapped again, or
// run through the conformance suite (conformance_test.cpp).
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdio>

#include <globalloc/globalloc.hpp>

template <globalloc::Allocator Inner>
struct LargeBlockLog {
  static constexpr const char* name = "large-block-log";
  static constexpr std::size_t threshold = std::size_t{1} << 20;
  using Ops = globalloc::Operations<Inner>;  // supplies what Inner leaves out

  // The five operations of the contract: forward, and log the large ones.
  static void* allocate(globalloc::Layout layout) noexcept {
    void* block = Ops::allocate(layout);
    if (layout.size >= threshold) log("allocate", layout.size, block);
    return block;
  }
  static void deallocate(void* block, globalloc::Layout layout) noexcept {
    if (block != nullptr && layout.size >= threshold) log("deallocate", layout.size, block);
    Ops::deallocate(block, layout);
  }
  static void* reallocate(void* block, globalloc::Layout old_layout, std::size_t new_size) noexcept {
    void* moved = Ops::reallocate(block, old_layout, new_size);
    if (new_size >= threshold) log("reallocate", new_size, moved);
    return moved;
  }
  static std::size_t resize_in_place(void* block, globalloc::Layout old_layout, std::size_t new_size) noexcept {
    return Ops::resize_in_place(block, old_layout, new_size);
  }
  static std::size_t usable_size(globalloc::Layout layout) noexcept { return Ops::usable_size(layout); }

  // Optional: forwarded so that calloc keeps Inner's own zeroing (fresh
  // pages from the OS need no memset).
  static void* allocate_zeroed(globalloc::Layout layout) noexcept {
    void* block = Ops::allocate_zeroed(layout);
    if (layout.size >= threshold) log("allocate_zeroed", layout.size, block);
    return block;
  }

  // The pointer-only operations, forwarded when Inner has them. With them,
  // free() and unsized delete go straight to Inner; without them the
  // registration would put a size header in front of every block.
  static void deallocate(void* block) noexcept
    requires globalloc::HasPointerOnlyOperations<Inner>
  {
    if (block == nullptr) return;
    const std::size_t size = Inner{}.usable_size(static_cast<const void*>(block));
    if (size >= threshold) log("free", size, block);
    Inner{}.deallocate(block);
  }
  static std::size_t usable_size(const void* block) noexcept
    requires globalloc::HasPointerOnlyOperations<Inner>
  {
    return Inner{}.usable_size(block);
  }
  static void* reallocate(void* block, std::size_t new_size) noexcept
    requires globalloc::HasPointerOnlyReallocate<Inner>
  {
    void* moved = Inner{}.reallocate(block, new_size);
    if (new_size >= threshold) log("realloc", new_size, moved);
    return moved;
  }

 private:
  // This runs inside malloc and operator new, so it must not allocate:
  // no std::string, no iostream, no printf to a stdio stream (which may
  // allocate its buffer and so call back into this allocator). A line
  // formatted on the stack and one write(2) allocate nothing.
  static void log(const char* what, std::size_t size, const void* block) noexcept {
    char line[96];
    const int length = std::snprintf(line, sizeof line, "large block: %s %zu bytes at %p\n", what, size, block);
    if (length <= 0) return;
    const std::size_t count = static_cast<std::size_t>(length) < sizeof line ? static_cast<std::size_t>(length)
                                                                               : sizeof line - 1;
    (void)!::write(2, line, count);
  }
};
