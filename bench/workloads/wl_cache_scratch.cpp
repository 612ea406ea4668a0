// wl-cache-scratch: false sharing induced by the allocator. Phase one
// (cache-scratch): the main thread allocates one small block per thread, back
// to back, and hands each to a worker, which frees it, allocates its own and
// writes it many times. Phase two (cache-thrash): every worker repeatedly
// allocates a small block, writes it, and frees it. An allocator that gives
// blocks of one cache line to different threads makes the writes contend.
#include "workload.hpp"

#include <vector>

namespace {
constexpr const char* kName = "wl-cache-scratch";
constexpr std::size_t kObjectSize = 8;

// Writes every byte `repetitions` times through a volatile pointer so the
// stores really reach memory, then returns a digest of the final contents.
std::uint64_t scribble(unsigned char* object, std::size_t repetitions, std::uint64_t seed) {
  volatile unsigned char* bytes = object;
  for (std::size_t r = 0; r < repetitions; ++r)
    for (std::size_t i = 0; i < kObjectSize; ++i)
      bytes[i] = static_cast<unsigned char>(bytes[i] + seed + i);
  std::uint64_t digest = 0;
  for (std::size_t i = 0; i < kObjectSize; ++i) digest = (digest << 8) | bytes[i];
  return digest;
}

std::uint64_t expected_digest(std::size_t repetitions, std::uint64_t seed) {
  std::uint64_t digest = 0;
  for (std::size_t i = 0; i < kObjectSize; ++i)
    digest = (digest << 8) | static_cast<unsigned char>(repetitions * (seed + i));
  return digest;
}
}  // namespace

int main(int argc, char** argv) {
  auto options = workload::parse(argc, argv, kName, workload::Threads::many,
                                 "blocks handed to other threads and written there (false sharing)");
  const unsigned workers = options.threads;
  const std::size_t objects = workload::scaled(options, 400'000 / workers, 10);
  const std::size_t repetitions = 300;

  std::vector<unsigned char*> handed(workers);
  for (unsigned w = 0; w < workers; ++w)
    handed[w] = static_cast<unsigned char*>(workload::checked_malloc(kName, kObjectSize));

  std::vector<std::uint64_t> results(workers, 0);
  std::vector<std::thread> threads;
  for (unsigned w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      std::uint64_t sum = 0;
      // cache-scratch: free the handed block, then work on blocks of our own.
      unsigned char* object = handed[w];
      std::memset(object, 0, kObjectSize);
      scribble(object, 1, w);
      std::free(object);
      for (std::size_t n = 0; n < objects; ++n) {
        std::uint64_t seed = w * 7 + n;
        object = static_cast<unsigned char*>(workload::checked_malloc(kName, kObjectSize));
        std::memset(object, 0, kObjectSize);
        std::uint64_t digest = scribble(object, repetitions, seed);
        if (digest != expected_digest(repetitions, seed))
          workload::fail(kName, "object contents wrong", n);
        sum += digest;
        // cache-thrash: each round frees and allocates again.
        std::free(object);
      }
      results[w] = sum;
    });
  }
  for (auto& thread : threads) thread.join();

  std::uint64_t checksum = 0;
  for (unsigned w = 0; w < workers; ++w) checksum = workload::mix(checksum, results[w]);
  workload::print_checksum(checksum);
  return 0;
}
