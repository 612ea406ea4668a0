// A program outside the globalloc tree linked with globalloc_link(target):
// it gets the default allocator of executables, and malloc and operator new
// of the process are its definitions.
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

extern "C" const char* globalloc_global_allocator_name(void) noexcept;

int main() {
  int failures = 0;
  const char* name = globalloc_global_allocator_name();
  std::printf("registered allocator: %s (expected %s)\n", name, GLOBALLOC_EXPECTED_ALLOCATOR);
  if (std::strcmp(name, GLOBALLOC_EXPECTED_ALLOCATOR) != 0) ++failures;

  Dl_info self{}, found{};
  if (::dladdr(reinterpret_cast<void*>(&globalloc_global_allocator_name), &self) == 0) ++failures;
  for (const char* symbol : {"malloc", "free", "_Znwm", "_ZdlPv"}) {
    void* address = ::dlsym(RTLD_DEFAULT, symbol);
    const bool ours = address != nullptr && ::dladdr(address, &found) != 0 && found.dli_fbase == self.dli_fbase;
    std::printf("%s: %s resolves to %s\n", ours ? "ok  " : "FAIL", symbol, ours ? "this program" : "another object");
    if (!ours) ++failures;
  }
  char* text = new char[32];
  std::strcpy(text, "served");
  void* block = std::malloc(1000);
  if (block == nullptr) ++failures;
  std::free(block);
  delete[] text;
  return failures == 0 ? 0 : 1;
}
