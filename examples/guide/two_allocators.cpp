// A mistake, on purpose. This file registers the system allocator, and
// CMakeLists.txt also links the executable with globalloc_link(), which
// gives it the fast allocator: two global allocators in one program. It does
// not link, and the linker names the rule (the test checks the message).
#include <globalloc/globalloc.hpp>

GLOBALLOC_GLOBAL_ALLOCATOR_WITH_MALLOC(globalloc::SystemAllocator)

int main() { return 0; }
