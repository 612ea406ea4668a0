// Linking this object makes mimalloc the artifact's global allocator
// (target globalloc::mimalloc), the peer backend of the original design's alloc_jemalloc.
#include "globalloc/backends/mimalloc.hpp"
#include "globalloc/registration.hpp"

GLOBALLOC_GLOBAL_ALLOCATOR_WITH_MALLOC(globalloc::MimallocAllocator)
