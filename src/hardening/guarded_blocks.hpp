// Large blocks of the hardened allocator in mappings of their own, with an
// inaccessible guard page before and after: the block ends right at the
// trailing guard, so a linear overflow (or underflow) faults at the first
// byte out of bounds. A fixed registry remembers them, so free() can tell a
// guarded block from a wild pointer without touching its memory.
//
// Mapping, protecting and unmapping a region (and faulting its pages in
// again) cost far more than the block's use, so a freed region waits in a
// small cache with its guards in place and its pages resident, and a later
// block of about its size takes it over. While it waits, its freed block
// stays registered (its header says freed), so a second free of it is still
// reported as a double free; the cache is the quarantine of guarded blocks.
#pragma once

#include <cstddef>

namespace globalloc::hardening {

/// Blocks of at least this many bytes get guard pages (smaller ones live in
/// the fast allocator's pages, next to other blocks).
inline constexpr std::size_t guarded_block_min = 64 * 1024;

/// A guarded region for a block of `size` bytes aligned to `align`, with
/// `before` bytes of room in front of it (the block header) and placed so its
/// end meets the trailing guard (within the alignment): a cached region of
/// about that size when there is one, else a fresh mapping. Returns the
/// block; `*fresh` tells whether its bytes are zero (a fresh mapping) or hold
/// what an earlier block left. Null when the OS refuses or the registry is
/// full (the caller then serves the block without guards).
void* guarded_map(std::size_t before, std::size_t size, std::size_t align, bool* fresh) noexcept;

/// True when `block` is a block that guarded_map returned and that is still
/// mapped (live, or freed and waiting in the cache).
bool guarded_is_registered(const void* block) noexcept;

/// True when `block` is one of the last 256 guarded blocks that are no
/// longer registered after their free (their regions were unmapped, or
/// serve a block at another address): a pointer to one is stale, not
/// foreign. For the misuse reports.
bool guarded_was_unmapped(const void* block) noexcept;

/// A guarded block was freed (and filled): its region goes to the cache, or
/// is unmapped when it does not fit there. The oldest cached regions leave
/// to make room. False when `block` is not a guarded block.
bool guarded_free(void* block) noexcept;

/// Checks a freed guarded block before its region is reused or unmapped (that
/// nobody wrote into it while it waited). Defined by the allocator.
[[gnu::visibility("hidden")]] void check_freed_guarded_block(void* block) noexcept;

/// Unmaps every cached region (after checking its freed block).
void guarded_flush_cache() noexcept;

}  // namespace globalloc::hardening
