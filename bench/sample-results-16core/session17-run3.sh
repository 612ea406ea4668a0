#!/bin/bash
# Session 17's third device pass (2026-11-27): the huge-mapping caches in
# three versions, 218e7c6 (one cache), 00e1ba8 (a cache per large shard,
# each with its own byte bound) and build/lib (1780672: per shard, one bound
# for all), on block-pairs with 8 and 32 MiB blocks from 1 to 16 threads and
# on wl-large (time and peak RSS), 3 interleaved rounds, glibc and mimalloc
# beside them. Carry build/bin, build/lib and build/device-stage.
S=build/device-stage
OUT=${OUT:-/tmp/session17-out3}
mkdir -p "$OUT"
cp -n $S/peers/* /usr/lib/x86_64-linux-gnu/ 2>/dev/null
{ date -u; nproc; uname -r; } > $OUT/machine.txt 2>&1
L=/usr/lib/x86_64-linux-gnu
libs="glibc: fast-218e7c6:$S/base/libgloballoc-218e7c6.so fast-00e1ba8:$S/base/libgloballoc-00e1ba8.so fast:build/lib/libgloballoc.so mimalloc:$L/libmimalloc.so.2"
if [ "${QUICK:-0}" = 1 ]; then tlist="1 2"; n=2000; rounds=1; else tlist="1 2 4 8 16"; n=100000; rounds=3; fi
echo "round,allocator,size,threads,ns_per_turn" > $OUT/block-pairs.csv
echo "round,allocator,seconds,max_rss_kb" > $OUT/wl-large.csv
started=$SECONDS
for round in $(seq $rounds); do
  for a in $libs; do
    name=${a%%:*}; lib=${a#*:}
    /usr/bin/time -f "$round,$name,%e,%M" -a -o $OUT/wl-large.csv env LD_PRELOAD=$lib build/bin/wl-large > /dev/null
  done
  for size in 8388608 33554432; do for t in $tlist; do for a in $libs; do
    name=${a%%:*}; lib=${a#*:}
    if [ $((SECONDS - started)) -gt 150 ]; then echo "$round,$name,$size,$t,skipped" >> $OUT/block-pairs.csv; continue; fi
    ns=$(LD_PRELOAD=$lib timeout 4 build/bin/block-pairs $t $size $((size > 8388608 ? n / 5 : n)) 2>/dev/null | sed -n 's/.*ns_per_turn_per_thread=//p')
    echo "$round,$name,$size,$t,${ns:-timeout}" >> $OUT/block-pairs.csv
  done; done; done
done
echo "done $(date -u +%T) after $((SECONDS - started)) s" >> $OUT/machine.txt
cat $OUT/machine.txt $OUT/wl-large.csv
