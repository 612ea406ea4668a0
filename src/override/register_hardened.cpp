// Linking this object makes the hardened allocator the artifact's global
// allocator (target globalloc::hardened); built into libgloballoc-hardened.so
// it hardens any program through LD_PRELOAD.
#include "globalloc/hardened_allocator.hpp"
#include "globalloc/registration.hpp"

GLOBALLOC_GLOBAL_ALLOCATOR_WITH_MALLOC(globalloc::HardenedAllocator)
