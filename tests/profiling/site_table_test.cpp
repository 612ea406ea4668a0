// The profiler's parts on their own: the site and live-block tables (ranking,
// frees, full tables, deletion that keeps every other block findable), stack
// capture and frame names, and the report's text.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "globalloc/fast_allocator.hpp"
#include "profiling/profiler.hpp"
#include "profiling/report.hpp"
#include "profiling/site_table.hpp"
#include "profiling/stack_capture.hpp"
#include "profiling/symbolize.hpp"

namespace {

using namespace globalloc::profiling;

// A table with its own zeroed memory.
class Table {
 public:
  Table(unsigned sites, unsigned blocks)
      : memory_(new (std::align_val_t{64}) unsigned char[SiteTable::bytes_needed(sites, blocks)]()) {
    table.attach(memory_.get(), sites, blocks);
  }
  SiteTable table;

 private:
  struct AlignedDelete {
    void operator()(unsigned char* memory) const { ::operator delete[](memory, std::align_val_t{64}); }
  };
  std::unique_ptr<unsigned char[], AlignedDelete> memory_;
};

void* address(std::uintptr_t value) { return reinterpret_cast<void*>(value); }

// Two made-up stacks.
void* stack_a[] = {address(0x1000), address(0x2000), address(0x3000)};
void* stack_b[] = {address(0x1000), address(0x2000), address(0x4000)};

TEST(SiteTable, RanksSitesByLiveAndByAllocatedBytes) {
  Table t(64, 256);
  // Site A: 10 live samples of 1000 bytes. Site B: 30 samples, 28 freed.
  for (std::uintptr_t i = 0; i < 10; ++i) EXPECT_TRUE(t.table.record_allocation(address(0x10000 + i * 16), 100, 1000, stack_a, 3));
  for (std::uintptr_t i = 0; i < 30; ++i) EXPECT_TRUE(t.table.record_allocation(address(0x20000 + i * 16), 100, 1000, stack_b, 3));
  for (std::uintptr_t i = 0; i < 28; ++i) EXPECT_TRUE(t.table.record_free(address(0x20000 + i * 16)));

  SiteSummary sites[4];
  ASSERT_EQ(t.table.top_sites(SiteOrder::live_bytes, sites, 4), 2u);
  EXPECT_EQ(sites[0].figures.live_bytes, 10000u);
  EXPECT_EQ(sites[0].frames[2], address(0x3000));
  EXPECT_EQ(sites[0].figures.live_blocks, 100u);  // 1000 bytes of 100-byte blocks per sample
  EXPECT_EQ(sites[1].figures.live_bytes, 2000u);
  EXPECT_EQ(sites[1].figures.allocated_bytes, 30000u);
  EXPECT_EQ(sites[1].figures.live_samples, 2u);

  ASSERT_EQ(t.table.top_sites(SiteOrder::allocated_bytes, sites, 1), 1u);
  EXPECT_EQ(sites[0].frames[2], address(0x4000));

  const ProfileTotals totals = t.table.totals();
  EXPECT_EQ(totals.sites, 2u);
  EXPECT_EQ(totals.figures.samples_total, 40u);
  EXPECT_EQ(totals.figures.live_bytes, 12000u);
  EXPECT_EQ(totals.figures.allocated_bytes, 40000u);
  EXPECT_EQ(totals.samples_dropped, 0u);
}

TEST(SiteTable, SitesWithNothingLiveAreLeftOutOfTheLiveRanking) {
  Table t(64, 256);
  EXPECT_TRUE(t.table.record_allocation(address(0x5000), 64, 4096, stack_a, 3));
  EXPECT_TRUE(t.table.record_free(address(0x5000)));
  SiteSummary sites[2];
  EXPECT_EQ(t.table.top_sites(SiteOrder::live_bytes, sites, 2), 0u);
  EXPECT_EQ(t.table.top_sites(SiteOrder::allocated_bytes, sites, 2), 1u);
}

TEST(SiteTable, FreeOfABlockNeverRecordedAnswersFalse) {
  Table t(64, 256);
  EXPECT_FALSE(t.table.record_free(address(0x7000)));
  EXPECT_TRUE(t.table.record_allocation(address(0x7000), 64, 4096, stack_a, 3));
  EXPECT_FALSE(t.table.record_free(address(0x7010)));
  EXPECT_TRUE(t.table.record_free(address(0x7000)));
  EXPECT_FALSE(t.table.record_free(address(0x7000)));
  EXPECT_EQ(t.table.totals().figures.live_samples, 0u);
}

TEST(SiteTable, AnUnattachedTableRecordsNothing) {
  SiteTable table;
  EXPECT_FALSE(table.record_allocation(address(0x7000), 64, 4096, stack_a, 3));
  EXPECT_FALSE(table.record_free(address(0x7000)));
  SiteSummary sites[1];
  EXPECT_EQ(table.top_sites(SiteOrder::live_bytes, sites, 1), 0u);
  EXPECT_EQ(table.totals().figures.samples_total, 0u);
}

TEST(SiteTable, FullTablesDropSamplesAndSaySo) {
  Table t(8, 16);  // room for 6 sites and 12 live blocks
  for (std::uintptr_t i = 0; i < 12; ++i) EXPECT_TRUE(t.table.record_allocation(address(0x10000 + i * 64), 64, 64, stack_a, 3));
  EXPECT_FALSE(t.table.record_allocation(address(0x90000), 64, 64, stack_a, 3));
  EXPECT_EQ(t.table.totals().samples_dropped, 1u);
  // A free makes room again.
  EXPECT_TRUE(t.table.record_free(address(0x10000)));
  EXPECT_TRUE(t.table.record_allocation(address(0x90000), 64, 64, stack_a, 3));

  Table sites(8, 64);
  void* frames[1];
  for (std::uintptr_t i = 0; i < 6; ++i) {
    frames[0] = address(0x100 + i);
    EXPECT_TRUE(sites.table.record_allocation(address(0x10000 + i * 64), 64, 64, frames, 1));
  }
  frames[0] = address(0x999);
  EXPECT_FALSE(sites.table.record_allocation(address(0x20000), 64, 64, frames, 1));
  // A known stack still records.
  frames[0] = address(0x100);
  EXPECT_TRUE(sites.table.record_allocation(address(0x20000), 64, 64, frames, 1));
  EXPECT_EQ(sites.table.totals().sites, 6u);
}

// Many blocks in a small table collide; removing some in every order must
// leave all the others findable (backward-shift deletion done right).
TEST(SiteTable, RemovalKeepsEveryOtherBlockFindable) {
  for (unsigned pattern = 0; pattern < 3; ++pattern) {
    Table t(8, 128);
    std::vector<std::uintptr_t> blocks;
    for (std::uintptr_t i = 0; i < 96; ++i) blocks.push_back(0x100000 + i * 48 * (pattern + 1));
    for (std::uintptr_t block : blocks) ASSERT_TRUE(t.table.record_allocation(address(block), 48, 48, stack_a, 3));
    std::vector<bool> freed(blocks.size(), false);
    for (std::size_t i = pattern; i < blocks.size(); i += 2 + pattern) {
      ASSERT_TRUE(t.table.record_free(address(blocks[i])));
      freed[i] = true;
    }
    for (std::size_t i = 0; i < blocks.size(); ++i) {
      EXPECT_EQ(t.table.record_free(address(blocks[i])), !freed[i]) << "block " << i << ", pattern " << pattern;
    }
    EXPECT_EQ(t.table.totals().figures.live_samples, 0u);
  }
}

TEST(SiteTable, ABlockRecordedTwiceEndsItsFirstSample) {
  Table t(64, 256);
  EXPECT_TRUE(t.table.record_allocation(address(0x8000), 64, 1000, stack_a, 3));
  EXPECT_TRUE(t.table.record_allocation(address(0x8000), 64, 500, stack_b, 3));
  const ProfileTotals totals = t.table.totals();
  EXPECT_EQ(totals.figures.live_samples, 1u);
  EXPECT_EQ(totals.figures.live_bytes, 500u);
  EXPECT_EQ(totals.figures.allocated_bytes, 1500u);
}

extern "C" [[gnu::noinline]] unsigned profiling_test_capture_here(void** frames, unsigned max) {
  const unsigned depth = capture_stack(frames, max, 0);
  asm volatile("" ::: "memory");  // not a tail call: this frame stays on the stack
  return depth;
}

TEST(StackCapture, StartsAtTheCallerAndNamesItsFrames) {
  void* frames[max_stack_depth];
  const unsigned depth = profiling_test_capture_here(frames, max_stack_depth);
  ASSERT_GE(depth, 2u);
  FrameDescription description{};
  ASSERT_TRUE(describe_frame(frames[0], &description));
  ASSERT_NE(description.symbol, nullptr);
  EXPECT_STREQ(description.symbol, "profiling_test_capture_here");
  ASSERT_NE(description.module, nullptr);
  EXPECT_NE(std::string(description.module).find("profiling_unit_tests"), std::string::npos) << description.module;
  EXPECT_LT(description.symbol_offset, 256u);
  // Skipping one frame starts at the caller instead.
  void* outer[max_stack_depth];
  const unsigned outer_depth = capture_stack(outer, max_stack_depth, 0);
  EXPECT_GE(outer_depth, 1u);
  EXPECT_EQ(capture_stack(outer, 0, 0), 0u);
  EXPECT_EQ(capture_stack(outer, 2, 0), 2u);
}

TEST(StackCapture, HashesTellStacksApart) {
  EXPECT_EQ(hash_stack(stack_a, 3), hash_stack(stack_a, 3));
  EXPECT_NE(hash_stack(stack_a, 3), hash_stack(stack_b, 3));
  EXPECT_NE(hash_stack(stack_a, 3), hash_stack(stack_a, 2));
  EXPECT_NE(hash_stack(stack_a, 0), 0u);
}

std::string report_of(const SiteTable& table, ReportSettings settings) {
  std::FILE* file = std::tmpfile();
  write_profile_report(fileno(file), table, settings);
  std::rewind(file);
  std::string text;
  char buffer[4096];
  while (std::size_t read = std::fread(buffer, 1, sizeof buffer, file)) text.append(buffer, read);
  std::fclose(file);
  return text;
}

TEST(Report, ShowsTotalsRankingsAndFrames) {
  Table t(64, 256);
  void* frames[max_stack_depth];
  const unsigned depth = profiling_test_capture_here(frames, max_stack_depth);
  for (std::uintptr_t i = 0; i < 3; ++i) t.table.record_allocation(address(0x10000 + i * 16), 1024, 3 << 20, frames, depth);
  t.table.record_allocation(address(0x20000), 1024, 1 << 20, stack_b, 3);
  t.table.record_free(address(0x20000));
  const std::string report = report_of(t.table, ReportSettings{5, 512 << 10, true});
  EXPECT_NE(report.find("globalloc heap profile: 4 samples, one per 512.0 KiB allocated on average; 2 sites; "
                        "0 samples dropped (tables full)\n"),
            std::string::npos)
      << report;
  EXPECT_NE(report.find("  live now:              9.0 MiB in ~9216 blocks\n"), std::string::npos) << report;
  EXPECT_NE(report.find("  allocated since start: 10.0 MiB in ~10240 blocks\n"), std::string::npos) << report;
  EXPECT_NE(report.find("top sites by live bytes (1 of 2 sites):\n  #1 live 9.0 MiB (100.0%) in ~9216 blocks; "
                        "allocated 9.0 MiB (90.0%) in ~9216 blocks; 3 samples\n"),
            std::string::npos)
      << report;
  EXPECT_NE(report.find(" profiling_test_capture_here+0x"), std::string::npos) << report;
  EXPECT_NE(report.find("top sites by allocated bytes (2 of 2 sites):"), std::string::npos) << report;
  EXPECT_NE(report.find("  #2 live 0 B (0.0%) in ~0 blocks; allocated 1.0 MiB (10.0%)"), std::string::npos) << report;
  EXPECT_NE(report.find("      0x4000 ?\n"), std::string::npos) << "an address no module holds:\n" << report;
  EXPECT_NE(report.find("end of globalloc heap profile\n"), std::string::npos) << report;
}

TEST(Report, SaysWhenSamplingIsStoppedOrNeverStarted) {
  Table t(64, 256);
  EXPECT_NE(report_of(t.table, ReportSettings{5, 4096, false}).find("; sampling is stopped\n"), std::string::npos);
  std::FILE* file = std::tmpfile();
  write_report_when_off(fileno(file));
  std::rewind(file);
  char line[200] = {};
  ASSERT_NE(std::fgets(line, sizeof line, file), nullptr);
  std::fclose(file);
  EXPECT_STREQ(line, "globalloc heap profile: profiling is off (GLOBALLOC_OPTIONS=prof=1 turns it on)\n");
}

// The profiler itself over the fast allocator's explicit API (no global
// replacement, so this also runs under ThreadSanitizer): threads take
// samples while others free their blocks.
TEST(Profiler, ThreadsSampleWhileOthersFreeTheirBlocks) {
  ASSERT_FALSE(globalloc::profiling::running());
  ASSERT_FALSE(globalloc::profiling::start(0));
  ASSERT_TRUE(globalloc::profiling::start(4096));
  EXPECT_TRUE(globalloc::profiling::running());
  constexpr int thread_count = 4;
  constexpr int per_thread = 20000;
  std::vector<std::atomic<void*>> blocks(thread_count * per_thread);
  std::vector<std::thread> threads;
  for (int t = 0; t < thread_count; ++t) {
    threads.emplace_back([&blocks, t] {
      for (int i = 0; i < per_thread; ++i) {
        const std::size_t size = i % 200 == 0 ? 200000 : 16 + (i % 41) * 40;
        blocks[t * per_thread + i] = globalloc::fast::allocate(size, 16);
        // The previous thread's first half, freed here when it is there yet.
        if (i >= per_thread / 2 && t > 0) {
          globalloc::fast::deallocate(blocks[(t - 1) * per_thread + (i - per_thread / 2)].exchange(nullptr));
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const ProfileTotals holding = globalloc::profiling::totals();
  EXPECT_GT(holding.figures.samples_total, 1000u);
  EXPECT_GT(holding.figures.live_samples, 100u);
  EXPECT_EQ(holding.samples_dropped, 0u);
  globalloc::profiling::stop();
  EXPECT_FALSE(globalloc::profiling::running());
  for (std::atomic<void*>& block : blocks) globalloc::fast::deallocate(block.exchange(nullptr));
  const ProfileTotals freed = globalloc::profiling::totals();
  EXPECT_EQ(freed.figures.live_samples, 0u);
  EXPECT_EQ(freed.figures.live_bytes, 0u);
  EXPECT_EQ(freed.figures.samples_total, holding.figures.samples_total);

  std::FILE* file = std::tmpfile();
  globalloc::profiling::write_report(fileno(file), 3);
  std::rewind(file);
  char line[300] = {};
  ASSERT_NE(std::fgets(line, sizeof line, file), nullptr);
  std::fclose(file);
  EXPECT_NE(std::string(line).find("one per 4.0 KiB allocated on average"), std::string::npos) << line;
  EXPECT_NE(std::string(line).find("sampling is stopped"), std::string::npos) << line;
}

}  // namespace
