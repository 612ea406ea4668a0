// Stack traces for the heap profiler, captured without allocating: the
// profiler runs inside malloc, so it cannot use glibc's backtrace() (which
// may dlopen libgcc and call malloc on its first use). This walks the stack
// with libgcc's unwinder (_Unwind_Backtrace) directly, which reads the
// binaries' .eh_frame tables and works without frame pointers.
#pragma once

#include <cstdint>

namespace globalloc::profiling {

/// The deepest stack a sample keeps; deeper stacks are cut at their outer end.
inline constexpr unsigned max_stack_depth = 32;

/// Fills `frames` with up to `max` return addresses of the calling thread,
/// innermost first, leaving out capture_stack itself and the `skip` frames
/// above it (the profiler's own). Returns how many it stored.
unsigned capture_stack(void** frames, unsigned max, unsigned skip) noexcept;

/// A hash of a stack (never 0, which marks an empty site slot).
std::uint64_t hash_stack(void* const* frames, unsigned depth) noexcept;

}  // namespace globalloc::profiling
