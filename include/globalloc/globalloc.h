/* globalloc's C API: the fast allocator called explicitly (without replacing
 * malloc), its statistics, its heap profiler, and control of its memory. Usable from C and C++.
 * Every function is safe to call before main and from any thread. */
#ifndef GLOBALLOC_GLOBALLOC_H
#define GLOBALLOC_GLOBALLOC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#define GLOBALLOC_NOEXCEPT noexcept
#else
#define GLOBALLOC_NOEXCEPT
#endif

/** The name of the artifact's global allocator ("fast", "system", ...), defined
 *  by the registration macro (GLOBALLOC_GLOBAL_ALLOCATOR); a program or library
 *  without a registration of its own reaches its host's. */
const char* globalloc_global_allocator_name(void) GLOBALLOC_NOEXCEPT;

/** A block of at least `size` bytes from the fast allocator (16-byte aligned,
 *  or less for sizes under 16), or NULL with errno = ENOMEM. */
void* globalloc_malloc(size_t size) GLOBALLOC_NOEXCEPT;
/** `count * size` zero bytes; NULL with errno = ENOMEM on overflow or exhaustion. */
void* globalloc_calloc(size_t count, size_t size) GLOBALLOC_NOEXCEPT;
/** Resizes a block from globalloc_malloc and friends; NULL (errno = ENOMEM) leaves it intact. */
void* globalloc_realloc(void* block, size_t size) GLOBALLOC_NOEXCEPT;
/** A block aligned to `align` (a power of two), or NULL (errno = EINVAL for a bad alignment). */
void* globalloc_aligned_alloc(size_t align, size_t size) GLOBALLOC_NOEXCEPT;
/** Frees a block of the fast allocator; NULL is a no-op. */
void globalloc_free(void* block) GLOBALLOC_NOEXCEPT;
/** Bytes the block really holds. */
size_t globalloc_usable_size(const void* block) GLOBALLOC_NOEXCEPT;
/** Returns free memory to the operating system now, without waiting for the purge delay. */
void globalloc_purge(void) GLOBALLOC_NOEXCEPT;

/** A snapshot of the fast allocator's statistics. */
typedef struct globalloc_stats {
  uint64_t bytes_mapped;         /**< address space reserved from the OS */
  uint64_t bytes_committed;      /**< mapped bytes that may be resident */
  uint64_t bytes_resident;       /**< resident set of the whole process, from the OS */
  uint64_t bytes_peak_resident;  /**< peak resident set of the process */
  uint64_t bytes_purged_total;   /**< bytes returned to the OS, ever */
  uint64_t purge_operations_total; /**< times a range was returned to the OS, ever */
  uint64_t pages_in_use;         /**< pages serving the small and medium size classes */
  uint64_t large_blocks;         /**< live large blocks (above 64 KiB, up to a segment) */
  uint64_t large_bytes;          /**< bytes of the live large blocks (rounded up to whole OS pages) */
  uint64_t huge_blocks;          /**< live huge blocks (mapped on their own) */
  uint64_t huge_bytes;           /**< bytes of the live huge blocks (rounded up to whole OS pages) */
  uint64_t segments_in_use;      /**< segments serving small, medium or large blocks now (exited threads' included) */
  uint64_t segments_cached;      /**< free segments kept mapped for reuse */
  uint64_t heaps_in_use;         /**< threads that have a heap now */
  uint64_t heaps_created_total;  /**< thread heaps created, ever */
} globalloc_stats;

/** Fills `out` with the current statistics. */
void globalloc_stats_get(globalloc_stats* out) GLOBALLOC_NOEXCEPT;
/** Writes the statistics as a readable table to stderr (per size class and
 *  per thread too). */
void globalloc_stats_print(void) GLOBALLOC_NOEXCEPT;
/** As globalloc_stats_print, to a file descriptor. */
void globalloc_stats_print_fd(int fd) GLOBALLOC_NOEXCEPT;

/** One size class of the fast allocator (small and medium blocks). Threads
 *  publish their counts on their slow paths and the calling thread at the
 *  query, so another thread's figures may lag by what it did since. */
