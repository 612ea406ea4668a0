// Linking this object makes jemalloc the artifact's global allocator
// (target globalloc::jemalloc), the peer backend of the original design's alloc_jemalloc.
#include "globalloc/backends/jemalloc.hpp"
#include "globalloc/registration.hpp"

GLOBALLOC_GLOBAL_ALLOCATOR_WITH_MALLOC(globalloc::JemallocAllocator)
