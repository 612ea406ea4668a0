// Address -> segment -> page metadata: masking and the segment map find the
// header of any block, and pages carve blocks at the offsets they claim.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "fast/heap.hpp"
#include "fast/segment.hpp"
#include "fast/stats.hpp"
#include "globalloc/fast_allocator.hpp"
#include "own_heap.hpp"

using namespace globalloc;
using namespace globalloc::fast;

TEST(Segment, BlocksMapToTheirPage) {
  std::vector<void*> blocks;
  for (std::size_t size : {8u, 24u, 100u, 1000u, 5000u, 9000u, 40000u, 65536u}) {
    for (int i = 0; i < 50; ++i) {
      void* block = fast::allocate(size, 8);
      ASSERT_NE(block, nullptr);
      Segment* segment = segment_lookup(block);
      ASSERT_NE(segment, nullptr);
      EXPECT_EQ(reinterpret_cast<std::uintptr_t>(segment) % segment_size, 0u);
      Page* page = segment_page_of(segment, block);
      EXPECT_TRUE(page->in_use);
      EXPECT_GE(page->block_size, size);
      EXPECT_GE(static_cast<char*>(block), page->area);
      EXPECT_EQ((static_cast<char*>(block) - page->area) % page->block_size, 0u);
      EXPECT_EQ(segment->kind, SegmentKind::heap);
      EXPECT_EQ(page->span_slots, size <= Config::small_block_max ? 1u : Config::medium_page_slots);
      EXPECT_EQ(page->span_offset, 0u);
      EXPECT_TRUE(fast::owns(block));
      blocks.push_back(block);
    }
  }
  for (void* block : blocks) fast::deallocate(block);
}

TEST(Segment, ForeignAddressesAreNotOurs) {
  int on_stack = 0;
  static int in_data = 0;
  EXPECT_EQ(segment_lookup(&on_stack), nullptr);
  EXPECT_EQ(segment_lookup(&in_data), nullptr);
  EXPECT_FALSE(fast::owns(&on_stack));
  EXPECT_FALSE(fast::owns(nullptr));
  EXPECT_EQ(fast::usable_size(&on_stack), 0u);
}

TEST(Segment, InteriorPointerIsNotABlockStart) {
  char* block = static_cast<char*>(fast::allocate(64, 16));
  ASSERT_NE(block, nullptr);
  EXPECT_TRUE(fast::owns(block));
  EXPECT_FALSE(fast::owns(block + 8));
  fast::deallocate(block);
}

TEST(Segment, EverySlotOfAMediumPageLeadsToItsDescriptor) {
  // A medium page spans several slots: an address in any of them finds the
  // page's first descriptor, and frees through the others work.
  std::vector<char*> blocks;
  for (int i = 0; i < 40; ++i) {
    char* block = static_cast<char*>(fast::allocate(40000, 16));
    ASSERT_NE(block, nullptr);
    Page* page = segment_page_of(segment_lookup(block), block);
    EXPECT_TRUE(page->in_use);
    EXPECT_EQ(page->span_offset, 0u);
    EXPECT_EQ((block - page->area) % page->block_size, 0u);
    EXPECT_EQ(fast::usable_size(block), page->block_size);
    EXPECT_TRUE(fast::owns(block));
    EXPECT_FALSE(fast::owns(block + 16));
    blocks.push_back(block);
  }
  for (char* block : blocks) fast::deallocate(block);
}

TEST(Segment, SlotsFreedBySmallPagesServeMediumPages) {
  // Small and medium pages share the slots of the heap's segments: slots
  // that small pages gave back make a medium page without a new segment.
  fast::Segment* segment = fast::segment_acquire(fast::SegmentKind::heap);
  ASSERT_NE(segment, nullptr);
  fast::Page* small[8];
  for (auto& page : small) {
    page = fast::segment_take_page(segment, 1);
    ASSERT_NE(page, nullptr);
    EXPECT_EQ(page->span_slots, 1u);
  }
  // Fill the rest (63 slots after the header), so only the small pages'
  // slots can be taken later.
  fast::Page* rest[6 + 7];
  for (unsigned index = 0; index < 13; ++index) {
    rest[index] = fast::segment_take_page(segment, index < 6 ? Config::medium_page_slots : 1);
    ASSERT_NE(rest[index], nullptr);
  }
  EXPECT_EQ(fast::segment_take_page(segment, 1), nullptr);
  fast::count_class_pages(0, 21);  // segment_return_page counts them off
  for (auto* page : small) fast::segment_return_page(segment, page);
  EXPECT_EQ(fast::segment_take_page(segment, Config::medium_page_slots + 1), nullptr);
  fast::Page* medium = fast::segment_take_page(segment, Config::medium_page_slots);
  ASSERT_EQ(medium, small[0]);
  for (unsigned offset = 1; offset < Config::medium_page_slots; ++offset) EXPECT_EQ(medium[offset].span_offset, offset);
  fast::segment_return_page(segment, medium);
  for (unsigned offset = 1; offset < Config::medium_page_slots; ++offset) EXPECT_EQ(medium[offset].span_offset, 0u);
  for (auto* page : rest) fast::segment_return_page(segment, page);
  EXPECT_EQ(segment->used_pages, 0u);
  segment->purge_deadline_ms = 0;
  fast::segment_release(segment);
}

