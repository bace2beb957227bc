"""tests/server/checks_timetravel.py - time travel, the ledger and OOM
forensics (docs/API.md) against the suite's own replay of the seeded calls
(seed_timetravel.Model, not lector's code): /api/processes?at=T at every
call's instant and between calls, before the first call, after an exit;
/api/processes/{pid}?at=T and its series cut at T; /api/diff's ranking,
growth and group sums; /mappings now (every row once in every sort, the
cursor stable, coverage, files) and at T (the replayed ledger); forensics;
the cache keeping 'now' and 'at' apart; 400s; exact: false once calls are
purged."""
from lib import get, ok
import seed_timetravel as S

ROW_KEYS = ["state", "memory_held_bytes", "net_bytes_raw", "mapped_bytes", "vm_size_bytes", "requested_bytes",
            "n_mmap", "n_munmap", "n_mremap", "n_brk", "n_failed", "last_seen_ns", "rss_bytes", "swap_bytes"]
GROUPS = {100: "tt-a.service", 200: "tt-b.service", 0: "unknown"}


def expect(procs):
    out = {}
    for (pid, start), st in procs.items():
        r = st.row()
        r["group"] = GROUPS[st.cgroup]
        out[pid] = r
    return out


def got_rows(b):
    return {p["pid"]: dict({k: p.get(k) for k in ROW_KEYS}, group=p.get("group")) for p in b.get("processes", [])}


def instants():
    n = len(S.script())
    for g in range(n):
        yield "call %d's ts" % g, S.ts(g)
        yield "between calls %d and %d" % (g, g + 1), S.ts(g) + S.STEP // 2
    yield "long after the last call", S.ts(n) + 10**12


def list_at(srv):
    st, _, b = get(srv.base, "/api/processes?host=%s&at=%d" % (S.TT_HOST, S.T0 - 1))
    ok(st == 200 and b.get("total") == 0 and b.get("processes") == [] and b.get("at_ns") == str(S.T0 - 1),
       "/api/processes?at=T before the host's first call: no process", b)
    bad = []
    for what, t in instants():
        st, _, b = get(srv.base, "/api/processes?host=%s&at=%d&sort=pid&order=asc" % (S.TT_HOST, t))
        want = expect(S.replay(t))
        got = got_rows(b) if st == 200 else {}
        exact = st == 200 and all(p.get("exact") is True for p in b["processes"])
        if st != 200 or got != want or not exact or b.get("at_ns") != str(t) or b.get("total") != len(want):
            bad.append((what, st, {"got": got, "want": want} if st == 200 else b))
    ok(not bad, "/api/processes?at=T equals the replay from zero of the calls <= T at %d instants (every call's "
       "ts and between calls: checkpoints, folded calls, an exit, a late process without checkpoint, a cgroup "
       "move)" % (2 * len(S.script()) + 1), bad[:2])
    t = S.ts(20) + 1
    st, _, b = get(srv.base, "/api/processes?host=%s&at=%d&state=exited" % (S.TT_HOST, t))
    ok(st == 200 and b["total"] == 0, "state=exited at T before P2's exit: none", b)
    t = S.ts(40)
    st, _, b = get(srv.base, "/api/processes?host=%s&at=%d&state=exited" % (S.TT_HOST, t))
    ok(st == 200 and [p["pid"] for p in b["processes"]] == [S.P2[0]] and b["processes"][0]["vm_size_bytes"] == 0,
       "state=exited at T after P2's exit: P2, holding nothing", b)
    st, _, b = get(srv.base, "/api/processes?host=%s&at=%d&group=tt-b.service&sort=mapped" % (S.TT_HOST, t))
    want = sorted([(v["mapped_bytes"], p) for p, v in expect(S.replay(t)).items() if v["group"] == "tt-b.service"],
                  reverse=True)
    ok(st == 200 and [p["pid"] for p in b["processes"]] == [p for _, p in want],
       "group= filters on the group at T, sort=mapped ranks on mapped at T", (b, want))
    st, _, b = get(srv.base, "/api/processes?host=%s&at=%d&limit=1&offset=1&sort=pid&order=asc" % (S.TT_HOST, t))
    ok(st == 200 and b["total"] == 4 and len(b["processes"]) == 1 and b["processes"][0]["pid"] == S.P2[0],
       "limit and offset page the processes at T", b)


