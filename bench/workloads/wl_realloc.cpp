// wl-realloc: many buffers grown by realloc a little at a time, interleaved
// so that growing in place is not always possible, with an occasional shrink.
// The contents written before each realloc must survive it.
#include "workload.hpp"

#include <vector>

namespace {
constexpr const char* kName = "wl-realloc";

using Buffer = workload::TaggedBlock;
}  // namespace

int main(int argc, char** argv) {
  auto options = workload::parse(argc, argv, kName, workload::Threads::one, "realloc growth of interleaved buffers");
  const std::size_t generations = workload::scaled(options, 15, 1);
  const std::size_t buffer_count = 256;
  const std::size_t limit = 32 * 1024;
  workload::Random random(99);
  std::uint64_t checksum = 0;

  for (std::size_t generation = 0; generation < generations; ++generation) {
    std::vector<Buffer> buffers(buffer_count);
    for (std::size_t b = 0; b < buffer_count; ++b) buffers[b].tag = generation * buffer_count + b;
    bool growing = true;
    while (growing) {
      growing = false;
      for (Buffer& buffer : buffers) {
        if (buffer.size >= limit) continue;
        growing = true;
        std::size_t old_size = buffer.size;
        // Mostly growth, sometimes a small shrink; the size drifts upwards
        // by about 200 bytes a step until it reaches the limit.
        std::size_t new_size = old_size + random.between(1, 512);
        if ((random.next() % 16) == 0 && old_size > 1024) new_size = old_size - random.between(1, 512);
        void* grown = std::realloc(buffer.data, new_size);
        if (grown == nullptr) workload::fail(kName, "realloc returned null", new_size);
        buffer.data = static_cast<unsigned char*>(grown);
        // The bytes kept must be intact: check the last few of the old size.
        std::size_t kept = std::min(old_size, new_size);
        for (std::size_t i = kept > 16 ? kept - 16 : 0; i < kept; ++i)
          if (buffer.data[i] != workload::pattern_byte(buffer.tag, i))
            workload::fail(kName, "contents lost by realloc", buffer.tag);
        for (std::size_t i = kept; i < new_size; ++i)
          buffer.data[i] = workload::pattern_byte(buffer.tag, i);
        buffer.size = new_size;
      }
    }
    for (Buffer& buffer : buffers) {
      workload::check_pattern(kName, buffer.data, buffer.size, buffer.tag);
      checksum = workload::mix(checksum, buffer.size);
      std::free(buffer.data);
    }
  }
  workload::print_checksum(checksum);
  return 0;
}
