// `globalloc run [--allocator NAME] [--stats] -- PROGRAM ARGS`: replaces
// itself with PROGRAM under the chosen allocator, so the exit status, signals
// and terminal are the program's own.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

#include "allocators.hpp"
#include "command_line.hpp"
#include "commands.hpp"
#include "process.hpp"

namespace globalloc::tool {

int command_run(const std::vector<std::string>& args) {
  ArgumentCursor cursor("run", args);
  std::string allocator_name = "fast";
  bool stats = false;
  bool profile = false;
  while (!cursor.done()) {
    std::string value;
    if (cursor.peek() == "--") {
      cursor.next();
      break;
    }
    if (cursor.take_value("--allocator", value)) {
      allocator_name = value;
    } else if (cursor.peek() == "--stats") {
      cursor.next();
      stats = true;
    } else if (cursor.peek() == "--profile") {
      cursor.next();
      profile = true;
    } else if (cursor.peek().rfind("-", 0) == 0) {
      throw UsageError("run", "unknown option '" + cursor.peek() + "'");
    } else {
      break;  // the program, without "--"
    }
  }
  std::vector<std::string> program = cursor.rest();
  if (program.empty()) throw UsageError("run", "no program given");
  if (!is_known_allocator(allocator_name))
    throw UsageError("run", "unknown allocator '" + allocator_name +
                                "'; known allocators: " + known_allocator_list());

  AllocatorDiscovery discovery = discover_allocators();
  const Allocator* chosen = nullptr;
  for (const auto& allocator : discovery.found)
    if (allocator.name == allocator_name) chosen = &allocator;
  if (chosen == nullptr) {
    for (const auto& note : discovery.notes)
      if (note.rfind(allocator_name + ":", 0) == 0) {
        std::string reason = note.substr(note.find(',') + 2);  // after "NAME: skipped, "
        std::fprintf(stderr, "globalloc: allocator '%s' is not available: %s\n",
                     allocator_name.c_str(), reason.c_str());
      }
    return kExitUsage;
  }

  std::string path = find_program(program.front());
  if (path.empty()) {
    std::fprintf(stderr, "globalloc: program not found: '%s'\n", program.front().c_str());
    return kExitNotFound;
  }

  std::vector<std::string> extra;
  if (stats || profile) {
    // Appended, so they win over the same keys already in the environment.
    const char* existing = std::getenv("GLOBALLOC_OPTIONS");
    std::string options = existing != nullptr ? existing : "";
    if (stats) options += options.empty() ? "stats=1" : ",stats=1";
    if (profile) options += options.empty() ? "prof=1" : ",prof=1";
    extra.push_back("GLOBALLOC_OPTIONS=" + options);
  }
  std::vector<std::string> environment = child_environment(*chosen, extra);
  std::vector<char*> argv, envp;
  for (auto& arg : program) argv.push_back(arg.data());
  argv.push_back(nullptr);
  for (auto& variable : environment) envp.push_back(variable.data());
  envp.push_back(nullptr);
  execve(path.c_str(), argv.data(), envp.data());
  int error = errno;
  std::fprintf(stderr, "globalloc: cannot execute '%s': %s\n", path.c_str(), std::strerror(error));
  return error == ENOENT ? kExitNotFound : kExitNotExecutable;
}

}  // namespace globalloc::tool
