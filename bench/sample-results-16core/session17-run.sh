#!/bin/bash
# Session 17 device pass (2026-11-27): at 218e7c6, how the multi-thread
# workloads scale from 1 to 16 threads against the peers, big blocks
# allocated and freed by 1 to 16 threads at once (block-pairs), a burst of
# 3,000 threads (thread-storm), then the whole suite at the default threads.
# Run from the repository root with build/bin, build/lib and
# build/device-stage (the peers' and Scudo's .so files from Debian 12)
# carried over; QUICK=1 makes a short local dry run of the same steps.
S=build/device-stage
OUT=${OUT:-/tmp/session17-out}
mkdir -p "$OUT"
cp -n $S/peers/* /usr/lib/x86_64-linux-gnu/ 2>/dev/null
mkdir -p /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux && cp -n $S/scudo/*.so /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/
G=build/bin/globalloc
if [ "${QUICK:-0}" = 1 ]; then runs=1; scale=0.1; threads=1,2; sizes="262144"; tlist="1 2"; n=2000; storm=200
else runs=3; scale=1; threads=1,2,4,8,16; sizes="262144 2097152 8388608"; tlist="1 2 4 8 16"; n=200000; storm=3000; fi
{ date -u; lscpu | grep -E "Model name|^CPU\(s\)|L2|L3"; nproc; uname -r; ldd --version | head -1
  cat /sys/kernel/mm/transparent_hugepage/enabled; $G list; } > $OUT/machine.txt 2>&1
step() { echo "$1 rc=$2 $(date -u +%T)" >> $OUT/machine.txt; }

timeout 210 $G bench --threads $threads --runs $runs --scale $scale \
  --only larson,prodcons,cache-scratch,glibc,fast,jemalloc,mimalloc,tcmalloc --out $OUT/scaling > $OUT/scaling-stdout.txt 2>&1
step scaling $?

# block-pairs: ns per turn per thread, each run capped at 6 s, the step at 110 s.
echo "allocator,size,threads,ns_per_turn" > $OUT/block-pairs.csv
started=$SECONDS
L=/usr/lib/x86_64-linux-gnu
for size in $sizes; do for t in $tlist; do
  for a in glibc:"" fast:build/lib/libgloballoc.so jemalloc:$L/libjemalloc.so.2 mimalloc:$L/libmimalloc.so.2 tcmalloc:$L/libtcmalloc_minimal.so.4; do
    name=${a%%:*}; lib=${a#*:}
    if [ $((SECONDS - started)) -gt 110 ]; then echo "$name,$size,$t,skipped" >> $OUT/block-pairs.csv; continue; fi
    ns=$(LD_PRELOAD=$lib timeout 6 build/bin/block-pairs $t $size $n 2>/dev/null | sed -n 's/.*ns_per_turn_per_thread=//p')
    echo "$name,$size,$t,${ns:-timeout}" >> $OUT/block-pairs.csv
  done
done; done
step block-pairs 0

timeout 75 $G compare --runs $runs -- build/bin/thread-storm $storm > $OUT/thread-storm.txt 2>&1
step thread-storm $?

timeout 170 $G bench --runs $runs --scale $scale --out $OUT/full > $OUT/full-stdout.txt 2>&1
step full $?
cat $OUT/machine.txt
grep -B2 -A14 "^geometric" $OUT/scaling-stdout.txt | head -40
column -t -s, $OUT/block-pairs.csv | head -80
tail -12 $OUT/thread-storm.txt
grep -A14 "^geometric" $OUT/full-stdout.txt | head -18
