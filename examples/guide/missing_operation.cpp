// A mistake, on purpose: an allocator without resize_in_place. Registering
// it fails to compile, and the error names the missing operation.
#include <cstdlib>

#include <globalloc/globalloc.hpp>

struct Incomplete {
  static void* allocate(globalloc::Layout layout) noexcept { return std::malloc(layout.size); }
  static void deallocate(void* block, globalloc::Layout) noexcept { std::free(block); }
  static void* reallocate(void* block, globalloc::Layout, std::size_t size) noexcept {
    return std::realloc(block, size);
  }
  static std::size_t usable_size(globalloc::Layout layout) noexcept { return layout.size; }
};

GLOBALLOC_GLOBAL_ALLOCATOR(Incomplete)

int main() { return 0; }
