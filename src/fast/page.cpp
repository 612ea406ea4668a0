// Page operations off the fast path: preparing a page for a size class,
// carving blocks lazily (a page's untouched tail stays non-resident), taking
// in the remote list, and the scans that confirm a suspected double free
// (which know about holes, holes.hpp).
#include "fast/page.hpp"

#include "fast/config.hpp"
#include "fast/holes.hpp"
#include "fast/size_classes.hpp"

namespace globalloc::fast {

void page_init(Page* page, char* area, std::size_t bytes, unsigned size_class, std::uintptr_t key) noexcept {
  const std::size_t block = class_size(size_class);
  page->free = page->sentinel();
  page->local_free = page->sentinel();
  page->key = key;
  page->used = 0;
  page->allocated = 0;
  page->published_allocated = 0;
  page->published_used = 0;
  page->sampled_blocks.store(0, std::memory_order_relaxed);
  page->capacity.store(0, std::memory_order_relaxed);
  page->area = area;
  page->block_size = block;
  page->divisor_magic = UINT64_MAX / block + 1;
  page->reserved = static_cast<std::uint16_t>(bytes / block);
  page->size_class = static_cast<std::uint8_t>(size_class);
  page->quiet_allocated = 0;
  page->quiet_used = 0;
  page->quiet_checks = 0;
  page->remote.store(0, std::memory_order_relaxed);
  page->next = nullptr;
  page->prev = nullptr;
  page->in_use = true;
  page->in_full = false;
}

bool page_extend(Page* page) noexcept {
  const std::uint32_t carved = page->capacity.load(std::memory_order_relaxed);
  const std::uint32_t left = page->reserved - carved;
  if (left == 0) return false;
  const std::size_t block = page->block_size;
  std::uint32_t count = page_extend_blocks(block);
  if (count > left) count = left;
  char* first = page->area + std::size_t{carved} * block;
  // Link the new blocks in address order so consecutive allocations are adjacent.
  char* cursor = first;
  for (std::uint32_t i = 1; i < count; ++i) {
    char* following = cursor + block;
    reinterpret_cast<Block*>(cursor)->encoded_next = page->encode(following, cursor);
    cursor = following;
  }
  reinterpret_cast<Block*>(cursor)->encoded_next = page->encode(page->free, cursor);
  page->free = reinterpret_cast<Block*>(first);
  page->capacity.store(carved + count, std::memory_order_relaxed);
  return true;
}

std::uint32_t page_collect_remote(Page* page, bool clear_notify) noexcept {
  std::uintptr_t word = page->remote.load(std::memory_order_relaxed);
  if (clear_notify) {
    word = page->remote.exchange(0, std::memory_order_acquire);
  } else {
    if ((word & ~remote_notify_bit) == 0) return 0;
    // Keep the notify bit as it is; only the list is taken.
    while (!page->remote.compare_exchange_weak(word, word & remote_notify_bit, std::memory_order_acquire,
                                               std::memory_order_relaxed)) {
    }
  }
  Block* head = reinterpret_cast<Block*>(word & ~remote_notify_bit);
  if (head == nullptr) return 0;
  std::uint32_t count = 1;
  Block* tail = head;
  for (;;) {
    const std::uintptr_t relative = tail->encoded_next ^ page->key;
    if (relative == reinterpret_cast<std::uintptr_t>(tail)) break;  // the null link: the end
    if constexpr (Config::mitigations.detect_double_free) {
      // Every block on the list is still counted in `used`, so a longer list
      // holds a block twice (its links run in a circle); a link out of the
      // segment was rewritten by a second free that took another list.
      if (!Page::is_relative_link(relative) || count == page->used) [[unlikely]] {
        report_double_free_found(tail, DoubleFreeEvidence::remote_list_broken);
      }
    }
    tail = reinterpret_cast<Block*>(relative ^ reinterpret_cast<std::uintptr_t>(tail));
    ++count;
  }
  tail->encoded_next = page->encode(page->free, tail);
  page->free = head;
  page->used -= count;
  return count;
}

namespace {
bool list_contains(const Page* page, const void* list, const void* block) noexcept {
  // Bounded walk: a corrupted or cyclic list must not hang the check.
  for (std::uint32_t steps = 0; list != page->sentinel() && list != nullptr && steps <= page->capacity.load(std::memory_order_relaxed); ++steps) {
    if (list == block) return true;
    list = page->decode(static_cast<const Block*>(list));
  }
  return false;
}
}  // namespace

const Block* page_find_block_in_use(const Page* page) noexcept {
  const std::uint32_t carved = page->capacity.load(std::memory_order_relaxed);
  const char* cursor = page->area;
  const std::uint64_t* holes = page_has_holes(page) ? page_hole_words(page) : nullptr;
  for (std::uint32_t index = 0; index < carved; ++index, cursor += page->block_size) {
    if (holes != nullptr && index < page_hole_blocks_max && bitmap_test(holes, index)) continue;
    const auto* block = reinterpret_cast<const Block*>(cursor);
    if (!Page::is_relative_link(block->encoded_next ^ page->key)) return block;
  }
  return nullptr;
}

bool page_has_free_block(const Page* page, const void* block) noexcept {
  return list_contains(page, page->free, block) || list_contains(page, page->local_free, block);
}

bool page_block_is_free(const Page* page, const void* block) noexcept {
  if (page_block_is_hole(page, block)) return true;
  return Page::is_relative_link(static_cast<const Block*>(block)->encoded_next ^ page->key) &&
         page_has_free_block(page, block);
}

}  // namespace globalloc::fast
