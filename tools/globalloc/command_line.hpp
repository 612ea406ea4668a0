// Command-line plumbing shared by the subcommands: the usage texts, the
// usage-error exception (exit status 2), and small parsing helpers.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace globalloc::tool {

// Exit statuses of the command itself (a run's status is the program's).
inline constexpr int kExitUsage = 2;
inline constexpr int kExitNotExecutable = 126;
inline constexpr int kExitNotFound = 127;

// Thrown for a bad flag or value; main prints the message and the
// subcommand's usage, then exits with kExitUsage.
class UsageError : public std::runtime_error {
public:
  UsageError(std::string command, const std::string& message)
      : std::runtime_error(message), command_(std::move(command)) {}
  const std::string& command() const { return command_; }

private:
  std::string command_;
};

// Usage text of a subcommand ("" for the overview); empty if unknown.
std::string usage_text(const std::string& command);

// Splits "a,b,c" into its non-empty items.
std::vector<std::string> split_list(const std::string& text, char separator = ',');

// "a, b, c": the items with `separator` between them.
std::string join_list(const std::vector<std::string>& items, const std::string& separator = ", ");

// Parses a positive integer flag value, or throws UsageError.
int parse_positive(const std::string& command, const std::string& flag, const std::string& value);

// Parses a whole number from 0 on (a CPU number), or throws UsageError.
int parse_non_negative(const std::string& command, const std::string& flag, const std::string& value);

// Parses a positive decimal flag value, or throws UsageError.
double parse_positive_double(const std::string& command, const std::string& flag,
                             const std::string& value);

// Walks `args`: for "--flag VALUE" and "--flag=VALUE" forms.
class ArgumentCursor {
public:
  ArgumentCursor(std::string command, std::vector<std::string> args)
      : command_(std::move(command)), args_(std::move(args)) {}
  bool done() const { return index_ >= args_.size(); }
  const std::string& peek() const { return args_[index_]; }
  std::string next() { return args_[index_++]; }
  // If the current argument is `flag` or `flag=...`, consumes it (and its
  // value) and returns true with the value in `value`.
  bool take_value(const std::string& flag, std::string& value);
  // Everything after "--" (or from the first non-flag argument if
  // `allow_bare` is set): the program and its arguments.
  std::vector<std::string> rest() { return {args_.begin() + index_, args_.end()}; }
  const std::string& command() const { return command_; }

private:
  std::string command_;
  std::vector<std::string> args_;
  std::size_t index_ = 0;
};

}  // namespace globalloc::tool
