// Holes (holes.hpp): the bitmap's changes and the refill from it.
#include "fast/holes.hpp"

#include "fast/config.hpp"
#include "fast/misuse.hpp"

namespace globalloc::fast {

namespace {
constexpr unsigned hole_words = page_hole_blocks_max / 64;
}  // namespace

bool page_block_is_hole(const Page* page, const void* block) noexcept {
  const auto offset = reinterpret_cast<std::uintptr_t>(block) - reinterpret_cast<std::uintptr_t>(page->area);
  return page_index_is_hole(page, static_cast<std::uint32_t>(offset / page->block_size));
}

void page_set_holes(Page* page, const std::uint64_t* bits) noexcept {
  std::uint64_t any = 0;
  for (unsigned word = 0; word < hole_words; ++word) any |= bits[word];
  if (any == 0) {
    page_clear_holes(page);
    return;
  }
  std::uint64_t* words = page_hole_words(page);
  for (unsigned word = 0; word < hole_words; ++word) words[word] = bits[word];
  segment_of(page)->holed_pages |= std::uint64_t{1} << page_slot(page);
}

bool page_collect_holes(Page* page) noexcept {
  if (!page_has_holes(page)) return false;
  std::uint64_t* words = page_hole_words(page);
  const std::size_t size = page->block_size;
  std::size_t budget = std::size_t{page_extend_blocks(size)} * size;
  // The lowest holes within the budget, taken out of the bitmap...
  std::uint64_t taken[hole_words] = {};
  std::uint64_t remaining = 0;
  for (unsigned word = 0; word < hole_words; ++word) {
    while (words[word] != 0 && budget >= size) {
      const std::uint64_t lowest = words[word] & (~words[word] + 1);
      taken[word] |= lowest;
      words[word] &= ~lowest;
      budget -= size;
    }
    remaining |= words[word];
  }
  if (remaining == 0) page_clear_holes(page);
  // ...then linked highest first, so that the lowest comes off first:
  // consecutive allocations are adjacent, as after page_extend.
  void* head = page->free;
  for (unsigned word = hole_words; word-- > 0;) {
    while (taken[word] != 0) {
      const unsigned bit = 63 - static_cast<unsigned>(__builtin_clzll(taken[word]));
      taken[word] &= ~(std::uint64_t{1} << bit);
      auto* block = reinterpret_cast<Block*>(page->area + (std::size_t{word} * 64 + bit) * size);
      const std::uintptr_t link = page->encode(head, block);
      if constexpr (Config::mitigations.detect_double_free) {
        // A hole's first word lies in an OS page that went back, so it
        // reads zero unless something wrote it since: a free of the hole
        // (a double free, which linked it into a list) or a write after
        // free. One exchange reads and writes it with one page fault.
        if (__atomic_exchange_n(&block->encoded_next, link, __ATOMIC_RELAXED) != 0) [[unlikely]] {
          report_corrupted_free_block(block);
        }
      } else {
        block->encoded_next = link;
      }
      head = block;
    }
  }
  page->free = head;
  return head != page->sentinel();
}

}  // namespace globalloc::fast
