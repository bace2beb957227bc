#!/usr/bin/env python3
# bench/fleet/mix.py - the call mix of a memprobe-cat capture (text lines), the
# figures the synthetic fleet's table (capture/synth_gen.c) was written from:
#   memprobe-cat --source=bpf --duration-ms=55000 > cap.txt; bench/fleet/mix.py cap.txt
import collections, re, sys

recs = []
pat = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)')
for line in open(sys.argv[1], errors='replace'):
    recs.append(dict(pat.findall(line)))
n = len(recs)
ts = [int(r['ts']) for r in recs]
span = (max(ts) - min(ts)) / 1e9
calls = collections.Counter(r['call'] for r in recs)
print(f"records {n} over {span:.1f} s: {n/span:.0f}/s")
for c, k in calls.most_common():
    print(f"  {c:9s} {k:7d} {100*k/n:6.2f}%")

def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))] if xs else 0

mm = [r for r in recs if r['call'] == 'mmap']
fail = sum(1 for r in mm if int(r['ret']) < 0)
anon = [r for r in mm if int(r['fd']) < 0]
print(f"mmap failed {fail}, anonymous {len(anon)} ({100*len(anon)/max(1,len(mm)):.1f}%)")
def buckets(rs, key):
    b = collections.Counter()
    for r in rs:
        v = int(r[key]); p = 0
        while (4096 << p) < v: p += 1
        b[4096 << p] += 1
    return b
for name, rs in (("anon mmap", anon), ("file mmap", [r for r in mm if int(r['fd']) >= 0])):
    b = buckets(rs, 'len')
    print(f"{name} len (<= bucket: share):", ", ".join(f"{k>>10}K:{100*v/max(1,len(rs)):.1f}" for k, v in sorted(b.items())))
prots = collections.Counter((r['prot'], 'anon' if int(r['fd']) < 0 else 'file') for r in mm)
print("mmap prot:", ", ".join(f"{p}/{k}:{100*v/max(1,len(mm)):.1f}" for (p, k), v in prots.most_common(8)))
mu = [r for r in recs if r['call'] == 'munmap']
b = buckets(mu, 'len')
print("munmap len:", ", ".join(f"{k>>10}K:{100*v/max(1,len(mu)):.1f}" for k, v in sorted(b.items())))
mr = [r for r in recs if r['call'] == 'mremap']
b = buckets(mr, 'new_len')
print("mremap new_len:", ", ".join(f"{k>>10}K:{100*v/max(1,len(mr)):.1f}" for k, v in sorted(b.items())))
grow = sum(1 for r in mr if int(r['new_len']) > int(r['len']))
print(f"mremap grow {grow}/{len(mr)}")
brk = [r for r in recs if r['call'] == 'brk']
q = sum(1 for r in brk if r['addr'] == '0x0')
print(f"brk queries (addr 0) {q}/{len(brk)}")
# processes
procs = collections.defaultdict(list)
for r in recs:
    procs[(r['pid'], r['start'])].append(r)
per = [len(v) for v in procs.values()]
print(f"processes {len(procs)}; calls per process p50 {pct(per,.5)} p90 {pct(per,.9)} p99 {pct(per,.99)} max {max(per)}")
execs = [v for v in procs.values() if v[0]['call'] == 'exec' and v[-1]['call'] == 'exit']
life = [(int(v[-1]['ts']) - int(v[0]['ts'])) / 1e6 for v in execs]
print(f"born and died inside: {len(execs)}, lifetime ms p50 {pct(life,.5):.1f} p90 {pct(life,.9):.1f} p99 {pct(life,.99):.1f}")
pe = [len(v) for v in execs]
print(f"  their calls p50 {pct(pe,.5)} p90 {pct(pe,.9)} max {max(pe) if pe else 0}")
print(f"exits/s {calls['exit']/span:.1f} execs/s {calls['exec']/span:.1f}")
# threads
thr = sum(1 for r in recs if r['tid'] != r['pid'])
print(f"calls from non-leader threads {100*thr/n:.1f}%")
# bursts: calls per 100 ms window
w = collections.Counter((t - min(ts)) // 100_000_000 for t in ts)
ws = [w.get(i, 0) for i in range(int(span * 10) + 1)]
mean = sum(ws) / len(ws)
print(f"per 100 ms: mean {mean:.0f} p50 {pct(ws,.5)} p90 {pct(ws,.9)} p99 {pct(ws,.99)} max {max(ws)}; p99/mean {pct(ws,.99)/mean:.1f}")
busy = collections.Counter(r['comm'] for r in recs)
print("busiest comms:", ", ".join(f"{c}:{k}" for c, k in busy.most_common(10)))
