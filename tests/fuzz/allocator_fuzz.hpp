// A fuzz harness for globalloc's allocators: the input bytes are decoded into
// a sequence of allocate / allocate_zeroed / reallocate / resize_in_place /
// deallocate (sized and pointer-only) / usable_size operations on a fixed
// table of slots, and every result is checked against a model of what the
// allocator contract (include/globalloc/contract.hpp) promises:
//   - every block is aligned, non-null for a possible request, and overlaps
//     no other live block;
//   - usable_size >= size, and the usable bytes can really be written;
//   - allocate_zeroed gives zero bytes;
//   - a block's contents (a pattern derived from its slot and generation) are
//     intact before every reallocate and free, and reallocate keeps them up
//     to min(old, new) size and keeps the alignment;
//   - resize_in_place never moves, and when it reports >= the new size the
//     block holds that many bytes;
//   - impossible sizes and invalid alignments give null (or a failed
//     resize) and leave existing blocks intact.
// On any mismatch it prints what failed and calls __builtin_trap().
//
// Generic over the allocator: run_allocator_fuzz<A> drives A through
// globalloc::Operations<A> and A's pointer-only operations where present.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <type_traits>

#include "globalloc/contract.hpp"
#include "globalloc/fast_allocator.hpp"
#include "globalloc/hardened_allocator.hpp"
#include "globalloc/layout.hpp"
#include "globalloc/system_allocator.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace globalloc::fuzz {

/// Reads the input front to back; past the end every read gives zero bytes.
class Reader {
 public:
  Reader(const std::uint8_t* data, std::size_t size) noexcept : data_(data), size_(size) {}
  bool empty() const noexcept { return pos_ >= size_; }
  std::size_t position() const noexcept { return pos_; }
  std::uint8_t u8() noexcept { return pos_ < size_ ? data_[pos_++] : 0; }
  std::uint32_t u16() noexcept { return u8() | (std::uint32_t{u8()} << 8); }
  std::uint32_t u24() noexcept { return u16() | (std::uint32_t{u8()} << 16); }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

// ---- the content pattern ----

/// Random bytes, repeated so that any window of up to pattern_period bytes
/// starting below pattern_period is contiguous: block byte i of a block with
/// tag t is pattern_bytes()[(t + i) % pattern_period].
inline constexpr std::size_t pattern_period = 65521;  // prime: no relation to alignments or pages

inline const std::uint8_t* pattern_bytes() noexcept {
  static std::uint8_t bytes[2 * pattern_period];
  static const bool ready = [] {
    std::uint64_t state = 0x243F6A8885A308D3ull;
    for (std::size_t i = 0; i < pattern_period; ++i) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      std::uint8_t byte = static_cast<std::uint8_t>(state >> 56);
      if (byte == 0) byte = 0x5A;  // no zeros: a zeroed or purged page never matches
      bytes[i] = byte;
      bytes[i + pattern_period] = byte;
    }
    return true;
  }();
  (void)ready;
  return bytes;
}

/// Writes the pattern of `tag` over bytes [from, to) of the block.
inline void fill_pattern(void* block, std::uint64_t tag, std::size_t from, std::size_t to) noexcept {
  const std::uint8_t* pattern = pattern_bytes();
  auto* bytes = static_cast<std::uint8_t*>(block);
  std::size_t i = from;
  while (i < to) {
    const std::size_t offset = static_cast<std::size_t>((tag + i) % pattern_period);
    std::size_t chunk = pattern_period;
    if (chunk > to - i) chunk = to - i;
    std::memcpy(bytes + i, pattern + offset, chunk);
    i += chunk;
  }
}

/// The first offset in [from, to) where the block differs from the pattern of
/// `tag`, or `to` when it matches.
inline std::size_t find_pattern_mismatch(const void* block, std::uint64_t tag, std::size_t from,
                                         std::size_t to) noexcept {
  const std::uint8_t* pattern = pattern_bytes();
  const auto* bytes = static_cast<const std::uint8_t*>(block);
  std::size_t i = from;
  while (i < to) {
    const std::size_t offset = static_cast<std::size_t>((tag + i) % pattern_period);
    std::size_t chunk = pattern_period;
    if (chunk > to - i) chunk = to - i;
    if (std::memcmp(bytes + i, pattern + offset, chunk) != 0) {
      for (std::size_t j = 0; j < chunk; ++j) {
        if (bytes[i + j] != pattern[offset + j]) return i + j;
      }
    }
    i += chunk;
  }
  return to;
}

