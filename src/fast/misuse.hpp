// Misuse reports: the one-line messages printed before aborting when a
// program frees something it must not. Out of line and cold so the checks
// that call them cost a compare and a never-taken branch on the free path.
#pragma once

#include <cstdint>

namespace globalloc::fast {

[[noreturn, gnu::cold, gnu::noinline]] void report_double_free(const void* block, const char* operation) noexcept;
[[noreturn, gnu::cold, gnu::noinline]] void report_invalid_free(const void* block, const char* operation) noexcept;
/// An allocation found a free block whose link does not lead into its own
/// segment: the block was freed twice (and handed out once since, which
/// cleared its link) or written after it was freed.
[[noreturn, gnu::cold, gnu::noinline]] void report_corrupted_free_block(const void* block) noexcept;

struct Page;
/// The block's first word looks like a free-list link: reports a double free
/// when the block is on one of the page's owner-side lists (free or
/// local_free), returns otherwise.
[[gnu::cold, gnu::noinline]] void check_double_free(const Page* page, const void* block) noexcept;

}  // namespace globalloc::fast
