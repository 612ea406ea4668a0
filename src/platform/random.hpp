// A random seed for the allocator's free-list encoding key, taken from what
// the kernel already gave the process (no system call that could block).
#pragma once

#include <cstdint>

namespace globalloc::platform {

/// 64 unpredictable bits; differs between processes.
std::uint64_t random_seed() noexcept;

}  // namespace globalloc::platform
