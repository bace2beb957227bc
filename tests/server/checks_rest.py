"""tests/server/checks_rest.py - REST endpoints compared with the database,
bad input, and the safety defaults (traversal, listing, CGI, CORS, auth)."""
import os, subprocess, time, urllib.parse
from lib import SSE, Server, diag, get, ok, raw_get
import lib
from seed import SEED_HOST, MEM_BYTES, SWAP_BYTES

SORTS = {"net": "net_bytes", "mapped": "mapped_bytes", "vm": "vm_size_bytes", "requested": "requested_bytes",
         "pid": "pid", "name": "comm", "last_seen": "last_seen_ns"}
PROC_SQL = ("SELECT p.pid, p.start_ns, p.uid, HEX(p.comm), p.exited, p.net_bytes, p.mapped_bytes, "
            "p.vm_size_bytes, p.requested_bytes, p.last_seen_ns, h.mem_total_bytes + h.swap_total_bytes "
            "FROM processes p JOIN hosts h ON h.host_id = p.host_id WHERE h.name = '%s'")


def name_of(hexstr):
    return bytes.fromhex(hexstr).decode("utf-8", "replace")


def proc_matches(api, row):
    pid, start, uid, comm, exited, net, mapped, vm, req, last, denom = row
    want = {"pid": int(pid), "start_ns": start, "uid": int(uid), "name": name_of(comm),
            "state": "exited" if exited == "1" else "alive", "memory_held_bytes": int(net),
            "mapped_bytes": int(mapped), "vm_size_bytes": int(vm), "requested_bytes": int(req),
            "last_seen_ns": int(last), "pct_denominator_bytes": int(denom)}
    bad = {k: (api.get(k), v) for k, v in want.items() if api.get(k) != v}
    pct = api.get("pct_of_system_vm")
    if pct is None or abs(pct - 100.0 * int(net) / int(denom)) > 1e-9:
        bad["pct_of_system_vm"] = (pct, 100.0 * int(net) / int(denom))
    return bad


