// The remote free protocol (remote_free.hpp). Every transition of a page's
// remote word is a CAS on the whole word (list head and notify bit together),
// which is what keeps the notify hand-off consistent with the owner taking
// the list, abandoning the page, or another thread adopting it.
#include "fast/remote_free.hpp"

#include "fast/purge_thread.hpp"
#include "fast/segment.hpp"

namespace globalloc::fast {

namespace {

/// Pushes onto the heap's delayed list; false when the heap has closed.
bool push_delayed(ThreadHeap* heap, Block* block) noexcept {
  std::uintptr_t head = heap->delayed_free.load(std::memory_order_relaxed);
  for (;;) {
    if (head == delayed_free_closed) return false;
    block->encoded_next = head;  // raw link: the delayed list belongs to no page
    if (heap->delayed_free.compare_exchange_weak(head, reinterpret_cast<std::uintptr_t>(block),
                                                 std::memory_order_release, std::memory_order_relaxed)) {
      return true;
    }
  }
}

/// Whether a link of the delayed list leads to a block of a heap segment,
/// where every block pushed on it lies. A block freed twice by other threads
/// can land on this list and then on its page's remote list, whose push
/// rewrites the link; following it would read anywhere.
bool is_heap_block_address(std::uintptr_t address) noexcept {
  if ((address >> 48) != 0) return false;  // not a user-space address (the segment map covers 48 bits)
  const Segment* segment = segment_lookup(reinterpret_cast<const void*>(address));
  return segment != nullptr && segment->kind == SegmentKind::heap;
}

void drain(ThreadHeap* heap, std::uintptr_t list) noexcept {
  while (list != 0 && list != delayed_free_closed) {
    Block* block = reinterpret_cast<Block*>(list);
    list = block->encoded_next;
    if constexpr (Config::mitigations.detect_double_free) {
      if (list != 0 && list != delayed_free_closed && !is_heap_block_address(list)) [[unlikely]] {
        report_double_free_found(block, DoubleFreeEvidence::remote_list_broken);
      }
    }
    Segment* segment = segment_of(block);
    Page* page = segment_page_of(segment, block);
    // The heap may have been recycled since the block was pushed: only pages
    // it owns now are freed locally; anything else goes the remote way again.
    if (page->owner.load(std::memory_order_acquire) == heap) {
      heap_free_local(heap, page, block);
    } else {
      remote_free(page, block);
    }
  }
}

}  // namespace

void remote_free(Page* page, Block* block) noexcept {
  // A block of an exited thread's page reaches no owner; the purge thread
  // takes it in, and is told when it waits for news. Read before the push:
  // after it the page may be gone. (Falling asleep between this look and
  // the push, the thread misses it until its next news.)
  const bool tell_purge_thread = purge_thread_asleep() && page->owner.load(std::memory_order_acquire) == nullptr;
  std::uintptr_t word = page->remote.load(std::memory_order_relaxed);
  bool may_notify = true;
  for (;;) {
    if (may_notify && (word & remote_notify_bit) != 0) {
      // Read the owner before claiming: once the block is handed over the
      // page may be freed and unmapped at any moment.
      ThreadHeap* owner = page->owner.load(std::memory_order_acquire);
      if (owner != nullptr) {
        if (!page->remote.compare_exchange_weak(word, word & ~remote_notify_bit, std::memory_order_acq_rel,
                                                std::memory_order_relaxed)) {
          continue;
        }
        if (push_delayed(owner, block)) return;
        // The owner exited meanwhile: the page is abandoned, a plain push
        // reaches whoever adopts it.
        may_notify = false;
        word = page->remote.load(std::memory_order_relaxed);
        continue;
      }
    }
    block->encoded_next = page->encode(reinterpret_cast<Block*>(word & ~remote_notify_bit), block);
    const std::uintptr_t pushed = reinterpret_cast<std::uintptr_t>(block) | (word & remote_notify_bit);
    if (page->remote.compare_exchange_weak(word, pushed, std::memory_order_release, std::memory_order_relaxed)) {
      if (tell_purge_thread) [[unlikely]] purge_thread_note_pending();
      return;
    }
  }
}

void heap_process_delayed(ThreadHeap* heap) noexcept {
  std::uintptr_t list = heap->delayed_free.exchange(0, std::memory_order_acquire);
  drain(heap, list);
}

void heap_close_delayed(ThreadHeap* heap) noexcept {
  std::uintptr_t list = heap->delayed_free.exchange(delayed_free_closed, std::memory_order_acquire);
  drain(heap, list);
}

}  // namespace globalloc::fast
