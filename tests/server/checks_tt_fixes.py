"""tests/server/checks_tt_fixes.py - time travel's bounds and corner cases
(review of issue 16, helper 16e), each on a host of its own seeded here,
against the suite's own replay (seed_timetravel.Proc):

  ttcap     more exited processes than TT_MAX_PROCS and a few live ones:
            ?at=T answers, the exited ones do not count against the bound;
  ttclosed  a process closed out without an exit record (pid reused, or it
            died while lector was stopped): exited=1 at its last real call,
            no exit checkpoint, no exit call; at T it was alive (the calls
            say so), not "exited, zeros"; one that exited properly, and one
            that exited without checkpoints (its last call is the exit);
            /mappings?at= says exact: false once a first call is purged;
  ttoom     an OOM victim busier than --series-max-calls before the window
            of its forensics: the curve and the growing mappings still
            cover the window (from the checkpoint before it).
"""
import threading

from lib import get, ok
import seed_timetravel as S

PG = S.PG
ANON = S.MAP_PRIVATE | S.MAP_ANON
CALL_COLS = ("host_id, session, seq, ts_ns, pid, tid, uid, start_ns, comm, thread_comm, syscall, addr,"
             " len_bytes, new_addr, new_len_bytes, offset_bytes, prot, flags, fd, result, total_vm_bytes,"
             " rss_anon_bytes, rss_file_bytes, rss_shmem_bytes, swap_bytes, cgroup_id, file_dev, file_ino,"
             " mapped_bytes")
CKPT_COLS = ("host_id, pid, start_ns, ts_ns, session, seq, uid, comm, exited, net_bytes_raw, mapped_bytes,"
             " vm_size_bytes, requested_bytes, heap_bytes, heap_base_bytes, heap_known, n_mmap, n_munmap,"
             " n_mremap, n_brk, n_failed, rss_anon_bytes, rss_file_bytes, rss_shmem_bytes, swap_bytes,"
             " rss_ts_ns, cgroup_id")
PROC_COLS = ("host_id, pid, start_ns, uid, comm, first_seen_ns, last_seen_ns, exited, net_bytes, net_bytes_raw,"
             " mapped_bytes, vm_size_bytes, requested_bytes, heap_bytes, heap_base_bytes, heap_known, n_mmap,"
             " n_munmap, n_mremap, n_brk, n_failed, rss_anon_bytes, rss_file_bytes, rss_shmem_bytes, swap_bytes,"
             " rss_ts_ns, cgroup_id")
SESSION = 9
CAP_HOST, CAP_EXITED, CAP_T0 = "ttcap", 20005, 1700 * 10**15
CL_HOST, CL_T0 = "ttclosed", 1710 * 10**15
Q, R, SX, W = (6001, 1), (6002, 2), (6003, 3), (6004, 4)
OOM_HOST, OOM_KILL_NS, V = "ttoom", 1720 * 10**15, (8001, 1)
OOM_SEQ, OOM_BEFORE = 900000, 1200  # calls before the window: more than --series-max-calls
# a victim born in the window whose pid an earlier process used for 5000 calls
V2, V2_OLD, V2_OLD_CALLS = (8002, 2), (8002, 1), 5000
V3 = (8003, 1)  # no checkpoints (--checkpoint-calls 0), 1100 calls before the window


def mm(p, addr, ln):
    return (p, "mmap", 0, ln, 0, ANON, 3, addr, None, 0, 0)


def mu(p, addr, ln):
    return (p, "munmap", addr, ln, 0, 0, 0, 0, None, 0, 0)


def mr(p, old, ln, new_len, res):
    return (p, "mremap", old, ln, new_len, 1, 0, res, None, 0, 0)


def ext(p):
    return (p, "exit", 0, 0, 0, 0, 0, 0, None, 0, 0)


