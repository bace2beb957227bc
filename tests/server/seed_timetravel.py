"""tests/server/seed_timetravel.py - a host whose calls, checkpoints, ledger
rows, files, cgroups and OOM kill the suite controls exactly, and the
suite's own replay of those calls (Model: page by page, written here from
the contract, SPEC-16 / docs/API.md; not lector's code), the oracle of
checks_timetravel: the state at T is the replay from zero of the calls with
ts_ns <= T.

Processes (all on TT_HOST; call g of the host is at T0 + g * STEP):
  P1 a long one: mmaps (anonymous and of a file), partial munmaps, an mremap
     that moves and grows, brk, a failed mmap; checkpoints after some calls;
     moves from cgroup 100 to 200 at call 25; still alive; OOM-killed at the
     end (an oom_kill record, then it lives on: the kill's forensics).
  P2 exits after its 15th call (checkpoints mid-way and at the exit).
  P3 starts late and has no checkpoint (folded from its first call).
  P4 like P1's first calls; its first calls are purged by the checks
     (exact: false)."""

TT_HOST = "tthost"
T0, STEP = 1600 * 10**15, 1000  # 2020: ages are positive
PG = 4096
FILE_DEV, FILE_INO, FILE_PATH = (8 << 8) | 1, 424242, b"/usr/lib/tt/libtt.so"
FILE2_INO = 434343  # a file lector found no path for
CGROUPS = [(100, b"/system.slice/tt-a.service", b"tt-a.service", "systemd"),
           (200, b"/system.slice/tt-b.service", b"tt-b.service", "systemd")]
OOM_SESSION = 7  # the session of every call
P1, P2, P3, P4 = (5001, 11), (5002, 22), (5003, 33), (5004, 44)
MAP_PRIVATE, MAP_ANON, MAP_SHARED = 0x02, 0x20, 0x01


def page_up(n):
    return (n + PG - 1) // PG * PG


def script():
    """The calls: (proc, syscall, addr, len, new_len, flags, prot, result,
    file (dev, ino) or None, offset, cgroup_id), in capture order."""
    A, B, C, D = 0x10000000, 0x20000000, 0x30000000, 0x40000000
    c = []
    anon = MAP_PRIVATE | MAP_ANON

    def mm(p, addr, ln, prot=3, flags=anon, f=None, off=0, cg=100, fail=False):
        c.append((p, "mmap", 0, ln, 0, flags, prot, -12 if fail else addr, f, off, cg))

    def mu(p, addr, ln, cg=100):
        c.append((p, "munmap", addr, ln, 0, 0, 0, 0, None, 0, cg))

    def mr(p, old, ln, new_len, res, flags=1, cg=100):
        c.append((p, "mremap", old, ln, new_len, flags, 0, res, None, 0, cg))

    def br(p, addr, ln, res, cg=100):
        c.append((p, "brk", addr, ln, 0, 0, 0, res, None, 0, cg))

    for i in range(8):  # 0-7: P1 maps 8 areas of i + 1 pages
        mm(P1, A + i * 0x100000, (i + 1) * PG)
    mm(P2, B, 4 * PG)                                   # 8
    br(P1, 0, 0x21000, 0x555000)                         # 9: heap baseline
    mm(P1, C, 6 * PG, prot=5, flags=MAP_PRIVATE, f=(FILE_DEV, FILE_INO), off=2 * PG)  # 10: a file
    mu(P1, C + 2 * PG, PG)                               # 11: splits the file mapping
    mm(P2, B + 0x100000, 2 * PG)                         # 12
    mm(P1, D, 3 * PG, prot=1, flags=MAP_SHARED, f=(FILE_DEV, FILE2_INO))  # 13
    for i in range(4):                                   # 14-17: P4's first calls
        mm(P4, A + i * 0x100000, (i + 1) * PG, cg=0)
    mu(P1, A + 0x100000, PG)                             # 18: one page of 2
    mr(P1, A + 0x200000, 3 * PG, 5 * PG, A + 0x900000)   # 19: move + grow
    mm(P1, 0, PG, fail=True)                             # 20: failed
    br(P1, 0x557000, 0x23000, 0x557000)                  # 21: heap + 2 pages
    mu(P2, B, 4 * PG)                                    # 22
    for i in range(4):                                   # 23-26: P4
        mu(P4, A + i * 0x100000, PG, cg=0)
    mm(P3, C, 2 * PG, cg=200)                            # 27: P3's first call
    for i in range(3):                                   # 28-30: P1 in its new cgroup
        mm(P1, A + (10 + i) * 0x100000, (20 + i) * PG, cg=200)
    mm(P2, B + 0x200000, PG)                             # 31
    mu(P3, C, PG, cg=200)                                # 32
    c.append((P2, "exit", 0, 0, 0, 0, 0, 0, None, 0, 100))  # 33: P2 exits
    mu(P1, A + 0x300000, 4 * PG, cg=200)                 # 34: all of area 3
    mm(P3, C + 0x100000, 9 * PG, cg=200)                 # 35
    for i in range(6):                                   # 36-41
        mm(P1, A + (20 + i) * 0x100000, (30 + i) * PG, cg=200)
    c.append((P1, "oom_kill", 0, 0, 0, 0, 0, 0, None, 0, 200))  # 42
    mu(P1, A, PG, cg=200)                                # 43: lives on
    return c


