"""tests/server/checks_sse.py - /api/events: commit-to-client latency, the
calls lector commits, resume with Last-Event-ID without gaps, heartbeats,
the capacity cap (503) and slow clients cut loose without slowing others."""
import statistics, subprocess, time
from lib import SSE, diag, get, ok, writer_tx
from seed import SEED_HOST, hx, proc_name


SEEDQ = "?host=" + SEED_HOST


def calls_sql(session, seq_from, n):
    rows = []
    for s in range(seq_from, seq_from + n):
        i = s % 20
        rows.append("(@h,%d,%d,%d,%d,%d,0,%d,%s,%s,'mmap',%d,4096,0,0,0,3,34,-1,%d,%d)" % (
            session, s, 2 * 10**18 + s, 100000 + i, 100000 + i, 10 + i, hx(proc_name(i)), hx(proc_name(i)),
            0x7e0000000000 + s * 4096, 0x7e0000000000 + s * 4096, 1 << 30))
    # A writer besides lector: cids from a lease, as lector takes them
    return writer_tx(SEED_HOST, "host_id, session, seq, ts_ns, pid, tid, uid, start_ns, comm, thread_comm, "
                     "syscall, addr, len_bytes, new_addr, new_len_bytes, offset_bytes, prot, flags, fd, result, "
                     "total_vm_bytes", rows)


def is_seed(ev, session, seq):
    return ev["event"] == "call" and ev["data"]["session"] == hex(session) and ev["data"]["seq"] == seq


