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
  globalloc_stats_print();
  puts("c api ok");
  return 0;
}
