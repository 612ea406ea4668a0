// The system allocator: glibc's malloc, alignment-correct in every operation.
#include "globalloc/system_allocator.hpp"

#include <cstring>

#include "libc_malloc.hpp"

namespace globalloc {
namespace {

bool plain_malloc_suffices(std::size_t align) noexcept { return align <= libc::guaranteed_alignment; }

}  // namespace

void* SystemAllocator::allocate(Layout layout) noexcept {
  if (!is_valid_layout(layout)) return nullptr;
  if (plain_malloc_suffices(layout.align)) return libc::malloc(layout.size);
  return libc::memalign(layout.align, layout.size);
}

void* SystemAllocator::allocate_zeroed(Layout layout) noexcept {
  if (!is_valid_layout(layout)) return nullptr;
  if (plain_malloc_suffices(layout.align)) return libc::calloc(1, layout.size);
  void* block = allocate(layout);
  if (block != nullptr) std::memset(block, 0, layout.size);
  return block;
}

void SystemAllocator::deallocate(void* block, Layout) noexcept { libc::free(block); }
void SystemAllocator::deallocate(void* block) noexcept { libc::free(block); }

bool SystemAllocator::trim(std::size_t pad) noexcept { return libc::trim(pad) != 0; }

void* SystemAllocator::reallocate(void* block, Layout old_layout, std::size_t new_size) noexcept {
  if (block == nullptr) return allocate(Layout{new_size, old_layout.align});
  // glibc's realloc(p, 0) frees p and returns null, which would read as a
  // failure that lost the block: ask for one byte instead.
  if (new_size == 0) new_size = 1;
  if (plain_malloc_suffices(old_layout.align)) return libc::realloc(block, new_size);
  // glibc's realloc would drop an alignment above 16: move by hand.
  const std::size_t usable = libc::usable_size(block);
  if (new_size <= usable) return block;
  void* moved = allocate(Layout{new_size, old_layout.align});
  if (moved == nullptr) return nullptr;
  const std::size_t old_size = old_layout.size < usable ? old_layout.size : usable;
  std::memcpy(moved, block, old_size < new_size ? old_size : new_size);
  libc::free(block);
  return moved;
}

void* SystemAllocator::reallocate(void* block, std::size_t new_size) noexcept {
  return libc::realloc(block, new_size == 0 ? 1 : new_size);
}

std::size_t SystemAllocator::resize_in_place(void* block, Layout, std::size_t) noexcept {
  return libc::usable_size(block);
}

std::size_t SystemAllocator::usable_size(Layout layout) noexcept { return libc::minimum_usable_size(layout.size); }
std::size_t SystemAllocator::usable_size(const void* block) noexcept { return libc::usable_size(block); }

}  // namespace globalloc
