// Large and huge blocks. A large block (above medium_block_max, up to what
// fits in a segment after its header) is a run of 64 KiB units of a large
// segment. Large segments belong to one of a few shards (a thread uses the
// shard of its id), each with its own lock; a block takes the run that needs
// the fewest new page faults (units freed earlier stay resident until the
// purge delay passes), and alignment up to 2 MiB is a start unit that is a
// multiple of it. A huge block gets its own mapping with a segment header in
// front; growing it moves page tables (mremap), never bytes. Both are freed
// by any thread directly, without the owner's help.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fast/segment.hpp"

namespace globalloc::fast {

/// A large or huge block of `size` bytes aligned to `alignment`; null when
/// out of memory or the size cannot be represented.
void* large_allocate(std::size_t size, std::size_t alignment, bool zero) noexcept;

/// Frees a large or huge block (`block` must be its start).
void large_free(Segment* segment, Page* page, void* block, const char* operation) noexcept;

/// Gives the units of a freed large block (`page`, the descriptor of its
/// first unit in a large segment) back to the segment, under its shard's
/// lock; the segment goes when it was the last block and the shard has others.
void large_return_run(Segment* segment, Page* page) noexcept;

/// Bytes usable from `block` to the end of its large or huge block.
std::size_t large_usable_size(Segment* segment, const Page* page, const void* block) noexcept;

/// Resizes a large or huge block without moving it; returns the usable size
/// afterwards (the old one when it cannot).
std::size_t large_resize_in_place(Segment* segment, Page* page, void* block, std::size_t new_size) noexcept;

/// Grows or shrinks a huge block, moving its pages with mremap when it cannot
/// grow in place. Null when that fails (the block is then untouched) or when
/// the block is not huge.
void* huge_reallocate(Segment* segment, Page* page, void* block, std::size_t new_size) noexcept;

/// Discards the free units of large segments whose purge delay passed (all
/// of them with force); shards busy in other threads are skipped. True when
/// memory still waits in them (for its deadline, or in a skipped shard).
bool large_purge(std::uint64_t now_ms, bool force) noexcept;

/// Fork support: every shard lock, taken and released around fork().
void large_fork_prepare() noexcept;
void large_fork_parent() noexcept;
void large_fork_child() noexcept;

/// The huge segment whose block starts at `block` when the block's own 4 MiB
/// region holds no header (alignment of 4 MiB or more); null otherwise.
Segment* huge_segment_before(const void* block) noexcept;

}  // namespace globalloc::fast