def check_processes(srv, db):
    rows = {r[0]: r for r in db.sql(PROC_SQL % SEED_HOST)}
    st, _, body = get(srv.base, "/api/processes?host=%s&limit=1000" % SEED_HOST)
    bad = {} if st == 200 else {"status": st}
    for p in body.get("processes", []) if st == 200 else []:
        d = proc_matches(p, rows.get(str(p["pid"]), [None] * 11)) if str(p["pid"]) in rows else {"pid": p["pid"]}
        if d:
            bad[p["pid"]] = d
    ok(st == 200 and body["total"] == len(rows) == len(body["processes"]) and not bad,
       "/api/processes: all %d seeded rows equal the database (held, mapped, vm, %%, state, names)" % len(rows),
       bad)
    names = {p["pid"]: p["name"] for p in body.get("processes", [])}
    ok(names.get(100000) == 'we "q" a\\b' and names.get(100001) == "x\ufffd\ufffdy" and names.get(100002) == "café",
       "/api/processes: quotes/backslash kept, invalid UTF-8 replaced by U+FFFD, UTF-8 kept",
       {k: names.get(k) for k in (100000, 100001, 100002)})
    p0 = body["processes"][0] if st == 200 and body["processes"] else {}
    ok(p0.get("pct_denominator_bytes") == MEM_BYTES + SWAP_BYTES and "SwapTotal" in p0.get("pct_denominator", ""),
       "/api/processes: says which denominator (MemTotal+SwapTotal of the host) the %% uses")
    for sort, col in SORTS.items():
        for order in ("desc", "asc"):
            want = [int(r[0]) for r in db.sql(
                "SELECT p.pid FROM processes p JOIN hosts h ON h.host_id=p.host_id WHERE h.name='%s' "
                "ORDER BY p.%s %s, p.host_id, p.pid, p.start_ns LIMIT 20 OFFSET 10" % (SEED_HOST, col, order))]
            st, _, b = get(srv.base, "/api/processes?host=%s&sort=%s&order=%s&limit=20&offset=10" %
                           (SEED_HOST, sort, order))
            got = [p["pid"] for p in b["processes"]] if st == 200 else st
            if got != want:
                ok(False, "/api/processes sort=%s order=%s page equals ORDER BY in SQL" % (sort, order),
                   (got, want))
                break
        else:
            continue
        break
    else:
        ok(True, "/api/processes: all 7 sort keys x 2 orders, page 2 equals the SQL ORDER BY")
    filters = [("pid=100003", "p.pid=100003"), ("uid=1000", "p.uid=1000"), ("user=root", "p.uid=0"),
               ("name=worker1", "LOCATE('worker1', p.comm) > 0"), ("state=alive", "p.exited=0"),
               ("state=exited", "p.exited=1"), ("uid=2000&state=alive&name=work", "p.uid=2000 AND p.exited=0 AND LOCATE('work', p.comm) > 0"),
               ("name=%27%3BDROP%20TABLE%20x--", "p.comm=X'%s'" % b"';DROP TABLE x--".hex()),
               ("name=%27%20OR%20%271%27%3D%271", "0")]
    bad = {}
    for q, where in filters:
        want = sorted(int(r[0]) for r in db.sql(
            "SELECT p.pid FROM processes p JOIN hosts h ON h.host_id=p.host_id WHERE h.name='%s' AND %s"
            % (SEED_HOST, where)))
        st, _, b = get(srv.base, "/api/processes?host=%s&limit=1000&%s" % (SEED_HOST, q))
        got = sorted(p["pid"] for p in b["processes"]) if st == 200 else st
        if got != want or (st == 200 and b["total"] != len(want)):
            bad[q] = (got, want)
    ok(not bad, "/api/processes filters (pid, uid, user, name, state, combined, injection strings) equal SQL", bad)
    seen, off = [], 0
    while off < 1000:
        st, _, b = get(srv.base, "/api/processes?host=%s&sort=pid&order=asc&limit=7&offset=%d" % (SEED_HOST, off))
        if st != 200 or not b["processes"]:
            break
        seen += [p["pid"] for p in b["processes"]]
        off += 7
    ok(seen == sorted(int(k) for k in rows), "/api/processes paging (limit 7) visits every process once, in order")
    st, _, b = get(srv.base, "/api/processes?host=nosuchhost")
    ok(st == 200 and b["total"] == 0 and b["processes"] == [], "/api/processes host selection: unknown host is empty")


def check_one(srv, db):
    row = db.sql((PROC_SQL % SEED_HOST) + " AND p.pid=100005")[0]
    series = db.sql("SELECT c.ts_ns, c.total_vm_bytes FROM calls c JOIN hosts h ON h.host_id=c.host_id "
                    "WHERE h.name='%s' AND c.pid=100005 AND c.start_ns=15 ORDER BY c.session, c.seq" % SEED_HOST)
    st, _, b = get(srv.base, "/api/processes/100005?host=%s&points=5000" % SEED_HOST)
    pts = [[str(p[0]), str(p[3])] for p in b.get("series", [])] if st == 200 else None
    ok(st == 200 and not proc_matches(b, row) and b["calls"] == len(series) and pts == series,
       "/api/processes/{pid}: totals equal the row, one series point per call (ts, VmSize as stored), %d calls"
       % len(series), (st, proc_matches(b, row) if st == 200 else b, len(series)))
    full = b.get("series", []) if st == 200 else []
    st, _, b = get(srv.base, "/api/processes/100005?host=%s&points=10" % SEED_HOST)
    got = b.get("series", []) if st == 200 else []
    ok(st == 200 and len(got) == 10 and full and got[0] == full[0] and got[-1] == full[-1] and
       all(p in full for p in got) and b.get("series_downsampled") is True,
       "/api/processes/{pid}?points=10: 10 of the exact points, first and last kept", (st, len(got)))
    st, _, b = get(srv.base, "/api/processes/4000000")
    ok(st == 404 and b.get("parameter") == "pid", "/api/processes/{pid} of an unknown pid is a JSON 404")


