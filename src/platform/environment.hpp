// Environment variables for the allocator's options, also before the C
// library has set up `environ`: a first allocation can come from a
// .preinit_array function (a sanitizer runtime's, say), which runs before
// libc's own initialization, and getenv then finds nothing. Neither
// function allocates.
#pragma once

#include <cstddef>

namespace globalloc::platform {

/// The value of `name`: getenv's once the C library is up; before that, the
/// process's initial environment (initial_environment_value). Null when
/// unset.
const char* environment_value(const char* name, char* buffer, std::size_t size) noexcept;

/// The value of `name` in the environment the process started with
/// (/proc/self/environ), copied into `buffer` with its terminator. Null
/// when unset, when the value does not fit, or when /proc cannot be read.
/// Leaves errno as it was.
const char* initial_environment_value(const char* name, char* buffer, std::size_t size) noexcept;

}  // namespace globalloc::platform
