// block-pipeline: a producer thread allocates blocks of SIZE bytes and
// writes their first byte; a consumer thread frees them, through a ring of
// 64 slots; COUNT blocks in all. Prints nanoseconds per block. What a
// pipeline of buffers asks of an allocator: frees from another thread must
// come back to the producer, or it maps new memory for ever. Not one of the
// suite's workloads.   usage: block-pipeline SIZE COUNT   e.g. block-pipeline 262144 100000
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace {
constexpr long kRingSlots = 64;
std::atomic<void*> ring[kRingSlots];
}  // namespace

int main(int argc, char** argv) {
  const long long size = argc > 1 ? std::atoll(argv[1]) : 0;
  const long count = argc > 2 ? std::atol(argv[2]) : 0;
  if (argc != 3 || size < 1 || count < 1) {
    std::fprintf(stderr, "usage: block-pipeline SIZE COUNT\n");
    return 2;
  }
  const auto start = std::chrono::steady_clock::now();
  std::thread consumer([count] {
    for (long i = 0; i < count; ++i) {
      void* block;
      while ((block = ring[i % kRingSlots].exchange(nullptr, std::memory_order_acquire)) == nullptr) std::this_thread::yield();
      std::free(block);
    }
  });
  for (long i = 0; i < count; ++i) {
    auto* block = static_cast<char*>(std::malloc(static_cast<std::size_t>(size)));
    if (block == nullptr) std::abort();
    block[0] = 1;
    while (ring[i % kRingSlots].load(std::memory_order_acquire) != nullptr) std::this_thread::yield();
    ring[i % kRingSlots].store(block, std::memory_order_release);
  }
  consumer.join();
  const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
  std::printf("size=%lld ns_per_block=%.1f\n", size, ns / static_cast<double>(count));
  return 0;
}
