// A program outside the globalloc tree that registers its own allocator: a
// counting wrapper over globalloc::SystemAllocator. It checks that new, new[]
// with alignment 64, malloc, calloc and posix_memalign all reach it.
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#include <globalloc/globalloc.hpp>

namespace {
std::atomic<unsigned long> allocations{0};

struct CountingSystem {
  static constexpr const char* name = "consumer-counting";
  using Inner = globalloc::SystemAllocator;
  static void* counted(void* block) noexcept {
    if (block != nullptr) allocations.fetch_add(1, std::memory_order_relaxed);
    return block;
  }
  static void* allocate(globalloc::Layout layout) noexcept { return counted(Inner::allocate(layout)); }
  static void* allocate_zeroed(globalloc::Layout layout) noexcept { return counted(Inner::allocate_zeroed(layout)); }
  static void deallocate(void* block, globalloc::Layout layout) noexcept { Inner::deallocate(block, layout); }
  static void deallocate(void* block) noexcept { Inner::deallocate(block); }
  static void* reallocate(void* block, globalloc::Layout old_layout, std::size_t new_size) noexcept {
    return counted(Inner::reallocate(block, old_layout, new_size));
  }
  static void* reallocate(void* block, std::size_t new_size) noexcept { return counted(Inner::reallocate(block, new_size)); }
  static std::size_t resize_in_place(void* block, globalloc::Layout old_layout, std::size_t new_size) noexcept {
    return Inner::resize_in_place(block, old_layout, new_size);
  }
  static std::size_t usable_size(globalloc::Layout layout) noexcept { return Inner::usable_size(layout); }
  static std::size_t usable_size(const void* block) noexcept { return Inner::usable_size(block); }
};
}  // namespace

GLOBALLOC_GLOBAL_ALLOCATOR_WITH_MALLOC(CountingSystem)

namespace {
int failures = 0;

void escape(void* block) { asm volatile("" : : "g"(block) : "memory"); }

template <class Allocate>
void expect_counted(const char* what, Allocate allocate) {
  const unsigned long before = allocations.load();
  allocate();
  const unsigned long after = allocations.load();
  const bool ok = after == before + 1;
  std::printf("%s: %s reached the counting allocator (%lu -> %lu)\n", ok ? "ok  " : "FAIL", what, before, after);
  if (!ok) ++failures;
}

struct alignas(64) Line {
  unsigned char bytes[64];
};
}  // namespace

int main() {
  std::setvbuf(stdout, nullptr, _IONBF, 0);
  expect_counted("new", [] {
    int* value = new int(7);
    escape(value);
    delete value;
  });
  expect_counted("new[] of a 64-byte-aligned type", [] {
    Line* lines = new Line[5];
    escape(lines);
    if (reinterpret_cast<std::uintptr_t>(lines) % 64 != 0) {
      std::printf("FAIL: new Line[5] is not 64-byte aligned\n");
      ++failures;
    }
    delete[] lines;
  });
  expect_counted("malloc", [] {
    void* block = std::malloc(100);
    escape(block);
    std::free(block);
  });
  expect_counted("calloc", [] {
    void* block = std::calloc(10, 10);
    escape(block);
    std::free(block);
  });
  expect_counted("posix_memalign", [] {
    void* block = nullptr;
    if (::posix_memalign(&block, 256, 1000) != 0 || reinterpret_cast<std::uintptr_t>(block) % 256 != 0) {
      std::printf("FAIL: posix_memalign(256, 1000)\n");
      ++failures;
    }
    escape(block);
    std::free(block);
  });
  return failures == 0 ? 0 : 1;
}
