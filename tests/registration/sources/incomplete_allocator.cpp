// Registers an allocator that lacks one operation of the contract (chosen
// with -DMISSING_<OPERATION>, or none), to check that the build names it.
#include <cstddef>
#include <cstdlib>

#include <globalloc/registration.hpp>

struct IncompleteAllocator {
#ifndef MISSING_ALLOCATE
  static void* allocate(globalloc::Layout layout) noexcept { return std::aligned_alloc(layout.align, layout.size); }
#endif
#ifndef MISSING_DEALLOCATE
  static void deallocate(void* block, globalloc::Layout) noexcept { std::free(block); }
#endif
#ifndef MISSING_REALLOCATE
  static void* reallocate(void*, globalloc::Layout, std::size_t) noexcept { return nullptr; }
#endif
#ifndef MISSING_RESIZE_IN_PLACE
  static std::size_t resize_in_place(void*, globalloc::Layout layout, std::size_t) noexcept { return layout.size; }
#endif
#ifndef MISSING_USABLE_SIZE
  static std::size_t usable_size(globalloc::Layout layout) noexcept { return layout.size; }
#endif
};

GLOBALLOC_GLOBAL_ALLOCATOR(IncompleteAllocator)

int main() { return 0; }