namespace {
/// segment_choose_span as specified, by brute force: every window of every
/// free run, fewest clean (not resident) slots first, then the shortest
/// run, then the lowest position.
SpanChoice choose_span_by_brute_force(std::uint64_t free, std::uint64_t dirty, unsigned slots) {
  SpanChoice best;
  unsigned best_run = 65;
  best.clean = slots + 1;
  for (unsigned start = 0; start < 64; ++start) {
    if (((free >> start) & 1) == 0 || (start > 0 && ((free >> (start - 1)) & 1) != 0)) continue;
    unsigned length = 0;
    while (start + length < 64 && ((free >> (start + length)) & 1) != 0) ++length;
    for (unsigned first = start; first + slots <= start + length; ++first) {
      unsigned clean = 0;
      for (unsigned slot = first; slot < first + slots; ++slot) clean += ((dirty >> slot) & 1) == 0 ? 1 : 0;
      if (clean < best.clean || (clean == best.clean && length < best_run)) {
        best.first = first;
        best.clean = clean;
        best_run = length;
      }
    }
  }
  if (best.first == 64) best.clean = slots + 1;
  return best;
}
}  // namespace

TEST(Segment, ASpanGoesWhereTheFewestSlotsAreFaultedInThenInTheShortestRun) {
  // segment_choose_span slides a window along each free run; checked
  // against the brute force above on random slot masks (free, and dirty:
  // free and still resident), for every span size a page can take.
  fast::Segment* segment = fast::segment_acquire(fast::SegmentKind::heap);
  ASSERT_NE(segment, nullptr);
  const std::uint64_t saved_free = segment->free_pages, saved_dirty = segment->dirty_pages;
  std::uint64_t random = 0x9e3779b97f4a7c15u;
  auto next = [&random] {
    random ^= random << 13, random ^= random >> 7, random ^= random << 17;
    return random;
  };
  for (int round = 0; round < 20000; ++round) {
    // Mostly-free and mostly-used masks both, with runs of every length.
    std::uint64_t free = next();
    if (round % 3 == 0) free |= next();
    if (round % 3 == 1) free &= next();
    if (round % 7 == 0) free = ~std::uint64_t{0};
    const std::uint64_t dirty = free & (round % 5 == 0 ? ~std::uint64_t{0} : next());
    segment->free_pages = free;
    segment->dirty_pages = dirty;
    for (unsigned slots : {1u, 2u, 3u, 4u, Config::medium_page_slots, 13u, 64u}) {
      const SpanChoice got = fast::segment_choose_span(segment, slots);
      const SpanChoice want = choose_span_by_brute_force(free, dirty, slots);
      ASSERT_EQ(got.first, want.first) << std::hex << "free " << free << " dirty " << dirty << std::dec << " slots " << slots;
      if (want.first < 64) ASSERT_EQ(got.clean, want.clean) << std::hex << "free " << free << " dirty " << dirty;
    }
  }
  segment->free_pages = saved_free;
  segment->dirty_pages = saved_dirty;
  segment->purge_deadline_ms = 0;
  fast::segment_release(segment);
}

TEST(Segment, PageCarvesLazily) {
  // A page hands out blocks from carved batches: a single allocation of a
  // fresh class must not carve the whole 64 KiB page.
  void* block = fast::allocate(4000, 16);
  ASSERT_NE(block, nullptr);
  Page* page = segment_page_of(segment_lookup(block), block);
  EXPECT_LT(page->capacity, page->reserved);
  fast::deallocate(block);
}

