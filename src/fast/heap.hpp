// ThreadHeap: one per thread, reached through an initial-exec TLS pointer.
// It owns segments, hands their pages to size classes, and keeps per class a
// queue of pages with free blocks (the first is the "current" page the fast
// path allocates from) plus one queue of full pages. A thread that has not
// allocated yet points at a constant empty heap whose every page has an empty
// free list, so its first allocation takes the slow path, which sets the
// thread up: the fast path never asks "initialised?".
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "fast/lock.hpp"
#include "fast/page.hpp"
#include "fast/quiet_watch.hpp"
#include "fast/segment.hpp"
#include "fast/size_classes.hpp"

namespace globalloc::fast {

struct PageQueue {
  Page* first = nullptr;
  Page* last = nullptr;
};

/// Value of ThreadHeap::delayed_free once the heap is closed (thread exited).
inline constexpr std::uintptr_t delayed_free_closed = 1;

struct ThreadHeap {
  /// direct[(size + 7) / 8] is the current page of that size's class; the
  /// empty page when the class has none.
  Page* direct[direct_entry_count];
  /// natural[(size + 7) / 8] is the current page of the class serving `size`
  /// at its natural alignment (natural_class_of_index): the malloc and
  /// operator new(size) fast path, which then needs no alignment arithmetic.
  Page* natural[direct_entry_count];
  /// current[class]: the same for every class.
  Page* current[class_count];
  PageQueue queues[class_count];  ///< pages with free blocks (or room to carve); first is current
  PageQueue full;                 ///< pages found without free blocks
  /// Blocks freed by other threads into this heap's full pages: a lock-free
  /// stack (links are raw pointers in the blocks' first words).
  std::atomic<std::uintptr_t> delayed_free;
  Segment* segments;  ///< owned segments (small and medium pages), those with free slots first
  /// Guards `segments` (the list) and the slot state of its segments (free,
  /// dirty and expiring slots, the purge deadline) against the purge thread,
  /// which purges the free slots of a heap whose thread stopped calling the
  /// allocator. The owner takes it only where it takes or returns slots, on
  /// slow paths, and never calls out while holding it.
  Lock slots_lock;
  /// Changes the owner made under slots_lock (OwnSlotsGuard): the purge
  /// thread leaves a heap alone while the count moves, and purges it once
  /// the count stood still for a whole delay. The watch after it is the
  /// purge thread's own (written by it alone, under the lock).
  std::uint64_t slot_changes;
  QuietWatch slots_watch;
  /// Slow paths until the next look for idle empty current pages, and what
  /// each class's current page had handed out at the last look.
  std::uint32_t retire_countdown;
  std::uint32_t retire_snapshot[class_count];
  /// Bit c set while class c has a current page: what the look walks.
  std::uint64_t current_classes[2];
  std::uint64_t next_purge_check_ms;
  std::uint32_t purge_check_countdown;  ///< slow paths until the next clock read
  /// Refills from local frees (heap_refill_local) left before the next one
  /// must take the whole slow path (0 in the empty heap).
  std::uint32_t quick_refills;
  std::uintptr_t key_seed;
  /// The large block the owner freed last, kept whole rather than given
  /// back (a span of its slots, or a run of a shared large segment): the
  /// next large allocation of about its size takes it without a lock and
  /// the search for room (a buffer per request: ~90 ns a malloc+free
  /// before). Only the owner puts one here; the owner and the purge thread
  /// take it with an exchange, so that the purge thread can give back the
  /// one of a thread gone idle. Its block counts as freed while it waits
  /// here: page_count leaves it out, and statistics snapshots subtract it
  /// (cached_large_bytes, its size) from the shared large-block counters,
  /// which still count it, so that a free and the next allocation add
  /// nothing to them.
  std::atomic<Page*> cached_large;
  std::atomic<std::size_t> cached_large_bytes;
  /// Blocks the owner put in cached_large (its plain stores): a kept block
  /// that was there at the last look, with nothing put since, goes back at
  /// the next. The owner's purge checks keep the count of their last look
  /// in the first field, the purge thread in the second (written under
  /// slots_lock).
  std::atomic<std::uint32_t> cached_large_puts;
  std::uint32_t cached_large_puts_at_check;
  std::uint32_t cached_large_puts_seen;
  ThreadHeap* pool_next;
  bool in_use;
  bool owned;  ///< a thread's heap; false for a starter heap (starter_heaps.hpp)

  // Statistics, written by the owner only (plain stores of relaxed atomics)
  // when it publishes a page's counts (heap.cpp), read by any thread.
  std::atomic<std::uint64_t> class_requests[class_count];
  std::atomic<std::int64_t> class_live[class_count];
  std::uint64_t thread_id;
  std::atomic<std::int64_t> page_count;  ///< pages the heap holds
  ThreadHeap* all_next;                  ///< every heap ever made, pooled ones too (heap.cpp)

