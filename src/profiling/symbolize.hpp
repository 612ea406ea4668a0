// Names for the addresses of a stack, for the heap profile report: the
// module (executable or shared library) with the offset inside it, and the
// nearest exported symbol when there is one. Uses dladdr, which reads the
// loader's tables and does not allocate.
#pragma once

#include <cstdint>

namespace globalloc::profiling {

struct FrameDescription {
  const char* module;            ///< path of the executable or library; null when unknown
  std::uintptr_t module_offset;  ///< of the call instruction, for addr2line -e module
  const char* symbol;            ///< nearest dynamic symbol at or before it; null when unknown
  std::uintptr_t symbol_offset;  ///< of the call instruction from the symbol
};

/// Describes the call that `return_address` (a frame of a captured stack)
/// returns to; false when no loaded module contains it.
bool describe_frame(const void* return_address, FrameDescription* out) noexcept;

/// The number of frames at the top of a stack that belong to the allocator
/// (its slow path, then malloc or operator new), not to the program: frames
/// in the allocator's own shared library when it is preloaded, or named in
/// the globalloc namespace or after an allocation entry point. Never the
/// whole stack.
unsigned allocator_frame_count(void* const* frames, unsigned depth) noexcept;

}  // namespace globalloc::profiling
