// Virtual memory from the operating system: reserve aligned read-write
// regions, give their physical pages back, grow or move them with the page
// tables instead of copying. The fast allocator's segments and huge blocks are
// made of these regions; nothing else in the allocator talks to the kernel
// about memory.
#pragma once

#include <cstddef>

namespace globalloc::platform {

/// The OS page size, read once at run time (never assumed to be 4 KiB).
std::size_t page_size() noexcept;

/// A fresh read-write region of `size` bytes whose address is a multiple of
/// `alignment` (a power of two, at least the page size); its pages read as zero
/// and are only made resident when touched. Null when the OS refuses.
void* reserve_aligned(std::size_t size, std::size_t alignment) noexcept;

/// Unmaps a region (or part of one) obtained from reserve_aligned.
void release(void* region, std::size_t size) noexcept;

/// Hands the physical pages of the range back to the OS; the range stays
/// mapped and reads as zero afterwards. Both ends must be page aligned.
void discard(void* region, std::size_t size) noexcept;

/// Asks the OS to back the region with transparent huge pages where whole
/// ones fit (Linux: madvise MADV_HUGEPAGE, which takes effect when the
/// system's THP mode is "madvise" or "always"). Fewer page faults and TLB
/// misses for memory a program touches throughout; a hint, so a refusal
/// (no THP in the kernel) changes nothing.
void advise_huge_pages(void* region, std::size_t size) noexcept;

/// Grows or shrinks a region without moving it; false when the pages after it
/// are taken (the region is then unchanged).
bool resize_in_place(void* region, std::size_t old_size, std::size_t new_size) noexcept;

/// Moves a region's pages (without copying their contents) to a new address
/// that is a multiple of `alignment`, resized to `new_size`. Null on failure,
/// with the old region untouched.
void* move_aligned(void* region, std::size_t old_size, std::size_t new_size, std::size_t alignment) noexcept;

}  // namespace globalloc::platform
