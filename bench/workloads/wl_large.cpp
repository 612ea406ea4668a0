// wl-large: blocks of 64 KiB to 8 MiB, sizes log-uniform, a small working set
// per thread replaced at random. Every page of each block is touched, so the
// cost of mapping, reusing and returning large memory shows.
#include "workload.hpp"

#include <vector>

namespace {
constexpr const char* kName = "wl-large";

std::size_t random_large_size(workload::Random& random) {
  // 64 KiB << (0..7) plus a random fraction of that power: 64 KiB .. 8 MiB.
  std::size_t base = std::size_t{64} << 10 << random.between(0, 6);
  return base + random.next() % base;
}

using Block = workload::TaggedBlock;
}  // namespace

int main(int argc, char** argv) {
  auto options = workload::parse(argc, argv, kName, workload::Threads::many, "large blocks, 64 KiB to 8 MiB");
  const unsigned workers = std::min(options.threads, 4u);
  const std::size_t steps = workload::scaled(options, 600 / workers, 20);
  std::vector<std::uint64_t> sums(workers, 0);
  std::vector<std::thread> threads;
  for (unsigned w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      workload::Random random(500 + w);
      std::vector<Block> blocks(8);
      std::uint64_t sum = 0;
      for (std::size_t step = 0; step < steps; ++step) {
        Block& block = blocks[random.next() % blocks.size()];
        if (block.data != nullptr) {
          workload::check_sparse(kName, block.data, block.size, block.tag);
          std::free(block.data);
        }
        block.size = random_large_size(random);
        block.tag = (std::uint64_t{w} << 32) | step;
        block.data = static_cast<unsigned char*>(workload::checked_malloc(kName, block.size));
        workload::fill_sparse(block.data, block.size, block.tag);
        sum = workload::mix(sum, block.size);
      }
      for (Block& block : blocks) {
        if (block.data == nullptr) continue;
        workload::check_sparse(kName, block.data, block.size, block.tag);
        std::free(block.data);
      }
      sums[w] = sum;
    });
  }
  for (auto& thread : threads) thread.join();
  std::uint64_t checksum = 0;
  for (std::uint64_t sum : sums) checksum = workload::mix(checksum, sum);
  workload::print_checksum(checksum);
  return 0;
}
