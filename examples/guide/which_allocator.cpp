// Which allocator serves this program? CMakeLists.txt builds this one file
// several times, linked with a different allocator each time; the code never
// changes. Every new, delete, malloc and free below (and in the standard
// library) goes to the allocator the executable was linked with.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <globalloc/globalloc.hpp>

// Defined by the registration the artifact was linked with (no header declares it).
extern "C" const char* globalloc_global_allocator_name(void) noexcept;

int main() {
  std::vector<std::string> words;
  for (int i = 0; i < 1000; ++i) words.push_back("word number " + std::to_string(i));
  void* block = std::malloc(100);
  std::free(block);

  std::printf("global allocator: %s\n", globalloc_global_allocator_name());
  std::printf("words: %zu\n", words.size());
  return words.size() == 1000 ? 0 : 1;
}
