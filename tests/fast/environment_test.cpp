// platform/environment.hpp: options come from the environment also when the
// first allocation runs before libc has set up `environ` (.preinit_array).
#include "platform/environment.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

namespace {

using globalloc::platform::initial_environment_value;

TEST(Environment, InitialValueIsTheOneTheProcessStartedWith) {
  // PATH is set for every test run (CTest passes it on) and nothing here changes it.
  const char* path = std::getenv("PATH");
  ASSERT_NE(path, nullptr);
  char buffer[4096];
  const char* value = initial_environment_value("PATH", buffer, sizeof buffer);
  ASSERT_NE(value, nullptr);
  EXPECT_STREQ(value, path);
}

TEST(Environment, UnsetNamesAndPrefixesOfNamesAreNotFound) {
  char buffer[256];
  EXPECT_EQ(initial_environment_value("GLOBALLOC_SURELY_NOT_SET_IN_THIS_TEST", buffer, sizeof buffer), nullptr);
  EXPECT_EQ(initial_environment_value("PAT", buffer, sizeof buffer), nullptr);  // a prefix of PATH
}

TEST(Environment, AValueTooLongForTheBufferIsNotFound) {
  const char* path = std::getenv("PATH");
  ASSERT_NE(path, nullptr);
  ASSERT_GT(std::strlen(path), 4u);
  char buffer[4];
  EXPECT_EQ(initial_environment_value("PATH", buffer, sizeof buffer), nullptr);
}

TEST(Environment, ErrnoIsLeftAsItWas) {
  char buffer[256];
  errno = 1234;
  initial_environment_value("GLOBALLOC_SURELY_NOT_SET_IN_THIS_TEST", buffer, sizeof buffer);
  EXPECT_EQ(errno, 1234);
}

}  // namespace
