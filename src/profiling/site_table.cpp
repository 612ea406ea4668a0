// The profiler's site and live-block tables; see site_table.hpp. Both use
// linear probing; live blocks are removed with backward-shift deletion, so
// the table needs no tombstones however long the process runs.
#include "profiling/site_table.hpp"

namespace globalloc::profiling {
namespace {

// A table is full at three quarters, which keeps probe sequences short.
bool has_room(unsigned count, unsigned mask) noexcept { return count < (mask + 1) / 4 * 3; }

std::size_t round_up_64(std::size_t bytes) noexcept { return (bytes + 63) & ~std::size_t{63}; }

bool same_stack(void* const* a, void* const* b, unsigned depth) noexcept {
  for (unsigned i = 0; i < depth; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

void add(SiteFigures& into, const SiteFigures& figures) noexcept {
  into.samples_total += figures.samples_total;
  into.live_samples += figures.live_samples;
  into.allocated_bytes += figures.allocated_bytes;
  into.allocated_blocks += figures.allocated_blocks;
  into.live_bytes += figures.live_bytes;
  into.live_blocks += figures.live_blocks;
}

std::uint64_t rank_of(const SiteFigures& figures, SiteOrder order) noexcept {
  return order == SiteOrder::live_bytes ? figures.live_bytes : figures.allocated_bytes;
}

// One filter counter per four block slots (at least one).
unsigned filter_capacity(unsigned block_capacity) noexcept { return block_capacity >= 4 ? block_capacity / 4 : 1; }

}  // namespace

std::size_t SiteTable::bytes_needed(unsigned site_capacity, unsigned block_capacity) noexcept {
  return round_up_64(sizeof(Site) * site_capacity) + round_up_64(sizeof(LiveBlock) * block_capacity) +
         round_up_64(sizeof(std::atomic<std::uint32_t>) * filter_capacity(block_capacity));
}

void SiteTable::attach(void* zeroed_memory, unsigned site_capacity, unsigned block_capacity) noexcept {
  char* memory = static_cast<char*>(zeroed_memory);
  fast::LockGuard guard(lock_);
  char* blocks = memory + round_up_64(sizeof(Site) * site_capacity);
  // The memory is zero: every counter starts at 0 (atomics of this size are
  // plain words).
  static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
  filter_ = reinterpret_cast<std::atomic<std::uint32_t>*>(blocks + round_up_64(sizeof(LiveBlock) * block_capacity));
  filter_mask_ = filter_capacity(block_capacity) - 1;
  blocks_ = reinterpret_cast<LiveBlock*>(blocks);
  block_mask_ = block_capacity - 1;
  site_mask_ = site_capacity - 1;
  sites_ = reinterpret_cast<Site*>(memory);
}

unsigned SiteTable::block_slot(std::uintptr_t address) const noexcept {
  // Blocks are at least 8-byte aligned; the multiply spreads the rest.
  return static_cast<unsigned>(((address >> 3) * 0x9e3779b97f4a7c15ULL) >> 32) & block_mask_;
}

std::atomic<std::uint32_t>& SiteTable::filter_of(std::uintptr_t address) const noexcept {
  return filter_[((address >> 3) * 0xff51afd7ed558ccdULL >> 40) & filter_mask_];
}

SiteTable::Site* SiteTable::find_or_add_site(std::uint64_t hash, void* const* frames, unsigned depth) noexcept {
  for (unsigned slot = static_cast<unsigned>(hash) & site_mask_;; slot = (slot + 1) & site_mask_) {
    Site& site = sites_[slot];
    if (site.hash == hash && site.depth == depth && same_stack(site.frames, frames, depth)) return &site;
    if (site.hash == 0) {
      if (!has_room(site_count_, site_mask_)) return nullptr;
      site.hash = hash;
      site.depth = depth;
      for (unsigned i = 0; i < depth; ++i) site.frames[i] = frames[i];
      ++site_count_;
      return &site;
    }
  }
}

SiteTable::LiveBlock* SiteTable::find_block(std::uintptr_t address) noexcept {
  for (unsigned slot = block_slot(address);; slot = (slot + 1) & block_mask_) {
    LiveBlock& block = blocks_[slot];
    if (block.address == address) return &block;
    if (block.address == 0) return nullptr;
  }
}

void SiteTable::forget_live(const LiveBlock& block) noexcept {
  SiteFigures& figures = sites_[block.site].figures;
  figures.live_samples -= 1;
  figures.live_bytes -= block.weight;
  figures.live_blocks -= block.blocks;
}

// Backward-shift deletion: a later entry of the probe run moves into the hole
// unless its home slot lies cyclically in (hole, its slot], where it would
// no longer be found from home.
void SiteTable::remove_block(LiveBlock* removed) noexcept {
  std::atomic<std::uint32_t>& filter = filter_of(removed->address);
  filter.store(filter.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
  unsigned hole = static_cast<unsigned>(removed - blocks_);
  for (unsigned next = (hole + 1) & block_mask_; blocks_[next].address != 0; next = (next + 1) & block_mask_) {
    const unsigned home = block_slot(blocks_[next].address);
    if (((next - home) & block_mask_) >= ((next - hole) & block_mask_)) {
      blocks_[hole] = blocks_[next];
      hole = next;
    }
  }
  blocks_[hole] = LiveBlock{};
  --block_count_;
}

bool SiteTable::record_allocation(const void* block, std::size_t usable, std::size_t weight, void* const* frames,
                                  unsigned depth) noexcept {
  if (depth > max_stack_depth) depth = max_stack_depth;
  const std::uint64_t hash = hash_stack(frames, depth);
  const auto address = reinterpret_cast<std::uintptr_t>(block);
  std::uint64_t blocks = usable == 0 ? weight : weight / usable;
  if (blocks == 0) blocks = 1;
  fast::LockGuard guard(lock_);
  if (sites_ == nullptr || address == 0) return false;
  // A sampled block whose free was not seen (it cannot be live twice):
  // its old sample ends here.
  if (LiveBlock* stale = find_block(address)) {
    forget_live(*stale);
    remove_block(stale);
  }
  Site* site = has_room(block_count_, block_mask_) ? find_or_add_site(hash, frames, depth) : nullptr;
  if (site == nullptr) {
    ++samples_dropped_;
    return false;
  }
  SiteFigures& figures = site->figures;
  figures.samples_total += 1;
  figures.live_samples += 1;
  figures.allocated_bytes += weight;
  figures.allocated_blocks += blocks;
  figures.live_bytes += weight;
  figures.live_blocks += blocks;
  unsigned slot = block_slot(address);
  while (blocks_[slot].address != 0) slot = (slot + 1) & block_mask_;
  blocks_[slot] = LiveBlock{address, static_cast<std::uint32_t>(site - sites_), weight, blocks};
  ++block_count_;
  std::atomic<std::uint32_t>& filter = filter_of(address);
  filter.store(filter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  return true;
}

bool SiteTable::record_free(const void* block) noexcept {
  const auto address = reinterpret_cast<std::uintptr_t>(block);
  // Without the lock: a recorded block's count was raised before the block
  // was handed out, so a free of it (ordered after, by the program) sees it;
  // a count of 0 means no recorded block hashes here. The filter pointer
  // is set before sampling starts and never changes.
  std::atomic<std::uint32_t>* filter = filter_;
  if (filter == nullptr || filter_of(address).load(std::memory_order_relaxed) == 0) return false;
  fast::LockGuard guard(lock_);
  if (sites_ == nullptr) return false;
  LiveBlock* found = find_block(address);
  if (found == nullptr) return false;
  forget_live(*found);
  remove_block(found);
  return true;
}

ProfileTotals SiteTable::totals() const noexcept {
  ProfileTotals totals{};
  fast::LockGuard guard(lock_);
  if (sites_ == nullptr) return totals;
  for (unsigned slot = 0; slot <= site_mask_; ++slot) {
    if (sites_[slot].hash != 0) add(totals.figures, sites_[slot].figures);
  }
  totals.sites = site_count_;
  totals.samples_dropped = samples_dropped_;
  return totals;
}

unsigned SiteTable::top_sites(SiteOrder order, SiteSummary* out, unsigned max) const noexcept {
  if (max > max_ranked_sites) max = max_ranked_sites;
  unsigned chosen[max_ranked_sites];  // slots, largest first
  unsigned count = 0;
  fast::LockGuard guard(lock_);
  if (sites_ == nullptr) return 0;
  for (unsigned slot = 0; slot <= site_mask_; ++slot) {
    const Site& site = sites_[slot];
    const std::uint64_t rank = rank_of(site.figures, order);
    if (site.hash == 0 || rank == 0) continue;
    // Insertion into the sorted list of chosen slots.
    unsigned position = count;
    while (position > 0 && rank_of(sites_[chosen[position - 1]].figures, order) < rank) --position;
    if (position >= max) continue;
    const unsigned last = count < max ? count : max - 1;
    for (unsigned i = last; i > position; --i) chosen[i] = chosen[i - 1];
    chosen[position] = slot;
    if (count < max) ++count;
  }
  for (unsigned i = 0; i < count; ++i) {
    const Site& site = sites_[chosen[i]];
    out[i].figures = site.figures;
    out[i].depth = site.depth;
    for (unsigned frame = 0; frame < site.depth; ++frame) out[i].frames[frame] = site.frames[frame];
  }
  return count;
}

}  // namespace globalloc::profiling
