/* The C API, from C: every function, its failure conventions, and a C
 * compiler reading the header. Exits non-zero naming the first failed check. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "globalloc/globalloc.h"

#define CHECK(condition)                                        \
  do {                                                          \
    if (!(condition)) {                                         \
      fprintf(stderr, "check failed: %s (line %d)\n", #condition, __LINE__); \
      return 1;                                                 \
    }                                                           \
  } while (0)

/* Keeps the compiler from reasoning about sizes. */
static size_t opaque(size_t value) {
  __asm__ volatile("" : "+r"(value));
  return value;
}

int main(void) {
  char* block = globalloc_malloc(100);
  CHECK(block != NULL);
  memset(block, 'a', 100);
  CHECK(globalloc_usable_size(block) >= 100);
  block = globalloc_realloc(block, 100000);
  CHECK(block != NULL && block[99] == 'a');

  errno = 0;
  CHECK(globalloc_realloc(block, opaque(SIZE_MAX)) == NULL && errno == ENOMEM);
  CHECK(block[0] == 'a');
  globalloc_free(block);

  errno = 0;
  CHECK(globalloc_calloc(opaque(SIZE_MAX / 2), 3) == NULL && errno == ENOMEM);
  unsigned char* zeroed = globalloc_calloc(1000, 10);
  CHECK(zeroed != NULL);
  for (int i = 0; i < 10000; ++i) CHECK(zeroed[i] == 0);
  globalloc_free(zeroed);

  void* aligned = globalloc_aligned_alloc(4096, 10);
  CHECK(aligned != NULL && ((uintptr_t)aligned % 4096) == 0);
  globalloc_free(aligned);
  errno = 0;
  CHECK(globalloc_aligned_alloc(opaque(24), 10) == NULL && errno == EINVAL);
  globalloc_free(NULL);

  void* blocks[1000];
  for (int i = 0; i < 1000; ++i) blocks[i] = globalloc_malloc(opaque(4096));
  globalloc_stats stats;
  globalloc_stats_get(&stats);
  CHECK(stats.bytes_mapped >= 1000 * 4096);
  CHECK(stats.heaps_in_use >= 1);
  for (int i = 0; i < 1000; ++i) globalloc_free(blocks[i]);
  globalloc_purge();
  globalloc_stats after;
  globalloc_stats_get(&after);
  CHECK(after.bytes_purged_total > stats.bytes_purged_total || after.bytes_mapped < stats.bytes_mapped);

  /* Per size class: the class of 48-byte blocks follows this thread's blocks. */
  unsigned classes = globalloc_stats_class_count();
  CHECK(classes > 0);
  unsigned class_48 = classes;
  uint64_t previous_size = 0;
  for (unsigned i = 0; i < classes; ++i) {
    globalloc_class_stats one;
    CHECK(globalloc_stats_class(i, &one) == 0);
    CHECK(one.block_size > previous_size);
    previous_size = one.block_size;
    if (class_48 == classes && one.block_size >= 48) class_48 = i;
  }
  globalloc_class_stats no_such_class;
  CHECK(globalloc_stats_class(classes, &no_such_class) == -1);
  CHECK(class_48 < classes);
  globalloc_class_stats class_before, class_holding, class_after;
  CHECK(globalloc_stats_class(class_48, &class_before) == 0);
  CHECK(class_before.block_size == 48);
  void* small_blocks[3000];
  for (int i = 0; i < 3000; ++i) small_blocks[i] = globalloc_malloc(opaque(48));
  CHECK(globalloc_stats_class(class_48, &class_holding) == 0);
  CHECK(class_holding.live_blocks >= class_before.live_blocks + 3000);
  CHECK(class_holding.requests_total >= class_before.requests_total + 3000);
  CHECK(class_holding.pages >= 1);

  /* Per thread: this thread has a heap holding those blocks. */
  size_t threads = globalloc_stats_threads(NULL, 0);
  CHECK(threads >= 1);
  globalloc_thread_stats thread_stats[8];
  CHECK(globalloc_stats_threads(thread_stats, 8) == threads);
  int holder = 0;
  for (size_t i = 0; i < threads && i < 8; ++i) {
    if (thread_stats[i].live_blocks >= 3000 && thread_stats[i].live_bytes >= 3000 * 48 &&
        thread_stats[i].requests_total >= 3000 && thread_stats[i].pages >= 1 && thread_stats[i].thread_id != 0) {
      holder = 1;
    }
  }
  CHECK(holder);

  for (int i = 0; i < 3000; ++i) globalloc_free(small_blocks[i]);
  CHECK(globalloc_stats_class(class_48, &class_after) == 0);
  CHECK(class_after.live_blocks + 3000 <= class_holding.live_blocks);
  CHECK(class_after.requests_total >= class_holding.requests_total);

  /* The profiler is off unless asked for. */
  CHECK(globalloc_profile_enabled() == 0);
  globalloc_profile_totals profile;
  globalloc_profile_get(&profile);
  CHECK(profile.samples_total == 0 && profile.sites == 0);

  globalloc_stats_print();
  puts("c api ok");
  return 0;
}