TEST(SegmentDeathTest, MetadataGuardStopsAnUnderflowIntoTheHeader) {
  // A segment made after guards are on has an inaccessible page right before
  // its first block: a write backwards out of that block faults.
  fast::segment_set_metadata_guards(true);
  fast::Segment* segment = fast::segment_acquire(fast::SegmentKind::heap);
  ASSERT_NE(segment, nullptr);
  ASSERT_TRUE(segment->metadata_guarded);
  fast::Page* page = fast::segment_take_page(segment, Config::medium_page_slots);
  ASSERT_EQ(page, &segment->pages[1]);
  std::size_t bytes = 0;
  char* first_block = fast::segment_page_area(segment, page, &bytes);
  EXPECT_EQ(bytes, fast::medium_page_size);
  ASSERT_GT(bytes, 0u);
  first_block[0] = 1;  // user data is writable
  EXPECT_DEATH(static_cast<volatile char*>(first_block)[-1] = 1, "");
  // The header itself stays readable and writable.
  fast::count_class_pages(0, 1);  // segment_return_page counts it off
  fast::segment_return_page(segment, page);
  segment->purge_deadline_ms = 0;
  fast::segment_set_metadata_guards(false);
  fast::segment_release(segment);
}

TEST(Segment, LargeBlocksAndPagesShareAThreadsSlots) {
  // A large block up to 2 MiB is a span of the thread's own slots: when it
  // is freed, the thread keeps the span for its next large block, and small
  // pages reuse those slots when they need new ones; a block freed by
  // another thread goes back through the owner.
  std::thread([] {
    char* large = static_cast<char*>(fast::allocate(300000, 16));
    ASSERT_NE(large, nullptr);
    Segment* segment = segment_lookup(large);
    ASSERT_NE(segment, nullptr);
    EXPECT_EQ(segment->kind, SegmentKind::heap);
    Page* page = segment_page_of(segment, large);
    EXPECT_EQ(page->area, large);
    EXPECT_EQ(page->size_class, fast::large_page_class);
    EXPECT_EQ(segment_page_of(segment, large + 200000), page);  // a later slot leads back
    EXPECT_EQ(fast::usable_size(large), fast::usable_size_for(300000, 16));
    EXPECT_FALSE(fast::owns(large + 4096));
    std::memset(large, 7, 300000);
    // Grows in place over the free slots after it.
    EXPECT_GE(fast::resize_in_place(large, 600000), 600000u);
    std::memset(large, 8, 600000);
    const unsigned first_slot = static_cast<unsigned>(page - segment->pages);
    fast::deallocate(large);
    EXPECT_EQ(segment->free_pages >> first_slot & 1, 0u);  // kept for the next large block
    // Its slots are resident: a new small page takes them before untouched ones.
    std::vector<void*> blocks;
    bool reused = false;
    for (int i = 0; i < 4000 && !reused; ++i) {
      void* block = fast::allocate(4000, 16);
      blocks.push_back(block);
      reused = segment_lookup(block) == segment &&
               static_cast<unsigned>(segment_page_of(segment, block) - segment->pages) == first_slot;
    }
    EXPECT_TRUE(reused);
    for (void* block : blocks) fast::deallocate(block);

    // Freed by another thread: the owner takes the slots back on its slow path.
    char* shared = static_cast<char*>(fast::allocate(200000, 16));
    ASSERT_NE(shared, nullptr);
    std::memset(shared, 9, 200000);
    Page* shared_page = segment_page_of(segment_lookup(shared), shared);
    std::thread([shared] { fast::deallocate(shared); }).join();
    // The slow paths of this loop free the block and give back the slots of
    // the medium pages it leaves behind once they stay idle (sizes rise, so
    // each class falls idle in turn). Most refills of a page from its own
    // frees skip the slow path (heap_refill_local), so the loop runs until
    // the slots are free, within a bound (sizes stay medium: up to 60 KB).
    for (int i = 0; i < 5000 && shared_page->in_use; ++i) fast::deallocate(fast::allocate(20000 + i * 8, 16));
    EXPECT_FALSE(shared_page->in_use);
  }).join();
}

