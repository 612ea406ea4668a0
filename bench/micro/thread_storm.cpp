// thread-storm: many threads alive at once (default 3000, or argv[1]), each
// allocating 50 blocks of 16 to 1976 bytes (about as many size classes),
// waiting until all have, then freeing them and exiting. What a
// thread-per-connection server asks of an allocator when a burst of clients
// arrives: per-thread set-up and first-touch cost, per-thread memory, and
// its locks with many more threads than CPUs. Not one of the suite's
// workloads; run it with `globalloc compare --runs 5 -- build/bin/thread-storm`.
#include <pthread.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {
constexpr int kBlocksPerThread = 50;
pthread_barrier_t all_allocated;

void* thread_body(void*) {
  void* blocks[kBlocksPerThread];
  for (int i = 0; i < kBlocksPerThread; ++i) {
    const std::size_t size = 16 + static_cast<std::size_t>(i) * 40;
    blocks[i] = std::malloc(size);
    if (blocks[i] == nullptr) std::abort();
    std::memset(blocks[i], i, 16);
  }
  pthread_barrier_wait(&all_allocated);
  for (int i = 0; i < kBlocksPerThread; ++i) {
    const auto* bytes = static_cast<const unsigned char*>(blocks[i]);
    for (int b = 0; b < 16; ++b) {
      if (bytes[b] != i) std::abort();  // a block another thread wrote into
    }
    std::free(blocks[i]);
  }
  return nullptr;
}
}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 3000;
  if (threads < 1 || threads > 100000) {
    std::fprintf(stderr, "usage: thread-storm [threads: 1..100000]\n");
    return 2;
  }
  pthread_barrier_init(&all_allocated, nullptr, static_cast<unsigned>(threads) + 1);
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setstacksize(&attributes, 64 * 1024);  // thousands of threads: small stacks
  std::vector<pthread_t> ids(static_cast<std::size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    if (pthread_create(&ids[static_cast<std::size_t>(t)], &attributes, thread_body, nullptr) != 0) {
      std::fprintf(stderr, "thread-storm: could not start thread %d\n", t);
      return 1;
    }
  }
  pthread_barrier_wait(&all_allocated);
  for (pthread_t id : ids) pthread_join(id, nullptr);
  std::printf("threads=%d ok\n", threads);
  return 0;
}
