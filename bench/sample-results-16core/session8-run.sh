#!/bin/bash
# Session 8 device pass (2026-11-26): scaling from 1 to 16 threads of the
# multi-thread workloads at 845b6d2, then the whole suite at the default threads.
S=.device-stage
cp -n $S/peers/* /usr/lib/x86_64-linux-gnu/ 2>/dev/null
mkdir -p /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux && cp -n $S/scudo/*.so /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/
chmod +x $S/bin/*
{ date -u; lscpu | grep -E "Model name|^CPU\(s\)|L2|L3"; nproc; $S/bin/globalloc list; } > $OUT/machine.txt 2>&1
timeout 200 $S/bin/globalloc bench --threads 1,2,4,8,16 --runs 3 \
  --only larson,prodcons,cache-scratch,glibc,fast,jemalloc,mimalloc,tcmalloc --out $OUT/scaling > $OUT/scaling-stdout.txt 2>&1
echo "scaling rc=$?" >> $OUT/machine.txt; date -u >> $OUT/machine.txt
timeout 170 $S/bin/globalloc bench --runs 3 --out $OUT/full > $OUT/full-stdout.txt 2>&1
echo "full rc=$?" >> $OUT/machine.txt; date -u >> $OUT/machine.txt
cat $OUT/machine.txt
grep -A12 "^geometric means\|Summary" $OUT/scaling-stdout.txt | head -30
grep -A12 "Summary" $OUT/full-stdout.txt | head -16
