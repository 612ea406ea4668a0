// fastpath-loop ITERATIONS SIZE [aligned ALIGNMENT]: ITERATIONS malloc/free
// pairs of SIZE bytes and nothing else, for counting instructions with
// callgrind. The difference between N and 2N iterations is N pairs: program
// start-up and the allocator's initialisation cancel out.
#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: fastpath-loop ITERATIONS SIZE [aligned ALIGNMENT]\n");
    return 2;
  }
  const long iterations = std::strtol(argv[1], nullptr, 10);
  const std::size_t size = std::strtoul(argv[2], nullptr, 10);
  const std::size_t alignment =
      argc >= 5 && std::strcmp(argv[3], "aligned") == 0 ? std::strtoul(argv[4], nullptr, 10) : 0;
  // Warm the size up once, so the first refill happens in both runs alike.
  std::free(std::malloc(size));
  void* volatile sink = nullptr;
  for (long i = 0; i < iterations; ++i) {
    void* block = alignment != 0 ? std::aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment)
                                 : std::malloc(size);
    sink = block;
    std::free(block);
  }
  (void)sink;
  return 0;
}
