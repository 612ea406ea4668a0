// Frame descriptions with dladdr; see symbolize.hpp. A return address points
// after its call instruction, so the lookup uses the byte before it: the call
// itself, which matters when the call is the last instruction of a function.
#include "profiling/symbolize.hpp"

#include <dlfcn.h>
#include <sys/auxv.h>

#include <cstring>

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

namespace {

bool starts_with(const char* text, const char* prefix) noexcept {
  return std::strncmp(text, prefix, std::strlen(prefix)) == 0;
}

/// Symbols of the allocator: anything in namespace globalloc, the malloc
/// family and every operator new (mangled _Znw.../_Zna...).
bool is_allocator_symbol(const char* name) noexcept {
  if (name == nullptr) return false;
  if (starts_with(name, "_ZN9globalloc") || starts_with(name, "_Znw") || starts_with(name, "_Zna")) return true;
  static const char* const entry_points[] = {"malloc",       "calloc",        "realloc", "reallocarray",
                                             "free",         "posix_memalign", "aligned_alloc", "memalign",
                                             "valloc",       "pvalloc"};
  for (const char* entry : entry_points) {
    if (std::strcmp(name, entry) == 0) return true;
  }
  return false;
}

/// The allocator's own module when it is a library apart from the
/// executable (a preload), else null: then only names tell its frames.
const void* separate_allocator_module() noexcept {
  Dl_info self{};
  if (::dladdr(reinterpret_cast<const void*>(&allocator_frame_count), &self) == 0) return nullptr;
  Dl_info executable{};
  const unsigned long entry = ::getauxval(AT_ENTRY);
  if (entry != 0 && ::dladdr(reinterpret_cast<const void*>(entry), &executable) != 0 &&
      executable.dli_fbase == self.dli_fbase) {
    return nullptr;
  }
  return self.dli_fbase;
}

}  // namespace

unsigned allocator_frame_count(void* const* frames, unsigned depth) noexcept {
  const void* module = separate_allocator_module();
  unsigned count = 0;
  while (count < depth) {
    const auto call = reinterpret_cast<std::uintptr_t>(frames[count]) - 1;
    Dl_info info{};
    if (::dladdr(reinterpret_cast<const void*>(call), &info) == 0) break;
    const bool ours = (module != nullptr && info.dli_fbase == module) || is_allocator_symbol(info.dli_sname);
    if (!ours) break;
    ++count;
  }
  return count < depth ? count : 0;
}

}  // namespace globalloc::profiling
