// Tests of the globalloc command, run as a child process the way a user runs
// it: exit statuses, the messages of its errors, the comparison table, and
// the files `globalloc bench` writes.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sched.h>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct Result {
  int status = -1;  // exit status, or 128 + signal
  std::string out;
  std::string err;
};

std::string read_file(const fs::path& path) {
  std::ifstream stream(path);
  std::stringstream text;
  text << stream.rdbuf();
  return text.str();
}

// The file named `name` anywhere below `folder` (bench writes into a dated
// subfolder); empty when there is none.
fs::path find_below(const fs::path& folder, const std::string& name) {
  for (const auto& entry : fs::recursive_directory_iterator(folder))
    if (entry.path().filename() == name) return entry.path();
  return {};
}

// A fresh temporary folder, removed with everything in it at the end.
class TemporaryFolder {
public:
  TemporaryFolder() {
    std::string pattern = (fs::temp_directory_path() / "globalloc-tool-test-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TemporaryFolder() {
    std::error_code error;
    fs::remove_all(path_, error);
  }
  const fs::path& path() const { return path_; }

private:
  fs::path path_;
};

// Runs `globalloc ARGS` through the shell with stdout and stderr captured.
Result globalloc(const std::string& args) {
  TemporaryFolder folder;
  const fs::path out = folder.path() / "out", err = folder.path() / "err";
  std::string command = std::string("'") + GLOBALLOC_COMMAND + "' " + args + " >'" + out.string() +
                        "' 2>'" + err.string() + "' </dev/null";
  int raw = std::system(command.c_str());
  Result result;
  result.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
  result.out = read_file(out);
  result.err = read_file(err);
  return result;
}

/// `globalloc bench ARGS --out FOLDER`: the bench tests' reports go to a
/// folder of their own.
Result bench(const std::string& args, const TemporaryFolder& folder) {
  return globalloc("bench " + args + " --out '" + folder.path().string() + "'");
}

const std::string kProgram = std::string("'") + GLOBALLOC_TEST_PROGRAM + "'";

bool jemalloc_available() {
  return globalloc("list").out.find("\njemalloc ") != std::string::npos;  // glibc is always first
}

}  // namespace

TEST(GloballocCommand, ListShowsGlibcAndTheLibraries) {
  Result result = globalloc("list");
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_NE(result.out.find("glibc"), std::string::npos) << result.out;
}

TEST(GloballocCommand, HelpDescribesEveryCommand) {
  Result overview = globalloc("--help");
  EXPECT_EQ(overview.status, 0);
  for (const char* command : {"bench", "run", "compare", "list"})
    EXPECT_NE(overview.out.find(command), std::string::npos) << command;
  Result run_help = globalloc("help run");
  EXPECT_EQ(run_help.status, 0);
  EXPECT_NE(run_help.out.find("--allocator"), std::string::npos) << run_help.out;
}

TEST(GloballocCommand, BadFlagGivesUsageAndStatusTwo) {
  Result result = globalloc("bench --no-such-flag");
  EXPECT_EQ(result.status, 2);
  EXPECT_NE(result.err.find("usage: globalloc bench"), std::string::npos) << result.err;
  EXPECT_EQ(globalloc("no-such-command").status, 2);
  EXPECT_EQ(globalloc("compare --runs zero -- true").status, 2);
}

