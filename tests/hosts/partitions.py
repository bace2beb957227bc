"""tests/hosts/partitions.py - calls partitioned by day (migration 021),
part of tests/hosts/run-tests.  The days before today are made partitions
(REORGANIZE of the first one, as a backfill would), calls of host-a and
host-b are seeded on days -9, -7, -5, -4 and today, and lector runs as
host-a on the live eBPF source with --retain-days until its first pass:
- the days ahead: missing ones are added again, pmax stays empty;
- while another host keeps everything (calls_retention 0), no day is
  dropped and host-a deletes its own old rows, host-b's all stay;
- with the fleet's rule at 5 days (host-b), the days every host is done
  with are dropped whole (both hosts' rows: that is the rule), host-a
  (3 days) deletes its rows of days -5 and -4 row by row, host-b's stay;
- host-a at the rule (5 days) deletes nothing row by row: its rows of day
  -5 stay until that day's partition goes;
- without the DROP privilege the refused drop is logged and host-a's old
  calls go row by row;
- INSERT IGNORE still stores a re-delivered record once (the unique key
  holds ts_ns, which a re-delivered record carries unchanged)."""
import os, subprocess, time

from lib import ok

DAY_NS = 86400 * 10**9
DAYS = (9, 7, 5, 4, 0)  # days before today seeded
N = 1000  # calls per host and day
HOSTS = ("host-a", "host-b")


def session_of(d):
    return 0x5000 + d


def ts_of(d, today):
    """a minute past midnight of day -d, today's: a minute ago"""
    return (today - d) * DAY_NS + 60 * 10**9 if d else time.time_ns() - 60 * 10**9


def parts(db):
    """[(name, bound or None for MAXVALUE, rows)] of calls, in order"""
    rows = db.sql("SELECT PARTITION_NAME, PARTITION_DESCRIPTION FROM information_schema.PARTITIONS WHERE"
                  " TABLE_SCHEMA = 'memprobe' AND TABLE_NAME = 'calls' ORDER BY PARTITION_ORDINAL_POSITION")
    return [(n, None if b == "MAXVALUE" else int(b), int(db.one("SELECT COUNT(*) FROM calls PARTITION (%s)" % n)))
            for n, b in rows]


def day_name(day):
    return time.strftime("p%Y%m%d", time.gmtime(day * 86400))


def make_past_days(db, today):
    """Day partitions for days -10 .. -1 below the first one (which also
    holds anything older), as a backfill of past calls would add them."""
    first, bound, _ = parts(db)[0]
    days = [d for d in range(today - 10, today) if (d + 1) * DAY_NS < bound]
    if not days:
        return
    spec = ", ".join("PARTITION %s VALUES LESS THAN (%d)" % (day_name(d), (d + 1) * DAY_NS) for d in days)
    db.sql("ALTER TABLE calls REORGANIZE PARTITION %s INTO (%s, PARTITION %s VALUES LESS THAN (%d))"
           % (first, spec, first, bound))


def seed(db, today):
    db.sql("TRUNCATE TABLE calls")
    make_past_days(db, today)
    for host in HOSTS:
        for d in DAYS:
            db.sql("INSERT INTO calls (host_id, session, seq, ts_ns, pid, tid, uid, start_ns, comm, thread_comm,"
                   " syscall, addr, len_bytes, new_addr, new_len_bytes, offset_bytes, prot, flags, fd, result,"
                   " total_vm_bytes) SELECT h.host_id, %d, s.seq, %d + s.seq * 1000, 4242, 4242, 0, 1, 'day',"
                   " 'day', 'mmap', 0, 4096, 0, 0, 0, 3, 34, -1, 140000000000, 4096 FROM hosts h"
                   " JOIN seq_0_to_%d s WHERE h.name = '%s'" % (session_of(d), ts_of(d, today), N - 1, host))


def left(db):
    """{(host, day): calls left} of the seeded ones"""
    got = {(h, d): 0 for h in HOSTS for d in DAYS}
    for h, s, n in db.sql("SELECT h.name, c.session, COUNT(*) FROM calls c JOIN hosts h ON h.host_id = c.host_id"
                          " WHERE c.session BETWEEN %d AND %d GROUP BY 1, 2" % (0x5000, 0x5000 + 10)):
        got[(h, int(s) - 0x5000)] = int(n)
    return got


