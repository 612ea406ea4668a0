// random_seed from the 16 random bytes the kernel places in every process's
// auxiliary vector (AT_RANDOM), mixed with the clock and a stack address so
// a missing AT_RANDOM still yields a usable value.
#include "platform/random.hpp"

#include <sys/auxv.h>
#include <time.h>

#include <cstring>

namespace globalloc::platform {

std::uint64_t random_seed() noexcept {
  std::uint64_t seed = 0x9e3779b97f4a7c15ull;
  auto bytes = reinterpret_cast<const unsigned char*>(::getauxval(AT_RANDOM));
  if (bytes != nullptr) {
    std::uint64_t from_kernel = 0;
    std::memcpy(&from_kernel, bytes + 8, sizeof(from_kernel));  // glibc uses the first 8 for its own canary
    seed ^= from_kernel;
  }
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  seed ^= static_cast<std::uint64_t>(now.tv_nsec) * 0xbf58476d1ce4e5b9ull;
  seed ^= reinterpret_cast<std::uintptr_t>(&now) >> 4;
  seed ^= seed >> 31;
  seed *= 0x94d049bb133111ebull;
  seed ^= seed >> 29;
  return seed;
}

}  // namespace globalloc::platform
