// Linux implementation of the virtual memory primitives (os_memory.hpp) with
// mmap, munmap, madvise and mremap. Alignment beyond the page size is obtained
// by over-reserving and unmapping the unaligned ends, which costs address
// space only for an instant.
#include "platform/os_memory.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>

namespace globalloc::platform {

namespace {
std::atomic<std::size_t> cached_page_size{0};

void* map_anonymous(std::size_t size) noexcept {
  void* region = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return region == MAP_FAILED ? nullptr : region;
}

/// Keeps [aligned, aligned + size) of a mapping [base, base + mapped) and
/// unmaps the rest.
void trim_to(char* base, std::size_t mapped, char* aligned, std::size_t size) noexcept {
  if (aligned > base) ::munmap(base, static_cast<std::size_t>(aligned - base));
  char* end = aligned + size;
  char* mapped_end = base + mapped;
  if (mapped_end > end) ::munmap(end, static_cast<std::size_t>(mapped_end - end));
}
}  // namespace

std::size_t page_size() noexcept {
  std::size_t size = cached_page_size.load(std::memory_order_relaxed);
  if (size == 0) {
    long queried = ::sysconf(_SC_PAGESIZE);
    size = queried > 0 ? static_cast<std::size_t>(queried) : 4096;
    cached_page_size.store(size, std::memory_order_relaxed);
  }
  return size;
}

void* reserve_aligned(std::size_t size, std::size_t alignment) noexcept {
  const std::size_t page = page_size();
  if (alignment < page) alignment = page;
  if (size == 0 || size > SIZE_MAX / 2 || alignment > SIZE_MAX / 4) return nullptr;
  // Often the kernel hands out the next region right below the previous one,
  // which for segment-sized requests is already aligned: try that first.
  void* region = map_anonymous(size);
  if (region == nullptr) return nullptr;
  if ((reinterpret_cast<std::uintptr_t>(region) & (alignment - 1)) == 0) return region;
  ::munmap(region, size);
  const std::size_t padded = size + alignment - page;
  if (padded < size) return nullptr;
  char* base = static_cast<char*>(map_anonymous(padded));
  if (base == nullptr) return nullptr;
  auto address = reinterpret_cast<std::uintptr_t>(base);
  char* aligned = reinterpret_cast<char*>((address + alignment - 1) & ~(alignment - 1));
  trim_to(base, padded, aligned, size);
  return aligned;
}

void release(void* region, std::size_t size) noexcept {
  if (region == nullptr || size == 0) return;
  int saved = errno;  // free() must preserve errno
  ::munmap(region, size);
  errno = saved;
}

void discard(void* region, std::size_t size) noexcept {
  if (region == nullptr || size == 0) return;
  int saved = errno;  // free() must preserve errno, and purging runs inside free
  ::madvise(region, size, MADV_DONTNEED);
  errno = saved;
}

void advise_huge_pages(void* region, std::size_t size) noexcept {
#ifdef MADV_HUGEPAGE
  if (region == nullptr || size == 0) return;
  int saved = errno;
  ::madvise(region, size, MADV_HUGEPAGE);
  errno = saved;
#else
  (void)region;
  (void)size;
#endif
}

bool resize_in_place(void* region, std::size_t old_size, std::size_t new_size) noexcept {
  int saved = errno;
  void* moved = ::mremap(region, old_size, new_size, 0);
  errno = saved;
  return moved != MAP_FAILED;
}

void* move_aligned(void* region, std::size_t old_size, std::size_t new_size, std::size_t alignment) noexcept {
  const std::size_t page = page_size();
  if (alignment < page) alignment = page;
  const std::size_t padded = new_size + alignment - page;
  if (padded < new_size) return nullptr;
  int saved = errno;
  // Reserve a placeholder at an aligned address, then let mremap move the
  // old pages over it: the kernel moves page table entries, nothing is copied.
  char* base = static_cast<char*>(map_anonymous(padded));
  if (base == nullptr) {
    errno = saved;
    return nullptr;
  }
  auto address = reinterpret_cast<std::uintptr_t>(base);
  char* aligned = reinterpret_cast<char*>((address + alignment - 1) & ~(alignment - 1));
  trim_to(base, padded, aligned, new_size);
  void* moved = ::mremap(region, old_size, new_size, MREMAP_MAYMOVE | MREMAP_FIXED, aligned);
  if (moved == MAP_FAILED) {
    ::munmap(aligned, new_size);
    errno = saved;
    return nullptr;
  }
  errno = saved;
  return moved;
}

}  // namespace globalloc::platform
