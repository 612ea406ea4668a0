// The bodies of every replaceable allocation function, written once and
// parametrised by the allocator. The registration macros
// (globalloc/registration.hpp) define the real symbols as one-line calls into
// here. Failure behaviour is a policy: operator new throws std::bad_alloc
// after the new-handler loop, its nothrow forms return null, the C functions
// set errno, so every entry point shares one inlined allocation path.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

#include "globalloc/contract.hpp"
#include "globalloc/size_header.hpp"

namespace globalloc::detail {

enum class OnFailure { throw_bad_alloc, return_null };

template <class G>
struct EntryPoints {
  using Ops = Operations<G>;

  static constexpr Layout unaligned(std::size_t size) noexcept { return Layout{size, natural_alignment(size)}; }
  static constexpr Layout aligned(std::size_t size, std::size_t align) noexcept {
    // Above the default alignment is above every natural one: the layout is
    // known without looking at the size, and an allocator may branch on it.
    if (align > default_alignment) return Layout{size, align};
    const std::size_t natural = natural_alignment(size);
    return Layout{size, align > natural ? align : natural};
  }

  // ---- operator new: the new-handler loop of [new.delete.single] ----
  template <OnFailure policy>
  [[gnu::noinline, gnu::cold]] static void* new_retry(Layout layout) noexcept(policy == OnFailure::return_null) {
    for (;;) {
      std::new_handler handler = std::get_new_handler();
      if (handler == nullptr) {
        if constexpr (policy == OnFailure::throw_bad_alloc) {
          throw_bad_alloc();
        } else {
          return nullptr;
        }
      }
      if constexpr (policy == OnFailure::throw_bad_alloc) {
        handler();
      } else {
#if defined(__cpp_exceptions)
        try {
          handler();
        } catch (...) {
          return nullptr;
        }
#else
        handler();
#endif
      }
      if (void* block = Ops::allocate(layout)) return block;
    }
  }

  // Code built without exceptions (the allocator core includes this header
  // for its C API) cannot throw: a failed operator new ends the program, as
  // the standard library built that way does.
  [[noreturn]] static void throw_bad_alloc() {
#if defined(__cpp_exceptions)
    throw std::bad_alloc();
#else
    std::abort();
#endif
  }

  template <OnFailure policy>
  [[gnu::always_inline]] static void* operator_new(Layout layout) noexcept(policy == OnFailure::return_null) {
    if (!is_valid_alignment(layout.align)) [[unlikely]] {
      return new_retry<policy>(Layout{SIZE_MAX, default_alignment});
    }
    void* block = Ops::allocate(layout);
    if (block != nullptr) [[likely]] return block;
    return new_retry<policy>(layout);
  }

  // operator new(size): only the size stays live across the allocation
  // (operator_new keeps the whole layout for the retry, and the compiler
  // computed the natural alignment before the call and saved both registers:
  // 17 instructions around the allocator's own against 7).
  template <OnFailure policy>
  [[gnu::noinline, gnu::cold]] static void* new_retry_natural(std::size_t size) noexcept(policy == OnFailure::return_null) {
    return new_retry<policy>(unaligned(size));
  }
  template <OnFailure policy>
  [[gnu::always_inline]] static void* operator_new_natural(std::size_t size) noexcept(policy == OnFailure::return_null) {
    void* block = Ops::allocate(unaligned(size));
    if (block != nullptr) [[likely]] return block;
    return new_retry_natural<policy>(size);
  }

  [[gnu::always_inline]] static void operator_delete(void* block) noexcept {
    if constexpr (requires { requires G::deallocate_accepts_null; }) {
      G{}.deallocate(block);
    } else {
      if (block != nullptr) G{}.deallocate(block);
    }
  }
  [[gnu::always_inline]] static void operator_delete(void* block, Layout layout) noexcept {
    if constexpr (requires { requires G::deallocate_accepts_null; }) {
      Ops::deallocate(block, layout);
    } else {
      if (block != nullptr) Ops::deallocate(block, layout);
    }
  }

  // ---- the malloc family: errno on failure, never an exception ----
  static void* fail_with(int error) noexcept {
    errno = error;
    return nullptr;
  }

  [[gnu::always_inline]] static void* malloc(std::size_t size) noexcept {
    // An allocator whose failures set errno themselves lets malloc be a
    // tail call into it.
    if constexpr (requires { requires G::allocate_sets_errno; }) return Ops::allocate(unaligned(size));
    void* block = Ops::allocate(unaligned(size));
    if (block == nullptr) [[unlikely]] return fail_with(ENOMEM);
    return block;
  }

