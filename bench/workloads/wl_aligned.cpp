// wl-aligned: over-aligned allocation through every interface a program may
// use: posix_memalign, aligned_alloc and aligned operator new, alignments 16
// to 4096, in random order over a working set. Every result's alignment and
// contents are checked.
#include "workload.hpp"

#include <new>
#include <vector>

namespace {
constexpr const char* kName = "wl-aligned";

enum class Interface : unsigned { posix_memalign, aligned_alloc, aligned_new };

struct Block {
  unsigned char* data = nullptr;
  std::size_t size = 0;
  std::size_t alignment = 0;
  Interface interface = Interface::posix_memalign;
  std::uint64_t tag = 0;
};

void release(Block& block) {
  workload::check_pattern(kName, block.data, std::min<std::size_t>(block.size, 64), block.tag);
  if (block.interface == Interface::aligned_new)
    ::operator delete[](block.data, std::align_val_t{block.alignment});
  else
    std::free(block.data);
  block.data = nullptr;
}

void acquire(Block& block) {
  void* result = nullptr;
  switch (block.interface) {
    case Interface::posix_memalign:
      if (posix_memalign(&result, block.alignment, block.size) != 0) result = nullptr;
      break;
    case Interface::aligned_alloc: {
      // aligned_alloc wants a size that is a multiple of the alignment.
      block.size = (block.size + block.alignment - 1) & ~(block.alignment - 1);
      result = std::aligned_alloc(block.alignment, block.size);
      break;
    }
    case Interface::aligned_new:
      result = ::operator new[](block.size, std::align_val_t{block.alignment});
      break;
  }
  if (result == nullptr) workload::fail(kName, "aligned allocation returned null", block.size);
  if (reinterpret_cast<std::uintptr_t>(result) % block.alignment != 0)
    workload::fail(kName, "misaligned block", block.alignment);
  block.data = static_cast<unsigned char*>(result);
  workload::fill_pattern(block.data, std::min<std::size_t>(block.size, 64), block.tag);
}
}  // namespace

int main(int argc, char** argv) {
  auto options = workload::parse(argc, argv, kName, workload::Threads::one,
                                 "posix_memalign, aligned_alloc, aligned new; 16..4096");
  const std::size_t steps = workload::scaled(options, 3'000'000, 1000);
  std::vector<Block> blocks(2048);
  workload::Random random(4096);
  std::uint64_t checksum = 0;
  for (std::size_t step = 0; step < steps; ++step) {
    Block& block = blocks[random.next() % blocks.size()];
    if (block.data != nullptr) release(block);
    block.alignment = std::size_t{16} << random.between(0, 8);  // 16 .. 4096
    // Mostly small blocks with large alignment, the case plain malloc cannot serve.
    block.size = (random.next() % 8) == 0 ? random.between(1, 16384) : random.between(1, 256);
    block.interface = static_cast<Interface>(random.next() % 3);
    block.tag = step;
    acquire(block);
    if ((step & 255) == 0) checksum = workload::mix(checksum, block.size ^ block.alignment);
  }
  for (Block& block : blocks)
    if (block.data != nullptr) release(block);
  workload::print_checksum(checksum);
  return 0;
}