def check_top(srv, db):
    want = db.sql("SELECT p.pid, p.requested_bytes FROM processes p JOIN hosts h ON h.host_id=p.host_id "
                  "WHERE h.name='%s' AND p.requested_bytes > 0 ORDER BY p.requested_bytes DESC, p.host_id, "
                  "p.pid, p.start_ns LIMIT 10" % SEED_HOST)
    total = int(db.one("SELECT SUM(p.requested_bytes) FROM processes p JOIN hosts h ON h.host_id=p.host_id "
                       "WHERE h.name='%s'" % SEED_HOST))
    st, _, b = get(srv.base, "/api/top?host=%s" % SEED_HOST)
    got = [[str(t["pid"]), str(t["requested_bytes"])] for t in b["top"]] if st == 200 else st
    top_sum = sum(int(r[1]) for r in want)
    shares = sum(t["share"] for t in b["top"]) + b["others"]["share"] if st == 200 else 0
    ok(st == 200 and got == want and b["total_requested_bytes"] == total and
       b["others"]["requested_bytes"] == total - top_sum and abs(shares - 1) < 1e-9,
       "/api/top: top 10 by requested bytes + Others equal SQL; shares add up to 1", (got, want))


def check_calls(srv, db):
    want = [int(r[0]) for r in db.sql("SELECT c.cid FROM calls c JOIN hosts h ON h.host_id=c.host_id "
                                      "WHERE h.name='%s' ORDER BY c.cid DESC" % SEED_HOST)]
    got, before, pages = [], "", 0
    while pages < 100:
        st, _, b = get(srv.base, "/api/calls?host=%s&limit=1000%s" % (SEED_HOST, before))
        if st != 200:
            break
        got += [c["id"] for c in b["calls"]]
        pages += 1
        if b["next_before"] is None:
            break
        before = "&before=%d" % b["next_before"]
    ok(got == want, "/api/calls: keyset pages (1000) give every seeded call once, newest first (%d rows, %d pages)"
       % (len(got), pages), (len(got), len(want)))
    r = db.sql("SELECT c.cid, c.ts_ns, c.pid, c.syscall, c.len_bytes, HEX(c.addr), c.result, c.total_vm_bytes "
               "FROM calls c JOIN hosts h ON h.host_id=c.host_id WHERE h.name='%s' AND c.seq IN (97, 98)"
               " ORDER BY c.seq" % SEED_HOST)
    st, _, b = get(srv.base, "/api/calls?host=%s&before=%d&limit=2" % (SEED_HOST, int(r[1][0]) + 1))
    c98, c97 = b["calls"] if st == 200 else ({}, {})
    ok(c97.get("ts_ns") == int(r[0][1]) and c97.get("call") == r[0][3] and c97.get("error") == 12 and
       c97.get("ok") is False and c98.get("result") == hex(int(r[1][6])) and c98.get("addr") == "0x" + r[1][5].lower()
       and c98.get("len_bytes") == int(r[1][4]) and c98.get("vm_size_bytes") == int(r[1][7]),
       "/api/calls: row fields equal the database (failed call as error=ENOMEM, addresses as hex)", (c97, r))
    cases = [("pid=100007", "c.pid=100007"), ("call=brk", "c.syscall='brk'"),
             ("since_ns=%d&until_ns=%d" % (10**18 + 500000, 10**18 + 900000),
              "c.ts_ns >= %d AND c.ts_ns < %d" % (10**18 + 500000, 10**18 + 900000)),
             ("pid=100003&call=mmap", "c.pid=100003 AND c.syscall='mmap'")]
    bad = {}
    for q, where in cases:
        w = [int(x[0]) for x in db.sql("SELECT c.cid FROM calls c JOIN hosts h ON h.host_id=c.host_id WHERE "
                                       "h.name='%s' AND %s ORDER BY c.cid DESC LIMIT 1000" % (SEED_HOST, where))]
        st, _, b = get(srv.base, "/api/calls?host=%s&limit=1000&%s" % (SEED_HOST, q))
        g = [c["id"] for c in b["calls"]] if st == 200 else st
        if g != w:
            bad[q] = (len(g) if isinstance(g, list) else g, len(w))
    ok(not bad, "/api/calls filters pid, call, time range, combined equal SQL", bad)
    st, _, b = get(srv.base, "/api/calls")
    ok(st == 200 and len(b["calls"]) == 100, "/api/calls without limit is bounded (100 rows)")


