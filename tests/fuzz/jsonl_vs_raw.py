#!/usr/bin/env python3
"""tests/fuzz/jsonl_vs_raw.py JSONL RAW - exit 0 when lector's JSONL lines
are the raw 192-byte records (memprobe-cat --raw), in order, every field."""
import json
import struct
import sys

REC = struct.Struct("<QQQIIIHHQQQQQqQIIiI16s16s48x")  # ABI 2: the memory fields (48 bytes) left 0
CALLS = {1: "mmap", 2: "munmap", 3: "mremap", 4: "brk", 5: "exec", 6: "exit"}
raw = open(sys.argv[2], "rb").read()
recs = [REC.unpack_from(raw, o) for o in range(0, len(raw) - len(raw) % 192, 192)]
lines = [json.loads(l) for l in open(sys.argv[1])]
if len(lines) != len(recs):
    sys.exit("%d JSONL lines, %d raw records" % (len(lines), len(recs)))
for i, (j, r) in enumerate(zip(lines, recs)):
    (seq, ts, start, pid, tid, uid, call, _, addr, ln, new_addr, new_len, off, ret, vm, prot, mfl, fd,
     _, comm, tcomm) = r
    want = dict(seq=seq, ts_ns=ts, start_ns=start, pid=pid, tid=tid, uid=uid, call=CALLS.get(call, "?"),
                addr=addr, len=ln, new_addr=new_addr, new_len=new_len, offset=off, ret=ret,
                total_vm_bytes=vm, prot=prot, flags=mfl, fd=fd,
                comm=comm.split(b"\0")[0].decode("latin-1"),
                thread_comm=tcomm.split(b"\0")[0].decode("latin-1"))
    bad = {k: (j.get(k), v) for k, v in want.items() if j.get(k) != v}
    if bad:
        sys.exit("record %d differs: %s" % (i, bad))
