// clock_gettime(CLOCK_MONOTONIC) through the vDSO: no system call, no allocation.
#include "platform/clock.hpp"

#include <time.h>

namespace globalloc::platform {

std::uint64_t monotonic_milliseconds() noexcept {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1000u + static_cast<std::uint64_t>(now.tv_nsec) / 1000000u;
}

}  // namespace globalloc::platform