def check_stats(srv, db):
    st, _, b = get(srv.base, "/api/stats")
    s = [x for x in b.get("sessions", []) if x["host"] == SEED_HOST] if st == 200 else []
    ok(st == 200 and s and s[0]["drops"] == 7 and s[0]["events_committed"] == 3000 and s[0]["source"] == "seed"
       and s[0]["events_per_second"] == 250.5 and s[0]["lag_ms"] == 12 and b["db_size_bytes"] > 0
       and s[0].get("skipped") == 5,
       "/api/stats: source, events/s, drops, skipped probe runs, lag of the session and the DB size", b)
    st, _, body = get(srv.base, "/metrics")
    r = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True)
    ok(st == 200 and r.returncode == 0, "/metrics passes promtool check metrics", r.stdout + r.stderr)
    text = body.decode() if isinstance(body, bytes) else ""
    ok('memprobe_drops_total{host="seedhost",session="0x2a",source="seed"} 7' in text and
       'memprobe_skipped_total{host="seedhost",session="0x2a",source="seed"} 5' in text and
       'memprobe_process_memory_held_bytes{host="seedhost",pid="100000"' not in text and
       'pid="100003",start_ns="13",name="\';DROP TABLE x--"} 2691072' in text,
       "/metrics: drop and skipped counters and per-process memory (alive processes) equal the database")
    st, _, b = get(srv.base, "/healthz")
    ok(st == 200 and b.get("status") == "ok", "/healthz: 200 ok with the database up")


def check_live(srv, db, pid):
    want = [int(r[0]) for r in db.sql("SELECT cid FROM calls WHERE pid=%d ORDER BY cid DESC" % pid)]
    st, _, b = get(srv.base, "/api/calls?pid=%d&limit=1000" % pid)
    calls = b.get("calls", []) if st == 200 else []
    # From the begin marker (mmap of length 0 -> EINVAL) to the exit record,
    # the workload's own list (tests/workload/known-calls.c): 8 mmap,
    # 6 munmap, 4 mremap, 5 brk, 1 exit; before it, the loader's calls.
    seq = sorted(calls, key=lambda c: c["seq"])
    start = next((i for i, c in enumerate(seq) if c["call"] == "mmap" and c["len_bytes"] == 0
                  and c.get("error") == 22), None)
    byc = {}
    for c in seq[start:] if start is not None else []:
        byc[c["call"]] = byc.get(c["call"], 0) + 1
    ok([c["id"] for c in calls] == want and byc == {"mmap": 8, "munmap": 6, "mremap": 4, "brk": 5, "exit": 1},
       "live known-calls via lector: /api/calls equals the DB; from its marker on, its 24 calls by kind", byc)
    row = db.sql("SELECT p.pid, p.start_ns, p.uid, HEX(p.comm), p.exited, p.net_bytes, p.mapped_bytes, "
                 "p.vm_size_bytes, p.requested_bytes, p.last_seen_ns, h.mem_total_bytes + h.swap_total_bytes "
                 "FROM processes p JOIN hosts h ON h.host_id = p.host_id WHERE p.pid=%d" % pid)[0]
    st, _, b = get(srv.base, "/api/processes?pid=%d" % pid)
    p = b["processes"][0] if st == 200 and b["processes"] else {}
    ok(p and not proc_matches(p, row) and p["state"] == "exited" and p["pct_denominator_bytes"] > 0,
       "live known-calls via lector: /api/processes row equals lector's row, exited, host denominator set",
       proc_matches(p, row) if p else b)
    st, _, b = get(srv.base, "/api/processes/%d" % pid)
    ser = b.get("series", []) if st == 200 else []
    last = ser[-1][1:] if ser else None
    ok(st == 200 and b.get("calls") == len(want) and len(ser) == len(want) and
       last == [int(row[5]), int(row[6]), int(row[7])] and b.get("series_truncated") is False,
       "live known-calls via lector: /api/processes/{pid}: %d replayed points, the last equals lector's row %s"
       % (len(want), last), (st, last, row[5:8]))


