// Linking this object makes the fast allocator the artifact's global
// allocator: the default of every executable (target globalloc::fast), and,
// built into libgloballoc.so, the preload library.
#include "globalloc/fast_allocator.hpp"
#include "globalloc/registration.hpp"

GLOBALLOC_GLOBAL_ALLOCATOR_WITH_MALLOC(globalloc::FastAllocator)
