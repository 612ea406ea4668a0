#!/bin/bash
# Session 6, fourth device pass (commit 2afdf35): what the default checks
# cost with the holder-address links (new) against the links before (old),
# each against its build without the checks (_none); then the whole suite.
S=.device-stage
cp -n $S/peers/* /usr/lib/x86_64-linux-gnu/ 2>/dev/null
mkdir -p /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux && cp -n $S/scudo/*.so /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/ 2>/dev/null
chmod +x $S/bin/*
A=$PWD/$S/ab; M="python3 $S/med.py"
date -u
for w in churn larson; do
  echo "== wl-$w"; $M 9 old=$A/old.so old_none=$A/old_none.so new=$A/new.so new_none=$A/new_none.so -- $S/bin/wl-$w
done
echo "== fastpath-loop 50M x 32 B"; $M 7 old=$A/old.so old_none=$A/old_none.so new=$A/new.so new_none=$A/new_none.so -- $S/bin/fastpath-loop 50000000 32
date -u
timeout 200 $S/bin/globalloc bench --runs 3 --out $OUT/full > $OUT/full-stdout.txt 2>&1; echo "bench rc=$?"
date -u
grep -A9 "^geometric means" $OUT/full-stdout.txt
