// fuzz_replay: runs LLVMFuzzerTestOneInput without libFuzzer, so that every
// build (g++ included) exercises the fuzz harness.
//   fuzz_replay [--count N] [--max-length BYTES] [--seed S] [--allocator 0|1|2] [FILE...]
// Feeds N deterministic pseudo-random inputs (default 1000 inputs of 0..1024
// bytes from a fixed seed), then every FILE given (a crash reproducer or a
// corpus entry; a directory means every regular file in it). A failed check
// traps, so a non-zero exit or a signal is a failure. --allocator fixes the
// first byte of the random inputs (0 fast, 1 hardened, 2 system).
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

bool run_file(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    std::fprintf(stderr, "fuzz_replay: cannot read %s\n", path.c_str());
    return false;
  }
  const std::vector<char> bytes{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
  std::fprintf(stderr, "fuzz_replay: %s (%zu bytes)\n", path.c_str(), bytes.size());
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t count = 1000;
  std::size_t max_length = 1024;
  std::uint64_t seed = 0x676C6F62616C6C6Full;  // "globallo"
  int allocator = -1;
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if ((arg == "--count" || arg == "--max-length" || arg == "--seed" || arg == "--allocator") && i + 1 < argc) {
      const unsigned long long value = std::strtoull(argv[++i], nullptr, 0);
      if (arg == "--count") count = value;
      if (arg == "--max-length") max_length = value;
      if (arg == "--seed") seed = value;
      if (arg == "--allocator") allocator = static_cast<int>(value % 3);
    } else if (arg == "--help" || arg == "-h") {
      std::printf("usage: %s [--count N] [--max-length BYTES] [--seed S] [--allocator 0|1|2] [FILE|DIR...]\n", argv[0]);
      return 0;
    } else {
      files.emplace_back(arg);
    }
  }

  const auto start = std::chrono::steady_clock::now();
  std::uint64_t state = seed;
  std::vector<std::uint8_t> input;
  std::size_t total_bytes = 0;
  for (std::size_t n = 0; n < count; ++n) {
    const std::size_t length = static_cast<std::size_t>(splitmix64(state) % (max_length + 1));
    input.resize(length);
    for (std::size_t i = 0; i < length; i += 8) {
      const std::uint64_t word = splitmix64(state);
      std::memcpy(input.data() + i, &word, length - i < 8 ? length - i : 8);
    }
    if (allocator >= 0 && length > 0) input[0] = static_cast<std::uint8_t>(allocator);
    LLVMFuzzerTestOneInput(input.data(), input.size());
    total_bytes += length;
  }

  bool ok = true;
  std::size_t file_count = 0;
  for (const auto& path : files) {
    std::error_code error;
    if (std::filesystem::is_directory(path, error)) {
      for (const auto& entry : std::filesystem::directory_iterator(path)) {
        if (!entry.is_regular_file()) continue;
        ok = run_file(entry.path()) && ok;
        ++file_count;
      }
    } else {
      ok = run_file(path) && ok;
      ++file_count;
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("fuzz_replay: %zu random inputs (%zu bytes, seed %llu) and %zu files passed in %.2f s\n", count,
              total_bytes, static_cast<unsigned long long>(seed), file_count, seconds);
  return ok ? 0 : 1;
}
