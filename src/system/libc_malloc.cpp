// glibc's internal malloc entry points; see libc_malloc.hpp.
#include "libc_malloc.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <atomic>

extern "C" {
void* __libc_malloc(std::size_t size);
void* __libc_calloc(std::size_t count, std::size_t size);
void* __libc_realloc(void* block, std::size_t size);
void* __libc_memalign(std::size_t align, std::size_t size);
void __libc_free(void* block);
}

namespace globalloc::libc {
namespace {

using UsableSizeFunction = std::size_t (*)(void*);
using TrimFunction = int (*)(std::size_t);
std::atomic<UsableSizeFunction> cached_usable_size{nullptr};
std::atomic<TrimFunction> cached_trim{nullptr};

void fatal(const char* message) noexcept {
  std::size_t length = 0;
  while (message[length] != '\0') ++length;
  (void)!::write(2, message, length);
  __builtin_trap();
}

/// `name` in libc.so.6 itself. RTLD_NOLOAD: libc.so.6 is always loaded; this
/// only finds its handle, so the lookup reaches glibc's function even when
/// the process replaced it. Null when it is not there.
[[gnu::noinline, gnu::cold]] void* find_in_libc(const char* name) noexcept {
  void* handle = ::dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
  return handle != nullptr ? ::dlsym(handle, name) : nullptr;
}

/// A C library without malloc_trim gives nothing back (what malloc_trim's 0 says).
int no_trim(std::size_t) noexcept { return 0; }

[[gnu::noinline, gnu::cold]] UsableSizeFunction find_usable_size() noexcept {
  auto function = reinterpret_cast<UsableSizeFunction>(find_in_libc("malloc_usable_size"));
  if (function == nullptr) fatal("globalloc: system allocator cannot find the C library's malloc_usable_size\n");
  cached_usable_size.store(function, std::memory_order_release);
  return function;
}

}  // namespace

void* malloc(std::size_t size) noexcept { return __libc_malloc(size); }
void* calloc(std::size_t count, std::size_t size) noexcept { return __libc_calloc(count, size); }
void* realloc(void* block, std::size_t size) noexcept { return __libc_realloc(block, size); }
void* memalign(std::size_t align, std::size_t size) noexcept { return __libc_memalign(align, size); }
void free(void* block) noexcept { __libc_free(block); }

std::size_t usable_size(const void* block) noexcept {
  if (block == nullptr) return 0;
  UsableSizeFunction function = cached_usable_size.load(std::memory_order_acquire);
  if (function == nullptr) function = find_usable_size();
  return function(const_cast<void*>(block));
}

int trim(std::size_t pad) noexcept {
  TrimFunction function = cached_trim.load(std::memory_order_acquire);
  if (function == nullptr) {
    function = reinterpret_cast<TrimFunction>(find_in_libc("malloc_trim"));
    if (function == nullptr) function = no_trim;
    cached_trim.store(function, std::memory_order_release);
  }
  return function(pad);
}

std::size_t minimum_usable_size(std::size_t size) noexcept {
  // glibc rounds a request plus its 8-byte size field up to 16, at least 32,
  // and the block holds all of that but the size field.
  constexpr std::size_t size_field = sizeof(std::size_t);
  if (size > SIZE_MAX - 2 * guaranteed_alignment) return size;
  std::size_t chunk = (size + size_field + guaranteed_alignment - 1) & ~(guaranteed_alignment - 1);
  if (chunk < 2 * guaranteed_alignment) chunk = 2 * guaranteed_alignment;
  return chunk - size_field;
}

}  // namespace globalloc::libc
