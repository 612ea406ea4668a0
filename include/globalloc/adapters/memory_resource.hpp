// MemoryResource<A>: any globalloc allocator as a std::pmr::memory_resource,
// for std::pmr containers and for stacking under pmr pool resources.
#pragma once

#include <memory_resource>
#include <new>

#include "globalloc/contract.hpp"

namespace globalloc {

/// A std::pmr::memory_resource that allocates from A: do_allocate throws
/// std::bad_alloc when A returns null, do_deallocate passes the size and
/// alignment back to A, and any two MemoryResource<A> compare equal.
template <Allocator A>
class MemoryResource final : public std::pmr::memory_resource {
 private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    void* block = Operations<A>::allocate(Layout{bytes, alignment});
    if (block == nullptr) throw std::bad_alloc();
    return block;
  }
  void do_deallocate(void* block, std::size_t bytes, std::size_t alignment) override {
    Operations<A>::deallocate(block, Layout{bytes, alignment});
  }
  // Two resources over the same stateless allocator can free each other's blocks.
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
    return dynamic_cast<const MemoryResource*>(&other) != nullptr;
  }
};

/// One shared resource per allocator type.
template <Allocator A>
MemoryResource<A>* memory_resource() noexcept {
  static MemoryResource<A> resource;
  return &resource;
}

}  // namespace globalloc
