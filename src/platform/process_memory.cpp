// Linux: /proc/self/statm for the resident set, getrusage for its peak.
#include "platform/process_memory.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>

#include "platform/os_memory.hpp"

namespace globalloc::platform {

long read_proc_file(const char* path, char* buffer, unsigned long size) noexcept {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  long length = 0;
  while (length < static_cast<long>(size) - 1) {
    const long got = ::read(fd, buffer + length, size - 1 - static_cast<unsigned long>(length));
    if (got < 0) {
      ::close(fd);
      return -1;
    }
    if (got == 0) break;
    length += got;
  }
  ::close(fd);
  buffer[length] = '\0';
  return length;
}

std::uint64_t resident_bytes() noexcept {
  char text[128];
  if (read_proc_file("/proc/self/statm", text, sizeof text) <= 0) return 0;
  // "size resident shared ...", in pages: skip the first field.
  const char* cursor = text;
  while (*cursor != '\0' && *cursor != ' ') ++cursor;
  std::uint64_t pages = 0;
  while (*cursor == ' ') ++cursor;
  while (*cursor >= '0' && *cursor <= '9') pages = pages * 10 + static_cast<std::uint64_t>(*cursor++ - '0');
  return pages * page_size();
}

std::uint64_t peak_resident_bytes() noexcept {
  struct rusage usage {};
  if (::getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  return static_cast<std::uint64_t>(usage.ru_maxrss) * 1024;  // kilobytes on Linux
}

void write_all(int fd, const char* text, std::size_t size) noexcept {
  while (size > 0) {
    const ssize_t written = ::write(fd, text, size);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return;
    text += written;
    size -= static_cast<std::size_t>(written);
  }
}

}  // namespace globalloc::platform
