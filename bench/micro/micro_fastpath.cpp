// micro-fastpath: nanoseconds per malloc/free pair across sizes, for plain,
// batched (many live blocks, freed in allocation order) and aligned
// requests. The allocator is whichever the process runs with (LD_PRELOAD).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <new>
#include <vector>

namespace {

// One malloc and its free, back to back: the thread-local fast path at its
// best (the block just freed is the next one handed out).
void malloc_free_pair(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    void* block = std::malloc(size);
    benchmark::DoNotOptimize(block);
    std::free(block);
  }
  state.SetItemsProcessed(state.iterations());
}

// 256 allocations then 256 frees in the same order: free lists are walked
// and refilled, closer to real programs than the back-to-back pair.
void malloc_free_batch(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  constexpr std::size_t kBatch = 256;
  void* blocks[kBatch];
  for (auto _ : state) {
    for (auto& block : blocks) {
      block = std::malloc(size);
      benchmark::DoNotOptimize(block);
    }
    for (auto& block : blocks) std::free(block);
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

void new_delete_pair(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    void* block = ::operator new(size);
    benchmark::DoNotOptimize(block);
    ::operator delete(block, size);
  }
  state.SetItemsProcessed(state.iterations());
}

// Aligned pairs: 64-byte blocks at alignments 16..4096.
void aligned_alloc_pair(benchmark::State& state) {
  const auto alignment = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    void* block = std::aligned_alloc(alignment, alignment > 64 ? alignment : 64);
    benchmark::DoNotOptimize(block);
    std::free(block);
  }
  state.SetItemsProcessed(state.iterations());
}

void aligned_new_pair(benchmark::State& state) {
  const auto alignment = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    void* block = ::operator new(64, std::align_val_t{alignment});
    benchmark::DoNotOptimize(block);
    ::operator delete(block, std::align_val_t{alignment});
  }
  state.SetItemsProcessed(state.iterations());
}

void small_sizes(benchmark::internal::Benchmark* benchmark) {
  for (long size = 16; size <= 4096; size *= 2) benchmark->Arg(size);
  for (long size : {24L, 48L, 96L, 1000L}) benchmark->Arg(size);
  for (long size : {64L << 10, 256L << 10, 1L << 20, 4L << 20}) benchmark->Arg(size);
}

void alignments(benchmark::internal::Benchmark* benchmark) {
  for (long alignment = 16; alignment <= 4096; alignment *= 4) benchmark->Arg(alignment);
}

}  // namespace

BENCHMARK(malloc_free_pair)->Apply(small_sizes);
BENCHMARK(malloc_free_batch)->RangeMultiplier(4)->Range(16, 4096);
BENCHMARK(new_delete_pair)->Arg(16)->Arg(64)->Arg(256);
BENCHMARK(aligned_alloc_pair)->Apply(alignments);
BENCHMARK(aligned_new_pair)->Apply(alignments);

BENCHMARK_MAIN();