def run_lector(work, lector, conf, days, tag):
    """lector as host-a with --retain-days=DAYS until its first retention
    pass is logged (60 s at most); returns its log."""
    path = os.path.join(work, "lector-part-%s.log" % tag)
    logf = open(path, "w+")
    p = subprocess.Popen([lector, "--config=" + conf, "--source=bpf", "--host-id=host-a",
                          "--retain-days=%d" % days, "--spill=" + os.path.join(work, "part.spill")],
                         stderr=logf, stdout=subprocess.DEVNULL)
    end = time.time() + 60
    while time.time() < end and p.poll() is None and "retention: purged" not in open(path).read():
        time.sleep(0.2)
    p.terminate()
    p.wait(30)
    return open(path).read()


def line(text, what):
    got = [ln for ln in text.splitlines() if what in ln]
    return got[0] if got else ""


def want(keep):
    """{(host, day): N if (host, day) in keep else 0}"""
    return {(h, d): N if (h, d) in keep else 0 for h in HOSTS for d in DAYS}


def dedup_tests(db):
    """A re-delivered record (same host, session, seq and ts_ns) is stored
    once; lector's sink inserts with INSERT IGNORE (sink_mysql_stmt.c)."""
    cols = ("host_id, session, seq, ts_ns, pid, tid, uid, start_ns, comm, thread_comm, syscall, addr, len_bytes,"
            " new_addr, new_len_bytes, offset_bytes, prot, flags, fd, result, total_vm_bytes")
    row = ("SELECT host_id, 0x5eed, 7, %d, 1, 1, 0, 1, 'r', 'r', 'mmap', 0, 4096, 0, 0, 0, 3, 34, -1, 1, 4096"
           " FROM hosts WHERE name = 'host-a'" % (time.time_ns() - 10**9))
    for _ in range(3):
        db.sql("INSERT IGNORE INTO calls (%s) %s" % (cols, row))
    n = db.one("SELECT COUNT(*) FROM calls WHERE session = 0x5eed")
    ok(n == "1", "partitioned calls: a record delivered three times (INSERT IGNORE, same host, session, seq, ts_ns)"
       " is stored once (%s rows)" % n)
    keys = db.sql("SELECT INDEX_NAME, GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX) FROM information_schema.STATISTICS"
                  " WHERE TABLE_SCHEMA = 'memprobe' AND TABLE_NAME = 'calls' AND NON_UNIQUE = 0 GROUP BY 1 ORDER BY 1")
    ok(sorted(keys) == [["PRIMARY", "cid,ts_ns"], ["by_seq", "host_id,session,seq,ts_ns"]],
       "partitioned calls: the unique keys are PRIMARY (cid, ts_ns) and by_seq (host_id, session, seq, ts_ns)"
       " (%s)" % keys)