def latency(srv, db):
    c = SSE(srv.port, query=SEEDQ)
    ok(c.response() == 200 and "text/event-stream" in c.head, "/api/events answers 200 text/event-stream")
    # autocommit; the "ack" line comes back once the INSERT has committed
    cli = subprocess.Popen(["mariadb", "--no-defaults", "-uroot", "--socket=" + db.sock, "--unbuffered", "-N", "-B",
                            "memprobe"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    lat, lat_send, procs = [], [], 0
    for seq in range(20):
        t0 = time.time()
        cli.stdin.write((calls_sql(43, seq, 1) + " SELECT 'ack';\n").encode())
        cli.stdin.flush()
        cli.stdout.readline()
        t_commit = time.time()
        evs = c.events(2, until=lambda e, s=seq: is_seed(e, 43, s))
        procs += sum(1 for e in evs if e["event"] == "process" and e["data"]["pid"] == 100000 + seq % 20)
        if evs and is_seed(evs[-1], 43, seq):
            lat.append(max(0.0, evs[-1]["t"] - t_commit) * 1000)
            lat_send.append((evs[-1]["t"] - t0) * 1000)
        time.sleep(0.02)
    cli.stdin.close()
    cli.wait()
    ok(len(lat) == 20 and max(lat) <= 250,
       "SSE delivers each of 20 calls within 250 ms of commit (max %.1f ms; from sending the INSERT: p50 %.1f,"
       " max %.1f ms)" % (max(lat) if lat else -1, statistics.median(lat_send) if lat else -1,
                          max(lat_send) if lat else -1))
    ok(procs == 20, "SSE sends the changed process row with each call's batch (%d/20)" % procs)
    return c


def resume(srv, db, c):
    evs = c.events(0.3)
    ids = [int(e["id"]) for e in c.events(0.1) if e["id"]] or [int(e["id"]) for e in evs if e["id"]]
    last = int(db.one("SELECT MAX(cid) FROM calls WHERE session=43"))
    c.close()
    db.sql(calls_sql(43, 20, 50))
    c2 = SSE(srv.port, last_id=last, query=SEEDQ)
    c2.response()
    evs = c2.events(5, until=lambda e: is_seed(e, 43, 69))
    got = [int(e["id"]) for e in evs if e["event"] == "call"]
    want = [int(r[0]) for r in db.sql("SELECT c.cid FROM calls c JOIN hosts h ON h.host_id=c.host_id WHERE "
                                      "h.name='%s' AND c.cid > %d AND c.cid <= %d ORDER BY c.cid"
                                      % (SEED_HOST, last, got[-1] if got else last))]
    ok(got and got == want and evs[-1]["data"]["seq"] == 69,
       "reconnect with Last-Event-ID: the %d calls committed while away, in order, no gap, no duplicate"
       % len(want), (got[:5], want[:5], len(got), len(want)))
    c2.close()
    del ids


def heartbeat(srv):
    c = SSE(srv.port, query=SEEDQ)
    c.response()
    c.events(1.2)
    ok(any(b.startswith(b": heartbeat") for b in c.comments), "an idle stream gets heartbeats (period 300 ms)")
    c.close()


def capacity(srv):
    time.sleep(0.7)  # earlier clients are gone once a heartbeat fails
    cs = []
    for _ in range(4):
        x = SSE(srv.port)
        x.response()
        cs.append(x)
    extra = SSE(srv.port)
    st = extra.response()
    body = extra.buf.decode("utf-8", "replace")
    ok(all(x.status == 200 for x in cs) and st == 503 and "capacity" in body,
       "past --sse-max 4 the next event client gets 503 saying so", (st, body[:200]))
    extra.close()
    t0 = time.time()
    st, _, b = get(srv.base, "/api/processes?limit=5")
    ok(st == 200 and time.time() - t0 < 1, "REST answers while the event cap is reached (%.0f ms)" %
       ((time.time() - t0) * 1000))
    cs.pop().close()
    st = 0
    for _ in range(30):
        y = SSE(srv.port)
        st = y.response()
        y.close() if st != 200 else None
        if st == 200:
            cs.append(y)
            break
        time.sleep(0.1)
    ok(st == 200, "a closed client frees its slot for a new one")
    for x in cs:
        x.close()
    time.sleep(0.7)  # heartbeats notice the closed sockets


def slow_client(srv, db):
    fast = SSE(srv.port, query=SEEDQ)
    slow = SSE(srv.port, rcvbuf_bytes=2048, query=SEEDQ)
    fast.response()
    slow.response()
    before = get(srv.base, "/api/stats")[2]["server"]["sse_clients_cut_total"]
    n = 20000
    t0 = time.time()
    ins = subprocess.Popen(["mariadb", "--no-defaults", "-uroot", "--socket=" + db.sock, "memprobe"],
                           stdin=subprocess.PIPE)  # the fast client reads while it runs
    ins.stdin.write(calls_sql(44, 0, n).encode())
    ins.stdin.close()
    evs = fast.drain(60, b'"session":"0x2c","seq":%d,' % (n - 1))
    ins.wait()
    t_fast = time.time() - t0
    seqs = [e["data"]["seq"] for e in evs if e["event"] == "call" and e["data"]["session"] == hex(44)]
    after = get(srv.base, "/api/stats")[2]["server"]["sse_clients_cut_total"]
    ok(seqs == list(range(n)), "a fast client gets all %d calls of a burst in order (%.1f s)" % (n, t_fast),
       (len(seqs), seqs[:3], seqs[-3:]))
    ok(after > before, "a client that does not read is cut loose (cut counter %d -> %d)" % (before, after))
    got = slow.events(5)
    slow_ids = [int(e["id"]) for e in got if e["event"] == "call"]
    last = slow_ids[-1] if slow_ids else int(db.one("SELECT MIN(cid) FROM calls WHERE session=44")) - 1
    again = SSE(srv.port, last_id=last, query=SEEDQ)
    again.response()
    rest = again.events(30, until=lambda e: is_seed(e, 44, n - 1))
    ids = slow_ids + [int(e["id"]) for e in rest if e["event"] == "call"]
    want = [int(r[0]) for r in db.sql("SELECT cid FROM calls WHERE session=44 ORDER BY cid")]
    ok(slow.closed and [i for i in ids if i >= want[0]] == want,
       "the cut client resumes with Last-Event-ID and gets the rest: %d + %d calls, none lost"
       % (len(slow_ids), len(rest)))
    for x in (fast, slow, again):
        x.close()


def live(srv, db, lector_pid):
    proc, _ = lector_pid
    c = SSE(srv.port, query="?name=known-calls")
    c.response()
    import os, tempfile
    from lib import BUILD
    exp = tempfile.mktemp()
    w = subprocess.Popen([os.path.join(BUILD, "workload/known-calls"), exp])
    # lector may lag behind other load on the machine: wait for its commit
    evs = c.events(90, until=lambda e: e["event"] == "call" and e["data"]["pid"] == w.pid and e["data"]["call"] == "exit")
    w.wait()
    mine = [int(e["id"]) for e in evs if e["event"] == "call" and e["data"]["pid"] == w.pid]
    want = [int(r[0]) for r in db.sql("SELECT cid FROM calls WHERE pid=%d ORDER BY cid" % w.pid)]
    ok(len(mine) >= 24 and mine == want,
       "SSE streams every call lector commits for a live workload (%d calls, its exit included)" % len(mine),
       (len(mine), len(want)))
    c.close()
    os.unlink(exp)
    stop_lector(proc)


def stop_lector(proc):
    """SIGTERM (lector commits its queue), SIGKILL after 60 s."""
    proc.terminate()
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        diag("lector did not stop within 60 s after SIGTERM: killed")
        proc.kill()
        proc.wait()


def run(srv, db, live_info):
    if live_info:
        live(srv, db, live_info)
    c = latency(srv, db)
    rest_freshness(srv, db)
    resume(srv, db, c)
    heartbeat(srv)
    capacity(srv)
    slow_client(srv, db)


def rest_freshness(srv, db):
    """The response cache may lag by --cache-ms (100) plus a poll: bounded."""
    get(srv.base, "/api/calls?host=%s&limit=1" % SEED_HOST)
    db.sql(calls_sql(45, 0, 1))
    cid = int(db.one("SELECT MAX(cid) FROM calls WHERE session=45"))
    t0, got = time.time(), None
    while time.time() - t0 < 3:
        st, _, b = get(srv.base, "/api/calls?host=%s&limit=1" % SEED_HOST)
        got = b["calls"][0]["id"] if st == 200 and b["calls"] else None
        if got == cid:
            break
        time.sleep(0.01)
    dt = (time.time() - t0) * 1000
    ok(got == cid and dt < 500, "REST shows a newly committed call within 500 ms despite the cache (%.0f ms)" % dt)


MANY_HOSTS = ["manyproc-a", "manyproc-b", "manyproc-c"]
MANY_START = 1700000000000000001  # above 2**53: a double would round it


def many_procs_sql(n_per_host):
    out = []
    for hi, host in enumerate(MANY_HOSTS):
        out.append("INSERT INTO hosts (name, mem_total_bytes, swap_total_bytes) VALUES ('%s', %d, 0);"
                   % (host, 1 << 33))
        out.append("SET @h = (SELECT host_id FROM hosts WHERE name='%s');" % host)
        out.append("INSERT INTO processes (host_id, pid, start_ns, uid, comm, first_seen_ns, last_seen_ns, exited,"
                   " net_bytes, net_bytes_raw, mapped_bytes, vm_size_bytes, requested_bytes, heap_bytes,"
                   " heap_base_bytes, heap_known, n_mmap, n_munmap, n_mremap, n_brk, n_failed) VALUES %s;"
                   % ",".join("(@h,%d,%d,0,'mp%d',1,2,0,%d,%d,0,0,0,0,0,0,%d,0,0,0,0)"
                              % (7000 + i, MANY_START + 2 * i, hi * 1000 + i, 4096 * i, 4096 * i, i)
                              for i in range(n_per_host)))
    return "\n".join(out)


def many_calls_sql(n_per_host, rounds):
    """ROUNDS calls of each process of the three hosts, in one transaction."""
    rows = []
    for r in range(rounds):
        for hi, host in enumerate(MANY_HOSTS):
            for i in range(n_per_host):
                s = (r * len(MANY_HOSTS) + hi) * n_per_host + i
                rows.append("((SELECT host_id FROM hosts WHERE name='%s'),77,%d,%d,%d,%d,0,%d,'mp%d','mp%d','mmap',"
                            "%d,4096,0,0,0,3,34,-1,%d,%d)" % (
                                host, s, 3 * 10**18 + s, 7000 + i, 7000 + i, MANY_START + 2 * i, hi * 1000 + i,
                                hi * 1000 + i, 0x7d0000000000 + s * 4096, 0x7d0000000000 + s * 4096, 1 << 30))
    return writer_tx(MANY_HOSTS[0], "host_id, session, seq, ts_ns, pid, tid, uid, start_ns, comm, thread_comm, "
                     "syscall, addr, len_bytes, new_addr, new_len_bytes, offset_bytes, prot, flags, fd, result, "
                     "total_vm_bytes", rows)


def many_processes(srv, db):
    """One poll that touches 300 processes of 3 hosts (the poller reads
    their rows in one query, not one per process): every process row once,
    before the calls, each call once and in cid order; start_ns exact."""
    n, rounds = 100, 2
    db.sql(many_procs_sql(n))
    c = SSE(srv.port)
    c.response()
    db.sql(many_calls_sql(n, rounds))  # one commit: one poll reads them all
    want = [int(r[0]) for r in db.sql("SELECT c.cid FROM calls c JOIN hosts h ON h.host_id = c.host_id WHERE"
                                      " h.name LIKE 'manyproc-%' ORDER BY c.cid")]
    evs = c.events(15, until=lambda e: e["event"] == "call" and int(e["id"]) == want[-1])
    c.close()
    mine = [e for e in evs if e["data"].get("host") in MANY_HOSTS]
    calls = [int(e["id"]) for e in mine if e["event"] == "call"]
    procs = [(e["data"]["host"], e["data"]["pid"], e["data"]["start_ns"], e["data"]["name"])
             for e in mine if e["event"] == "process"]
    expect = {(h, 7000 + i, str(MANY_START + 2 * i), "mp%d" % (hi * 1000 + i))
              for hi, h in enumerate(MANY_HOSTS) for i in range(n)}
    kinds = [e["event"] for e in mine]
    before = "call" in kinds and "process" not in kinds[kinds.index("call"):]
    first = []  # the order the processes first appear in among the calls: the rows' order
    for e in mine:
        k = (e["data"]["host"], e["data"]["pid"])
        if e["event"] == "call" and k not in first:
            first.append(k)
    before = before and [p[:2] for p in procs] == first
    ok(len(procs) == len(set(procs)) == 3 * n and set(procs) == expect,
       "a batch touching %d processes of 3 hosts sends each process row once, exact (%d rows, %d distinct)"
       % (3 * n, len(procs), len(set(procs))), sorted(expect - set(procs))[:5])
    ok(calls == want and len(want) == 3 * n * rounds and before,
       "... and its %d calls once each, in cid order, after all the process rows (%d got, rows first and in the calls' order: %s)"
       % (len(want), len(calls), before), (calls[:3], want[:3]))
