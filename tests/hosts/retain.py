"""tests/hosts/retain.py - lector --retain-days, part of tests/hosts/run-tests.
Old rows (ts in 2020) are seeded for host-a and host-b, then lector runs as
host-a on the live eBPF source with --retain-days=1: host-a's old calls,
exited processes and sessions go, host-b's stay, recent rows stay, and
ingest goes on during the purge (rows keep being committed, no hole, low
lag).  Then the bounds (bounds_tests): 36500 days, the largest accepted
value and one day past the epoch purge nothing; the longest horizon that
still ends after the epoch purges exactly the rows just older than it."""
import os, subprocess, time

from lib import ok

OLD_TS_NS = 1577836800 * 10**9  # 2020-01-01
N_OLD_A, N_OLD_B, N_RECENT_A = 150000, 20000, 3000
S_OLD, S_RECENT = 0xdead, 0xbeef
DAY_NS = 86400 * 10**9
EDGE_SESSIONS = (0xed01, 0xed02, 0xed03, 0xed04)  # older, newer, 2020, recent
EDGE_PIDS = (4301, 4302, 4303, 4304)


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
    seed_names(db)
    seed_snapshots(db)


def seed_snapshots(db):
    """A host snapshot of one process (migration 022) per host in 2020, two
    for host-a, and one of host-a an hour ago."""
    db.sql("DELETE FROM snapshots")
    recent = time.time_ns() - 3600 * 10**9
    for host, ts in (("host-a", OLD_TS_NS), ("host-a", OLD_TS_NS + 1000), ("host-b", OLD_TS_NS),
                     ("host-a", recent)):
        db.sql("INSERT INTO snapshots (host_id, ts_ns, session, seq, pid, start_ns, last_seen_ns, uid, comm,"
               " exited, net_bytes_raw, mapped_bytes, vm_size_bytes, requested_bytes, heap_bytes, heap_base_bytes,"
               " heap_known, n_mmap, n_munmap, n_mremap, n_brk, n_failed, rss_anon_bytes, rss_file_bytes,"
               " rss_shmem_bytes, swap_bytes, rss_ts_ns, cgroup_id) SELECT host_id, %d, %d, 1, 4242, 1, %d, 0,"
               " 'old', 0, 4096, 4096, 4096, 4096, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 FROM hosts"
               " WHERE name = '%s'" % (ts, S_OLD, ts, host))


def snapshots_left(db, host):
    return db.one("SELECT COUNT(*) FROM snapshots s JOIN hosts h ON h.host_id = s.host_id WHERE h.name = '%s'"
                  " AND s.ts_ns < %d" % (host, time.time_ns() - 86400 * 10**9))


NAME_IDS = (9101, 9102, 9103)  # cgroup/inode ids: old, old but held by a live process, recent


def seed_names(db):
    """OOM kills, cgroup and file names of both hosts: from 2020, and from
    an hour ago; the 2020 cgroup 9102 is held by a process that exited an
    hour ago (kept: its calls are after the cutoff)."""
    db.sql("DELETE FROM oom_kills; DELETE FROM cgroups; DELETE FROM files;")
    recent = time.time_ns() - 3600 * 10**9
    for host in ("host-a", "host-b"):
        for i, ts in zip(NAME_IDS, (OLD_TS_NS, OLD_TS_NS, recent)):
            db.sql("INSERT INTO oom_kills (host_id, session, seq, ts_ns, pid, start_ns, uid, comm, cgroup_id,"
                   " rss_anon_bytes, rss_file_bytes, rss_shmem_bytes, swap_bytes, total_vm_bytes)"
                   " SELECT host_id, %d, 0, %d, %d, 1, 0, 'victim', 1, 0, 0, 0, 0, 0 FROM hosts WHERE name = '%s'"
                   % (i, ts, i, host))
            db.sql("INSERT INTO cgroups (host_id, cgroup_id, path, name, kind, resolved_ns) SELECT host_id, %d,"
                   " '/c%d', 'c%d', 'cgroup', %d FROM hosts WHERE name = '%s'" % (i, i, i, ts, host))
            db.sql("INSERT INTO files (host_id, file_dev, file_ino, path, how, resolved_ns) SELECT host_id, 1, %d,"
                   " '/f%d', 'maps', %d FROM hosts WHERE name = '%s'" % (i, i, ts, host))
        db.sql("INSERT INTO processes (host_id, pid, start_ns, uid, comm, first_seen_ns, last_seen_ns, exited,"
               " net_bytes, net_bytes_raw, mapped_bytes, vm_size_bytes, requested_bytes, heap_bytes,"
               " heap_base_bytes, heap_known, n_mmap, n_munmap, n_mremap, n_brk, n_failed, cgroup_id)"
               " SELECT host_id, 4243, 1, 0, 'holder', %d, %d, 1, 0, 0, 0, 0, 4096, 0, 0, 0, 1, 0, 0, 0, 0, %d"
               " FROM hosts WHERE name = '%s'" % (recent, recent, NAME_IDS[1], host))


