#!/usr/bin/env bash
# Instructions per malloc+free pair, per allocator and size, counted with
# callgrind: runs fastpath-loop with N and with 2N iterations under each
# allocator and divides the difference by N, so start-up cancels out.
# Instruction counts are exact and repeatable, unlike times on a shared
# machine, which makes them the figure to watch for fast-path work.
#
# usage: bench/callgrind_fastpath.sh [BUILD_DIR] [SIZES...]
#   BUILD_DIR  the build folder holding bin/globalloc and bin/fastpath-loop
#              (default: build)
#   SIZES      request sizes (default: 16 64 256 1024 4096)
# Environment: ITERATIONS (N, default 100000), ALLOCATORS (names, default
# every allocator `globalloc list` finds).
set -eu

build=${1:-build}
[ $# -gt 0 ] && shift
sizes=${*:-16 64 256 1024 4096}
iterations=${ITERATIONS:-100000}
globalloc="$build/bin/globalloc"
loop="$build/bin/fastpath-loop"

command -v valgrind >/dev/null || { echo "valgrind not found (apt install valgrind)" >&2; exit 1; }
[ -x "$globalloc" ] && [ -x "$loop" ] || { echo "build $globalloc and $loop first" >&2; exit 1; }

allocators=${ALLOCATORS:-$("$globalloc" list | awk '!/^#/ { print $1 }')}

# Total instructions of one run (callgrind's "Collected" line); nothing
# when the program fails under valgrind (Scudo, for one, aborts there).
instructions() {
  local allocator=$1 output
  shift
  if output=$("$globalloc" run --allocator "$allocator" -- \
      valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1); then
    awk '/Collected :/ { print $NF }' <<<"$output"
  fi
}

printf '%-10s' "allocator"
for size in $sizes; do printf '%10s' "$size B"; done
printf '\n'
for allocator in $allocators; do
  printf '%-10s' "$allocator"
  for size in $sizes; do
    once=$(instructions "$allocator" "$loop" "$iterations" "$size")
    twice=$(instructions "$allocator" "$loop" $((iterations * 2)) "$size")
    if [ -n "$once" ] && [ -n "$twice" ]; then
      awk -v a="$once" -v b="$twice" -v n="$iterations" 'BEGIN { printf "%10.1f", (b - a) / n }'
    else
      printf '%10s' "failed"
    fi
  done
  printf '\n'
done
echo "(instructions per malloc+free pair; N=$iterations, difference of N and 2N iterations)"
