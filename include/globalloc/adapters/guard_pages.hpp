// GuardPages<Inner, placement>: an allocator for debugging overflows. Each
// block gets pages of its own from Inner, with an inaccessible guard page
// right after its end (and/or before its start), so the first byte written
// or read past the block stops the program with SIGSEGV at the faulting
// instruction, instead of corrupting a neighbour to be noticed much later.
//
// Header-only and POSIX: it makes the guard pages inaccessible with
// mprotect(2) and gives them back to Inner readable again. Costly by design:
// at least two pages and two system calls per block, and each live block
// splits the memory map (Linux allows about 65530 mappings per process by
// default: vm.max_map_count), so use it for a subsystem or a test, not for
// a whole large program.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "globalloc/contract.hpp"
#include "globalloc/layout.hpp"

namespace globalloc {

/// Where GuardPages puts the inaccessible pages around a block.
enum class GuardPlacement {
  after,   ///< after the block, whose end touches it: catches overflows (the default)
  before,  ///< before the block, whose start touches it: catches underflows
  both,    ///< on both sides; the block's end touches the guard after it
};

/// An allocator that forwards to Inner for whole pages and makes a page after
/// (or before, or on both sides of) each block inaccessible, for finding
/// buffer overflows. With a guard after the block, the block ends exactly at
/// the guard page when its size is a multiple of its alignment (always for
/// alignment 1); otherwise the start is rounded down to the alignment and up
/// to `align - 1` bytes of slack stay between the end and the guard
/// (usable_size() counts them). Freeing checks a small header kept out of the
/// block's way, and a damaged one stops the program with a message (a write
/// just before the block's start, with the guard after it). Shrinking with
/// resize_in_place keeps the block in place, with the guard where it was.
template <Allocator Inner, GuardPlacement placement = GuardPlacement::after>
struct GuardPages {
  static constexpr const char* name = "guard_pages";  ///< the allocator's name
  using Ops = Operations<Inner>;                       ///< how Inner is called

  /// @name Contract operations
  /// @{

  /// A block on pages of its own from Inner, with the guard page(s) made
  /// inaccessible; null when Inner fails, the layout is invalid or too large,
  /// or mprotect fails (for instance past vm.max_map_count).
  static void* allocate(Layout layout) noexcept {
    Geometry geometry;
    if (!plan(layout, &geometry)) return nullptr;
    auto* region = static_cast<unsigned char*>(Ops::allocate(Layout{geometry.total, geometry.region_align}));
    if (region == nullptr) return nullptr;
    unsigned char* block = region + geometry.block_offset;
    const Header header{reinterpret_cast<std::uintptr_t>(region), geometry.total,
                        check_of(reinterpret_cast<std::uintptr_t>(region), geometry.total, block)};
    std::memcpy(header_of(block, layout.align), &header, sizeof header);
    bool protected_all = true;
    if constexpr (guard_before) {
      protected_all = protect(region, front_bytes(layout.align), PROT_NONE);
    }
    if constexpr (guard_after) {
      if (protected_all && !protect(region + geometry.total - page_size(), page_size(), PROT_NONE)) {
        if constexpr (guard_before) protect(region, front_bytes(layout.align), PROT_READ | PROT_WRITE);
        protected_all = false;
      }
    }
    if (!protected_all) {
      Ops::deallocate(region, Layout{geometry.total, geometry.region_align});
      return nullptr;
    }
    return block;
  }

  /// allocate, then the first `layout.size` bytes set to zero.
  static void* allocate_zeroed(Layout layout) noexcept {
    void* block = allocate(layout);
    if (block != nullptr) std::memset(block, 0, layout.size);
    return block;
  }

  /// Makes the guard pages accessible again and gives the pages back to
  /// Inner. Null is a no-op. Stops the program when the block's header was
  /// overwritten.
  static void deallocate(void* block, Layout layout) noexcept {
    if (block == nullptr) return;
    const Header header = open_header(block, layout.align);
    auto* region = reinterpret_cast<unsigned char*>(header.region);
    if constexpr (guard_after) protect(region + header.total - page_size(), page_size(), PROT_READ | PROT_WRITE);
    Ops::deallocate(region, Layout{header.total, region_alignment(layout.align)});
  }

  /// A new guarded block with the contents up to the smaller size, then the
  /// old block freed (so the guard follows the new end). On failure null,
  /// with the old block untouched.
  static void* reallocate(void* block, Layout old_layout, std::size_t new_size) noexcept {
    return reallocate_by_moving<GuardPages>(block, old_layout, new_size);
  }

  /// Never moves: the bytes between the block's start and its guard (or the
  /// end of its pages) are its capacity, returned whatever `new_size` is;
  /// the resize succeeded when that is `>= new_size`.
  static std::size_t resize_in_place(void* block, Layout old_layout, std::size_t new_size) noexcept {
    (void)new_size;
    const Header header = read_header(block, old_layout.align);
    const std::size_t after = guard_after ? page_size() : 0;
    return header.region + header.total - after - reinterpret_cast<std::uintptr_t>(block);
  }

