// Stack capture with libgcc's unwinder; see stack_capture.hpp. The unwinder
// finds each frame's unwind table through dl_iterate_phdr and keeps its
// caches in static storage: no malloc on this path.
#include "profiling/stack_capture.hpp"

#include <unwind.h>

namespace globalloc::profiling {
namespace {

struct Walk {
  void** frames;
  unsigned max;
  unsigned skip;
  unsigned count;
};

_Unwind_Reason_Code visit_frame(_Unwind_Context* context, void* argument) noexcept {
  Walk& walk = *static_cast<Walk*>(argument);
  const std::uintptr_t address = _Unwind_GetIP(context);
  if (address == 0) return _URC_END_OF_STACK;
  if (walk.skip > 0) {
    --walk.skip;
    return _URC_NO_REASON;
  }
  walk.frames[walk.count++] = reinterpret_cast<void*>(address);
  return walk.count == walk.max ? _URC_END_OF_STACK : _URC_NO_REASON;
}

}  // namespace

// Not inlined: the first frame the unwinder reports is this function's own,
// which the walk skips.
[[gnu::noinline]] unsigned capture_stack(void** frames, unsigned max, unsigned skip) noexcept {
  if (max == 0) return 0;
  Walk walk{frames, max, skip + 1, 0};
  _Unwind_Backtrace(visit_frame, &walk);
  return walk.count;
}

std::uint64_t hash_stack(void* const* frames, unsigned depth) noexcept {
  // FNV-1a over the addresses, then a final mix so nearby stacks spread.
  std::uint64_t hash = 0xcbf29ce484222325ULL ^ depth;
  for (unsigned i = 0; i < depth; ++i) {
    hash ^= reinterpret_cast<std::uintptr_t>(frames[i]);
    hash *= 0x100000001b3ULL;
  }
  hash ^= hash >> 33;
  hash *= 0xff51afd7ed558ccdULL;
  hash ^= hash >> 33;
  return hash == 0 ? 1 : hash;
}

}  // namespace globalloc::profiling
