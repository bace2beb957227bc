"""tests/hosts/reader_lock.py - the server's read-only account cannot stall
ingest through lector's commit lock, part of tests/hosts/run-tests.

memprobe_reader (SELECT on the data schema) tries every way it has to take
the lock that orders the writers' commits: the named lock lector once used
(GET_LOCK needs no privilege at all), and locking reads and LOCK TABLES on
the lock row, which lives in the writers' own schema <db>_lock.  Each
attempt that succeeds is held in an open session for up to 120 s.  Two
lectors must drain their rings while those sessions still hold, and the
sessions must be the reader's (processlist) when the lectors are done."""
import os, subprocess, time

from lib import diag, ok
import rings

N_PER_HOST = 5000
HOSTS = ["host-r1", "host-r2"]
HOLD_S = 120
INGEST_WAIT_S = 60
LOCK_TABLE = "memprobe_lock.commit_order"
ATTEMPTS = [
    ("GET_LOCK('memprobe.commit')", "SELECT GET_LOCK('memprobe.commit', 0)"),
    ("SELECT ... FOR UPDATE on the lock row", "SELECT * FROM %s FOR UPDATE" % LOCK_TABLE),
    ("SELECT ... LOCK IN SHARE MODE on the lock row", "SELECT * FROM %s LOCK IN SHARE MODE" % LOCK_TABLE),
    ("LOCK TABLES ... WRITE on the lock table", "LOCK TABLES %s WRITE" % LOCK_TABLE),
    ("LOCK TABLES ... READ on the lock table", "LOCK TABLES %s READ" % LOCK_TABLE),
]


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


def tests(db, work, start_lector):
    cnf = reader_cnf(db, work)
    attempts = start_attempts(cnf, work)
    lectors = []
    try:
        got = [outcome(out) for _, out in attempts]
        for (what, _), (res, text) in zip(ATTEMPTS, got):
            diag("reader tries %s: %s (%s)" % (what, res, text))
        ok(got[0][0] == "held", "the read-only account holds GET_LOCK('memprobe.commit') (no privilege needed)")
        ok(all(res == "refused" and "denied" in text for res, text in got[1:]),
           "the read-only account cannot read or lock the writers' lock table (%s): access denied"
           % LOCK_TABLE, "; ".join(t for _, t in got[1:]))
        ts0 = time.time_ns() - 60 * 10**9
        for i, h in enumerate(HOSTS):
            recs, _ = rings.host_records(i, N_PER_HOST, ts0)
            ring = os.path.join(work, h + ".ring")
            rings.write_ring(ring, 0xc000 + i, recs)
            lectors.append(start_lector(db, work, h, ring))
        t0, rcs = time.time(), [None, None]
        while time.time() - t0 < INGEST_WAIT_S and None in rcs:
            rcs = [p.poll() for p, _ in lectors]
            time.sleep(0.1)
        held = int(db.one("SELECT COUNT(*) FROM information_schema.processlist WHERE user = "
                          "'memprobe_reader' AND info LIKE 'SELECT SLEEP%'") or 0)
        n = db.one("SELECT COUNT(*) FROM calls c JOIN hosts h ON h.host_id = c.host_id WHERE h.name IN "
                   "('%s')" % "','".join(HOSTS))
        logs = [(lg.seek(0), lg.read())[1] for _, lg in lectors]
        ok(rcs == [0, 0] and n == str(2 * N_PER_HOST) and held == sum(r == "held" for r, _ in got),
           "two lectors commit all %d records while the reader's sessions hold what they got "
           "(%.1f s, %s rows, %d reader sessions still holding)"
           % (2 * N_PER_HOST, time.time() - t0, n, held), "\n".join(t[-400:] for t in logs))
    finally:
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
