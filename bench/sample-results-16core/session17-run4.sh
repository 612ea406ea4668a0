#!/bin/bash
# Session 17's fourth device pass (2026-11-27): the huge-mapping caches in
# four versions, 218e7c6 (one cache), 00e1ba8 (a cache per large shard, each
# with the whole byte bound), 1780672 (per shard, one atomic total for all)
# and build/lib (ac81fb0: per shard, each with a share of the bound, at
# least 32 MiB): wl-large's time and peak RSS (5 interleaved rounds) and
# block-pairs with 8 MiB blocks from 1 to 16 threads (3 rounds), 32 MiB (1),
# glibc and mimalloc beside them. Carry build/bin, build/lib, build/device-stage.
S=build/device-stage
OUT=${OUT:-/tmp/session17-out4}
mkdir -p "$OUT"
cp -n $S/peers/* /usr/lib/x86_64-linux-gnu/ 2>/dev/null
{ date -u; nproc; uname -r; } > $OUT/machine.txt 2>&1
L=/usr/lib/x86_64-linux-gnu
libs="glibc: fast-218e7c6:$S/base/libgloballoc-218e7c6.so fast-00e1ba8:$S/base/libgloballoc-00e1ba8.so fast-1780672:$S/base/libgloballoc-1780672.so fast:build/lib/libgloballoc.so mimalloc:$L/libmimalloc.so.2"
if [ "${QUICK:-0}" = 1 ]; then tlist="1 2"; n=2000; rounds=1; else tlist="1 2 4 8 16"; n=100000; rounds=3; fi
echo "round,allocator,seconds,max_rss_kb" > $OUT/wl-large.csv
for round in 1 2 3 4 5; do for a in $libs; do
  name=${a%%:*}; lib=${a#*:}
  /usr/bin/time -f "$round,$name,%e,%M" -a -o $OUT/wl-large.csv env LD_PRELOAD=$lib build/bin/wl-large > /dev/null
done; done
echo "round,allocator,size,threads,ns_per_turn" > $OUT/block-pairs.csv
started=$SECONDS
pairs() {  # round size iterations
  for t in $tlist; do for a in $libs; do
    name=${a%%:*}; lib=${a#*:}
    if [ $((SECONDS - started)) -gt 130 ]; then echo "$1,$name,$2,$t,skipped" >> $OUT/block-pairs.csv; continue; fi
    ns=$(LD_PRELOAD=$lib timeout 3 build/bin/block-pairs $t $2 $3 2>/dev/null | sed -n 's/.*ns_per_turn_per_thread=//p')
    echo "$1,$name,$2,$t,${ns:-timeout}" >> $OUT/block-pairs.csv
  done; done
}
for round in $(seq $rounds); do pairs $round 8388608 $n; done
pairs 1 33554432 $((n / 5))
echo "done $(date -u +%T) after $((SECONDS - started)) s" >> $OUT/machine.txt
cat $OUT/machine.txt
