// Sharded ring buffers of freed blocks; see quarantine.hpp.
#include "hardening/quarantine.hpp"

#include <atomic>
#include <cstdint>

#include "options/options.hpp"
#include "platform/threads.hpp"

namespace globalloc::hardening {
namespace {

constexpr unsigned shard_count = 8;
// Small rings: a long quarantine keeps freed memory out of the caches and
// costs more than the few extra frees it would catch.
constexpr unsigned ring_capacity = 128;
static_assert((ring_capacity & (ring_capacity - 1)) == 0, "ring indices wrap with a mask");

struct Entry {
  void* block = nullptr;
  std::size_t size = 0;
};

struct alignas(64) Shard {
  std::atomic_flag locked = ATOMIC_FLAG_INIT;
  unsigned head = 0;   // oldest entry
  unsigned count = 0;
  std::size_t bytes = 0;
  Entry ring[ring_capacity];

  void lock() noexcept {
    unsigned spins = 0;
    while (locked.test_and_set(std::memory_order_acquire)) {
      if (++spins > 64) platform::yield_processor();
    }
  }
  void unlock() noexcept { locked.clear(std::memory_order_release); }
};

constinit Shard shards[shard_count];

// A shard per thread, handed out round-robin the first time a thread frees,
// so threads rarely share a lock (hashing thread addresses does not spread:
// thread stacks sit at the same offsets of equal-sized mappings).
constinit std::atomic<unsigned> next_shard{0};

Shard& shard_of_this_thread() noexcept {
  static thread_local constinit unsigned assigned [[gnu::tls_model("initial-exec")]] = 0;
  if (assigned == 0) [[unlikely]] {
    assigned = next_shard.fetch_add(1, std::memory_order_relaxed) % shard_count + 1;
  }
  return shards[assigned - 1];
}

}  // namespace

bool quarantine_hold(void* user_block, std::size_t size, ReleaseFunction release) noexcept {
  const std::size_t budget =
      static_cast<std::size_t>(options::value(options::Option::quarantine_bytes)) / shard_count;
  if (size > budget / 4) return false;

  // At most two blocks leave per block that enters, so the bytes held stay
  // under budget; they are released after the lock is dropped.
  void* evicted[2];
  unsigned evicted_count = 0;
  Shard& shard = shard_of_this_thread();
  shard.lock();
  while (evicted_count < 2 && shard.count > 0 && (shard.count == ring_capacity || shard.bytes + size > budget)) {
    const Entry& oldest = shard.ring[shard.head];
    evicted[evicted_count++] = oldest.block;
    shard.bytes -= oldest.size;
    shard.head = (shard.head + 1) & (ring_capacity - 1);
    --shard.count;
  }
  const bool held = shard.count < ring_capacity && shard.bytes + size <= budget;
  if (held) {
    shard.ring[(shard.head + shard.count) & (ring_capacity - 1)] = Entry{user_block, size};
    ++shard.count;
    shard.bytes += size;
  }
  shard.unlock();
  for (unsigned i = 0; i < evicted_count; ++i) release(evicted[i]);
  return held;
}

void quarantine_flush(ReleaseFunction release) noexcept {
  for (Shard& shard : shards) {
    for (;;) {
      shard.lock();
      if (shard.count == 0) {
        shard.unlock();
        break;
      }
      Entry entry = shard.ring[shard.head];
      shard.head = (shard.head + 1) & (ring_capacity - 1);
      --shard.count;
      shard.bytes -= entry.size;
      shard.unlock();
      release(entry.block);
    }
  }
}

void quarantine_set_budget(std::size_t bytes) noexcept {
  options::set(options::Option::quarantine_bytes, static_cast<long>(bytes));
}

}  // namespace globalloc::hardening
