// The adapters: globalloc allocators used for one container, one subsystem
// or one test, whatever the process's global allocator is.
#include <cstdio>
#include <memory_resource>
#include <string>
#include <vector>

#include <globalloc/adapters/counting.hpp>
#include <globalloc/adapters/limited.hpp>
#include <globalloc/adapters/memory_resource.hpp>
#include <globalloc/adapters/std_allocator.hpp>
#include <globalloc/adapters/tracing.hpp>
#include <globalloc/globalloc.hpp>

int main() {
  // StdAllocator: one standard container on a chosen allocator.
  std::vector<int, globalloc::StdAllocator<int, globalloc::FastAllocator>> numbers(1000, 7);

  // MemoryResource: the same for std::pmr containers.
  std::pmr::vector<std::pmr::string> names(globalloc::memory_resource<globalloc::FastAllocator>());
  names.emplace_back("a string long enough to need a block of its own");

  // Counting: operations, live and peak bytes of what passes through it.
  using Counted = globalloc::Counting<globalloc::FastAllocator>;
  {
    std::vector<int, globalloc::StdAllocator<int, Counted>> counted;
    for (int i = 0; i < 1000; ++i) counted.push_back(i);
  }
  const globalloc::AllocationCounts counts = Counted::counts();
  std::printf("counting: %lu allocations, %lu deallocations, live %zu bytes, peak %zu bytes\n",
              counts.allocations, counts.deallocations, counts.live_bytes, counts.peak_bytes);

  // Limited: refuses what would take the live bytes over a budget. The Tag
  // (second argument) gives this use its own counters.
  struct CacheBudget {};
  using Capped = globalloc::Limited<globalloc::FastAllocator, CacheBudget>;
  Capped::set_budget(64 * 1024);
  const globalloc::Layout chunk{48 * 1024, 16};
  void* first = Capped::allocate(chunk);
  void* second = Capped::allocate(chunk);  // 96 KiB > 64 KiB: null
  std::printf("limited: first %s, second %s, live %zu bytes\n", first ? "granted" : "refused",
              second ? "granted" : "refused", Capped::live_bytes());
  Capped::deallocate(first, chunk);

  // Tracing: one line per operation on a file descriptor, here stdout.
  using Traced = globalloc::Tracing<globalloc::SystemAllocator>;
  Traced::set_trace_fd(1);
  std::fflush(stdout);  // the trace uses write(2), not stdio
  void* block = Traced::allocate(globalloc::Layout{100, 64});
  Traced::deallocate(block, globalloc::Layout{100, 64});

  // They stack: each is an allocator over an allocator.
  using Stack = globalloc::Counting<globalloc::Limited<globalloc::FastAllocator, CacheBudget>, CacheBudget>;
  void* stacked = Stack::allocate(globalloc::Layout{1024, 16});
  Stack::deallocate(stacked, globalloc::Layout{1024, 16});
  std::printf("stacked: %lu allocation through Counting<Limited<FastAllocator>>\n", Stack::counts().allocations);

  const bool ok = numbers.size() == 1000 && counts.allocations == counts.deallocations && counts.live_bytes == 0 &&
                  first != nullptr && second == nullptr && Stack::counts().allocations == 1;
  std::printf("%s\n", ok ? "adapters ok" : "adapters WRONG");
  return ok ? 0 : 1;
}
