// The process's memory as the OS sees it (resident set now and at its peak),
// for statistics, and raw reads of /proc files and writes to a file
// descriptor. None of them allocates.
#pragma once

#include <cstddef>
#include <cstdint>

namespace globalloc::platform {

/// Reads up to `size - 1` bytes of a /proc file (or any small file) into
/// `buffer`, terminated; the length read, or -1.
long read_proc_file(const char* path, char* buffer, unsigned long size) noexcept;
/// Resident bytes of the whole process now (0 if the OS cannot say).
std::uint64_t resident_bytes() noexcept;
/// The largest resident size the process has had.
std::uint64_t peak_resident_bytes() noexcept;
/// Writes all of `size` bytes to `fd`, retrying short writes; gives up on error.
void write_all(int fd, const char* text, std::size_t size) noexcept;

}  // namespace globalloc::platform
