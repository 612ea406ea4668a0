// A program that knows nothing of globalloc: no include, no globalloc_link.
// The tests run it with LD_PRELOAD=libgloballoc.so GLOBALLOC_OPTIONS=stats=1,
// the way to change the allocator of a program you cannot rebuild.
#include <cstdio>
#include <map>
#include <string>

int main() {
  std::map<int, std::string> table;
  for (int i = 0; i < 10000; ++i) table[i] = std::string(64, 'a' + i % 26);
  std::printf("entries: %zu\n", table.size());
}
