// Thread heaps: creating one on a thread's first allocation, the refill slow
// path (take local frees, then remote frees, then carve, then another page),
// page queues and the "current page" pin, the full queue, giving pages and
// segments back, and reclaiming a heap when its thread exits (its segments
// are abandoned and later adopted by a thread that needs pages).
//
// The current page of a class carries one extra count in `used` (the pin) so
// that the free fast path's `--used == 0` test never fires for it: a loop
// that allocates and frees one block stays on the fast path, and each class
// keeps one page cached without any extra test.
#include "fast/heap.hpp"

#include <cstring>
#include <new>

#include "fast/holes.hpp"
#include "fast/large.hpp"
#include "fast/lock.hpp"
#include "fast/misuse.hpp"
#include "fast/options.hpp"
#include "fast/purge.hpp"
#include "fast/purge_thread.hpp"
#include "fast/remote_free.hpp"
#include "fast/sampling.hpp"
#include "fast/starter_heaps.hpp"
#include "fast/stats.hpp"
#include "platform/clock.hpp"
#include "platform/os_memory.hpp"
#include "platform/random.hpp"
#include "platform/threads.hpp"

namespace globalloc::fast {

constinit Page empty_page{.free = &empty_page, .key = page_key_bit, .local_free = &empty_page};
constinit ThreadHeap empty_heap{&empty_page};
constinit thread_local ThreadHeap* thread_heap [[gnu::tls_model("initial-exec")]] = &empty_heap;

namespace {

/// Set when the thread's exit hook let its heap go. Destructors that the C
/// library runs after that hook (another library's thread-specific keys, in
/// the same round or a later one) may still allocate; a heap taken for them
/// would never be let go when that was the last round
/// (PTHREAD_DESTRUCTOR_ITERATIONS), and stay in use, with its pages, for the
/// rest of the process. Such allocations take a heap for themselves alone
/// (allocate_after_exit).
constinit thread_local bool heap_released_at_exit [[gnu::tls_model("initial-exec")]] = false;

Lock pool_lock;
ThreadHeap* pool_free = nullptr;
char* pool_chunk = nullptr;
std::size_t pool_chunk_left = 0;

Lock abandoned_lock;
Segment* abandoned = nullptr;

/// Held by the purge thread while it walks the live heaps' slots.
Lock idle_purge_lock;

std::uintptr_t process_seed = 0;

std::uintptr_t mix(std::uintptr_t value) noexcept {
  value ^= value >> 33;
  value *= 0xff51afd7ed558ccdull;
  value ^= value >> 33;
  value *= 0xc4ceb9fe1a85ec53ull;
  value ^= value >> 33;
  return value;
}

/// The XOR key of a page's links: per page and per process. Bit 63 is set,
/// which no user-space address has, so neither a pointer (live data, or the
/// sentinel at the head of an empty list) nor zero (a block handed out)
/// decodes to a link, which is what the double-free checks and the one-test
/// pop of the fast path rely on (page.hpp).
std::uintptr_t page_key(const Page* page) noexcept {
  return mix(process_seed ^ reinterpret_cast<std::uintptr_t>(page)) | page_key_bit;
}

// ---- statistics and sampling -------------------------------------------------

/// Counts of exited threads' heaps, and of pages no heap owned when published.
std::atomic<std::uint64_t> orphan_requests[class_count];
std::atomic<std::int64_t> orphan_live[class_count];
/// Every heap ever made (heaps are pooled, never unmapped), under pool_lock.
ThreadHeap* all_heaps = nullptr;

std::atomic<const SampleHooks*> sample_hooks{nullptr};
std::atomic<std::size_t> sample_mean_bytes{0};
/// Bumped by set_sampling; a heap whose draw is older draws again.
std::atomic<std::uint32_t> sample_generation{1};
constexpr std::int64_t sampling_never = INT64_MAX / 2;

template <class T>
void add_owned(std::atomic<T>& counter, T delta) noexcept {
  // Single writer: no read-modify-write needed; readers see either value.
  counter.store(counter.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
}

/// Adds a page's pops and live-block change since its last publication to
/// the heap's counts (to the orphan counts without a heap) and counts the
/// popped bytes against the heap's sampling countdown.
void publish_page(ThreadHeap* heap, Page* page) noexcept {
  if (page->size_class == large_page_class) return;  // counted as a large block
  const std::uint32_t allocated = page->allocated;
  const std::uint32_t popped = allocated - page->published_allocated;
  const std::uint32_t pin = heap != nullptr && heap->current[page->size_class] == page ? 1 : 0;
  const std::uint32_t live = page->used - pin;
  const std::int64_t live_delta = static_cast<std::int64_t>(live) - static_cast<std::int64_t>(page->published_used);
  if (popped == 0 && live_delta == 0) return;
  page->published_allocated = allocated;
  page->published_used = live;
  const unsigned size_class = page->size_class;
  if (heap == nullptr) {
    orphan_requests[size_class].fetch_add(popped, std::memory_order_relaxed);
    orphan_live[size_class].fetch_add(live_delta, std::memory_order_relaxed);
    return;
  }
  add_owned(heap->class_requests[size_class], std::uint64_t{popped});
  add_owned(heap->class_live[size_class], live_delta);
  heap->sample_countdown -= static_cast<std::int64_t>(popped) * static_cast<std::int64_t>(page->block_size);
}

/// Draws the bytes until the next sample: uniform in [1, 2 * mean], so the
/// mean holds and a program's periodic pattern cannot line up with it.
void draw_sample_interval(ThreadHeap* heap, std::size_t mean) noexcept {
  if (mean == 0) {  // sampling was turned off since the caller looked
    heap->sample_countdown = heap->sample_interval = sampling_never;
    return;
  }
  std::uint64_t x = heap->sample_random;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  heap->sample_random = x;
  const std::uint64_t draw = 1 + (x * 0x2545F4914F6CDD1Dull) % (2 * static_cast<std::uint64_t>(mean));
  heap->sample_interval = static_cast<std::int64_t>(draw);
  heap->sample_countdown = heap->sample_interval;
}

/// True when the allocation in progress is to be sampled; keeps the heap's
/// draw in step with set_sampling.
bool sample_due(ThreadHeap* heap) noexcept {
  const std::uint32_t generation = sample_generation.load(std::memory_order_acquire);
  if (heap->sample_countdown >= 0 && heap->sample_generation == generation) [[likely]] return false;
  const std::size_t mean = sample_mean_bytes.load(std::memory_order_relaxed);
  if (heap->sample_generation != generation || mean == 0) {
    heap->sample_generation = generation;
    if (mean == 0) {
      heap->sample_countdown = heap->sample_interval = sampling_never;
    } else {
      draw_sample_interval(heap, mean);
    }
    return false;
  }
  return true;
}

/// Offers the block to the profiler; a recorded block marks its page.
[[gnu::noinline]] void offer_sample(ThreadHeap* heap, Page* page, void* block, std::size_t usable, bool small) noexcept {
  const std::int64_t weight = heap->sample_interval - heap->sample_countdown;
  draw_sample_interval(heap, sample_mean_bytes.load(std::memory_order_relaxed));
  const SampleHooks* hooks = sample_hooks.load(std::memory_order_acquire);
  if (hooks == nullptr || !hooks->allocated(block, usable, static_cast<std::size_t>(weight))) return;
  page->sampled_blocks.fetch_add(1, std::memory_order_relaxed);
  if (small) {
    // Only the owner writes the tag; its local frees now take the slow path.
    page->owner_tag.store(page->owner_tag.load(std::memory_order_relaxed) | owner_tag_sampled,
                          std::memory_order_relaxed);
  }
}

/// owner_tag for a page of `heap` (in the full queue or not), keeping the
/// sampled mark while the page holds recorded blocks.
std::uintptr_t owner_tag_for(ThreadHeap* heap, const Page* page, bool full) noexcept {
  std::uintptr_t tag = reinterpret_cast<std::uintptr_t>(heap) | (full ? owner_tag_full : 0);
  if (page->sampled_blocks.load(std::memory_order_relaxed) != 0) tag |= owner_tag_sampled;
  return tag;
}

// ---- page queues -----------------------------------------------------------

void queue_push_back(PageQueue& queue, Page* page) noexcept {
  page->next = nullptr;
  page->prev = queue.last;
  if (queue.last != nullptr) {
    queue.last->next = page;
  } else {
    queue.first = page;
  }
  queue.last = page;
}

void queue_push_front(PageQueue& queue, Page* page) noexcept {
  page->prev = nullptr;
  page->next = queue.first;
  if (queue.first != nullptr) {
    queue.first->prev = page;
  } else {
    queue.last = page;
  }
  queue.first = page;
}

void queue_remove(PageQueue& queue, Page* page) noexcept {
  if (page->prev != nullptr) {
    page->prev->next = page->next;
  } else {
    queue.first = page->next;
  }
  if (page->next != nullptr) {
    page->next->prev = page->prev;
  } else {
    queue.last = page->prev;
  }
  page->next = nullptr;
  page->prev = nullptr;
}

static_assert(class_count <= 128, "current_classes has two words");

void mark_current_class(ThreadHeap* heap, unsigned size_class, bool has_page) noexcept {
  const std::uint64_t bit = std::uint64_t{1} << (size_class & 63);
  std::uint64_t& word = heap->current_classes[size_class >> 6];
  word = has_page ? word | bit : word & ~bit;
}

/// Makes the class's first queued page its current page (pinned) and points
/// the fast-path tables at it. The previous current page must already have
/// been unpinned by whoever took it out of first place.
void set_current(ThreadHeap* heap, unsigned size_class) noexcept {
  Page* page = heap->queues[size_class].first;
  if (page == nullptr) page = &empty_page;
  // A current page other than the empty one always has the tables pointing
  // at it (only unset_current changes `current` without them, to the empty
  // page), so an unchanged one needs no rewrite: a free into a full page
  // (move_from_full) lands here every time, and a class up to 1024 bytes
  // has up to 16 direct and natural entries to write.
  if (heap->current[size_class] == page && page != &empty_page) return;
  if (heap->current[size_class] != page) {
    if (page != &empty_page) ++page->used;
    heap->current[size_class] = page;
    mark_current_class(heap, size_class, page != &empty_page);
  }
  const std::size_t size = class_size(size_class);
  if (size <= Config::direct_size_max) {
    // Entry 0 (size 0) belongs to the 16-byte class: a zero-size request may
    // come with alignment 16, and the fast path does not look at it.
    const std::size_t first = size_class == 0 ? 1 : class_size(size_class - 1) / 8 + 1;
    for (std::size_t index = first; index <= size / 8; ++index) heap->direct[index] = page;
    if (size == 16) {
      heap->direct[0] = page;
      heap->natural[0] = page;
    }
    constexpr auto ranges = [] {
      struct Table {
        NaturalRange range[class_count];
      } table{};
      for (unsigned size_class = 0; size_class < class_count; ++size_class) table.range[size_class] = natural_range(size_class);
      return table;
    }();
    const NaturalRange range = ranges.range[size_class];
    for (std::size_t index = range.first; index <= range.last; ++index) heap->natural[index] = page;
  }
}

/// Removes the current page from first place, dropping its pin.
void unset_current(ThreadHeap* heap, Page* page) noexcept {
  if (heap->current[page->size_class] != page) return;
  publish_page(heap, page);
  --page->used;
  heap->current[page->size_class] = &empty_page;  // set_current below re-points the tables
  mark_current_class(heap, page->size_class, false);
}

// ---- segments of a heap ----------------------------------------------------

/// Segments with free slots come first in the list (find_span stops at the
/// first full one): one that was full and has free slots again moves up.
void segment_list_move_to_front(Segment*& head, Segment* segment) noexcept {
  if (head == segment) return;
  segment_list_remove(head, segment);
  segment_list_push_front(head, segment);
}

void segment_list_move_to_back(Segment*& head, Segment* segment) noexcept {
  if (segment->next == nullptr) return;
  segment_list_remove(head, segment);
  Segment* last = head;
  while (last->next != nullptr) last = last->next;
  last->next = segment;
  segment->prev = last;
}

/// A page with no blocks left goes back to its segment; an empty segment to
/// the cache, unless it is the heap's only one: a thread that allocates and
/// frees one big block in a loop (a 256 KiB buffer per request) would
/// otherwise hand its segment to the cache and take it back on every turn,
/// under the cache's lock, which two such threads then fight over (280 ns
/// a turn alone, 2 us with two threads). The kept segment's free slots are
/// purged after the delay like any others, and it goes at thread exit.
/// True when the segment went too (it may be unmapped).
bool release_page(ThreadHeap* heap, Page* page) noexcept {
  publish_page(heap, page);
  add_owned(heap->page_count, std::int64_t{-1});
  Segment* segment = segment_of(page);
  Segment*& head = heap->segments;
  OwnSlotsGuard guard(heap);
  // Under the lock: the purge thread may return a kept span of this segment.
  const bool was_full = segment->free_pages == 0;
  segment_return_page(segment, page);
  if (segment->used_pages == 0 && !(head == segment && segment->next == nullptr)) {
    segment_list_remove(head, segment);
    segment_release(segment);
    return true;
  }
  if (was_full) segment_list_move_to_front(head, segment);
  return false;
}

// ---- full pages --------------------------------------------------------------

/// Parks the current page, found without free blocks, in the full queue.
/// False when a remote free arrived meanwhile (the caller collects it).
bool move_to_full(ThreadHeap* heap, Page* page) noexcept {
  std::uintptr_t word = page->remote.load(std::memory_order_relaxed);
  do {
    if ((word & ~remote_notify_bit) != 0) return false;
  } while (!page->remote.compare_exchange_weak(word, word | remote_notify_bit, std::memory_order_acq_rel,
                                               std::memory_order_relaxed));
  const unsigned size_class = page->size_class;
  unset_current(heap, page);
  queue_remove(heap->queues[size_class], page);
  queue_push_back(heap->full, page);
  page->in_full = true;
  page->owner_tag.store(owner_tag_for(heap, page, true), std::memory_order_relaxed);
  set_current(heap, size_class);
  return true;
}

/// Brings a full page back into its class queue (a block was freed into it).
void move_from_full(ThreadHeap* heap, Page* page) noexcept {
  std::uintptr_t word = page->remote.load(std::memory_order_relaxed);
  while ((word & remote_notify_bit) != 0 &&
         !page->remote.compare_exchange_weak(word, word & ~remote_notify_bit, std::memory_order_acq_rel,
                                             std::memory_order_relaxed)) {
  }
  queue_remove(heap->full, page);
  page->in_full = false;
  page->owner_tag.store(owner_tag_for(heap, page, false), std::memory_order_relaxed);
  queue_push_back(heap->queues[page->size_class], page);
  set_current(heap, page->size_class);
}

// ---- taking pages ------------------------------------------------------------

/// Takes a page of an adopted segment; true when that released the segment.
bool adopt_page(ThreadHeap* heap, Page* page) noexcept {
  page->owner.store(heap, std::memory_order_release);
  add_owned(heap->page_count, std::int64_t{1});
  page->in_full = false;
  page->next = page->prev = nullptr;
  page_collect_remote(page, true);
  if (page->free == page->sentinel() && page->local_free != page->sentinel()) page_collect_local(page);
  if (page->used == 0) return release_page(heap, page);
  const bool has_room = page->free != page->sentinel() || page->local_free != page->sentinel() ||
                        page->capacity.load(std::memory_order_relaxed) < page->reserved || page_has_holes(page);
  if (!has_room) {
    std::uintptr_t expected = 0;
    if (page->remote.compare_exchange_strong(expected, remote_notify_bit, std::memory_order_acq_rel)) {
      page->in_full = true;
      page->owner_tag.store(owner_tag_for(heap, page, true), std::memory_order_relaxed);
      queue_push_back(heap->full, page);
      return false;
    }
  }
  page->owner_tag.store(owner_tag_for(heap, page, false), std::memory_order_relaxed);
  queue_push_back(heap->queues[page->size_class], page);
  set_current(heap, page->size_class);
  return false;
}

/// Takes over `segment`, which a finished thread left behind and the caller
/// took off the abandoned list.
void adopt_segment(ThreadHeap* heap, Segment* segment) noexcept {
  count(&Counters::segments_abandoned, -1);
  {
    OwnSlotsGuard guard(heap);
    segment->owner = heap;
    segment_list_push_front(heap->segments, segment);
  }
  // Its pages become ours: collect what other threads freed into them.
  for (unsigned index = 0; index < segment->page_count; ++index) {
    Page* page = &segment->pages[index];
    if ((segment->free_pages >> index & 1) != 0 || !page->in_use) continue;
    if (adopt_page(heap, page)) return;  // released along with its last page
  }
  if (segment->free_pages == 0) {
    OwnSlotsGuard guard(heap);
    segment_list_move_to_back(heap->segments, segment);
  }
}

/// Takes over a segment a finished thread left behind. False when none.
bool adopt_abandoned(ThreadHeap* heap) noexcept {
  // Not into a starter heap: the threads that inherited an exited thread's
  // blocks would free them as remote frees, which the starter heap takes
  // back only when it next allocates (wl-larson, whose workers inherit the
  // blocks of the previous round's: 7 -> 17 MB peak and 12% slower).
  if (!heap->owned) return false;
  Segment* segment;
  {
    LockGuard guard(abandoned_lock);
    segment = abandoned;
    if (segment == nullptr) return false;
    abandoned = segment->next;
  }
  adopt_segment(heap, segment);
  return true;
}

/// The heap's segment with room for a span of `slots` that needs the fewest
/// page faults (`best` says where): memory another page gave back is reused
/// before untouched memory grows the footprint. Segments with free slots
/// come first in the list. Null when none has room.
Segment* find_span(ThreadHeap* heap, unsigned slots, SpanChoice* best) noexcept {
  Segment* segment = nullptr;
  *best = SpanChoice{64, slots + 1};
  for (Segment* candidate = heap->segments; candidate != nullptr && candidate->free_pages != 0;
       candidate = candidate->next) {
    const SpanChoice choice = segment_choose_span(candidate, slots);
    if (choice.first < 64 && choice.clean < best->clean) {
      *best = choice;
      segment = candidate;
      if (choice.clean == 0) break;
    }
  }
  return segment;
}

/// A span of `slots` free slots of the heap's segments, taken as a page (in
/// the segment that needs the fewest page faults; `choice` says where); null
/// when none has room.
Page* take_span_of_own_segments(ThreadHeap* heap, unsigned slots, SpanChoice* choice) noexcept {
  OwnSlotsGuard guard(heap);
  Segment* segment = find_span(heap, slots, choice);
  if (segment == nullptr) return nullptr;
  Page* page = segment_take_span(segment, choice->first, slots);
  if (segment->free_pages == 0) segment_list_move_to_back(heap->segments, segment);
  return page;
}

/// The same in a segment from the cache or the OS (the most resident one
/// when the caller will touch `want_touched` bytes at once), owned by the
/// heap from now on. Null when out of memory.
Page* take_span_of_new_segment(ThreadHeap* heap, unsigned slots, std::size_t want_touched,
                               SpanChoice* choice) noexcept {
  Segment* segment = segment_acquire(SegmentKind::heap, want_touched);
  if (segment == nullptr) return nullptr;
  OwnSlotsGuard guard(heap);
  segment->owner = heap;
  segment_list_push_front(heap->segments, segment);
  Page* page = segment_take_page(segment, slots, choice);  // a segment of free slots has room
  if (segment->free_pages == 0) segment_list_move_to_back(heap->segments, segment);
  return page;
}

void evict_kept_span(ThreadHeap* heap) noexcept;  // below, with the large blocks

/// Adds a page for `size_class` to the heap: free slots of one of its
/// segments, or of an adopted segment, or of a new one. False when out of memory.
bool add_page(ThreadHeap* heap, unsigned size_class) noexcept {
  const unsigned slots = size_class <= small_class_max ? 1 : Config::medium_page_slots;
  // Resident slots before untouched ones: a freed large block's too.
  evict_kept_span(heap);
  SpanChoice choice;
  Page* page = take_span_of_own_segments(heap, slots, &choice);
  if (page == nullptr) {
    if (adopt_abandoned(heap)) return true;  // the caller looks at the queues again
    page = take_span_of_new_segment(heap, slots, 0, &choice);
    if (page == nullptr) return false;
  }
  Segment* segment = segment_of(page);
  std::size_t bytes = 0;
  char* area = segment_page_area(segment, page, &bytes);
  page_init(page, area, bytes, size_class, page_key(page));
  page->owner.store(heap, std::memory_order_release);
  page->owner_tag.store(reinterpret_cast<std::uintptr_t>(heap), std::memory_order_relaxed);
  add_owned(heap->page_count, std::int64_t{1});
  count_class_pages(size_class, 1);
  queue_push_front(heap->queues[size_class], page);
  // A new page goes in front: the old current page (if any) loses first place.
  Page* old = heap->current[size_class];
  if (old != &empty_page) unset_current(heap, old);
  set_current(heap, size_class);
  return true;
}

// ---- retiring idle current pages ----------------------------------------------

/// Slow paths between two looks at the current pages.
constexpr std::uint32_t slow_paths_per_retire_check = 32;

/// A class's current page stays when its last block is freed (its pin keeps
/// it), which is right while the class is in use: an alloc/free loop never
/// leaves the fast path. A current page found empty at two looks in a row,
/// with nothing handed out in between, goes back to its segment, so that its
/// slots serve other classes: a program whose sizes drift (buffers grown by
/// realloc) otherwise keeps one half-touched page of every class it passed
/// through, 512 KiB for a medium one.
void retire_if_idle(ThreadHeap* heap, unsigned size_class) noexcept {
  Page* page = heap->current[size_class];
  const std::uint32_t allocated = page->allocated;
  if (page->used != 1 || heap->retire_snapshot[size_class] != allocated) {
    heap->retire_snapshot[size_class] = allocated;
    return;
  }
  unset_current(heap, page);
  queue_remove(heap->queues[size_class], page);
  release_page(heap, page);
  set_current(heap, size_class);
  // The next current page (if any) starts with a fresh look.
  heap->retire_snapshot[size_class] = heap->current[size_class]->allocated - 1;
}

/// Looks at the classes that have a current page (a bit set in
/// current_classes), not at all of them.
void retire_idle_current_pages(ThreadHeap* heap) noexcept {
  const std::uint64_t classes[2] = {heap->current_classes[0], heap->current_classes[1]};
  for (unsigned word = 0; word < 2; ++word) {
    for (std::uint64_t left = classes[word]; left != 0; left &= left - 1) {
      retire_if_idle(heap, word * 64 + static_cast<unsigned>(__builtin_ctzll(left)));
    }
  }
}

void maybe_retire_idle_current_pages(ThreadHeap* heap) noexcept {
  if (heap->retire_countdown != 0) {
    --heap->retire_countdown;
    return;
  }
  heap->retire_countdown = slow_paths_per_retire_check;
  retire_idle_current_pages(heap);
}

// ---- large blocks in a heap's slots ------------------------------------------------

/// Large blocks take heap slots up to this many (2 MiB); bigger ones go to
/// the shared large segments, which can also grow them in place.
constexpr unsigned heap_large_slots_max = 32;

/// Sets up the descriptor of a span (new or kept) for one large block at `block`.
void set_up_large_page(ThreadHeap* heap, Page* page, char* block, std::size_t rounded) noexcept {
  // The usable size is what usable_size_for predicts for large blocks (whole
  // OS pages), not the whole span.
  const std::size_t usable = rounded;
  // One block, always "full": a local free takes the slow path, and a remote
  // free reaches the owner through its delayed list (the notify bit is set).
  page->free = page->sentinel();
  page->local_free = page->sentinel();
  page->key = page_key(page);
  page->area = block;
  page->block_size = usable;
  page->divisor_magic = UINT64_MAX / usable + 1;
  page->used = 1;
  page->allocated = 1;
  page->published_allocated = 1;
  page->published_used = 0;
  page->capacity.store(1, std::memory_order_relaxed);
  page->reserved = 1;
  page->size_class = large_page_class;
  page->sampled_blocks.store(0, std::memory_order_relaxed);
  page->quiet_checks = 0;
  page->remote.store(remote_notify_bit, std::memory_order_relaxed);
  page->in_use = true;
  page->in_full = true;
  page->owner.store(heap, std::memory_order_release);
  page->owner_tag.store(reinterpret_cast<std::uintptr_t>(heap) | owner_tag_full, std::memory_order_relaxed);
  add_owned(heap->page_count, std::int64_t{1});
  queue_push_back(heap->full, page);
  count(&Counters::large_blocks, 1);
  count(&Counters::large_bytes, static_cast<std::int64_t>(usable));
}

/// Sets up a span taken from cached_large for its next block: what its
/// last block's free or a different size changed (the rest is as
/// set_up_large_page left it).
void reuse_kept_span(ThreadHeap* heap, Page* page, std::size_t rounded) noexcept {
  if (page->block_size != rounded) {
    count(&Counters::large_bytes, static_cast<std::int64_t>(rounded) - static_cast<std::int64_t>(page->block_size));
    page->block_size = rounded;
    page->divisor_magic = UINT64_MAX / rounded + 1;
  }
  page->used = 1;
  page->sampled_blocks.store(0, std::memory_order_relaxed);
  page->remote.store(remote_notify_bit, std::memory_order_relaxed);  // a remote free of the last one cleared it
  page->quiet_checks = 0;
  page->in_use = true;
  page->in_full = true;
  add_owned(heap->page_count, std::int64_t{1});
  queue_push_back(heap->full, page);
}

/// Whether a kept block is a span of the heap's slots (the other kind is a
/// run of units of a shared large segment, whose descriptors have class 0).
bool is_heap_span(const Page* page) noexcept { return page->size_class == large_page_class; }

/// A kept block of `have` slots or units serves a request of `want` when
/// at most a quarter of a request's size would go unused.
bool fits_with_little_waste(unsigned have, unsigned want) noexcept { return have >= want && have - want <= want / 4; }

/// Takes `page`, the kept block its owner looked at, out of cached_large;
/// null when the purge thread took it meanwhile (the exchange decides).
Page* take_kept(ThreadHeap* heap, Page* page) noexcept {
  return heap->cached_large.exchange(nullptr, std::memory_order_acquire) == page ? page : nullptr;
}

/// The owner gives a block it took from cached_large back: a span to its
/// segment, a run to its large segment.
void release_kept_block(ThreadHeap* heap, Page* page) noexcept {
  if (!is_heap_span(page)) {
    large_return_run(segment_of(page), page);
    return;
  }
  add_owned(heap->page_count, std::int64_t{1});  // release_page counts it off again
  release_page(heap, page);
}

/// Puts a freed large block's page in cached_large, in place of the one
/// there before (which goes back).
void keep_block(ThreadHeap* heap, Page* page) noexcept {
  page->in_use = false;  // from here a second free of the block is a double free
  // Only the owner stores a block, so an empty cache stays empty until this
  // store; the purge thread only ever empties it.
  heap->cached_large_bytes.store(page->block_size, std::memory_order_relaxed);
  add_owned(heap->cached_large_puts, std::uint32_t{1});
  if (heap->cached_large.load(std::memory_order_relaxed) == nullptr) {
    heap->cached_large.store(page, std::memory_order_release);
    // The purge thread looks at the caches while it runs; one waiting for
    // news is told (a plain look first: this is every large free's path).
    if (purge_thread_asleep()) [[unlikely]] purge_thread_note_slots_freed();
    return;
  }
  if (Page* previous = heap->cached_large.exchange(page, std::memory_order_acq_rel)) {
    release_kept_block(heap, previous);
  }
}

/// The owner frees a large block of its slots (local free or delayed remote
/// free): its span waits in cached_large.
void free_large_page(ThreadHeap* heap, Page* page) noexcept {
  if constexpr (Config::mitigations.detect_double_free) {
    if (!page->in_use) [[unlikely]] report_double_free(page->area, "free");  // it waits in the cache
  }
  page->used = 0;
  queue_remove(heap->full, page);
  if (purge_delay_ms() == 0) {  // free memory goes back at once: nothing waits in a cache
    release_page(heap, page);
    return;
  }
  add_owned(heap->page_count, std::int64_t{-1});
  keep_block(heap, page);
}

/// The kept block when it is a span, taken for a request of `slots` slots.
/// One of that many slots or up to a quarter more serves as it is; another
/// is made to fit under the slot lock: its tail given back when it is too
/// big, or grown over the free resident slots after it (where a bigger
/// predecessor lay, most often), so that a thread whose large sizes vary
/// keeps reusing one span without a search. Null when there is none or it
/// cannot grow (it went back to its segment then).
Page* take_kept_span(ThreadHeap* heap, unsigned slots) noexcept {
  Page* page = heap->cached_large.load(std::memory_order_relaxed);
  if (page == nullptr || !is_heap_span(page) || take_kept(heap, page) == nullptr) return nullptr;
  if (fits_with_little_waste(page->span_slots, slots)) return page;
  Segment* segment = segment_of(page);
  {
    OwnSlotsGuard guard(heap);
    if (slots < page->span_slots) {
      const bool was_full = segment->free_pages == 0;
      segment_shrink_span(segment, page, slots);
      if (was_full) segment_list_move_to_front(heap->segments, segment);
      return page;
    }
    // Over resident slots only: where untouched ones would fault, the
    // search may find resident ones elsewhere.
    if (segment_grow_span(segment, page, slots, GrowOver::resident_slots)) {
      if (segment->free_pages == 0) segment_list_move_to_back(heap->segments, segment);
      return page;
    }
  }
  release_kept_block(heap, page);
  return nullptr;
}

/// The owner's kept block back to its segment (thread exit, purge, a
/// request it does not fit, a new page, or a block left there since the last look).
void evict_kept_block(ThreadHeap* heap) noexcept {
  if (heap->cached_large.load(std::memory_order_relaxed) == nullptr) return;
  if (Page* page = heap->cached_large.exchange(nullptr, std::memory_order_acquire)) release_kept_block(heap, page);
}

/// The same when the kept block is a span of the heap's slots, which the
/// caller is about to look for room in.
void evict_kept_span(ThreadHeap* heap) noexcept {
  const Page* page = heap->cached_large.load(std::memory_order_relaxed);
  if (page != nullptr && is_heap_span(page)) evict_kept_block(heap);
}

// ---- heap life cycle ------------------------------------------------------------

/// A heap from the pool (or a new one) for the calling thread, which it
/// becomes the heap of; `owned` false for a starter heap, which no thread
/// owns (not counted among the threads' heaps).
ThreadHeap* create_heap(bool arm_exit_hook = true, bool owned = true) noexcept {
  process_init();
  ThreadHeap* heap = nullptr;
  const std::uint64_t thread_id = platform::current_thread_id();
  {
    LockGuard guard(pool_lock);
    if (pool_free != nullptr) {
      heap = pool_free;
      pool_free = heap->pool_next;
      ThreadHeap* const all_next = heap->all_next;  // already listed: keep its place
      new (heap) ThreadHeap(&empty_page);
      heap->all_next = all_next;
    } else {
      const std::size_t bytes = (sizeof(ThreadHeap) + 63) & ~std::size_t{63};
      if (pool_chunk_left < bytes) {
        const std::size_t chunk = 64 * 1024 > bytes ? 64 * 1024 : bytes;
        pool_chunk = static_cast<char*>(platform::reserve_aligned(chunk, 64));
        pool_chunk_left = pool_chunk != nullptr ? chunk : 0;
        if (pool_chunk != nullptr) count(&Counters::bytes_mapped, static_cast<std::int64_t>(chunk));
      }
      if (pool_chunk_left >= bytes) {
        heap = reinterpret_cast<ThreadHeap*>(pool_chunk);
        pool_chunk += bytes;
        pool_chunk_left -= bytes;
        new (heap) ThreadHeap(&empty_page);
        heap->all_next = all_heaps;
        all_heaps = heap;
      }
    }
    if (heap != nullptr) {
      heap->in_use = true;
      heap->owned = owned;
      heap->thread_id = owned ? thread_id : 0;
    }
  }
  if (heap == nullptr) return nullptr;
  this_thread_shard();  // its statistics' counters, from here on (stats.hpp)
  heap->sample_random = mix(process_seed ^ thread_id ^ reinterpret_cast<std::uintptr_t>(heap)) | 1;
  heap->key_seed = mix(process_seed ^ reinterpret_cast<std::uintptr_t>(heap));
  if (owned) {
    count(&Counters::heaps_in_use, 1);
    count(&Counters::heaps_created_total, 1);
  }
  // Set the pointer before arming the exit hook: pthread_setspecific may
  // allocate (keys past the first 32), and that allocation must find a heap.
  thread_heap = heap;
  if (arm_exit_hook) platform::arm_thread_exit(heap);
  return heap;
}

}  // namespace

ThreadHeap* heap_create_unowned() noexcept {
  ThreadHeap* const own = thread_heap;
  ThreadHeap* heap = create_heap(false, false);
  thread_heap = own;
  return heap;
}

void heap_release_unowned(ThreadHeap* heap) noexcept {
  ThreadHeap* const own = thread_heap;
  thread_heap = heap;
  heap_release_thread(false);
  thread_heap = own;
}

namespace {

/// An allocation of a thread whose heap its exit hook already let go: a heap
/// from the pool for this allocation only, let go again at once. Its pages
/// are abandoned as an exiting thread's are, the block among them, so
/// nothing stays tied to the dying thread. Slow (a heap's whole release per
/// allocation), and only for what runs in the last moments of a thread.
template <class Allocate>
[[gnu::noinline, gnu::cold]] void* allocate_after_exit(Allocate allocate) noexcept {
  if (create_heap(false) == nullptr) return nullptr;
  void* block = allocate();
  heap_release_thread(false);  // the exit hook sent the purge thread its note
  return block;
}

void thread_exit_hook(void* value) noexcept {
  if (value != nullptr && thread_heap == value) {
    heap_release_thread();
    heap_released_at_exit = true;
  }
}

void abandon_page(ThreadHeap* heap, Page* page) noexcept {
  publish_page(heap, page);
  page->next = page->prev = nullptr;
  page_collect_remote(page);
  if (page->free == page->sentinel() && page->local_free != page->sentinel()) page_collect_local(page);
  if (page->used == 0) {
    release_page(heap, page);
    return;
  }
  add_owned(heap->page_count, std::int64_t{-1});
  page->in_full = false;
  page->owner_tag.store(0, std::memory_order_relaxed);
  page->owner.store(nullptr, std::memory_order_release);
}

}  // namespace

// ---- slow paths ----------------------------------------------------------------

/// What every allocation slow path does on its heap before it takes a page
/// or a span: the blocks other threads freed into its full pages (its
/// delayed list) come back, and the periodic purge check runs. The large
/// path once skipped it, so a thread that allocated nothing but large blocks
/// (a producer of 256 KiB buffers that a consumer frees) never took them
/// back and mapped a new segment every 15 blocks (40,000 blocks: 195 MB
/// resident, 56 us a block).
namespace {
void take_back_frees_and_maybe_purge(ThreadHeap* heap) noexcept {
  if (heap->delayed_free.load(std::memory_order_relaxed) != 0) heap_process_delayed(heap);
  heap_maybe_purge(heap);
}
}  // namespace

void* heap_allocate_slow(unsigned size_class) noexcept {
  ThreadHeap* heap = thread_heap;
  if (heap == &empty_heap) {
    if (heap_released_at_exit) [[unlikely]] {
      return allocate_after_exit([size_class] { return heap_allocate_slow(size_class); });
    }
    process_init();  // the options, before the first look at one
    if (starter_allocation_due()) {
      if (void* block = starter_allocate(size_class)) return block;
    }
    heap = create_heap();
    if (heap == nullptr) return nullptr;
  }
  heap->quick_refills = quick_refills_per_slow_path;
  purge_thread_start_if_wanted();
  take_back_frees_and_maybe_purge(heap);
  maybe_retire_idle_current_pages(heap);
  if (Page* drained = heap->current[size_class]; drained != &empty_page) publish_page(heap, drained);
  for (;;) {
    Page* page = heap->queues[size_class].first;
    if (page == nullptr) {
      if (!add_page(heap, size_class)) return nullptr;
      continue;
    }
    if (page != heap->current[size_class]) set_current(heap, size_class);
    if (page->free == page->sentinel()) {
      if (page->local_free != page->sentinel()) page_collect_local(page);
      if (page->free == page->sentinel()) page_collect_remote(page);
      // Holes before new blocks: their memory went back, like the
      // uncarved room's, and the carved part stays compact.
      if (page->free == page->sentinel()) page_collect_holes(page);
      if (page->free == page->sentinel()) page_extend(page);
    }
    if (page->free != page->sentinel()) {
      Block* block = page_hand_out(page);
      if (sample_due(heap)) [[unlikely]] offer_sample(heap, page, block, page->block_size, true);
      return block;
    }
    move_to_full(heap, page);
  }
}

void heap_free_local(ThreadHeap* heap, Page* page, Block* block) noexcept {
  if (page->size_class == large_page_class) [[unlikely]] {
    free_large_page(heap, page);
    return;
  }
  if (page->in_full) move_from_full(heap, page);
  block->encoded_next = page->encode(page->local_free, block);
  page->local_free = block;
  if (--page->used == 0) heap_page_emptied(heap, page);
}

void heap_page_emptied(ThreadHeap* heap, Page* page) noexcept {
  // Not the current page (its pin keeps used above 0, unless a block was
  // freed twice), and not full (a free into a full page moves it back to
  // the queue first).
  if constexpr (Config::mitigations.detect_double_free) {
    if (heap->current[page->size_class] == page) [[unlikely]] {
      report_double_free_found(page->local_free, DoubleFreeEvidence::current_page_emptied);
    }
  }
  queue_remove(heap->queues[page->size_class], page);
  release_page(heap, page);
  // No lock held and the heap consistent: where the purge thread may start
  // (creating it allocates), unless the thread is taking its heap down.
  if (heap->delayed_free.load(std::memory_order_relaxed) != delayed_free_closed) purge_thread_start_if_wanted();
}

void free_slow(Page* page, void* pointer) noexcept {
  Block* block = static_cast<Block*>(pointer);
  Segment* segment = segment_of(pointer);
  page -= page->span_offset;  // the fast path looked at the slot, not the page's first one
  if (segment->kind == SegmentKind::large || segment->kind == SegmentKind::huge) {
    large_free(segment, page, pointer, "free");
    return;
  }
  const auto address = reinterpret_cast<std::uintptr_t>(pointer);
  if (!page->in_use && address == reinterpret_cast<std::uintptr_t>(page->area)) {
    // The first block of a page that went back to its segment when that
    // block was freed (a large block of the heap's slots, most often).
    if constexpr (Config::mitigations.detect_double_free) report_double_free(pointer, "free");
    return;
  }
  // A large block's page holds that one block, and its state says whether it is live.
  const bool large = page->size_class == large_page_class;
  if (!page->in_use || (large ? address != reinterpret_cast<std::uintptr_t>(page->area)
                              : !page_has_carved_block_at(page, address))) {
    if constexpr (Config::mitigations.detect_invalid_free) report_invalid_free(pointer, "free");
    return;
  }
  if (page->sampled_blocks.load(std::memory_order_relaxed) != 0) heap_note_sampled_free(page, pointer);
  ThreadHeap* heap = thread_heap;
  const auto self = reinterpret_cast<std::uintptr_t>(heap);
  std::uintptr_t tag = page->owner_tag.load(std::memory_order_relaxed);
  if ((tag & ~(owner_tag_full | owner_tag_sampled)) != self) {
    remote_free(page, block);
    return;
  }
  if ((tag & owner_tag_sampled) != 0 && page->sampled_blocks.load(std::memory_order_relaxed) == 0) {
    // The last recorded block is gone: local frees may take the fast path
    // again. Only the owner (this thread) adds recorded blocks, so none can
    // arrive between the test and the store.
    tag &= ~owner_tag_sampled;
    page->owner_tag.store(tag, std::memory_order_relaxed);
  }
  if constexpr (Config::mitigations.detect_double_free) {
    if (!large && page_block_is_free(page, block)) report_double_free(pointer, "free");
  }
  heap_free_local(heap, page, block);
}

void* heap_allocate_large(std::size_t rounded, bool zero, std::size_t size) noexcept {
  const unsigned slots = static_cast<unsigned>((rounded + small_page_size - 1) >> Config::small_page_shift);
  if (slots > heap_large_slots_max) return nullptr;
  ThreadHeap* heap = thread_heap;
  if (heap == &empty_heap) {
    if (heap_released_at_exit) [[unlikely]] {
      return allocate_after_exit([=] { return heap_allocate_large(rounded, zero, size); });
    }
    heap = create_heap();
    if (heap == nullptr) return nullptr;
  }
  take_back_frees_and_maybe_purge(heap);
  if (Page* kept = take_kept_span(heap, slots)) {
    reuse_kept_span(heap, kept, rounded);
    if (zero) std::memset(kept->area, 0, size);  // it was in use
    return kept->area;
  }
  // A kept run goes back first (a span that could not grow went back
  // already, so that the search below finds its resident slots): a thread
  // holds no block it has no use for while it takes more memory.
  evict_kept_block(heap);
  SpanChoice choice;
  Page* page = take_span_of_own_segments(heap, slots, &choice);
  // A segment an exited thread left behind is taken over before a new one
  // (as add_page does): its free slots are as good as ours.
  if (page == nullptr && adopt_abandoned(heap)) page = take_span_of_own_segments(heap, slots, &choice);
  if (page == nullptr) {
    const std::size_t touched = segment_header_size + (std::size_t{slots} << Config::small_page_shift);
    page = take_span_of_new_segment(heap, slots, touched, &choice);
    if (page == nullptr) return nullptr;
  }
  Segment* segment = segment_of(page);
  char* block = reinterpret_cast<char*>(segment) + (std::size_t{choice.first} << Config::small_page_shift);
  set_up_large_page(heap, page, block, rounded);
  // Slots that were never touched (or were purged) read as zeros already.
  if (zero && choice.clean < slots) std::memset(block, 0, size);
  return block;
}

std::size_t heap_resize_large(Page* page, std::size_t rounded) noexcept {
  const std::size_t old = page->block_size;
  if (rounded <= old || rounded > large_block_max) return old;  // shrinking keeps the span
  ThreadHeap* heap = thread_heap;
  if (page->owner.load(std::memory_order_relaxed) != heap) return old;  // only the owner changes its slots
  const unsigned slots = static_cast<unsigned>((rounded + small_page_size - 1) >> Config::small_page_shift);
  Segment* segment = segment_of(page);
  {
    OwnSlotsGuard guard(heap);
    if (!segment_grow_span(segment, page, slots)) return old;
  }
  page->block_size = rounded;
  page->divisor_magic = UINT64_MAX / rounded + 1;
  count(&Counters::large_bytes, static_cast<std::int64_t>(rounded - old));
  return rounded;
}

bool heap_keep_large_run(Page* page) noexcept {
  ThreadHeap* heap = thread_heap;
  if (heap == &empty_heap || purge_delay_ms() == 0) return false;
  keep_block(heap, page);
  return true;
}

Page* heap_take_kept_run(unsigned units, std::size_t alignment, bool* fits) noexcept {
  ThreadHeap* heap = thread_heap;
  if (heap == &empty_heap) {
    // Nothing kept yet. A thread that allocates only blocks this big gets
    // a heap too, for its frees to keep runs in.
    if (!heap_released_at_exit) create_heap();
    return nullptr;
  }
  Page* page = heap->cached_large.load(std::memory_order_relaxed);
  if (page == nullptr) return nullptr;
  if (is_heap_span(page) || (reinterpret_cast<std::uintptr_t>(page->area) & (alignment - 1)) != 0) {
    evict_kept_block(heap);  // no use for it: back before more memory is taken
    return nullptr;
  }
  *fits = fits_with_little_waste(page->reserved, units);
  return take_kept(heap, page);
}

void heap_note_sampled_free(Page* page, void* block) noexcept {
  const SampleHooks* hooks = sample_hooks.load(std::memory_order_acquire);
  if (hooks != nullptr && hooks->freed(block)) page->sampled_blocks.fetch_sub(1, std::memory_order_relaxed);
}

void heap_count_large(Page* page, void* block, std::size_t bytes) noexcept {
  ThreadHeap* heap = thread_heap;
  if (heap == &empty_heap) return;  // a thread that never allocated small blocks is not sampled
  heap->sample_countdown -= static_cast<std::int64_t>(bytes);
  if (sample_due(heap)) [[unlikely]] offer_sample(heap, page, block, bytes, false);
}

void set_sampling(const SampleHooks* hooks, std::size_t mean_interval_bytes) noexcept {
  if (hooks != nullptr) sample_hooks.store(hooks, std::memory_order_release);
  // Blocks recorded earlier keep reporting their free through the old hooks.
  sample_mean_bytes.store(hooks != nullptr ? mean_interval_bytes : 0, std::memory_order_relaxed);
  sample_generation.fetch_add(1, std::memory_order_acq_rel);
}

void heap_publish_all() noexcept {
  heap_publish(thread_heap);
  starter_heaps_publish();
}

void heap_publish(ThreadHeap* heap) noexcept {
  if (heap == &empty_heap) return;
  for (auto& queue : heap->queues) {
    for (Page* page = queue.first; page != nullptr; page = page->next) publish_page(heap, page);
  }
  for (Page* page = heap->full.first; page != nullptr; page = page->next) publish_page(heap, page);
}

void heap_sum_class_counts(std::uint64_t* requests, std::int64_t* live) noexcept {
  for (unsigned size_class = 0; size_class < class_count; ++size_class) {
    requests[size_class] = orphan_requests[size_class].load(std::memory_order_relaxed);
    live[size_class] = orphan_live[size_class].load(std::memory_order_relaxed);
  }
  LockGuard guard(pool_lock);
  for (ThreadHeap* heap = all_heaps; heap != nullptr; heap = heap->all_next) {
    if (!heap->in_use) continue;
    for (unsigned size_class = 0; size_class < class_count; ++size_class) {
      requests[size_class] += heap->class_requests[size_class].load(std::memory_order_relaxed);
      live[size_class] += heap->class_live[size_class].load(std::memory_order_relaxed);
    }
  }
}

void heap_sum_cached_large(std::int64_t* blocks, std::int64_t* bytes) noexcept {
  *blocks = 0;
  *bytes = 0;
  LockGuard guard(pool_lock);
  for (ThreadHeap* heap = all_heaps; heap != nullptr; heap = heap->all_next) {
    if (!heap->in_use || heap->cached_large.load(std::memory_order_acquire) == nullptr) continue;
    *blocks += 1;
    *bytes += static_cast<std::int64_t>(heap->cached_large_bytes.load(std::memory_order_relaxed));
  }
}

std::size_t heap_thread_statistics(ThreadStatistics* out, std::size_t max) noexcept {
  std::size_t found = 0;
  LockGuard guard(pool_lock);
  for (ThreadHeap* heap = all_heaps; heap != nullptr; heap = heap->all_next) {
    if (!heap->in_use) continue;
    if (found < max && out != nullptr) {
      ThreadStatistics& entry = out[found];
      entry = ThreadStatistics{};
      entry.thread_id = heap->thread_id;
      for (unsigned size_class = 0; size_class < class_count; ++size_class) {
        const std::int64_t live = heap->class_live[size_class].load(std::memory_order_relaxed);
        entry.requests_total += heap->class_requests[size_class].load(std::memory_order_relaxed);
        if (live > 0) {
          entry.live_blocks += static_cast<std::uint64_t>(live);
          entry.live_bytes += static_cast<std::uint64_t>(live) * class_size(size_class);
        }
      }
      const std::int64_t pages = heap->page_count.load(std::memory_order_relaxed);
      entry.pages = pages > 0 ? static_cast<std::uint64_t>(pages) : 0;
    }
    ++found;
  }
  return found;
}

// ---- thread exit -------------------------------------------------------------------

void heap_release_thread(bool note_exit) noexcept {
  ThreadHeap* heap = thread_heap;
  if (heap == &empty_heap) return;
  bool has_segments;
  {
    LockGuard guard(heap->slots_lock);  // the purge thread may reorder the list (take_idle_kept_block)
    has_segments = heap->segments != nullptr;
  }
  if (has_segments) {
    // Its segments are about to wait for the delay where only the purge
    // thread reaches them if no thread calls the allocator again: start it
    // now, while this heap still serves pthread_create's allocations.
    purge_thread_note_pending();
    purge_thread_start_if_wanted(true);
  }
  heap_close_delayed(heap);
  evict_kept_block(heap);
  for (unsigned size_class = 0; size_class < class_count; ++size_class) {
    PageQueue& queue = heap->queues[size_class];
    if (heap->current[size_class] != &empty_page) unset_current(heap, heap->current[size_class]);
    while (queue.first != nullptr) {
      Page* page = queue.first;
      queue_remove(queue, page);
      abandon_page(heap, page);
    }
  }
  while (heap->full.first != nullptr) {
    Page* page = heap->full.first;
    queue_remove(heap->full, page);
    abandon_page(heap, page);
  }
  for (;;) {
    Segment* segment;
    {
      OwnSlotsGuard guard(heap);
      segment = heap->segments;
      if (segment == nullptr) break;
      segment_list_remove(heap->segments, segment);
    }
    segment->owner = nullptr;
    if (segment->used_pages == 0) {
      segment_release(segment);
      continue;
    }
    count(&Counters::segments_abandoned, 1);
    segment->abandoned_ms = platform::monotonic_milliseconds();
    purge_thread_note_pending();
    LockGuard guard(abandoned_lock);
    segment->next = abandoned;
    abandoned = segment;
  }
  thread_heap = &empty_heap;
  if (heap->owned) count(&Counters::heaps_in_use, -1);
  {
    LockGuard guard(pool_lock);
    // Under the lock, so that a snapshot counts these once: here or in the heap.
    for (unsigned size_class = 0; size_class < class_count; ++size_class) {
      orphan_requests[size_class].fetch_add(heap->class_requests[size_class].load(std::memory_order_relaxed),
                                            std::memory_order_relaxed);
      orphan_live[size_class].fetch_add(heap->class_live[size_class].load(std::memory_order_relaxed),
                                        std::memory_order_relaxed);
    }
    {
      // After the purge thread's walk lets go of this heap (purge_idle_heaps).
      LockGuard slots(heap->slots_lock);
      heap->in_use = false;
    }
    heap->pool_next = pool_free;
    pool_free = heap;
  }
  // Perhaps the program's last thread: the purge thread must not outlive it.
  if (note_exit) purge_thread_note_thread_exit();
}

// ---- purge -------------------------------------------------------------------------

void heap_look_at_kept_block(ThreadHeap* heap) noexcept {
  if (heap->cached_large.load(std::memory_order_relaxed) == nullptr) return;
  const std::uint32_t puts = heap->cached_large_puts.load(std::memory_order_relaxed);
  if (puts == heap->cached_large_puts_at_check) evict_kept_block(heap);
  heap->cached_large_puts_at_check = puts;
}

/// Abandoned segments one purge check adopts at most: the check runs on an
/// allocation slow path.
constexpr unsigned idle_abandoned_adoptions_per_check = 4;

void heap_adopt_idle_abandoned(ThreadHeap* heap, std::uint64_t now_ms, std::uint64_t delay_ms) noexcept {
  if (!heap->owned) return;  // as adopt_abandoned
  constexpr unsigned most = idle_abandoned_adoptions_per_check;
  // A try: another thread already at the list, or adopting for pages, is
  // as good, and this runs on allocation slow paths.
  if (!abandoned_lock.try_lock()) return;
  // Threads push their segments at the front, so the last ones have waited
  // longest (purge() puts the ones it keeps back in front: they wait for
  // those behind them). One walk keeps the links to the last `most`; the
  // run at the end whose segments all waited the delay is cut off whole.
  Segment** last_links[most];
  std::size_t walked = 0;
  for (Segment** link = &abandoned; *link != nullptr; link = &(*link)->next) last_links[walked++ % most] = link;
  Segment** cut = nullptr;
  for (std::size_t back = 1; back <= most && back <= walked; ++back) {
    Segment** link = last_links[(walked - back) % most];
    if ((*link)->abandoned_ms + delay_ms > now_ms) break;
    cut = link;
  }
  Segment* run = nullptr;
  if (cut != nullptr) {
    run = *cut;
    *cut = nullptr;
  }
  abandoned_lock.unlock();
  while (run != nullptr) {
    Segment* following = run->next;  // adopt_segment relinks it into the heap's list
    adopt_segment(heap, run);
    run = following;
  }
}

bool purge_abandoned(std::uint64_t now_ms, std::uint64_t delay_ms, bool force) noexcept {
  bool waits = false;
  Segment* list;
  {
    LockGuard guard(abandoned_lock);
    list = abandoned;
    abandoned = nullptr;
  }
  // The list goes back in its order (the longest-waiting last, as
  // heap_adopt_idle_abandoned expects), less the segments released.
  Segment* keep = nullptr;
  Segment** keep_end = &keep;
  while (list != nullptr) {
    Segment* segment = list;
    list = segment->next;
    if (force || segment->abandoned_ms + delay_ms <= now_ms) {
      for (unsigned index = 0; index < segment->page_count; ++index) {
        Page* page = &segment->pages[index];
        if ((segment->free_pages >> index & 1) != 0 || !page->in_use) continue;
        const bool lists_grew = page_collect_remote(page) != 0;
        publish_page(nullptr, page);
        if (page->used == 0) {
          segment_return_page(segment, page);
        } else {
          // The free blocks among its survivors (wl-footprint's workers
          // leave about 200 MB so), off the exiting thread's path.
          abandoned_page_purge_free_blocks(page, lists_grew);
        }
      }
      if (segment->used_pages == 0) {
        count(&Counters::segments_abandoned, -1);
        segment_release(segment);
        continue;
      }
      segment_purge_pages(segment, 0, true);
    } else {
      waits = true;
    }
    segment->next = nullptr;
    *keep_end = segment;
    keep_end = &segment->next;
  }
  if (keep != nullptr) {
    // Behind the segments abandoned meanwhile, which have waited less.
    LockGuard guard(abandoned_lock);
    Segment** end = &abandoned;
    while (*end != nullptr) end = &(*end)->next;
    *end = keep;
  }
  return waits;
}

void heap_purge_all() noexcept {
  ThreadHeap* heap = thread_heap;
  if (heap != &empty_heap) {
    heap_process_delayed(heap);
    evict_kept_block(heap);
    // Collect every queued page; return the empty ones, the current included.
    for (unsigned size_class = 0; size_class < class_count; ++size_class) {
      PageQueue& queue = heap->queues[size_class];
      Page* current = heap->current[size_class];
      if (current != &empty_page) unset_current(heap, current);
      for (Page* page = queue.first; page != nullptr;) {
        Page* following = page->next;
        page_collect_remote(page);
        if (page->used == 0) {
          queue_remove(queue, page);
          release_page(heap, page);
        }
        page = following;
      }
      set_current(heap, size_class);
    }
    {
      OwnSlotsGuard guard(heap);
      for (Segment* segment = heap->segments; segment != nullptr; segment = segment->next) {
        segment_purge_pages(segment, 0, true);
      }
    }
    heap_purge_free_blocks(heap, true);
  }
  starter_heaps_purge(0, 0, true);
  purge_abandoned(0, 0, true);
  large_purge(0, true);
  segment_cache_purge(0, true);
}

namespace {

/// The purge thread's look at a live heap's kept block (its slot lock
/// held): one that was there at the last look, with no large block freed
/// since, goes back to its segment, whose free slots the walk then purges
/// like any others once the heap is quiet. The segment stays on the heap's
/// list even when empty (the owner releases segments). True while the
/// owner keeps freeing large blocks into the cache.
bool take_idle_kept_block(ThreadHeap* heap) noexcept {
  if (heap->cached_large.load(std::memory_order_relaxed) == nullptr) return false;
  const std::uint32_t puts = heap->cached_large_puts.load(std::memory_order_relaxed);
  if (puts != heap->cached_large_puts_seen) {
    heap->cached_large_puts_seen = puts;
    return true;
  }
  Page* page = heap->cached_large.exchange(nullptr, std::memory_order_acquire);
  if (page == nullptr) return false;  // the owner took it meanwhile
  Segment* segment = segment_of(page);
  if (!is_heap_span(page)) {
    large_return_run(segment, page);  // under its shard's lock (after this heap's: no path takes them the other way)
    return false;
  }
  const bool was_full = segment->free_pages == 0;
  segment_return_page(segment, page);
  if (was_full) segment_list_move_to_front(heap->segments, segment);
  return false;
}

}  // namespace

HeapsOutlook purge_idle_heaps(std::uint64_t now_ms, std::uint64_t delay_ms) noexcept {
  bool changed = false;
  bool waits = false;
  // Held through the walk: the fork handlers take it first, so no heap's
  // slot lock is held here when a process forks.
  LockGuard walk(idle_purge_lock);
  ThreadHeap* heap;
  {
    LockGuard guard(pool_lock);
    heap = all_heaps;
  }
  for (ThreadHeap* following = nullptr; heap != nullptr; heap = following) {
    {
      // The pool lock only for the look: a heap in use whose slot lock this
      // thread holds cannot go back to the pool (heap_release_thread takes
      // the slot lock to mark it unused), so it is not rebuilt for a new
      // thread meanwhile; the purge itself keeps no other thread waiting.
      LockGuard guard(pool_lock);
      following = heap->all_next;
      if (!heap->in_use) continue;
      if (!heap->slots_lock.try_lock()) {  // an owner at its slots is not idle
        waits = true;
        continue;
      }
    }
    if (take_idle_kept_block(heap)) changed = true;
    bool quiet = false;
    if (heap->slots_watch.moved(heap->slot_changes, now_ms)) {
      changed = true;
    } else {
      // No slot fell free since the count last moved, a delay ago or more.
      quiet = heap->slots_watch.quiet_for(now_ms, delay_ms);
    }
    // One walk: a quiet heap's dirty free slots go; another's make the
    // memory wait (their quiet delay is still running).
    for (Segment* segment = heap->segments; segment != nullptr && (quiet || !waits); segment = segment->next) {
      if (quiet) {
        if (segment->dirty_pages != 0) segment_purge_pages(segment, now_ms, true);
      } else if ((segment->dirty_pages & segment->free_pages) != 0) {
        waits = true;
      }
    }
    heap->slots_lock.unlock();
  }
  if (changed) return HeapsOutlook::changed;
  return waits ? HeapsOutlook::memory_waits : HeapsOutlook::settled;
}

// ---- process -------------------------------------------------------------------------

namespace {
std::atomic<int> process_state{0};  // 0 not started, 1 running, 2 done
}  // namespace

void process_init() noexcept {
  if (process_state.load(std::memory_order_acquire) == 2) return;
  int expected = 0;
  if (!process_state.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) {
    while (process_state.load(std::memory_order_acquire) != 2) platform::yield_processor();
    return;
  }
  process_seed = platform::random_seed();
  load_options_from_environment();
  platform::install_thread_exit_hook(thread_exit_hook);
  platform::install_fork_hooks(heap_fork_prepare, heap_fork_parent, heap_fork_child);
  process_state.store(2, std::memory_order_release);
}

// Lock order: the purge thread's walk of live heaps, starter heaps, heap pool, abandoned
// segments, large shards, huge caches, segment cache.
void heap_fork_prepare() noexcept {
  idle_purge_lock.lock();
  starter_heaps_fork_prepare();
  pool_lock.lock();
  abandoned_lock.lock();
  large_fork_prepare();
  segment_cache_lock();
}

void heap_fork_parent() noexcept {
  segment_cache_unlock();
  large_fork_parent();
  abandoned_lock.unlock();
  pool_lock.unlock();
  starter_heaps_fork_parent();
  idle_purge_lock.unlock();
}

void heap_fork_child() noexcept {
  // Only the forking thread exists in the child. The other threads' heaps
  // stay as they are: their blocks can still be freed (as remote frees).
  // The forking thread is the child's main thread, alive whatever it was in
  // the parent (a fork from a thread-exit destructor).
  heap_released_at_exit = false;
  segment_cache_reset_lock();
  large_fork_child();
  purge_thread_fork_child();
  abandoned_lock.reset();
  pool_lock.reset();
  starter_heaps_fork_child();
  idle_purge_lock.reset();
}

namespace {
// Install the exit key and fork handlers while the process starts, before
// other libraries create pthread keys (so ours is among the first 32 and
// pthread_setspecific never allocates).
[[gnu::constructor(101)]] void initialise_at_load() noexcept { process_init(); }
}  // namespace

}  // namespace globalloc::fast