def one_at(srv):
    bad = []
    pid = S.P1[0]
    for g in (0, 9, 10, 19, 25, 30, 43):
        t = S.ts(g) + 1
        st, _, b = get(srv.base, "/api/processes/%d?host=%s&at=%d" % (pid, S.TT_HOST, t))
        procs = S.replay(t)
        want = expect(procs)[pid]
        n = sum(1 for h, c in enumerate(S.script()) if c[0] == S.P1 and S.ts(h) <= t)
        ser = b.get("series", []) if st == 200 else []
        st1 = procs[S.P1]
        last = [st1.last_seen, max(st1.net, 0), st1.mapped(), st1.vm]
        if st != 200 or {k: b.get(k) for k in ROW_KEYS} != {k: want[k] for k in ROW_KEYS} or \
                b.get("at_ns") != str(t) or b.get("calls") != n or len(ser) != n or ser[-1] != last:
            bad.append((g, st, b if st != 200 else {"want": want, "last": last, "ser": ser[-2:]}))
    ok(not bad, "/api/processes/{pid}?at=T: values at T and the series cut at T (its last point the state at T)",
       bad[:2])
    st, _, b = get(srv.base, "/api/processes/%d?host=%s&at=%d" % (S.P3[0], S.TT_HOST, S.ts(20)))
    ok(st == 404 and b.get("parameter") == "pid", "/api/processes/{pid}?at=T before its first call: 404", b)


def diff(srv):
    t1, t2 = S.ts(15) + 1, S.ts(38) + 1
    a, z = expect(S.replay(t1)), expect(S.replay(t2))
    rows = []
    for pid in z:
        f = a.get(pid)
        fm = [f[k] if f and f["state"] == "alive" else 0 for k in ("memory_held_bytes", "mapped_bytes", "vm_size_bytes")]
        tm = [z[pid][k] if z[pid]["state"] == "alive" else 0 for k in ("memory_held_bytes", "mapped_bytes", "vm_size_bytes")]
        rows.append((pid, f["state"] if f else "unseen", z[pid]["state"], fm, tm, z[pid]["group"]))
    for sort, m in (("held", 0), ("mapped", 1), ("vm", 2)):
        st, _, b = get(srv.base, "/api/diff?host=%s&from=%d&to=%d&sort=%s" % (S.TT_HOST, t1, t2, sort))
        want = sorted(rows, key=lambda r: (-(r[4][m] - r[3][m]), r[0]))
        got = [(p["pid"], p["from"]["state"], p["to"]["state"],
                [p["from"][k] for k in ("memory_held_bytes", "mapped_bytes", "vm_size_bytes")],
                [p["to"][k] for k in ("memory_held_bytes", "mapped_bytes", "vm_size_bytes")], p["group"])
               for p in b.get("processes", [])] if st == 200 else b
        growth_ok = st == 200 and all(
            [p["growth"][k] for k in ("memory_held_bytes", "mapped_bytes", "vm_size_bytes")] ==
            [p["to"][k] - p["from"][k] for k in ("memory_held_bytes", "mapped_bytes", "vm_size_bytes")]
            for p in b["processes"])
        ok(st == 200 and got == want and growth_ok and b["total"] == len(want) and b["from_ns"] == str(t1) and
           b["to_ns"] == str(t2), "/api/diff sort=%s: ranked by growth, from/to states (unseen, exited count 0) "
           "and values as the replay gives them" % sort, {"got": got, "want": want})
        if sort == "held":
            groups = {}
            for r in rows:
                g = groups.setdefault(r[5], [0, [0, 0, 0], [0, 0, 0]])
                g[0] += 1
                g[1] = [x + y for x, y in zip(g[1], r[3])]
                g[2] = [x + y for x, y in zip(g[2], r[4])]
            gg = {g["group"]: [g["processes"], [g["from"][k] for k in ("memory_held_bytes", "mapped_bytes", "vm_size_bytes")],
                               [g["to"][k] for k in ("memory_held_bytes", "mapped_bytes", "vm_size_bytes")]]
                  for g in b.get("groups", [])}
            ok(gg == groups, "/api/diff groups: the processes' from and to summed per group (at T2)",
               {"got": gg, "want": groups})
    st, _, b = get(srv.base, "/api/diff?host=%s&from=%d&to=%d&limit=1&group=tt-a.service" % (S.TT_HOST, t1, t2))
    ok(st == 200 and len(b["processes"]) == 1 and all(p["group"] == "tt-a.service" for p in b["processes"]) and
       b["total"] == sum(1 for r in rows if r[5] == "tt-a.service"), "/api/diff group= and limit=", b)
    for q, param in (("from=%d&to=%d" % (t2, t1), "to"), ("from=%d&to=%d" % (t1, t1), "to"), ("to=%d" % t2, "from"),
                     ("from=x&to=%d" % t2, "from"), ("from=%d&to=%d&sort=rss" % (t1, t2), "sort"),
                     ("from=%d&to=%d&limit=0" % (t1, t2), "limit")):
        st, _, b = get(srv.base, "/api/diff?" + q)
        ok(st == 400 and b.get("parameter") == param, "/api/diff?%s: 400 naming %s" % (q, param), b)


