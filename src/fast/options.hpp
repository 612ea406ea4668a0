// Run-time options of the fast allocator, stored in globalloc's one option
// table (src/options/options.hpp), which reads GLOBALLOC_OPTIONS without
// allocating the first time the allocator initialises.
#pragma once

namespace globalloc::fast {

/// Milliseconds a free page waits before its memory is returned to the OS;
/// 0 returns it at once, a negative value never (except through purge()).
void set_purge_delay_ms(long delay_ms) noexcept;
long purge_delay_ms() noexcept;

/// Whether blocks with a mapping of their own (huge blocks) ask the OS for
/// transparent huge pages (option huge_pages, on by default).
bool purge_thread_enabled() noexcept;
void set_purge_thread_enabled(bool enabled) noexcept;

bool huge_pages_enabled() noexcept;
/// Whether the segments of small and medium pages ask for them too
/// (huge_pages=2): fewer TLB misses for many scattered blocks, at the cost of
/// resident memory, since the kernel backs whole 2 MiB ranges.
bool huge_pages_for_small_blocks() noexcept;

/// Allocations a thread makes from the starter heaps before it sets up its
/// own heap (option starter_allocations; starter_heaps.hpp).
unsigned starter_allocations() noexcept;

/// Parses GLOBALLOC_OPTIONS once ("key=value,key=value"; docs/options.md).
void load_options_from_environment() noexcept;

}  // namespace globalloc::fast
