// The subcommands of the globalloc command; each takes the arguments after
// its name and returns the process exit status. Usage errors are thrown as
// UsageError and reported by main.
#pragma once

#include <string>
#include <vector>

namespace globalloc::tool {

int command_list(const std::vector<std::string>& args);
int command_run(const std::vector<std::string>& args);
int command_compare(const std::vector<std::string>& args);
int command_bench(const std::vector<std::string>& args);

}  // namespace globalloc::tool
