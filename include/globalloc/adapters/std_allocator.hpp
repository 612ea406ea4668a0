// StdAllocator<T, A>: any globalloc allocator as a standard-library allocator
// (std::vector<int, globalloc::StdAllocator<int, globalloc::FastAllocator>>).
// Stateless, so every instance compares equal and containers may swap or
// move their blocks freely.
#pragma once

#include <cstddef>
#include <limits>
#include <new>

#include "globalloc/contract.hpp"

namespace globalloc {

/// A standard-library allocator (Cpp17Allocator) of T that allocates from A.
/// Stateless: every instance, of any T, compares equal.
template <class T, Allocator A>
class StdAllocator {
 public:
  using value_type = T;                                         ///< the allocated type
  using size_type = std::size_t;                                ///< type of element counts
  using difference_type = std::ptrdiff_t;                       ///< type of pointer differences
  using propagate_on_container_move_assignment = std::true_type;  ///< containers move blocks on move assignment
  using is_always_equal = std::true_type;                       ///< stateless: all instances are equal
  /// The same allocator for another element type.
  template <class U>
  struct rebind {
    using other = StdAllocator<U, A>;  ///< StdAllocator<U, A>
  };

  constexpr StdAllocator() noexcept = default;
  /// Conversion from the allocator of another element type (there is no state to copy).
  template <class U>
  constexpr StdAllocator(const StdAllocator<U, A>&) noexcept {}

  /// Room for `count` objects of T, aligned to alignof(T), from A. Throws
  /// std::bad_array_new_length when `count * sizeof(T)` overflows and
  /// std::bad_alloc when A returns null.
  [[nodiscard]] T* allocate(std::size_t count) {
    if (count > std::numeric_limits<std::size_t>::max() / sizeof(T)) throw std::bad_array_new_length();
    void* block = Operations<A>::allocate(Layout{count * sizeof(T), alignof(T)});
    if (block == nullptr) throw std::bad_alloc();
    return static_cast<T*>(block);
  }
  /// Frees a block from allocate(count) with the same `count`.
  void deallocate(T* block, std::size_t count) noexcept {
    Operations<A>::deallocate(block, Layout{count * sizeof(T), alignof(T)});
  }

  template <class U>
  friend constexpr bool operator==(const StdAllocator&, const StdAllocator<U, A>&) noexcept {
    return true;
  }
};

}  // namespace globalloc