class Host:
    """Calls (seq, ts, call) with the suite's replay beside them, and the
    rows lector would have written for them."""

    def __init__(self, name):
        self.name, self.calls, self.ckpts, self.procs, self.first = name, [], [], {}, {}

    def call(self, seq, t, call, ckpt=False):
        p = call[0]
        st = self.procs.setdefault(p, S.Proc())
        self.first.setdefault(p, t)
        # Proc.apply takes the global index g for vm/rss: here the seq
        st.apply(seq, call)
        st.last_seen = t
        for pages in (st.pages,):
            for a, at in list(pages.items()):
                if at[0] == S.ts(seq):
                    pages[a] = (t,) + at[1:]
        self.calls.append((seq, t, call, st.vm, st.rss, st.mapped()))
        if ckpt:
            self.ckpts.append(ckpt_row(p, seq, t, st))

    def sql(self):
        out = ["INSERT INTO hosts (name, mem_total_bytes) VALUES ('%s', %d) ON DUPLICATE KEY UPDATE name = name;"
               % (self.name, 1 << 33),
               "SET @h = (SELECT host_id FROM hosts WHERE name = '%s');" % self.name]
        rows = []
        for seq, t, c, vm, rss, mapped in self.calls:
            (pid, start), sc, addr, ln, new_len, flags, prot, res = c[:8]
            rows.append("(@h,%d,%d,%d,%d,%d,1000,%d,'tt%d','tt','%s',%d,%d,%d,%d,0,%d,%d,-1,%d,%d,%d,%d,%d,0,0,0,0,%d)"
                        % (SESSION, seq, t, pid, pid, start, pid, sc, addr, ln, res if sc == "mremap" else 0,
                           new_len, prot, flags, res, vm if sc != "exit" else 0, rss[0], rss[1], rss[2], mapped))
        for i in range(0, len(rows), 500):
            out.append("INSERT INTO calls (%s) VALUES %s;" % (CALL_COLS, ",".join(rows[i:i + 500])))
        for i in range(0, len(self.ckpts), 500):
            out.append("INSERT INTO checkpoints (%s) VALUES %s;" % (CKPT_COLS, ",".join(self.ckpts[i:i + 500])))
        return out

    def proc_row(self, p, st, **over):
        r = st.row()
        v = dict(exited=int(st.exited), net=st.net, mapped=st.mapped(), vm=st.vm, req=st.requested,
                 last=st.last_seen, rss=st.rss)
        v.update(over)
        return "INSERT INTO processes (%s) VALUES (@h,%d,%d,1000,'tt%d',%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,0,%d,0);" % (
            PROC_COLS, p[0], p[1], p[0], self.first[p], v["last"], v["exited"], max(v["net"], 0), v["net"],
            v["mapped"], v["vm"], v["req"], st.heap, st.heap_base, st.heap_known, r["n_mmap"], r["n_munmap"],
            r["n_mremap"], r["n_brk"], r["n_failed"], v["rss"][0], v["rss"][1], v["rss"][2], v["last"])


def ckpt_row(p, seq, t, st):
    r = st.row()
    return "(@h,%d,%d,%d,%d,%d,1000,'tt%d',%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,0,%d,0)" % (
        p[0], p[1], t, SESSION, seq, p[0], st.exited, st.net, st.mapped(), st.vm, st.requested, st.heap,
        st.heap_base, st.heap_known, r["n_mmap"], r["n_munmap"], r["n_mremap"], r["n_brk"], r["n_failed"],
        st.rss[0], st.rss[1], st.rss[2], t)


def cap_sql():
    h = Host(CAP_HOST)
    for i in range(3):  # the live ones: one mmap each, its checkpoint
        h.call(i, CAP_T0 + 100 + i, mm((7001 + i, 1), 0x10000000, (i + 1) * PG), ckpt=True)
    out = h.sql()
    for p, st in h.procs.items():
        out.append(h.proc_row(p, st))
    # the exited ones: an exit checkpoint each at their last call (their calls purged)
    out.append("INSERT INTO processes (%s) SELECT @h, 100000 + seq, 1, 1000, 'gone', %d, %d, 1, 0, 0, 0, 0, 0,"
               " 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, %d, 0 FROM seq_0_to_%d;"
               % (PROC_COLS, CAP_T0, CAP_T0 + 10, CAP_T0 + 10, CAP_EXITED - 1))
    out.append("INSERT INTO checkpoints (%s) SELECT @h, 100000 + seq, 1, %d, %d, 1000000 + seq, 1000, 'gone', 1,"
               " 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, %d, 0 FROM seq_0_to_%d;"
               % (CKPT_COLS, CAP_T0 + 10, SESSION, CAP_T0 + 10, CAP_EXITED - 1))
    return out, h


