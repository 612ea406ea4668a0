// mprotect(PROT_NONE) for guard pages (memory_protection.hpp). errno is kept:
// this runs inside malloc.
#include "platform/memory_protection.hpp"

#include <sys/mman.h>

#include <cerrno>

namespace globalloc::platform {

bool protect_no_access(void* region, std::size_t size) noexcept {
  const int saved = errno;
  const bool done = ::mprotect(region, size, PROT_NONE) == 0;
  errno = saved;
  return done;
}

}  // namespace globalloc::platform
