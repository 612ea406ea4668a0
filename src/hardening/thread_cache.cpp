// Creating, flushing and tearing down the hardened allocator's per-thread
// caches; see thread_cache.hpp.
#include "hardening/thread_cache.hpp"

#include <atomic>
#include <cstring>
#include <new>

#include "fast/segment.hpp"
#include "globalloc/fast_allocator.hpp"
#include "hardening/block_header.hpp"
#include "options/options.hpp"

namespace globalloc::hardening {
namespace {

constinit thread_local bool cache_being_created [[gnu::tls_model("initial-exec")]] = false;
constinit thread_local bool thread_finished [[gnu::tls_model("initial-exec")]] = false;

void destroy_this_thread_cache() noexcept;

// Its destructor runs when the thread exits (C++ thread_local destructors
// run before the fast allocator's thread-exit key destructor, so the fast
// heap still exists). Registering it (at the first use, through
// __cxa_thread_atexit) may call calloc: the guard is set before that call,
// and cache_being_created sends that nested allocation past the cache.
struct ThreadExitFlush {
  bool armed = false;
  void arm() noexcept { armed = true; }
  ~ThreadExitFlush() { destroy_this_thread_cache(); }
};
thread_local ThreadExitFlush thread_exit_flush;

std::size_t quarantine_bytes_option() noexcept {
  const long total = options::value(options::Option::quarantine_bytes);
  return total <= 0 ? 0 : static_cast<std::size_t>(total);
}

void give_back_candidates(ThreadCache& cache) noexcept {
  for (unsigned bucket = 0; bucket < shuffle_buckets; ++bucket) {
    while (cache.bucket_count[bucket] > 0) {
      fast::deallocate(check_candidate(cache.candidates[bucket][--cache.bucket_count[bucket]], bucket));
    }
  }
}

// Releases (checks and frees) every block of both rings, oldest first.
void flush_ring(ThreadCache& cache) noexcept {
  while (cache.count > 0) {
    const QuarantineEntry oldest = quarantine_take_oldest(cache);
    release_quarantined(nullptr, oldest.block, oldest.bytes);
  }
  while (cache.mid_count > 0) mid_quarantine_release_oldest(cache);
}

void destroy_this_thread_cache() noexcept {
  ThreadCache* cache = current_cache;
  thread_finished = true;
  if (cache == &empty_cache) return;
  // Frees made while flushing (none expected) and after it go past the cache.
  current_cache = &empty_cache;
  flush_ring(*cache);
  give_back_candidates(*cache);
  fast::deallocate(cache);
}

}  // namespace

// The cache every thread starts on (and returns to when it exits): no
// quarantine capacity or budget, no filled bucket, never written.
constinit ThreadCache empty_cache{};
constinit thread_local ThreadCache* current_cache [[gnu::tls_model("initial-exec")]] = &empty_cache;

void enable_metadata_guards() noexcept {
  if constexpr (mitigations.has(Mitigation::guard_pages)) {
    static constinit std::atomic<bool> enabled{false};
    if (enabled.load(std::memory_order_relaxed)) return;
    fast::segment_set_metadata_guards(true);
    enabled.store(true, std::memory_order_relaxed);
  }
}

ThreadCache* thread_cache_create() noexcept {
  if (current_cache != &empty_cache) return current_cache;
  if (thread_finished || cache_being_created) return nullptr;
  cache_being_created = true;
  enable_metadata_guards();
  thread_exit_flush.arm();  // may allocate (through this allocator, past the cache)
  void* memory = fast::allocate(sizeof(ThreadCache), 64);
  if (memory == nullptr) {
    cache_being_created = false;
    return nullptr;
  }
  std::memset(memory, 0, sizeof(ThreadCache));
  auto* cache = static_cast<ThreadCache*>(memory);
  cache->random_state = mix(secret() ^ address_of(cache)) | 1;
  cache->capacity = mitigations.has(Mitigation::quarantine) ? quarantine_capacity : 0;
  set_quarantine_budget(*cache, mitigations.has(Mitigation::quarantine) ? quarantine_bytes_option() : 0,
                        options::value(options::Option::zero_on_free) != 0);
  current_cache = cache;
  cache_being_created = false;
  return cache;
}

void quarantine_flush_this_thread() noexcept {
  ThreadCache* cache = current_cache;
  if (cache == &empty_cache) return;
  flush_ring(*cache);
  // Candidates back from the quarantine are checked now (and stay
  // candidates, checked again when taken).
  for (unsigned bucket = 0; bucket < shuffle_buckets; ++bucket) {
    for (unsigned slot = 0; slot < cache->bucket_count[bucket]; ++slot) {
      static_cast<void>(check_candidate(cache->candidates[bucket][slot], bucket));
    }
  }
}

void quarantine_set_this_thread(std::size_t total_bytes, bool zero_on_free) noexcept {
  ThreadCache* cache = current_cache == &empty_cache ? thread_cache_create() : current_cache;
  if (cache == nullptr) return;
  flush_ring(*cache);
  set_quarantine_budget(*cache, mitigations.has(Mitigation::quarantine) ? total_bytes : 0, zero_on_free);
}

}  // namespace globalloc::hardening