def expected_ranges(st):
    out = []
    for s, e, at in st.ranges():
        out.append({"addr": hex(s), "end": hex(e), "size_bytes": e - s, "created_ns": str(at[0]), "prot_raw": at[1],
                    "flags_raw": at[2], "offset_bytes": at[6], "via": at[5]})
    return out


def pick(m):
    return {k: m.get(k) for k in ("addr", "end", "size_bytes", "created_ns", "prot_raw", "flags_raw", "offset_bytes",
                                  "via")}


def order(rows, sort, desc):
    key = (lambda r: (int(r["created_ns"]), int(r["addr"], 16))) if sort == "age" else \
        (lambda r: (r["size_bytes"], int(r["addr"], 16)))
    return sorted(rows, key=key, reverse=desc)


def pages(srv, url, limit):
    rows, after, n = [], None, 0
    while n < 50:
        st, _, b = get(srv.base, url + "&limit=%d" % limit + ("&after=" + after if after else ""))
        if st != 200:
            return None, b
        rows += b["mappings"]
        n += 1
        after = b["next"]
        if not after:
            return rows, b
    return None, "no end"


def mappings(srv):
    st1 = S.replay(S.ts(100))[S.P1]
    want = expected_ranges(st1)
    base = "/api/processes/%d/mappings?host=%s" % (S.P1[0], S.TT_HOST)
    for sort, order_q, desc in (("age", "", False), ("age", "&order=desc", True), ("size", "", True),
                                ("size", "&order=asc", False)):
        rows, b = pages(srv, base + "&sort=" + sort + order_q, 3)
        got = [pick(m) for m in rows] if rows is not None else b
        ok(rows is not None and got == order(want, sort, desc) and b["total"] == len(want) and b["at_ns"] is None,
           "/mappings sort=%s%s, 3 a page: every live range once, in order, as the ledger holds them" % (
               sort, order_q), {"got": got, "want": order(want, sort, desc)})
    st, _, b = get(srv.base, base + "&limit=1000")
    led = sum(r["size_bytes"] for r in want)
    cov = b.get("coverage", {}) if st == 200 else {}
    ok(st == 200 and cov.get("ledger_bytes") == led and cov.get("vm_size_bytes") == st1.vm and
       abs(cov.get("ratio", 0) - led / st1.vm) < 1e-9 and b["ledger_bytes"] == led,
       "/mappings coverage: ledger bytes over VmSize", cov)
    by_addr = {m["addr"]: m for m in b.get("mappings", [])}
    f1 = by_addr.get(hex(0x30000000), {})
    f2 = by_addr.get(hex(0x40000000), {})
    an = by_addr.get(hex(0x10000000 + 10 * 0x100000), {})
    ok(f1.get("file") == {"dev": "8:1", "ino": str(S.FILE_INO), "path": S.FILE_PATH.decode()} and
       f1.get("prot") == "r-x" and f1.get("flags") == ["private"] and
       f2.get("file") == {"dev": "8:1", "ino": str(S.FILE2_INO), "path": None} and f2.get("flags") == ["shared"] and
       an.get("file") is None and an.get("flags") == ["private", "anonymous"] and an.get("prot") == "rw-" and
       isinstance(an.get("age_ns"), (int, float)) and an["age_ns"] > 0 and an.get("created_ns") == str(S.ts(28)),
       "/mappings: file dev:ino and path (from files; null when not found), prot and flags by name, age",
       [f1, f2, an])
    st, _, p1 = get(srv.base, base + "&sort=size&limit=2")
    st2, _, p2a = get(srv.base, base + "&sort=size&limit=2&after=" + p1["next"])
    st3, _, p2b = get(srv.base, base + "&sort=size&limit=2&after=" + p1["next"])
    ok(st2 == 200 and p2a == p2b and p2a["mappings"] != p1["mappings"], "/mappings: a cursor gives the same page twice")
    for q, param in (("&after=zz", "after"), ("&after=" + p1["next"].replace("sd", "ad"), "after"),
                     ("&sort=age&after=" + p1["next"], "after"), ("&sort=name", "sort"), ("&order=up", "order"),
                     ("&limit=0", "limit"), ("&limit=1001", "limit"), ("&at=now", "at"), ("&after=", "after")):
        st, _, b = get(srv.base, base + q)
        ok(st == 400 and b.get("parameter") == param, "/mappings%s: 400 naming %s" % (q, param), b)
    st, _, b = get(srv.base, "/api/processes/%d/mappings?host=%s" % (S.P2[0], S.TT_HOST))
    ok(st == 200 and b["total"] == 0 and b["mappings"] == [] and b["next"] is None,
       "/mappings of an exited process: none", b)
    st, _, b = get(srv.base, "/api/processes/%d/mappings?host=%s" % (999999, S.TT_HOST))
    ok(st == 404, "/mappings of an unknown pid: 404", b)
    st, _, b = get(srv.base, "/api/processes/5001/mapping")
    ok(st == 400 and b.get("parameter") == "pid", "/api/processes/PID/other: 400", b)
    bad = []
    for g in (10, 11, 19, 21, 30, 41):
        t = S.ts(g) + 1
        w = expected_ranges(S.replay(t)[S.P1])
        rows, b = pages(srv, base + "&at=%d" % t, 4)
        got = [pick(m) for m in rows] if rows is not None else b
        if rows is None or got != order(w, "age", False) or b.get("at_ns") != str(t) or b.get("truncated") is not False:
            bad.append((g, got, w))
    ok(not bad, "/mappings?at=T: the ledger replayed to T (splits, a move and growth via mremap, file offsets) "
       "equals the suite's page-by-page replay, paged", bad[:1])
    st, _, b = get(srv.base, "/api/processes/%d/mappings?host=%s&at=%d" % (S.P2[0], S.TT_HOST, S.ts(40)))
    ok(st == 200 and b["total"] == 0 and b["coverage"]["vm_size_bytes"] == 0, "/mappings?at=T after an exit: none", b)


