// Registration: one macro, placed in exactly one source file of an
// executable or library, makes an allocator the global allocator of that
// artifact by defining every replaceable allocation function of C++ (and,
// with the _WITH_MALLOC form, the whole malloc family) as calls into it.
//
//   GLOBALLOC_GLOBAL_ALLOCATOR(MyAllocator)              operator new/delete, all forms
//   GLOBALLOC_GLOBAL_ALLOCATOR_WITH_MALLOC(MyAllocator)  the same plus malloc, free, ...
//
// A second registration in the same artifact defines the same symbols again
// and fails to link; the first symbol the linker names says why:
//   multiple definition of `globalloc_error_only_one_GLOBALLOC_GLOBAL_ALLOCATOR_per_program_or_library'
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>

#include "globalloc/contract.hpp"
#include "globalloc/detail/entry_points.hpp"
#include "globalloc/size_header.hpp"

namespace globalloc::detail {
template <class A>
using RegisteredEntryPoints = EntryPoints<GlobalForm<A>>;
}  // namespace globalloc::detail

// The replaced operators are never inlined into the registering source file:
// g++ would otherwise see new paired with the allocator's own free() and
// warn, or reason about the block as if it were the builtin operator new's.
#define GLOBALLOC_DETAIL_ENTRY [[gnu::noinline]]

// The one-per-artifact marker: a strong definition with a name that reads as
// the error message when it is defined twice.
#define GLOBALLOC_DETAIL_ONE_PER_ARTIFACT(Allocator)                                           \
  static_assert(::globalloc::check_allocator<Allocator>());                                    \
  extern "C" {                                                                                 \
  extern const char globalloc_error_only_one_GLOBALLOC_GLOBAL_ALLOCATOR_per_program_or_library; \
  [[gnu::used]] const char globalloc_error_only_one_GLOBALLOC_GLOBAL_ALLOCATOR_per_program_or_library = 1;   \
  const char* globalloc_global_allocator_name(void) noexcept {                                 \
    return ::globalloc::allocator_name<Allocator>();                                           \
  }                                                                                            \
  }