BAD = [("/api/processes?limit=0", "limit"), ("/api/processes?limit=1001", "limit"),
       ("/api/processes?limit=abc", "limit"), ("/api/processes?limit=-1", "limit"),
       ("/api/processes?limit=99999999999999999999999999", "limit"), ("/api/processes?limit=", "limit"),
       ("/api/processes?offset=-5", "offset"), ("/api/processes?offset=1000001", "offset"),
       ("/api/processes?pid=0", "pid"), ("/api/processes?pid=1%20OR%201%3D1", "pid"),
       ("/api/processes?uid=-1", "uid"), ("/api/processes?user=nosuchuser_x", "user"),
       ("/api/processes?user=a%20b", "user"), ("/api/processes?sort=bogus", "sort"),
       ("/api/processes?sort=pid%3BDROP", "sort"), ("/api/processes?order=up", "order"),
       ("/api/processes?state=zombie", "state"), ("/api/processes?name=" + "a" * 40, "name"),
       ("/api/processes?name=a%0Ab", "name"), ("/api/processes?host=a%27b", "host"),
       ("/api/processes?host=" + "h" * 200, "host"), ("/api/processes?limt=5", "limt"),
       ("/api/calls?pid=1%3BDROP%20TABLE%20calls", "pid"), ("/api/calls?call=open", "call"),
       ("/api/calls?since_ns=abc", "since_ns"), ("/api/calls?since_ns=10&until_ns=5", "until_ns"),
       ("/api/calls?before=0", "before"), ("/api/calls?limit=5000", "limit"),
       ("/api/calls?until_ns=1e9", "until_ns"), ("/api/calls?before=18446744073709551616", "before"),
       ("/api/processes/abc", "pid"), ("/api/processes/0", "pid"), ("/api/processes/-1", "pid"),
       ("/api/processes/99999999999999999999", "pid"), ("/api/processes/12?points=1", "points"),
       ("/api/processes/12?points=5001", "points"), ("/api/processes/12x", "pid"),
       ("/api/top?host=bad%20host", "host"), ("/api/top?x=1", "x"), ("/api/stats?x=1", "x"),
       ("/metrics?x=1", "x"), ("/api/events?last_event_id=abc", "last_event_id")]


