// wl-footprint: how much memory an allocator gives back. Threads allocate
// about 256 MiB in blocks of mixed sizes, free nine tenths of them chosen at
// random (leaving the survivors scattered), then run a short light churn and
// exit; the program then reports the resident size it still holds, and again
// after a second with no allocator call. Peak RSS shows the allocator's
// overhead at the top, resident_after_free_kb what it returns as the program
// frees, resident_after_idle_kb what it returns on its own while the program
// idles (with a thread of its own; the others wait for the next call).
#include "workload.hpp"

#include <chrono>
#include <fcntl.h>
#include <unistd.h>
#include <vector>

namespace {
constexpr const char* kName = "wl-footprint";

using Block = workload::TaggedBlock;

std::size_t random_mixed_size(workload::Random& random) {
  switch (random.next() % 4) {
    case 0: return random.between(16, 128);
    case 1: return random.between(129, 1024);
    case 2: return random.between(1025, 8192);
    default: return random.between(8193, 65536);
  }
}

// /proc/self/statm read without allocating: the idle second must see no
// allocator call.
long resident_kb() {
  char text[128] = {};
  const int fd = ::open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  const ssize_t got = ::read(fd, text, sizeof text - 1);
  ::close(fd);
  long pages_total = 0, pages_resident = 0;
  if (got <= 0 || std::sscanf(text, "%ld %ld", &pages_total, &pages_resident) != 2) return -1;
  return pages_resident * (sysconf(_SC_PAGESIZE) / 1024);
}

}  // namespace

int main(int argc, char** argv) {
  auto options = workload::parse(argc, argv, kName, workload::Threads::many,
                                 "allocate ~256 MiB, free 90%, report resident size left");
  const unsigned workers = options.threads;
  const std::size_t target_bytes = workload::scaled(options, std::size_t{256} << 20, 1 << 20) / workers;
  std::vector<std::vector<Block>> kept(workers);
  std::vector<std::uint64_t> sums(workers, 0);
  std::vector<std::thread> threads;

  for (unsigned w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      workload::Random random(77 + w);
      std::vector<Block> blocks;
      std::size_t total = 0;
      while (total < target_bytes) {
        Block block;
        block.size = random_mixed_size(random);
        block.tag = (std::uint64_t{w} << 40) | blocks.size();
        block.data = static_cast<unsigned char*>(workload::checked_malloc(kName, block.size));
        // Touch every page of the block, as a program filling its data would.
        for (std::size_t i = 0; i < block.size; i += 4096) block.data[i] = 1;
        workload::stamp(block);
        total += block.size;
        blocks.push_back(block);
      }
      std::uint64_t sum = 0;
      for (Block& block : blocks) {
        workload::check_stamp(kName, block);
        if (random.next() % 10 == 0) {
          kept[w].push_back(block);
          sum = workload::mix(sum, block.tag ^ block.size);
        } else {
          std::free(block.data);
        }
      }
      // A short light churn after the big free: the chance an allocator
      // without a background thread takes to return memory.
      std::vector<Block> churn(256);
      for (std::size_t step = 0; step < 200'000; ++step) {
        Block& slot = churn[random.next() % churn.size()];
        if (slot.data != nullptr) {
          workload::check_stamp(kName, slot);
          std::free(slot.data);
        }
        slot.size = random.between(16, 256);
        slot.tag = step;
        slot.data = static_cast<unsigned char*>(workload::checked_malloc(kName, slot.size));
        workload::stamp(slot);
      }
      for (Block& slot : churn) std::free(slot.data);
      sums[w] = sum;
    });
  }
  for (auto& thread : threads) thread.join();

  const long resident_after_free = resident_kb();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const long resident_after_idle = resident_kb();
  std::uint64_t checksum = 0;
  for (unsigned w = 0; w < workers; ++w) {
    for (Block& block : kept[w]) {
      workload::check_stamp(kName, block);
      std::free(block.data);
    }
    checksum = workload::mix(checksum, sums[w]);
  }
  workload::print_checksum(checksum);
  std::printf("resident_after_free_kb=%ld\n", resident_after_free);
  std::printf("resident_after_idle_kb=%ld\n", resident_after_idle);
  return 0;
}
