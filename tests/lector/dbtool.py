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
  dbtool.py replay SOCK SESSION PID N SECS
                                        replay the process's stored calls in
                                        capture order (cid), independently of
                                        model/acct.c: calls.mapped_bytes of each
                                        call is the replay's after it, its
                                        checkpoints are exactly at the calls
                                        --checkpoint-calls=N and
                                        --checkpoint-secs=SECS give (none for
                                        N = 0), each equal to the replay's state
                                        after its call
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


class Proc:
    """A process's processes-row state, replayed call by call (README, "What
    the numbers mean"), with the watched set as pages (Pages)."""
    def __init__(self):
        self.pages = Pages()
        self.net = self.req = self.heap = self.base = self.vm = 0
        self.heap_known = self.exited = False
        self.counts = dict.fromkeys(CALLS, 0)
        self.failed = 0
        self.mem = (0, 0, 0, 0, 0)  # rss_anon, rss_file, rss_shmem, swap, their ts_ns
        self.cgroup = self.uid = 0
        self.comm = ""

    def release(self):
        self.pages.p.clear(); self.net = 0; self.heap = self.base = 0; self.heap_known = False

    def apply(self, c):
        name = [k for k, v in CALLS.items() if v == c["syscall"]][0]
        addr, ln, new_len, ret, flags = c["addr"], c["len_bytes"], c["new_len_bytes"], c["result"], c["flags"]
        self.uid, self.comm, self.vm = c["uid"], c["comm"], c["total_vm_bytes"]
        if c["cgroup_id"]:
            self.cgroup = c["cgroup_id"]
        if c["ts_ns"] >= self.mem[4]:
            self.mem = (c["rss_anon_bytes"], c["rss_file_bytes"], c["rss_shmem_bytes"], c["swap_bytes"], c["ts_ns"])
        if name in ("mmap", "munmap", "mremap", "brk"):
            self.counts[name] += 1
        if name == "mmap":
            if ret < 0:
                self.failed += 1; return
            self.net += ln; self.req += ln; self.pages.remove(ret, ln); self.pages.add(ret, ln)
        elif name == "munmap":
            if ret != 0:
                self.failed += 1; return
            self.net -= ln; self.pages.remove(addr, ln)
        elif name == "mremap":
            if ret < 0:
                self.failed += 1; return
            old = self.pages.remove(addr, ln)
            if flags & 4:
                self.pages.p |= old
            self.pages.remove(ret, new_len)
            shift = ret // PAGE - addr // PAGE
            self.pages.p |= {q + shift for q in old if q + shift < (ret + page_up(new_len)) // PAGE}
            if page_up(new_len) > page_up(ln):
                self.pages.add(ret + page_up(ln), page_up(new_len) - page_up(ln))
        elif name == "brk":
            if addr != 0 and ret != addr:
                self.failed += 1
            if not self.heap_known:
                self.heap_known = True; self.heap = self.base = ln; return
            self.heap = ln; self.base = min(self.base, ln)
        elif name == "exec":
            self.release()
        elif name == "exit":
            self.release(); self.exited = True; self.vm = 0; self.mem = (0, 0, 0, 0, c["ts_ns"])

    def mapped(self):
        return len(self.pages.p) * PAGE + self.heap - self.base

    def row(self):
        """The checkpoint row's state columns (CKPT_STATE) as they should be."""
        return [self.uid, self.comm, int(self.exited), self.net, self.mapped(), self.vm, self.req, self.heap,
                self.base, int(self.heap_known), self.counts["mmap"], self.counts["munmap"],
                self.counts["mremap"], self.counts["brk"], self.failed, *self.mem, self.cgroup]


CALL_COLS = ("cid", "ts_ns", "seq", "start_ns", "uid", "syscall+0", "addr", "len_bytes", "new_len_bytes", "result",
             "flags", "total_vm_bytes", "rss_anon_bytes", "rss_file_bytes", "rss_shmem_bytes", "swap_bytes",
             "cgroup_id", "HEX(comm)", "mapped_bytes")
CKPT_STATE = ("uid", "HEX(comm)", "exited", "net_bytes_raw", "mapped_bytes", "vm_size_bytes", "requested_bytes",
              "heap_bytes", "heap_base_bytes", "heap_known", "n_mmap", "n_munmap", "n_mremap", "n_brk", "n_failed",
              "rss_anon_bytes", "rss_file_bytes", "rss_shmem_bytes", "swap_bytes", "rss_ts_ns", "cgroup_id")


def cmd_replay(sock, session, pid, every_calls, every_secs):
    session, pid, every_calls, every_ns = int(session), int(pid), int(every_calls), int(every_secs) * 10**9
    calls = [dict(zip([c.split("(")[-1].rstrip(")").replace("+0", "") for c in CALL_COLS], r))
             for r in query(sock, "SELECT %s FROM calls WHERE session=%d AND pid=%d ORDER BY cid"
                            % (", ".join(CALL_COLS), session, pid))]
    for c in calls:
        for k, v in c.items():
            if k != "comm":
                c[k] = int(v)
    if not calls:
        print("# no calls of pid %d in session %d" % (pid, session)); return 1
    starts = {c["start_ns"] for c in calls}
    if len(starts) != 1:
        print("# pid %d has %d processes in the session: give one" % (pid, len(starts))); return 1
    start_ns = starts.pop()
    got = {(int(r[0]), int(r[1])): r[2:] for r in
           query(sock, "SELECT session, seq, %s FROM checkpoints WHERE pid=%d AND start_ns=%d AND session=%d"
                 % (", ".join(CKPT_STATE), pid, start_ns, session))}
    p, bad, want, since, last_ts = Proc(), 0, set(), 0, None
    for c in calls:
        p.apply(c)
        if c["mapped_bytes"] != p.mapped():
            print("# seq %d: calls.mapped_bytes %d, replay %d" % (c["seq"], c["mapped_bytes"], p.mapped()))
            bad = 1
        if not every_calls:
            continue
        since += 1
        due = (c["syscall"] == CALLS["exit"] or since >= every_calls or last_ts is None
               or (c["ts_ns"] > last_ts and c["ts_ns"] - last_ts >= every_ns))
        if not due:
            continue
        since, last_ts = 0, c["ts_ns"]
        want.add((session, c["seq"]))
        row = got.get((session, c["seq"]))
        if row is None:
            print("# seq %d: no checkpoint, one due (%d calls since the last)" % (c["seq"], every_calls)); bad = 1
            continue
        exp = [str(v) for v in p.row()]
        for name, g, w in zip(CKPT_STATE, row, exp):
            if g != w:
                print("# checkpoint at seq %d: %s %s, replay %s" % (c["seq"], name, g, w)); bad = 1
    for k in sorted(set(got) - want):
        print("# a checkpoint at seq %d where none is due" % k[1]); bad = 1
    print("# pid %d: %d calls replayed, %d checkpoints stored, %d due" % (pid, len(calls), len(got), len(want)))
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
    fn = {"raw": cmd_raw, "oracle": cmd_oracle, "strace": cmd_strace, "same": cmd_same, "replay": cmd_replay}.get(sys.argv[1] if len(sys.argv) > 1 else "")
    if not fn:
        print(__doc__); sys.exit(2)
    sys.exit(fn(*sys.argv[2:]))
