#!/usr/bin/env python3
"""tests/faults/faultool.py - small helpers of the fault suite.

  state FILE            print lector's SPILL.state (runstate.h) as k=v lines
  ring FILE N SESSION PID [RUNNING]
                        write a ring file (the /proc/memprobe layout,
                        running=RUNNING, default 0) holding N mmap records
                        of process PID (its real start time, so lector
                        sees it alive)
  setrunning FILE V     set a ring file's running flag (1: a producer is
                        there, the reader waits for more; 0: gone)
  setpos FILE POS       set a ring file's consumer_pos to POS: what the
                        module's MEMPROBE_IOC_CONSUME would have made it
  sethdr FILE CAPACITY DATA_OFFSET
                        rewrite a ring file's capacity and data offset
  get URL [TOKENFILE]   GET a URL (with the server's token), print the body
                        (exit 1 on non-200)
"""
import os
import struct
import sys
import urllib.request

STATE = struct.Struct("<7Q")
STATE_MAGIC = 0x3154534E55524D4D
REC = struct.Struct("<QQQIIIHHQQQQQqQIIiI16s16s48x")  # ABI 2: the memory fields (48 bytes) left 0


def state(path):
    f = STATE.unpack_from(open(path, "rb").read(STATE.size))
    names = ("magic", "session", "read_count", "seen", "drops", "started_ns", "updated_ns")
    if f[0] != STATE_MAGIC:
        print("magic=0")
        return 1
    for k, v in zip(names, f):
        print("%s=%d" % (k, v))
    return 0


def start_ns(pid):
    if pid == 0:
        return 0
    stat = open("/proc/%d/stat" % pid).read()
    ticks = int(stat[stat.rindex(")") + 2:].split()[19])
    return ticks * (1000000000 // os.sysconf("SC_CLK_TCK"))


def ring(path, n, session, pid, running=0):
    st = start_ns(pid)
    cap = 1
    while cap < n:
        cap *= 2
    hdr = bytearray(4096)
    struct.pack_into("<QIIQQQQII", hdr, 0, 0x45424F52504D454D, 2, 192, cap, 4096, session, 0, running, 0)
    struct.pack_into("<QQQ", hdr, 64, n, 0, n)
    with open(path, "wb") as f:
        f.write(hdr)
        for seq in range(n):
            f.write(REC.pack(seq, 1700000000000000000 + seq, st, pid, pid, 0, 1, 0, 0, 4096, 0, 0, 0,
                             0x10000000 + seq * 4096, 4096 * (seq + 1), 3, 0x22, -1, 0, b"faultring", b"faultring"))
        f.write(bytes(192 * (cap - n)))
    return 0


def setrunning(path, v):
    with open(path, "r+b") as f:
        f.seek(48)  # struct memprobe_ring_hdr: running
        f.write(struct.pack("<I", v))
    return 0


def setpos(path, pos):
    with open(path, "r+b") as f:
        f.seek(128)  # struct memprobe_ring_hdr: consumer cache line
        f.write(struct.pack("<Q", pos))
    return 0


def sethdr(path, capacity, data_offset):
    with open(path, "r+b") as f:
        f.seek(16)  # after magic, abi_version, record_size
        f.write(struct.pack("<QQ", capacity, data_offset))
    return 0


def get(url, token_file=None):
    headers = {}
    if token_file:
        headers["Authorization"] = "Bearer " + open(token_file).read().strip()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as r:
            sys.stdout.write(r.read().decode())
            return 0
    except Exception as e:  # noqa: BLE001 - any failure is a test failure
        print("GET %s: %s" % (url, e), file=sys.stderr)
        return 1


if __name__ == "__main__":
    a = sys.argv[1:]
    if not a or a[0] in ("-h", "--help"):
        print(__doc__)
        sys.exit(0)
    if a[0] == "state":
        sys.exit(state(a[1]))
    if a[0] == "ring":
        sys.exit(ring(a[1], int(a[2]), int(a[3], 0), int(a[4]) if len(a) > 4 else 0,
                      int(a[5]) if len(a) > 5 else 0))
    if a[0] == "setrunning":
        sys.exit(setrunning(a[1], int(a[2])))
    if a[0] == "setpos":
        sys.exit(setpos(a[1], int(a[2])))
    if a[0] == "sethdr":
        sys.exit(sethdr(a[1], int(a[2], 0), int(a[3], 0)))
    if a[0] == "get":
        sys.exit(get(a[1], a[2] if len(a) > 2 else None))
    sys.exit("faultool: unknown command %s (see --help)" % a[0])
