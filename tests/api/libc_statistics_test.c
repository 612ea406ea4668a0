/* glibc's heap statistics functions where the fast allocator is the global
 * one (src/override/libc_statistics.cpp): run under LD_PRELOAD of
 * libgloballoc.so, and linked with the fast allocator's registration. With
 * glibc's own versions in their place these figures stay at zero, because
 * nothing allocates from glibc's arenas any more, and the checks below fail. */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { small_count = 4000, small_size = 100 };
static const size_t large_size = (size_t)3 << 20;
static const size_t huge_size = (size_t)64 << 20;

/* Volatile, so that the compiler cannot drop an allocation it sees freed
 * unread. */
static void *volatile small_blocks[small_count];
static void *volatile large_block;
static void *volatile huge_block;

static int failures = 0;

static void expect(int condition, const char *what, size_t got, size_t want) {
  if (!condition) {
    fprintf(stderr, "FAILED: %s: got %zu, want %zu\n", what, got, want);
    ++failures;
  }
}

/* The output of `print` (which writes to the stream or descriptor it is given)
 * as a string. */
static const char *captured(void (*print)(FILE *), int from_stderr) {
  static char text[16384];
  FILE *file = tmpfile();
  if (file == NULL) return "";
  int saved = -1;
  if (from_stderr) {
    fflush(stderr);
    saved = dup(2);
    dup2(fileno(file), 2);
  }
  print(file);
  if (from_stderr) {
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
  }
  fflush(file);
  rewind(file);
  size_t length = fread(text, 1, sizeof text - 1, file);
  text[length] = '\0';
  fclose(file);
  return text;
}

static void print_info(FILE *file) {
  if (malloc_info(0, file) != 0) fprintf(stderr, "FAILED: malloc_info(0, file) did not return 0\n");
}
static void print_stats(FILE *file) {
  (void)file;
  malloc_stats();
}

int main(void) {
  const struct mallinfo2 before = mallinfo2();
  for (int i = 0; i < small_count; ++i) {
    small_blocks[i] = malloc(small_size);
    memset(small_blocks[i], 1, small_size);
  }
  large_block = malloc(large_size);
  memset(large_block, 1, large_size);
  huge_block = malloc(huge_size);
  memset(huge_block, 1, 4096);

  const struct mallinfo2 held = mallinfo2();
  const size_t live_growth = held.uordblks - before.uordblks;
  expect(held.uordblks >= before.uordblks && live_growth >= small_count * small_size + large_size,
         "uordblks grows by the small and large blocks", live_growth, small_count * small_size + large_size);
  expect(live_growth < small_count * small_size * 2 + large_size + (64 << 10),
         "uordblks grows by no more than their usable sizes", live_growth, small_count * small_size + large_size);
  expect(held.hblks == before.hblks + 1, "hblks counts the huge block", held.hblks, before.hblks + 1);
  expect(held.hblkhd - before.hblkhd >= huge_size, "hblkhd grows by the huge block", held.hblkhd - before.hblkhd,
         huge_size);
  expect(held.arena >= held.uordblks, "arena holds the live blocks", held.arena, held.uordblks);
  expect(held.fordblks == held.arena - held.uordblks, "fordblks is arena - uordblks", held.fordblks,
         held.arena - held.uordblks);

  /* mallinfo is deprecated in favour of mallinfo2, and still called by old
   * programs. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  const struct mallinfo narrow = mallinfo();
#pragma GCC diagnostic pop
  expect((size_t)narrow.uordblks >= small_count * small_size + large_size, "mallinfo's uordblks",
         (size_t)narrow.uordblks, small_count * small_size + large_size);

  const char *info = captured(print_info, 0);
  expect(strstr(info, "<malloc version=\"1\">") != NULL && strstr(info, "<total type=\"mmap\" count=\"") != NULL,
         "malloc_info writes glibc's XML elements", strlen(info), 1);
  expect(malloc_info(1, stdout) == EINVAL, "malloc_info with options other than 0 is EINVAL", 0, EINVAL);
  const char *stats = captured(print_stats, 1);
  expect(strstr(stats, "globalloc statistics") != NULL, "malloc_stats prints globalloc's table on stderr",
         strlen(stats), 1);

  for (int i = 0; i < small_count; ++i) free(small_blocks[i]);
  free(large_block);
  free(huge_block);
  const struct mallinfo2 after = mallinfo2();
  /* The calling thread's counts are current; a freed large block may stay
   * held (arena) for reuse until it is purged, but it is not live. */
  expect(after.uordblks <= before.uordblks + (64 << 10), "uordblks falls back after the frees", after.uordblks,
         before.uordblks);
  expect(after.hblkhd == before.hblkhd && after.hblks == before.hblks, "the huge block is gone from hblkhd",
         after.hblkhd, before.hblkhd);
  if (failures != 0) return 1;
  printf("libc statistics ok\n");
  return 0;
}
