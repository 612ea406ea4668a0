// The hardened allocator: a checking layer over the fast allocator. Each
// block carries a 16-byte header before it and a keyed canary word after it
// (block_header.hpp); frees validate both. Freed blocks are filled and wait
// in the thread's quarantine, then become candidates of the thread's shuffle
// buckets, from which allocations pick at random and check them before
// reuse (thread_cache.hpp). Blocks of 64 KiB or more live between guard
// pages (guarded_blocks.hpp). Which checks exist is the compile-time set in
// mitigations.hpp.
#include "globalloc/hardened_allocator.hpp"

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "fast/segment.hpp"
#include "globalloc/fast_allocator.hpp"
#include "hardening/guarded_blocks.hpp"
#include "hardening/mitigations.hpp"
#include "hardening/block_header.hpp"
#include "hardening/thread_cache.hpp"
#include "options/options.hpp"
#include "platform/fatal.hpp"
#include "platform/number_text.hpp"
#include "platform/os_memory.hpp"
#include "platform/random.hpp"

namespace globalloc::hardened {
namespace {

using hardening::address_of;
using hardening::alignment_of;
using hardening::canary_size;
using hardening::decoded_size;
using hardening::freed_pattern;
using hardening::Header;
using hardening::header_of;
using hardening::inner_of;
using hardening::max_block_size;
using hardening::Mitigation;
using hardening::mitigations;
using hardening::is_guarded;
using hardening::secret;
using hardening::state_freed;
using hardening::state_live;
using hardening::ThreadCache;
using hardening::write_block_metadata;

// Freed bytes filled and checked before reuse: the first 64, where a
// dangling pointer's writes land most often (object headers, vtable
// pointers, the first fields). Checking is paid when the block is reused and
// cold: 256 bytes made wl-churn about a quarter slower than 64.
constexpr std::size_t fill_check_limit = 64;
// A freed block larger than this gives its whole pages back to the OS while
// it waits in the quarantine (only blocks the guarded registry had no room
// for: larger ones are guarded).
constexpr std::size_t discard_threshold = 64 * 1024;
// The largest block shuffled (and recycled from the quarantine into a bucket).
constexpr std::size_t shuffle_max_size = hardening::shuffle_max_inner - sizeof(Header) - canary_size;

// The shuffle bucket of a block size, and the bytes of that bucket's fast-allocator blocks.
inline unsigned bucket_of(std::size_t size) noexcept {
  return static_cast<unsigned>((size + sizeof(Header) + canary_size + hardening::shuffle_granule - 1) /
                               hardening::shuffle_granule);
}
inline std::size_t bucket_bytes(unsigned bucket) noexcept { return bucket * hardening::shuffle_granule; }

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
    char digits[platform::number_text_max];
    const unsigned count = platform::number_digits(value, 10, digits);
    for (unsigned i = 0; i < count && length < sizeof text - 1; ++i) text[length++] = digits[i];
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
  const auto header = reinterpret_cast<std::uintptr_t>(block) - sizeof(Header);
  // No block, so no header, lies in a segment's own header region (its page
  // descriptors, ending in the metadata guard page): an address whose header
  // would is not ours, and reading there could fault.
  if ((header & fast::segment_offset_mask) < fast::segment_header_size) return false;
  return fast::segment_lookup(reinterpret_cast<const void*>(header)) != nullptr;
}

struct Validated {
  Header* header;
  std::size_t size;
};

[[noreturn, gnu::noinline, gnu::cold]] void report_bad_header(void* block, const Header& header,
                                                               const char* operation, const char* freed_error) noexcept {
  if constexpr (mitigations.has(Mitigation::double_free)) {
    if (header.state == state_freed) report(freed_error, block, operation);
  }
  report("free of interior or corrupted pointer", block, operation);
}

[[noreturn, gnu::noinline, gnu::cold]] void report_overflow(void* block, const char* operation) noexcept {
  report("heap buffer overflow (canary overwritten) past the end of block", block, operation);
}

[[gnu::noinline, gnu::cold]] void check_foreign_pointer(void* block, const char* operation,
                                                     const char* freed_error) noexcept {
  if ((address_of(block) & (default_alignment - 1)) != 0) report("free of interior or invalid pointer", block, operation);
  if (!hardening::guarded_is_registered(block)) {
    // A large block freed already, whose region went back to the OS.
    if constexpr (mitigations.has(Mitigation::double_free)) {
      if (hardening::guarded_was_unmapped(block)) report(freed_error, block, operation);
    }
    report("free of invalid pointer", block, operation);
  }
}

[[gnu::always_inline]] inline Validated validate(void* block, const char* operation, const char* freed_error) noexcept {
  if constexpr (mitigations.has(Mitigation::invalid_pointer)) {
    if ((address_of(block) & (default_alignment - 1)) != 0 || !header_is_in_our_memory(block)) [[unlikely]] {
      check_foreign_pointer(block, operation, freed_error);
    }
  }
  Header& header = header_of(block);
  // Not secret(): a block whose header could validate was written with the
  // secret, so it was drawn already; while it is still 0 nothing validates.
  const std::uint64_t key = hardening::process_secret.load(std::memory_order_relaxed);
  const std::size_t size = decoded_size(block, header, key);
  const std::uint64_t hash = hardening::block_key(block, key);
  if (header.state != state_live || size >= max_block_size ||
      header.check != hardening::check_of(hash, size, header.offset, header.align_log2) ||
      header.align_log2 >= 48 || (header.offset & (default_alignment - 1)) != 0) [[unlikely]] {
    report_bad_header(block, header, operation, freed_error);
  }
  if constexpr (mitigations.has(Mitigation::canary)) {
    std::uint64_t canary;
    std::memcpy(&canary, static_cast<char*>(block) + size, sizeof canary);
    if (canary != hash) [[unlikely]] report_overflow(block, operation);
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
  if (is_guarded(header)) {
    const std::size_t size = decoded_size(block, header, secret());
    return shrink == Shrink::any && new_size <= size;
  }
  const std::size_t offset = header.offset;
  const std::size_t inner_usable = fast::usable_size(inner_of(block, header));
  if (new_size >= max_block_size || inner_usable < offset + canary_size) return false;
  const std::size_t room = inner_usable - offset - canary_size;
  return new_size <= room && (shrink == Shrink::any || new_size >= room / 2);
}

// What a freed block's first bytes must still hold when it leaves the quarantine.
struct FreedBytes {
  unsigned char bytes[fill_check_limit];
  constexpr FreedBytes() : bytes() {
    for (unsigned char& byte : bytes) byte = freed_pattern;
  }
};
alignas(64) constexpr FreedBytes freed_bytes{};
alignas(64) constexpr unsigned char zero_bytes[fill_check_limit] = {};

// The 16 bytes of a fill: the pattern, or zeros.
inline const unsigned char* fill_bytes(std::uint8_t fill) noexcept { return fill == 0 ? zero_bytes : freed_bytes.bytes; }

// Freed bytes filled (and checked) at least: a block that is not guarded
// has that many bytes of room, whatever its size (the canary and the fast
// allocator's 16-byte granule make the room), so the fill and the check take
// the same few overlapping 16-byte accesses for every size, with no branch
// on it (sizes are random in most programs, and the branches mispredicted).
constexpr std::size_t fill_check_min = 16;
static_assert(canary_size >= 8, "the canary, rounded up to the 16-byte granule, is the room fill_check_min needs");

// The bytes of a freed block of `size` that are filled and checked.
constexpr std::size_t filled_bytes(std::size_t size) noexcept {
  return size < fill_check_min ? fill_check_min : (size < fill_check_limit ? size : fill_check_limit);
}

// The offsets of the four 16-byte pieces that cover [0, count) for count in
// [16, 64]: 0, 16, 32 and 48, each moved back to count - 16 at most.
struct FillPieces {
  std::size_t second, third, last;
};
[[gnu::always_inline]] constexpr FillPieces fill_pieces(std::size_t count) noexcept {
  static_assert(fill_check_min == 16 && fill_check_limit == 64, "four 16-byte pieces cover 16 to 64 bytes");
  const std::size_t last = count - 16;
  return FillPieces{last < 16 ? last : 16, last < 32 ? last : 32, last};
}

// Sixteen bytes as one value (GCC and Clang vector extension): compared and
// combined with single SSE instructions.
using Bytes16 = unsigned char __attribute__((vector_size(16)));
[[gnu::always_inline]] inline Bytes16 load16(const unsigned char* from) noexcept {
  Bytes16 value;
  std::memcpy(&value, from, sizeof value);
  return value;
}

// The fill pieces of a freed block of each size up to fill_check_limit (and
// of every larger one, at index fill_check_limit), looked up on the quick
// free path instead of computed: 6 instructions against 13.
struct SizeFillPieces {
  struct Pieces {
    std::uint8_t second, third, last, unused;
  } pieces[fill_check_limit + 1];
  constexpr SizeFillPieces() : pieces() {
    for (std::size_t size = 0; size <= fill_check_limit; ++size) {
      const std::size_t count = size < fill_check_min ? fill_check_min : size;
      const FillPieces computed = fill_pieces(count);
      pieces[size] = Pieces{static_cast<std::uint8_t>(computed.second), static_cast<std::uint8_t>(computed.third),
                            static_cast<std::uint8_t>(computed.last), 0};
    }
  }
};
constexpr SizeFillPieces size_fill_table{};
[[gnu::always_inline]] constexpr FillPieces fill_pieces_of_size(std::size_t size) noexcept {
  const auto& pieces = size_fill_table.pieces[size < fill_check_limit ? size : fill_check_limit];
  return FillPieces{pieces.second, pieces.third, pieces.last};
}
constexpr bool size_fill_table_matches() noexcept {
  for (std::size_t size = 0; size <= 4 * fill_check_limit; ++size) {
    const FillPieces looked_up = fill_pieces_of_size(size);
    const FillPieces computed = fill_pieces(filled_bytes(size));
    if (looked_up.second != computed.second || looked_up.third != computed.third || looked_up.last != computed.last) {
      return false;
    }
  }
  return true;
}
static_assert(size_fill_table_matches(), "the quick free path fills what the checks expect");

// Fills the bytes `pieces` cover at `to` with `pattern`'s byte: four
// overlapping 16-byte stores instead of a memset call.
[[gnu::always_inline]] inline void fill_pieces_at(void* to, FillPieces pieces, const unsigned char* pattern) noexcept {
  auto* bytes = static_cast<unsigned char*>(to);
  const Bytes16 value = load16(pattern);
  std::memcpy(bytes, &value, 16);
  std::memcpy(bytes + pieces.second, &value, 16);
  std::memcpy(bytes + pieces.third, &value, 16);
  std::memcpy(bytes + pieces.last, &value, 16);
}

// Fills `count` (fill_check_min to fill_check_limit) bytes at `to` with
// `pattern`'s byte.
[[gnu::always_inline]] inline void fill_head(void* to, std::size_t count, const unsigned char* pattern) noexcept {
  fill_pieces_at(to, fill_pieces(count), pattern);
}

// Whether the `count` (fill_check_min to fill_check_limit) bytes at `from`
// all hold `pattern`'s byte: fill_head's pieces, compared at once.
[[gnu::always_inline]] inline bool pieces_hold(const void* from, FillPieces pieces, const unsigned char* pattern) noexcept {
  const auto* bytes = static_cast<const unsigned char*>(from);
  const Bytes16 expected = load16(pattern);
  const Bytes16 difference = (load16(bytes) ^ expected) | (load16(bytes + pieces.second) ^ expected) |
                             (load16(bytes + pieces.third) ^ expected) | (load16(bytes + pieces.last) ^ expected);
  std::uint64_t halves[2];
  std::memcpy(halves, &difference, sizeof halves);
  return (halves[0] | halves[1]) == 0;
}
[[gnu::always_inline]] inline bool head_holds(const void* from, std::size_t count, const unsigned char* pattern) noexcept {
  return pieces_hold(from, fill_pieces(count), pattern);
}

// Gives the block's memory back: unmaps a guarded block, frees any other to
// the fast allocator.
void release_memory(void* block, const Header& header) noexcept {
  fast::deallocate(inner_of(block, header));
}

// Whether a freed block's first bytes still hold its fill.
bool freed_bytes_intact(void* block, const Header& header) noexcept {
  const std::size_t size = decoded_size(block, header, secret());
  return head_holds(block, filled_bytes(size), fill_bytes(header.fill));
}

// A recyclable quarantine entry (a small block at the default offset: the
// entry's low bit) becomes a candidate of the bucket its room fits when that
// bucket has room, unchecked: it is checked when an allocation takes it, so
// its bytes are read once, just before they are used. False when it is not
// recyclable or its bucket is full.
[[gnu::always_inline]] inline bool recycle_into_bucket(ThreadCache& cache, hardening::QuarantineEntry oldest) noexcept {
  if constexpr (mitigations.has(Mitigation::random_choice)) {
    if ((address_of(oldest.block) & hardening::recyclable_mark) != 0) {
      // The bucket its size is allocated from: the fast allocator's block
      // holds at least header, block and canary (`bytes` is header and
      // block), and its blocks of 16 bytes or more are multiples of 16 (each
      // is 16-aligned), so it holds that rounded up to the bucket step too.
      const auto bucket = static_cast<unsigned>((oldest.bytes + canary_size + hardening::shuffle_granule - 1) /
                                                hardening::shuffle_granule);
      const unsigned count = cache.bucket_count[bucket];
      if (count < hardening::shuffle_slots) [[likely]] {
        // The entry's block less its mark and header is the fast allocator's block.
        cache.candidates[bucket][count] =
            reinterpret_cast<void*>((address_of(oldest.block) & ~hardening::recyclable_mark) - sizeof(Header));
        cache.bucket_count[bucket] = static_cast<std::uint8_t>(count + 1);
        return true;
      }
    }
  }
  return false;
}

// A quarantined block that does not become a candidate leaves for good: it
// is checked (nobody wrote into it while it waited) and goes back to the
// fast allocator. `held` is what the quarantine accounted: the header and
// the block, or for a block whose pages were discarded, the header and at
// least the checked bytes.
[[gnu::noinline]] void check_and_free_quarantined(void* entry, std::size_t held) noexcept {
  void* block = reinterpret_cast<void*>(address_of(entry) & ~hardening::recyclable_mark);
  Header& header = header_of(block);
  const std::size_t size = held - sizeof(Header);
  if (!head_holds(block, filled_bytes(size), fill_bytes(header.fill))) report("write after free into block", block, "reuse after quarantine");
  fast::deallocate(inner_of(block, header));
}

// The quarantined entry `entry` (of `held` bytes) leaves: a candidate of
// `recycle_into`'s bucket when it can be (null: never), else checked and freed.
void release_quarantined_block(ThreadCache* recycle_into, void* entry, std::size_t held) noexcept {
  if (recycle_into != nullptr && recycle_into_bucket(*recycle_into, hardening::QuarantineEntry{entry, held})) return;
  check_and_free_quarantined(entry, held);
}

// A candidate that came back from the quarantine into `bucket` is about to
// be reused: its header must still say freed, and its first bytes hold the
// fill. Its size put it in that bucket, so it is more than the bucket's bytes
// less a step and the header and canary: that many bytes (up to the fill
// limit) are checked without decoding the header.
// The bytes of a bucket's candidates that hold the fill: those of its
// smallest size (more than the bucket's bytes less a step and the header and
// canary), which every block recycled into it was filled with.
constexpr std::size_t bucket_checked_bytes_of(unsigned bucket) noexcept {
  const std::size_t bytes = bucket * hardening::shuffle_granule;
  const std::size_t least_size = bytes > hardening::shuffle_granule + sizeof(Header) + canary_size
                                     ? bytes - hardening::shuffle_granule - sizeof(Header) - canary_size
                                     : 0;
  return least_size < fill_check_min ? fill_check_min : (least_size < fill_check_limit ? least_size : fill_check_limit);
}
struct BucketCheckedBytes {
  std::uint8_t bytes[hardening::shuffle_buckets];
  struct Pieces {
    std::uint8_t second, third, last, unused;
  } pieces[hardening::shuffle_buckets];  // fill_pieces of bytes[bucket], looked up instead of computed
  constexpr BucketCheckedBytes() : bytes(), pieces() {
    for (unsigned bucket = 0; bucket < hardening::shuffle_buckets; ++bucket) {
      bytes[bucket] = static_cast<std::uint8_t>(bucket_checked_bytes_of(bucket));
      const FillPieces computed = fill_pieces(bytes[bucket]);
      pieces[bucket] = Pieces{static_cast<std::uint8_t>(computed.second), static_cast<std::uint8_t>(computed.third),
                              static_cast<std::uint8_t>(computed.last), 0};
    }
  }
};
constexpr BucketCheckedBytes bucket_checked_table{};
inline std::size_t bucket_checked_bytes(unsigned bucket) noexcept { return bucket_checked_table.bytes[bucket]; }

[[noreturn, gnu::noinline, gnu::cold]] void report_write_after_free(void* block) noexcept {
  report("write after free into block", block, "reuse after quarantine");
}

// check_recycled for a block zeroed by zero_on_free, or with a broken header.
[[gnu::noinline]] void check_recycled_unpatterned(void* block, unsigned bucket) noexcept {
  const Header& header = header_of(block);
  if (header.state != state_freed || header.fill != 0) report_write_after_free(block);
  if (!head_holds(block, bucket_checked_bytes(bucket), zero_bytes)) report_write_after_free(block);
}

// Whether a candidate about to be reused still says freed and filled with the
// pattern (the common case, compared against a constant); a write into its
// first bytes is reported here. False: it is zeroed (zero_on_free) or its
// header is broken, for check_recycled_unpatterned to decide.
[[gnu::always_inline]] inline bool check_recycled_patterned(const char* inner, unsigned bucket) noexcept {
  void* block = const_cast<char*>(inner) + sizeof(Header);
  const Header& header = header_of(block);
  // The state and fill bytes together.
  std::uint16_t state_and_fill;
  static_assert(offsetof(Header, fill) == offsetof(Header, state) + 1);
  std::memcpy(&state_and_fill, &header.state, sizeof state_and_fill);
  constexpr std::uint16_t freed_with_pattern = state_freed | (std::uint16_t{freed_pattern} << 8);
  if (state_and_fill != freed_with_pattern) [[unlikely]] return false;
  const auto& pieces = bucket_checked_table.pieces[bucket];
  if (!pieces_hold(block, FillPieces{pieces.second, pieces.third, pieces.last}, freed_bytes.bytes)) [[unlikely]] {
    report_write_after_free(block);
  }
  return true;
}

// A candidate about to be reused: nobody wrote into it while it waited.
inline void check_recycled(const char* inner, unsigned bucket) noexcept {
  if (!check_recycled_patterned(inner, bucket)) check_recycled_unpatterned(const_cast<char*>(inner) + sizeof(Header), bucket);
}

// A guarded block is filled like any other and waits in the guarded-region
// cache (its quarantine) with its pages resident.
[[gnu::noinline]] void free_guarded(void* block, Header& header, std::size_t size) noexcept {
  const bool zero_everything = options::value(options::Option::zero_on_free) != 0;
  header.fill = zero_everything ? 0 : freed_pattern;
  // What freed_bytes_intact checks (a block shrunk in place below 16 bytes
  // still has its region's room past it).
  const std::size_t checked = filled_bytes(size);
  std::memset(block, header.fill, zero_everything && size > checked ? size : checked);
  hardening::guarded_free(block);
}

// Fills what the quarantine checks later (everything, with zero_on_free),
// and returns the whole pages of a large block to the OS while it waits, so
// that freeing it twice is still caught but it holds little memory.
// Returns the bytes the quarantine should account for.
std::size_t fill_freed_block(void* block, std::size_t size, std::uint8_t fill, bool zero_everything) noexcept {
  const std::size_t checked = filled_bytes(size);
  if (size < discard_threshold) [[likely]] {
    if (zero_everything) {
      std::memset(block, fill, size > checked ? size : checked);
    } else {
      fill_head(block, checked, fill_bytes(fill));
    }
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

// The bytes a freed block of `size` will hold while it waits (see fill_freed_block).
std::size_t held_bytes_for(std::size_t size) noexcept {
  return sizeof(Header) + (size < discard_threshold ? size : fill_check_limit + platform::page_size());
}

[[gnu::noinline]] void free_without_quarantine(void* block, Validated validated, bool zero) noexcept {
  if (zero) std::memset(block, 0, validated.size);
  release_memory(block, *validated.header);
}

// Over budget: the oldest entries leave (never the newest, which is at most
// a quarter of the budget).
[[gnu::noinline]] void quarantine_trim(ThreadCache& cache) noexcept {
  while (cache.bytes > cache.budget) {
    const hardening::QuarantineEntry oldest = hardening::quarantine_take_oldest(cache);
    if (!recycle_into_bucket(cache, oldest)) check_and_free_quarantined(oldest.block, oldest.bytes);
  }
}

// quarantine_hold_quick's end when the entry that left did not become a
// candidate: it is checked and given back, then the budget is kept.
[[gnu::noinline]] void quarantine_release_and_trim(ThreadCache& cache, hardening::QuarantineEntry oldest) noexcept {
  check_and_free_quarantined(oldest.block, oldest.bytes);
  if (cache.bytes > cache.budget) quarantine_trim(cache);
}

// Holds a freed small block (`entry`, marked recyclable; `held` its header
// and bytes) in a quarantine that has a cache of its own: when the ring is
// full, the new entry takes the oldest one's place, which leaves. Whatever
// calls out of line is a tail call, so the free path needs no stack frame.
[[gnu::always_inline]] inline void quarantine_hold_quick(ThreadCache& cache, void* entry, std::size_t held) noexcept {
  constexpr unsigned mask = hardening::quarantine_capacity - 1;
  if (cache.count == hardening::quarantine_capacity) [[likely]] {
    const unsigned head = cache.head;
    const hardening::QuarantineEntry oldest = cache.ring[head];
    cache.ring[head] = hardening::QuarantineEntry{entry, held};
    cache.head = (head + 1) & mask;
    cache.bytes += held - oldest.bytes;
    if (!recycle_into_bucket(cache, oldest)) [[unlikely]] {
      quarantine_release_and_trim(cache, oldest);
      return;
    }
  } else {
    cache.ring[(cache.head + cache.count) & mask] = hardening::QuarantineEntry{entry, held};
    ++cache.count;
    cache.bytes += held;
  }
  if (cache.bytes > cache.budget) [[unlikely]] quarantine_trim(cache);
}

[[gnu::noinline]] void free_checked_slow(void* block, Validated validated) noexcept {
  Header& header = *validated.header;
  if (is_guarded(header)) [[unlikely]] {
    free_guarded(block, header, validated.size);
    return;
  }
  if constexpr (mitigations.has(Mitigation::quarantine)) {
    ThreadCache* cache = hardening::current_cache;
    if (cache == &hardening::empty_cache) [[unlikely]] {
      cache = hardening::thread_cache_create();
      if (cache == nullptr) {
        free_without_quarantine(block, validated, options::value(options::Option::zero_on_free) != 0);
        return;
      }
    }
    const bool zero_everything = cache->zero_on_free;
    // Too large for the main ring (16 KiB to 64 KiB by default): the
    // mid-size ring holds it, unless the quarantine is off. One call of
    // fill_freed_block for both rings keeps it inlined (a second call site
    // made GCC outline it: 33 more instructions per 1 KiB pair).
    const bool mid_size = held_bytes_for(validated.size) > cache->hold_limit;
    if (mid_size && cache->mid_budget == 0) [[unlikely]] {
      free_without_quarantine(block, validated, zero_everything);
      return;
    }
    header.fill = zero_everything ? 0 : freed_pattern;
    const std::size_t held = fill_freed_block(block, validated.size, header.fill, zero_everything) + sizeof(Header);
    if (mid_size) [[unlikely]] {
      hardening::mid_quarantine_hold(*cache, block, held);
      return;
    }
    const bool recyclable = header.offset == sizeof(Header) && validated.size <= shuffle_max_size;
    hardening::quarantine_hold(*cache, recyclable ? reinterpret_cast<void*>(address_of(block) | hardening::recyclable_mark) : block, held);
  } else {
    free_without_quarantine(block, validated, options::value(options::Option::zero_on_free) != 0);
  }
}

// A validated block is freed: marked freed, then on the quick path (a small
// block at the default offset, a thread with a quarantine and without
// zero_on_free) its first bytes are filled and it is held; anything else
// takes free_checked_slow.
[[gnu::always_inline]] inline void free_checked(void* block, Validated validated) noexcept {
  Header& header = *validated.header;
  header.state = state_freed;
  if constexpr (mitigations.has(Mitigation::quarantine)) {
    ThreadCache* cache = hardening::current_cache;
    if (validated.size < cache->quick_free_limit && header.offset == sizeof(Header)) [[likely]] {
      header.fill = freed_pattern;
      fill_pieces_at(block, fill_pieces_of_size(validated.size), freed_bytes.bytes);
      quarantine_hold_quick(*cache, reinterpret_cast<void*>(address_of(block) | hardening::recyclable_mark),
                            validated.size + sizeof(Header));
      return;
    }
  }
  free_checked_slow(block, validated);
}

// A block without shuffling: any size and alignment, straight from the fast
// allocator (or a guarded mapping).
[[gnu::noinline]] void* allocate_unshuffled(std::size_t size, std::size_t align, bool zeroed) noexcept {
  hardening::enable_metadata_guards();
  if (!is_valid_alignment(align)) return nullptr;
  if (size >= max_block_size) return nullptr;
  if constexpr (mitigations.has(Mitigation::guard_pages)) {
    if (size >= hardening::guarded_block_min) {
      // A fresh mapping reads as zero, so only a reused region needs a memset.
      bool fresh = false;
      if (void* block = hardening::guarded_map(sizeof(Header), size + canary_size, align, &fresh)) {
        if (zeroed && !fresh) std::memset(block, 0, size);
        write_block_metadata(block, size, align, 0);
        return block;
      }
    }
  }
  // The fast allocator's block has the default alignment and room for the
  // header before an aligned start: the block sits at the first multiple of
  // `align` at least a header past its start.
  const std::size_t room_before = align > default_alignment ? align : sizeof(Header);
  const std::size_t inner_size = room_before + size + canary_size;
  void* inner = zeroed ? fast::allocate_zeroed(inner_size, default_alignment) : fast::allocate(inner_size, default_alignment);
  if (inner == nullptr) return nullptr;
  const std::uintptr_t start = address_of(inner) + sizeof(Header);
  void* block = reinterpret_cast<void*>((start + align - 1) & ~(std::uintptr_t{align} - 1));
  write_block_metadata(block, size, align, address_of(block) - address_of(inner));
  return block;
}

// ---- the shuffle: a random choice among a few candidates of each small size ----



// Fills a bucket up with fresh candidates; false when the thread has no
// cache or memory ran out before the bucket held more than shuffle_min.
[[gnu::noinline, gnu::cold]] bool fill_bucket(unsigned bucket) noexcept {
  ThreadCache* cache = hardening::current_cache;
  if (cache == &hardening::empty_cache) {
    cache = hardening::thread_cache_create();
    if (cache == nullptr) return false;
  }
  std::uint8_t& count = cache->bucket_count[bucket];
  const auto& checked = bucket_checked_table.pieces[bucket];
  while (count < hardening::shuffle_fill) {
    char* inner = static_cast<char*>(fast::allocate_natural(bucket_bytes(bucket)));
    if (inner == nullptr) break;
    // Made to look like a block back from the quarantine (a freed header,
    // the bucket's checked bytes filled), so taking any candidate is the
    // same check with no branch or select on where it came from.
    void* block = inner + sizeof(Header);
    Header& header = header_of(block);
    header.state = state_freed;
    header.fill = freed_pattern;
    fill_pieces_at(block, FillPieces{checked.second, checked.third, checked.last}, freed_bytes.bytes);
    cache->candidates[bucket][count++] = inner;
  }
  return count > hardening::shuffle_min;
}

// take_candidate's end for a candidate that is not filled with the pattern
// (zeroed by zero_on_free, or its header broken): checked, then made live.
[[gnu::noinline]] void* take_unpatterned_candidate(char* inner, unsigned bucket, std::size_t size, bool zeroed) noexcept {
  void* block = inner + sizeof(Header);
  check_recycled_unpatterned(block, bucket);
  if (zeroed) std::memset(block, 0, size);
  write_block_metadata(block, size, default_alignment, sizeof(Header));
  return block;
}

// Takes the candidate of `bucket` (which holds `count`, more than
// shuffle_min) at random, checks it, and makes it a live block of `size`.
[[gnu::always_inline]] inline void* take_candidate(ThreadCache* cache, unsigned bucket, unsigned count, std::size_t size,
                                                   bool zeroed) noexcept {
  // The last candidate fills the taken one's place.
  const auto random = static_cast<std::uint32_t>(hardening::next_random(*cache) >> 32);
  const auto slot = static_cast<unsigned>((std::uint64_t{random} * count) >> 32);
  void** candidates = cache->candidates[bucket];
  const std::uintptr_t candidate = address_of(candidates[slot]);
  candidates[slot] = candidates[count - 1];
  cache->bucket_count[bucket] = static_cast<std::uint8_t>(count - 1);
  char* inner = reinterpret_cast<char*>(candidate);
  // A zeroed or broken candidate finishes out of line, as a tail call, so
  // the common path keeps nothing live across a call and needs no frame.
  if (!check_recycled_patterned(inner, bucket)) [[unlikely]] {
    return take_unpatterned_candidate(inner, bucket, size, zeroed);
  }
  void* block = inner + sizeof(Header);
  if (zeroed) std::memset(block, 0, size);
  // The thread has a cache (its buckets hold candidates), and creating it
  // drew the secret: a plain load, with no test for the first use and no
  // call to draw it, which also spares the fast path a stack frame.
  write_block_metadata(block, size, default_alignment, sizeof(Header),
                       hardening::process_secret.load(std::memory_order_relaxed));
  return block;
}

// A request that was not served from a bucket: a shuffled size whose bucket
// ran low is filled up first; anything else is served unshuffled.
// `natural`: align is natural_alignment(size) (computed here, off the fast path).
template <bool natural>
[[gnu::noinline]] void* allocate_slow(std::size_t size, std::size_t align, bool zeroed) noexcept {
  if constexpr (natural) align = natural_alignment(size);
  if constexpr (mitigations.has(Mitigation::random_choice)) {
    if (align <= default_alignment && is_valid_alignment(align) && size <= shuffle_max_size) {
      const unsigned bucket = bucket_of(size);
      if (fill_bucket(bucket)) {
        ThreadCache* cache = hardening::current_cache;
        return take_candidate(cache, bucket, cache->bucket_count[bucket], size, zeroed);
      }
    }
  }
  void* block = allocate_unshuffled(size, align, zeroed);
  // allocate_natural sets errno on failure, so malloc can tail-call it
  // (HardenedAllocator::allocate_sets_errno).
  if constexpr (natural) {
    if (block == nullptr) errno = ENOMEM;
  }
  return block;
}

// `natural`: align is natural_alignment(size), so valid and at most the
// default (and not read on the fast path).
template <bool natural = false>
[[gnu::always_inline]] inline void* allocate_block(std::size_t size, std::size_t align, bool zeroed) noexcept {
  if constexpr (mitigations.has(Mitigation::random_choice)) {
    if ((natural || (align <= default_alignment && is_valid_alignment(align))) && size <= shuffle_max_size) [[likely]] {
      const unsigned bucket = bucket_of(size);
      ThreadCache* cache = hardening::current_cache;
      const unsigned count = cache->bucket_count[bucket];
      if (count > hardening::shuffle_min) [[likely]] return take_candidate(cache, bucket, count, size, zeroed);
    }
  }
  return allocate_slow<natural>(size, align, zeroed);
}

}  // namespace


void* allocate(std::size_t size, std::size_t align) noexcept { return allocate_block(size, align, false); }
void* allocate_natural(std::size_t size) noexcept { return allocate_block<true>(size, 0, false); }
void* allocate_zeroed(std::size_t size, std::size_t align) noexcept { return allocate_block(size, align, true); }

void deallocate(void* block) noexcept {
  if (block == nullptr) return;
  free_checked(block, validate(block, "free", "double free of"));
}

void deallocate_sized(void* block, std::size_t size, std::size_t align) noexcept {
  if (block == nullptr) return;
  const Validated validated = validate(block, "sized delete", "double free of");
  if constexpr (mitigations.has(Mitigation::size_check)) {
    if (validated.size != size || (align > default_alignment && alignment_of(*validated.header) != align)) [[unlikely]] {
      Suffix suffix;
      suffix << " (allocated with size " << validated.size << " align " << alignment_of(*validated.header)
             << ", freed with size " << size << " align " << align << ") in sized delete";
      platform::fatal_error_at("globalloc: size mismatch in sized delete of block ", address_of(block), suffix.text);
    }
  }
  free_checked(block, validated);
}

void* reallocate(void* block, std::size_t new_size, std::size_t align) noexcept {
  if (block == nullptr) return allocate(new_size, align);
  const Validated validated = validate(block, "realloc", "realloc of freed block");
  if (align <= alignment_of(*validated.header) && fits_in_place(block, *validated.header, new_size, Shrink::to_half)) {
    write_block_metadata(block, new_size, alignment_of(*validated.header), validated.header->offset);
    return block;
  }
  const std::size_t kept_align = alignment_of(*validated.header) > align ? alignment_of(*validated.header) : align;
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
  write_block_metadata(block, new_size, alignment_of(header), header.offset);
  return new_size;
}

std::size_t usable_size(const void* block) noexcept {
  if (block == nullptr) return 0;
  return validate(const_cast<void*>(block), "malloc_usable_size", "use of freed block").size;
}

void flush_quarantine() noexcept {
  hardening::quarantine_flush_this_thread();
  hardening::guarded_flush_cache();
}
bool trim() noexcept {
  hardening::guarded_flush_cache();
  return fast::trim();
}
void set_zero_on_free(bool enabled) noexcept {
  options::set(options::Option::zero_on_free, enabled ? 1 : 0);
  hardening::quarantine_set_this_thread(static_cast<std::size_t>(options::value(options::Option::quarantine_bytes)),
                                        enabled);
}
void set_quarantine_bytes(std::size_t bytes) noexcept {
  options::set(options::Option::quarantine_bytes, static_cast<long>(bytes));
  hardening::quarantine_set_this_thread(bytes, options::value(options::Option::zero_on_free) != 0);
}

}  // namespace globalloc::hardened

namespace globalloc::hardening {

void release_quarantined(ThreadCache* recycle_into, void* block, std::size_t bytes) noexcept {
  hardened::release_quarantined_block(recycle_into, block, bytes);
}

void* check_candidate(void* candidate, unsigned bucket) noexcept {
  auto* inner = static_cast<char*>(candidate);
  hardened::check_recycled(inner, bucket);
  return inner;
}

void check_freed_guarded_block(void* block) noexcept {
  if (!hardened::freed_bytes_intact(block, header_of(block))) {
    hardened::report("write after free into block", block, "reuse after quarantine");
  }
}

constinit std::atomic<std::uint64_t> process_secret{0};

[[gnu::noinline, gnu::cold]] std::uint64_t make_secret() noexcept {
  std::uint64_t secret = platform::random_seed() | 1;
  std::uint64_t expected = 0;
  if (!process_secret.compare_exchange_strong(expected, secret, std::memory_order_acq_rel)) secret = expected;
  return secret;
}

}  // namespace globalloc::hardening