#define GLOBALLOC_DETAIL_NEW_DELETE(Allocator)                                                          \
  using globalloc_registered_entry_points = ::globalloc::detail::RegisteredEntryPoints<Allocator>;      \
  GLOBALLOC_DETAIL_ENTRY void* operator new(std::size_t size) {                                                                \
    return globalloc_registered_entry_points::operator_new_natural<::globalloc::detail::OnFailure::throw_bad_alloc>(size); \
  }                                                                                                     \
  GLOBALLOC_DETAIL_ENTRY void* operator new[](std::size_t size) { return ::operator new(size); }                               \
  GLOBALLOC_DETAIL_ENTRY void* operator new(std::size_t size, const std::nothrow_t&) noexcept {                                \
    return globalloc_registered_entry_points::operator_new_natural<::globalloc::detail::OnFailure::return_null>(size); \
  }                                                                                                     \
  GLOBALLOC_DETAIL_ENTRY void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept { return ::operator new(size, tag); } \
  GLOBALLOC_DETAIL_ENTRY void* operator new(std::size_t size, std::align_val_t align) {                                        \
    return globalloc_registered_entry_points::operator_new<::globalloc::detail::OnFailure::throw_bad_alloc>( \
        globalloc_registered_entry_points::aligned(size, static_cast<std::size_t>(align)));           \
  }                                                                                                     \
  GLOBALLOC_DETAIL_ENTRY void* operator new[](std::size_t size, std::align_val_t align) { return ::operator new(size, align); } \
  GLOBALLOC_DETAIL_ENTRY void* operator new(std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {        \
    return globalloc_registered_entry_points::operator_new<::globalloc::detail::OnFailure::return_null>( \
        globalloc_registered_entry_points::aligned(size, static_cast<std::size_t>(align)));           \
  }                                                                                                     \
  GLOBALLOC_DETAIL_ENTRY void* operator new[](std::size_t size, std::align_val_t align, const std::nothrow_t& tag) noexcept {  \
    return ::operator new(size, align, tag);                                                            \
  }                                                                                                     \
  GLOBALLOC_DETAIL_ENTRY void operator delete(void* block) noexcept { globalloc_registered_entry_points::operator_delete(block); } \
  GLOBALLOC_DETAIL_ENTRY void operator delete[](void* block) noexcept { globalloc_registered_entry_points::operator_delete(block); } \
  GLOBALLOC_DETAIL_ENTRY void operator delete(void* block, const std::nothrow_t&) noexcept {                                   \
    globalloc_registered_entry_points::operator_delete(block);                                          \
  }                                                                                                     \
  GLOBALLOC_DETAIL_ENTRY void operator delete[](void* block, const std::nothrow_t&) noexcept {                                 \
    globalloc_registered_entry_points::operator_delete(block);                                          \
  }                                                                                                     \
  GLOBALLOC_DETAIL_ENTRY void operator delete(void* block, std::size_t size) noexcept {                                        \
    globalloc_registered_entry_points::operator_delete(block, globalloc_registered_entry_points::unaligned(size)); \
  }                                                                                                     \
  GLOBALLOC_DETAIL_ENTRY void operator delete[](void* block, std::size_t size) noexcept {                                      \
    globalloc_registered_entry_points::operator_delete(block, globalloc_registered_entry_points::unaligned(size)); \
  }                                                                                                     \
  GLOBALLOC_DETAIL_ENTRY void operator delete(void* block, std::align_val_t) noexcept {                                        \
    globalloc_registered_entry_points::operator_delete(block);                                          \
  }                                                                                                     \
  GLOBALLOC_DETAIL_ENTRY void operator delete[](void* block, std::align_val_t) noexcept {                                      \
    globalloc_registered_entry_points::operator_delete(block);                                          \
  }                                                                                                     \
  GLOBALLOC_DETAIL_ENTRY void operator delete(void* block, std::align_val_t, const std::nothrow_t&) noexcept {                 \
    globalloc_registered_entry_points::operator_delete(block);                                          \
  }                                                                                                     \
  GLOBALLOC_DETAIL_ENTRY void operator delete[](void* block, std::align_val_t, const std::nothrow_t&) noexcept {               \
    globalloc_registered_entry_points::operator_delete(block);                                          \
  }                                                                                                     \
  GLOBALLOC_DETAIL_ENTRY void operator delete(void* block, std::size_t size, std::align_val_t align) noexcept {                \
    globalloc_registered_entry_points::operator_delete(                                                 \
        block, globalloc_registered_entry_points::aligned(size, static_cast<std::size_t>(align)));    \
  }                                                                                                     \
  GLOBALLOC_DETAIL_ENTRY void operator delete[](void* block, std::size_t size, std::align_val_t align) noexcept {              \
    globalloc_registered_entry_points::operator_delete(                                                 \
        block, globalloc_registered_entry_points::aligned(size, static_cast<std::size_t>(align)));    \
  }

#define GLOBALLOC_DETAIL_MALLOC_FAMILY(Allocator)                                                        \
  extern "C" {                                                                                           \
  void* malloc(std::size_t size) noexcept { return globalloc_registered_entry_points::malloc(size); }   \
  void free(void* block) noexcept { globalloc_registered_entry_points::free(block); }                   \
  void free_sized(void* block, std::size_t size) noexcept {                                              \
    globalloc_registered_entry_points::free_sized(block, size);                                          \
  }                                                                                                      \
  void free_aligned_sized(void* block, std::size_t align, std::size_t size) noexcept {                   \
    globalloc_registered_entry_points::free_aligned_sized(block, align, size);                           \
  }                                                                                                      \
  void* calloc(std::size_t count, std::size_t size) noexcept {                                          \
    return globalloc_registered_entry_points::calloc(count, size);                                       \
  }                                                                                                      \
  void* realloc(void* block, std::size_t size) noexcept {                                                \
    return globalloc_registered_entry_points::realloc(block, size);                                      \
  }                                                                                                      \
  void* reallocarray(void* block, std::size_t count, std::size_t size) noexcept {                        \
    return globalloc_registered_entry_points::reallocarray(block, count, size);                          \
  }                                                                                                      \
  int posix_memalign(void** out, std::size_t align, std::size_t size) noexcept {                         \
    return globalloc_registered_entry_points::posix_memalign(out, align, size);                          \
  }                                                                                                      \
  void* aligned_alloc(std::size_t align, std::size_t size) noexcept {                                    \
    return globalloc_registered_entry_points::aligned_alloc(align, size);                                \
  }                                                                                                      \
  void* memalign(std::size_t align, std::size_t size) noexcept {                                         \
    return globalloc_registered_entry_points::memalign(align, size);                                     \
  }                                                                                                      \
  void* valloc(std::size_t size) noexcept { return globalloc_registered_entry_points::valloc(size); }   \
  void* pvalloc(std::size_t size) noexcept { return globalloc_registered_entry_points::pvalloc(size); } \
  std::size_t malloc_usable_size(void* block) noexcept {                                                 \
    return globalloc_registered_entry_points::malloc_usable_size(block);                                 \
  }                                                                                                      \
  int malloc_trim(std::size_t pad) noexcept { return globalloc_registered_entry_points::malloc_trim(pad); } \
  }

/// Makes `Allocator` the global allocator of this artifact for every form of
/// operator new and delete. Place it in exactly one source file.
#define GLOBALLOC_GLOBAL_ALLOCATOR(Allocator)  \
  GLOBALLOC_DETAIL_ONE_PER_ARTIFACT(Allocator) \
  GLOBALLOC_DETAIL_NEW_DELETE(Allocator)

/// As GLOBALLOC_GLOBAL_ALLOCATOR, and the malloc family too (malloc, free,
/// C23's free_sized and free_aligned_sized, calloc, realloc, reallocarray,
/// posix_memalign, aligned_alloc, memalign, valloc, pvalloc,
/// malloc_usable_size, malloc_trim).
#define GLOBALLOC_GLOBAL_ALLOCATOR_WITH_MALLOC(Allocator) \
  GLOBALLOC_DETAIL_ONE_PER_ARTIFACT(Allocator)            \
  GLOBALLOC_DETAIL_NEW_DELETE(Allocator)                  \
  GLOBALLOC_DETAIL_MALLOC_FAMILY(Allocator)
