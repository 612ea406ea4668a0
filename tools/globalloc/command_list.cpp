// `globalloc list`: the allocators found, with their libraries, and the
// missing ones with the reason.
#include <cstdio>

#include "allocators.hpp"
#include "command_line.hpp"
#include "commands.hpp"

namespace globalloc::tool {

int command_list(const std::vector<std::string>& args) {
  if (!args.empty()) throw UsageError("list", "unexpected argument '" + args.front() + "'");
  AllocatorDiscovery discovery = discover_allocators();
  for (const auto& allocator : discovery.found)
    std::printf("%-10s %s%s\n", allocator.name.c_str(),
                allocator.library.empty() ? "(the C library's malloc, no preload)"
                                          : allocator.library.c_str(),
                allocator.ours ? "  [globalloc]" : "");
  for (const auto& note : discovery.notes) std::printf("# %s\n", note.c_str());
  return 0;
}

}  // namespace globalloc::tool
