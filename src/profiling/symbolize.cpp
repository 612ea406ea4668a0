// Frame descriptions with dladdr; see symbolize.hpp. A return address points
// after its call instruction, so the lookup uses the byte before it: the call
// itself, which matters when the call is the last instruction of a function.
#include "profiling/symbolize.hpp"

#include <dlfcn.h>

namespace globalloc::profiling {

bool describe_frame(const void* return_address, FrameDescription* out) noexcept {
  const auto call = reinterpret_cast<std::uintptr_t>(return_address) - 1;
  Dl_info info{};
  if (::dladdr(reinterpret_cast<const void*>(call), &info) == 0) return false;
  out->module = info.dli_fname != nullptr && info.dli_fname[0] != '\0' ? info.dli_fname : nullptr;
  out->module_offset = call - reinterpret_cast<std::uintptr_t>(info.dli_fbase);
  out->symbol = info.dli_sname;
  out->symbol_offset = info.dli_saddr != nullptr ? call - reinterpret_cast<std::uintptr_t>(info.dli_saddr) : 0;
  return true;
}

}  // namespace globalloc::profiling
