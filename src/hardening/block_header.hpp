// The hardened allocator's per-block metadata: a 16-byte header before each
// block (its size encoded with a per-process secret and the block's own
// address, the distance back to the fast allocator's block, the log2 of its
// alignment, its state, its fill byte and a keyed check byte over them) and
// a keyed canary word right after the block's requested size. One keyed hash
// of the address (block_key) is both the canary and the seed of the check
// byte, so writing or validating a block costs one multiply chain.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>

#include "globalloc/layout.hpp"
#include "hardening/mitigations.hpp"

namespace globalloc::hardening {

inline constexpr MitigationSet mitigations = all_mitigations;

struct Header {
  std::uint64_t encoded_size;  // size ^ secret ^ block address
  std::uint32_t offset;        // from the fast allocator's block to this one; 0: a guarded block
  std::uint8_t align_log2;     // the alignment the block was allocated with
  std::uint8_t state;
  std::uint8_t fill;   // the byte a freed block was filled with
  std::uint8_t check;  // keyed hash of address, size, offset and alignment
};
static_assert(sizeof(Header) == 16);

inline constexpr std::uint8_t state_live = 0xA7;
inline constexpr std::uint8_t state_freed = 0xF3;
inline constexpr std::size_t canary_size = mitigations.has(Mitigation::canary) ? sizeof(std::uint64_t) : 0;
inline constexpr std::uint8_t freed_pattern = 0xDF;
inline constexpr std::size_t max_block_size = std::size_t{1} << 48;

// The process secret: drawn on first use (any thread may race to draw it;
// the first to publish wins), never zero afterwards.
[[gnu::visibility("hidden")]] extern constinit std::atomic<std::uint64_t> process_secret;
[[gnu::visibility("hidden")]] std::uint64_t make_secret() noexcept;

inline std::uint64_t secret() noexcept {
  const std::uint64_t value = process_secret.load(std::memory_order_relaxed);
  if (value != 0) [[likely]] return value;
  return make_secret();
}

inline std::uint64_t mix(std::uint64_t value) noexcept {
  value ^= value >> 31;
  value *= 0x9E3779B97F4A7C15ull;
  value ^= value >> 29;
  return value;
}
inline std::uintptr_t address_of(const void* block) noexcept { return reinterpret_cast<std::uintptr_t>(block); }
inline Header& header_of(void* block) noexcept {
  return *reinterpret_cast<Header*>(static_cast<char*>(block) - sizeof(Header));
}
inline std::size_t alignment_of(const Header& header) noexcept { return std::size_t{1} << header.align_log2; }
inline bool is_guarded(const Header& header) noexcept { return header.offset == 0; }
/// The fast allocator's block behind a block that is not guarded.
inline char* inner_of(void* block, const Header& header) noexcept { return static_cast<char*>(block) - header.offset; }

/// The keyed hash of a block's address: its canary word. One multiply and
/// a rotation (the product's high half, which depends on every bit of the
/// keyed address, becomes the low half that an overflow reaches first):
/// like the full mixer it replaced, it is a bijection of the keyed address,
/// so neither keeps the key from a reader who sees a canary and its address;
/// the rotation is what keeps the first bytes from following only the low
/// bits of the address.
inline std::uint64_t block_key(const void* block, std::uint64_t key) noexcept {
  const std::uint64_t product = (address_of(block) ^ key) * 0x9E3779B97F4A7C15ull;
  return (product >> 32) | (product << 32);
}
/// The header's check byte: binds size, offset and alignment to the keyed address.
inline std::uint8_t check_of(std::uint64_t block_key, std::size_t size, std::uint32_t offset,
                             std::uint8_t align_log2) noexcept {
  const std::uint64_t layout = size ^ (std::uint64_t{offset} << 40) ^ (std::uint64_t{align_log2} << 34);
  return static_cast<std::uint8_t>(((block_key ^ layout) * 0xD6E8FEB86659FD93ull) >> 56);
}
inline std::size_t decoded_size(const void* block, const Header& header, std::uint64_t key) noexcept {
  return header.encoded_size ^ key ^ address_of(block);
}

/// Writes a live block's header and canary with `key`, the process secret.
/// `offset` is the distance from the fast allocator's block (0 for a guarded
/// block), `align` a power of two.
inline void write_block_metadata(void* block, std::size_t size, std::size_t align, std::size_t offset,
                                 std::uint64_t key) noexcept {
  const std::uint64_t hash = block_key(block, key);
  Header header;
  header.encoded_size = size ^ key ^ address_of(block);
  header.offset = static_cast<std::uint32_t>(offset);
  header.align_log2 = static_cast<std::uint8_t>(__builtin_ctzll(align));
  header.state = state_live;
  header.fill = 0;
  header.check = check_of(hash, size, header.offset, header.align_log2);
  std::memcpy(static_cast<char*>(block) - sizeof(Header), &header, sizeof header);
  if constexpr (mitigations.has(Mitigation::canary)) {
    std::memcpy(static_cast<char*>(block) + size, &hash, sizeof hash);
  }
}
inline void write_block_metadata(void* block, std::size_t size, std::size_t align, std::size_t offset) noexcept {
  write_block_metadata(block, size, align, offset, secret());
}

}  // namespace globalloc::hardening
