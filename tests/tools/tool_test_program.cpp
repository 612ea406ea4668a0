// A program for the globalloc command's tests to run:
//   ok                 allocate a little, print "hello", exit 0
//   exit N             exit with status N
//   crash              die of SIGSEGV
//   crash-under NAME   die of SIGSEGV when LD_PRELOAD mentions NAME, else ok
//   print-env NAME     print the variable NAME's value
//   one-cpu            exit 0 when it may run on exactly one CPU, else 3
#include <sched.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "ok";
  std::string argument = argc > 2 ? argv[2] : "";
  if (mode == "exit") return std::atoi(argument.c_str());
  if (mode == "one-cpu") {
    cpu_set_t allowed;
    return sched_getaffinity(0, sizeof allowed, &allowed) == 0 && CPU_COUNT(&allowed) == 1 ? 0 : 3;
  }
  if (mode == "print-env") {
    const char* value = std::getenv(argument.c_str());
    std::printf("%s=%s\n", argument.c_str(), value != nullptr ? value : "");
    return 0;
  }
  const char* preload = std::getenv("LD_PRELOAD");
  if (mode == "crash" ||
      (mode == "crash-under" && preload != nullptr && std::strstr(preload, argument.c_str()) != nullptr)) {
    std::raise(SIGSEGV);
  }
  std::vector<std::string> words;
  for (int i = 0; i < 1000; ++i) words.push_back("word number " + std::to_string(i) + " of the test");
  std::printf("hello %zu\n", words.size());
  return 0;
}