def forensics(srv):
    url = "/api/oom/forensics?host=%s&session=0x%x&seq=%d&minutes=1" % (S.TT_HOST, S.OOM_SESSION, S.OOM_SEQ)
    st, _, b = get(srv.base, url)
    kill_ts = S.ts(S.OOM_CALL)
    mine = [g for g, c in enumerate(S.script()) if c[0] == S.P1 and g < S.OOM_CALL]
    procs = S.replay(kill_ts)
    grow = order(expected_ranges(procs[S.P1]), "size", True)[:20]
    curve_want = []
    st1 = S.Proc()
    for g, c in enumerate(S.script()):
        if c[0] == S.P1 and g <= S.OOM_CALL:
            st1.apply(g, c)
            curve_want.append([str(S.ts(g)), max(st1.net, 0), st1.mapped(), st1.vm, sum(st1.rss[:3])])
    ok(st == 200 and b["kill"]["pid"] == S.P1[0] and b["kill"]["session"] == "0x%x" % S.OOM_SESSION and
       b["window_ns"] == 60 * 10**9 and b["calls_total"] == len(mine) and
       [c["seq"] for c in b["calls"]] == sorted(mine, reverse=True) and
       [pick(m) for m in b["growing"]] == grow and
       [[p["ts_ns"], p["memory_held_bytes"], p["mapped_bytes"], p["vm_size_bytes"], p["rss_bytes"]]
        for p in b["curve"]] == curve_want and b["truncated"] is False,
       "/api/oom/forensics: the kill, the victim's calls before it newest first, its mappings made in the window "
       "largest first, its curve after each call (the suite's replay)", b)
    st, _, b = get(srv.base, "/api/oom/forensics?host=%s&session=0x%x&seq=1" % (S.TT_HOST, S.OOM_SESSION))
    ok(st == 404 and "/api/oom" in b.get("reason", ""), "/api/oom/forensics of no kill: 404 saying where kills are", b)
    for q, param in (("host=%s&seq=1" % S.TT_HOST, "session"), ("host=%s&session=77&seq=1" % S.TT_HOST, "session"),
                     ("session=0x77&seq=1", "host"), ("host=%s&session=0x77" % S.TT_HOST, "seq"),
                     ("host=%s&session=0x77&seq=1&minutes=61" % S.TT_HOST, "minutes")):
        st, _, b = get(srv.base, "/api/oom/forensics?" + q)
        ok(st == 400 and b.get("parameter") == param, "/api/oom/forensics?%s: 400 naming %s" % (q, param), b)