typedef struct globalloc_class_stats {
  uint64_t block_size;      /**< bytes of each block of the class */
  uint64_t pages;           /**< pages serving the class now */
  uint64_t live_blocks;     /**< blocks handed out and not yet freed */
  uint64_t requests_total;  /**< blocks handed out, ever */
} globalloc_class_stats;

/** The number of size classes: valid indexes of globalloc_stats_class are 0 to this minus 1. */
unsigned globalloc_stats_class_count(void) GLOBALLOC_NOEXCEPT;
/** Fills `out` with size class `index`; returns 0, or -1 (and leaves `out`
 *  alone) when there is no such class. Classes are in increasing block size. */
int globalloc_stats_class(unsigned index, globalloc_class_stats* out) GLOBALLOC_NOEXCEPT;

/** One thread's heap (its small and medium blocks; large and huge blocks
 *  belong to no thread), published as for globalloc_class_stats. */
typedef struct globalloc_thread_stats {
  uint64_t thread_id;       /**< the kernel's thread id (gettid); 0 for a starter heap, which threads share for their first blocks (option starter_allocations) */
  uint64_t live_blocks;     /**< blocks of this heap handed out and not yet freed */
  uint64_t live_bytes;      /**< their usable bytes */
  uint64_t requests_total;  /**< blocks handed out by this heap, ever */
  uint64_t pages;           /**< pages the heap holds */
} globalloc_thread_stats;

/** Fills up to `max` entries of `out` with the threads that have a heap now
 *  (and the starter heaps in use, thread id 0)
 *  and returns how many threads have one (which may exceed `max`; `out` may
 *  be NULL when `max` is 0). */
size_t globalloc_stats_threads(globalloc_thread_stats* out, size_t max) GLOBALLOC_NOEXCEPT;

/** Heap profiling (docs/profiling.md): the fast allocator samples about one
 *  allocation per interval bytes with its stack. GLOBALLOC_OPTIONS=prof=1
 *  turns it on from the start of the process; these functions turn it on and
 *  off from code and report what it found. */
typedef struct globalloc_profile_totals {
  uint64_t samples_total;     /**< allocations sampled, ever */
  uint64_t live_samples;      /**< sampled blocks not yet freed */
  uint64_t allocated_bytes;   /**< bytes allocated since profiling started (estimated from the samples) */
  uint64_t allocated_blocks;  /**< blocks allocated since profiling started (estimated) */
  uint64_t live_bytes;        /**< of those, bytes still live (estimated) */
  uint64_t live_blocks;       /**< of those, blocks still live (estimated) */
  uint64_t sites;             /**< distinct allocating stacks seen */
  uint64_t samples_dropped;   /**< samples not recorded because the profiler's tables were full */
} globalloc_profile_totals;

/** 1 when allocations are being sampled now, else 0. */
int globalloc_profile_enabled(void) GLOBALLOC_NOEXCEPT;
/** Starts sampling about one allocation per `mean_interval_bytes` (or changes
 *  the interval); returns 0, or -1 for an interval of 0 or when the
 *  profiler's tables cannot be mapped. What was recorded before is kept. */
int globalloc_profile_start(size_t mean_interval_bytes) GLOBALLOC_NOEXCEPT;
/** Stops sampling; sampled blocks still leave the live figures when freed. */
void globalloc_profile_stop(void) GLOBALLOC_NOEXCEPT;
/** Fills `out` with the profile's totals (all zero when never started). */
void globalloc_profile_get(globalloc_profile_totals* out) GLOBALLOC_NOEXCEPT;
/** Writes the profile report (the top sites by live and by allocated bytes,
 *  each with its stack) to stderr; one line saying so when profiling never
 *  started. */
void globalloc_profile_report(void) GLOBALLOC_NOEXCEPT;
/** As globalloc_profile_report, to a file descriptor. */
void globalloc_profile_report_fd(int fd) GLOBALLOC_NOEXCEPT;

#ifdef __cplusplus
}
#endif
#undef GLOBALLOC_NOEXCEPT

#endif /* GLOBALLOC_GLOBALLOC_H */
