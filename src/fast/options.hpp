// Run-time options of the fast allocator. The lead's option parser sets them
// through these functions; options.cpp also reads GLOBALLOC_OPTIONS itself
// (without allocating) the first time the allocator initialises.
#pragma once

namespace globalloc::fast {

/// Milliseconds a free page waits before its memory is returned to the OS;
/// 0 returns it at once, a negative value never (except through purge()).
void set_purge_delay_ms(long delay_ms) noexcept;
long purge_delay_ms() noexcept;

/// Parses GLOBALLOC_OPTIONS ("key=value,key=value"; known key: purge_delay_ms).
/// Unknown keys are ignored: they belong to other parts of globalloc.
void load_options_from_environment() noexcept;

}  // namespace globalloc::fast
