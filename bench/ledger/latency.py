#!/usr/bin/env python3
"""bench/ledger/latency.py - p50/p99 of the time-travel and ledger
endpoints through the real server, for bench/ledger/run.

  latency.py BASE TOKEN_FILE HOST T_FIRST T_LAST HOLDER_PID HOLDER_START_NS [REQUESTS]

One keep-alive connection, requests one after another (the figure is the
server's and MariaDB's time for one request, not a throughput); random
parameters from a fixed seed.  ?at=T of the list and of the holder
alternate request by request with the same endpoint without at (today's
answer from the processes row: the same-run baseline).  Each endpoint: REQUESTS requests (default
200), each bounded by a 60 s timeout, the endpoint by 600 s (fewer
requests then, and the line says so).  Prints one line per endpoint:
p50, p99, max in ms, and the statuses seen."""
import http.client
import json
import random
import sys
import time
import urllib.parse

TIMEOUT_S = 60
ENDPOINT_BUDGET_S = 600


class Client:
    def __init__(self, base, token):
        u = urllib.parse.urlparse(base)
        self.netloc = u.netloc
        self.headers = {"Authorization": "Bearer " + token, "Host": u.netloc}
        self.c = http.client.HTTPConnection(u.hostname, u.port, timeout=TIMEOUT_S)

    def get(self, path, **params):
        q = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        t0 = time.monotonic()
        try:
            self.c.request("GET", path + "?" + q, headers=self.headers)
            r = self.c.getresponse()
            body = r.read()
            status = r.status
        except (OSError, http.client.HTTPException) as e:
            self.c.close()
            return time.monotonic() - t0, 0, repr(e)
        dt = time.monotonic() - t0
        try:
            return dt, status, json.loads(body)
        except ValueError:
            return dt, status, body[:200]


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))] if xs else float("nan")


def report(name, times, statuses, n_wanted, sample_err):
    st = ",".join("%s:%d" % kv for kv in sorted(statuses.items()))
    ok = [t for t, s in times if s == 200]
    cut = "" if len(times) >= n_wanted else " (stopped at the %d s budget)" % ENDPOINT_BUDGET_S
    print("%-34s n=%d ok=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f statuses=%s%s" % (
        name, len(times), len(ok), 1000 * pct(ok, 50), 1000 * pct(ok, 99),
        1000 * max(ok) if ok else float("nan"), st, cut), flush=True)
    if sample_err:
        print("  %s: a non-200 answer: %s" % (name, str(sample_err)[:300]), flush=True)


def run(name, n, fn):
    times, statuses, err = [], {}, None
    t_end = time.monotonic() + ENDPOINT_BUDGET_S
    for i in range(n):
        if time.monotonic() > t_end:
            break
        dt, status, body = fn(i)
        times.append((dt, status))
        statuses[status] = statuses.get(status, 0) + 1
        if status != 200 and err is None:
            err = body
    report(name, times, statuses, n, err)
    return times


def run_pair(name_a, fa, name_b, fb, n):
    """Two endpoints, requests alternating (a baseline beside a variant,
    under the same load)."""
    res = {name_a: ([], {}, [None]), name_b: ([], {}, [None])}
    t_end = time.monotonic() + 2 * ENDPOINT_BUDGET_S
    for i in range(n):
        if time.monotonic() > t_end:
            break
        for name, fn in ((name_a, fa), (name_b, fb)) if i % 2 == 0 else ((name_b, fb), (name_a, fa)):
            dt, status, body = fn(i)
            times, statuses, err = res[name]
            times.append((dt, status))
            statuses[status] = statuses.get(status, 0) + 1
            if status != 200 and err[0] is None:
                err[0] = body
    for name in (name_a, name_b):
        times, statuses, err = res[name]
        report(name, times, statuses, n, err[0])


def main(a):
    base, token_file, host = a[0], a[1], a[2]
    t_first, t_last, pid, start_ns = int(a[3]), int(a[4]), int(a[5]), a[6]
    n = int(a[7]) if len(a) > 7 else 200
    c = Client(base, open(token_file).read().strip())
    rnd = random.Random(16)

    def any_t():
        return rnd.randint(t_first, t_last)

    def diff(_):
        t1, t2 = sorted(rnd.sample(range(t_first, t_last), 2))
        return c.get("/api/diff", host=host, **{"from": t1, "to": t2})

    run_pair("processes (now: baseline)", lambda i: c.get("/api/processes", host=host),
             "processes?at=T", lambda i: c.get("/api/processes", host=host, at=any_t()), n)
    run("diff?from=T1&to=T2", n, diff)
    run_pair("processes/{holder} (now: baseline)",
             lambda i: c.get("/api/processes/%d" % pid, host=host, start_ns=start_ns),
             "processes/{holder}?at=T",
             lambda i: c.get("/api/processes/%d" % pid, host=host, start_ns=start_ns, at=any_t()), n)
    run("processes/{holder}/mappings p1", n,
        lambda i: c.get("/api/processes/%d/mappings" % pid, host=host, start_ns=start_ns))
    run("mappings p1 sort=size", n,
        lambda i: c.get("/api/processes/%d/mappings" % pid, host=host, start_ns=start_ns, sort="size"))
    # deep pages: walk the keyset cursor through every page of 100
    state = {"next": None, "page": 0, "rows": 0}

    def walk(_):
        if state["page"] and not state["next"]:
            state.update(next=None, page=0)
        dt, st, b = c.get("/api/processes/%d/mappings" % pid, host=host, start_ns=start_ns,
                          limit=100, after=state["next"])
        state["page"] += 1
        if st == 200 and isinstance(b, dict):
            state["next"] = b.get("next")
            state["rows"] += len(b.get("mappings", []))
        else:
            state["next"] = None
        return dt, st, b
    pages = 500
    t = run("mappings pages 1..%d (cursor)" % pages, pages, walk)
    deep = [x for x in t[100:]]
    if deep:
        report("mappings pages 101..%d only" % len(t), deep, {200: sum(1 for _, s in deep if s == 200)},
               len(deep), None)
    print("mappings walked: %d rows in %d pages" % (state["rows"], len(t)), flush=True)
    run("mappings?at=T (replay, holder)", max(20, n // 10),
        lambda i: c.get("/api/processes/%d/mappings" % pid, host=host, start_ns=start_ns, at=any_t()))
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 8:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1:]))