/// The first non-zero offset in [0, size), or size.
inline std::size_t find_nonzero(const void* block, std::size_t size) noexcept {
  static const std::uint8_t zeros[4096] = {};
  const auto* bytes = static_cast<const std::uint8_t*>(block);
  for (std::size_t i = 0; i < size; i += sizeof zeros) {
    std::size_t chunk = sizeof zeros;
    if (chunk > size - i) chunk = size - i;
    if (std::memcmp(bytes + i, zeros, chunk) != 0) {
      for (std::size_t j = 0; j < chunk; ++j) {
        if (bytes[i + j] != 0) return i + j;
      }
    }
  }
  return size;
}

// ---- allocator-specific extras (none required) ----

/// A hook an allocator may have beyond the contract: give memory back / flush
/// caches. Live blocks must survive it.
template <class A>
void maintenance() noexcept {
  if constexpr (std::is_same_v<A, FastAllocator>) {
    fast::purge();
  } else if constexpr (std::is_same_v<A, HardenedAllocator>) {
    hardened::flush_quarantine();
  }
}

/// Whether the allocator reports `block` as one of its own live blocks;
/// true for allocators without such a query.
template <class A>
bool owns_live_block(const void* block) noexcept {
  if constexpr (std::is_same_v<A, FastAllocator>) {
    return fast::owns(block);
  } else {
    return block != nullptr;
  }
}

// ---- the decoded operations ----

inline constexpr unsigned slot_count = 32;
/// A size above 64 KiB that would take the bytes an input has written into
/// blocks past this is folded below 64 KiB, so that one input stays fast
/// (fresh pages cost a page fault each, and the allocators give freed large
/// blocks back to the OS).
inline constexpr std::size_t byte_budget = std::size_t{6} << 20;

/// Sizes no allocator can serve: each must give null.
inline constexpr std::size_t impossible_sizes[] = {
    SIZE_MAX,
    SIZE_MAX - 1,
    SIZE_MAX - 15,
    SIZE_MAX - 4095,
    SIZE_MAX - 65535,
    SIZE_MAX / 2,
    SIZE_MAX / 2 + 1,
    std::size_t{1} << 62,
    std::size_t{1} << 56,
    std::size_t{1} << 50,
    (std::size_t{1} << 48) + 1,
    std::size_t{1} << 48,
    (std::size_t{1} << 48) - 1,
};

/// Alignments that are not powers of two: each must give null.
inline constexpr std::size_t invalid_alignments[] = {
    0, 3, 5, 6, 7, 12, 24, 48, 96, 100, 4095, 4097, 65535, 65537, 3u << 20, SIZE_MAX, SIZE_MAX / 2,
};

/// Powers of two no block in a 47- or 48-bit address space can be aligned to.
inline constexpr std::size_t impossible_alignments[] = {
    std::size_t{1} << 63,
    std::size_t{1} << 62,
    std::size_t{1} << 56,
    std::size_t{1} << 50,
};

/// Sizes at the edges of size classes, pages, segments and the huge range.
inline std::size_t boundary_size(Reader& in) noexcept {
  static constexpr std::size_t table[] = {
      0,           1,           7,           8,           9,           15,          16,
      17,          24,          31,          32,          33,          1023,        1024,
      1025,        4095,        4096,        4097,        8191,        8192,        8193,
      65535,       65536,       65537,       131072,      262143,      524288,      524289,
      (1u << 20),  (1u << 20) + 1, (2u << 20) - 1, (2u << 20), (4u << 20) - 65537,
      (4u << 20) - 65536, (4u << 20) - 65535, (4u << 20) - 1, (4u << 20), (4u << 20) + 1,
      (4u << 20) + 4096, (5u << 20) - 1,
  };
  const std::uint8_t pick = in.u8();
  if (pick < sizeof table / sizeof table[0]) return table[pick];
  // Otherwise a power of two, +-2.
  const std::size_t base = std::size_t{1} << (pick % 23);
  const int delta = static_cast<int>(in.u8() % 5) - 2;
  return delta < 0 && base < 2 ? 0 : base + static_cast<std::size_t>(static_cast<std::ptrdiff_t>(delta));
}