  // Sampling (sampling.hpp): bytes still to hand out before the next sampled
  // allocation, the interval they were drawn as, the sampling generation the
  // draw belongs to, and the state of the draws.
  std::int64_t sample_countdown;
  std::int64_t sample_interval;
  std::uint32_t sample_generation;
  std::uint64_t sample_random;

  /// The constant empty heap every thread starts with.
  constexpr explicit ThreadHeap(Page* empty_page) noexcept
      : direct{}, natural{}, current{}, queues{}, full{}, delayed_free{0}, segments{}, slots_lock{}, slot_changes{0}, slots_watch{}, retire_countdown{0}, retire_snapshot{}, current_classes{}, next_purge_check_ms{0}, purge_check_countdown{0}, quick_refills{0},
        key_seed{0}, cached_large{nullptr}, cached_large_bytes{0}, cached_large_puts{0}, cached_large_puts_at_check{0}, cached_large_puts_seen{0}, pool_next{nullptr}, in_use{false}, owned{false}, class_requests{}, class_live{}, thread_id{0}, page_count{0}, all_next{nullptr},
        sample_countdown{0}, sample_interval{0}, sample_generation{0}, sample_random{0} {
    for (auto& entry : direct) entry = empty_page;
    for (auto& entry : natural) entry = empty_page;
    for (auto& entry : current) entry = empty_page;
  }
};

/// The owner's hold on its heap's slots (ThreadHeap::slots_lock) for one
/// change: taking or returning slots, changing its segment list, its own
/// purge check. Counts the change, so the purge thread sees the heap busy.
class OwnSlotsGuard {
 public:
  explicit OwnSlotsGuard(ThreadHeap* heap) noexcept : guard_(heap->slots_lock) { ++heap->slot_changes; }

