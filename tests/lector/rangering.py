#!/usr/bin/env python3
"""tests/lector/rangering.py - ring files (the /proc/memprobe layout,
producer gone: running = 0) of one live process holding many separate
mappings, for the per-process state tests of tests/lector/run-tests.

  rangering.py PHASE PATH SESSION PID [N]

Process PID (its real start time, so lector sees it alive) gets, at base
B = 0x200000000000 and page P, mappings r_i = [B + 2iP, B + (2i+1)P):
  fill    N mmaps, r_0 .. r_{N-1}: N separate ranges (default N 20000)
  churn   100 x (munmap r_i, mmap r_i again), i = 0..99: nothing changes
  trim    munmap [B, B+20P) (r_0..r_9), mremap r_10 to 3 pages in place
          (takes r_11), mmap the hole [B+23P, B+24P) (joins r_12)
  cut     munmap [B+20P, B+25P): the range trim built, in one call
  kill    munmap r_13 .. r_20 one by one
  exit    the process's exit record
  empty   no record (a second lector on the same session replays its journal)
Prints the process's mapped bytes and range count after the phase, given
the ranges the earlier phases left (each phase assumes those before it)."""
import os
import struct
import sys

P = 4096
B = 0x200000000000
REC = struct.Struct("<QQQIIIHHQQQQQqQIIiI16s16s48x")  # ABI 2: the memory fields (48 bytes) left 0
MMAP, MUNMAP, MREMAP, EXIT = 1, 2, 3, 6


def start_ns(pid):
    stat = open("/proc/%d/stat" % pid).read()
    ticks = int(stat[stat.rindex(")") + 2:].split()[19])
    return ticks * (1000000000 // os.sysconf("SC_CLK_TCK"))


def r(i):
    return B + 2 * i * P


def phase_calls(phase, n):
    """(call, addr, len, new_len, ret) of a phase."""
    if phase == "fill":
        return [(MMAP, 0, P, 0, r(i)) for i in range(n)]
    if phase == "churn":
        out = []
        for i in range(100):
            out += [(MUNMAP, r(i), P, 0, 0), (MMAP, 0, P, 0, r(i))]
        return out
    if phase == "trim":
        return [(MUNMAP, B, 20 * P, 0, 0), (MREMAP, r(10), P, 3 * P, r(10)), (MMAP, 0, P, 0, B + 23 * P)]
    if phase == "cut":
        return [(MUNMAP, B + 20 * P, 5 * P, 0, 0)]
    if phase == "kill":
        return [(MUNMAP, r(i), P, 0, 0) for i in range(13, 21)]
    if phase == "exit":
        return [(EXIT, 0, 0, 0, 0)]
    if phase == "empty":
        return []
    raise SystemExit("rangering: unknown phase %s (see --help)" % phase)


# mapped bytes and range count after each phase (N separate ranges at first)
def expect(phase, n):
    return {"fill": (n * P, n), "churn": (n * P, n), "trim": ((n - 8) * P, n - 12),
            "cut": ((n - 13) * P, n - 13), "kill": ((n - 21) * P, n - 21), "exit": (0, 0)}.get(phase)


def write_ring(path, session, pid, calls):
    st = start_ns(pid)
    cap = 8
    while cap < len(calls):
        cap *= 2
    hdr = bytearray(4096)
    struct.pack_into("<QIIQQQQII", hdr, 0, 0x45424F52504D454D, 2, 192, cap, 4096, session, 0, 0, 0)
    struct.pack_into("<QQQ", hdr, 64, len(calls), 0, len(calls))
    with open(path, "wb") as f:
        f.write(hdr)
        for seq, (call, addr, ln, new_len, ret) in enumerate(calls):
            f.write(REC.pack(seq, 1700000000000000000 + seq, st, pid, pid, 0, call, 0, addr, ln, 0, new_len,
                             0, ret, 1 << 30, 3, 0x22, -1, 0, b"rangering", b"rangering"))
        f.write(bytes(192 * (cap - len(calls))))


def main(a):
    if len(a) < 4 or a[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if a and a[0] in ("-h", "--help") else 2
    n = int(a[4]) if len(a) > 4 else 20000
    write_ring(a[1], int(a[2], 0), int(a[3]), phase_calls(a[0], n))
    e = expect(a[0], n)
    if e:
        print("%d %d" % e)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