TEST(Segment, TheFastPathTablesLeadToTheirClassesCurrentPages) {
  // The fast paths' empty branch takes the slow path with the class worked
  // out from the table entry (direct_class_of_index, natural_class_of_index),
  // so each entry must hold the current page of exactly that class.
  std::thread([] {
    fast::testing::skip_starter_heaps();
    std::vector<void*> blocks;
    for (std::size_t size = 0; size <= Config::direct_size_max; ++size) {
      blocks.push_back(fast::allocate(size, 8));
      blocks.push_back(fast::allocate(size, 16));
      blocks.push_back(fast::allocate_natural(size));
    }
    ThreadHeap* heap = thread_heap;
    for (std::size_t index = 0; index < direct_entry_count; ++index) {
      EXPECT_EQ(heap->direct[index], heap->current[direct_class_of_index(index)]) << index;
      EXPECT_EQ(heap->natural[index], heap->current[natural_class_of_index(index)]) << index;
      EXPECT_NE(heap->direct[index], &empty_page) << index;
      EXPECT_NE(heap->natural[index], &empty_page) << index;
    }
    for (void* block : blocks) fast::deallocate(block);
  }).join();
}

namespace {
/// Every descriptor of a heap segment reads as claim_slots expects: a free
/// slot's (and an inner slot's of a span) not in use, owner_tag 0, no span
/// of its own; a free slot's span_offset 0, an inner slot's its distance
/// to the span's first slot. claim_slots writes only span_offset.
void expect_descriptors_as_claim_slots_leaves_them(const Segment* segment) {
  for (unsigned index = 1; index < segment->page_count; ++index) {
    const Page& slot = segment->pages[index];
    const bool free = (segment->free_pages >> index & 1) != 0;
    if (!free && slot.span_offset == 0) continue;  // the first slot of a page or span
    EXPECT_FALSE(slot.in_use) << "slot " << index << (free ? " (free)" : " (inner)");
    EXPECT_EQ(slot.owner_tag.load(std::memory_order_relaxed), 0u) << "slot " << index;
    EXPECT_EQ(slot.span_slots, 0u) << "slot " << index;
    if (free) {
      EXPECT_EQ(slot.span_offset, 0u) << "free slot " << index;
    } else {
      const Page& first = segment->pages[index - slot.span_offset];
      EXPECT_GT(first.span_slots, slot.span_offset) << "inner slot " << index << " outside its span";
    }
  }
}
}  // namespace

TEST(Segment, FreeSlotsReadAsInnerSlotsSoClaimingWritesOnlyTheOffset) {
  // A thread's slots serve small pages and large spans in turn: spans
  // claimed, cut, grown, released, and pages set up and given back over
  // the same slots, in a fixed pseudo-random order.
  std::thread([] {
    std::uint64_t state = 0x9E3779B97F4A7C15u;
    auto next = [&state] {
      state ^= state << 13;
      state ^= state >> 7;
      state ^= state << 17;
      return state;
    };
    std::vector<void*> large(6, nullptr);
    std::vector<void*> small;
    Segment* segment = nullptr;
    for (int step = 0; step < 3000; ++step) {
      const std::uint64_t pick = next();
      void*& slot = large[pick % large.size()];
      switch ((pick >> 8) % 4) {
        case 0:  // a large block of 64 KiB to 2 MiB, or its free
          if (slot == nullptr) {
            slot = fast::allocate(65536 + (pick >> 16) % (2 << 20), 16);
            ASSERT_NE(slot, nullptr);
            static_cast<char*>(slot)[0] = 1;
            if (segment == nullptr) segment = segment_lookup(slot);
          } else {
            fast::deallocate(slot);
            slot = nullptr;
          }
          break;
        case 1:  // grown or cut in place, or moved
          if (slot != nullptr) {
            const std::size_t size = 65536 + (pick >> 16) % (2 << 20);
            if (fast::resize_in_place(slot, size) < size) {
              void* moved = fast::reallocate(slot, size, 16);
              ASSERT_NE(moved, nullptr);
              slot = moved;
            }
          }
          break;
        default:  // small blocks of many classes, freed in batches
          for (int i = 0; i < 64; ++i) small.push_back(fast::allocate(16 + (next() % 4000), 16));
          if (small.size() > 4000 || (pick >> 20) % 8 == 0) {
            for (void* block : small) fast::deallocate(block);
            small.clear();
          }
          break;
      }
      if (segment != nullptr && step % 100 == 99) {
        expect_descriptors_as_claim_slots_leaves_them(segment);
        if (::testing::Test::HasFailure()) return;
      }
    }
    for (void* block : large) fast::deallocate(block);
    for (void* block : small) fast::deallocate(block);
    if (segment != nullptr) expect_descriptors_as_claim_slots_leaves_them(segment);
  }).join();
}
