// Delayed purging: free pages keep their memory for purge_delay_ms (a page
// freed and soon reused costs no page faults), then their memory goes back to
// the OS. The check runs on allocation slow paths, at most a few times per
// delay, and purge() forces it; the purge thread (purge_thread.hpp) does the
// part every thread shares when no thread calls the allocator.
#pragma once

#include "fast/heap.hpp"

namespace globalloc::fast {

/// Purges the heap's free pages and the cached segments whose delay expired,
/// and the inner OS pages of free blocks in pages that stayed quiet. Reads
/// the clock only every few calls: it runs on allocation slow paths.
void heap_maybe_purge(ThreadHeap* heap) noexcept;

/// Discards the whole OS pages that free blocks alone cover in the heap's
/// pages (the blocks whose links they held become holes, holes.hpp), so
/// that memory a program freed goes back even while other blocks of the
/// page live on. Only pages of blocks of 1 KiB or more that stayed quiet
/// (no block taken or freed) through a whole purge delay of checks, unless
/// `force`; with `force` (purge()) pages
/// of every class, and the free blocks after each page's last block in use
/// also become uncarved again and give their OS pages back. Returns bytes
/// discarded.
std::size_t heap_purge_free_blocks(ThreadHeap* heap, bool force) noexcept;

/// The same for one page of a segment a finished thread left behind, which
/// no thread owns (purge_abandoned holds it off the list): its free lists
/// change only when remote frees are taken in. There, blocks of any size
/// also go back after the last block in use: they become uncarved again
/// and their OS pages are discarded whole; and holes are made in pages of
/// every class. Once per page, unless
/// `lists_grew` (remote frees were just taken in); returns bytes discarded.
std::size_t abandoned_page_purge_free_blocks(Page* page, bool lists_grew) noexcept;

}  // namespace globalloc::fast
