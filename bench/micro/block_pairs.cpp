// block-pairs: THREADS threads, each allocating a block of SIZE bytes,
// writing its first byte and freeing it, ITERATIONS times, with nothing else
// live: a per-request buffer in a loop. Prints the nanoseconds per turn per
// thread; with two threads against one it shows what the threads share (a
// lock, a cache line every thread writes). Not one of the suite's workloads.
//   usage: block-pairs THREADS SIZE ITERATIONS    e.g. block-pairs 2 262144 2000000
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {
void turns(std::size_t size, long iterations) {
  for (long turn = 0; turn < iterations; ++turn) {
    auto* block = static_cast<char*>(std::malloc(size));
    if (block == nullptr) std::abort();
    // Keep the compiler from pairing malloc and free away.
    __asm__ volatile("" : : "r"(block) : "memory");
    block[0] = 1;
    std::free(block);
  }
}
}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 0;
  const long long size = argc > 2 ? std::atoll(argv[2]) : 0;
  const long iterations = argc > 3 ? std::atol(argv[3]) : 0;
  if (argc != 4 || threads < 1 || threads > 256 || size < 1 || iterations < 1) {
    std::fprintf(stderr, "usage: block-pairs THREADS(1..256) SIZE ITERATIONS\n");
    return 2;
  }
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int thread = 0; thread < threads; ++thread)
    workers.emplace_back(turns, static_cast<std::size_t>(size), iterations);
  for (auto& worker : workers) worker.join();
  const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
  std::printf("threads=%d size=%lld ns_per_turn_per_thread=%.1f\n", threads, size, ns / static_cast<double>(iterations));
  return 0;
}
