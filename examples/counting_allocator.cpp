// A wrapper allocator: counts every operation of the allocator it wraps and
// reports the counts when the program ends. Wrappers compose: Counting<A>
// is itself an allocator, so it can wrap another wrapper or be registered.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <unordered_map>

#include <globalloc/globalloc.hpp>

template <globalloc::Allocator Inner>
struct Counting {
  static constexpr const char* name = "counting";
  struct Counts {
    std::atomic<unsigned long> allocations{0}, deallocations{0}, reallocations{0};
    std::atomic<long> live_bytes{0};
  };
  static inline Counts counts;
  using Ops = globalloc::Operations<Inner>;

  static void* allocate(globalloc::Layout layout) noexcept {
    void* block = Ops::allocate(layout);
    if (block != nullptr) {
      counts.allocations.fetch_add(1, std::memory_order_relaxed);
      counts.live_bytes.fetch_add(static_cast<long>(layout.size), std::memory_order_relaxed);
    }
    return block;
  }
  static void deallocate(void* block, globalloc::Layout layout) noexcept {
    if (block == nullptr) return;
    counts.deallocations.fetch_add(1, std::memory_order_relaxed);
    counts.live_bytes.fetch_sub(static_cast<long>(layout.size), std::memory_order_relaxed);
    Ops::deallocate(block, layout);
  }
  static void* reallocate(void* block, globalloc::Layout old_layout, std::size_t new_size) noexcept {
    void* moved = Ops::reallocate(block, old_layout, new_size);
    if (moved != nullptr) {
      counts.reallocations.fetch_add(1, std::memory_order_relaxed);
      counts.live_bytes.fetch_add(static_cast<long>(new_size) - static_cast<long>(old_layout.size),
                                  std::memory_order_relaxed);
    }
    return moved;
  }
  static std::size_t resize_in_place(void* block, globalloc::Layout old_layout, std::size_t new_size) noexcept {
    return Ops::resize_in_place(block, old_layout, new_size);
  }
  static std::size_t usable_size(globalloc::Layout layout) noexcept { return Ops::usable_size(layout); }

  // The pointer-only pair, forwarded when the inner allocator has it. Without
  // a size the live-byte count uses the block's usable size.
  static void deallocate(void* block) noexcept
    requires globalloc::HasPointerOnlyOperations<Inner>
  {
    if (block == nullptr) return;
    counts.deallocations.fetch_add(1, std::memory_order_relaxed);
    counts.live_bytes.fetch_sub(static_cast<long>(Inner{}.usable_size(static_cast<const void*>(block))),
                                std::memory_order_relaxed);
    Inner{}.deallocate(block);
  }
  static std::size_t usable_size(const void* block) noexcept
    requires globalloc::HasPointerOnlyOperations<Inner>
  {
    return Inner{}.usable_size(block);
  }
};

// Counting over the system allocator, registered for new/delete and malloc.
using Registered = Counting<globalloc::SystemAllocator>;
GLOBALLOC_GLOBAL_ALLOCATOR_WITH_MALLOC(Registered)

int main() {
  {
    std::unordered_map<std::string, std::shared_ptr<std::string>> map;
    for (int i = 0; i < 500; ++i) map.emplace(std::to_string(i), std::make_shared<std::string>(100, 'x'));
    void* c_block = std::malloc(64);
    std::free(c_block);
  }
  const auto& counts = Registered::counts;
  std::printf("allocations=%lu deallocations=%lu reallocations=%lu\n", counts.allocations.load(),
              counts.deallocations.load(), counts.reallocations.load());
  // Every container block was freed again; the C block too.
  const bool ok = counts.allocations.load() >= 1000 && counts.deallocations.load() >= 1000;
  std::printf("%s\n", ok ? "counts ok" : "counts WRONG");
  return ok ? 0 : 1;
}
