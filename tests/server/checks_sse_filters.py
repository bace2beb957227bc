"""tests/server/checks_sse_filters.py - /api/events with filters and wide
batches: a filtered resume whose newest call does not match still reaches
the live stream (and frees its slot), filtered clients get heartbeats only
on the heartbeat period, and a batch touching more than 256 processes sends
the process row of every one of them (live and on resume)."""
import subprocess, time
from lib import SSE, get, ok, writer_tx
from seed import SEED_HOST, hx, proc_name, seed_sql
from checks_sse import calls_sql, is_seed

WIDE_HOST, WIDE_SESSION, WIDE_PIDS, WIDE_PID_BASE = "widehost", 77, 300, 200000


def wide_calls_sql(seq_from, n):
    """N calls of the wide host, one per process (call seq s: process s % WIDE_PIDS)."""
    rows = []
    for s in range(seq_from, seq_from + n):
        i = s % WIDE_PIDS
        rows.append("(@h,%d,%d,%d,%d,%d,0,%d,%s,%s,'mmap',%d,4096,0,0,0,3,34,-1,%d,%d)" % (
            WIDE_SESSION, s, 3 * 10**18 + s, WIDE_PID_BASE + i, WIDE_PID_BASE + i, 10 + i, hx(proc_name(i)),
            hx(proc_name(i)), 0x7d0000000000 + s * 4096, 0x7d0000000000 + s * 4096, 1 << 30))
    # cids from a lease, as lector takes them: see calls_sql
    return writer_tx(WIDE_HOST, "host_id, session, seq, ts_ns, pid, tid, uid, start_ns, comm, thread_comm, "
                     "syscall, addr, len_bytes, new_addr, new_len_bytes, offset_bytes, prot, flags, fd, result, "
                     "total_vm_bytes", rows)


def procs_before_calls(evs):
    """(calls seen, calls whose process event came earlier in the stream)."""
    seen, calls, covered = set(), 0, 0
    for e in evs:
        if e["event"] == "process":
            seen.add(e["data"]["pid"])
        elif e["event"] == "call":
            calls += 1
            covered += e["data"]["pid"] in seen
    return calls, covered


def wide_batch(srv, db):
    """300 calls of 300 processes committed at once: one batch, 300 process rows."""
    db.sql(seed_sql(n_procs=WIDE_PIDS, n_calls=0, session=WIDE_SESSION, host=WIDE_HOST, pid_base=WIDE_PID_BASE))
    c = SSE(srv.port, query="?host=" + WIDE_HOST)
    c.response()
    db.sql(wide_calls_sql(0, WIDE_PIDS))
    last = lambda e: e["event"] == "call" and e["data"]["seq"] == WIDE_PIDS - 1  # noqa: E731
    calls, covered = procs_before_calls(c.events(10, until=last))
    c.close()
    ok(calls == WIDE_PIDS and covered == WIDE_PIDS,
       "SSE live: a batch touching %d processes sends every one's process row before its calls (%d/%d)"
       % (WIDE_PIDS, covered, calls))
    first = int(db.one("SELECT MIN(cid) FROM calls WHERE session=%d" % WIDE_SESSION))
    c = SSE(srv.port, last_id=first - 1, query="?host=" + WIDE_HOST)
    c.response()
    calls, covered = procs_before_calls(c.events(10, until=last))
    c.close()
    ok(calls == WIDE_PIDS and covered == WIDE_PIDS,
       "SSE resume: the catch-up also sends all %d process rows (%d/%d)" % (WIDE_PIDS, covered, calls))


def sse_clients_settle(srv, want=0):
    """sse_clients once it reaches WANT (closed clients are noticed at their
    next heartbeat, 300 ms), or what it still is after 3 s."""
    n = -1
    for _ in range(30):
        st, _, b = get(srv.base, "/api/stats")
        n = b["server"]["sse_clients"] if st == 200 else -1
        if n == want:
            break
        time.sleep(0.1)
    return n


def resume_filter_miss(srv, db):
    """Resume with a filter when the newest call at connect time does not
    match: the catch-up ends, the live stream follows, the slot is freed."""
    base = sse_clients_settle(srv)
    db.sql(calls_sql(46, 0, 5) + wide_calls_sql(WIDE_PIDS, 1))  # the newest call: the wide host
    last = int(db.one("SELECT MIN(cid) FROM calls WHERE session=46")) - 1
    qs = ("?host=" + SEED_HOST, "?pid=100002")
    cs = [SSE(srv.port, last_id=last, query=q) for q in qs]
    caught = []
    for c, s in zip(cs, (4, 2)):
        c.response()
        caught.append([e["data"]["seq"] for e in c.events(3, until=lambda e, s=s: is_seed(e, 46, s))
                       if e["event"] == "call"])
    db.sql(calls_sql(46, 20, 5))
    live = [[e["data"]["seq"] for e in c.events(5, until=lambda e, s=s: is_seed(e, 46, s)) if e["event"] == "call"]
            for c, s in zip(cs, (24, 22))]
    for c in cs:
        c.events(1.0)
    beats = [sum(1 for b in c.comments if b.startswith(b": heartbeat")) for c in cs]
    ok(caught == [[0, 1, 2, 3, 4], [2]] and live == [[20, 21, 22, 23, 24], [22]] and min(beats) > 0,
       "resume with host=/pid= filters when the newest call does not match: catch-up, then live calls and "
       "heartbeats", (caught, live, beats))
    for c in cs:
        c.close()
    n = sse_clients_settle(srv)
    ok(base == 0 and n == 0, "those clients' slots are freed after they leave (%d clients before, %d after)"
       % (base, n))


def filtered_heartbeats(srv, db):
    """Batches this client's filter excludes are no reason for a heartbeat."""
    c = SSE(srv.port, query="?host=" + SEED_HOST + "&pid=100019")
    c.response()
    c.events(0.1)
    c.comments = []
    n, sql = 40, []
    for k in range(n):  # one commit each, ~25 ms apart: ~40 poller batches
        sql.append(wide_calls_sql(2000 + k, 1) + " DO SLEEP(0.025);")
    t0 = time.time()
    p = subprocess.Popen(["mariadb", "--no-defaults", "-uroot", "--socket=" + db.sock, "memprobe"],
                         stdin=subprocess.PIPE)
    p.stdin.write("\n".join(sql).encode())
    p.stdin.close()
    while p.poll() is None:
        c.events(0.1)
    c.events(0.1)
    dt = time.time() - t0
    beats = sum(1 for b in c.comments if b.startswith(b": heartbeat"))
    c.close()
    ok(1 <= beats <= dt / 0.3 + 2,
       "a filtered client gets heartbeats on the 300 ms period only, not on each of %d excluded batches "
       "(%d in %.2f s)" % (n, beats, dt))


def run(srv, db):
    time.sleep(0.7)  # earlier clients are gone once a heartbeat fails
    wide_batch(srv, db)
    resume_filter_miss(srv, db)
    filtered_heartbeats(srv, db)
