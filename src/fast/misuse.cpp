// The misuse reports of misuse.hpp, in the format the misuse tests expect:
//   globalloc: double free of 0x... in free
//   globalloc: free of invalid pointer 0x... (not allocated by globalloc) in free
//   globalloc: double free of 0x... (or a write after free into it) found in a later allocation
//   globalloc: double free found ... (from a page's counts: report_double_free_found)
#include "fast/misuse.hpp"

#include "fast/page.hpp"
#include "platform/fatal.hpp"

namespace globalloc::fast {

namespace {
const char* suffix_for(const char* operation, bool invalid) noexcept {
  // The operation names are fixed strings, so the suffixes can be too.
  const bool is_realloc = operation != nullptr && operation[0] == 'r';
  if (invalid) return is_realloc ? " (not allocated by globalloc) in realloc" : " (not allocated by globalloc) in free";
  return is_realloc ? " in realloc" : " in free";
}
}  // namespace

void report_double_free(const void* block, const char* operation) noexcept {
  platform::fatal_error_at("globalloc: double free of ", reinterpret_cast<std::uintptr_t>(block),
                           suffix_for(operation, false));
}

void report_invalid_free(const void* block, const char* operation) noexcept {
  platform::fatal_error_at("globalloc: free of invalid pointer ", reinterpret_cast<std::uintptr_t>(block),
                           suffix_for(operation, true));
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

void check_double_free(const Page* page, const void* block) noexcept {
  if (page_has_free_block(page, block)) report_double_free(block, "free");
}

}  // namespace globalloc::fast
