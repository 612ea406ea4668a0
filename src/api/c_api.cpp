// The C API (include/globalloc/globalloc.h): the fast allocator's explicit
// entry points with C's failure conventions, through the same entry-point
// bodies the malloc override uses, so the two cannot disagree.
#include "globalloc/globalloc.h"

#include "globalloc/detail/entry_points.hpp"
#include "globalloc/fast_allocator.hpp"

namespace {
using Fast = globalloc::detail::EntryPoints<globalloc::FastAllocator>;
}

extern "C" {

void* globalloc_malloc(size_t size) noexcept { return Fast::malloc(size); }
void* globalloc_calloc(size_t count, size_t size) noexcept { return Fast::calloc(count, size); }
void* globalloc_realloc(void* block, size_t size) noexcept { return Fast::realloc(block, size); }
void* globalloc_aligned_alloc(size_t align, size_t size) noexcept { return Fast::aligned_alloc(align, size); }
void globalloc_free(void* block) noexcept { Fast::free(block); }
size_t globalloc_usable_size(const void* block) noexcept { return Fast::malloc_usable_size(const_cast<void*>(block)); }
void globalloc_purge(void) noexcept { globalloc::fast::purge(); }

}  // extern "C"