def tests(db, work, lector):
    conf = os.path.join(db.dir, "lector.conf")
    today = time.time_ns() // DAY_NS
    ps = parts(db)
    ok(len(ps) >= 9 and ps[-1][0] == "pmax" and ps[-1][1] is None and all(
       n == day_name(b // DAY_NS - 1) for n, b, _ in ps[:-1]),
       "migration 021: calls is partitioned by day (pYYYYMMDD, bound the next midnight UTC) with pmax last (%s)"
       % [p[0] for p in ps])
    dedup_tests(db)

    # the days ahead: three taken back into pmax are added again
    ahead = [p[0] for p in parts(db)[-4:-1]]
    db.sql("ALTER TABLE calls REORGANIZE PARTITION %s, pmax INTO (PARTITION pmax VALUES LESS THAN MAXVALUE)"
           % ", ".join(ahead))
    seed(db, today)
    db.sql("DELETE FROM calls_retention; INSERT INTO calls_retention (host_id, retain_days)"
           " SELECT host_id, 0 FROM hosts WHERE name = 'host-b'")
    text = run_lector(work, lector, conf, 3, "keep")
    ps = parts(db)
    last_day = ps[-2][1] // DAY_NS - 1
    ok(last_day == today + 7 and ps[-1] == ("pmax", None, 0) and "day partitions added" in text,
       "lector adds the missing days ahead (up to today + 7 days: %s, want %s) and pmax stays empty (%s rows); %s"
       % (day_name(last_day), day_name(today + 7), ps[-1][2], line(text, "day partitions added")), text[-800:])
    exp = want({("host-b", d) for d in DAYS} | {("host-a", 0)})
    ok(left(db) == exp and "dropped" not in text and ("purged %d calls" % (4 * N)) in line(text, "retention: purged")
       and all(day_name(today - d) in [p[0] for p in ps] for d in (9, 7)),
       "retention while another host keeps everything (calls_retention 0): no day is dropped, host-a deletes its"
       " %d old calls row by row, host-b's stay; %s" % (4 * N, line(text, "retention: purged")),
       "left %s\n%s" % (sorted(left(db).items()), text[-800:]))

    # the fleet's rule: 5 days (host-b); host-a keeps 3
    seed(db, today)
    db.sql("UPDATE calls_retention SET retain_days = 5")
    text = run_lector(work, lector, conf, 3, "rule")
    names = [p[0] for p in parts(db)]
    gone = [day_name(d) for d in range(today - 10, today - 5)]
    exp = want({("host-b", 5), ("host-b", 4), ("host-b", 0), ("host-a", 0)})
    ok(not set(gone) & set(names) and day_name(today - 5) in names and day_name(today - 4) in names
       and "dropped %d days of calls of every host (%s to %s)" % (len(gone), gone[0], gone[-1]) in text,
       "retention with the fleet's rule at 5 days drops the days every host is done with (%s to %s) and keeps"
       " day -5 on; %s" % (gone[0], gone[-1], line(text, "retention: dropped")), "%s\n%s" % (names, text[-800:]))
    ok(left(db) == exp and ("purged %d calls" % (2 * N)) in line(text, "retention: purged"),
       "retention with the rule at 5 days: days -9 and -7 of both hosts went with their partitions (no DELETE:"
       " host-a purged only its %d calls of days -5 and -4 row by row, shorter retention than the rule), host-b's"
       " days -5 and -4 and both hosts' today stay; %s" % (2 * N, line(text, "retention: purged")),
       "left %s\n%s" % (sorted(left(db).items()), text[-800:]))

    # host-a at the rule: its calls go by whole days only
    seed(db, today)
    text = run_lector(work, lector, conf, 5, "at-rule")
    exp = want({(h, d) for h in HOSTS for d in (5, 4, 0)})
    ok(left(db) == exp and "purged 0 calls" in line(text, "retention: purged") and "retention: dropped" in text,
       "retention of a host at the fleet's rule (5 days) deletes no call row by row: its calls of day -5, older"
       " than 5 days, stay until that day's partition goes; %s" % line(text, "retention: purged"),
       "left %s\n%s" % (sorted(left(db).items()), text[-800:]))

    # a writer without the DROP privilege: the refused drop is logged and
    # host-a's old calls go row by row instead
    users = "'memprobe_writer'@'localhost', 'memprobe_writer'@'127.0.0.1'"
    seed(db, today)
    db.sql("REVOKE DROP ON memprobe.* FROM %s" % users, db="mysql")
    try:
        text = run_lector(work, lector, conf, 5, "no-drop")
    finally:
        db.sql("GRANT DROP ON memprobe.* TO %s" % users, db="mysql")
    exp = want({("host-b", d) for d in DAYS} | {("host-a", 4), ("host-a", 0)})
    ok(left(db) == exp and "DROP command denied" in line(text, "day partitions") and "retention: dropped" not in text
       and ("purged %d calls" % (3 * N)) in line(text, "retention: purged"),
       "a writer without the DROP privilege: lector logs the refused drop and deletes host-a's %d calls older"
       " than 5 days row by row, host-b's stay; %s" % (3 * N, line(text, "day partitions")),
       "left %s\n%s" % (sorted(left(db).items()), text[-800:]))
    db.sql("TRUNCATE TABLE calls; DELETE FROM calls_retention")
