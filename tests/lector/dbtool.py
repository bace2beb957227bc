#!/usr/bin/python3
"""dbtool.py - test helpers that read lector's tables through the mariadb
client (batch mode, names as HEX so any byte survives):

  dbtool.py raw SOCK SESSION OUT        rows of a session, in seq order, as
                                        192-byte memprobe records (for
                                        tests/workload/check-records)
  dbtool.py oracle SOCK SESSION PID     recompute the process's totals from
                                        its stored calls, independently of
                                        model/acct.c, and compare with its
                                        processes row; prints a diff
  dbtool.py strace SOCK SESSION FILE   compare the stored calls of every pid
                                        in FILE (strace -f -e trace=memory -o)
                                        with what strace saw
  dbtool.py same CAPTURE RAW            CAPTURE (raw records) equals RAW (from
                                        `raw`) byte for byte: every field of a
                                        record is stored
"""
import errno
import re
import struct
import subprocess
import sys

CALLS = {"mmap": 1, "munmap": 2, "mremap": 3, "brk": 4, "exec": 5, "exit": 6, "oom_kill": 7}
PAGE = 4096
REC = struct.Struct("<QQQIIIHHQQQQQqQIIiI16s16sQQQQQQ")  # ABI 2, 192 bytes


def query(sock, sql):
    out = subprocess.run(["mariadb", "--no-defaults", "-uroot", "--socket=" + sock, "-N", "-B",
                          "memprobe", "-e", sql], check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def rows(sock, where):
    return query(sock, "SELECT seq, ts_ns, start_ns, pid, tid, uid, syscall+0, addr, len_bytes, new_addr,"
                 " new_len_bytes, offset_bytes, result, total_vm_bytes, prot, flags, fd, HEX(comm),"
                 " HEX(thread_comm), rec_flags, file_dev, rss_anon_bytes, rss_file_bytes, rss_shmem_bytes,"
                 " swap_bytes, cgroup_id, file_ino FROM calls WHERE " + where + " ORDER BY session, seq")


def cmd_raw(sock, session, out):
    with open(out, "wb") as f:
        for r in rows(sock, "session=%d" % int(session)):
            n = [int(x) for x in r[:17]]
            t = [int(x) for x in r[19:]]  # rec_flags, file_dev, then the ABI 2 tail
            f.write(REC.pack(n[0], n[1], n[2], n[3], n[4], n[5], n[6], t[0], n[7], n[8], n[9], n[10],
                             n[11], n[12], n[13], n[14], n[15], n[16], t[1],
                             bytes.fromhex(r[17]), bytes.fromhex(r[18]), *t[2:]))
    return 0


def cmd_same(capture, raw):
    a, b = open(capture, "rb").read(), open(raw, "rb").read()
    if len(a) != len(b) or len(a) % REC.size:
        print("# sizes differ: %d and %d bytes" % (len(a), len(b))); return 1
    for o in range(0, len(a), REC.size):
        if a[o:o + REC.size] != b[o:o + REC.size]:
            print("# record %d differs" % (o // REC.size)); return 1
    return 0


def page_up(n):
    return (n + PAGE - 1) // PAGE * PAGE


class Pages:
    """The watched set as a set of page numbers: slow, obviously right."""
    def __init__(self):
        self.p = set()

    def add(self, a, n):
        self.p.update(range(a // PAGE, (a + page_up(n)) // PAGE))

    def remove(self, a, n):
        gone = set(range(a // PAGE, (a + page_up(n)) // PAGE)) & self.p
        self.p -= gone
        return gone


def cmd_oracle(sock, session, pid):
    net = req = heap = base = 0
    heap_known = exited = False
    pages = Pages()
    counts = dict.fromkeys(CALLS, 0)
    failed = 0
    vm = 0
    for r in rows(sock, "session=%d AND pid=%d" % (int(session), int(pid))):
        call = int(r[6]); addr = int(r[7]); ln = int(r[8]); new_len = int(r[10])
        ret = int(r[12]); flags = int(r[15]); vm = int(r[13])
        name = [k for k, v in CALLS.items() if v == call][0]
        counts[name] += 1
        if name == "mmap":
            if ret < 0:
                failed += 1; continue
            net += ln; req += ln; pages.remove(ret, ln); pages.add(ret, ln)
        elif name == "munmap":
            if ret != 0:
                failed += 1; continue
            net -= ln; pages.remove(addr, ln)
        elif name == "mremap":
            if ret < 0:
                failed += 1; continue
            old = pages.remove(addr, ln)
            if flags & 4:
                pages.p |= old
            pages.remove(ret, new_len)
            shift = ret // PAGE - addr // PAGE
            pages.p |= {q + shift for q in old if q + shift < (ret + page_up(new_len)) // PAGE}
            if page_up(new_len) > page_up(ln):
                pages.add(ret + page_up(ln), page_up(new_len) - page_up(ln))
        elif name == "brk":
            if addr != 0 and ret != addr:
                failed += 1
            if not heap_known:
                heap_known = True; heap = base = ln; continue
            heap = ln; base = min(base, heap)
        elif name in ("exec", "exit"):
            pages.p.clear(); net = 0; heap = base = 0; heap_known = False
            if name == "exit":
                exited = True; vm = 0
    want = {"net_bytes": max(net, 0), "net_bytes_raw": net, "mapped_bytes": len(pages.p) * PAGE + heap - base,
            "vm_size_bytes": vm, "requested_bytes": req, "exited": int(exited), "n_mmap": counts["mmap"],
            "n_munmap": counts["munmap"], "n_mremap": counts["mremap"], "n_brk": counts["brk"],
            "n_failed": failed}
    cols = list(want)
    got = query(sock, "SELECT " + ",".join(cols) + " FROM processes WHERE pid=%d ORDER BY last_seen_ns DESC"
                " LIMIT 1" % int(pid))
    if not got:
        print("# no processes row for pid %s" % pid); return 1
    bad = 0
    for c, g in zip(cols, got[0]):
        if int(g) != want[c]:
            print("# %s: stored %s, recomputed %d" % (c, g, want[c])); bad = 1
    return bad


def strace_calls(path):
    out = {}
    pat = re.compile(r"^(\d+)\s+(mmap|munmap|mremap|brk)\((.*)\)\s+=\s+(-?\w+)(?:\s+(E\w+))?")
    for line in open(path):
        m = pat.match(line)
        if not m:
            continue
        ret = m.group(4)
        v = -getattr(errno, m.group(5)) if ret == "-1" and m.group(5) else int(ret, 0)
        out.setdefault(int(m.group(1)), []).append((m.group(2), v))
    return out


def cmd_strace(sock, session, path):
    bad = 0
    want_all = strace_calls(path)
    for pid, want in sorted(want_all.items()):
        got = [(k, int(r[12])) for r in rows(sock, "session=%d AND pid=%d" % (int(session), pid))
               for k in [n for n, v in CALLS.items() if v == int(r[6])] if k in ("mmap", "munmap", "mremap", "brk")]
        print("# pid %d: strace saw %d calls, the database holds %d" % (pid, len(want), len(got)))
        if want != got:
            bad = 1
            for i, (w, g) in enumerate(zip(want, got)):
                if w != g:
                    print("# first difference at call %d: strace %s, stored %s" % (i, w, g)); break
    return bad if want_all else 1


if __name__ == "__main__":
    fn = {"raw": cmd_raw, "oracle": cmd_oracle, "strace": cmd_strace, "same": cmd_same}.get(sys.argv[1] if len(sys.argv) > 1 else "")
    if not fn:
        print(__doc__); sys.exit(2)
    sys.exit(fn(*sys.argv[2:]))
