#!/usr/bin/env python3
"""tests/fuzz/mkinput.py KIND OUT - hand-made bad inputs for lector:
  truncated  a ring file whose header says 1024 slots, holding one record
  ring1      a complete stopped ring (running 0) with one record
  spill      a spill file of two entries whose comm_len says 2^40 bytes
Layouts: include/memprobe_abi.h (record, ring header), lector/queue.h (qent)."""
import struct
import sys

REC = struct.Struct("<QQQIIIHHQQQQQqQIIiI16s16s48x")  # ABI 2: the memory fields (48 bytes) left 0
P = 4096


def rec(seq, comm):
    return REC.pack(seq, 1700000000000000000 + seq, 4321, 999999, 999999, 0, 1, 0, 0, P, 0, 0, 0,
                    0x10000000, 10 * P, 3, 0x22, -1, 0, comm, b"t")


def ring(cap, recs):
    hdr = bytearray(4096)
    struct.pack_into("<QIIQQQQII", hdr, 0, 0x45424f52504d454d, 2, 192, cap, 4096, 0xf22, 0, 0, 0)
    struct.pack_into("<QQQ", hdr, 64, len(recs), 0, len(recs))
    return bytes(hdr) + b"".join(recs)


kind, out = sys.argv[1], sys.argv[2]
if kind == "truncated":
    data = ring(1024, [rec(0, b"trunc")])
elif kind == "ring1":
    data = ring(4, [rec(0, b"ring")]) + bytes(192 * 3)
elif kind == "spill":
    data = b"".join(struct.pack("<Q", 0xf21) + rec(i, b"spilled") + struct.pack("<QQ", 1 << 40, 1 << 40)
                    for i in range(2))
else:
    sys.exit("usage: mkinput.py truncated|ring1|spill OUT")
open(out, "wb").write(data)