  [[gnu::always_inline]] static void free(void* block) noexcept {
    // An allocator whose deallocate takes null itself (off its fast path)
    // lets free be a tail call into it.
    if constexpr (!requires { requires G::deallocate_accepts_null; }) {
      if (block == nullptr) return;
    }
    keeping_errno([block] { G{}.deallocate(block); });
  }

  // free() must leave errno as it was (POSIX.1-2024), even when the
  // allocator's slow path makes a system call that fails: saved and restored
  // around `release` unless the allocator says its frees keep it.
  template <class Release>
  [[gnu::always_inline]] static void keeping_errno(Release release) noexcept {
    if constexpr (requires { requires G::preserves_errno; }) {
      release();
    } else {
      const int saved = errno;
      release();
      errno = saved;
    }
  }

  // C23's sized frees: the block with the size (and for free_aligned_sized
  // the alignment) it was allocated with, which the allocator gets as sized
  // delete gives them. A size or alignment that does not match is undefined
  // behaviour in C: the hardened allocator reports it, the others free the
  // block. An alignment that no allocation could have had frees by the
  // address alone. Both keep errno, as free does.
  static void free_sized(void* block, std::size_t size) noexcept {
    keeping_errno([=] { operator_delete(block, unaligned(size)); });
  }
  static void free_aligned_sized(void* block, std::size_t align, std::size_t size) noexcept {
    if (!is_valid_alignment(align)) {
      free(block);
      return;
    }
    keeping_errno([=] { operator_delete(block, aligned(size, align)); });
  }

  static void* calloc(std::size_t count, std::size_t size) noexcept {
    std::size_t total;
    if (__builtin_mul_overflow(count, size, &total)) return fail_with(ENOMEM);
    void* block = Ops::allocate_zeroed(unaligned(total));
    if (block == nullptr) return fail_with(ENOMEM);
    return block;
  }

  static void* realloc(void* block, std::size_t size) noexcept {
    if (block == nullptr) return malloc(size);
    // realloc(p, 0) gives a minimal block, as jemalloc and mimalloc do, so a
    // null result always means failure with the old block intact.
    void* moved;
    if constexpr (HasPointerOnlyReallocate<G>) {
      moved = G{}.reallocate(block, size);
    } else {
      const Layout old_layout{G{}.usable_size(block), default_alignment};
      moved = Ops::reallocate(block, old_layout, size);
    }
    if (moved == nullptr) return fail_with(ENOMEM);
    return moved;
  }

  static void* reallocarray(void* block, std::size_t count, std::size_t size) noexcept {
    std::size_t total;
    if (__builtin_mul_overflow(count, size, &total)) return fail_with(ENOMEM);
    return realloc(block, total);
  }

  static int posix_memalign(void** out, std::size_t align, std::size_t size) noexcept {
    if (!is_valid_alignment(align) || align % sizeof(void*) != 0) return EINVAL;
    void* block = Ops::allocate(aligned(size, align));
    if (block == nullptr) return ENOMEM;
    *out = block;
    return 0;
  }

  static void* aligned_alloc(std::size_t align, std::size_t size) noexcept {
    if (!is_valid_alignment(align)) return fail_with(EINVAL);
    void* block = Ops::allocate(aligned(size, align));
    if (block == nullptr) return fail_with(ENOMEM);
    return block;
  }

  // memalign rounds an alignment that is not a power of two up to the next
  // one, as glibc does; an alignment too large to round gives EINVAL.
  static void* memalign(std::size_t align, std::size_t size) noexcept {
    if (!is_valid_alignment(align)) {
      if (align > (SIZE_MAX >> 1) + 1) return fail_with(EINVAL);
      std::size_t rounded = 1;
      while (rounded < align) rounded <<= 1;
      align = rounded;
    }
    return aligned_alloc(align, size);
  }

  static std::size_t page_size() noexcept { return static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)); }

  static void* valloc(std::size_t size) noexcept { return aligned_alloc(page_size(), size); }

  static void* pvalloc(std::size_t size) noexcept {
    const std::size_t page = page_size();
    if (size > SIZE_MAX - (page - 1)) return fail_with(ENOMEM);
    return aligned_alloc(page, align_up(size == 0 ? 1 : size, page));
  }

  static std::size_t malloc_usable_size(void* block) noexcept {
    return block == nullptr ? 0 : G{}.usable_size(static_cast<const void*>(block));
  }

  // malloc_trim(pad): an allocator with `static bool trim(std::size_t pad)`
  // gives its free memory back to the OS there and says whether any went; one
  // without keeps it, and the answer is 0, as glibc's when nothing went back.
  static int malloc_trim(std::size_t pad) noexcept {
    if constexpr (requires { { G::trim(pad) } -> std::convertible_to<bool>; }) {
      return G::trim(pad) ? 1 : 0;
    } else {
      return 0;
    }
  }
};

}  // namespace globalloc::detail
