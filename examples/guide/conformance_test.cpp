// Testing your own allocator: the conformance suite that every allocator of
// globalloc passes (alignments up to 2 MiB, size 0, reallocate keeping the
// contents and leaving the block intact on failure, impossible sizes,
// threads freeing each other's blocks, ...), run here on the wrapper of
// large_block_log.hpp. Link with GTest::gtest_main.
#include <globalloc/testing/conformance.hpp>

#include "large_block_log.hpp"

using LoggedFast = LargeBlockLog<globalloc::FastAllocator>;
GLOBALLOC_CONFORMANCE_SUITE(LargeBlockLogOverFast, LoggedFast);
