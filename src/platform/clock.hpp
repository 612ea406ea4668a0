// A monotonic clock in milliseconds, read on the allocator's slow paths to
// decide when free pages have waited long enough to be purged.
#pragma once

#include <cstdint>

namespace globalloc::platform {

/// Milliseconds since an arbitrary fixed point; never goes backwards.
std::uint64_t monotonic_milliseconds() noexcept;

}  // namespace globalloc::platform
