// block-pairs: THREADS threads, each allocating a block of SIZE bytes,
// writing its first byte and freeing it, ITERATIONS times, with nothing else
// live: a per-request buffer in a loop. Prints the nanoseconds per turn per
// thread; with two threads against one it shows what the threads share (a
// lock, a cache line every thread writes). SIZE may be a range MIN-MAX: the
// turns then cycle through 64 sizes spread over it at random (a fixed
// seed), as requests whose buffers differ in size. Not one of the suite's
// workloads.
//   usage: block-pairs THREADS SIZE|MIN-MAX ITERATIONS
//   e.g.   block-pairs 2 262144 2000000     block-pairs 1 65536-2097152 300000
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <thread>
#include <vector>

namespace {
constexpr std::size_t kSizes = 64;  ///< a power of two: the turn picks one with a mask

void turns(const std::vector<std::size_t>& sizes, long iterations) {
  for (long turn = 0; turn < iterations; ++turn) {
    auto* block = static_cast<char*>(std::malloc(sizes[static_cast<std::size_t>(turn) & (kSizes - 1)]));
    if (block == nullptr) std::abort();
    // Keep the compiler from pairing malloc and free away.
    __asm__ volatile("" : : "r"(block) : "memory");
    block[0] = 1;
    std::free(block);
  }
}

/// "N" or "MIN-MAX" into the 64 sizes the turns cycle through; false when malformed.
bool parse_sizes(const char* text, std::vector<std::size_t>* sizes) {
  char* end = nullptr;
  const long long low = std::strtoll(text, &end, 10);
  long long high = low;
  if (*end == '-') high = std::strtoll(end + 1, &end, 10);
  if (*end != '\0' || low < 1 || high < low) return false;
  std::mt19937_64 random(1);
  sizes->clear();
  for (std::size_t i = 0; i < kSizes; ++i) {
    const auto spread = static_cast<unsigned long long>(high - low + 1);
    sizes->push_back(static_cast<std::size_t>(low) + static_cast<std::size_t>(random() % spread));
  }
  return true;
}
}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 0;
  std::vector<std::size_t> sizes;
  const long iterations = argc > 3 ? std::atol(argv[3]) : 0;
  if (argc != 4 || threads < 1 || threads > 256 || !parse_sizes(argv[2], &sizes) || iterations < 1) {
    std::fprintf(stderr, "usage: block-pairs THREADS(1..256) SIZE|MIN-MAX ITERATIONS\n");
    return 2;
  }
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int thread = 0; thread < threads; ++thread) workers.emplace_back(turns, std::cref(sizes), iterations);
  for (auto& worker : workers) worker.join();
  const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
  std::printf("threads=%d size=%s ns_per_turn_per_thread=%.1f\n", threads, argv[2], ns / static_cast<double>(iterations));
  return 0;
}
