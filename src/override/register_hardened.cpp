// Linking this object makes the hardened allocator the artifact's global
// allocator (target globalloc::hardened); built into libgloballoc-hardened.so
// it hardens any program through LD_PRELOAD.
#include "globalloc/hardened_allocator.hpp"
#include "globalloc/globalloc.h"
#include "globalloc/registration.hpp"

GLOBALLOC_GLOBAL_ALLOCATOR_WITH_MALLOC(globalloc::HardenedAllocator)

// The statistics report (GLOBALLOC_OPTIONS=stats=1 prints it at exit) comes
// with the allocator: this reference makes the linker take it from the core.
[[gnu::used]] static void (*const globalloc_keep_statistics_report)(void) = &globalloc_stats_print;
