"""tests/server/checks_starve.py - a server that cannot be raced or starved:
concurrent first requests on fresh servers all get right answers; with
every pooled connection held by slow queries a request gets 503 +
Retry-After within the pool wait and /healthz stays 200; a resume deeper
than --sse-resume-max gets one reset event, not the table; points= is
quantised so its spellings share one cache entry; process-series replays
never take the whole pool."""
import json, os, socket, subprocess, threading, time
from lib import SSE, Server, diag, get, head_lines, ok
from seed import BIG_HOST, BIG_PID, SEED_HOST, SERIES_HOST, SERIES_PID, SERIES_START

FIRST_ROUNDS = int(os.environ.get("MP_FIRST_ROUNDS", "100"))
FIRST_PATHS = 2 * (["/api/processes?host=%s&sort=%s&order=%s&limit=5" % (SEED_HOST, s, o)
                for s in ("net", "mapped", "vm", "requested", "pid", "name", "last_seen") for o in ("desc", "asc")]
               + ["/api/calls?host=%s&limit=5" % SEED_HOST, "/api/calls?host=%s&pid=100003&limit=5" % SEED_HOST])


def one_request(port, path, gate, out, i):
    """Connect first, then send when the gate opens: the requests reach a
    fresh server together."""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        gate.wait(10)
        s.sendall(("GET %s HTTP/1.1\r\n%sConnection: close\r\n\r\n" % (path, head_lines(port))).encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        head, _, body = data.partition(b"\r\n\r\n")
        out[i] = (int(head.split(b" ")[1]), json.loads(body))
    except (OSError, ValueError, IndexError, threading.BrokenBarrierError) as e:
        out[i] = (0, repr(e))


def concurrent_first(conf):
    """The race is a few microseconds wide: many fresh servers (killed after
    their round: a clean stop takes CivetWeb up to 2 s)."""
    want = None
    bad, n = [], 0
    for r in range(FIRST_ROUNDS):
        srv = Server(conf, ["--cache-ms", "0", "--threads", "48", "--sse-max", "8", "--db-pool", "8"])
        try:
            gate = threading.Barrier(len(FIRST_PATHS))
            out = [None] * len(FIRST_PATHS)
            ts = [threading.Thread(target=one_request, args=(srv.port, p, gate, out, i))
                  for i, p in enumerate(FIRST_PATHS)]
            for t in ts:
                t.start()
            for t in ts:
                t.join(20)
            if want is None:  # one at a time, on the same server, afterwards
                want = [get(srv.base, p)[2] for p in FIRST_PATHS]
        finally:
            srv.p.kill()
            srv.p.wait(10)
        for i, (st, body) in enumerate(o if o else (0, None) for o in out):
            n += 1
            if st != 200 or body != want[i]:
                bad.append((r, FIRST_PATHS[i], st, str(body)[:120]))
    ok(not bad, "%d fresh servers x %d concurrent first requests (every sort, order and calls plan): all %d"
       " answers 200 and equal to the sequential ones" % (FIRST_ROUNDS, len(FIRST_PATHS), n), bad[:5])


class Locker:
    """A client session holding LOCK TABLES t WRITE until release()."""

    def __init__(self, db, table):
        self.p = subprocess.Popen(["mariadb", "--no-defaults", "-uroot", "--socket=" + db.sock, "--unbuffered", "-N",
                                   "-B", "memprobe"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.p.stdin.write(("LOCK TABLES %s WRITE; SELECT 'locked';\n" % table).encode())
        self.p.stdin.flush()
        self.p.stdout.readline()

    def release(self):
        if self.p.poll() is None:
            self.p.stdin.write(b"UNLOCK TABLES;\n")
            self.p.stdin.close()
            self.p.wait(10)


def waiting_on_lock(db, n, timeout_s=5):
    """Until N queries wait for a table lock (bounded)."""
    end = time.time() + timeout_s
    while time.time() < end:
        if int(db.one("SELECT COUNT(*) FROM information_schema.processlist WHERE state LIKE "
                      "'Waiting for table%lock'")) >= n:
            return True
        time.sleep(0.05)
    return False


def in_thread(fn, *args):
    box = {}
    t = threading.Thread(target=lambda: box.update(r=fn(*args), t=time.time()), daemon=True)
    t.start()
    return t, box


def pool_exhausted(db, conf):
    srv = Server(conf, ["--db-pool", "2", "--db-wait-ms", "300", "--cache-ms", "0"])
    lock = Locker(db, "processes")
    slow = []
    try:
        slow = [in_thread(get, srv.base, "/api/processes?limit=1&sort=" + s) for s in ("pid", "name")]
        held = waiting_on_lock(db, 2)
        t0 = time.time()
        third = in_thread(get, srv.base, "/api/top")
        hz = in_thread(get, srv.base, "/healthz", None, False)
        third[0].join(3)
        hz[0].join(3)
        st, hdrs, body = third[1].get("r", (0, None, None))
        dt = third[1].get("t", time.time()) - t0
        hz_st = hz[1].get("r", (0,))[0]
        hz_dt = hz[1].get("t", time.time()) - t0
    finally:
        lock.release()
    for t, _ in slow:
        t.join(10)
    slow_st = [b.get("r", (0,))[0] for _, b in slow]
    srv.stop()
    ok(held and st == 503 and hdrs is not None and hdrs.get("Retry-After") == "1" and 0.25 <= dt <= 1.5 and
       isinstance(body, dict) and "busy" in body.get("reason", ""),
       "both pooled connections held by slow queries (--db-pool 2): a third request gets 503 + Retry-After"
       " after the 300 ms pool wait (%.2f s)" % dt, (held, st, body))
    ok(hz_st == 200 and hz_dt < 1, "... and /healthz answers 200 meanwhile (%.0f ms): it needs no pooled"
       " connection" % (hz_dt * 1000), hz_st)
    ok(slow_st == [200, 200], "the slow queries complete once the lock goes (%s)" % slow_st)


def deep_resume(db, conf):
    hw = int(db.one("SELECT MAX(cid) FROM calls"))
    srv = Server(conf, ["--sse-resume-max", "100"])
    try:
        c = SSE(srv.port, last_id=hw - 50)
        c.response()
        evs = c.events(3, until=lambda e: e["id"] and int(e["id"]) >= hw)
        c.close()
        got = [int(e["id"]) for e in evs if e["event"] == "call"]
        want = [int(r[0]) for r in db.sql("SELECT cid FROM calls WHERE cid > %d AND cid <= %d ORDER BY cid"
                                          % (hw - 50, hw))]
        ok(got == want and not [e for e in evs if e["event"] == "reset"],
           "a resume 50 ids back (--sse-resume-max 100) replays those calls, in order", (got[:3], want[:3]))
        for how in ("Last-Event-ID: 1", "?last_event_id=1"):
            c = SSE(srv.port, last_id=1) if how.startswith("Last") else SSE(srv.port, query="?last_event_id=1")
            c.response()
            evs = c.events(1)
            c.close()
            first = evs[0] if evs else {}
            ok(first.get("event") == "reset" and int(first.get("id") or 0) == hw and
               first["data"].get("live_from") == hw and first["data"].get("last_event_id") == 1 and
               not [e for e in evs if e["event"] == "call" and int(e["id"]) <= hw],
               "a resume deeper than --sse-resume-max (%s): one reset event whose id is the live edge, no replay"
               % how, evs[:2])
        st, _, b = get(srv.base, "/api/stats")
        ok(st == 200 and b["server"].get("sse_resets_total") == 2, "/api/stats counts the resets",
           b.get("server") if st == 200 else st)
    finally:
        srv.stop()
    srv = Server(conf)
    try:
        deep = hw > 20001
        c = SSE(srv.port, last_id=1)
        c.response()
        t0 = time.time()
        evs = c.events(5, until=lambda e: e["event"] in ("reset", "call"))
        c.close()
        ok(deep and evs and evs[0]["event"] == "reset" and time.time() - t0 < 2,
           "default depth 20000: Last-Event-ID: 1 on a %d-call table gets the reset at once, not the table" % hw,
           evs[:1])
    finally:
        srv.stop()


def points_cached(db, conf):
    """points= spellings that round to the same step share one cache entry:
    a row changed without a new call (no new cid) is not seen through them."""
    srv = Server(conf)
    base = "/api/processes/%d?host=%s&start_ns=%d" % (SERIES_PID, SERIES_HOST, SERIES_START)
    try:
        st1, _, a = get(srv.base, base + "&points=300")
        db.sql("UPDATE processes SET comm='renamed' WHERE pid=%d AND start_ns=%d" % (SERIES_PID, SERIES_START))
        got = [get(srv.base, "/api/processes/%d?%s" % (SERIES_PID, q)) for q in
               ("points=250&start_ns=%d&host=%s" % (SERIES_START, SERIES_HOST),
                "host=%s&start_ns=%d&points=299&points=7" % (SERIES_HOST, SERIES_START))]
        st3, _, c = get(srv.base, base + "&points=2")
    finally:
        db.sql("UPDATE processes SET comm='series' WHERE pid=%d AND start_ns=%d" % (SERIES_PID, SERIES_START))
        srv.stop()
    ok(st1 == 200 and a.get("points") == 200 and all(g[0] == 200 and g[2] == a for g in got) and
       st3 == 200 and c.get("name") == "renamed" and len(c.get("series", [])) == 2,
       "points= is rounded down to 1-2-5 steps (300 -> 200): spellings of the same step share one cache"
       " entry; another step is its own", (st1, a.get("points"), [g[2].get("name") for g in got], c.get("name")))


def series_bounded(db, conf):
    srv = Server(conf, ["--db-pool", "4"])  # one replay at a time
    lock = Locker(db, "calls")
    try:
        first = in_thread(get, srv.base, "/api/processes/%d?host=%s" % (BIG_PID, BIG_HOST))
        held = waiting_on_lock(db, 1)
        t0 = time.time()
        st, hdrs, b = get(srv.base, "/api/processes/%d?host=%s&start_ns=%d" % (SERIES_PID, SERIES_HOST,
                                                                             SERIES_START))
        dt = time.time() - t0
        st_top = get(srv.base, "/api/top")[0]
    finally:
        lock.release()
    first[0].join(10)
    srv.stop()
    ok(held and st == 503 and hdrs.get("Retry-After") == "1" and "replayed" in b.get("reason", "") and dt < 1 and
       st_top == 200 and first[1].get("r", (0,))[0] == 200,
       "--db-pool 4: a second process series while one replays gets 503 + Retry-After at once (%.0f ms); other"
       " requests still have connections; the first completes" % (dt * 1000), (held, st, b, st_top))


def run(db, conf):
    concurrent_first(conf)
    pool_exhausted(db, conf)
    deep_resume(db, conf)
    points_cached(db, conf)
    series_bounded(db, conf)
    diag("starvation checks done")
