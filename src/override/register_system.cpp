// Linking this object makes the system allocator the artifact's global
// allocator (target globalloc::system).
#include "globalloc/registration.hpp"
#include "globalloc/system_allocator.hpp"

GLOBALLOC_GLOBAL_ALLOCATOR_WITH_MALLOC(globalloc::SystemAllocator)
