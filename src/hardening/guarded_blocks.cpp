// The guarded-block registry: an open-addressing table keyed by the block's
// address, under one spin lock (guarded blocks are large, so they are few and
// their operations rare next to the page faults they cost anyway).
#include "hardening/guarded_blocks.hpp"

#include <atomic>
#include <cstdint>

#include "platform/memory_protection.hpp"
#include "platform/os_memory.hpp"
#include "platform/threads.hpp"

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
  std::atomic_flag locked = ATOMIC_FLAG_INIT;
  std::size_t live = 0;
  std::size_t used = 0;  // live entries and tombstones
  Entry entries[table_capacity];

  void lock() noexcept {
    unsigned spins = 0;
    while (locked.test_and_set(std::memory_order_acquire)) {
      if (++spins > 64) platform::yield_processor();
    }
  }
  void unlock() noexcept { locked.clear(std::memory_order_release); }
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

bool insert(void* block, void* region, std::size_t region_size) noexcept {
  registry.lock();
  if (registry.live >= table_limit) {
    registry.unlock();
    return false;
  }
  if (registry.used >= table_limit) rebuild();
  std::size_t slot = slot_of(block);
  while (registry.entries[slot].block != nullptr && registry.entries[slot].block != tombstone) {
    slot = (slot + 1) & (table_capacity - 1);
  }
  if (registry.entries[slot].block == nullptr) ++registry.used;
  registry.entries[slot] = Entry{block, region, region_size};
  ++registry.live;
  registry.unlock();
  return true;
}

}  // namespace

void* guarded_map(std::size_t before, std::size_t size, std::size_t align) noexcept {
  const std::size_t page = platform::page_size();
  if (align < 16) align = 16;
  if (size > (std::size_t{1} << 46) || before > page || align > (std::size_t{1} << 30)) return nullptr;
  // guard | room for the header and the alignment | block | guard
  const std::size_t inside = (before + align + size + page - 1) & ~(page - 1);
  const std::size_t region_size = inside + 2 * page;
  char* region = static_cast<char*>(platform::reserve_aligned(region_size, page));
  if (region == nullptr) return nullptr;
  char* trailing_guard = region + page + inside;
  auto block_address = (reinterpret_cast<std::uintptr_t>(trailing_guard) - size) & ~(std::uintptr_t{align} - 1);
  char* block = reinterpret_cast<char*>(block_address);
  if (!platform::protect_no_access(region, page) || !platform::protect_no_access(trailing_guard, page) ||
      !insert(block, region, region_size)) {
    platform::release(region, region_size);
    return nullptr;
  }
  return block;
}

bool guarded_is_registered(const void* block) noexcept {
  registry.lock();
  const bool found = find(block) != nullptr;
  registry.unlock();
  return found;
}

bool guarded_unmap(void* block) noexcept {
  registry.lock();
  Entry* entry = find(block);
  if (entry == nullptr) {
    registry.unlock();
    return false;
  }
  const Entry removed = *entry;
  entry->block = tombstone;
  --registry.live;
  registry.unlock();
  platform::release(removed.region, removed.region_size);
  return true;
}

}  // namespace globalloc::hardening
