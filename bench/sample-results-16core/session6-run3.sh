#!/bin/bash
# Session 6, third device pass: A/B of three builds of the fast library on
# the workloads that moved in the second pass: pf = 4716d82 (prefetch),
# lane = e7fdf84 (quick refill), sc = 625acea (set_current), 7 interleaved runs.
S=.device-stage
cp -n $S/peers/* /usr/lib/x86_64-linux-gnu/ 2>/dev/null
chmod +x $S/bin/*
A=$PWD/$S/ab; TC=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4; MI=/usr/lib/x86_64-linux-gnu/libmimalloc.so.2
date -u
for w in aligned realloc footprint containers; do
  echo "== wl-$w"; python3 $S/med.py 7 pf=$A/pf.so lane=$A/lane.so sc=$A/sc.so tcmalloc=$TC -- $S/bin/wl-$w
done
echo "== wl-realloc mimalloc"; python3 $S/med.py 5 sc=$A/sc.so mimalloc=$MI -- $S/bin/wl-realloc
date -u
