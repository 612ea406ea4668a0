#!/bin/bash
# Session 17's second device pass (2026-11-27): big blocks allocated and
# freed by 1 to 16 threads at once (block-pairs), the fast allocator before
# (218e7c6, build/device-stage/base/) and after (00e1ba8, build/lib) its
# huge-mapping caches were split per shard, with the peers, three rounds
# interleaved. Carry build/bin, build/lib and build/device-stage.
S=build/device-stage
OUT=${OUT:-/tmp/session17-out2}
mkdir -p "$OUT"
cp -n $S/peers/* /usr/lib/x86_64-linux-gnu/ 2>/dev/null
{ date -u; nproc; uname -r; } > $OUT/machine.txt 2>&1
L=/usr/lib/x86_64-linux-gnu
if [ "${QUICK:-0}" = 1 ]; then sizes="8388608"; tlist="1 2"; n=2000; rounds=1
else sizes="8388608 2097152"; tlist="1 2 4 8 16"; n=100000; rounds=3; fi
echo "round,allocator,size,threads,ns_per_turn" > $OUT/block-pairs.csv
started=$SECONDS
for round in $(seq $rounds); do for size in $sizes; do for t in $tlist; do
  for a in glibc:"" fast-218e7c6:$S/base/libgloballoc-218e7c6.so fast:build/lib/libgloballoc.so \
           jemalloc:$L/libjemalloc.so.2 mimalloc:$L/libmimalloc.so.2 tcmalloc:$L/libtcmalloc_minimal.so.4; do
    name=${a%%:*}; lib=${a#*:}
    if [ $((SECONDS - started)) -gt 230 ]; then echo "$round,$name,$size,$t,skipped" >> $OUT/block-pairs.csv; continue; fi
    ns=$(LD_PRELOAD=$lib timeout 5 build/bin/block-pairs $t $size $n 2>/dev/null | sed -n 's/.*ns_per_turn_per_thread=//p')
    echo "$round,$name,$size,$t,${ns:-timeout}" >> $OUT/block-pairs.csv
  done
done; done; done
# Then 32 MiB blocks, one round, in what time is left.
[ "${QUICK:-0}" = 1 ] || for t in $tlist; do
  for a in glibc:"" fast-218e7c6:$S/base/libgloballoc-218e7c6.so fast:build/lib/libgloballoc.so \
           jemalloc:$L/libjemalloc.so.2 mimalloc:$L/libmimalloc.so.2 tcmalloc:$L/libtcmalloc_minimal.so.4; do
    name=${a%%:*}; lib=${a#*:}
    if [ $((SECONDS - started)) -gt 230 ]; then echo "1,$name,33554432,$t,skipped" >> $OUT/block-pairs.csv; continue; fi
    ns=$(LD_PRELOAD=$lib timeout 5 build/bin/block-pairs $t 33554432 20000 2>/dev/null | sed -n 's/.*ns_per_turn_per_thread=//p')
    echo "1,$name,33554432,$t,${ns:-timeout}" >> $OUT/block-pairs.csv
  done
done
echo "done $(date -u +%T) after $((SECONDS - started)) s" >> $OUT/machine.txt
cat $OUT/machine.txt
