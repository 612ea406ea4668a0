#!/usr/bin/env python3
# Interleaved wall-time medians: runs CMD under each LD_PRELOAD library in turn
# (A B C A B C ...), ROUNDS times, and prints the median and minimum of each.
# usage: interleaved_medians.py ROUNDS NAME=LIB ... -- CMD ARGS  (an empty LIB: no preload)
import subprocess,sys,time,os,statistics
args=sys.argv[1:]; rounds=int(args[0]); i=args.index('--'); libs=[a.split('=',1) for a in args[1:i]]; cmd=args[i+1:]
res={n:[] for n,_ in libs}
for r in range(rounds):
    for n,l in libs:
        env=dict(os.environ)
        if l: env['LD_PRELOAD']=l
        t=time.perf_counter(); subprocess.run(cmd,env=env,stdout=subprocess.DEVNULL,check=True); res[n].append(time.perf_counter()-t)
for n,_ in libs: print(f"{n:10s} median {statistics.median(res[n])*1000:8.1f} ms  min {min(res[n])*1000:8.1f}")
