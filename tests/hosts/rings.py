"""tests/hosts/rings.py - synthetic capture data for the many-hosts suite:
ring files in the /proc/memprobe layout (include/memprobe_abi.h, producer
gone: running = 0, so lector drains them and exits) and the totals lector
must compute from them.  Every host reuses the same pids and start times,
so only the host separates its processes."""
import struct

PAGE = 4096
REC = struct.Struct("<QQQIIIHHQQQQQqQIIiI16s16s48x")  # ABI 2: the memory fields (48 bytes) left 0
MMAP, MUNMAP = 1, 2
PIDS = [101, 202, 303, 404, 505, 606]
START_NS = 5_000_000_000


def host_records(host_idx, n, ts0_ns):
    """n records for host number host_idx: per process, mmap then (every
    second mapping) its munmap; lengths depend on the host, so each host's
    totals differ.  Returns (records bytes list, {pid: totals})."""
    recs, tot, live = [], {}, {}
    for i in range(n):
        pid = PIDS[i % len(PIDS)]
        t = tot.setdefault(pid, dict(requested=0, net=0, n_mmap=0, n_munmap=0, comm="h%d-p%d" % (host_idx, pid)))
        k = i // len(PIDS)
        pending = live.get(pid)
        if pending and k % 2 == 1:
            addr, ln = pending
            call, ret = MUNMAP, 0
            live[pid] = None
            t["net"] -= ln
            t["n_munmap"] += 1
        else:
            ln = PAGE * (1 + (k % 5) + 7 * host_idx)
            addr = 0x10000000000 + (i << 20)
            call, ret = MMAP, addr
            live[pid] = (addr, ln)
            t["requested"] += ln
            t["net"] += ln
            t["n_mmap"] += 1
        recs.append(REC.pack(i, ts0_ns + i * 1000, START_NS, pid, pid, 1000, call, 0,
                             addr if call == MUNMAP else 0, ln, 0, 0, 0, ret,
                             (100 + host_idx) * PAGE * 1000, 3, 0x22, -1, 0,
                             t["comm"].encode(), b"t"))
    return recs, tot


def write_ring(path, session, recs, running=0):
    """running=1: the producer seems alive, so lector waits for more until
    it is stopped (no 10 s drain limit after the source went away)."""
    cap = 8
    while cap < len(recs):
        cap *= 2
    hdr = bytearray(PAGE)
    struct.pack_into("<QIIQQQQII", hdr, 0, 0x45424f52504d454d, 2, 192, cap, PAGE, session, 0, running, 0)
    struct.pack_into("<QQQ", hdr, 64, len(recs), 0, len(recs))
    with open(path, "wb") as f:
        f.write(bytes(hdr))
        f.write(b"".join(recs))
        f.write(bytes(192 * (cap - len(recs))))
