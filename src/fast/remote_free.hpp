// Frees from a thread that does not own the block's page. The block goes on
// the page's atomic remote list with one CAS; the owner takes the whole list
// when its free list runs dry. A page parked in its owner's full queue would
// never be looked at again, so the first remote free into such a page (the
// notify bit is set) instead pushes the block onto the owner heap's delayed
// list, which the owner drains on its next slow path and which moves the page
// back into circulation. This bounds memory in producer/consumer pipelines.
#pragma once

#include "fast/heap.hpp"
#include "fast/page.hpp"

namespace globalloc::fast {

/// Frees `block` of `page` from a thread that does not own the page.
void remote_free(Page* page, Block* block) noexcept;

/// Drains the heap's delayed list (blocks of its full pages freed elsewhere).
void heap_process_delayed(ThreadHeap* heap) noexcept;

/// Closes the delayed list of a heap whose thread exits and frees what it held.
void heap_close_delayed(ThreadHeap* heap) noexcept;

}  // namespace globalloc::fast
