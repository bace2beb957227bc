#!/usr/bin/env python3
"""bench/fleet/probe.py - what the fleet bench measures through the real
memprobe-server while the fleet writes (bench/fleet/run).

  probe.py rest BASE TOKEN_FILE PREFIX N_HOSTS REQUESTS SECONDS
      /api/processes?host=PREFIXnnnn (a random host each time) and
      /api/processes (all hosts), alternately, one keep-alive connection,
      one request after another, REQUESTS of each at most, for at most
      SECONDS: p50/p99/max ms.
  probe.py sse BASE TOKEN_FILE HOST SECONDS
      /api/events?host=HOST for SECONDS: each call event's delay from its
      record time (ts_ns, the generator's wall clock) to its arrival here,
      p50/p99/max ms.  One host's events: the server polls every new call
      of every host either way; one host keeps this reader off the CPU the
      fleet needs.
Each REST request is bounded by a 30 s timeout, everything by SECONDS
(the SSE reader by SIGALRM, or the bench's SIGTERM)."""
import http.client
import random
import re
import signal
import sys
import time
import urllib.parse


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))] if xs else float("nan")


def token(path):
    return open(path).read().split()[0]


def rest(base, tokf, prefix, n_hosts, requests, seconds):
    u = urllib.parse.urlparse(base)
    hdr = {"Authorization": "Bearer " + token(tokf), "Host": u.netloc}
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    rnd = random.Random(18)
    times = {"host": [], "all": []}
    status = {}
    end = time.monotonic() + seconds
    for i in range(2 * requests):
        if time.monotonic() > end:
            break
        kind = "host" if i % 2 == 0 else "all"
        path = "/api/processes"
        if kind == "host":
            path += "?host=%s%04d" % (prefix, rnd.randint(1, n_hosts))
        t0 = time.monotonic()
        try:
            c.request("GET", path, headers=hdr)
            r = c.getresponse()
            r.read()
            st = r.status
        except (OSError, http.client.HTTPException) as e:
            c.close()
            st = type(e).__name__
        dt = (time.monotonic() - t0) * 1000
        status[st] = status.get(st, 0) + 1
        if st == 200:
            times[kind].append(dt)
    for kind, name in (("host", "processes_host"), ("all", "processes_all")):
        t = times[kind]
        print("%s n=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f statuses=%s" % (
            name, len(t), pct(t, 50), pct(t, 99), max(t) if t else float("nan"),
            ",".join("%s:%d" % kv for kv in sorted(status.items(), key=str))))


def sse(base, tokf, host, seconds):
    u = urllib.parse.urlparse(base)
    hdr = {"Authorization": "Bearer " + token(tokf), "Host": u.netloc}
    # no socket timeout (a timed-out socket file cannot be read again, and
    # the opening of 1000 hosts is silent for ~20 s): the bound is SIGALRM,
    # and the bench's SIGTERM ends it early; either reports what came
    c = http.client.HTTPConnection(u.hostname, u.port)
    c.request("GET", "/api/events?host=" + urllib.parse.quote(host), headers=hdr)
    r = c.getresponse()
    if r.status != 200:
        print("sse status=%d %s" % (r.status, r.read()[:200]))
        return
    ts_re = re.compile(rb'"ts_ns":"?(\d+)')
    lags = []
    event = b""

    def stop(*_):
        raise TimeoutError("stop")
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGALRM, stop)
    signal.alarm(int(seconds) + 1)
    try:
        while True:
            line = r.fp.readline()
            if not line:
                break
            if line.startswith(b"event:"):
                event = line[6:].strip()
            elif line.startswith(b"data:") and event == b"call":
                m = ts_re.search(line)
                if m:
                    lags.append((time.time_ns() - int(m.group(1))) / 1e6)
    except (TimeoutError, OSError):
        pass
    signal.alarm(0)
    print("sse_delivery host=%s events=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f" % (
        host, len(lags), pct(lags, 50), pct(lags, 99), max(lags) if lags else float("nan")))


if __name__ == "__main__":
    if sys.argv[1] == "rest":
        rest(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]),
             float(sys.argv[7]))
    else:
        sse(sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]))
