"""tests/server/checks_series.py - /api/processes/{pid} memory over time:
the seeded process's calls (seed.SERIES_CALLS: mmap, partial munmap,
mremap move+grow, brk baseline and growth, a failed mmap, a refused brk, net
below 0) replayed through lector's accounting give exactly the hand-computed
states; downsampling keeps evenly spaced exact points, first and last; a process
with more calls than the replay cap is replayed from its first call and
said to be truncated."""
import time

from lib import get, ok
from seed import SERIES_HOST, SERIES_PID, SERIES_START, series_points

ROW_SQL = ("SELECT p.net_bytes, p.mapped_bytes, p.vm_size_bytes FROM processes p JOIN hosts h "
           "ON h.host_id = p.host_id WHERE h.name='%s' AND p.pid=%d AND p.start_ns=%d")


def run(srv, db):
    want = series_points()
    url = "/api/processes/%d?host=%s&start_ns=%d" % (SERIES_PID, SERIES_HOST, SERIES_START)
    st, _, b = get(srv.base, url)
    got = b.get("series") if st == 200 else b
    ok(st == 200 and got == want and b.get("calls") == len(want) and b.get("replayed_calls") == len(want)
       and b.get("series_truncated") is False and b.get("series_downsampled") is False,
       "/api/processes/{pid}: series replayed through lector's acct equals the 10 hand-computed states "
       "(partial munmap, mremap grow, brk, failed/refused calls, net clamped at 0), session order by start",
       {"got": got, "want": want})
    row = [int(v) for v in db.sql(ROW_SQL % (SERIES_HOST, SERIES_PID, SERIES_START))[0]]
    ok(st == 200 and got and got[-1][1:] == row and
       [b["memory_held_bytes"], b["mapped_bytes"], b["vm_size_bytes"]] == row,
       "/api/processes/{pid}: the series' last point equals the processes row (net, mapped, vm) %s" % row,
       got[-1] if st == 200 and got else b)
    st, _, b = get(srv.base, url + "&points=5")
    got = b.get("series") if st == 200 else b
    ok(st == 200 and got == [want[0], want[2], want[5], want[7], want[9]] and b.get("series_downsampled") is True
       and b.get("calls") == 10 and b.get("points") == 5,
       "/api/processes/{pid}?points=5: calls 0, 2, 5, 7, 9 of 10 (evenly spaced, first and last kept, exact)", got)
    st, _, b = get(srv.base, "/api/processes/%d?host=%s&start_ns=1" % (SERIES_PID, SERIES_HOST))
    ok(st == 404, "/api/processes/{pid} with another start_ns is not this process (404)", st)
    truncated(srv, db)


def truncated(srv, db):
    """More calls than the replay cap (seeded by run-tests before the server
    starts): the first BIG_CAP calls, said so."""
    from seed import BIG_HOST, BIG_PID, BIG_CAP, BIG_CALLS, PG, SERIES_T0
    t1 = time.time()
    st, _, b = get(srv.base, "/api/processes/%d?host=%s&points=500" % (BIG_PID, BIG_HOST))
    t2 = time.time()
    ser = b.get("series", []) if st == 200 else []
    last = [SERIES_T0 + BIG_CAP - 1, BIG_CAP * PG, BIG_CAP * PG, (1000 + BIG_CAP - 1) * PG]
    ok(st == 200 and b.get("calls") == BIG_CALLS and b.get("replayed_calls") == BIG_CAP and
       b.get("series_truncated") is True and b.get("max_replayed_calls") == BIG_CAP and len(ser) == 500 and
       ser[0] == [SERIES_T0, PG, PG, 1000 * PG] and ser[-1] == last and b["memory_held_bytes"] == BIG_CALLS * PG,
       "--series-max-calls %d, a %d-call process: the first %d replayed from its first call, series_truncated, "
       "last point is call %d, not the row (%.2f s)" % (BIG_CAP, BIG_CALLS, BIG_CAP, BIG_CAP - 1, t2 - t1),
       (st, {k: b.get(k) for k in ("calls", "replayed_calls", "series_truncated")}, ser[:1], ser[-1:]))
