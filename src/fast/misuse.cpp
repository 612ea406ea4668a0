// The misuse reports of misuse.hpp, in the format the misuse tests expect:
//   globalloc: double free of 0x... in free
//   globalloc: free of invalid pointer 0x... (not allocated by globalloc) in free
//   globalloc: double free of 0x... (or a write after free into it) found in a later allocation
//   globalloc: double free found ... (from a page's counts: report_double_free_found)
#include "fast/misuse.hpp"

#include "fast/segment.hpp"
#include "platform/fatal.hpp"

namespace globalloc::fast {

namespace {
enum class Operation { free, realloc, resize_in_place };

Operation operation_of(const char* operation) noexcept {
  if (operation == nullptr) return Operation::free;
  if (__builtin_strcmp(operation, "realloc") == 0) return Operation::realloc;
  if (__builtin_strcmp(operation, "resize_in_place") == 0) return Operation::resize_in_place;
  return Operation::free;
}

const char* suffix_for(const char* operation, bool invalid) noexcept {
  // The operation names are fixed strings, so the suffixes can be too.
  switch (operation_of(operation)) {
    case Operation::realloc:
      return invalid ? " (not allocated by globalloc) in realloc" : " in realloc";
    case Operation::resize_in_place:
      return invalid ? " (not allocated by globalloc) in resize_in_place" : " in resize_in_place";
    case Operation::free:
      break;
  }
  return invalid ? " (not allocated by globalloc) in free" : " in free";
}
}  // namespace

void report_double_free(const void* block, const char* operation) noexcept {
  platform::fatal_error_at("globalloc: double free of ", reinterpret_cast<std::uintptr_t>(block),
                           suffix_for(operation, false));
}

void report_invalid_free(const void* block, const char* operation) noexcept {
  // An address in memory that the segment caches still hold, or that went
  // back to the OS lately, was the allocator's: its block was freed (a large
  // block whose segment fell empty, a huge block), and the pointer is stale.
  if (segment_memory_was_freed(block)) {
    if (operation_of(operation) == Operation::free) report_double_free(block, operation);
    report_freed_block_use(block, operation);
  }
  platform::fatal_error_at("globalloc: free of invalid pointer ", reinterpret_cast<std::uintptr_t>(block),
                           suffix_for(operation, true));
}

void report_freed_block_use(const void* block, const char* operation) noexcept {
  const bool is_resize = operation_of(operation) == Operation::resize_in_place;
  platform::fatal_error_at(is_resize ? "globalloc: resize of freed block " : "globalloc: realloc of freed block ",
                           reinterpret_cast<std::uintptr_t>(block), suffix_for(operation, false));
}

void report_corrupted_free_block(const void* block) noexcept {
  platform::fatal_error_at("globalloc: double free of ", reinterpret_cast<std::uintptr_t>(block),
                           " (or a write after free into it) found in a later allocation");
}

void report_double_free_found(const void* block, DoubleFreeEvidence evidence) noexcept {
  const auto address = reinterpret_cast<std::uintptr_t>(block);
  switch (evidence) {
    case DoubleFreeEvidence::current_page_emptied:
      platform::fatal_error_at("globalloc: double free found in free of ", address,
                               " (its page counts more frees than allocations)");
    case DoubleFreeEvidence::block_in_use_in_free_page:
      platform::fatal_error_at("globalloc: double free found: block ", address,
                               " is in use (or was written after its free) while its page counts every block freed");
    case DoubleFreeEvidence::remote_list_broken:
      platform::fatal_error_at("globalloc: double free found in free from another thread: block ", address,
                               " was freed again while it waited for its owner");
  }
  platform::fatal_error_at("globalloc: double free found at ", address, "");
}

}  // namespace globalloc::fast
