// A shared library built with globalloc_link(guide-plugin): it gets no
// allocator of its own. Its new[] is whatever the process that loads it has.
#include <cstddef>
#include <cstring>

extern "C" __attribute__((visibility("default"))) char* plugin_copy(const char* text) {
  const std::size_t size = std::strlen(text) + 1;
  char* copy = new char[size];  // served by the host executable's allocator
  std::memcpy(copy, text, size);
  return copy;
}
