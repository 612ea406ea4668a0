// Shared helpers for the wl-* workload programs: command line (scale and
// thread count), a fixed-seed PRNG, a content checksum that does not depend
// on addresses or thread timing, and the self-check failure path.
//
// A workload prints `checksum=<hex>` only after every verification passed, so
// the same workload gives the same line under every allocator; a mismatch is
// reported on stderr with exit status 1.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace workload {

// splitmix64: tiny, fast, and identical on every platform, unlike
// std::uniform_int_distribution whose output is implementation-defined.
class Random {
public:
  explicit Random(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [low, high].
  std::uint64_t between(std::uint64_t low, std::uint64_t high) {
    return low + next() % (high - low + 1);
  }

private:
  std::uint64_t state_;
};

// Order-dependent mixing for sequences produced in a fixed order.
inline std::uint64_t mix(std::uint64_t hash, std::uint64_t value) {
  hash ^= value + 0x9e3779b97f4a7c15ULL + (hash << 6) + (hash >> 2);
  return hash * 0xff51afd7ed558ccdULL;
}

// The byte a block of a given tag holds at a given offset: lets any thread
// verify a block knowing only its tag.
inline unsigned char pattern_byte(std::uint64_t tag, std::size_t offset) {
  return static_cast<unsigned char>((tag * 131u) ^ (offset * 7u) ^ (offset >> 8));
}

inline void fill_pattern(void* block, std::size_t size, std::uint64_t tag) {
  auto* bytes = static_cast<unsigned char*>(block);
  for (std::size_t i = 0; i < size; ++i) bytes[i] = pattern_byte(tag, i);
}

[[noreturn]] inline void fail(const char* workload, const char* what, std::uint64_t detail = 0) {
  std::fprintf(stderr, "%s: verification failed: %s (%llu)\n", workload, what,
               static_cast<unsigned long long>(detail));
  std::exit(1);
}

inline void check_pattern(const char* workload, const void* block, std::size_t size,
                          std::uint64_t tag) {
  const auto* bytes = static_cast<const unsigned char*>(block);
  for (std::size_t i = 0; i < size; ++i)
    if (bytes[i] != pattern_byte(tag, i)) fail(workload, "block contents changed", tag);
}

// Sparse variant for large blocks: fills and checks one byte per 512, plus
// both ends, so the pages are touched without spending the run on memset.
inline void fill_sparse(void* block, std::size_t size, std::uint64_t tag) {
  auto* bytes = static_cast<unsigned char*>(block);
  for (std::size_t i = 0; i < size; i += 512) bytes[i] = pattern_byte(tag, i);
  bytes[size - 1] = pattern_byte(tag, size - 1);
}

inline void check_sparse(const char* workload, const void* block, std::size_t size,
                         std::uint64_t tag) {
  const auto* bytes = static_cast<const unsigned char*>(block);
  for (std::size_t i = 0; i < size; i += 512)
    if (bytes[i] != pattern_byte(tag, i)) fail(workload, "large block contents changed", tag);
  if (bytes[size - 1] != pattern_byte(tag, size - 1))
    fail(workload, "large block tail changed", tag);
}

inline void* checked_malloc(const char* workload, std::size_t size) {
  void* block = std::malloc(size);
  if (block == nullptr) fail(workload, "malloc returned null", size);
  return block;
}

struct Options {
  double scale = 1.0;  // multiplies the amount of work; 1.0 is about a second under glibc here
  unsigned threads = 0;
};

// Whether a workload runs one thread whatever --threads says, or splits its
// work among --threads threads. `--describe` prints it as threads=one or
// threads=many, so that `globalloc bench` can run the single-thread ones on
// one CPU without a list of names of its own.
enum class Threads { one, many };

inline unsigned default_threads() {
  unsigned hardware = std::thread::hardware_concurrency();
  return std::clamp(hardware == 0 ? 2u : hardware, 2u, 8u);
}

inline void usage(const char* workload, const char* description) {
  std::fprintf(stderr,
               "usage: %s [SCALE] [--threads N] | --describe\n  %s\n"
               "  SCALE multiplies the work (default 1.0, about a second under glibc);\n"
               "  prints checksum=<hex> after verifying its own results.\n"
               "  --describe prints threads=one or threads=many and does no work.\n",
               workload, description);
}

inline Options parse(int argc, char** argv, const char* workload, Threads threads, const char* description) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      usage(workload, description);
      std::exit(0);
    } else if (arg == "--describe") {
      std::printf("threads=%s\n", threads == Threads::one ? "one" : "many");
      std::exit(0);
    } else if (arg == "--threads" && i + 1 < argc) {
      options.threads = static_cast<unsigned>(std::strtoul(argv[++i], nullptr, 10));
    } else if (arg.rfind("--threads=", 0) == 0) {
      options.threads = static_cast<unsigned>(std::strtoul(arg.c_str() + 10, nullptr, 10));
    } else {
      char* end = nullptr;
      double scale = std::strtod(arg.c_str(), &end);
      if (end == arg.c_str() || *end != '\0' || !(scale > 0)) {
        usage(workload, description);
        std::exit(2);
      }
      options.scale = scale;
    }
  }
  if (options.threads == 0) options.threads = default_threads();
  options.threads = std::clamp(options.threads, 1u, 64u);
  return options;
}

// Work counts scaled, never below a floor that keeps every code path exercised.
inline std::size_t scaled(const Options& options, std::size_t base, std::size_t minimum = 1) {
  return std::max<std::size_t>(minimum, static_cast<std::size_t>(base * options.scale));
}

inline void print_checksum(std::uint64_t checksum) {
  std::printf("checksum=%016llx\n", static_cast<unsigned long long>(checksum));
}

/// A block a workload owns, with what identifies its contents: `tag` in its
/// first eight bytes and a pattern byte derived from the tag in its last one
/// (so blocks that are stamped are at least 9 bytes).
struct TaggedBlock {
  unsigned char* data = nullptr;
  std::size_t size = 0;
  std::uint64_t tag = 0;
};

inline void stamp(TaggedBlock& block) {
  std::memcpy(block.data, &block.tag, sizeof block.tag);
  block.data[block.size - 1] = pattern_byte(block.tag, block.size - 1);
}

/// Fails the workload when a stamped block's head or tail changed.
inline void check_stamp(const char* workload, const TaggedBlock& block) {
  std::uint64_t stored;
  std::memcpy(&stored, block.data, sizeof stored);
  if (stored != block.tag) fail(workload, "block head changed", block.tag);
  if (block.data[block.size - 1] != pattern_byte(block.tag, block.size - 1))
    fail(workload, "block tail changed", block.tag);
}

}  // namespace workload
