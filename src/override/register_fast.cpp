// Linking this object makes the fast allocator the artifact's global
// allocator: the default of every executable (target globalloc::fast), and,
// built into libgloballoc.so, the preload library.
#include "globalloc/fast_allocator.hpp"
#include "globalloc/globalloc.h"
#include "globalloc/registration.hpp"

GLOBALLOC_GLOBAL_ALLOCATOR_WITH_MALLOC(globalloc::FastAllocator)

// The statistics report (GLOBALLOC_OPTIONS=stats=1 prints it at exit) comes
// with the allocator: this reference makes the linker take it from the core.
[[gnu::used]] static void (*const globalloc_keep_statistics_report)(void) = &globalloc_stats_print;
