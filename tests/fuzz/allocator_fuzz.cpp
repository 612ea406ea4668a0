// The fuzz entry point: the first input byte picks the allocator, the rest is
// the operation sequence (see allocator_fuzz.hpp). Built into the libFuzzer
// target (clang, GLOBALLOC_FUZZ=ON) and into fuzz_replay (every build).
#include "allocator_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  switch (data[0] % 3) {
    case 0:
      globalloc::fuzz::run_allocator_fuzz<globalloc::FastAllocator>(data + 1, size - 1);
      break;
    case 1:
      globalloc::fuzz::run_allocator_fuzz<globalloc::HardenedAllocator>(data + 1, size - 1);
      break;
    default:
      globalloc::fuzz::run_allocator_fuzz<globalloc::SystemAllocator>(data + 1, size - 1);
      break;
  }
  return 0;
}
