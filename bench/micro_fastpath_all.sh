#!/usr/bin/env bash
# Runs micro-fastpath under each allocator (through `globalloc run`, which
# sets LD_PRELOAD) and prints one table: nanoseconds (CPU time) per
# malloc/free pair, rows = benchmark, columns = allocator.
#
# usage: bench/micro_fastpath_all.sh [BUILD_DIR] [BENCHMARK ARGS...]
#   e.g. bench/micro_fastpath_all.sh build --benchmark_filter=pair/64
# Environment: ALLOCATORS (names, default every allocator found).
set -euo pipefail

build=${1:-build}
[ $# -gt 0 ] && shift
globalloc="$build/bin/globalloc"
micro="$build/bin/micro-fastpath"
[ -x "$globalloc" ] && [ -x "$micro" ] || { echo "build $globalloc and $micro first" >&2; exit 1; }
allocators=${ALLOCATORS:-$("$globalloc" list | awk '!/^#/ { print $1 }')}

declare -A ns
declare -a names=()
for allocator in $allocators; do
  echo "micro-fastpath under $allocator ..." >&2
  # CSV columns: name,iterations,real_time,cpu_time,time_unit,...; the
  # time is per iteration, and the batch benchmark does 256 pairs a time.
  while IFS=, read -r name _ _ cpu unit _; do
    name=${name//\"/}
    [[ $unit == '"ns"' || $unit == ns ]] || continue
    per_pair=$(awk -v t="$cpu" -v n="$name" 'BEGIN { printf "%.1f", (n ~ /batch/) ? t / 256 : t }')
    [[ " ${names[*]} " == *" $name "* ]] || names+=("$name")
    ns[$name,$allocator]=$per_pair
  done < <("$globalloc" run --allocator "$allocator" -- "$micro" --benchmark_format=csv "$@" 2>/dev/null || true)
done

printf '%-32s' "ns per pair"
for allocator in $allocators; do printf '%10s' "$allocator"; done
printf '\n'
for name in "${names[@]}"; do
  printf '%-32s' "$name"
  for allocator in $allocators; do printf '%10s' "${ns[$name,$allocator]:-failed}"; done
  printf '\n'
done
