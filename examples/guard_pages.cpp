// Finding a buffer overflow with GuardPages: a routine with an off-by-one
// error writes one byte past its buffer. With the buffer from GuardPages that
// byte is on an inaccessible page, so the bad write itself stops the program
// (here in a child process, so that the example can say what happened).
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>

#include <globalloc/adapters/guard_pages.hpp>
#include <globalloc/system_allocator.hpp>

// The bug: `<=` writes count + 1 bytes.
[[gnu::noinline]] void fill(char* buffer, std::size_t count) {
  for (std::size_t i = 0; i <= count; ++i) buffer[i] = 'x';
}

int main() {
  // Each block on pages of its own, ending where an inaccessible page starts
  // (GuardPlacement::before or ::both guard the start as well).
  using Guarded = globalloc::GuardPages<globalloc::SystemAllocator>;
  const globalloc::Layout layout{100, 1};  // alignment 1: the end touches the guard exactly
  auto* buffer = static_cast<char*>(Guarded::allocate(layout));
  std::memset(buffer, 0, layout.size);  // all 100 bytes are usable

  std::fflush(stdout);
  const pid_t child = fork();
  if (child == 0) {
    fill(buffer, layout.size);  // SIGSEGV at buffer[100]
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  const bool caught = WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV;
  std::printf(caught ? "overflow caught: the write past the end got SIGSEGV\n" : "overflow missed\n");

  Guarded::deallocate(buffer, layout);
  return caught ? 0 : 1;
}
