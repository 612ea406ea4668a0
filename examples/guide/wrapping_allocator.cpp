// A wrapper around another allocator, registered as the global allocator:
// LargeBlockLog over the fast allocator serves every new, delete, malloc
// and free of this program, and logs the blocks of 1 MiB or more.
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <globalloc/globalloc.hpp>

#include "large_block_log.hpp"

using LoggedFast = LargeBlockLog<globalloc::FastAllocator>;
GLOBALLOC_GLOBAL_ALLOCATOR_WITH_MALLOC(LoggedFast)

// C++ lets a compiler leave out an allocation whose memory nothing reads
// (clang does at -O2, malloc/free pairs included); storing the address in
// a volatile keeps the two below, so the log has something to show.
void* volatile keep;

int main() {
  std::vector<int> small(100, 1);  // 400 bytes: not logged
  {
    std::vector<char> image(4 << 20, 'x');  // operator new: "allocate 4194304"
    keep = image.data();
  }  // sized delete: "deallocate 4194304"
  void* buffer = std::malloc(2 << 20);  // malloc: "allocate 2097152"
  keep = buffer;
  std::free(buffer);  // free: "free", with the usable size

  std::printf("global allocator: %s\n", globalloc_global_allocator_name());
  return small.size() == 100 ? 0 : 1;
}