def cache_and_params(srv):
    t = S.ts(12) + 1
    st, _, now = get(srv.base, "/api/processes?host=%s&sort=pid&order=asc" % S.TT_HOST)
    st2, _, at = get(srv.base, "/api/processes?host=%s&sort=pid&order=asc&at=%d" % (S.TT_HOST, t))
    want_at = [v["state"] for _, v in sorted(expect(S.replay(t)).items())]
    want_now = [v["state"] for _, v in sorted(expect(S.replay(S.ts(100))).items())]
    ok(st == st2 == 200 and "at_ns" not in now and at.get("at_ns") == str(t) and
       [p["state"] for p in at["processes"]] == want_at and [p["state"] for p in now["processes"]] == want_now
       and want_at != want_now,
       "the cache keeps 'now' and 'at' answers apart (/api/processes)", (now, at))
    u = "/api/processes/%d?host=%s" % (S.P1[0], S.TT_HOST)
    st, _, now = get(srv.base, u)
    st2, _, at = get(srv.base, u + "&at=%d" % t)
    ok(st == st2 == 200 and len(at["series"]) < len(now["series"]) and "at_ns" not in now,
       "the cache keeps 'now' and 'at' answers apart (/api/processes/{pid})", (len(now.get("series", [])), at))
    for q in ("at=0", "at=-5", "at=1e9", "at=9223372036854775808", "at="):
        st, _, b = get(srv.base, "/api/processes?" + q)
        ok(st == 400 and b.get("parameter") == "at", "/api/processes?%s: 400 naming at" % q, b)


def purged(srv, db):
    """Retention purged calls: the checkpoint alone, or what remains, and
    exact: false."""
    pid = S.P4[0]
    db.sql("DELETE c FROM calls c JOIN hosts h ON h.host_id = c.host_id WHERE h.name = '%s' AND c.seq IN (14, 15)"
           % S.TT_HOST)
    t = S.ts(16) + 1
    st, _, b = get(srv.base, "/api/processes?host=%s&pid=%d&at=%d&limit=99" % (S.TT_HOST, pid, t))
    p = b.get("processes", [{}])[0] if st == 200 and b.get("processes") else {}
    ok(st == 200 and p.get("exact") is False and p.get("n_mmap") == 1,
       "first calls purged, no checkpoint by T: what remains is folded, exact: false", b)
    t = S.ts(24) + 1
    want = expect(S.replay(t))[pid]
    st, _, b = get(srv.base, "/api/processes?host=%s&pid=%d&at=%d&limit=98" % (S.TT_HOST, pid, t))
    p = b.get("processes", [{}])[0] if st == 200 and b.get("processes") else {}
    ok(st == 200 and p.get("exact") is True and {k: p.get(k) for k in ROW_KEYS} == {k: want[k] for k in ROW_KEYS},
       "calls before a checkpoint purged: the checkpoint and the calls after it, exact", (p, want))
    db.sql("DELETE c FROM calls c JOIN hosts h ON h.host_id = c.host_id WHERE h.name = '%s' AND c.seq = 17"
           % S.TT_HOST)
    want = expect(S.replay(S.ts(17)))[pid]
    st, _, b = get(srv.base, "/api/processes?host=%s&pid=%d&at=%d&limit=97" % (S.TT_HOST, pid, t))
    p = b.get("processes", [{}])[0] if st == 200 and b.get("processes") else {}
    ok(st == 200 and p.get("exact") is False and
       {k: p.get(k) for k in ROW_KEYS} == {k: want[k] for k in ROW_KEYS},
       "the checkpoint's own call purged: the checkpoint alone, exact: false", (p, want))


def run(srv, db):
    list_at(srv)
    one_at(srv)
    diff(srv)
    mappings(srv)
    forensics(srv)
    cache_and_params(srv)
    purged(srv, db)
