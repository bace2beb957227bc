"""tests/hosts/reader_lock.py - the server's read-only account cannot stall
the fleet's ingest, part of tests/hosts/run-tests.

memprobe_reader (SELECT on the data schema) tries every way it has to stall
what all writers share: the named lock lector once used (GET_LOCK needs no
privilege at all), locking reads and LOCK TABLES on the commit_order row
(migration 014, no longer taken) and on the cid allocation row (migration
020), both in the writers' own schema <db>_lock.  It also locks one host's
cid lease rows (host-a's; SELECT on the data schema is enough for that, as
for any data row): that host alone may stall.  Each attempt that succeeds
is held in an open session for up to 120 s.  Two other lectors must drain
their rings while those sessions still hold, a lector of host-a must commit
nothing meanwhile, and the sessions must be the reader's (processlist) when
the lectors are done.  Once they are gone, host-a's lector commits."""
import os, subprocess, time

from lib import diag, ok
import rings

N_PER_HOST = 5000
HOSTS = ["host-r1", "host-r2"]
HOLD_S = 120
INGEST_WAIT_S = 60
LOCK_TABLE = "memprobe_lock.commit_order"
ALLOC_TABLE = "memprobe_lock.cid_alloc"
LEASE_STMT = ("SELECT * FROM cid_leases WHERE host_id = (SELECT host_id FROM hosts WHERE name = 'host-a') "
              "FOR UPDATE")
ATTEMPTS = [
    ("GET_LOCK('memprobe.commit')", "SELECT GET_LOCK('memprobe.commit', 0)"),
    ("SELECT ... FOR UPDATE on the lock row", "SELECT * FROM %s FOR UPDATE" % LOCK_TABLE),
    ("SELECT ... LOCK IN SHARE MODE on the lock row", "SELECT * FROM %s LOCK IN SHARE MODE" % LOCK_TABLE),
    ("LOCK TABLES ... WRITE on the lock table", "LOCK TABLES %s WRITE" % LOCK_TABLE),
    ("LOCK TABLES ... READ on the lock table", "LOCK TABLES %s READ" % LOCK_TABLE),
    ("SELECT ... FOR UPDATE on the cid allocation row", "SELECT * FROM %s FOR UPDATE" % ALLOC_TABLE),
    ("SELECT ... LOCK IN SHARE MODE on the cid allocation row", "SELECT * FROM %s LOCK IN SHARE MODE" % ALLOC_TABLE),
    ("LOCK TABLES ... WRITE on the cid allocation table", "LOCK TABLES %s WRITE" % ALLOC_TABLE),
    ("SELECT ... FOR UPDATE on host-a's cid lease rows", LEASE_STMT),
]
N_DENIED = len(ATTEMPTS) - 2  # all but GET_LOCK and the lease rows


def reader_cnf(db, work):
    pw = [ln.split("=", 1)[1].strip() for ln in open(os.path.join(db.dir, "reader.conf"))
          if ln.strip().startswith("db_password")][0]
    path = os.path.join(work, "reader.cnf")
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write("[client]\nuser=memprobe_reader\npassword=%s\nsocket=%s\n" % (pw, db.sock))
    return path


def start_attempts(cnf, work):
    """One reader session per attempt: it runs the attempt, says 'held' and
    sleeps with whatever it got; a refused attempt ends the session."""
    procs = []
    for i, (_, stmt) in enumerate(ATTEMPTS):
        out = open(os.path.join(work, "reader-attempt%d.out" % i), "w+")
        p = subprocess.Popen(["mariadb", "--defaults-extra-file=" + cnf, "-N", "-B", "-n", "memprobe"],
                             stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT)
        p.stdin.write(("SET autocommit = 0;\n%s;\nSELECT 'held';\nSELECT SLEEP(%d);\n"
                       % (stmt, HOLD_S)).encode())
        p.stdin.close()
        procs.append((p, out))
    time.sleep(1.0)
    return procs


def outcome(out):
    out.seek(0)
    text = out.read()
    return ("held" if "held" in text.split() else "refused"), text.strip().replace("\n", " ")[:160]


def neighbour_lock(db, work, start_lector, cnf):
    """Review finding (cid leases): the reader locks the lease rows of every host
    after host-a in the primary key (SELECT ... FOR UPDATE, REPEATABLE
    READ: next-key locks, the gap before them too); a new lector of host-a
    starts (its reset, a new lease row) and must connect and commit while
    they are held.  Its lease statements used to lock into the next
    host's rows (a DELETE's next-key lock: ERROR 1205 after 20 s)."""
    a_id = db.one("SELECT host_id FROM hosts WHERE name = 'host-a'")
    n_locked = db.one("SELECT COUNT(*) FROM cid_leases WHERE host_id > %s" % a_id)
    out = open(os.path.join(work, "reader-neighbour.out"), "w+")
    r = subprocess.Popen(["mariadb", "--defaults-extra-file=" + cnf, "-N", "-B", "-n", "memprobe"],
                         stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT)
    r.stdin.write(("SET autocommit = 0;\nSELECT COUNT(*) FROM (SELECT * FROM cid_leases FORCE INDEX (PRIMARY) WHERE host_id > %s "
                   "FOR UPDATE) x;\nSELECT 'held';\nSELECT SLEEP(%d);\n" % (a_id, HOLD_S)).encode())
    r.stdin.close()
    time.sleep(1.0)
    recs, _ = rings.host_records(0, 300, time.time_ns() - 30 * 10**9)
    ring = os.path.join(work, "host-a-neighbour.ring")
    rings.write_ring(ring, 0xc0a1, recs)
    p, log = start_lector(db, work, "host-a", ring, ("--spill=" + os.path.join(work, "host-a-3.spill"),))
    try:
        rc = p.wait(40)
    except subprocess.TimeoutExpired:
        rc = None
    n = db.one("SELECT COUNT(*) FROM calls WHERE session = %d" % 0xc0a1)
    held = outcome(out)[0] == "held" and r.poll() is None
    for row in db.sql("SELECT id FROM information_schema.processlist WHERE user = 'memprobe_reader'"):
        db.sql("KILL %s" % row[0])
    if p.poll() is None:
        p.terminate()
        p.wait(30)
    r.wait(10)
    log.seek(0)
    ok(held and int(n_locked) > 0 and rc == 0 and n == "300",
       "while the reader locks the cid lease rows of the hosts after host-a (%s rows, FOR UPDATE), a new lector "
       "of host-a connects and commits its 300 records (%s stored, exit %s): that host's statements take no "
       "lock into the next host's rows" % (n_locked, n, rc), log.read()[-600:])


