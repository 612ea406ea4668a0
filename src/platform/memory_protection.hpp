// Guard pages: ranges that fault on any access, so that an overflow off the
// end of a block (or an underflow before it) stops the program at the faulty
// write instead of corrupting the neighbour. Used by the hardened allocator.
#pragma once

#include <cstddef>

namespace globalloc::platform {

/// Makes the page-aligned range inaccessible; false when the OS refused.
bool protect_no_access(void* region, std::size_t size) noexcept;

}  // namespace globalloc::platform
