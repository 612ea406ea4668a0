// The guarded-block registry: an open-addressing table keyed by the block's
// address, and the cache of freed regions, under one lock (guarded
// blocks are large, so they are few and their operations rare next to the
// page faults they cost anyway).
#include "hardening/guarded_blocks.hpp"

#include <pthread.h>

#include <atomic>
#include <cstdint>

#include "fast/lock.hpp"
#include "fast/recent_ranges.hpp"
#include "options/options.hpp"
#include "platform/clock.hpp"
#include "platform/memory_protection.hpp"
#include "platform/os_memory.hpp"

namespace globalloc::hardening {
namespace {

constexpr std::size_t table_capacity = 4096;  // a power of two
constexpr std::size_t table_limit = table_capacity / 2;
const auto tombstone = reinterpret_cast<void*>(std::uintptr_t{1});

struct Entry {
  void* block = nullptr;  // null: never used; tombstone: removed
  void* region = nullptr;
  std::size_t region_size = 0;
};

struct Registry {
  fast::Lock mutex;  // the fast allocator's lock: spins, then sleeps
  std::size_t live = 0;
  std::size_t used = 0;  // live entries and tombstones
  Entry entries[table_capacity];

  void lock() noexcept { mutex.lock(); }
  void unlock() noexcept { mutex.unlock(); }
};
constinit Registry registry;

std::size_t slot_of(const void* block) noexcept {
  auto key = reinterpret_cast<std::uintptr_t>(block) >> 4;
  key *= 0x9E3779B97F4A7C15ull;
  return static_cast<std::size_t>(key >> 52) & (table_capacity - 1);
}

// The entry holding `block`, or null; the lock is held.
Entry* find(const void* block) noexcept {
  for (std::size_t probe = 0, slot = slot_of(block); probe < table_capacity;
       ++probe, slot = (slot + 1) & (table_capacity - 1)) {
    Entry& entry = registry.entries[slot];
    if (entry.block == nullptr) return nullptr;
    if (entry.block == block) return &entry;
  }
  return nullptr;
}

// Empties the table's tombstones by reinserting the live entries; the lock is held.
void rebuild() noexcept {
  Entry live[table_limit];
  std::size_t count = 0;
  for (Entry& entry : registry.entries) {
    if (entry.block != nullptr && entry.block != tombstone && count < table_limit) live[count++] = entry;
    entry = Entry{};
  }
  registry.used = 0;
  for (std::size_t i = 0; i < count; ++i) {
    std::size_t slot = slot_of(live[i].block);
    while (registry.entries[slot].block != nullptr) slot = (slot + 1) & (table_capacity - 1);
    registry.entries[slot] = live[i];
    ++registry.used;
  }
}

// Adds an entry; the lock is held. False when the table is full.
bool insert_locked(void* block, void* region, std::size_t region_size) noexcept {
  if (registry.live >= table_limit) return false;
  if (registry.used >= table_limit) rebuild();
  std::size_t slot = slot_of(block);
  while (registry.entries[slot].block != nullptr && registry.entries[slot].block != tombstone) {
    slot = (slot + 1) & (table_capacity - 1);
  }
  if (registry.entries[slot].block == nullptr) ++registry.used;
  registry.entries[slot] = Entry{block, region, region_size};
  ++registry.live;
  return true;
}

void remove_locked(Entry* entry) noexcept {
  entry->block = tombstone;
  --registry.live;
}

// The last freed blocks that are no longer registered: their regions were
// unmapped (too large for the cache, or pushed out of it), or serve a block
// that starts elsewhere. A second free of one finds no registry entry and
// would read as a foreign pointer. Each is noted as the
// one-byte range of its start (the pointer a free passes); the lock is held.
constinit fast::RecentRanges<256> unmapped;

void unregister_freed_locked(Entry* entry) noexcept {
  const auto block = reinterpret_cast<std::uintptr_t>(entry->block);
  unmapped.note(block, block + 1);
  remove_locked(entry);
}

// ---- the cache of freed regions: FIFO, bounded in count and bytes ----

constexpr unsigned cache_capacity = 32;
constexpr std::size_t cache_byte_limit = 64u << 20;

struct CachedRegion {
  void* block;  // the freed block, still registered
  void* region;
  std::size_t region_size;
  std::uint64_t freed_at_ms;
  bool purged;  // its pages past the first were given back to the OS
};

struct Cache {
  CachedRegion regions[cache_capacity] = {};  // oldest first
  unsigned count = 0;
  std::size_t bytes = 0;
};
constinit Cache cache;

CachedRegion take_locked(unsigned index) noexcept {
  const CachedRegion taken = cache.regions[index];
  for (unsigned i = index + 1; i < cache.count; ++i) cache.regions[i - 1] = cache.regions[i];
  --cache.count;
  cache.bytes -= taken.region_size;
  return taken;
}

std::size_t region_size_for(std::size_t before, std::size_t size, std::size_t align) noexcept {
  const std::size_t page = platform::page_size();
  return ((before + align + size + page - 1) & ~(page - 1)) + 2 * page;
}

// Where a block of `size` aligned to `align` sits in a region: its end meets the trailing guard.
char* block_in_region(void* region, std::size_t region_size, std::size_t size, std::size_t align) noexcept {
  const std::size_t page = platform::page_size();
  char* trailing_guard = static_cast<char*>(region) + region_size - page;
  return reinterpret_cast<char*>((reinterpret_cast<std::uintptr_t>(trailing_guard) - size) & ~(std::uintptr_t{align} - 1));
}

// A region leaves the cache for good: its freed block is checked, then unregistered and unmapped.
void unmap_cached(const CachedRegion& region) noexcept {
  if (!region.purged) check_freed_guarded_block(region.block);
  registry.lock();
  if (Entry* entry = find(region.block)) unregister_freed_locked(entry);
  registry.unlock();
  platform::release(region.region, region.region_size);
}

// Regions that waited longer than the purge delay give their pages back to
// the OS (all but the page that holds the block's header and checked bytes);
// the lock is held.
void purge_old_locked(std::uint64_t now_ms) noexcept {
  const auto delay = static_cast<std::uint64_t>(options::value(options::Option::purge_delay_ms));
  const std::size_t page = platform::page_size();
  for (unsigned i = 0; i < cache.count; ++i) {
    CachedRegion& region = cache.regions[i];
    if (region.purged || now_ms - region.freed_at_ms < delay) continue;
    check_freed_guarded_block(region.block);
    const std::uintptr_t keep_to = (reinterpret_cast<std::uintptr_t>(region.block) + 256 + page - 1) & ~(page - 1);
    const std::uintptr_t end = reinterpret_cast<std::uintptr_t>(region.region) + region.region_size - page;
    if (keep_to < end) platform::discard(reinterpret_cast<void*>(keep_to), end - keep_to);
    region.purged = true;
  }
}

// fork() while another thread holds the registry lock would leave it taken
// in the child: the forking thread takes it first and releases it on both
// sides. The registry never takes another lock while holding its own, so its
// place in the order of fork handlers does not matter.
void fork_prepare() noexcept { registry.lock(); }
void fork_parent() noexcept { registry.unlock(); }
void fork_child() noexcept { registry.mutex.reset(); }

void install_fork_handlers_once() noexcept {
  static constinit std::atomic<bool> installed{false};
  if (installed.load(std::memory_order_acquire) || installed.exchange(true, std::memory_order_acq_rel)) return;
  // pthread_atfork fills a static table in glibc and does not allocate.
  ::pthread_atfork(fork_prepare, fork_parent, fork_child);
}

}  // namespace

/// Blocks from this size on ask for huge pages: those the fast allocator
/// gives a mapping of their own (above a segment, 4 MiB), so the two builds
/// agree on what the option huge_pages covers.
constexpr std::size_t huge_page_min_block = std::size_t{4} << 20;

void* guarded_map(std::size_t before, std::size_t size, std::size_t align, bool* fresh) noexcept {
  install_fork_handlers_once();
  const std::size_t page = platform::page_size();
  if (align < 16) align = 16;
  if (size > (std::size_t{1} << 46) || before > page || align > (std::size_t{1} << 30)) return nullptr;
  // guard | room for the header and the alignment | block | guard
  const std::size_t region_size = region_size_for(before, size, align);

  // A cached region of at least that size and at most four times as large,
  // the oldest first. The block sits at its end, against the trailing guard;
  // the room left in front of the header is the region's own (an underflow
  // runs through it into the leading guard, never into another block), and
  // stays as resident as the previous block left it. (At most half as large
  // again, one block in seven of wl-large's, whose sizes spread over seven
  // doublings, found no region and mapped fresh memory, each page faulted in:
  // 39-42K faults against 25-33K now, and no higher peak RSS, since fewer
  // regions are mapped. Giving the room's pages back instead made the next,
  // larger block fault them in again: 70K faults.)
  registry.lock();
  for (unsigned i = 0; i < cache.count; ++i) {
    const CachedRegion& candidate = cache.regions[i];
    if (candidate.region_size < region_size || candidate.region_size - region_size > 3 * region_size) continue;
    const CachedRegion taken = take_locked(i);
    char* block = block_in_region(taken.region, taken.region_size, size, align);
    // The freed block's pointer stays stale when the new block starts
    // elsewhere in the region: a free of it is a double free, not a foreign pointer.
    if (Entry* old_entry = find(taken.block)) {
      if (taken.block == block) {
        remove_locked(old_entry);
      } else {
        unregister_freed_locked(old_entry);
      }
    }
    const bool registered = insert_locked(block, taken.region, taken.region_size);
    registry.unlock();
    // Nobody may have written into the freed block while it waited.
    if (!taken.purged) check_freed_guarded_block(taken.block);
    if (!registered) {
      platform::release(taken.region, taken.region_size);
      return nullptr;
    }
    *fresh = false;
    return block;
  }
  registry.unlock();

  char* region = static_cast<char*>(platform::reserve_aligned(region_size, page));
  if (region == nullptr) return nullptr;
  // As the fast allocator does for its huge blocks (option huge_pages): the
  // whole 2 MiB ranges between the guards get transparent huge pages. The
  // advice stays with the region when the cache hands it to a later block.
  if (size >= huge_page_min_block && options::value(options::Option::huge_pages) != 0) {
    platform::advise_huge_pages(region + page, region_size - 2 * page);
  }
  char* block = block_in_region(region, region_size, size, align);
  if (!platform::protect_no_access(region, page) ||
      !platform::protect_no_access(region + region_size - page, page)) {
    platform::release(region, region_size);
    return nullptr;
  }
  registry.lock();
  const bool registered = insert_locked(block, region, region_size);
  registry.unlock();
  if (!registered) {
    platform::release(region, region_size);
    return nullptr;
  }
  *fresh = true;
  return block;
}

bool guarded_is_registered(const void* block) noexcept {
  registry.lock();
  const bool found = find(block) != nullptr;
  registry.unlock();
  return found;
}

bool guarded_was_unmapped(const void* block) noexcept {
  registry.lock();
  const bool found = unmapped.contains(reinterpret_cast<std::uintptr_t>(block));
  registry.unlock();
  return found;
}

bool guarded_free(void* block) noexcept {
  CachedRegion evicted[cache_capacity];
  unsigned evicted_count = 0;
  registry.lock();
  Entry* entry = find(block);
  if (entry == nullptr) {
    registry.unlock();
    return false;
  }
  const CachedRegion freed{block, entry->region, entry->region_size, platform::monotonic_milliseconds(), false};
  if (freed.region_size > cache_byte_limit / 4) {
    // Too large to cache: unmapped now.
    unregister_freed_locked(entry);
    registry.unlock();
    platform::release(freed.region, freed.region_size);
    return true;
  }
  while (cache.count > 0 && (cache.count == cache_capacity || cache.bytes + freed.region_size > cache_byte_limit)) {
    evicted[evicted_count++] = take_locked(0);
  }
  cache.regions[cache.count++] = freed;
  cache.bytes += freed.region_size;
  purge_old_locked(freed.freed_at_ms);
  registry.unlock();
  for (unsigned i = 0; i < evicted_count; ++i) unmap_cached(evicted[i]);
  return true;
}

void guarded_flush_cache() noexcept {
  for (;;) {
    registry.lock();
    if (cache.count == 0) {
      registry.unlock();
      return;
    }
    const CachedRegion oldest = take_locked(0);
    registry.unlock();
    unmap_cached(oldest);
  }
}

}  // namespace globalloc::hardening
