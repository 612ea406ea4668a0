// Misuse reports: the one-line messages printed before aborting when a
// program frees something it must not. Out of line and cold so the checks
// that call them cost a compare and a never-taken branch on the free path.
#pragma once

#include <cstdint>

namespace globalloc::fast {

[[noreturn, gnu::cold, gnu::noinline]] void report_double_free(const void* block, const char* operation) noexcept;
[[noreturn, gnu::cold, gnu::noinline]] void report_invalid_free(const void* block, const char* operation) noexcept;
/// realloc or resize_in_place ("realloc", "resize_in_place") of a block
/// that is already free.
[[noreturn, gnu::cold, gnu::noinline]] void report_freed_block_use(const void* block, const char* operation) noexcept;
/// An allocation found a free block whose link does not lead into its own
/// segment: the block was freed twice (and handed out once since, which
/// cleared its link) or written after it was freed.
[[noreturn, gnu::cold, gnu::noinline]] void report_corrupted_free_block(const void* block) noexcept;

/// What showed a double free that no single free could see.
enum class DoubleFreeEvidence {
  /// A free brought the current page's count of blocks in use to zero,
  /// which its pin rules out: the page counted a block freed twice.
  current_page_emptied,
  /// Every block of the page counts as free, but one does not hold a
  /// free-list link: it is still in use, and another was freed twice (or
  /// the program wrote into it after freeing it).
  block_in_use_in_free_page,
  /// A list of frees from other threads (a page's remote list, or a heap's
  /// list of frees into its full pages) runs in a circle, or a link of it
  /// leads nowhere: a block on it was freed again, which rewrote its link.
  remote_list_broken,
};
/// Reports a double free found by the page's counts rather than at the
/// free itself; `block` is the one the evidence names.
[[noreturn, gnu::cold, gnu::noinline]] void report_double_free_found(const void* block,
                                                                      DoubleFreeEvidence evidence) noexcept;

}  // namespace globalloc::fast
