// Allocator discovery: looks for each known allocator's library in the
// places Debian-like and other common distributions install them.
#include "allocators.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <unistd.h>

#include "command_line.hpp"

extern char** environ;

namespace globalloc::tool {
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kLibraryDirectories = {
    "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64",
    "/usr/lib", "/usr/local/lib64", "/usr/local/lib"};

bool is_file(const fs::path& path) {
  std::error_code error;
  return fs::is_regular_file(path, error);  // follows symbolic links
}

// The first of `names` found in the system library directories.
std::string find_system_library(const std::vector<std::string>& names) {
  for (const auto& name : names)
    for (const auto& directory : kLibraryDirectories)
      if (is_file(fs::path(directory) / name)) return (fs::path(directory) / name).string();
  return {};
}

// Scudo ships in clang's runtime folder, whose path names the clang version:
// /usr/lib/llvm-<N>/lib/clang/<version>/lib/linux/. Takes the newest.
std::string find_scudo() {
  std::vector<fs::path> candidates;
  std::error_code error;
  for (const auto& root : {fs::path("/usr/lib"), fs::path("/usr/local/lib")}) {
    for (const auto& llvm : fs::directory_iterator(root, error)) {
      if (llvm.path().filename().string().rfind("llvm-", 0) != 0) continue;
      for (const auto& version : fs::directory_iterator(llvm.path() / "lib/clang", error)) {
        fs::path library = version.path() / "lib/linux/libclang_rt.scudo_standalone-x86_64.so";
        if (is_file(library)) candidates.push_back(library);
      }
    }
  }
  if (candidates.empty()) return {};
  std::sort(candidates.begin(), candidates.end());
  return candidates.back().string();
}

}  // namespace

const std::vector<std::string>& known_allocator_names() {
  static const std::vector<std::string> names = {"glibc",    "fast",     "fast-unchecked", "hardened",
                                                 "jemalloc", "mimalloc", "tcmalloc",       "scudo"};
  return names;
}

bool is_known_allocator(const std::string& name) {
  const auto& names = known_allocator_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::string known_allocator_list() { return join_list(known_allocator_names()); }

std::string executable_directory() {
  std::error_code error;
  fs::path self = fs::read_symlink("/proc/self/exe", error);
  if (error) return ".";
  return self.parent_path().string();
}

std::string project_library_directory() {
  if (const char* override_directory = std::getenv("GLOBALLOC_LIBDIR");
      override_directory != nullptr && *override_directory != '\0')
    return override_directory;
  return (fs::path(executable_directory()).parent_path() / "lib").string();
}

AllocatorDiscovery discover_allocators() {
  AllocatorDiscovery discovery;
  auto add = [&](const std::string& name, const std::string& library, bool ours,
                 const std::string& missing_note) {
    if (name == "glibc" || !library.empty())
      discovery.found.push_back({name, library, ours});
    else
      discovery.notes.push_back(name + ": skipped, " + missing_note);
  };

  const fs::path project = project_library_directory();
  auto project_library = [&](const char* file) {
    return is_file(project / file) ? (project / file).string() : std::string();
  };

  add("glibc", {}, false, {});
  add("fast", project_library("libgloballoc.so"), true,
      (project / "libgloballoc.so").string() + " not found (not built yet? set GLOBALLOC_LIBDIR)");
  add("fast-unchecked", project_library("libgloballoc-unchecked.so"), true,
      (project / "libgloballoc-unchecked.so").string() + " not found");
  add("hardened", project_library("libgloballoc-hardened.so"), true,
      (project / "libgloballoc-hardened.so").string() + " not found");
  add("jemalloc", find_system_library({"libjemalloc.so.2", "libjemalloc.so"}), false,
      "libjemalloc.so.2 not found (Debian: apt install libjemalloc2)");
  add("mimalloc", find_system_library({"libmimalloc.so.2", "libmimalloc.so"}), false,
      "libmimalloc.so.2 not found (Debian: apt install libmimalloc2.0)");
  add("tcmalloc",
      find_system_library({"libtcmalloc_minimal.so.4", "libtcmalloc.so.4", "libtcmalloc_minimal.so"}),
      false, "libtcmalloc_minimal.so.4 not found (Debian: apt install libtcmalloc-minimal4)");
  add("scudo", find_scudo(), false,
      "libclang_rt.scudo_standalone-x86_64.so not found (Debian: apt install libclang-rt-14-dev)");
  return discovery;
}

std::vector<std::string> child_environment(const Allocator& allocator,
                                           const std::vector<std::string>& extra) {
  std::vector<std::string> environment;
  std::string preload;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string variable = *entry;
    std::string name = variable.substr(0, variable.find('='));
    if (name == "LD_PRELOAD") {
      preload = variable.substr(name.size() + 1);
      continue;
    }
    bool replaced = std::any_of(extra.begin(), extra.end(), [&](const std::string& added) {
      return added.compare(0, name.size() + 1, name + "=") == 0;
    });
    if (!replaced) environment.push_back(variable);
  }
  if (!allocator.library.empty())
    preload = preload.empty() ? allocator.library : allocator.library + ":" + preload;
  if (!preload.empty()) environment.push_back("LD_PRELOAD=" + preload);
  for (const auto& added : extra) environment.push_back(added);
  return environment;
}

}  // namespace globalloc::tool
