// globalloc: compare memory allocators on the bench workloads or on any
// program. Dispatches to the subcommands (command_*.cpp).
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "command_line.hpp"
#include "commands.hpp"

using namespace globalloc::tool;

namespace {

int print_usage(const std::string& command, FILE* stream) {
  std::fputs(usage_text(command).c_str(), stream);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    print_usage("", stderr);
    return kExitUsage;
  }
  const std::string command = args.front();
  args.erase(args.begin());
  try {
    if (command == "--help" || command == "-h") return print_usage("", stdout);
    if (command == "help") {
      if (args.empty()) return print_usage("", stdout);
      if (usage_text(args.front()).empty())
        throw UsageError("", "no command '" + args.front() + "'");
      return print_usage(args.front(), stdout);
    }
    if (usage_text(command).empty() || command.empty())
      throw UsageError("", "unknown command '" + command + "'");
    for (const auto& arg : args) {
      if (arg == "--") break;
      if (arg == "--help" || arg == "-h") return print_usage(command, stdout);
    }
    if (command == "list") return command_list(args);
    if (command == "run") return command_run(args);
    if (command == "compare") return command_compare(args);
    if (command == "bench") return command_bench(args);
    throw UsageError("", "unknown command '" + command + "'");
  } catch (const UsageError& error) {
    std::fprintf(stderr, "globalloc: %s\n\n", error.what());
    print_usage(error.command(), stderr);
    return kExitUsage;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "globalloc: error: %s\n", error.what());
    return 1;
  }
}
