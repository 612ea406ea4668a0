// An executable that hosts the guest library, built four ways:
//   HOST_DEFAULT   globalloc_link(exe): the default allocator of executables
//   HOST_SYSTEM    globalloc_link(exe ALLOCATOR system)
//   HOST_NONE      globalloc_link(exe ALLOCATOR none): the C library serves
//   HOST_COUNTING  globalloc_link(exe ALLOCATOR none) and its own registration
//                  of a counting allocator in this file
// Each checks at run time which allocator served the library's blocks.
#include "globalloc/adapters/counting.hpp"
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#include <globalloc/globalloc.hpp>

#ifdef HOST_COUNTING
#include <globalloc/testing/test_allocators.hpp>
using HostAllocator = globalloc::Counting<globalloc::SystemAllocator>;
GLOBALLOC_GLOBAL_ALLOCATOR_WITH_MALLOC(HostAllocator)
#endif

extern "C" {
char* guest_new_array(std::size_t size);
void guest_delete_array(char* block);
void* guest_malloc(std::size_t size);
void guest_free(void* block);
void* guest_malloc_address();
void* guest_new_array_address();
#ifndef HOST_COUNTING
// Defined by a registration; absent (null) when the executable has none.
[[gnu::weak]] const char* globalloc_global_allocator_name(void) noexcept;
#endif
}

namespace {
int failures = 0;

void check(bool condition, const char* what) {
  std::printf("%s: %s\n", condition ? "ok  " : "FAIL", what);
  if (!condition) ++failures;
}

const char* object_of(const void* address) {
  Dl_info info{};
  if (::dladdr(address, &info) == 0 || info.dli_fname == nullptr) return "?";
  return info.dli_fname;
}

const char* registered_name() {
#ifdef HOST_COUNTING
  return globalloc_global_allocator_name();
#else
  return &globalloc_global_allocator_name != nullptr ? globalloc_global_allocator_name() : nullptr;
#endif
}

bool in_this_executable(const void* address) {
  Dl_info info{}, self{};
  if (::dladdr(address, &info) == 0) return false;
  if (::dladdr(reinterpret_cast<const void*>(&failures), &self) == 0) return false;
  return info.dli_fbase == self.dli_fbase;
}
}  // namespace

int main() {
  std::printf("guest malloc resolves to %s\n", object_of(guest_malloc_address()));
  std::printf("guest new[] resolves to %s\n", object_of(guest_new_array_address()));
  const char* name = registered_name();
  std::printf("registered allocator: %s\n", name != nullptr ? name : "(none)");

#if defined(HOST_NONE)
  check(name == nullptr, "ALLOCATOR none adds no registration");
  check(std::strstr(object_of(guest_malloc_address()), "libc.so") != nullptr, "the guest's malloc is the C library's");
  check(!in_this_executable(guest_new_array_address()), "the guest's new[] is not defined by this executable");
#else
  const char* expected =
#if defined(HOST_COUNTING)
      "counting";
#elif defined(HOST_SYSTEM)
      "system";
#else
      GLOBALLOC_EXPECTED_DEFAULT;
#endif
  check(name != nullptr && std::strcmp(name, expected) == 0, "the executable registered the expected allocator");
  check(in_this_executable(guest_malloc_address()), "the guest's malloc is the executable's");
  check(in_this_executable(guest_new_array_address()), "the guest's new[] is the executable's");
#endif

#ifdef HOST_COUNTING
  const unsigned long before_new = HostAllocator::counts().allocations;
  char* array = guest_new_array(100);
  check(HostAllocator::counts().allocations == before_new + 1, "the guest's new[] reached the host's counting allocator");
  const unsigned long before_malloc = HostAllocator::counts().allocations;
  void* block = guest_malloc(200);
  check(HostAllocator::counts().allocations == before_malloc + 1, "the guest's malloc reached the host's counting allocator");
  const unsigned long freed = HostAllocator::counts().deallocations;
  guest_free(block);
  guest_delete_array(array);
  check(HostAllocator::counts().deallocations == freed + 2, "the guest's free and delete[] reached it too");
#else
  char* array = guest_new_array(100);
  void* block = guest_malloc(200);
  check(array != nullptr && block != nullptr, "the guest allocates");
#if defined(GLOBALLOC_HAVE_FAST) && !defined(HOST_NONE) && !defined(HOST_SYSTEM)
  check(globalloc::fast::owns(array), "the fast allocator served the guest's new[]");
  check(globalloc::fast::owns(block), "the fast allocator served the guest's malloc");
#elif defined(GLOBALLOC_HAVE_FAST)
  check(!globalloc::fast::owns(array), "the fast allocator did not serve the guest's new[]");
  check(!globalloc::fast::owns(block), "the fast allocator did not serve the guest's malloc");
#endif
  std::memset(array, 1, 100);
  std::memset(block, 2, 200);
  guest_free(block);
  guest_delete_array(array);
#endif
  return failures == 0 ? 0 : 1;
}
