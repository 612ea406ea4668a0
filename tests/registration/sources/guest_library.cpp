// A shared library linked with globalloc_link(lib): a guest in someone
// else's process, with no global allocator of its own. Its new[] and malloc
// must be served by whatever the host executable registered.
#include <cstddef>
#include <cstdlib>
#include <new>

#define GUEST_API extern "C" __attribute__((visibility("default")))

GUEST_API char* guest_new_array(std::size_t size) { return new char[size]; }
GUEST_API void guest_delete_array(char* block) { delete[] block; }
GUEST_API void* guest_malloc(std::size_t size) { return std::malloc(size); }
GUEST_API void guest_free(void* block) { std::free(block); }

// The addresses the library's calls resolve to (through its GOT), so the
// host can see whose definitions they are.
GUEST_API void* guest_malloc_address() { return reinterpret_cast<void*>(&std::malloc); }
GUEST_API void* guest_new_array_address() {
  void* (*function)(std::size_t) = &::operator new[];
  return reinterpret_cast<void*>(function);
}