/// A size from 0 to about 5 MiB, biased to small.
inline std::size_t decode_size(Reader& in) noexcept {
  const std::uint8_t kind = in.u8();
  if (kind < 128) return kind;                     // 0..127
  if (kind < 192) return in.u16() % 1024;          // < 1 KiB
  if (kind < 224) return in.u16() % 8192;          // < 8 KiB
  if (kind < 240) return in.u24() % (72u << 10);   // < 72 KiB (past the medium classes)
  if (kind < 244) return in.u24() % (1u << 20);    // < 1 MiB
  if (kind < 246) return in.u24() % (5u << 20);    // < 5 MiB (past a segment)
  return boundary_size(in);
}

/// A power of two from 1 to 64 KiB, biased to the small ones.
inline std::size_t decode_alignment(Reader& in) noexcept {
  const std::uint8_t kind = in.u8();
  if (kind < 144) return std::size_t{1} << (kind % 5);  // 1..16
  return std::size_t{1} << (kind % 17);                  // 1..65536
}

// ---- the model and the checks ----

struct Slot {
  void* block = nullptr;
  std::size_t size = 0;    ///< the size of its current layout
  std::size_t align = 1;   ///< the alignment of its current layout
  std::size_t extent = 0;  ///< bytes written with the pattern (>= size): all of them ours
  std::uint64_t tag = 0;   ///< the pattern's seed
};

template <class A>
class Harness {
 public:
  using Ops = Operations<A>;
  static constexpr bool pointer_only = HasPointerOnlyOperations<A>;
  static constexpr bool pointer_only_reallocate = HasPointerOnlyReallocate<A>;

  explicit Harness(Reader& in) noexcept : in_(in) {}

  void run() noexcept {
    while (!in_.empty()) {
      ++op_index_;
      const std::uint8_t op = in_.u8() % 32;
      const unsigned slot = in_.u8() % slot_count;
      if (op < 7) {
        do_allocate(slot, false);
      } else if (op < 9) {
        do_allocate(slot, true);
      } else if (op < 13) {
        do_reallocate(slot);
      } else if (op < 15) {
        do_reallocate_pointer_only(slot);
      } else if (op < 18) {
        do_resize_in_place(slot);
      } else if (op < 22) {
        do_deallocate(slot, false);
      } else if (op < 24) {
        do_deallocate(slot, true);
      } else if (op < 25) {
        do_usable_size(slot);
      } else if (op < 27) {
        do_impossible(slot);
      } else if (op < 28) {
        do_invalid_alignment();
      } else if (op < 29) {
        check_all("check");
      } else if (op < 30) {
        // Rarer: purging makes the next allocations fault their pages in again.
        if (in_.u8() < 64) {
          maintenance<A>();
          check_all("after maintenance");
        }
      } else if (op < 31) {
        for (unsigned i = 0; i < slot_count; ++i) do_deallocate(i, (i & 1) != 0);
      } else {
        do_allocate(slot, false);
      }
    }
    check_all("end of input");
    for (unsigned i = 0; i < slot_count; ++i) do_deallocate(i, (i & 1) != 0);
  }

 private:
  [[noreturn]] void fail(const char* what, unsigned slot, const void* block, std::size_t a = 0,
                         std::size_t b = 0) noexcept {
    const Slot& s = slots_[slot];
    std::fprintf(stderr,
                 "allocator_fuzz: CHECK FAILED [%s allocator, op #%zu at input byte %zu]: %s\n"
                 "  slot %u: block %p (model: block %p size %zu align %zu extent %zu tag %llu); values %zu, %zu\n",
                 allocator_name<A>(), op_index_, in_.position(), what, slot, block, s.block, s.size, s.align,
                 s.extent, static_cast<unsigned long long>(s.tag), a, b);
    std::fflush(stderr);
    __builtin_trap();
  }

  std::size_t budgeted(std::size_t size) noexcept {
    if (size > 65536 && touched_ + size > byte_budget) size %= 65536;
    return size;
  }

