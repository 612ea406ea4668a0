// Tests of the standard-library adapters and the composable wrappers.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <memory_resource>
#include <string>
#include <vector>

#include "globalloc/adapters/counting.hpp"
#include "globalloc/adapters/limited.hpp"
#include "globalloc/adapters/memory_resource.hpp"
#include "globalloc/adapters/std_allocator.hpp"
#include "globalloc/adapters/tracing.hpp"
#include "globalloc/system_allocator.hpp"

namespace {

using globalloc::Layout;
using globalloc::SystemAllocator;

struct VectorTag {};
using CountingSystem = globalloc::Counting<SystemAllocator, VectorTag>;

TEST(StdAllocator, ServesAVectorThroughTheWrappedAllocator) {
  CountingSystem::reset();
  {
    std::vector<int, globalloc::StdAllocator<int, CountingSystem>> values;
    for (int i = 0; i < 10000; ++i) values.push_back(i);
    long sum = 0;
    for (int v : values) sum += v;
    EXPECT_EQ(sum, 49995000);
    EXPECT_GT(CountingSystem::counts().allocations, 5u);
    EXPECT_GE(CountingSystem::counts().live_bytes, 10000 * sizeof(int));
  }
  const auto counts = CountingSystem::counts();
  EXPECT_EQ(counts.allocations, counts.deallocations);
  EXPECT_EQ(counts.live_bytes, 0u);
  EXPECT_GE(counts.peak_bytes, 10000 * sizeof(int));
}

TEST(StdAllocator, HonoursOverAlignedTypes) {
  struct alignas(128) Wide {
    char bytes[128];
  };
  std::vector<Wide, globalloc::StdAllocator<Wide, SystemAllocator>> values(7);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(values.data()) % 128, 0u);
}

TEST(StdAllocator, ThrowsOnImpossibleCounts) {
  globalloc::StdAllocator<std::uint64_t, SystemAllocator> allocator;
  EXPECT_THROW((void)allocator.allocate(SIZE_MAX / 4), std::bad_array_new_length);
  EXPECT_THROW((void)allocator.allocate(SIZE_MAX / 16), std::bad_alloc);
}

struct PmrTag {};
using CountingForPmr = globalloc::Counting<SystemAllocator, PmrTag>;

TEST(MemoryResource, ServesPmrContainersWithAlignment) {
  CountingForPmr::reset();
  auto* resource = globalloc::memory_resource<CountingForPmr>();
  {
    std::pmr::map<std::pmr::string, int> map(resource);
    for (int i = 0; i < 1000; ++i) map.emplace(std::pmr::string("a fairly long key number " + std::to_string(i), resource), i);
    EXPECT_EQ(map.size(), 1000u);
    void* aligned = resource->allocate(100, 256);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(aligned) % 256, 0u);
    resource->deallocate(aligned, 100, 256);
  }
  const auto counts = CountingForPmr::counts();
  EXPECT_GE(counts.allocations, 2000u);
  EXPECT_EQ(counts.allocations, counts.deallocations);
  EXPECT_TRUE(resource->is_equal(*globalloc::memory_resource<CountingForPmr>()));
  EXPECT_FALSE(resource->is_equal(*std::pmr::new_delete_resource()));
}

TEST(MemoryResource, ThrowsBadAllocWhenTheAllocatorFails) {
  auto* resource = globalloc::memory_resource<SystemAllocator>();
  EXPECT_THROW((void)resource->allocate(SIZE_MAX - 64, 16), std::bad_alloc);
}

struct BudgetTag {};
using Budgeted = globalloc::Limited<SystemAllocator, BudgetTag>;

TEST(Limited, RefusesRequestsBeyondTheBudgetAndRecovers) {
  Budgeted::set_budget(1000);
  void* a = Budgeted::allocate(Layout{600, 16});
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(Budgeted::allocate(Layout{600, 16}), nullptr);
  void* b = Budgeted::allocate(Layout{400, 16});
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(Budgeted::live_bytes(), 1000u);
  // Growth past the budget fails and leaves the block intact.
  std::memset(a, 0x5a, 600);
  EXPECT_EQ(Budgeted::reallocate(a, Layout{600, 16}, 700), nullptr);
  EXPECT_EQ(static_cast<unsigned char*>(a)[599], 0x5a);
  Budgeted::deallocate(b, Layout{400, 16});
  void* grown = Budgeted::reallocate(a, Layout{600, 16}, 1000);
  ASSERT_NE(grown, nullptr);
  EXPECT_EQ(static_cast<unsigned char*>(grown)[599], 0x5a);
  EXPECT_EQ(Budgeted::live_bytes(), 1000u);
  Budgeted::deallocate(grown, Layout{1000, 16});
  EXPECT_EQ(Budgeted::live_bytes(), 0u);
  Budgeted::set_budget(SIZE_MAX);
}

struct StackTag {};
// Wrappers compose: counting what survives the budget, traced.
using Stacked = globalloc::Counting<globalloc::Limited<globalloc::Tracing<SystemAllocator, StackTag>, StackTag>, StackTag>;
static_assert(globalloc::Allocator<Stacked>);

TEST(Tracing, WritesOneLinePerOperationAndComposes) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  globalloc::Tracing<SystemAllocator, StackTag>::set_trace_fd(pipe_fds[1]);
  globalloc::Limited<globalloc::Tracing<SystemAllocator, StackTag>, StackTag>::set_budget(100);
  void* block = Stacked::allocate(Layout{64, 16});
  ASSERT_NE(block, nullptr);
  EXPECT_EQ(Stacked::allocate(Layout{64, 16}), nullptr);  // over budget: never reaches Tracing
  Stacked::deallocate(block, Layout{64, 16});
  ::close(pipe_fds[1]);
  char text[512] = {};
  std::size_t total = 0;
  for (ssize_t got; (got = ::read(pipe_fds[0], text + total, sizeof text - 1 - total)) > 0;) total += got;
  ::close(pipe_fds[0]);
  const std::string trace(text, total);
  EXPECT_NE(trace.find("allocate size=64 align=16 -> 0x"), std::string::npos) << trace;
  EXPECT_NE(trace.find("deallocate 0x"), std::string::npos) << trace;
  EXPECT_EQ(std::count(trace.begin(), trace.end(), '\n'), 2) << trace;
  EXPECT_EQ(Stacked::counts().allocations, 1u);
  EXPECT_EQ(Stacked::counts().failures, 1u);
}

}  // namespace