def bad_input(srv):
    bad = {}
    for url, param in BAD:
        st, _, b = get(srv.base, url)
        if st != 400 or not isinstance(b, dict) or b.get("parameter") != param or not b.get("reason"):
            bad[url] = (st, b)
    ok(not bad, "%d bad-input cases: 400 with a JSON error naming the parameter and why" % len(BAD), bad)
    st, _, b = get(srv.base, "/api/events", {"Last-Event-ID": "12abc"})
    ok(st == 400 and b.get("parameter") == "Last-Event-ID", "bad Last-Event-ID header: 400 naming it")
    st, _, b = get(srv.base, "/api/nope")
    ok(st == 404 and b.get("error") == "not found", "unknown /api path: JSON 404")
    st, _, _ = get(srv.base, "/nope.html")
    ok(st == 404, "unknown static file: 404")
    r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
                        "-H", "@-", srv.base + "/api/processes"], capture_output=True,
                       input=("Authorization: %s\n" % lib.AUTH["Authorization"]).encode())
    ok(r.stdout == b"405", "POST to the read-only API: 405", r.stdout)
    st, _, _ = get(srv.base, "/api/processes?name=" + "x" * 100000)
    st2, _, _ = get(srv.base, "/healthz")
    ok(st >= 400 and st2 == 200, "a 100 KB query string is refused (%d) and the server keeps serving" % st)
    st, _, b = get(srv.base, "/api/processes?host=%s&name=%%27%%3BDROP%%20TABLE%%20x--" % SEED_HOST)
    ok(st == 200 and b["total"] == 1, "an injection string in name= is a literal: finds the one process so named")


def long_cache_keys(srv):
    """Two query strings equal in their first 400 bytes are two answers: the
    cache never hands one the other's (it keyed on 319 bytes once)."""
    pad = "host=%s&" % SEED_HOST * 30  # repeated: the first one counts
    seen, n = {}, 0
    for _ in range(5):  # back to back: within --cache-ms of each other
        for pid in (100001, 100002):
            st, _, b = get(srv.base, "/api/calls?%slimit=3&pid=%d" % (pad, pid))
            seen.setdefault(pid, set()).update(c["pid"] for c in b["calls"]) if st == 200 else None
            n += st == 200
    ok(n == 10 and seen == {100001: {100001}, 100002: {100002}},
       "/api/calls with %d-byte query strings differing at the end: each gets its own answer (cache key not"
       " truncated)" % len(pad + "limit=3&pid=100001"), (n, seen))


def run(srv, db, live_pid):
    check_processes(srv, db)
    check_one(srv, db)
    check_top(srv, db)
    check_calls(srv, db)
    check_stats(srv, db)
    if live_pid:
        check_live(srv, db, live_pid)
    bad_input(srv)
    long_cache_keys(srv)


def traversal(srv):
    bad = {}
    for t in ["/../../../../etc/passwd", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2f..%2fetc%2fpasswd",
              "/assets/../../../../etc/passwd", "/%2e%2e%5c%2e%2e%5cetc%5cpasswd", "//etc/passwd",
              "/.%2e/.%2e/.%2e/etc/passwd", "/index.html%00/../../../etc/passwd", "/api/../../etc/passwd",
              "/api/processes/12%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd"]:
        st, head, body = raw_get(srv.port, t)
        if b"root:" in body or st == 200 and b"/bin/" in body:
            bad[t] = (st, body[:80])
    ok(not bad, "path traversal (10 spellings) never reaches a file outside the static root", bad)


