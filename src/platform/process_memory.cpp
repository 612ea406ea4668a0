// Linux: /proc/self/statm for the resident set, getrusage for its peak.
#include "platform/process_memory.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>

#include "platform/os_memory.hpp"

namespace globalloc::platform {

std::uint64_t resident_bytes() noexcept {
  const int fd = ::open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char text[128];
  const ssize_t length = ::read(fd, text, sizeof text - 1);
  ::close(fd);
  if (length <= 0) return 0;
  text[length] = '\0';
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
