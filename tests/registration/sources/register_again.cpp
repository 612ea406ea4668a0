// A second registration in the same program: this must not link.
#include <globalloc/registration.hpp>
#include <globalloc/size_header.hpp>
#include <globalloc/system_allocator.hpp>

#ifdef REGISTER_DIFFERENT_ALLOCATOR
GLOBALLOC_GLOBAL_ALLOCATOR_WITH_MALLOC(globalloc::WithSizeHeader<globalloc::SystemAllocator>)
#elif defined(REGISTER_NEW_DELETE_ONLY)
GLOBALLOC_GLOBAL_ALLOCATOR(globalloc::SystemAllocator)
#else
GLOBALLOC_GLOBAL_ALLOCATOR_WITH_MALLOC(globalloc::SystemAllocator)
#endif
