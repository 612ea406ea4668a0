// The heap profiler's tables: allocation sites (one per distinct stack, with
// the estimated bytes and blocks allocated there and still live) and the
// sampled blocks still live (address -> site and weight, so that a free finds
// the site it takes its bytes from). Both are fixed-size open-addressing hash
// tables in memory handed over once (the profiler maps it from the OS, since
// it runs inside malloc). One lock (fast::Lock) guards them: sampling is rare (one
// allocation per half MiB by default), so it is never contended for long.
// Frees are not rare: the allocator reports every free from a page that
// holds a sampled block, so a lock-free filter (live sampled blocks per
// address hash) answers most of them without taking the lock.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "fast/lock.hpp"
#include "profiling/stack_capture.hpp"

namespace globalloc::profiling {

/// Estimated figures, from the samples' weights: each sample stands for the
/// bytes allocated since the previous one, and for that many bytes divided
/// by its size in blocks.
struct SiteFigures {
  std::uint64_t samples_total;     ///< samples taken here, ever
  std::uint64_t live_samples;      ///< samples taken here and not yet freed
  std::uint64_t allocated_bytes;   ///< bytes allocated here, ever (estimated)
  std::uint64_t allocated_blocks;  ///< blocks allocated here, ever (estimated)
  std::uint64_t live_bytes;        ///< bytes allocated here and still live (estimated)
  std::uint64_t live_blocks;       ///< blocks allocated here and still live (estimated)
};

/// A site as the report gets it: its figures and its stack.
struct SiteSummary {
  SiteFigures figures;
  unsigned depth;
  void* frames[max_stack_depth];
};

/// The whole profile's figures.
struct ProfileTotals {
  SiteFigures figures;            ///< summed over every site
  std::uint64_t sites;            ///< distinct stacks seen
  std::uint64_t samples_dropped;  ///< samples not recorded because a table was full
};

/// The most sites top_sites ranks at once.
inline constexpr unsigned max_ranked_sites = 64;

/// What top_sites ranks by.
enum class SiteOrder { live_bytes, allocated_bytes };

class SiteTable {
 public:
  constexpr SiteTable() noexcept = default;
  SiteTable(const SiteTable&) = delete;
  SiteTable& operator=(const SiteTable&) = delete;

  /// Bytes of memory attach() needs for these capacities (powers of two).
  static std::size_t bytes_needed(unsigned site_capacity, unsigned block_capacity) noexcept;
  /// Gives the table its memory: bytes_needed() bytes, zero, aligned to 64,
  /// kept for the life of the process. Call once; until then the table
  /// records nothing and reports empty.
  void attach(void* zeroed_memory, unsigned site_capacity, unsigned block_capacity) noexcept;

  /// A sampled allocation: `block` of `usable` bytes standing for `weight`
  /// bytes, allocated from the stack `frames[0..depth)`. False when it was
  /// dropped (a table is full): the block is then not tracked.
  bool record_allocation(const void* block, std::size_t usable, std::size_t weight, void* const* frames,
                         unsigned depth) noexcept;
  /// A sampled block is freed; false when `block` is not a live sampled block.
  bool record_free(const void* block) noexcept;

  ProfileTotals totals() const noexcept;
  /// Copies the (up to) `max` (at most max_ranked_sites) sites with the most live or allocated bytes
  /// into `out`, largest first, leaving out sites where that figure is 0.
  /// Returns how many it copied.
  unsigned top_sites(SiteOrder order, SiteSummary* out, unsigned max) const noexcept;

  /// Around fork(): the parent holds the lock across it so the child gets
  /// consistent tables; the child, where the holder may not exist, resets it.
  void lock_for_fork() noexcept { lock_.lock(); }
  void unlock_after_fork() noexcept { lock_.unlock(); }
  void reset_lock_in_child() noexcept { lock_.reset(); }

 private:
  struct Site {
    std::uint64_t hash;  ///< 0: an empty slot
    unsigned depth;
    SiteFigures figures;
    void* frames[max_stack_depth];
  };
  struct LiveBlock {
    std::uintptr_t address;  ///< 0: an empty slot
    std::uint32_t site;
    std::uint64_t weight;
    std::uint64_t blocks;
  };

  Site* find_or_add_site(std::uint64_t hash, void* const* frames, unsigned depth) noexcept;
  LiveBlock* find_block(std::uintptr_t address) noexcept;
  void remove_block(LiveBlock* slot) noexcept;
  void forget_live(const LiveBlock& block) noexcept;
  unsigned block_slot(std::uintptr_t address) const noexcept;
  std::atomic<std::uint32_t>& filter_of(std::uintptr_t address) const noexcept;

  mutable fast::Lock lock_;
  Site* sites_ = nullptr;
  LiveBlock* blocks_ = nullptr;
  std::atomic<std::uint32_t>* filter_ = nullptr;  ///< live sampled blocks per address hash
  unsigned filter_mask_ = 0;
  unsigned site_mask_ = 0;
  unsigned block_mask_ = 0;
  unsigned site_count_ = 0;
  unsigned block_count_ = 0;
  std::uint64_t samples_dropped_ = 0;
};

}  // namespace globalloc::profiling
