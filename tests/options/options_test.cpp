// The GLOBALLOC_OPTIONS parser: known keys set, unknown keys and bad values
// warn and leave everything else applied.
#include <gtest/gtest.h>

#include "options/options.hpp"

namespace {

using globalloc::options::Option;
using globalloc::options::parse;
using globalloc::options::value;

class OptionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_delay_ = value(Option::purge_delay_ms);
    saved_quarantine_ = value(Option::quarantine_bytes);
  }
  void TearDown() override {
    globalloc::options::set(Option::purge_delay_ms, saved_delay_);
    globalloc::options::set(Option::quarantine_bytes, saved_quarantine_);
    globalloc::options::set(Option::zero_on_free, 0);
  }
  long saved_delay_ = 0, saved_quarantine_ = 0;
};

TEST_F(OptionsTest, KnownKeysAreSet) {
  EXPECT_EQ(parse("purge_delay_ms=1000,zero_on_free=1,quarantine_bytes=64k"), 0u);
  EXPECT_EQ(value(Option::purge_delay_ms), 1000);
  EXPECT_EQ(value(Option::zero_on_free), 1);
  EXPECT_EQ(value(Option::quarantine_bytes), 64 * 1024);
}

TEST_F(OptionsTest, UnknownKeysWarnAndTheRestStillApply) {
  testing::internal::CaptureStderr();
  EXPECT_EQ(parse("bogus=1,purge_delay_ms=7,another"), 2u);
  const std::string warnings = testing::internal::GetCapturedStderr();
  EXPECT_EQ(value(Option::purge_delay_ms), 7);
  EXPECT_NE(warnings.find("globalloc: unknown option 'bogus' in GLOBALLOC_OPTIONS ignored; known options: "
                          "purge_delay_ms, stats, verbose, zero_on_free, quarantine_bytes, prof, prof_interval, "
                          "prof_at_exit, prof_top, huge_pages, purge_thread, starter_allocations\n"),
            std::string::npos)
      << warnings;
  EXPECT_NE(warnings.find("unknown option 'another'"), std::string::npos) << warnings;
}

TEST_F(OptionsTest, BadValuesWarnAndKeepTheCurrentValue) {
  globalloc::options::set(Option::purge_delay_ms, 300);
  testing::internal::CaptureStderr();
  EXPECT_EQ(parse("purge_delay_ms=abc,zero_on_free=2,purge_delay_ms=-5,quarantine_bytes=,stats"), 5u);
  const std::string warnings = testing::internal::GetCapturedStderr();
  EXPECT_EQ(value(Option::purge_delay_ms), 300);
  EXPECT_EQ(value(Option::zero_on_free), 0);
  EXPECT_NE(warnings.find("globalloc: bad value 'abc' for option purge_delay_ms (expected milliseconds); keeping 300"),
            std::string::npos)
      << warnings;
  EXPECT_NE(warnings.find("bad value '2' for option zero_on_free (expected 0 or 1)"), std::string::npos) << warnings;
}

TEST_F(OptionsTest, HugePagesTakesZeroOneOrTwo) {
  EXPECT_EQ(value(Option::huge_pages), 1) << "huge blocks ask for huge pages by default, small blocks do not";
  testing::internal::CaptureStderr();
  EXPECT_EQ(parse("huge_pages=2"), 0u);
  EXPECT_EQ(value(Option::huge_pages), 2);
  EXPECT_EQ(parse("huge_pages=3,huge_pages=-1"), 2u);
  const std::string warnings = testing::internal::GetCapturedStderr();
  EXPECT_EQ(value(Option::huge_pages), 2);
  EXPECT_NE(warnings.find("bad value '3' for option huge_pages (expected 0, 1 or 2); keeping 2"), std::string::npos)
      << warnings;
  globalloc::options::set(Option::huge_pages, 1);
}

TEST_F(OptionsTest, EmptyAndMissingTextsAreFine) {
  EXPECT_EQ(parse(nullptr), 0u);
  EXPECT_EQ(parse(""), 0u);
  EXPECT_EQ(parse(",,"), 0u);
}

TEST_F(OptionsTest, HeapProfilingOptionsAreCheckedAndSet) {
  EXPECT_EQ(value(Option::prof), 0) << "heap profiling must be off by default";
  EXPECT_EQ(value(Option::prof_interval), 512 * 1024);
  EXPECT_EQ(value(Option::prof_at_exit), 1);
  EXPECT_EQ(value(Option::prof_top), 20);
  testing::internal::CaptureStderr();
  EXPECT_EQ(parse("prof_interval=64k,prof_top=5,prof_at_exit=0"), 0u);
  EXPECT_EQ(value(Option::prof_interval), 64 * 1024);
  EXPECT_EQ(value(Option::prof_top), 5);
  EXPECT_EQ(value(Option::prof_at_exit), 0);
  EXPECT_EQ(parse("prof=2,prof_interval=0,prof_top=65,prof_top=0,prof_at_exit=-1"), 5u);
  const std::string warnings = testing::internal::GetCapturedStderr();
  EXPECT_EQ(value(Option::prof), 0);
  EXPECT_EQ(value(Option::prof_interval), 64 * 1024);
  EXPECT_EQ(value(Option::prof_top), 5);
  EXPECT_NE(warnings.find("bad value '0' for option prof_interval (expected bytes, 1 or more); keeping 65536"),
            std::string::npos)
      << warnings;
  EXPECT_NE(warnings.find("bad value '65' for option prof_top (expected 1 to 64); keeping 5"), std::string::npos)
      << warnings;
  globalloc::options::set(Option::prof_interval, 512 * 1024);
  globalloc::options::set(Option::prof_top, 20);
  globalloc::options::set(Option::prof_at_exit, 1);
}

TEST(OptionTable, EveryOptionIsDocumented) {
  for (unsigned i = 0; i < static_cast<unsigned>(Option::count); ++i) {
    const auto& description = globalloc::options::describe(static_cast<Option>(i));
    EXPECT_NE(description.name, nullptr);
    EXPECT_GT(std::string(description.documentation).size(), 20u) << description.name;
  }
}

}  // namespace
