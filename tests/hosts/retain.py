"""tests/hosts/retain.py - lector --retain-days, part of tests/hosts/run-tests.
Old rows (ts in 2020) are seeded for host-a and host-b, then lector runs as
host-a on the live eBPF source with --retain-days=1: host-a's old calls,
exited processes and sessions go, host-b's stay, recent rows stay, and
ingest goes on during the purge (rows keep being committed, no hole, low
lag)."""
import os, subprocess, time

from lib import ok

OLD_TS_NS = 1577836800 * 10**9  # 2020-01-01
N_OLD_A, N_OLD_B, N_RECENT_A = 150000, 20000, 3000
S_OLD, S_RECENT = 0xdead, 0xbeef


def seed_calls(db, host, session, n, ts0_ns):
    db.sql("INSERT INTO calls (host_id, session, seq, ts_ns, pid, tid, uid, start_ns, comm, thread_comm,"
           " syscall, addr, len_bytes, new_addr, new_len_bytes, offset_bytes, prot, flags, fd, result,"
           " total_vm_bytes) SELECT h.host_id, %d, s.seq, %d + s.seq * 1000, 4242, 4242, 0, 1, 'old', 'old',"
           " 'mmap', 0, 4096, 0, 0, 0, 3, 34, -1, 140000000000, 4096 FROM hosts h"
           " JOIN seq_0_to_%d s WHERE h.name = '%s'" % (session, ts0_ns, n - 1, host))


def seed(db):
    """Old rows first (low cids, as they would be), then recent ones."""
    db.sql("DELETE FROM calls; DELETE FROM processes; DELETE FROM capture_stats;")
    for host, n in (("host-a", N_OLD_A), ("host-b", N_OLD_B)):
        seed_calls(db, host, S_OLD, n, OLD_TS_NS)
        db.sql("INSERT INTO processes (host_id, pid, start_ns, uid, comm, first_seen_ns, last_seen_ns, exited,"
               " net_bytes, net_bytes_raw, mapped_bytes, vm_size_bytes, requested_bytes, heap_bytes,"
               " heap_base_bytes, heap_known, n_mmap, n_munmap, n_mremap, n_brk, n_failed)"
               " SELECT host_id, 4242, 1, 0, 'old', %d, %d, 1, 0, 0, 0, 0, 4096, 0, 0, 0, 1, 0, 0, 0, 0"
               " FROM hosts WHERE name = '%s'" % (OLD_TS_NS, OLD_TS_NS, host))
        db.sql("INSERT INTO capture_stats (host_id, session, source, committed_seq, rows_committed, seen,"
               " drops, queued, spilled_total, lag_ms, rate_eps, started_at, updated_at)"
               " SELECT host_id, %d, 'bpf', %d, %d, %d, 0, 0, 0, 0, 0, '2020-01-01', '2020-01-01'"
               " FROM hosts WHERE name = '%s'" % (S_OLD, n - 1, n, n, host))
    seed_calls(db, "host-a", S_RECENT, N_RECENT_A, time.time_ns() - 3600 * 10**9)


def count(db, where):
    return int(db.one("SELECT COUNT(*) FROM calls c JOIN hosts h ON h.host_id = c.host_id WHERE " + where))


def tests(db, work, lector):
    seed(db)
    ok(count(db, "h.name='host-a' AND session=%d" % S_OLD) == N_OLD_A and count(db, "session=%d" % S_RECENT) == N_RECENT_A,
       "retention: %d old calls of host-a, %d of host-b and %d recent of host-a seeded" % (N_OLD_A, N_OLD_B, N_RECENT_A))
    logf = open(os.path.join(work, "lector-retain.log"), "w+")
    p = subprocess.Popen([lector, "--config=" + os.path.join(db.dir, "lector.conf"), "--source=bpf",
                          "--host-id=host-a", "--retain-days=1", "--spill=" + os.path.join(work, "retain.spill")],
                         stderr=logf, stdout=subprocess.DEVNULL)
    text, session, rows_at = "", None, []
    end = time.time() + 120
    while time.time() < end and p.poll() is None:
        logf.seek(0)
        text = logf.read()
        if session is None and "(session " in text:
            session = int(text.split("(session ", 1)[1].split(")", 1)[0])
        if session is not None:
            r = db.one("SELECT rows_committed FROM capture_stats WHERE session=%d" % session)
            rows_at.append((time.time(), int(r or 0)))
        if "retention: purged" in text:
            break
        time.sleep(0.2)
    purge_line = [ln for ln in text.splitlines() if "retention: purged" in ln]
    ok(bool(purge_line) and ("purged %d calls, 1 exited processes and 1 sessions" % N_OLD_A) in purge_line[0],
       "lector --retain-days=1 logs what it purged: %s" % (purge_line[0] if purge_line else "nothing"), text[-800:])
    ok(count(db, "h.name='host-a' AND ts_ns < %d" % (time.time_ns() - 86400 * 10**9)) == 0,
       "retention: no call of host-a older than 1 day is left")
    ok(count(db, "h.name='host-b' AND session=%d" % S_OLD) == N_OLD_B,
       "retention: host-b's %d old calls are untouched (another host's data)" % N_OLD_B)
    ok(count(db, "session=%d" % S_RECENT) == N_RECENT_A,
       "retention: host-a's %d recent calls (1 hour old) are untouched" % N_RECENT_A)
    procs = db.sql("SELECT h.name FROM processes p JOIN hosts h ON h.host_id = p.host_id WHERE p.pid = 4242")
    sess = db.sql("SELECT h.name FROM capture_stats s JOIN hosts h ON h.host_id = s.host_id WHERE s.session = %d" % S_OLD)
    ok([r[0] for r in procs] == ["host-b"] and [r[0] for r in sess] == ["host-b"],
       "retention: host-a's old exited process and old session are gone, host-b's stay (%s, %s)" % (procs, sess))
    # ingest went on: committed rows grew while the purge ran, then all is in
    time.sleep(1.5)
    grew = len(rows_at) >= 2 and rows_at[-1][1] > rows_at[0][1]
    lag = db.one("SELECT lag_ms FROM capture_stats WHERE session=%d" % (session or 0))
    p.terminate()
    rc = p.wait(30)
    n_rows = db.one("SELECT COUNT(*) FROM calls WHERE session=%d" % (session or 0))
    n_comm = db.one("SELECT rows_committed FROM capture_stats WHERE session=%d" % (session or 0))
    ok(grew and rc == 0 and n_rows == n_comm and int(lag or 0) < 5000,
       "retention: ingest went on during the purge (committed %s -> %s rows in %.1f s), every committed row is"
       " there (%s of %s), lag %s ms" % (rows_at[0][1] if rows_at else "?", rows_at[-1][1] if rows_at else "?",
                                        rows_at[-1][0] - rows_at[0][0] if rows_at else 0, n_rows, n_comm, lag))
