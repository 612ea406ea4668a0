// wl-larson: a server simulation in the manner of Larson and Krishnan. Each
// round starts a fresh set of worker threads; each worker inherits an array
// of live blocks left by a worker of the previous round, then replaces random
// blocks with new ones of random size. Blocks thus outlive the thread that
// allocated them and are freed by another one, after their owner has exited.
#include "workload.hpp"

#include <vector>

namespace {
constexpr const char* kName = "wl-larson";

using Block = workload::TaggedBlock;

void check_and_free(Block& block) {
  workload::check_stamp(kName, block);
  std::free(block.data);
  block.data = nullptr;
}

// One worker's life: `steps` random replacements in its inherited array.
std::uint64_t serve(std::vector<Block>& blocks, std::size_t steps, std::uint64_t seed) {
  workload::Random random(seed);
  std::uint64_t sum = 0;
  for (std::size_t step = 0; step < steps; ++step) {
    Block& block = blocks[random.next() % blocks.size()];
    if (block.data != nullptr) check_and_free(block);
    block.size = random.between(16, 1024);
    block.tag = seed * 0x100000000ULL + step;
    block.data = static_cast<unsigned char*>(workload::checked_malloc(kName, block.size));
    workload::stamp(block);
    sum += block.size;
  }
  return sum;
}
}  // namespace

int main(int argc, char** argv) {
  auto options = workload::parse(argc, argv, kName, workload::Threads::many,
                                 "server simulation: random lifetimes, threads come and go");
  const unsigned workers = options.threads;
  const std::size_t rounds = 20;
  const std::size_t steps = workload::scaled(options, 27'000'000 / rounds / workers, 100);
  const std::size_t live_per_worker = 2000;

  std::vector<std::vector<Block>> arrays(workers, std::vector<Block>(live_per_worker));
  std::vector<std::uint64_t> sums(workers, 0);

  for (std::size_t round = 0; round < rounds; ++round) {
    std::vector<std::thread> threads;
    for (unsigned w = 0; w < workers; ++w) {
      threads.emplace_back([&, w] {
        // Each array is served by exactly one worker per round with a seed
        // fixed by (round, array), so the checksum does not depend on timing.
        sums[w] += serve(arrays[w], steps, 1 + round * 64 + w);
      });
    }
    for (auto& thread : threads) thread.join();
  }

  std::uint64_t checksum = 0;
  for (unsigned w = 0; w < workers; ++w) {
    checksum = workload::mix(checksum, sums[w]);
    for (Block& block : arrays[w])
      if (block.data != nullptr) check_and_free(block);
  }
  workload::print_checksum(checksum);
  return 0;
}
