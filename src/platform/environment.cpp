// Linux: getenv, or /proc/self/environ before libc has set `environ`.
#include "platform/environment.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace globalloc::platform {

const char* environment_value(const char* name, char* buffer, std::size_t size) noexcept {
  if (environ != nullptr) return std::getenv(name);
  return initial_environment_value(name, buffer, size);
}

const char* initial_environment_value(const char* name, char* buffer, std::size_t size) noexcept {
  if (size == 0) return nullptr;
  const int saved_errno = errno;
  const int fd = ::open("/proc/self/environ", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    errno = saved_errno;
    return nullptr;
  }
  // Entries are "NAME=value\0"; read in chunks, matching "name=" at the
  // start of each entry and copying the value of the one that matches.
  const std::size_t name_length = std::strlen(name);
  std::size_t position = 0;  // bytes of the current entry seen so far
  bool matching = true;      // they match name (and then '=') so far
  bool in_value = false;
  bool done = false;
  bool found = false;
  std::size_t copied = 0;
  char chunk[1024];
  while (!done) {
    const ssize_t got = ::read(fd, chunk, sizeof chunk);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      found = in_value;  // a last entry without its terminator
      break;
    }
    for (ssize_t i = 0; i < got && !done; ++i) {
      const char c = chunk[i];
      if (in_value) {
        if (c == '\0') {
          found = done = true;
        } else if (copied + 1 < size) {
          buffer[copied++] = c;
        } else {
          done = true;  // too long for the buffer: as if unset
        }
        continue;
      }
      if (c == '\0') {
        position = 0;
        matching = true;
        continue;
      }
      if (matching) {
        if (position < name_length) {
          matching = c == name[position];
        } else {
          matching = false;
          in_value = c == '=';
        }
      }
      ++position;
    }
  }
  ::close(fd);
  errno = saved_errno;
  if (!found) return nullptr;
  buffer[copied] = '\0';
  return buffer;
}

}  // namespace globalloc::platform
