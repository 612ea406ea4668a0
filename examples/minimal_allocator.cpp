// The original design's example, in C++: a minimal allocator on the C library,
// registered as the global allocator of a small program. It implements the
// five operations of the contract and nothing else; the registration wraps it
// with a size header because it cannot tell a block's size from its address
// (unsized operator delete needs that).
//
// It registers new/delete only (GLOBALLOC_GLOBAL_ALLOCATOR, not _WITH_MALLOC):
// an allocator built on malloc cannot also replace malloc.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include <globalloc/globalloc.hpp>

struct LibcAllocator {
  static constexpr const char* name = "libc-example";
  static inline std::atomic<unsigned long> calls{0};

  static void* allocate(globalloc::Layout layout) noexcept {
    if (!globalloc::is_valid_layout(layout)) return nullptr;
    calls.fetch_add(1, std::memory_order_relaxed);
    if (layout.align <= alignof(std::max_align_t)) return std::malloc(layout.size == 0 ? 1 : layout.size);
    // aligned_alloc wants a size that is a multiple of the alignment.
    const std::size_t size = globalloc::align_up(layout.size == 0 ? 1 : layout.size, layout.align);
    return std::aligned_alloc(layout.align, size);
  }
  static void deallocate(void* block, globalloc::Layout) noexcept { std::free(block); }
  static void* reallocate(void* block, globalloc::Layout old_layout, std::size_t new_size) noexcept {
    return globalloc::reallocate_by_moving<LibcAllocator>(block, old_layout, new_size);
  }
  // The C library cannot promise anything beyond the size asked for.
  static std::size_t resize_in_place(void*, globalloc::Layout old_layout, std::size_t) noexcept {
    return old_layout.size;
  }
  static std::size_t usable_size(globalloc::Layout layout) noexcept { return layout.size; }
};

GLOBALLOC_GLOBAL_ALLOCATOR(LibcAllocator)

int main() {
  std::map<std::string, std::vector<int>> table;
  for (int i = 0; i < 1000; ++i) table["key-" + std::to_string(i % 37)].push_back(i);
  long sum = 0;
  for (const auto& [key, values] : table)
    for (int v : values) sum += v;

  struct alignas(256) Aligned {
    char bytes[256];
  };
  auto* aligned = new Aligned;
  const bool aligned_ok = reinterpret_cast<std::uintptr_t>(aligned) % 256 == 0;
  delete aligned;

  std::printf("global allocator: %s\n", globalloc_global_allocator_name());
  std::printf("sum=%ld aligned=%s calls=%s\n", sum, aligned_ok ? "yes" : "no",
              LibcAllocator::calls.load() >= 40 ? "many" : "few");
  return sum == 499500 && aligned_ok ? 0 : 1;
}