def closed_sql():
    h = Host(CL_HOST)
    h.call(0, CL_T0, mm(Q, 0x10000000, 4 * PG), ckpt=True)
    h.call(1, CL_T0 + 1000, mm(Q, 0x20000000, 2 * PG))
    h.call(2, CL_T0 + 2000, mm(R, 0x10000000, 3 * PG), ckpt=True)
    h.call(3, CL_T0 + 3000, ext(R), ckpt=True)
    h.call(4, CL_T0 + 4000, mm(SX, 0x10000000, 5 * PG))  # no checkpoints (--checkpoint-calls 0)
    h.call(5, CL_T0 + 5000, ext(SX))
    h.call(6, CL_T0 + 6000, mm(W, 0x10000000, 7 * PG), ckpt=True)
    h.call(7, CL_T0 + 7000, mm(W, 0x20000000, 1 * PG))
    out = h.sql()
    for p, st in h.procs.items():
        if p == Q:  # closed out by lector: exited at its last real call, zeros
            out.append(h.proc_row(p, st, exited=1, net=0, mapped=0, vm=0, rss=(0, 0, 0)))
        else:
            out.append(h.proc_row(p, st))
    return out, h


def oom_sql():
    h = Host(OOM_HOST)
    from_ns = OOM_KILL_NS - 60 * 10**9
    for i in range(V2_OLD_CALLS):  # the pid's earlier process: no checkpoints, lower cids
        h.call(500000 + i, from_ns - 200 * 10**9 + i * 1000, mm(V2_OLD, 0x100000000 + i * 0x10000, PG))
    h.call(500000 + V2_OLD_CALLS, from_ns - 190 * 10**9, ext(V2_OLD))
    seq, t = 0, from_ns - 100 * 10**9
    for i in range(OOM_BEFORE):  # busy before the window: maps, unmaps half, checkpoints every 64 calls
        a = 0x100000000 + i * 0x10000
        call = mu(V, a - 0x10000, PG) if i % 2 and i > 10 else mm(V, a, PG)
        h.call(seq, t, call, ckpt=(seq % 64 == 0))
        seq, t = seq + 1, t + 1000
    t = from_ns + 10 * 10**9
    window = [mm(V, 0x7000000000, 8 * PG), mm(V, 0x7100000000, 3 * PG),
              mu(V, 0x100000000 + 4 * 0x10000, PG),                       # memory from before the window
              mr(V, 0x100000000 + 2 * 0x10000, PG, 4 * PG, 0x7200000000),  # moves pre-window memory
              mm(V, 0x7300000000, 5 * PG), mu(V, 0x7000000000, 2 * PG),     # splits a window range
              mr(V, 0x7100000000, 3 * PG, 6 * PG, 0x7400000000)]           # moves + grows a window range
    for call in window:
        h.call(seq, t, call)
        seq, t = seq + 1, t + 10**9
    for i in range(3):  # V2, born in the window, without checkpoints
        h.call(seq, from_ns + (20 + i) * 10**9, mm(V2, 0x7000000000 + i * 0x1000000, (i + 2) * PG))
        seq += 1
    for i in range(1100):
        h.call(600000 + i, from_ns - 50 * 10**9 + i * 1000, mm(V3, 0x100000000 + i * 0x10000, PG))
    h.call(OOM_SEQ, OOM_KILL_NS, (V, "oom_kill", 0, 0, 0, 0, 0, 0, None, 0, 0))
    h.call(OOM_SEQ + 1, OOM_KILL_NS + 1, (V2, "oom_kill", 0, 0, 0, 0, 0, 0, None, 0, 0))
    h.call(OOM_SEQ + 2, OOM_KILL_NS + 2, (V3, "oom_kill", 0, 0, 0, 0, 0, 0, None, 0, 0))
    out = h.sql()
    for p, k in ((V, OOM_SEQ), (V2, OOM_SEQ + 1), (V2_OLD, None), (V3, OOM_SEQ + 2)):
        st = h.procs[p]
        out.append(h.proc_row(p, st))
        if k:
            out.append("INSERT INTO oom_kills (host_id, session, seq, ts_ns, pid, start_ns, uid, comm, cgroup_id,"
                       " rss_anon_bytes, rss_file_bytes, rss_shmem_bytes, swap_bytes, total_vm_bytes) VALUES"
                       " (@h,%d,%d,%d,%d,%d,1000,'tt%d',0,%d,%d,%d,0,%d);" % (
                           SESSION, k, st.last_seen, p[0], p[1], p[0], st.rss[0], st.rss[1], st.rss[2], st.vm))
    return out, h


