// Linking this object makes tcmalloc the artifact's global allocator
// (target globalloc::tcmalloc), the peer backend of the original design's alloc_jemalloc.
#include "globalloc/backends/tcmalloc.hpp"
#include "globalloc/registration.hpp"

GLOBALLOC_GLOBAL_ALLOCATOR_WITH_MALLOC(globalloc::TcmallocAllocator)
