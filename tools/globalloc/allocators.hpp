// The allocators globalloc knows, and which of them this machine has.
// glibc is the baseline (no preload); the others are shared libraries
// injected with LD_PRELOAD: this project's own (found in <bin>/../lib or
// GLOBALLOC_LIBDIR) and the peers from the distribution's packages.
#pragma once

#include <string>
#include <vector>

namespace globalloc::tool {

struct Allocator {
  std::string name;
  std::string library;  // empty for glibc: nothing to preload
  bool ours = false;    // built by this project (not a peer)
};

struct AllocatorDiscovery {
  std::vector<Allocator> found;    // in the fixed order of known_allocator_names()
  std::vector<std::string> notes;  // one line per known allocator that is missing
};

// Every allocator name globalloc understands, in report order.
const std::vector<std::string>& known_allocator_names();
bool is_known_allocator(const std::string& name);
// "glibc, fast, hardened, ..." for error messages.
std::string known_allocator_list();

AllocatorDiscovery discover_allocators();

// Folder of this executable (from /proc/self/exe), e.g. build/bin.
std::string executable_directory();
// Where this project's libraries are: GLOBALLOC_LIBDIR or <bin>/../lib.
std::string project_library_directory();

// The environment a child gets under `allocator`: the current one with the
// library put first in LD_PRELOAD (kept as it is for glibc), plus `extra`
// entries ("NAME=value", replacing any NAME already set).
std::vector<std::string> child_environment(const Allocator& allocator,
                                           const std::vector<std::string>& extra = {});

}  // namespace globalloc::tool
