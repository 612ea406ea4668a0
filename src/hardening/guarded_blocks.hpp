// Large blocks of the hardened allocator in mappings of their own, with an
// inaccessible guard page before and after: the block ends right at the
// trailing guard, so a linear overflow (or underflow) faults at the first
// byte out of bounds. A fixed registry remembers them, so free() can tell a
// guarded block from a wild pointer without touching its memory.
#pragma once

#include <cstddef>

namespace globalloc::hardening {

/// Blocks of at least this many bytes get guard pages.
inline constexpr std::size_t guarded_block_min = 256 * 1024;

/// Maps a guarded region for a block of `size` bytes aligned to `align`, with
/// `before` bytes of room in front of it (the block header) and placed so its
/// end meets the trailing guard (within the alignment). Returns the block, its
/// bytes zero; null when the OS refuses or the registry is full (the caller
/// then serves the block without guards).
void* guarded_map(std::size_t before, std::size_t size, std::size_t align) noexcept;

/// True when `block` is a block that guarded_map returned and that is still mapped.
bool guarded_is_registered(const void* block) noexcept;

/// Unmaps a guarded block; false when it is not one.
bool guarded_unmap(void* block) noexcept;

}  // namespace globalloc::hardening
