// Fatal error reports: one line on stderr, then abort. Written with raw
// write(2) calls and a stack buffer because the allocator cannot use stdio (it
// allocates) while reporting a corrupted heap.
#pragma once

#include <cstdint>

namespace globalloc::platform {

/// Writes "<prefix>0x<address><suffix>\n" to stderr in one write and aborts.
[[noreturn]] void fatal_error_at(const char* prefix, std::uintptr_t address, const char* suffix) noexcept;

/// Writes "<message>\n" to stderr in one write and aborts.
[[noreturn]] void fatal_error(const char* message) noexcept;

}  // namespace globalloc::platform
