// The heap profiler seen from outside: a child process (profiled_program)
// allocates from three call sites under GLOBALLOC_OPTIONS=prof=1 and the
// report must rank them by live and by allocated bytes; with profiling off
// nothing is sampled and nothing is reported; the C API starts and stops it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct ChildRun {
  int status;
  std::string out;
  std::string err;
};

std::string read_file(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// Runs profiled_program `mode` with GLOBALLOC_OPTIONS set to `options`
// (unset when empty), its stdout and stderr captured in files.
ChildRun run_child(const std::string& options, const std::string& mode) {
  static int runs = 0;
  const std::string stem = ::testing::TempDir() + "globalloc_profiling_" + std::to_string(::getpid()) + "_" +
                           std::to_string(runs++);
  const std::string environment = options.empty() ? "env -u GLOBALLOC_OPTIONS" : "env 'GLOBALLOC_OPTIONS=" + options + "'";
  const std::string command = environment + " '" PROFILED_PROGRAM "' " + mode + " >'" + stem + ".out' 2>'" + stem +
                              ".err'";
  const int status = std::system(command.c_str());
  ChildRun run{status, read_file(stem + ".out"), read_file(stem + ".err")};
  std::remove((stem + ".out").c_str());
  std::remove((stem + ".err").c_str());
  return run;
}

// The text of one ranking of a report ("live bytes" or "allocated bytes").
std::string ranking(const std::string& report, const std::string& by) {
  const std::size_t start = report.find("top sites by " + by);
  if (start == std::string::npos) return "";
  std::size_t end = report.find("top sites by ", start + 1);
  if (end == std::string::npos) end = report.find("end of globalloc heap profile", start);
  return report.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// The sites of a ranking, in order, each the header line and its frames.
std::vector<std::string> sites_of(const std::string& ranking_text) {
  std::vector<std::string> sites;
  std::size_t at = ranking_text.find("\n  #");
  while (at != std::string::npos) {
    const std::size_t next = ranking_text.find("\n  #", at + 1);
    sites.push_back(ranking_text.substr(at + 1, next == std::string::npos ? std::string::npos : next - at - 1));
    at = next;
  }
  return sites;
}

// The position (0 first) of the first site whose stack names `function`; -1 if none.
int rank_of(const std::vector<std::string>& sites, const std::string& function) {
  for (std::size_t i = 0; i < sites.size(); ++i) {
    if (sites[i].find(" " + function + "+") != std::string::npos) return static_cast<int>(i);
  }
  return -1;
}

// Bytes of "live 7.9 MiB" (or "allocated ...") in a site's header line.
double figure_of(const std::string& site, const std::string& name) {
  std::smatch match;
  if (!std::regex_search(site, match, std::regex(name + " ([0-9.]+) (B|KiB|MiB|GiB)"))) return -1;
  double value = std::stod(match[1].str());
  const std::string unit = match[2].str();
  if (unit == "KiB") value *= 1024;
  if (unit == "MiB") value *= 1024 * 1024;
  if (unit == "GiB") value *= 1024.0 * 1024 * 1024;
  return value;
}

// Sums a site's figure over every site of the ranking that names `function`
// (one call site can show as several stacks, by the allocator path taken).
double total_for(const std::vector<std::string>& sites, const std::string& function, const std::string& name) {
  double total = 0;
  for (const std::string& site : sites) {
    if (site.find(" " + function + "+") != std::string::npos) total += figure_of(site, name);
  }
  return total;
}

constexpr double MiB = 1024.0 * 1024.0;

TEST(HeapProfile, RanksSitesByLiveAndAllocatedBytes) {
  const ChildRun run = run_child("prof=1,prof_interval=4096,prof_at_exit=0", "sites");
  ASSERT_EQ(run.status, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("profiling enabled=1"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("globalloc heap profile: "), std::string::npos) << run.out;
  EXPECT_EQ(run.err.find("globalloc heap profile"), std::string::npos) << "prof_at_exit=0 still printed:\n" << run.err;

  const std::vector<std::string> live = sites_of(ranking(run.out, "live bytes"));
  const std::vector<std::string> allocated = sites_of(ranking(run.out, "allocated bytes"));
  ASSERT_FALSE(live.empty()) << run.out;
  ASSERT_FALSE(allocated.empty()) << run.out;

  // keep_site holds ten times what small_site holds, churn_site nothing.
  const int keep = rank_of(live, "profiled_keep_site");

  const int small = rank_of(live, "profiled_small_site");
  EXPECT_EQ(keep, 0) << "the site with the most live bytes is not first:\n" << run.out;
  EXPECT_GT(small, keep) << run.out;
  EXPECT_EQ(rank_of(live, "profiled_churn_site"), -1) << "freed blocks still count as live:\n" << run.out;
  const double keep_live = total_for(live, "profiled_keep_site", "live");
  const double small_live = total_for(live, "profiled_small_site", "live");
  EXPECT_GT(keep_live, 4 * MiB) << run.out;
  EXPECT_LT(keep_live, 16 * MiB) << run.out;
  EXPECT_GT(keep_live, 4 * small_live) << run.out;

  // churn_site allocated three times what keep_site did, and freed it all.
  EXPECT_EQ(rank_of(allocated, "profiled_churn_site"), 0) << run.out;
  EXPECT_GT(rank_of(allocated, "profiled_keep_site"), 0) << run.out;
  const double churn_allocated = total_for(allocated, "profiled_churn_site", "allocated");
  EXPECT_GT(churn_allocated, 12 * MiB) << run.out;
  EXPECT_LT(churn_allocated, 48 * MiB) << run.out;
  EXPECT_EQ(total_for(allocated, "profiled_churn_site", "live"), 0.0) << run.out;
}

TEST(HeapProfile, PreloadedSitesStartAtTheProgramsOwnFrames) {
  // python3 knows nothing of globalloc: under the preload library its sites
  // must begin in python3 or its libraries, not in libgloballoc.so.
  const std::string stem = ::testing::TempDir() + "globalloc_profiling_python_" + std::to_string(::getpid());
  const std::string command = "env 'GLOBALLOC_OPTIONS=prof=1,prof_interval=65536' LD_PRELOAD='" PRELOAD_LIBRARY
                              "' timeout 60 python3 -c 'x = [bytearray(1000) for _ in range(20000)]' 2>'" +
                              stem + ".err'";
  ASSERT_EQ(std::system(command.c_str()), 0);
  const std::string everything = read_file(stem + ".err");
  std::remove((stem + ".err").c_str());
  // Every process under the preload prints a report (python3 starts helper
  // processes, and timeout waits for it); python3's own, the last, is the one.
  const std::size_t last = everything.rfind("globalloc heap profile: ");
  ASSERT_NE(last, std::string::npos) << everything;
  const std::string report = everything.substr(last);
  const std::vector<std::string> sites = sites_of(ranking(report, "allocated bytes"));
  ASSERT_FALSE(sites.empty()) << report;
  for (const std::string& site : sites) {
    const std::size_t first_frame = site.find('\n');
    ASSERT_NE(first_frame, std::string::npos) << site;
    const std::string first_line = site.substr(first_frame + 1, site.find('\n', first_frame + 1) - first_frame - 1);
    EXPECT_EQ(first_line.find("libgloballoc"), std::string::npos) << site;
  }
}

TEST(HeapProfile, ReportAtExitGoesToStderr) {
  const ChildRun run = run_child("prof=1,prof_interval=64k,prof_top=3", "sites");
  ASSERT_EQ(run.status, 0) << run.out << run.err;
  const std::size_t at_exit = run.err.find("globalloc heap profile: ");
  ASSERT_NE(at_exit, std::string::npos) << run.err;
  EXPECT_NE(run.err.find("one per 64.0 KiB allocated on average", at_exit), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("end of globalloc heap profile", at_exit), std::string::npos) << run.err;
  // prof_top=3: at most three sites per ranking.
  EXPECT_LE(sites_of(ranking(run.err.substr(at_exit), "live bytes")).size(), 3u) << run.err;
  EXPECT_EQ(rank_of(sites_of(ranking(run.err.substr(at_exit), "live bytes")), "profiled_keep_site"), 0) << run.err;
}

TEST(HeapProfile, OffByDefaultSamplesAndReportsNothing) {
  const ChildRun run = run_child("", "sites");
  ASSERT_EQ(run.status, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("profiling enabled=0 samples=0 live_bytes=0 allocated_bytes=0"), std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("globalloc heap profile: profiling is off"), std::string::npos) << run.out;
  EXPECT_EQ(run.out.find("top sites by"), std::string::npos) << run.out;
  EXPECT_EQ(run.err.find("globalloc heap profile"), std::string::npos) << run.err;
}

TEST(HeapProfile, OtherOptionsDoNotTurnItOn) {
  const ChildRun run = run_child("prof=0,prof_interval=4096,prof_at_exit=1", "sites");
  ASSERT_EQ(run.status, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("profiling enabled=0 samples=0"), std::string::npos) << run.out;
  EXPECT_EQ(run.err.find("globalloc heap profile"), std::string::npos) << run.err;
}

TEST(HeapProfile, StartsAndStopsFromTheCApi) {
  const ChildRun run = run_child("", "api");
  EXPECT_EQ(run.status, 0) << "profiled_program api failed (exit status " << run.status << "):\n"
                           << run.out << run.err;
  EXPECT_NE(run.out.find("api ok"), std::string::npos) << run.out;
}

TEST(HeapProfile, SampledBlocksFreedByOtherThreadsLeaveTheLiveFigures) {
  const ChildRun run = run_child("prof=1,prof_interval=8k,prof_at_exit=0", "threads");
  EXPECT_EQ(run.status, 0) << run.out << run.err;
  EXPECT_NE(run.out.find(" live while held, 0 live after"), std::string::npos) << run.out;
}

TEST(HeapProfile, ForkWhileOtherThreadsAllocateLeavesNoLockHeld) {
  const ChildRun run = run_child("prof=1,prof_interval=4k,prof_at_exit=0", "fork");
  EXPECT_EQ(run.status, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("fork: 20 of 20 children"), std::string::npos) << run.out;
}

TEST(HeapProfile, BadOptionValuesAreReportedAndIgnored) {
  const ChildRun run = run_child("prof=1,prof_interval=0,prof_top=100", "sites");
  ASSERT_EQ(run.status, 0) << run.out << run.err;
  EXPECT_NE(run.err.find("bad value '0' for option prof_interval"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("bad value '100' for option prof_top"), std::string::npos) << run.err;
  // prof=1 still applies, with the default interval.
  EXPECT_NE(run.out.find("profiling enabled=1"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("one per 512.0 KiB allocated on average"), std::string::npos) << run.out;
}

}  // namespace