 private:
  LockGuard guard_;
};

/// The page with no blocks that every empty slot points to.
[[gnu::visibility("hidden")]] extern constinit Page empty_page;
[[gnu::visibility("hidden")]] extern constinit ThreadHeap empty_heap;

/// The calling thread's heap (the empty heap until its first allocation).
[[gnu::visibility("hidden")]] extern constinit thread_local ThreadHeap* thread_heap
    [[gnu::tls_model("initial-exec")]];

/// A heap that no thread owns (a starter heap, starter_heaps.hpp), from the
/// pool like a thread's; whoever holds its lock acts as its owner.
ThreadHeap* heap_create_unowned() noexcept;
/// Lets such a heap go as an exiting thread's heap is let go (its lock held).
void heap_release_unowned(ThreadHeap* heap) noexcept;

/// Allocation slow path for a size class: sets up the thread if needed,
/// refills the current page or finds another one. Null when out of memory.
[[gnu::noinline]] void* heap_allocate_slow(unsigned size_class) noexcept;

/// Whole slow paths skipped by heap_refill_local between two that run.
inline constexpr std::uint32_t quick_refills_per_slow_path = 7;

/// The refill most slow paths are: `page`, a current page of the calling
/// thread (or the empty page) whose `free` list ran dry, has blocks its owner
/// freed into `local_free`; they become the free list and the block comes
/// off it here, without the class lookup, statistics, sampling and purge
/// checks of the whole slow path. Every quick_refills_per_slow_path + 1-th
/// refill (and any other case) returns null, and the caller takes the whole
/// slow path, which does that work for the refills it skipped: the counts
/// live in the page until it publishes them. (wl-larson: the slow path took
/// 8.6% of the instructions, about 200 per refill.)
[[gnu::always_inline]] inline void* heap_refill_local(Page* page) noexcept {
  ThreadHeap* heap = thread_heap;
  if (page->local_free == page->sentinel() || heap->quick_refills == 0) return nullptr;
  --heap->quick_refills;
  page_collect_local(page);
  return page_hand_out(page);
}

/// Free path for blocks the fast path could not take (a full page of this
/// heap, another heap's page, a large or huge block, misuse).
[[gnu::noinline]] void free_slow(Page* page, void* block) noexcept;

/// A local free whose page became empty (not the current page): give it back.
[[gnu::noinline]] void heap_page_emptied(ThreadHeap* heap, Page* page) noexcept;

/// A large block (`rounded` bytes, whole OS pages, alignment at most a
/// slot) made of free slots of the calling thread's segments, when a span
/// of them is still entirely resident: memory that small and medium pages
/// gave back then serves large blocks without page faults or growth, and
/// the other way round once it is freed. Null when no such span exists (the
/// caller uses the shared large segments).
void* heap_allocate_large(std::size_t rounded, bool zero, std::size_t size) noexcept;

/// Resizes a large block of a heap's slots to `rounded` bytes (whole OS
/// pages) without moving it, growing over free slots after it (only its
/// owner thread may); returns the usable size afterwards, the old one when
/// it cannot. Reached through large_resize_in_place.
std::size_t heap_resize_large(Page* page, std::size_t rounded) noexcept;

/// A large block of a shared large segment (`page`, its first unit's
/// descriptor), freed by the calling thread: its heap keeps the run in
/// cached_large for its next large block of about that size. False when
/// the thread has no heap or nothing may wait (purge delay 0): the caller
/// returns the run.
bool heap_keep_large_run(Page* page) noexcept;

/// The run of a large segment the calling thread keeps, taken, when it
/// starts on `alignment`; null otherwise (a kept block of no use goes
/// back). `*fits` says whether it holds `units` units with at most a
/// quarter left over; if not, the caller cuts or grows it, or returns it.
/// Its block is set up by the caller.
Page* heap_take_kept_run(unsigned units, std::size_t alignment, bool* fits) noexcept;

/// Frees a block of one of `heap`'s pages from the owning thread (used by the
/// delayed-free list and the slow paths).
void heap_free_local(ThreadHeap* heap, Page* page, Block* block) noexcept;

/// Counts `bytes` of large or huge allocation against the calling thread's
/// sampling countdown and, when it runs out, offers the block to the
/// profiler (marking its page when recorded).
void heap_count_large(Page* page, void* block, std::size_t bytes) noexcept;

/// A block of a page with recorded blocks is being freed: tells the
/// profiler, and counts it off the page when it was one of them.
[[gnu::noinline]] void heap_note_sampled_free(Page* page, void* block) noexcept;

/// Publishes the calling thread's per-class counts of all its pages, and
/// the starter heaps', so that a snapshot taken now is exact for them.
void heap_publish_all() noexcept;
/// The same for one heap, whose owner the caller is (a starter heap's lock held).
void heap_publish(ThreadHeap* heap) noexcept;

/// Sums every heap's published per-class counts (exited threads' included).
void heap_sum_class_counts(std::uint64_t* requests, std::int64_t* live) noexcept;

/// The large blocks (and their bytes) that threads freed and keep in their
/// heaps' cached_large: freed, though the large-block counters count them.
void heap_sum_cached_large(std::int64_t* blocks, std::int64_t* bytes) noexcept;

/// Figures of each thread that has a heap now (stats.hpp's ThreadStatistics).
struct ThreadStatistics;
std::size_t heap_thread_statistics(ThreadStatistics* out, std::size_t max) noexcept;

/// Hands every page and segment of the calling thread's heap back (thread
/// exit). `note_exit`: tell the purge thread that a thread is leaving; false
/// for a heap taken after the thread's exit hook already sent that note.
void heap_release_thread(bool note_exit = true) noexcept;

/// A purge check's look at the owner's kept large block (cached_large):
/// it goes back when it was there at the last look and no large block was
/// kept since.
void heap_look_at_kept_block(ThreadHeap* heap) noexcept;

/// purge(): collects and returns everything the calling thread can.
void heap_purge_all() noexcept;
/// Segments that finished threads left behind and that no thread took over
/// for pages within the purge delay (`delay_ms`): adopted by `heap`, a few
/// per call, so that its purges give their free pages and the free blocks of
/// their pages back to the OS. Otherwise they would stay resident until a
/// thread ran short of pages or purge() was called. Called by heap_maybe_purge.
void heap_adopt_idle_abandoned(ThreadHeap* heap, std::uint64_t now_ms, std::uint64_t delay_ms) noexcept;

/// The segments finished threads left behind that waited `delay_ms` (all
/// of them with `force`): takes in their remote frees, returns their empty
/// pages, releases the segments left empty and purges the free pages of the
/// others, which stay on the list. purge() and the purge thread call it.
/// True when some segment has not waited its delay yet.
bool purge_abandoned(std::uint64_t now_ms, std::uint64_t delay_ms, bool force) noexcept;

/// The purge thread's look at live threads' heaps: purges every free slot
/// of the segments of a heap whose owner made no change to its slots for
/// `delay_ms` (a thread that stopped calling the allocator, or calls only
/// its fast paths), so each of those slots has been free that long. A heap
/// whose owner is busy with its slots is left to the owner's own purge
/// checks: purging what it is about to take again would cost page faults.
/// Its pages stay as they are.
enum class HeapsOutlook {
  settled,       ///< no heap has a free slot left to purge
  memory_waits,  ///< some heap's free slots wait (or its owner held the lock)
  changed,       ///< some heap's slots changed since the last call: it may go quiet next
};
HeapsOutlook purge_idle_heaps(std::uint64_t now_ms, std::uint64_t delay_ms) noexcept;

/// Process set-up (options, exit hook, fork hooks); idempotent.
void process_init() noexcept;

/// Fork support: take and release every lock of the heap layer, in order.
void heap_fork_prepare() noexcept;
void heap_fork_parent() noexcept;
void heap_fork_child() noexcept;

}  // namespace globalloc::fast
