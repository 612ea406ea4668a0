// The hardened allocator's per-thread state: the thread's quarantine (a ring
// of freed blocks that wait, filled, before the fast allocator may reuse
// them, and a second, short ring with a byte budget of its own for blocks
// too large for the first one) and its shuffle buffers (a few candidate
// blocks per small size, from which each allocation takes one at random, so
// the order in which a program gets its blocks cannot be predicted). Per
// thread, so neither path takes a lock or an atomic read-modify-write.
//
// Every thread starts on a constant empty cache whose ring has no capacity
// and whose buckets are not filled: the first allocation or free falls into
// a slow path that gives the thread a cache of its own (mimalloc's empty-heap
// idea), so the fast paths carry no "initialised?" test. A thread_local with
// a destructor flushes the cache when the thread exits.
#pragma once

#include <cstddef>
#include <cstdint>

#include "hardening/block_header.hpp"

namespace globalloc::hardening {

/// Candidates a shuffle bucket holds at most; an allocation picks among more
/// than shuffle_min of them, else the bucket is filled up first.
inline constexpr unsigned shuffle_slots = 32;
inline constexpr unsigned shuffle_min = 4;
/// A bucket is filled up to this many from the fast allocator, leaving room
/// for blocks that come back from the quarantine.
inline constexpr unsigned shuffle_fill = 12;
/// Buckets are this many bytes apart in the fast allocator's block size.
inline constexpr std::size_t shuffle_granule = 16;
/// The largest fast-allocator block (header, block and canary) that is shuffled.
inline constexpr std::size_t shuffle_max_inner = 1024;
inline constexpr unsigned shuffle_buckets = shuffle_max_inner / shuffle_granule + 1;
/// Blocks a thread's quarantine holds at most (a power of two).
inline constexpr unsigned quarantine_capacity = 128;
/// The option quarantine_bytes is split among this many threads' rings.
inline constexpr unsigned quarantine_share = 8;
/// Blocks the mid-size ring holds at most (a power of two): blocks larger
/// than the main ring's hold limit (a quarter of its budget, 16 KiB by
/// default) and below the guarded size (64 KiB), whose guarded-region cache
/// is their quarantine.
inline constexpr unsigned mid_quarantine_capacity = 16;
static_assert((mid_quarantine_capacity & (mid_quarantine_capacity - 1)) == 0);
/// The mid-size ring's byte budget, in main-ring budgets (256 KiB per
/// thread by default). A block larger than the budget is still held, alone.
inline constexpr unsigned mid_quarantine_budgets = 4;

struct QuarantineEntry {
  void* block;
  std::size_t bytes;
};

struct ThreadCache {
  std::uint64_t random_state;
  // The quarantine: a FIFO ring. capacity is 0 in the empty cache.
  unsigned head;
  unsigned count;
  unsigned capacity;
  bool zero_on_free;
  std::size_t bytes;
  std::size_t budget;
  std::size_t hold_limit;  // budget / 4: larger blocks are not held
  // Frees of blocks smaller than this (at the default offset) take the
  // quick path: fill the first bytes, hold, recycle the oldest. 0 in the
  // empty cache and with zero_on_free (which fills every byte).
  std::size_t quick_free_limit;
  // candidates[b][0 .. bucket_count[b]): fast-allocator blocks of at least
  // b * shuffle_granule bytes, back from the quarantine or fresh (made to
  // look the same: a freed header, its first bytes filled; see
  // check_candidate).
  std::uint8_t bucket_count[shuffle_buckets];
  void* candidates[shuffle_buckets][shuffle_slots];
  QuarantineEntry ring[quarantine_capacity];
  // The mid-size ring: blocks larger than hold_limit, oldest first, at most
  // mid_budget bytes (and one block more, when a single block exceeds it).
  // Only the slow free path and flushes touch it, so it sits after the hot
  // fields. mid_budget is 0 (nothing held) when the quarantine is off.
  unsigned mid_head;
  unsigned mid_count;
  std::size_t mid_bytes;
  std::size_t mid_budget;
  QuarantineEntry mid_ring[mid_quarantine_capacity];
};

/// The bytes a thread's quarantine may hold, the largest block it holds, and
/// whether freed blocks are zeroed entirely.
inline void set_quarantine_budget(ThreadCache& cache, std::size_t total_bytes, bool zero_on_free) noexcept {
  cache.budget = total_bytes / quarantine_share;
  cache.hold_limit = cache.budget / 4;
  cache.mid_budget = cache.capacity == 0 ? 0 : cache.budget * mid_quarantine_budgets;
  cache.zero_on_free = zero_on_free;
  // The quick path holds blocks that are shuffled (so recycled into a bucket)
  // and whose header and bytes fit the hold limit.
  constexpr std::size_t shuffled_max = shuffle_max_inner - sizeof(Header) - canary_size;
  const std::size_t held_max = cache.hold_limit > sizeof(Header) ? cache.hold_limit - sizeof(Header) : 0;
  const std::size_t quick_max = held_max < shuffled_max ? held_max : shuffled_max;
  cache.quick_free_limit = zero_on_free || cache.capacity == 0 || held_max == 0 ? 0 : quick_max + 1;
}

/// The cache every thread starts on: nothing filled, no quarantine room; never written.
[[gnu::visibility("hidden")]] extern constinit ThreadCache empty_cache;

[[gnu::visibility("hidden")]] extern constinit thread_local ThreadCache* current_cache
    [[gnu::tls_model("initial-exec")]];

/// Asks the fast allocator for an inaccessible page between each segment's
/// metadata and its first block (segments mapped from now on). Called before
/// the hardened allocator's first use of the fast allocator.
[[gnu::visibility("hidden")]] void enable_metadata_guards() noexcept;

/// The calling thread's cache, created on first use; null while the thread
/// cannot have one (while it is being created, and after the thread's exit
/// flush): the caller then serves the request without shuffle or quarantine.
[[gnu::visibility("hidden")]] ThreadCache* thread_cache_create() noexcept;

/// The low bit of a quarantine entry: the block (small, at the default
/// offset) becomes a candidate of its bucket when it leaves, and is checked
/// when an allocation takes it (blocks are 16-aligned).
inline constexpr std::uintptr_t recyclable_mark = 1;

/// A quarantined block leaves (held as `bytes`; `entry` may carry
/// recyclable_mark): kept, unchecked, as a candidate of `recycle_into` when
/// it is recyclable and its bucket has room (null: never), else checked and
/// given back to the fast allocator. Defined by the allocator
/// (hardened_allocator.cpp).
[[gnu::visibility("hidden")]] void release_quarantined(ThreadCache* recycle_into, void* entry,
                                                      std::size_t bytes) noexcept;

/// A candidate's fast-allocator block, checked first (a write into it
/// while it waited is reported).
[[gnu::visibility("hidden")]] void* check_candidate(void* candidate, unsigned bucket) noexcept;

/// The next pseudo-random 64 bits of the thread: a 64-bit linear
/// congruential generator (Knuth's MMIX constants), seeded from the process
/// secret and the cache's address. Callers use the high bits, which are the
/// good ones. Two instructions instead of xorshift64*'s eleven; neither is
/// meant to resist an attacker who sees the sequence of addresses.
inline std::uint64_t next_random(ThreadCache& cache) noexcept {
  const std::uint64_t x = cache.random_state * 6364136223846793005ull + 1442695040888963407ull;
  cache.random_state = x;
  return x;
}

/// Takes the oldest entry off the main ring (count > 0), keeping its byte count.
inline QuarantineEntry quarantine_take_oldest(ThreadCache& cache) noexcept {
  const QuarantineEntry oldest = cache.ring[cache.head];
  cache.head = (cache.head + 1) & (quarantine_capacity - 1);
  --cache.count;
  cache.bytes -= oldest.bytes;
  return oldest;
}

/// Puts a freed (already filled) block of `bytes` (at most hold_limit, and
/// more than 0) into the quarantine, releasing the oldest ones to stay within
/// capacity and budget.
inline void quarantine_hold(ThreadCache& cache, void* block, std::size_t bytes) noexcept {
  while (cache.count > 0 && (cache.count == cache.capacity || cache.bytes + bytes > cache.budget)) {
    const QuarantineEntry oldest = quarantine_take_oldest(cache);
    release_quarantined(&cache, oldest.block, oldest.bytes);
  }
  cache.ring[(cache.head + cache.count) & (quarantine_capacity - 1)] = QuarantineEntry{block, bytes};
  ++cache.count;
  cache.bytes += bytes;
}

/// Checks and frees the oldest block of the mid-size ring (mid_count > 0).
inline void mid_quarantine_release_oldest(ThreadCache& cache) noexcept {
  const QuarantineEntry oldest = cache.mid_ring[cache.mid_head];
  cache.mid_head = (cache.mid_head + 1) & (mid_quarantine_capacity - 1);
  --cache.mid_count;
  cache.mid_bytes -= oldest.bytes;
  release_quarantined(nullptr, oldest.block, oldest.bytes);
}

/// Puts a freed (already filled) block of `bytes`, larger than hold_limit,
/// into the mid-size ring (mid_budget more than 0), releasing the oldest
/// ones to stay within its capacity and budget; the new block stays even
/// when it alone exceeds the budget. Its blocks are not recycled into the
/// shuffle buckets: each is checked when it leaves and goes back to the
/// fast allocator.
inline void mid_quarantine_hold(ThreadCache& cache, void* block, std::size_t bytes) noexcept {
  while (cache.mid_count > 0 &&
         (cache.mid_count == mid_quarantine_capacity || cache.mid_bytes + bytes > cache.mid_budget)) {
    mid_quarantine_release_oldest(cache);
  }
  cache.mid_ring[(cache.mid_head + cache.mid_count) & (mid_quarantine_capacity - 1)] = QuarantineEntry{block, bytes};
  ++cache.mid_count;
  cache.mid_bytes += bytes;
}

/// Releases every block of the calling thread's quarantine.
void quarantine_flush_this_thread() noexcept;
/// Sets the calling thread's quarantine budget (the option is set by the caller).
void quarantine_set_this_thread(std::size_t total_bytes, bool zero_on_free) noexcept;

}  // namespace globalloc::hardening