# calls (global index) after which lector would have written a checkpoint
CHECKPOINTS = {P1: [9, 19, 30], P2: [12, 33], P4: [17], P3: []}
FILL_HOST, FILL_AFTER, FILL_CALLS = "ttfill", 21, 5000
OOM_CALL = OOM_SEQ = 42


def ts(g):
    return T0 + g * STEP


class Proc:
    """A process as the contract's rules make it, pages as the ledger."""

    def __init__(self):
        self.exited = False
        self.net = self.requested = self.vm = 0
        self.heap = self.heap_base = 0
        self.heap_known = False
        self.n = {"mmap": 0, "munmap": 0, "mremap": 0, "brk": 0, "failed": 0}
        self.pages = {}  # page address -> (created_ns, prot, flags, dev, ino, via, offset)
        self.rss = (0, 0, 0, 0)
        self.cgroup = 0
        self.uid = 1000
        self.last_seen = 0

    def mapped(self):
        return len(self.pages) * PG + (self.heap - self.heap_base)

    def ranges(self):
        """Maximal runs of pages of one call with the offset running on."""
        out = []
        for a in sorted(self.pages):
            at = self.pages[a]
            if out and out[-1][1] == a:
                s, e, first = out[-1]
                if first[:6] == at[:6] and first[6] + (a - s) == at[6]:
                    out[-1] = (s, a + PG, first)
                    continue
            out.append((a, a + PG, at))
        return out

    def apply(self, g, call):
        p, sc, addr, ln, new_len, flags, prot, res, f, off, cg = call
        t = ts(g)
        self.last_seen = t
        if cg:
            self.cgroup = cg
        self.vm = (100 + g) * PG
        self.rss = (g * PG, 2 * PG, PG, 0)
        if sc == "mmap":
            self.n["mmap"] += 1
            if res < 0:
                self.n["failed"] += 1
                return
            self.net += ln
            self.requested += ln
            dev, ino = f or (0, 0)
            for k in range(page_up(ln) // PG):
                self.pages[res + k * PG] = (t, prot, flags, dev, ino, "mmap", off + k * PG)
        elif sc == "munmap":
            self.n["munmap"] += 1
            self.net -= ln
            for k in range(page_up(ln) // PG):
                self.pages.pop(addr + k * PG, None)
        elif sc == "mremap":
            self.n["mremap"] += 1
            old_len, nl = page_up(ln), page_up(new_len)
            moved = {a - addr: self.pages.pop(a) for a in list(self.pages) if addr <= a < addr + old_len}
            for a in [a for a in self.pages if res <= a < res + nl]:
                del self.pages[a]
            last = None
            for k in sorted(moved):
                if k < nl:
                    at = moved[k]
                    self.pages[res + k] = at[:5] + ("mremap", at[6])
                    last = (k, at)
            for k in range(old_len, nl, PG):  # the growth continues the last moved piece
                if last:
                    at = last[1]
                    self.pages[res + k] = at[:5] + ("mremap", at[6] + k - last[0])
                else:
                    self.pages[res + k] = (t, 0, 0, 0, 0, "mremap", res + k)
        elif sc == "brk":
            self.n["brk"] += 1
            if addr != 0 and res != addr:
                self.n["failed"] += 1
            if not self.heap_known:
                self.heap_known, self.heap_base, self.heap = True, ln, ln
            else:
                self.heap = ln
                self.heap_base = min(self.heap_base, self.heap)
        elif sc == "exit":
            self.exited = True
            self.pages = {}
            self.net = self.heap = self.heap_base = 0
            self.heap_known = False
            self.vm = 0
            self.rss = (0, 0, 0, 0)

    def row(self):
        """The measures /api/processes shows."""
        return {"state": "exited" if self.exited else "alive", "memory_held_bytes": max(self.net, 0),
                "net_bytes_raw": self.net, "mapped_bytes": self.mapped(), "vm_size_bytes": self.vm,
                "requested_bytes": self.requested, "n_mmap": self.n["mmap"], "n_munmap": self.n["munmap"],
                "n_mremap": self.n["mremap"], "n_brk": self.n["brk"], "n_failed": self.n["failed"],
                "last_seen_ns": self.last_seen, "rss_bytes": sum(self.rss[:3]), "swap_bytes": self.rss[3]}


def replay(until_ns, calls=None):
    """{proc: Proc} of the calls with ts_ns <= until_ns, from zero."""
    out = {}
    for g, call in enumerate(calls or script()):
        if ts(g) <= until_ns:
            out.setdefault(call[0], Proc()).apply(g, call)
    return out


def first_call(p):
    return min(g for g, c in enumerate(script()) if c[0] == p)


def hx(b):
    return "X'%s'" % b.hex() if b else "''"


def seed_sql():
    calls = script()
    out = ["INSERT INTO hosts (name, mem_total_bytes, swap_total_bytes) VALUES ('%s', %d, %d)"
           " ON DUPLICATE KEY UPDATE mem_total_bytes=VALUES(mem_total_bytes);" % (TT_HOST, 1 << 33, 1 << 30),
           "SET @h = (SELECT host_id FROM hosts WHERE name='%s');" % TT_HOST]
    out.append("INSERT INTO cgroups (host_id, cgroup_id, path, name, kind, resolved_ns) VALUES %s;" % ",".join(
        "(@h,%d,%s,%s,'%s',1)" % (i, hx(p), hx(n), k) for i, p, n, k in CGROUPS))
    out.append("INSERT INTO files (host_id, file_dev, file_ino, path, how, resolved_ns) VALUES "
               "(@h,%d,%d,%s,'maps',1),(@h,%d,%d,NULL,'gone',1);" % (FILE_DEV, FILE_INO, hx(FILE_PATH),
                                                                    FILE_DEV, FILE2_INO))
    procs, rows, ck = {}, [], []
    for g, call in enumerate(calls):
        p = call[0]
        st = procs.setdefault(p, Proc())
        st.apply(g, call)
        pid, start = p
        sc, addr, ln, new_len, flags, prot, res, f, off, cg = call[1:]
        dev, ino = f or (0, 0)
        session, seq = OOM_SESSION, g
        rows.append("(@h,%d,%d,%d,%d,%d,1000,%d,'tt%d','tt','%s',%d,%d,%d,%d,%d,%d,%d,-1,%d,%d,%d,%d,%d,0,%d,%d,%d,%d)" % (
            session, seq, ts(g), pid, pid, start, pid, sc, addr, ln, res if sc == "mremap" else 0, new_len, off,
            prot, flags, res, st.vm if sc != "exit" else 0, st.rss[0], st.rss[1], st.rss[2], cg, dev, ino,
            st.mapped()))
        if g in CHECKPOINTS[p]:
            r = st.row()
            ck.append("(@h,%d,%d,%d,%d,%d,1000,'tt%d',%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,0,%d,%d)" % (
                pid, start, ts(g), session, seq, pid, st.exited, st.net, st.mapped(), st.vm, st.requested,
                st.heap, st.heap_base, st.heap_known, r["n_mmap"], r["n_munmap"], r["n_mremap"], r["n_brk"],
                r["n_failed"], st.rss[0], st.rss[1], st.rss[2], ts(g), st.cgroup))
    cols = ("INSERT INTO calls (host_id, session, seq, ts_ns, pid, tid, uid, start_ns, comm, thread_comm,"
            " syscall, addr, len_bytes, new_addr, new_len_bytes, offset_bytes, prot, flags, fd, result,"
            " total_vm_bytes, rss_anon_bytes, rss_file_bytes, rss_shmem_bytes, swap_bytes, cgroup_id,"
            " file_dev, file_ino, mapped_bytes) VALUES %s;")
    # Another host's calls committed between calls FILL_AFTER and FILL_AFTER + 1:
    # the cid ranges around T are far apart there (the server reads them range
    # by range), close together elsewhere (it reads one cid window).
    out.append(cols % ",".join(rows[:FILL_AFTER + 1]))
    out.append("INSERT INTO hosts (name) VALUES ('%s') ON DUPLICATE KEY UPDATE name = name;" % FILL_HOST)
    out.append("INSERT INTO calls (host_id, session, seq, ts_ns, pid, tid, uid, start_ns, comm, thread_comm,"
               " syscall, addr, len_bytes, new_addr, new_len_bytes, offset_bytes, prot, flags, fd, result,"
               " total_vm_bytes) SELECT (SELECT host_id FROM hosts WHERE name = '%s'), 1, seq, %d, %d, %d, 0,"
               " 11, 'fill', 'fill', 'mmap', 0, 4096, 0, 0, 0, 3, 34, -1, 4096, 4096 FROM seq_0_to_%d;" % (
                   FILL_HOST, ts(FILL_AFTER), P1[0], P1[0], FILL_CALLS - 1))
    out.append(cols % ",".join(rows[FILL_AFTER + 1:]))
    out.append("INSERT INTO checkpoints (host_id, pid, start_ns, ts_ns, session, seq, uid, comm, exited,"
               " net_bytes_raw, mapped_bytes, vm_size_bytes, requested_bytes, heap_bytes, heap_base_bytes,"
               " heap_known, n_mmap, n_munmap, n_mremap, n_brk, n_failed, rss_anon_bytes, rss_file_bytes,"
               " rss_shmem_bytes, swap_bytes, rss_ts_ns, cgroup_id) VALUES %s;" % ",".join(ck))
    # A process without a processes row whose 1100 checkpoints all lie between
    # calls 20 and 21: the server's scans of the host's checkpoints from T
    # stop before they reach the others there, which it then looks up one by one.
    out.append("INSERT INTO checkpoints (host_id, pid, start_ns, ts_ns, session, seq, uid, comm, exited,"
               " net_bytes_raw, mapped_bytes, vm_size_bytes, requested_bytes, heap_bytes, heap_base_bytes,"
               " heap_known, n_mmap, n_munmap, n_mremap, n_brk, n_failed, rss_anon_bytes, rss_file_bytes,"
               " rss_shmem_bytes, swap_bytes, rss_ts_ns, cgroup_id) SELECT @h, 5009, 99, %d, 7, 200000 + seq,"
               " 0, 'fill', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 FROM seq_0_to_1099;"
               % (ts(20) + STEP // 2))
    prow = []
    for (pid, start), st in procs.items():
        r = st.row()
        prow.append("(@h,%d,%d,1000,'tt%d',%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,0,%d,%d)" % (
            pid, start, pid, ts(first_call((pid, start))), st.last_seen, st.exited, max(st.net, 0), st.net,
            st.mapped(), st.vm, st.requested, st.heap, st.heap_base, st.heap_known, r["n_mmap"], r["n_munmap"],
            r["n_mremap"], r["n_brk"], r["n_failed"], st.rss[0], st.rss[1], st.rss[2], st.last_seen, st.cgroup))
        for s, e, at in ([] if st.exited else st.ranges()):
            prow_r = "(@h,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,'%s')" % (pid, start, s, e, at[0], at[1], at[2], at[3],
                                                                at[4], at[6], at[5])
            out.append("INSERT INTO process_ranges (host_id, pid, start_ns, start_addr, end_addr, created_ns, prot,"
                       " flags, file_dev, file_ino, offset_bytes, via) VALUES %s;" % prow_r)
    out.append("INSERT INTO processes (host_id, pid, start_ns, uid, comm, first_seen_ns, last_seen_ns, exited,"
               " net_bytes, net_bytes_raw, mapped_bytes, vm_size_bytes, requested_bytes, heap_bytes,"
               " heap_base_bytes, heap_known, n_mmap, n_munmap, n_mremap, n_brk, n_failed, rss_anon_bytes,"
               " rss_file_bytes, rss_shmem_bytes, swap_bytes, rss_ts_ns, cgroup_id) VALUES %s;" % ",".join(prow))
    k = calls[OOM_CALL]
    st = replay(ts(OOM_CALL))[P1]
    out.append("INSERT INTO oom_kills (host_id, session, seq, ts_ns, pid, start_ns, uid, comm, cgroup_id,"
               " rss_anon_bytes, rss_file_bytes, rss_shmem_bytes, swap_bytes, total_vm_bytes) VALUES"
               " (@h,%d,%d,%d,%d,%d,1000,'tt%d',200,%d,%d,%d,0,%d);" % (
                   OOM_SESSION, OOM_CALL, ts(OOM_CALL), k[0][0], k[0][1], k[0][0], st.rss[0], st.rss[1],
                   st.rss[2], st.vm))
    return "\n".join(out)
