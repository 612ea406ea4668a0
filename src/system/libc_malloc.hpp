// The C library's own allocation functions, reached under names that a
// replacement of malloc in the process does not interpose (glibc exports
// __libc_malloc and friends for exactly this use). The two functions glibc
// exports under no such name, malloc_usable_size and malloc_trim, are looked
// up once in libc.so.6 itself.
#pragma once

#include <cstddef>

namespace globalloc::libc {

void* malloc(std::size_t size) noexcept;
void* calloc(std::size_t count, std::size_t size) noexcept;
void* realloc(void* block, std::size_t size) noexcept;
void* memalign(std::size_t align, std::size_t size) noexcept;
void free(void* block) noexcept;
std::size_t usable_size(const void* block) noexcept;
/// glibc's malloc_trim(pad): 1 when memory went back to the OS.
int trim(std::size_t pad) noexcept;
/// The largest alignment every block of the C library's malloc has.
inline constexpr std::size_t guaranteed_alignment = 16;
/// A lower bound of usable_size for a block of `size` bytes from malloc.
std::size_t minimum_usable_size(std::size_t size) noexcept;

}  // namespace globalloc::libc