def replay(h, until_ns):
    """{proc: Proc} of the host's calls with ts <= until_ns, from zero."""
    out, first = {}, {}
    for seq, t, call, _, _, _ in h.calls:
        if t <= until_ns:
            st = out.setdefault(call[0], S.Proc())
            first.setdefault(call[0], t)
            st.apply(seq, call)
            st.last_seen = t
            for a, at in list(st.pages.items()):
                if at[0] == S.ts(seq):
                    st.pages[a] = (t,) + at[1:]
    return out


KEYS = ["state", "memory_held_bytes", "net_bytes_raw", "mapped_bytes", "vm_size_bytes", "requested_bytes",
        "n_mmap", "n_munmap", "n_mremap", "last_seen_ns"]


def rows_at(srv, host, t, extra=""):
    st, hd, b = get(srv.base, "/api/processes?host=%s&at=%d&sort=pid&order=asc&limit=1000%s" % (host, t, extra))
    return st, hd, b


def pick(row):
    return {k: row.get(k) for k in KEYS}


def want_of(h, t):
    return {p[0]: {k: v for k, v in st.row().items() if k in KEYS} for p, st in replay(h, t).items()}


def check_cap(srv, h):
    t = CAP_T0 + 1000
    st, _, b = rows_at(srv, CAP_HOST, t, "&state=alive")
    want = want_of(h, t)
    got = {p["pid"]: pick(p) for p in b.get("processes", [])} if st == 200 else b
    ok(st == 200 and got == want,
       "?at=T with %d exited processes (more than the 20000 bound) and 3 live: 200, the live ones at T "
       "(the exited ones do not count against the bound)" % CAP_EXITED, got)
    st, _, b = rows_at(srv, CAP_HOST, t, "&offset=0")
    ok(st == 200 and b.get("total") == CAP_EXITED + 3 and
       sum(1 for p in b["processes"] if p["state"] == "exited") == 1000 - 3,
       "?at=T without state=: every process seen by T (%d), the exited ones from their rows" % (CAP_EXITED + 3),
       {k: b.get(k) for k in ("total", "error", "reason")})


def check_closed(srv, h):
    t = CL_T0 + 10**6
    st, _, b = rows_at(srv, CL_HOST, t)
    got = {p["pid"]: pick(p) for p in b.get("processes", [])} if st == 200 else b
    want = want_of(h, t)
    ok(st == 200 and got == want and got[Q[0]]["state"] == "alive",
       "?at=T: a process closed out without an exit record (exited=1 at its last call, no exit checkpoint) "
       "is what its calls say (alive, its memory); an exit with its checkpoint and one without checkpoints "
       "(last call exit) are exited", {"got": got, "want": want})
    st, _, b = get(srv.base, "/api/processes/%d?host=%s&at=%d" % (Q[0], CL_HOST, t))
    ok(st == 200 and b.get("state") == "alive" and b.get("memory_held_bytes") == 6 * PG,
       "/api/processes/{pid}?at=T of the closed-out process: alive with its memory", b)


