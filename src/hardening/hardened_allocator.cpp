// The hardened allocator: a checking layer over the fast allocator. Each
// block carries a 16-byte header before it (its size encoded with a
// per-process secret and its own address, its alignment, its state and a
// check value) and a keyed canary word after it. Frees validate all of it;
// freed blocks are filled and wait in the quarantine, and are checked again
// before the fast allocator may reuse them. Which checks exist is the
// compile-time set in mitigations.hpp.
#include "globalloc/hardened_allocator.hpp"

#include <atomic>
#include <cstdint>
#include <cstring>

#include "fast/segment.hpp"
#include "globalloc/fast_allocator.hpp"
#include "hardening/guarded_blocks.hpp"
#include "hardening/mitigations.hpp"
#include "hardening/quarantine.hpp"
#include "options/options.hpp"
#include "platform/fatal.hpp"
#include "platform/os_memory.hpp"
#include "platform/random.hpp"

namespace globalloc::hardened {
namespace {

using hardening::Mitigation;
constexpr hardening::MitigationSet mitigations = hardening::all_mitigations;

struct Header {
  std::uint64_t encoded_size;  // size ^ secret ^ block address
  std::uint32_t align;
  std::uint8_t state;
  std::uint8_t fill;           // the byte a freed block was filled with
  std::uint8_t check;          // keyed hash of address and size
  std::uint8_t flags;          // block_is_guarded
};
constexpr std::uint8_t block_is_guarded = 1;
static_assert(sizeof(Header) == 16);

constexpr std::uint8_t state_live = 0xA7;
constexpr std::uint8_t state_freed = 0xF3;
constexpr std::size_t canary_size = mitigations.has(Mitigation::canary) ? sizeof(std::uint64_t) : 0;
constexpr std::uint8_t freed_pattern = 0xDF;
// Freed bytes filled and checked before reuse: the first 256 bytes, where a
// dangling pointer's writes land (object headers, vtable pointers, the first
// fields), without paying two passes over every large block freed.
constexpr std::size_t fill_check_limit = 256;
// A freed block larger than this gives its whole pages back to the OS while
// it waits in the quarantine.
constexpr std::size_t discard_threshold = 64 * 1024;
constexpr std::size_t max_block_size = std::size_t{1} << 48;

constinit std::atomic<std::uint64_t> process_secret{0};

[[gnu::noinline, gnu::cold]] std::uint64_t make_secret() noexcept {
  std::uint64_t secret = platform::random_seed() | 1;
  std::uint64_t expected = 0;
  if (!process_secret.compare_exchange_strong(expected, secret, std::memory_order_acq_rel)) secret = expected;
  return secret;
}
inline std::uint64_t secret() noexcept {
  const std::uint64_t value = process_secret.load(std::memory_order_acquire);
  return value != 0 ? value : make_secret();
}

inline std::uint64_t mix(std::uint64_t value) noexcept {
  value ^= value >> 31;
  value *= 0x9E3779B97F4A7C15ull;
  value ^= value >> 29;
  return value;
}
inline std::uintptr_t address_of(const void* block) noexcept { return reinterpret_cast<std::uintptr_t>(block); }
inline std::size_t offset_for(std::size_t align) noexcept {
  return align > default_alignment ? align : default_alignment;
}
inline Header& header_of(void* block) noexcept {
  return *reinterpret_cast<Header*>(static_cast<char*>(block) - sizeof(Header));
}
inline char* inner_of(void* block, const Header& header) noexcept {
  return static_cast<char*>(block) - offset_for(header.align);
}
inline std::uint8_t check_of(const void* block, std::size_t size) noexcept {
  return static_cast<std::uint8_t>(mix(address_of(block) ^ size ^ secret()) >> 56);
}
inline std::uint64_t canary_of(const void* block) noexcept { return mix(address_of(block) + secret()); }

void write_block_metadata(void* block, std::size_t size, std::size_t align, std::uint8_t flags) noexcept {
  Header& header = header_of(block);
  header.flags = flags;
  header.encoded_size = size ^ secret() ^ address_of(block);
  header.align = static_cast<std::uint32_t>(align);
  header.state = state_live;
  header.fill = 0;
  header.check = check_of(block, size);
  if constexpr (mitigations.has(Mitigation::canary)) {
    const std::uint64_t canary = canary_of(block);
    std::memcpy(static_cast<char*>(block) + size, &canary, sizeof canary);
  }
}

// ---- fatal reports: one line naming the error, the address and the operation ----

struct Suffix {
  char text[160];
  unsigned length = 0;
  Suffix& operator<<(const char* piece) noexcept {
    while (*piece != '\0' && length < sizeof text - 1) text[length++] = *piece++;
    text[length] = '\0';
    return *this;
  }
  Suffix& operator<<(std::size_t value) noexcept {
    char digits[24];
    unsigned count = 0;
    do {
      digits[count++] = static_cast<char>('0' + value % 10);
      value /= 10;
    } while (value != 0);
    while (count > 0 && length < sizeof text - 1) text[length++] = digits[--count];
    text[length] = '\0';
    return *this;
  }
};

[[noreturn, gnu::cold]] void report(const char* error, const void* block, const char* operation) noexcept {
  Suffix suffix;
  suffix << " in " << operation;
  Suffix prefix;
  prefix << "globalloc: " << error << " ";
  platform::fatal_error_at(prefix.text, address_of(block), suffix.text);
}

// The block's header is read only after the segment map says that the
// address lies in one of the fast allocator's segments, so a wild pointer
// (stack, global, another heap) is reported instead of dereferenced. The
// header is always in the same segment as the block: it sits just before it.
bool header_is_in_our_memory(const void* block) noexcept {
  return fast::segment_lookup(static_cast<const char*>(block) - sizeof(Header)) != nullptr;
}

struct Validated {
  Header* header;
  std::size_t size;
};

Validated validate(void* block, const char* operation, const char* freed_error) noexcept {
  if constexpr (mitigations.has(Mitigation::invalid_pointer)) {
    if ((address_of(block) & (default_alignment - 1)) != 0) report("free of interior or invalid pointer", block, operation);
    if (!header_is_in_our_memory(block) && !hardening::guarded_is_registered(block)) {
      report("free of invalid pointer", block, operation);
    }
  }
  Header& header = header_of(block);
  if constexpr (mitigations.has(Mitigation::double_free)) {
    if (header.state == state_freed) report(freed_error, block, operation);
  }
  const std::size_t size = header.encoded_size ^ secret() ^ address_of(block);
  if (header.state != state_live || size >= max_block_size || header.check != check_of(block, size) ||
      header.align == 0 || (header.align & (header.align - 1)) != 0) {
    report("free of interior or corrupted pointer", block, operation);
  }
  if constexpr (mitigations.has(Mitigation::canary)) {
    std::uint64_t canary;
    std::memcpy(&canary, static_cast<char*>(block) + size, sizeof canary);
    if (canary != canary_of(block)) report("heap buffer overflow (canary overwritten) past the end of block", block, operation);
  }
  return Validated{&header, size};
}

// Whether the fast allocator's block behind `block` can hold new_size bytes
// and the canary; resizing it then only moves the canary. realloc shrinks in
// place only down to half the room, so a shrunk block does not pin memory.
enum class Shrink { any, to_half };
bool fits_in_place(void* block, const Header& header, std::size_t new_size, Shrink shrink) noexcept {
  // A guarded block ends at its guard page: it can only shrink, and only
  // when asked not to move (realloc moves it to keep the guard adjacent).
  if (header.flags & block_is_guarded) {
    const std::size_t size = header.encoded_size ^ secret() ^ address_of(block);
    return shrink == Shrink::any && new_size <= size;
  }
  const std::size_t offset = offset_for(header.align);
  const std::size_t inner_usable = fast::usable_size(inner_of(block, header));
  if (new_size >= max_block_size || inner_usable < offset + canary_size) return false;
  const std::size_t room = inner_usable - offset - canary_size;
  return new_size <= room && (shrink == Shrink::any || new_size >= room / 2);
}

// A block leaves the quarantine: check that nobody wrote into it, then free it.
// What a freed block's first bytes must still hold when it leaves the quarantine.
struct FreedBytes {
  unsigned char bytes[fill_check_limit];
  constexpr FreedBytes() : bytes() {
    for (unsigned char& byte : bytes) byte = freed_pattern;
  }
};
alignas(64) constexpr FreedBytes freed_bytes{};
alignas(64) constexpr unsigned char zero_bytes[fill_check_limit] = {};

// Gives the block's memory back: unmaps a guarded block, frees any other to
// the fast allocator.
void release_memory(void* block, const Header& header) noexcept {
  if (header.flags & block_is_guarded) {
    hardening::guarded_unmap(block);
  } else {
    fast::deallocate(inner_of(block, header));
  }
}

void release_to_fast_allocator(void* block) noexcept {
  Header& header = header_of(block);
  const std::size_t size = header.encoded_size ^ secret() ^ address_of(block);
  const std::size_t checked = size < fill_check_limit ? size : fill_check_limit;
  const unsigned char* expected = header.fill == 0 ? zero_bytes : freed_bytes.bytes;
  if (std::memcmp(block, expected, checked) != 0) report("write after free into block", block, "reuse after quarantine");
  release_memory(block, header);
}

// Fills what the quarantine checks later (everything, with zero_on_free),
// and returns the whole pages of a large block to the OS while it waits, so
// that freeing it twice is still caught but it holds little memory.
// Returns the bytes the quarantine should account for.
std::size_t fill_freed_block(void* block, std::size_t size, std::uint8_t fill, bool zero_everything) noexcept {
  const std::size_t checked = size < fill_check_limit ? size : fill_check_limit;
  if (size < discard_threshold) {
    std::memset(block, fill, zero_everything ? size : checked);
    return size;
  }
  const std::size_t page = platform::page_size();
  const std::uintptr_t start = address_of(block);
  const std::uintptr_t discard_from = (start + checked + page - 1) & ~(page - 1);
  const std::uintptr_t discard_to = (start + size) & ~(page - 1);
  std::memset(block, fill, zero_everything ? discard_from - start : checked);
  platform::discard(reinterpret_cast<void*>(discard_from), discard_to - discard_from);
  if (zero_everything) std::memset(reinterpret_cast<void*>(discard_to), 0, start + size - discard_to);
  return discard_from - start;
}

void free_checked(void* block, const Validated& validated) noexcept {
  Header& header = *validated.header;
  header.state = state_freed;
  if constexpr (mitigations.has(Mitigation::quarantine)) {
    const bool zero_everything = (options::value(options::Option::zero_on_free) != 0);
    header.fill = zero_everything ? 0 : freed_pattern;
    const std::size_t held_bytes = fill_freed_block(block, validated.size, header.fill, zero_everything);
    if (hardening::quarantine_hold(block, held_bytes, release_to_fast_allocator)) return;
    release_memory(block, header);
  } else {
    if ((options::value(options::Option::zero_on_free) != 0)) std::memset(block, 0, validated.size);
    release_memory(block, header);
  }
}

void* allocate_block(std::size_t size, std::size_t align, bool zeroed) noexcept {
  if (!is_valid_alignment(align)) return nullptr;
  if (size >= max_block_size) return nullptr;
  if constexpr (mitigations.has(Mitigation::guard_pages)) {
    if (size >= hardening::guarded_block_min) {
      // A fresh mapping reads as zero, so zeroed blocks need no memset.
      if (void* block = hardening::guarded_map(sizeof(Header), size + canary_size, align)) {
        write_block_metadata(block, size, align, block_is_guarded);
        return block;
      }
    }
  }
  const std::size_t offset = offset_for(align);
  const std::size_t inner_size = offset + size + canary_size;
  void* inner = zeroed ? fast::allocate_zeroed(inner_size, offset) : fast::allocate(inner_size, offset);
  if (inner == nullptr) return nullptr;
  void* block = static_cast<char*>(inner) + offset;
  write_block_metadata(block, size, align, 0);
  return block;
}

}  // namespace

void* allocate(std::size_t size, std::size_t align) noexcept { return allocate_block(size, align, false); }
void* allocate_zeroed(std::size_t size, std::size_t align) noexcept { return allocate_block(size, align, true); }

void deallocate(void* block) noexcept {
  if (block == nullptr) return;
  free_checked(block, validate(block, "free", "double free of"));
}

void deallocate_sized(void* block, std::size_t size, std::size_t align) noexcept {
  if (block == nullptr) return;
  const Validated validated = validate(block, "sized delete", "double free of");
  if constexpr (mitigations.has(Mitigation::size_check)) {
    if (validated.size != size || (align > default_alignment && validated.header->align != align)) {
      Suffix suffix;
      suffix << " (allocated with size " << validated.size << " align " << std::size_t{validated.header->align}
             << ", freed with size " << size << " align " << align << ") in sized delete";
      platform::fatal_error_at("globalloc: size mismatch in sized delete of block ", address_of(block), suffix.text);
    }
  }
  free_checked(block, validated);
}

void* reallocate(void* block, std::size_t new_size, std::size_t align) noexcept {
  if (block == nullptr) return allocate(new_size, align);
  const Validated validated = validate(block, "realloc", "realloc of freed block");
  if (align <= validated.header->align && fits_in_place(block, *validated.header, new_size, Shrink::to_half)) {
    write_block_metadata(block, new_size, validated.header->align, validated.header->flags);
    return block;
  }
  const std::size_t kept_align = validated.header->align > align ? validated.header->align : align;
  void* moved = allocate(new_size, kept_align);
  if (moved == nullptr) return nullptr;
  std::memcpy(moved, block, validated.size < new_size ? validated.size : new_size);
  free_checked(block, validated);
  return moved;
}

std::size_t resize_in_place(void* block, std::size_t new_size) noexcept {
  const Validated validated = validate(block, "resize_in_place", "resize of freed block");
  Header& header = *validated.header;
  if (!fits_in_place(block, header, new_size, Shrink::any)) return validated.size;
  write_block_metadata(block, new_size, header.align, header.flags);
  return new_size;
}

std::size_t usable_size(const void* block) noexcept {
  if (block == nullptr) return 0;
  return validate(const_cast<void*>(block), "malloc_usable_size", "use of freed block").size;
}

void flush_quarantine() noexcept { hardening::quarantine_flush(release_to_fast_allocator); }
void set_zero_on_free(bool enabled) noexcept { options::set(options::Option::zero_on_free, enabled ? 1 : 0); }
void set_quarantine_bytes(std::size_t bytes) noexcept { hardening::quarantine_set_budget(bytes); }

}  // namespace globalloc::hardened
