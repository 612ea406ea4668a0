/* The C API reached through the preload library: a program built without
 * globalloc finds globalloc_* with dlsym once libgloballoc.so is preloaded,
 * as a jemalloc user finds mallctl. Argument: the expected allocator name. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "globalloc/globalloc.h"

static void* need(const char* name) {
  void* symbol = dlsym(RTLD_DEFAULT, name);
  if (symbol == NULL) {
    fprintf(stderr, "%s not found: is the preload library loaded?\n", name);
    exit(1);
  }
  return symbol;
}

int main(int argc, char** argv) {
  const char* expected = argc > 1 ? argv[1] : "fast";
  const char* (*name)(void) = (const char* (*)(void))need("globalloc_global_allocator_name");
  void (*stats_get)(globalloc_stats*) = (void (*)(globalloc_stats*))need("globalloc_stats_get");
  void (*purge)(void) = (void (*)(void))need("globalloc_purge");
  size_t (*usable)(const void*) = (size_t (*)(const void*))need("globalloc_usable_size");
  if (strcmp(name(), expected) != 0) {
    fprintf(stderr, "allocator is %s, expected %s\n", name(), expected);
    return 1;
  }
  enum { count = 4000 };
  static void* blocks[count];
  for (int i = 0; i < count; ++i) {
    blocks[i] = malloc(100);
    memset(blocks[i], 1, 100);
  }
  if (usable(blocks[0]) < 100) {
    fprintf(stderr, "usable size %zu below 100\n", usable(blocks[0]));
    return 1;
  }
  globalloc_stats held;
  stats_get(&held);
  for (int i = 0; i < count; ++i) free(blocks[i]);
  purge();
  globalloc_stats after;
  stats_get(&after);
  if (held.pages_in_use == 0 || held.heaps_in_use == 0 || held.bytes_committed == 0) {
    fprintf(stderr, "statistics empty while blocks are held: pages %llu heaps %llu\n",
            (unsigned long long)held.pages_in_use, (unsigned long long)held.heaps_in_use);
    return 1;
  }
  if (after.purge_operations_total <= held.purge_operations_total && after.bytes_committed >= held.bytes_committed) {
    fprintf(stderr, "purge returned nothing\n");
    return 1;
  }
  printf("preload c api ok (%s)\n", name());
  return 0;
}
