// wl-churn: one thread allocating and freeing small blocks of random sizes
// (9..512 bytes, skewed towards the smallest) in random order over a working
// set of a few thousand live blocks. Measures the single-thread fast path and
// free-list reuse.
#include "workload.hpp"

#include <vector>

namespace {
constexpr const char* kName = "wl-churn";

using Slot = workload::TaggedBlock;

std::size_t random_small_size(workload::Random& random) {
  // Three quarters of the requests are 9..64 bytes, the rest up to 512.
  return (random.next() & 3) != 0 ? random.between(9, 64) : random.between(65, 512);
}

}  // namespace

int main(int argc, char** argv) {
  auto options = workload::parse(argc, argv, kName, workload::Threads::one,
                                 "single thread, small random sizes, random frees");
  const std::size_t steps = workload::scaled(options, 40'000'000, 10'000);
  std::vector<Slot> slots(4096);
  workload::Random random(42);
  std::uint64_t checksum = 0;

  for (std::size_t step = 0; step < steps; ++step) {
    Slot& slot = slots[random.next() % slots.size()];
    if (slot.data != nullptr) {
      workload::check_stamp(kName, slot);
      std::free(slot.data);
    }
    slot.size = random_small_size(random);
    slot.tag = step;
    slot.data = static_cast<unsigned char*>(workload::checked_malloc(kName, slot.size));
    workload::stamp(slot);
    if ((step & 1023) == 0) checksum = workload::mix(checksum, slot.size);
  }
  for (Slot& slot : slots) {
    if (slot.data == nullptr) continue;
    workload::check_stamp(kName, slot);
    checksum = workload::mix(checksum, slot.tag ^ slot.size);
    std::free(slot.data);
  }
  workload::print_checksum(checksum);
  return 0;
}
