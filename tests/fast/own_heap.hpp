// For tests of a thread heap's own pages, tables and caches: the calling
// thread sets up its own heap at its next allocation instead of taking its
// first blocks from a starter heap (src/fast/starter_heaps.hpp).
#pragma once

#include <cstdint>

#include "fast/starter_heaps.hpp"

namespace globalloc::fast::testing {

inline void skip_starter_heaps() noexcept { starter_allocations_made = UINT32_MAX; }

}  // namespace globalloc::fast::testing