def check_mappings_exact(srv, db, h):
    t = CL_T0 + 10**6
    u = "/api/processes/%d/mappings?host=%s&at=%d" % (W[0], CL_HOST, t)
    st, _, b = get(srv.base, u)
    ok(st == 200 and b.get("exact") is True and b.get("total") == 2, "/mappings?at=T: exact while the first call "
       "is kept", b)
    db.sql("DELETE c FROM calls c JOIN hosts h ON h.host_id = c.host_id WHERE h.name = '%s' AND c.seq = 6" % CL_HOST)
    st, _, b = get(srv.base, u + "&limit=99")
    ok(st == 200 and b.get("exact") is False and b.get("total") == 1,
       "/mappings?at=T: the process's first call purged (retention): exact: false", b)


def forensics_want(h, victim, kill_ns):
    """(calls seqs newest first, growing, curve) as the suite's replay has them."""
    from_ns = kill_ns - 60 * 10**9
    full = replay(h, kill_ns)[victim]
    grow = [r for r in full.ranges() if r[2][0] >= from_ns]
    grow = sorted(grow, key=lambda r: (r[1] - r[0], r[0]), reverse=True)[:20]
    grow = [("0x%x" % s, "0x%x" % e, str(at[0]), at[5]) for s, e, at in grow]
    curve, st1 = [], S.Proc()
    for seq, t, call, _, _, _ in h.calls:
        if call[0] != victim:
            continue
        st1.apply(seq, call)
        if from_ns <= t <= kill_ns:
            curve.append([str(t), max(st1.net, 0), st1.mapped(), st1.vm, sum(st1.rss[:3])])
    mine = [seq for seq, t, c, _, _, _ in h.calls if c[0] == victim and from_ns <= t < kill_ns]
    return sorted(mine, reverse=True), grow, curve


def got_forensics(b):
    return ([c["seq"] for c in b.get("calls", [])],
            [(m["addr"], m["end"], m["created_ns"], m["via"]) for m in b.get("growing", [])],
            [[p["ts_ns"], p["memory_held_bytes"], p["mapped_bytes"], p["vm_size_bytes"], p["rss_bytes"]]
             for p in b.get("curve", [])])


def handler_reads(db):
    return sum(int(v) for k, v in db.sql("SHOW GLOBAL STATUS LIKE 'Handler_read%'")
               if k in ("Handler_read_next", "Handler_read_prev", "Handler_read_key"))


def check_oom_reused_pid(srv, db, h):
    url = "/api/oom/forensics?host=%s&session=0x%x&seq=%d&minutes=1" % (OOM_HOST, SESSION, OOM_SEQ + 1)
    before = handler_reads(db)
    st, _, b = get(srv.base, url)
    reads = handler_reads(db) - before
    want = forensics_want(h, V2, OOM_KILL_NS + 1)
    ok(st == 200 and got_forensics(b) == want and b.get("calls_total") == 3 and b.get("truncated") is False,
       "/api/oom/forensics of a victim born in the window, no checkpoint of its own: its calls, growing, curve",
       {"got": got_forensics(b), "want": want, "b": b})
    ok(reads < V2_OLD_CALLS, "... and the server read %d index rows for it, fewer than the %d calls of the pid's "
       "earlier process (the calls are read from the host's checkpoint before the window, not from cid 0)"
       % (reads, V2_OLD_CALLS))


def check_oom_no_checkpoint(srv):
    url = "/api/oom/forensics?host=%s&session=0x%x&seq=%d&minutes=1" % (OOM_HOST, SESSION, OOM_SEQ + 2)
    st, _, b = get(srv.base, url)
    ok(st == 413 and b.get("error") == "too much to compute" and "checkpoint" in b.get("reason", ""),
       "/api/oom/forensics of a victim without checkpoints and more than --series-max-calls calls before the "
       "window: 413 saying why", b)