def tests(db, work, start_lector):
    cnf = reader_cnf(db, work)
    neighbour_lock(db, work, start_lector, cnf)
    attempts = start_attempts(cnf, work)
    lectors, stalled = [], None
    try:
        got = [outcome(out) for _, out in attempts]
        for (what, _), (res, text) in zip(ATTEMPTS, got):
            diag("reader tries %s: %s (%s)" % (what, res, text))
        ok(got[0][0] == "held", "the read-only account holds GET_LOCK('memprobe.commit') (no privilege needed)")
        ok(all(res == "refused" and "denied" in text for res, text in got[1:1 + N_DENIED]),
           "the read-only account cannot read or lock the writers' tables (%s, %s): access denied"
           % (LOCK_TABLE, ALLOC_TABLE), "; ".join(t for _, t in got[1:1 + N_DENIED]))
        ok(got[-1][0] == "held", "the read-only account can lock host-a's cid lease rows (SELECT ... FOR UPDATE "
           "needs only SELECT, as on any data row)", got[-1][1])
        ts0 = time.time_ns() - 60 * 10**9
        for i, h in enumerate(HOSTS):
            recs, _ = rings.host_records(i, N_PER_HOST, ts0)
            ring = os.path.join(work, h + ".ring")
            rings.write_ring(ring, 0xc000 + i, recs)
            lectors.append(start_lector(db, work, h, ring))
        recs, _ = rings.host_records(0, 500, ts0)
        ring_a = os.path.join(work, "host-a-stalled.ring")
        rings.write_ring(ring_a, 0xc0a0, recs, running=1)  # waits for more: stopped below
        stalled = start_lector(db, work, "host-a", ring_a, ("--spill=" + os.path.join(work, "host-a-2.spill"),))
        t0, rcs = time.time(), [None, None]
        while time.time() - t0 < INGEST_WAIT_S and None in rcs:
            rcs = [p.poll() for p, _ in lectors]
            time.sleep(0.1)
        a_rows = db.one("SELECT COUNT(*) FROM calls WHERE session = %d" % 0xc0a0)
        held = int(db.one("SELECT COUNT(*) FROM information_schema.processlist WHERE user = "
                          "'memprobe_reader' AND info LIKE 'SELECT SLEEP%'") or 0)
        n = db.one("SELECT COUNT(*) FROM calls c JOIN hosts h ON h.host_id = c.host_id WHERE h.name IN "
                   "('%s')" % "','".join(HOSTS))
        logs = [(lg.seek(0), lg.read())[1] for _, lg in lectors]
        ok(rcs == [0, 0] and n == str(2 * N_PER_HOST) and held == sum(r == "held" for r, _ in got),
           "two lectors commit all %d records while the reader's sessions hold what they got "
           "(%.1f s, %s rows, %d reader sessions still holding)"
           % (2 * N_PER_HOST, time.time() - t0, n, held), "\n".join(t[-400:] for t in logs))
        ok(a_rows == "0", "meanwhile host-a's lector, whose lease rows the reader holds, has committed nothing "
           "(%s rows): the reader stalls that host alone" % a_rows)
        for row in db.sql("SELECT id FROM information_schema.processlist WHERE user = 'memprobe_reader'"):
            db.sql("KILL %s" % row[0])
        t1 = time.time()
        while time.time() - t1 < 90 and db.one("SELECT COUNT(*) FROM calls WHERE session = %d" % 0xc0a0) != "500":
            time.sleep(0.2)
        stalled[0].terminate()
        try:
            rc_a = stalled[0].wait(30)
        except subprocess.TimeoutExpired:
            rc_a = None
        a_rows = db.one("SELECT COUNT(*) FROM calls WHERE session = %d" % 0xc0a0)
        stalled[1].seek(0)
        ok(rc_a == 0 and a_rows == "500", "once the reader's sessions are gone, host-a's lector commits its 500 "
           "records (%s rows, exit %s)" % (a_rows, rc_a), stalled[1].read()[-600:])
    finally:
        if stalled and stalled[0].poll() is None:
            stalled[0].kill()
            stalled[0].wait()
        for p, _ in lectors:
            if p.poll() is None:
                p.kill()
                p.wait()
        for row in db.sql("SELECT id FROM information_schema.processlist WHERE user = 'memprobe_reader'"):
            db.sql("KILL %s" % row[0])
        for p, _ in attempts:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