  /// Checks that the block's contents [from, to) still hold its pattern.
  void check_contents(unsigned slot, const char* when, std::size_t from, std::size_t to) noexcept {
    const Slot& s = slots_[slot];
    const std::size_t bad = find_pattern_mismatch(s.block, s.tag, from, to);
    if (bad != to) fail(when, slot, s.block, bad, to);
  }

  /// What the allocator says block holds: its pointer-only usable size, or
  /// the layout's when it has no pointer-only query.
  std::size_t usable(const void* block, std::size_t size, std::size_t align) noexcept {
    if constexpr (pointer_only) {
      return A{}.usable_size(block);
    } else {
      return Ops::usable_size(Layout{size, align});
    }
  }

  /// The checks on any block the allocator just handed out for (size, align).
  void check_new_block(unsigned slot, void* block, std::size_t size, std::size_t align, const char* operation) noexcept {
    if (block == nullptr) fail(operation, slot, block, size, align);
    if ((reinterpret_cast<std::uintptr_t>(block) & (align - 1)) != 0) fail("block misaligned", slot, block, size, align);
    if (!owns_live_block<A>(block)) fail("allocator does not own the block it returned", slot, block, size, align);
    const std::size_t holds = usable(block, size, align);
    if (holds < size) fail("usable_size(block) < size", slot, block, holds, size);
    const std::size_t layout_holds = Ops::usable_size(Layout{size, align});
    if (layout_holds < size) fail("usable_size(layout) < size", slot, block, layout_holds, size);
    // No overlap with any other live block's written bytes.
    const auto begin = reinterpret_cast<std::uintptr_t>(block);
    const std::uintptr_t end = begin + (holds > 0 ? holds : 1);
    for (unsigned other = 0; other < slot_count; ++other) {
      const Slot& o = slots_[other];
      if (other == slot || o.block == nullptr) continue;
      const auto o_begin = reinterpret_cast<std::uintptr_t>(o.block);
      const std::uintptr_t o_end = o_begin + (o.extent > 0 ? o.extent : 1);
      if (begin < o_end && o_begin < end) fail("block overlaps another live block", slot, block, other, o_begin);
    }
  }

  /// Records a new block in the slot and writes the pattern over [keep, usable).
  void adopt(unsigned slot, void* block, std::size_t size, std::size_t align, std::size_t keep,
             std::size_t holds) noexcept {
    Slot& s = slots_[slot];
    s.block = block;
    s.size = size;
    s.align = align;
    s.extent = holds;
    if (keep < holds) {
      fill_pattern(block, s.tag, keep, holds);
      touched_ += holds - keep;
    }
  }

  void do_allocate(unsigned slot, bool zeroed) noexcept {
    const std::size_t size = budgeted(decode_size(in_));
    const std::size_t align = decode_alignment(in_);
    if (slots_[slot].block != nullptr) do_deallocate(slot, (in_.u8() & 1) != 0);
    const Layout layout{size, align};
    void* block = zeroed ? Ops::allocate_zeroed(layout) : Ops::allocate(layout);
    check_new_block(slot, block, size, align, zeroed ? "allocate_zeroed gave null" : "allocate gave null");
    const std::size_t holds = usable(block, size, align);
    const std::size_t layout_holds = Ops::usable_size(layout);
    if (holds < layout_holds) fail("usable_size(block) < usable_size(layout) for a new block", slot, block, holds, layout_holds);
    if (zeroed) {
      const std::size_t bad = find_nonzero(block, size);
      if (bad != size) fail("allocate_zeroed gave a non-zero byte", slot, block, bad, size);
      touched_ += size;
    }
    slots_[slot].tag = next_tag(slot);
    adopt(slot, block, size, align, 0, holds);
  }

  void do_reallocate(unsigned slot) noexcept {
    const std::size_t new_size = budgeted(decode_size(in_));
    Slot& s = slots_[slot];
    if (s.block == nullptr) {
      // A null block allocates.
      const std::size_t align = decode_alignment(in_);
      void* block = Ops::reallocate(nullptr, Layout{0, align}, new_size);
      check_new_block(slot, block, new_size, align, "reallocate(null) gave null");
      s.tag = next_tag(slot);
      adopt(slot, block, new_size, align, 0, usable(block, new_size, align));
      return;
    }
    check_contents(slot, "contents changed before reallocate", 0, s.extent);
    const Slot before = s;
    void* block = Ops::reallocate(s.block, Layout{s.size, s.align}, new_size);
    const std::size_t kept = before.size < new_size ? before.size : new_size;
    s.block = nullptr;  // the old block is gone (or is the new one)
    check_new_block(slot, block, new_size, before.align, "reallocate gave null");
    s = before;
    s.block = block;
    check_contents(slot, "reallocate lost contents", 0, kept);
    adopt(slot, block, new_size, before.align, kept, usable(block, new_size, before.align));
  }