def names_left(db, host):
    """The seeded ids still in oom_kills (by session), cgroups and files."""
    j = " t JOIN hosts h ON h.host_id = t.host_id WHERE h.name = '%s' AND " % host
    ids = ",".join(map(str, NAME_IDS))
    return tuple(tuple(sorted(int(r[0]) for r in db.sql("SELECT %s FROM %s" % (col, table) + j + col + " IN (%s)" % ids)))
                 for table, col in (("oom_kills", "session"), ("cgroups", "cgroup_id"), ("files", "file_ino")))


def seed_edges(db, host, cutoff_ns):
    """Calls, exited processes and sessions of HOST one hour either side of
    cutoff_ns, from 2020 and from an hour ago; returns the counts by kind."""
    hour = 3600 * 10**9
    db.sql("INSERT IGNORE INTO hosts (name) VALUES ('%s')" % host)
    db.sql("DELETE c FROM calls c JOIN hosts h ON h.host_id = c.host_id WHERE h.name = '%s'" % host)
    db.sql("DELETE p FROM processes p JOIN hosts h ON h.host_id = p.host_id WHERE h.name = '%s'" % host)
    db.sql("DELETE s FROM capture_stats s JOIN hosts h ON h.host_id = s.host_id WHERE h.name = '%s'" % host)
    rows = {}
    for i, (kind, n, ts_ns) in enumerate((("older", 500, cutoff_ns - hour), ("newer", 300, cutoff_ns + hour),
                                          ("2020", 200, OLD_TS_NS), ("recent", 100, time.time_ns() - hour))):
        seed_calls(db, host, EDGE_SESSIONS[i], n, ts_ns)
        db.sql("INSERT INTO processes (host_id, pid, start_ns, uid, comm, first_seen_ns, last_seen_ns, exited,"
               " net_bytes, net_bytes_raw, mapped_bytes, vm_size_bytes, requested_bytes, heap_bytes,"
               " heap_base_bytes, heap_known, n_mmap, n_munmap, n_mremap, n_brk, n_failed)"
               " SELECT host_id, %d, 1, 0, 'edge', %d, %d, 1, 0, 0, 0, 0, 4096, 0, 0, 0, 1, 0, 0, 0, 0"
               " FROM hosts WHERE name = '%s'" % (EDGE_PIDS[i], ts_ns, ts_ns, host))
        db.sql("INSERT INTO capture_stats (host_id, session, source, committed_seq, rows_committed, seen,"
               " drops, queued, spilled_total, lag_ms, rate_eps, started_at, updated_at)"
               " SELECT host_id, %d, 'bpf', %d, %d, %d, 0, 0, 0, 0, 0, FROM_UNIXTIME(%d), FROM_UNIXTIME(%d)"
               " FROM hosts WHERE name = '%s'" % (EDGE_SESSIONS[i], n - 1, n, n, ts_ns // 10**9,
                                                 ts_ns // 10**9, host))
        rows[kind] = n
    return rows


def left(db, host):
    """(calls, processes, sessions) of the seeded edge rows still there."""
    j = " JOIN hosts h ON h.host_id = t.host_id WHERE h.name = '%s' AND " % host
    sess = ",".join(str(x) for x in EDGE_SESSIONS)
    return (int(db.one("SELECT COUNT(*) FROM calls t" + j + "t.session IN (%s)" % sess)),
            int(db.one("SELECT COUNT(*) FROM processes t" + j + "t.pid IN (%s)" % ",".join(map(str, EDGE_PIDS)))),
            int(db.one("SELECT COUNT(*) FROM capture_stats t" + j + "t.session IN (%s)" % sess)))


def first_pass(work, lector, conf, host, days):
    """lector as HOST with --retain-days=DAYS until it logs its first
    retention pass (60 s at most); returns its log."""
    path = os.path.join(work, "lector-retain-%d.log" % days)
    logf = open(path, "w+")
    p = subprocess.Popen([lector, "--config=" + conf, "--source=bpf", "--host-id=" + host,
                          "--retain-days=%d" % days, "--spill=" + os.path.join(work, "retain-%d.spill" % days)],
                         stderr=logf, stdout=subprocess.DEVNULL)
    end = time.time() + 60
    while time.time() < end and p.poll() is None and "retention: purged" not in open(path).read():
        time.sleep(0.2)
    p.terminate()
    p.wait(30)
    return open(path).read()


def bounds_tests(db, work, lector):
    """A horizon past the epoch once wrapped around to a cutoff in the
    future (u64 ns) and purged everything; now it purges nothing.  The
    longest horizon still ending after the epoch purges exactly what is
    older."""
    conf, host = os.path.join(db.dir, "lector.conf"), "host-edge"
    today = time.time_ns() // DAY_NS  # days since the epoch
    db.sql("DELETE FROM calls")  # the pass walks every host's rows by cid: keep it short
    for days, why in ((36500, "100 years"), (106751, "the largest accepted value"),
                      (today + 1, "one day past the epoch, where a u64 cutoff wraps")):
        seeded = seed_edges(db, host, time.time_ns() - (today - 1) * DAY_NS)
        text = first_pass(work, lector, conf, host, days)
        line = [ln for ln in text.splitlines() if "retention: purged" in ln]
        ok(left(db, host) == (sum(seeded.values()), 4, 4) and bool(line) and "purged 0 calls, 0 exited" in line[0],
           "retention %d days (%s) purges nothing: %s calls, processes and sessions of the %s seeded are left; %s"
           % (days, why, left(db, host), (sum(seeded.values()), 4, 4), line[0] if line else "no pass logged"),
           text[-600:])
    days = today - 1  # the longest horizon whose cutoff is after 1970-01-01
    seeded = seed_edges(db, host, time.time_ns() - days * DAY_NS)
    text = first_pass(work, lector, conf, host, days)
    line = [ln for ln in text.splitlines() if "retention: purged" in ln]
    want = (sum(seeded.values()) - seeded["older"], 3, 3)
    ok(left(db, host) == want and bool(line) and ("purged %d calls, 1 exited processes and 1 sessions" % seeded["older"])
       in line[0] and " older than 1970-01-0" in line[0],
       "retention %d days (cutoff on 1970-01-02) purges exactly the rows an hour older than the cutoff and keeps"
       " those an hour newer: %s left, want %s; %s" % (days, left(db, host), want, line[0] if line else "no pass logged"),
       text[-600:])


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
    a_left, b_left = names_left(db, "host-a"), names_left(db, "host-b")
    ok(a_left == ((9103,), (9102, 9103), (9103,)) and b_left == (NAME_IDS, NAME_IDS, NAME_IDS)
       and "and 2 OOM kills, 2 snapshots, 1 cgroup names, 2 file names" in (purge_line[0] if purge_line else ""),
       "retention: host-a's OOM kills and file names from 2020 are gone, its 2020 cgroup name too unless a"
       " kept process holds it, the recent ones stay, host-b's stay (host-a %s, host-b %s)" % (a_left, b_left))
    ok(snapshots_left(db, "host-a") == "0" and snapshots_left(db, "host-b") == "1"
       and db.one("SELECT COUNT(*) FROM snapshots WHERE session = %d" % S_OLD) == "2",
       "retention: host-a's snapshots from 2020 are gone (they stand on purged calls), host-b's and host-a's "
       "recent one stay")
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
    bounds_tests(db, work, lector)