def static_defaults(db, conf, work):
    root = os.path.join(work, "static")
    os.makedirs(os.path.join(root, "sub"), exist_ok=True)
    open(os.path.join(root, "sub", "file.txt"), "w").write("hello\n")
    open(os.path.join(root, "x.cgi"), "w").write("#!/bin/sh\necho Content-Type: text/plain\necho\necho EXECUTED\n")
    os.chmod(os.path.join(root, "x.cgi"), 0o755)
    open(os.path.join(root, ".secret"), "w").write("s3cret\n")
    s = Server(conf, ["--static", root])
    try:
        st, _, body = raw_get(s.port, "/sub/")
        ok(b"file.txt" not in body and st != 200, "no directory listing (/sub/ -> %d)" % st)
        st, _, body = raw_get(s.port, "/x.cgi")
        ok(body.strip() != b"EXECUTED" and (st != 200 or body.startswith(b"#!/bin/sh")),
           "no CGI: a .cgi file is not executed (%d)" % st)
        st, _, body = raw_get(s.port, "/.secret")
        ok(st != 200 and b"s3cret" not in body, "hidden files are not served (%d)" % st)
        st, head, _ = raw_get(s.port, "/sub/file.txt")
        ok(st == 200, "a static file is served")
    finally:
        s.stop()
    env_dir = os.path.join(work, "nodist")
    os.makedirs(env_dir, exist_ok=True)
    p = subprocess.Popen([lib.SERVER, "--config", conf, "--port", "0", "--token-file", lib.TOKEN_FILE],
                         cwd=env_dir, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = p.stdout.readline().decode()
    port = int(line.rsplit(":", 1)[1].strip("/\n")) if "http://" in line else 0
    st, _, body = raw_get(port, "/") if port else (0, "", b"")
    ok(line.startswith("memprobe-server: listening on http://127.0.0.1:") and st == 200 and
       b"dashboard is not built" in body,
       "default listen 127.0.0.1; without frontend/dist a placeholder index is served")
    p.terminate()
    p.wait(10)


def run_cli(args, env=None, token=True):
    """The server with ARGS (and the suite's token, with --config)."""
    e = dict(os.environ)
    e.update(env or {})
    if token and "--config" in args and "--token-file" not in args:
        args = args + ["--token-file", lib.TOKEN_FILE]
    r = subprocess.run([lib.SERVER] + args, capture_output=True, env=e, timeout=20)
    return r.returncode, (r.stdout + r.stderr).decode()


def auth_and_cli(srv, db, conf):
    rc, out = run_cli(["--help"])
    ok(rc == 0 and "--expose" in out and "--token-file" in out, "--help exits 0 and documents the options")
    rc, out = run_cli(["--config", conf, "--port", "0", "--listen", "0.0.0.0"])
    ok(rc != 0 and "--expose" in out, "listening beyond loopback without --expose is refused: " + out.strip()[:90])
    rc, out = run_cli(["--config", conf, "--port", "0", "--listen", "0.0.0.0", "--expose"],
                      {"MEMPROBE_SERVER_TOKEN": ""}, token=False)
    ok(rc != 0 and "token" in out, "--expose without a token is refused: " + out.strip()[:90])
    rc, out = run_cli(["--config", conf, "--port", "0", "--sse-max", "100", "--threads", "50"])
    ok(rc != 0 and "starve" in out, "an SSE cap not below the worker threads is refused")
    rc, out = run_cli(["--config", conf, "--port", "0"], {"MEMPROBE_DB_PASSWORD": "wrong"})
    ok(rc != 0 and "cannot connect" in out and "wrong" not in out,
       "a wrong DB password: clear error, exit 1, password not echoed")
    rc, out = run_cli(["--port", "99999"])
    ok(rc != 0 and "--port" in out, "a bad --port value is refused with a message naming it")
    tok = "t0ken-" + "x" * 20
    s = Server(conf, ["--expose", "--listen", "127.0.0.1"], {"MEMPROBE_SERVER_TOKEN": tok})
    try:
        st1, _, _ = get(s.base, "/api/processes")
        st2, _, _ = get(s.base, "/api/processes", {"Authorization": "Bearer wrong-token-xxxxxxxxxx"})
        st3, _, _ = get(s.base, "/api/processes", {"Authorization": "Bearer " + tok})
        st4, _, _ = get(s.base, "/index.html")
        ok(st1 == 401 and st2 == 401 and st3 == 200 and st4 == 401,
           "exposed: no/wrong bearer token -> 401 (API and static), right token -> 200", (st1, st2, st3, st4))
    finally:
        s.stop()
    st, hdrs, _ = get(srv.base, "/api/processes", {"Origin": "http://evil.example"})
    ok(st == 200 and hdrs.get("Access-Control-Allow-Origin") is None, "no CORS header for a foreign Origin")


def security(srv, db, conf, work):
    traversal(srv)
    static_defaults(db, conf, work)
    auth_and_cli(srv, db, conf)