  void do_reallocate_pointer_only(unsigned slot) noexcept {
    if constexpr (!pointer_only_reallocate) {
      do_reallocate(slot);
    } else {
      Slot& s = slots_[slot];
      if (s.block != nullptr && s.align > default_alignment) {
        do_reallocate(slot);  // C realloc promises only the default alignment
        return;
      }
      std::size_t new_size = budgeted(decode_size(in_));
      if (new_size == 0) new_size = 1;  // C realloc(p, 0) may free: not part of the model
      if (s.block == nullptr) {
        void* block = A{}.reallocate(nullptr, new_size);
        check_new_block(slot, block, new_size, natural_alignment(new_size), "realloc(null) gave null");
        s.tag = next_tag(slot);
        adopt(slot, block, new_size, 1, 0, usable(block, new_size, 1));
        return;
      }
      check_contents(slot, "contents changed before realloc", 0, s.extent);
      const Slot before = s;
      void* block = A{}.reallocate(s.block, new_size);
      const std::size_t kept = before.size < new_size ? before.size : new_size;
      s.block = nullptr;
      std::size_t align = natural_alignment(new_size);
      if (align < before.align) align = before.align;
      check_new_block(slot, block, new_size, align, "realloc gave null");
      s = before;
      s.block = block;
      check_contents(slot, "realloc lost contents", 0, kept);
      adopt(slot, block, new_size, before.align, kept, usable(block, new_size, before.align));
    }
  }

  void do_resize_in_place(unsigned slot) noexcept {
    const std::size_t new_size = budgeted(decode_size(in_));
    Slot& s = slots_[slot];
    if (s.block == nullptr) return;
    check_contents(slot, "contents changed before resize_in_place", 0, s.extent);
    const std::size_t result = Ops::resize_in_place(s.block, Layout{s.size, s.align}, new_size);
    if (result >= new_size) {
      // Resized: the block holds `result` bytes now and kept the first min(old, new).
      const std::size_t kept = s.size < new_size ? s.size : new_size;
      check_contents(slot, "resize_in_place lost contents", 0, kept);
      if constexpr (pointer_only) {
        const std::size_t holds = A{}.usable_size(s.block);
        if (holds < new_size) fail("usable_size(block) < new size after resize_in_place", slot, s.block, holds, new_size);
      }
      adopt(slot, s.block, new_size, s.align, kept, result);
    } else {
      // Not resized: the block is as it was.
      if (result < s.size) fail("failed resize_in_place reports less than the old size", slot, s.block, result, new_size);
      check_contents(slot, "failed resize_in_place changed contents", 0, s.extent);
    }
  }

  void do_deallocate(unsigned slot, bool pointer_only_free) noexcept {
    Slot& s = slots_[slot];
    if (s.block == nullptr) return;
    check_contents(slot, "contents changed before deallocate", 0, s.extent);
    if constexpr (pointer_only) {
      if (pointer_only_free) {
        A{}.deallocate(s.block);
        s = Slot{};
        return;
      }
    }
    (void)pointer_only_free;
    Ops::deallocate(s.block, Layout{s.size, s.align});
    s = Slot{};
  }

  void do_usable_size(unsigned slot) noexcept {
    const Slot& s = slots_[slot];
    if (s.block == nullptr) return;
    if constexpr (pointer_only) {
      const std::size_t holds = A{}.usable_size(s.block);
      if (holds < s.size) fail("usable_size(block) < size", slot, s.block, holds, s.size);
    }
    const std::size_t layout_holds = Ops::usable_size(Layout{s.size, s.align});
    if (layout_holds < s.size) fail("usable_size(layout) < size", slot, s.block, layout_holds, s.size);
    if (!owns_live_block<A>(s.block)) fail("allocator does not own a live block", slot, s.block);
    check_contents(slot, "contents changed", 0, s.extent);
  }

