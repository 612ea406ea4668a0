// The kernel's flags for the mapping that holds an address, from
// /proc/self/smaps (tests only): "hg" there means the mapping was advised
// MADV_HUGEPAGE.
#pragma once

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

/// The VmFlags line of the mapping holding `address`; "" when none does.
inline std::string vm_flags_of(const void* address) {
  const auto target = reinterpret_cast<std::uintptr_t>(address);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    std::uintptr_t start = 0;
    std::uintptr_t end = 0;
    char dash = 0;
    std::istringstream header(line);
    // A mapping's first line: "start-end perms offset dev inode path".
    if (header >> std::hex >> start >> dash >> end && dash == '-' && line.find(':') > line.find(' ')) {
      inside = target >= start && target < end;
      continue;
    }
    if (inside && line.rfind("VmFlags:", 0) == 0) return line;
  }
  return "";
}

/// Whether this kernel has transparent huge pages at all.
inline bool kernel_has_transparent_huge_pages() {
  return static_cast<bool>(std::ifstream("/sys/kernel/mm/transparent_hugepage/enabled"));
}
