/* globalloc's C API: the fast allocator called explicitly (without replacing
 * malloc), its statistics, and control of its memory. Usable from C and C++.
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
  uint64_t large_blocks;         /**< live large blocks (one per segment) */
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
/** Writes the statistics as a readable table to stderr (per size class too). */
void globalloc_stats_print(void) GLOBALLOC_NOEXCEPT;
/** As globalloc_stats_print, to a file descriptor. */
void globalloc_stats_print_fd(int fd) GLOBALLOC_NOEXCEPT;

#ifdef __cplusplus
}
#endif
#undef GLOBALLOC_NOEXCEPT

#endif /* GLOBALLOC_GLOBALLOC_H */
