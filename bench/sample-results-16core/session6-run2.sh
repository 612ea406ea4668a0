#!/bin/bash
# Session 6, second device pass (commit 625acea): the whole suite with 3 runs,
# then 1, 4 and 16 threads of the three multi-thread workloads.
S=.device-stage
cp -n $S/peers/* /usr/lib/x86_64-linux-gnu/ 2>/dev/null
mkdir -p /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux && cp -n $S/scudo/*.so /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/ 2>/dev/null
chmod +x $S/bin/*
date -u; lscpu | grep -E "Model name|^CPU\(s\)"
timeout 250 $S/bin/globalloc bench --runs 3 --out $OUT/full > $OUT/full-stdout.txt 2>&1; echo "bench rc=$?"
date -u
timeout 200 $S/bin/globalloc bench --runs 3 --threads 1,4,16 --only larson,prodcons,cache-scratch,glibc,fast,hardened,jemalloc,mimalloc,tcmalloc --out $OUT/scaling > $OUT/scaling-stdout.txt 2>&1; echo "scaling rc=$?"
date -u
grep -A9 "^geometric means" $OUT/full-stdout.txt
