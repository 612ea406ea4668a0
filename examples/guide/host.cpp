// The executable that loads the plugin owns the process and so chooses the
// allocator: a block the plugin allocates is freed here, by the same one.
#include <cstdio>

#include <globalloc/globalloc.hpp>

// Defined by the registration the artifact was linked with (no header declares it).
extern "C" const char* globalloc_global_allocator_name(void) noexcept;

extern "C" char* plugin_copy(const char* text);

int main() {
  char* copy = plugin_copy("made by the plugin");
  std::printf("%s, freed by the host; allocator: %s\n", copy, globalloc_global_allocator_name());
  delete[] copy;
}