TEST(GloballocCommand, UnknownAllocatorListsTheKnownOnes) {
  Result result = globalloc("run --allocator nosuch -- true");
  EXPECT_EQ(result.status, 2);
  EXPECT_NE(result.err.find("unknown allocator 'nosuch'"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("glibc, fast, fast-unchecked, hardened, jemalloc, mimalloc, tcmalloc, scudo"), std::string::npos)
      << result.err;
}

TEST(GloballocCommand, MissingProgramIsNamed) {
  Result run = globalloc("run --allocator glibc -- /no/such/program-here");
  EXPECT_EQ(run.status, 127);
  EXPECT_NE(run.err.find("program not found: '/no/such/program-here'"), std::string::npos) << run.err;
  Result compare = globalloc("compare --runs 1 --only glibc -- no-such-program-on-path");
  EXPECT_EQ(compare.status, 127);
  EXPECT_NE(compare.err.find("program not found"), std::string::npos) << compare.err;
}

TEST(GloballocCommand, RunPassesTheProgramsExitStatus) {
  EXPECT_EQ(globalloc("run --allocator glibc -- " + kProgram + " exit 3").status, 3);
  Result ok = globalloc("run --allocator glibc -- " + kProgram + " ok");
  EXPECT_EQ(ok.status, 0);
  EXPECT_NE(ok.out.find("hello 1000"), std::string::npos);
}

TEST(GloballocCommand, RunStatsAppendsToGloballocOptions) {
  setenv("GLOBALLOC_OPTIONS", "purge_delay_ms=5", 1);
  Result result = globalloc("run --allocator glibc --stats -- " + kProgram + " print-env GLOBALLOC_OPTIONS");
  unsetenv("GLOBALLOC_OPTIONS");
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_NE(result.out.find("GLOBALLOC_OPTIONS=purge_delay_ms=5,stats=1"), std::string::npos) << result.out;
}

TEST(GloballocCommand, RunProfileAddsProfToGloballocOptions) {
  setenv("GLOBALLOC_OPTIONS", "purge_delay_ms=5", 1);
  Result result =
      globalloc("run --allocator glibc --stats --profile -- " + kProgram + " print-env GLOBALLOC_OPTIONS");
  unsetenv("GLOBALLOC_OPTIONS");
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_NE(result.out.find("GLOBALLOC_OPTIONS=purge_delay_ms=5,stats=1,prof=1"), std::string::npos) << result.out;
}

TEST(GloballocCommand, RunProfileUnderFastPrintsTheHeapProfileAtExit) {
  Result result = globalloc("run --allocator fast --profile -- " + kProgram + " ok");
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_NE(result.err.find("heap profile"), std::string::npos) << result.err;
}

TEST(GloballocCommand, RunPreloadsThePeerLibrary) {
  if (!jemalloc_available()) GTEST_SKIP() << "jemalloc is not installed";
  Result result = globalloc("run --allocator jemalloc -- " + kProgram + " print-env LD_PRELOAD");
  EXPECT_EQ(result.status, 0);
  EXPECT_NE(result.out.find("libjemalloc"), std::string::npos) << result.out;
}

TEST(GloballocCommand, ComparePrintsATable) {
  const bool jemalloc = jemalloc_available();
  Result result = globalloc(std::string("compare --runs 1 --only ") + (jemalloc ? "glibc,jemalloc" : "glibc") +
                            " -- " + kProgram + " ok");
  EXPECT_EQ(result.status, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("time ms"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("peak RSS"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("glibc"), std::string::npos) << result.out;
  if (jemalloc) {
    EXPECT_NE(result.out.find("jemalloc"), std::string::npos) << result.out;
  }
  EXPECT_NE(result.err.find("[1/"), std::string::npos) << "progress line expected: " << result.err;
}

TEST(GloballocCommand, CompareRunsTheProgramOnTheCpuAsked) {
  cpu_set_t allowed;
  ASSERT_EQ(sched_getaffinity(0, sizeof allowed, &allowed), 0);
  int first = 0;
  while (!CPU_ISSET(first, &allowed)) ++first;
  const std::string cpu = std::to_string(first);
  // one-cpu exits 3 unless it may run on exactly one CPU.
  Result pinned = globalloc("compare --runs 1 --only glibc,fast --cpu " + cpu + " -- " + kProgram + " one-cpu");
  EXPECT_EQ(pinned.status, 0) << pinned.out << pinned.err;
  EXPECT_NE(pinned.out.find("on CPU " + cpu + " only"), std::string::npos) << pinned.out;
  if (CPU_COUNT(&allowed) > 1) {
    Result free = globalloc("compare --runs 1 --only glibc -- " + kProgram + " one-cpu");
    EXPECT_EQ(free.status, 1) << "without --cpu the program keeps every CPU: " << free.out;
  }
  Result outside = globalloc("compare --cpu 100000 -- " + kProgram + " ok");
  EXPECT_EQ(outside.status, 2);
  EXPECT_NE(outside.err.find("--cpu 100000: not a CPU this process may run on"), std::string::npos) << outside.err;
  EXPECT_EQ(globalloc("compare --cpu -1 -- " + kProgram + " ok").status, 2);
}

TEST(GloballocCommand, CompareShowsWhatTheChecksCostTheProgram) {
  Result result = globalloc("compare --runs 2 --only fast,fast-unchecked -- " + kProgram + " ok");
  EXPECT_EQ(result.status, 0) << result.out << result.err;
  const std::size_t table = result.out.find("what fast's misuse checks cost");
  ASSERT_NE(table, std::string::npos) << result.out;
  EXPECT_NE(result.out.find("above noise", table), std::string::npos) << result.out;
  EXPECT_EQ(result.out.find("geometric mean", table), std::string::npos) << "one program, no mean: " << result.out;
  Result without = globalloc("compare --runs 1 --only glibc,fast -- " + kProgram + " ok");
  EXPECT_EQ(without.status, 0) << without.out << without.err;
  EXPECT_EQ(without.out.find("what fast's misuse checks cost"), std::string::npos) << without.out;
}

TEST(GloballocCommand, CrashUnderOneAllocatorIsReportedInItsRow) {
  const bool jemalloc = jemalloc_available();
  // Under jemalloc the program crashes; glibc's row must still be there.
  Result result = jemalloc
      ? globalloc("compare --runs 1 --only glibc,jemalloc -- " + kProgram + " crash-under jemalloc")
      : globalloc("compare --runs 1 --only glibc -- " + kProgram + " crash");
  EXPECT_NE(result.status, 0);
  EXPECT_NE(result.out.find("signal 11"), std::string::npos) << result.out;
  if (jemalloc) {
    std::istringstream lines(result.out);
    bool glibc_ok = false;
    for (std::string line; std::getline(lines, line);)
      if (line.find("glibc") != std::string::npos && line.find(" ok") != std::string::npos) glibc_ok = true;
    EXPECT_TRUE(glibc_ok) << result.out;
  }
}

TEST(GloballocCommand, FailingExitStatusIsReportedInItsRow) {
  Result result = globalloc("compare --runs 1 --only glibc -- " + kProgram + " exit 3");
  EXPECT_EQ(result.status, 1);
  EXPECT_NE(result.out.find("exit 3"), std::string::npos) << result.out;
}

TEST(GloballocCommand, BenchQuickWritesReportAndChart) {
  TemporaryFolder folder;
  Result result = bench("--quick --scale 0.05 --only churn,glibc", folder);
  ASSERT_EQ(result.status, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("wl-churn"), std::string::npos) << result.out;
  EXPECT_NE(result.err.find("wl-churn under glibc"), std::string::npos) << result.err;
  const fs::path report = find_below(folder.path(), "report.md");
  const fs::path chart = find_below(folder.path(), "chart.svg");
  ASSERT_FALSE(report.empty()) << "no report.md under " << folder.path();
  ASSERT_FALSE(chart.empty()) << "no chart.svg under " << folder.path();
  std::string markdown = read_file(report);
  EXPECT_NE(markdown.find("| wl-churn |"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("checksum"), std::string::npos);
  std::string svg = read_file(chart);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
}

TEST(GloballocCommand, BenchReportsTheResidentSizesTheWorkloadReports) {
  // wl-footprint prints its resident size right after freeing and after an
  // idle second: a table each, with a number in every column.
  TemporaryFolder folder;
  Result result = bench("--quick --scale 0.05 --only footprint,glibc,fast", folder);
  ASSERT_EQ(result.status, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("Resident MiB after an idle second:  glibc "), std::string::npos) << result.out;
  const std::string markdown = read_file(find_below(folder.path(), "report.md"));
  for (const char* title : {"## Resident MiB after freeing (reported by the workload)",
                            "## Resident MiB after an idle second (reported by the workload)"}) {
    const std::size_t at = markdown.find(title);
    ASSERT_NE(at, std::string::npos) << title << " in\n" << markdown;
    const std::size_t row = markdown.find("| wl-footprint | ", at);
    ASSERT_NE(row, std::string::npos) << markdown.substr(at);
    const std::string line = markdown.substr(row, markdown.find('\n', row) - row);
    EXPECT_EQ(line.find(" - |"), std::string::npos) << line;  // both allocators reported
  }
}

TEST(GloballocCommand, BenchReportsWhatTheChecksCost) {
  // fast and fast-unchecked side by side: the table of the checks' cost, in
  // the output and in the report, one row per workload and the mean.
  TemporaryFolder folder;
  Result result = bench("--runs 2 --scale 0.05 --only churn,larson,fast,fast-unchecked", folder);
  ASSERT_EQ(result.status, 0) << result.out << result.err;
  const std::size_t table = result.out.find("what fast's misuse checks cost");
  ASSERT_NE(table, std::string::npos) << result.out;
  const std::string rows = result.out.substr(table);
  for (const char* expected : {"wl-churn", "wl-larson", "geometric mean", "noise", "above noise"})
    EXPECT_NE(rows.find(expected), std::string::npos) << expected << " in\n" << rows;
  const std::string markdown = read_file(find_below(folder.path(), "report.md"));
  EXPECT_NE(markdown.find("## What fast's misuse checks cost"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("| fast-unchecked |"), std::string::npos) << markdown;  // a column of its own
  // wl-churn runs one thread: on one CPU under both (when there are several).
  cpu_set_t allowed;
  ASSERT_EQ(sched_getaffinity(0, sizeof allowed, &allowed), 0);
  if (CPU_COUNT(&allowed) > 1) {
    EXPECT_NE(markdown.find("- CPU: the single-thread workloads (wl-churn) ran on CPU "), std::string::npos)
        << markdown;
  }
  // Without fast-unchecked in the run there is nothing to compare.
  Result alone = bench("--quick --scale 0.05 --only churn,fast", folder);
  ASSERT_EQ(alone.status, 0) << alone.out << alone.err;
  EXPECT_EQ(alone.out.find("what fast's misuse checks cost"), std::string::npos) << alone.out;
}

TEST(GloballocCommand, BenchReportsAPeersFailureAndFailsOnlyWithStrict) {
  // Debian 12's mimalloc (2.0.9) returns misaligned blocks on wl-aligned: a
  // finding about that peer, shown in its row and in a last line; the exit
  // status stays about glibc and globalloc's own allocators unless --strict.
  if (globalloc("list").out.find("\nmimalloc ") == std::string::npos) GTEST_SKIP() << "mimalloc is not installed";
  TemporaryFolder folder;
  Result result = bench("--quick --scale 0.05 --only aligned,glibc,mimalloc", folder);
  const std::string markdown = read_file(find_below(folder.path(), "report.md"));
  if (markdown.find("| mimalloc | - |") == std::string::npos)
    GTEST_SKIP() << "this mimalloc passes wl-aligned (fixed after 2.0.9): no peer failure to report";
  EXPECT_EQ(result.status, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("peers that failed a workload"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("mimalloc on wl-aligned"), std::string::npos) << result.out;
  EXPECT_EQ(result.out.find("some runs failed"), std::string::npos) << result.out;

  Result strict = bench("--quick --scale 0.05 --only aligned,glibc,mimalloc --strict", folder);
  EXPECT_EQ(strict.status, 1) << strict.out << strict.err;
  EXPECT_NE(strict.out.find("--strict counts them"), std::string::npos) << strict.out;
}

TEST(GloballocCommand, BenchRunsEachWorkloadOncePerThreadCount) {
  TemporaryFolder folder;
  Result result = bench("--quick --scale 0.05 --threads 1,3 --only larson,glibc", folder);
  ASSERT_EQ(result.status, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("wl-larson/1t"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("wl-larson/3t"), std::string::npos) << result.out;
  // The count reaches the workload: its checksum mixes one sum per thread,
  // so the two rows must differ.
  const fs::path csv = find_below(folder.path(), "runs.csv");
  ASSERT_FALSE(csv.empty());
  std::string rows = read_file(csv);
  // workload,allocator,runs_ok,median_seconds,median_peak_rss_kb,checksum,status
  auto checksum_of = [&](const std::string& name) {
    auto line_start = rows.find(name + ",glibc,");
    if (line_start == std::string::npos) return std::string();
    std::string line = rows.substr(line_start, rows.find('\n', line_start) - line_start);
    std::vector<std::string> fields;
    for (std::size_t at = 0;;) {
      auto comma = line.find(',', at);
      fields.push_back(line.substr(at, comma - at));
      if (comma == std::string::npos) break;
      at = comma + 1;
    }
    return fields.size() == 7 ? fields[5] : std::string();
  };
  const std::string one = checksum_of("wl-larson/1t"), three = checksum_of("wl-larson/3t");
  EXPECT_FALSE(one.empty()) << rows;
  EXPECT_FALSE(three.empty()) << rows;
  EXPECT_NE(one, three) << rows;
}

TEST(GloballocCommand, BenchRejectsABadThreadCount) {
  Result result = globalloc("bench --quick --threads 2,zero --only churn,glibc");
  EXPECT_EQ(result.status, 2);
  EXPECT_NE(result.err.find("--threads"), std::string::npos) << result.err;
  Result too_many = globalloc("bench --quick --threads 4,65 --only churn,glibc");
  EXPECT_EQ(too_many.status, 2);
  EXPECT_NE(too_many.err.find("1 to 64, not 65"), std::string::npos) << too_many.err;
}

TEST(GloballocCommand, BenchRejectsUnknownWorkload) {
  Result result = globalloc("bench --quick --only no-such-workload");
  EXPECT_EQ(result.status, 2);
  EXPECT_NE(result.err.find("neither a workload nor an allocator"), std::string::npos) << result.err;
}
