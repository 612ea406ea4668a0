// Holes: free blocks of a page in use whose memory went back to the OS. A
// free block keeps its list link in its first word, so the OS page holding
// that word cannot be discarded while the block is on a list; the purge
// (purge.cpp) therefore takes the free blocks whose links lie in OS pages
// that only free blocks cover off the lists, marks them in a bitmap of the
// segment header and discards those OS pages whole. Among an exited
// thread's scattered survivors (wl-footprint) that is most of the free
// memory of blocks from 128 bytes to 64 KiB, which no discard inside one
// block can reach. A hole is free (not counted in Page::used); when the
// page's lists run dry the allocation slow path links holes back in, a few
// OS pages' worth at a time, before carving new blocks.
#pragma once

#include <cstdint>

#include "fast/page.hpp"
#include "fast/segment.hpp"

namespace globalloc::fast {

/// Bit `index` of a bitmap of 64-bit words (the hole bitmaps, the purge's
/// map of free blocks).
inline bool bitmap_test(const std::uint64_t* words, std::uint32_t index) noexcept {
  return (words[index / 64] >> (index % 64) & 1) != 0;
}
inline void bitmap_set(std::uint64_t* words, std::uint32_t index) noexcept {
  words[index / 64] |= std::uint64_t{1} << (index % 64);
}

/// The page's slot index in its segment (the first slot of its span).
inline unsigned page_slot(const Page* page) noexcept {
  return static_cast<unsigned>(page - segment_of(page)->pages);
}

/// True when the page has holes: one bit of the segment header.
inline bool page_has_holes(const Page* page) noexcept {
  return (segment_of(page)->holed_pages >> page_slot(page) & 1) != 0;
}

/// The page's hole bitmap (page_hole_blocks_max bits); meaningful only while
/// page_has_holes.
inline std::uint64_t* page_hole_words(Page* page) noexcept {
  return segment_of(page)->hole_bits[page_slot(page)];
}
inline const std::uint64_t* page_hole_words(const Page* page) noexcept {
  return segment_of(page)->hole_bits[page_slot(page)];
}

/// Forgets the page's holes (a page set up for a class has none).
inline void page_clear_holes(Page* page) noexcept {
  segment_of(page)->holed_pages &= ~(std::uint64_t{1} << page_slot(page));
}

/// True when the carved block with index `index` is a hole.
inline bool page_index_is_hole(const Page* page, std::uint32_t index) noexcept {
  return index < page_hole_blocks_max && page_has_holes(page) && bitmap_test(page_hole_words(page), index);
}

/// True when `block`, a carved block of the page, is a hole (the misuse
/// checks of the slow free paths: freeing it is a double free).
bool page_block_is_hole(const Page* page, const void* block) noexcept;

/// Makes the blocks of `bits` (page_hole_blocks_max bits; none of them on a
/// list) the page's holes, in place of those it had.
void page_set_holes(Page* page, const std::uint64_t* bits) noexcept;

/// For a page whose lists are empty: links holes onto `free`, lowest first,
/// as many as a carving step takes (page_extend_blocks), so that a page
/// barely used again faults few OS pages back in. False when it has none.
bool page_collect_holes(Page* page) noexcept;

}  // namespace globalloc::fast
