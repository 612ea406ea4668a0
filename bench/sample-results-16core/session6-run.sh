#!/bin/bash
# Session 6 device pass (2026-11-26, an H200 host: a 16-CPU Intel Xeon VM):
# A/B of this session's fast library (lib/) against the session start (v1/),
# with the peers, then the whole suite with 3 runs. med.py is
# interleaved_medians.py; it stops at a failed run, so the wl-aligned A/B
# ended at mimalloc 2.0.9's misaligned block (session6-ab.txt), and
# wl-aligned is in the whole-suite report only.
S=.device-stage
cp -n $S/peers/* /usr/lib/x86_64-linux-gnu/ 2>/dev/null
mkdir -p /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux && cp -n $S/scudo/*.so /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/
chmod +x $S/bin/*
V0=$PWD/$S/lib/libgloballoc.so; V1=$PWD/$S/v1/libgloballoc.so
L=/usr/lib/x86_64-linux-gnu; MI=$L/libmimalloc.so.2; JE=$L/libjemalloc.so.2; TC=$L/libtcmalloc_minimal.so.4
M="python3 $S/med.py"
{
date -u; lscpu | grep -E "Model name|^CPU\(s\)|L2|L3"; nproc
for w in aligned churn larson containers; do
  echo "== wl-$w"; $M 7 new=$V0 start=$V1 mimalloc=$MI jemalloc=$JE tcmalloc=$TC -- $S/bin/wl-$w
done
echo "== wl-prodcons"; $M 5 new=$V0 start=$V1 mimalloc=$MI jemalloc=$JE -- $S/bin/wl-prodcons
date -u
} 2>&1 | tee $OUT/ab.txt
timeout 300 $S/bin/globalloc bench --runs 3 --out $OUT/full > $OUT/full-stdout.txt 2>&1
echo "bench rc=$?" >> $OUT/ab.txt; date -u >> $OUT/ab.txt
tail -40 $OUT/full-stdout.txt
