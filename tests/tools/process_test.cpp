// Running a child for the globalloc command (process.cpp): the CPU a run
// may be pinned to.
#include <gtest/gtest.h>

#include <sched.h>

#include "process.hpp"

using namespace globalloc::tool;

namespace {
RunOutcome allowed_list_of_child(int cpu) {
  RunRequest request;
  request.program = "/bin/sh";
  request.arguments = {"sh", "-c", "grep Cpus_allowed_list /proc/self/status"};
  request.timeout_seconds = 20;
  request.cpu = cpu;
  return run_and_measure(request);
}
}  // namespace

TEST(RunAndMeasure, PinsTheChildToTheCpuAsked) {
  const int cpu = first_allowed_cpu();
  ASSERT_GE(cpu, 0);
  const RunOutcome pinned = allowed_list_of_child(cpu);
  ASSERT_TRUE(pinned.succeeded()) << pinned.status() << pinned.errors;
  EXPECT_EQ(pinned.output, "Cpus_allowed_list:\t" + std::to_string(cpu) + "\n");
  if (allowed_cpu_count() > 1) {
    const RunOutcome free = allowed_list_of_child(-1);
    ASSERT_TRUE(free.succeeded()) << free.status();
    EXPECT_NE(free.output, pinned.output) << "without a CPU the child keeps every allowed CPU";
  }
}

TEST(RunAndMeasure, ACpuItMayNotUseIsAnErrorNotARunElsewhere) {
  for (int cpu : {CPU_SETSIZE - 1, CPU_SETSIZE + 7}) {
    const RunOutcome outcome = allowed_list_of_child(cpu);
    EXPECT_FALSE(outcome.succeeded()) << cpu;
    EXPECT_EQ(outcome.status().rfind("cannot execute", 0), 0u) << cpu << ": " << outcome.status();
    EXPECT_TRUE(outcome.output.empty()) << cpu << ": " << outcome.output;
  }
}
