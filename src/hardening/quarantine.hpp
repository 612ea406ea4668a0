// The quarantine: freed blocks wait here, filled with a known pattern, before
// they go back to the fast allocator. A block that is written while it waits
// is caught when it leaves; a block freed twice while it waits is caught by
// its header state. Sharded by thread so frees from many threads rarely meet
// on one lock.
#pragma once

#include <cstddef>

namespace globalloc::hardening {

/// What leaving the quarantine means for a block: check it, then free it.
using ReleaseFunction = void (*)(void* user_block) noexcept;

/// Holds `user_block` (of `size` bytes, already filled); may release older
/// blocks through `release` to stay under the byte budget. Returns false when
/// the block is too large to hold, in which case the caller releases it now.
bool quarantine_hold(void* user_block, std::size_t size, ReleaseFunction release) noexcept;

/// Releases every held block.
void quarantine_flush(ReleaseFunction release) noexcept;

/// Total bytes the quarantine may hold (split over its shards).
void quarantine_set_budget(std::size_t bytes) noexcept;

}  // namespace globalloc::hardening
