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

template <class T, Allocator A>
class StdAllocator {
 public:
  using value_type = T;
  using size_type = std::size_t;
  using difference_type = std::ptrdiff_t;
  using propagate_on_container_move_assignment = std::true_type;
  using is_always_equal = std::true_type;
  template <class U>
  struct rebind {
    using other = StdAllocator<U, A>;
  };

  constexpr StdAllocator() noexcept = default;
  template <class U>
  constexpr StdAllocator(const StdAllocator<U, A>&) noexcept {}

  [[nodiscard]] T* allocate(std::size_t count) {
    if (count > std::numeric_limits<std::size_t>::max() / sizeof(T)) throw std::bad_array_new_length();
    void* block = Operations<A>::allocate(Layout{count * sizeof(T), alignof(T)});
    if (block == nullptr) throw std::bad_alloc();
    return static_cast<T*>(block);
  }
  void deallocate(T* block, std::size_t count) noexcept {
    Operations<A>::deallocate(block, Layout{count * sizeof(T), alignof(T)});
  }

  template <class U>
  friend constexpr bool operator==(const StdAllocator&, const StdAllocator<U, A>&) noexcept {
    return true;
  }
};

}  // namespace globalloc
