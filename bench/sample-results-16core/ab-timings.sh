#!/bin/bash
# The A/B timings of ab-timings.txt, as run on the lent 16-core machine on
# 2026-11-26 (docs/benchmarks.md, "Scaling from 1 to 16 threads"). S held
# copies of build/bin and build/lib, v1/ the fast library built with
# Mitigations::detect_double_free = false, peers/ Debian 12's jemalloc,
# mimalloc and tcmalloc, and interleaved_medians.py (then named med.py).
S=.device-stage
cp -n $S/peers/* /usr/lib/x86_64-linux-gnu/ 2>/dev/null
chmod +x $S/bin/*
V0=$PWD/$S/lib/libgloballoc.so; V1=$PWD/$S/v1/libgloballoc.so
L=/usr/lib/x86_64-linux-gnu; MI=$L/libmimalloc.so.2; JE=$L/libjemalloc.so.2; TC=$L/libtcmalloc_minimal.so.4
M="python3 $S/med.py"
date -u; lscpu | grep -E "Model name|Flags" | cut -c1-400
echo "== wl-churn"; $M 9 fast=$V0 nodf=$V1 mimalloc=$MI jemalloc=$JE tcmalloc=$TC -- $S/bin/wl-churn
for size in 32 256; do
  echo "== fastpath-loop 50M x $size B"; $M 7 fast=$V0 nodf=$V1 mimalloc=$MI jemalloc=$JE tcmalloc=$TC glibc= -- $S/bin/fastpath-loop 50000000 $size
done
echo "== wl-containers"; $M 7 fast=$V0 nodf=$V1 mimalloc=$MI -- $S/bin/wl-containers
echo "== wl-larson 1t"; $M 7 fast=$V0 mimalloc=$MI tcmalloc=$TC -- $S/bin/wl-larson 1 --threads 1
echo "== wl-cache-scratch 1t"; $M 7 fast=$V0 glibc= mimalloc=$MI -- $S/bin/wl-cache-scratch 1 --threads 1
echo "== wl-prodcons 8t"; $M 9 fast=$V0 nodf=$V1 jemalloc=$JE mimalloc=$MI -- $S/bin/wl-prodcons