def check_oom(srv, h):
    url = "/api/oom/forensics?host=%s&session=0x%x&seq=%d&minutes=1" % (OOM_HOST, SESSION, OOM_SEQ)
    st, _, b = get(srv.base, url)
    from_ns = OOM_KILL_NS - 60 * 10**9
    full = replay(h, OOM_KILL_NS)[V]
    grow = [r for r in full.ranges() if r[2][0] >= from_ns]
    grow = sorted(grow, key=lambda r: (r[1] - r[0], r[0]), reverse=True)[:20]
    grow = [("0x%x" % s, "0x%x" % e, str(at[0]), at[5]) for s, e, at in grow]
    curve, st1 = [], S.Proc()
    for seq, t, call, _, _, _ in h.calls:
        if call[0] != V:
            continue
        st1.apply(seq, call)
        if t >= from_ns:
            curve.append([str(t), max(st1.net, 0), st1.mapped(), st1.vm, sum(st1.rss[:3])])
    mine = [seq for seq, t, c, _, _, _ in h.calls if c[0] == V and from_ns <= t < OOM_KILL_NS]
    got_grow = [(m["addr"], m["end"], m["created_ns"], m["via"]) for m in b.get("growing", [])]
    got_curve = [[p["ts_ns"], p["memory_held_bytes"], p["mapped_bytes"], p["vm_size_bytes"], p["rss_bytes"]]
                 for p in b.get("curve", [])]
    ok(st == 200 and b.get("truncated") is False and got_curve == curve and got_grow == grow and
       b.get("calls_total") == len(mine) and [c["seq"] for c in b["calls"]] == sorted(mine, reverse=True),
       "/api/oom/forensics of a victim with %d calls before the window (--series-max-calls 1000): the curve "
       "and growing cover the window (checkpoint before it + the window's calls), not truncated" % OOM_BEFORE,
       {"st": st, "truncated": b.get("truncated"), "curve": got_curve, "want_curve": curve, "growing": got_grow,
        "want_growing": grow, "calls_total": b.get("calls_total")})


def check_busy(conf, srv_cls):
    """--at-max-running: time-travel computations at once; one more: 503
    server busy with Retry-After (not a queue of threads each holding a
    pooled connection for seconds)."""
    try:
        srv = srv_cls(conf, ["--at-max-running", "2", "--threads", "40", "--sse-max", "4", "--db-pool", "32"])
    except RuntimeError as e:
        ok(False, "the server takes --at-max-running 2", e)
        return
    try:
        res = []

        def one(i):
            st, hd, b = get(srv.base, "/api/processes?host=%s&at=%d&limit=%d" % (CAP_HOST, CAP_T0 + 1000, i + 1),
                            timeout_s=60)
            res.append((st, hd.get("Retry-After") if hd else None, b.get("error") if isinstance(b, dict) else b))

        th = [threading.Thread(target=one, args=(i,)) for i in range(16)]
        for x in th:
            x.start()
        for x in th:
            x.join()
        busy = [r for r in res if r[0] == 503]
        ok(len(res) == 16 and busy and all(r[1] == "1" and r[2] == "server busy" for r in busy) and
           all(r[0] in (200, 503) for r in res),
           "--at-max-running 2: 16 ?at= at once on a host of %d processes: some 503 server busy + Retry-After: 1, "
           "the others 200" % (CAP_EXITED + 3), sorted(set(r[:3] for r in res)))
        st, _, b = get(srv.base, "/api/diff?host=%s&from=%d&to=%d" % (CL_HOST, CL_T0, CL_T0 + 10**6))
        ok(st == 200 and b.get("total") == 4, "--at-max-running 2: /api/diff (two instants at once) runs", b)
    finally:
        srv.stop()


def run(srv, db, conf):
    from lib import Server
    hosts = {}
    for name, fn in (("cap", cap_sql), ("closed", closed_sql), ("oom", oom_sql)):
        out, h = fn()
        db.sql("\n".join(out))
        hosts[name] = h
    check_cap(srv, hosts["cap"])
    check_closed(srv, hosts["closed"])
    check_oom(srv, hosts["oom"])
    check_oom_reused_pid(srv, db, hosts["oom"])
    check_oom_no_checkpoint(srv)
    check_mappings_exact(srv, db, hosts["closed"])
    check_busy(conf, Server)