  /// Requests that cannot be met: each gives null (or a failed resize) and
  /// leaves the slot's block, if any, as it was.
  void do_impossible(unsigned slot) noexcept {
    const std::uint8_t pick = in_.u8();
    const std::size_t size = impossible_sizes[in_.u8() % (sizeof impossible_sizes / sizeof impossible_sizes[0])];
    const std::size_t align = decode_alignment(in_);
    Slot& s = slots_[slot];
    switch (pick % 6) {
      case 0:
        if (Ops::allocate(Layout{size, align}) != nullptr) fail("allocate of an impossible size gave a block", slot, nullptr, size, align);
        break;
      case 1:
        if (Ops::allocate_zeroed(Layout{size, align}) != nullptr) {
          fail("allocate_zeroed of an impossible size gave a block", slot, nullptr, size, align);
        }
        break;
      case 2: {
        const std::size_t huge_align = impossible_alignments[in_.u8() % (sizeof impossible_alignments / sizeof impossible_alignments[0])];
        const std::size_t small = in_.u8();
        void* block = (pick & 8) != 0 ? Ops::allocate_zeroed(Layout{small, huge_align}) : Ops::allocate(Layout{small, huge_align});
        if (block != nullptr) fail("allocate with an impossible alignment gave a block", slot, block, small, huge_align);
        break;
      }
      case 3:
        if (s.block == nullptr) break;
        if (Ops::reallocate(s.block, Layout{s.size, s.align}, size) != nullptr) {
          fail("reallocate to an impossible size gave a block", slot, s.block, size);
        }
        check_contents(slot, "failed reallocate changed the old block", 0, s.extent);
        break;
      case 4:
        if (s.block == nullptr) break;
        if constexpr (pointer_only_reallocate) {
          if (A{}.reallocate(s.block, size) != nullptr) fail("realloc to an impossible size gave a block", slot, s.block, size);
        }
        check_contents(slot, "failed realloc changed the old block", 0, s.extent);
        break;
      default: {
        if (s.block == nullptr) break;
        const std::size_t result = Ops::resize_in_place(s.block, Layout{s.size, s.align}, size);
        if (result >= size) fail("resize_in_place to an impossible size succeeded", slot, s.block, result, size);
        if (result < s.size) fail("failed resize_in_place reports less than the old size", slot, s.block, result, size);
        check_contents(slot, "failed resize_in_place changed the block", 0, s.extent);
        break;
      }
    }
  }

  void do_invalid_alignment() noexcept {
    const std::size_t align = invalid_alignments[in_.u8() % (sizeof invalid_alignments / sizeof invalid_alignments[0])];
    const std::size_t size = decode_size(in_) % 65536;
    if (void* block = Ops::allocate(Layout{size, align})) fail("allocate with an invalid alignment gave a block", 0, block, size, align);
    if (void* block = Ops::allocate_zeroed(Layout{size, align})) {
      fail("allocate_zeroed with an invalid alignment gave a block", 0, block, size, align);
    }
  }

  void check_all(const char* when) noexcept {
    for (unsigned slot = 0; slot < slot_count; ++slot) {
      if (slots_[slot].block == nullptr) continue;
      if (!owns_live_block<A>(slots_[slot].block)) fail("allocator does not own a live block", slot, slots_[slot].block);
      check_contents(slot, when, 0, slots_[slot].extent);
    }
  }

  std::uint64_t next_tag(unsigned slot) noexcept {
    ++generation_;
    return (std::uint64_t{slot} * 0x9E3779B97F4A7C15ull) ^ (generation_ * 0xBF58476D1CE4E5B9ull);
  }

  Reader& in_;
  Slot slots_[slot_count];
  std::size_t op_index_ = 0;
  std::uint64_t generation_ = 0;
  std::size_t touched_ = 0;
};

/// Runs one input against allocator A.
template <class A>
void run_allocator_fuzz(const std::uint8_t* data, std::size_t size) noexcept {
  Reader in(data, size);
  Harness<A> harness(in);
  harness.run();
}

}  // namespace globalloc::fuzz
