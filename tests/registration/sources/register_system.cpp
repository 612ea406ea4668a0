// One registration of the system allocator, with a main that uses it.
#include <cstdlib>
#include <cstring>

#include <globalloc/registration.hpp>
#include <globalloc/system_allocator.hpp>

GLOBALLOC_GLOBAL_ALLOCATOR_WITH_MALLOC(globalloc::SystemAllocator)

extern "C" const char* globalloc_global_allocator_name(void) noexcept;

int main() {
  char* text = new char[16];
  std::strcpy(text, "registered");
  void* block = std::malloc(100);
  const bool ok = block != nullptr && std::strcmp(globalloc_global_allocator_name(), "system") == 0;
  std::free(block);
  delete[] text;
  return ok ? 0 : 1;
}