  /// `layout.size` rounded up to `layout.align` (at least one byte): with a
  /// guard after the block, all of it up to the guard.
  static std::size_t usable_size(Layout layout) noexcept {
    const std::size_t size = layout.size == 0 ? 1 : layout.size;
    return align_up(size, layout.align);
  }

  /// @}

 private:
  static constexpr bool guard_before = placement != GuardPlacement::after;
  static constexpr bool guard_after = placement != GuardPlacement::before;

  // Where each block's pages start and how many there are, kept where
  // deallocate can find it from the block and its alignment: just below the
  // block with only a guard after it, else at the start of the front guard
  // (read after making that page accessible again).
  struct Header {
    std::uintptr_t region;
    std::size_t total;
    std::uintptr_t check;
  };

  struct Geometry {
    std::size_t total;         // bytes asked of Inner
    std::size_t region_align;  // their alignment
    std::size_t block_offset;  // where the block starts in them
  };

  static std::size_t page_size() noexcept {
    static const std::size_t size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    return size;
  }
  static std::size_t region_alignment(std::size_t align) noexcept { return align > page_size() ? align : page_size(); }
  // The guard before the block: at least a page, and a multiple of the
  // alignment so the block after it stays aligned.
  static std::size_t front_bytes(std::size_t align) noexcept { return region_alignment(align); }

  static std::uintptr_t check_of(std::uintptr_t region, std::size_t total, const void* block) noexcept {
    return region ^ (total * 0x9E3779B97F4A7C15ULL) ^ reinterpret_cast<std::uintptr_t>(block) ^ 0x6775617264ULL;
  }

  // Rounds up, false on overflow.
  static bool round_up(std::size_t value, std::size_t to, std::size_t* out) noexcept {
    if (value > SIZE_MAX - (to - 1)) return false;
    *out = align_up(value, to);
    return true;
  }

  static bool plan(Layout layout, Geometry* out) noexcept {
    if (!is_valid_alignment(layout.align)) return false;
    const std::size_t page = page_size();
    const std::size_t region_align = region_alignment(layout.align);
    std::size_t body;
    if (!round_up(layout.size == 0 ? 1 : layout.size, layout.align, &body)) return false;
    std::size_t data;
    std::size_t front = 0;
    std::size_t back = 0;
    if constexpr (!guard_before) {
      // [slack, header][block][guard]: the header needs room below the block.
      if (body > SIZE_MAX - sizeof(Header) || !round_up(body + sizeof(Header), region_align, &data)) return false;
      back = page;
    } else {
      // [guard with the header][slack][block][guard] or [guard with the header][block][slack]
      if (!round_up(body, page, &data)) return false;
      front = front_bytes(layout.align);
      if constexpr (guard_after) back = page;
    }
    if (data > SIZE_MAX - front - back) return false;
    out->total = front + data + back;
    out->region_align = region_align;
    // Flush against the guard after the block, else against the one before it.
    out->block_offset = guard_after ? front + data - body : front;
    return true;
  }

  static void* header_of(void* block, std::size_t align) noexcept {
    auto* start = static_cast<unsigned char*>(block);
    if constexpr (!guard_before) {
      return start - sizeof(Header);
    } else {
      // The block starts less than a page past the end of the front guard.
      const auto front_end = reinterpret_cast<std::uintptr_t>(start) - front_bytes(align);
      return reinterpret_cast<void*>(front_end & ~(std::uintptr_t{page_size()} - 1));
    }
  }

  static Header read_header(void* block, std::size_t align) noexcept {
    void* where = header_of(block, align);
    if constexpr (guard_before) protect(where, page_size(), PROT_READ);
    Header header;
    std::memcpy(&header, where, sizeof header);
    if constexpr (guard_before) protect(where, page_size(), PROT_NONE);
    check(header, block);
    return header;
  }

  // For deallocate: the header, with the front guard left accessible.
  static Header open_header(void* block, std::size_t align) noexcept {
    void* where = header_of(block, align);
    if constexpr (guard_before) protect(where, front_bytes(align), PROT_READ | PROT_WRITE);
    Header header;
    std::memcpy(&header, where, sizeof header);
    check(header, block);
    return header;
  }

  static void check(const Header& header, const void* block) noexcept {
    if (header.check == check_of(header.region, header.total, block)) return;
    static const char message[] =
        "globalloc::GuardPages: the header below a block is damaged (a write before the block's start, "
        "a wrong pointer, or a block of another allocator); stopping\n";
    [[maybe_unused]] const ssize_t written = ::write(2, message, sizeof message - 1);
    std::abort();
  }

  static bool protect(void* start, std::size_t bytes, int access) noexcept {
    return ::mprotect(start, bytes, access) == 0;
  }
};

}  // namespace globalloc
