"""tests/server/checks_memory.py - real memory through the API (seed_memory.py
rows, compared with a model of them written here, not with the server's
SQL): the process object's resident, swap and cgroup fields, sorting and
filtering by them, /api/groups' sums (equal to the sums of the process rows),
/api/oom, /api/stats' oom_kills, and /metrics' group series (top N per host,
label escaping) and OOM counters."""
import subprocess, time, urllib.parse
from lib import SSE, Server, get, ok, writer_tx
import lib
from seed_memory import (BIG_ID, CGROUPS, LONG_PATH, MEM_HOST, MEM_HOST2, MEM_RAM, N_PROCS, ODD_NAME, OOMS,
                         PID_BASE, proc_row)

NAMED = {cid: (path, name, kind) for cid, path, name, kind in CGROUPS}
PROC_SUMS = ["rss_bytes", "rss_anon_bytes", "rss_file_bytes", "rss_shmem_bytes", "swap_bytes",
             "memory_held_bytes", "mapped_bytes", "vm_size_bytes", "requested_bytes"]


def text(b):
    return b.decode("utf-8", "replace")


def group_of(cid):
    """(cgroup, group, group_kind) as the API documents them."""
    if cid == 0:
        return None, "unknown", "unknown"
    if cid not in NAMED:
        return None, "cgroup:%d" % cid, "unknown"
    path, name, kind = NAMED[cid]
    return (text(path) if path else None), text(name), kind


def model_procs(host):
    """The API's process fields of HOST's seeded rows, by pid."""
    out = {}
    for i in range(N_PROCS if host == MEM_HOST else 5):
        pid, start, uid, comm, exited, anon, fil, shm, swap, ts, cg, vm, net = proc_row(i)
        rss = anon + fil + shm
        cgroup, group, kind = group_of(cg)
        out[pid] = {"pid": pid, "uid": uid, "state": "exited" if exited else "alive", "rss_bytes": rss,
                    "rss_anon_bytes": anon, "rss_file_bytes": fil, "rss_shmem_bytes": shm, "swap_bytes": swap,
                    "rss_ts_ns": ts, "pct_of_ram": 100.0 * rss / MEM_RAM if host == MEM_HOST else None,
                    "cgroup_id": str(cg), "cgroup": cgroup, "group": group, "group_kind": kind,
                    "memory_held_bytes": net, "mapped_bytes": net // 2, "vm_size_bytes": vm,
                    "requested_bytes": net}
    return out


def diff(got, want):
    bad = {}
    for k, v in want.items():
        g = got.get(k, "(absent)")
        close = isinstance(v, float) and isinstance(g, (int, float)) and abs(g - v) <= 1e-9 * max(1, abs(v))
        if g != v and not close:
            bad[k] = (g if not isinstance(g, str) or len(g) < 80 else g[:40] + "...", v)
    return bad


def processes(srv):
    bad = {}
    for host in (MEM_HOST, MEM_HOST2):
        want = model_procs(host)
        st, _, b = get(srv.base, "/api/processes?host=%s&limit=1000" % host)
        rows = b["processes"] if st == 200 else []
        for p in rows:
            d = diff(p, want.get(p["pid"], {"pid": None}))
            if d:
                bad["%s/%d" % (host, p["pid"])] = d
        if len(rows) != len(want):
            bad[host] = (st, len(rows), len(want))
    ok(not bad, "/api/processes: resident, swap, rss_ts_ns, % of RAM (null for MemTotal 0), cgroup id/path/"
       "group/kind of every seeded process equal the rows (named, unnamed, id 0, no row, id > 2^53; a VmSize of "
       "2^60 + 1 exact)", bad)
    st, _, b = get(srv.base, "/api/processes?host=%s&pid=%d" % (MEM_HOST, PID_BASE + 5))
    p = b["processes"][0] if st == 200 and b["processes"] else {}
    ok(p.get("cgroup") == text(LONG_PATH) and p.get("cgroup_id") == "500",
       "/api/processes: a 3000-byte cgroup path comes back whole", (st, len(p.get("cgroup") or "")))
    want = model_procs(MEM_HOST)
    bad = {}
    for sort, key in (("rss", "rss_bytes"), ("swap", "swap_bytes")):
        for order in ("desc", "asc"):
            exp = sorted(want.values(), key=lambda r: ((-1 if order == "desc" else 1) * r[key], r["pid"]))
            exp = [r["pid"] for r in exp][5:25]
            st, _, b = get(srv.base, "/api/processes?host=%s&sort=%s&order=%s&limit=20&offset=5"
                           % (MEM_HOST, sort, order))
            got = [r["pid"] for r in b["processes"]] if st == 200 else st
            if got != exp or (st == 200 and b["sort"] != sort):
                bad[sort + " " + order] = (got, exp)
    ok(not bad, "/api/processes sort=rss and sort=swap, both orders, page 2: the model's order (ties by pid)", bad)
    bad = {}
    for g in ("nginx.service", "unknown", "cgroup:999", "cgroup:300", "pod:1-2-3", "host", "' OR '1'='1",
              "nginx"):
        exp = sorted(pid for pid, r in want.items() if r["group"] == g)
        st, _, b = get(srv.base, "/api/processes?host=%s&limit=1000&group=%s" % (MEM_HOST, urllib.parse.quote(g)))
        got = sorted(r["pid"] for r in b["processes"]) if st == 200 else st
        if got != exp or (st == 200 and b["total"] != len(exp)):
            bad[g] = (got, exp)
    exp = sorted(pid for pid, r in want.items() if r["group"] == "nginx.service" and r["state"] == "alive")
    st, _, b = get(srv.base, "/api/processes?host=%s&group=nginx.service&state=alive" % MEM_HOST)
    if st != 200 or sorted(r["pid"] for r in b["processes"]) != exp:
        bad["with state"] = (st, exp)
    ok(not bad, "/api/processes?group=: exact name (named, unknown, cgroup:<id>, unresolved, injection, a "
       "prefix finds nothing), with other filters", bad)


def model_groups(host, pred=lambda r: r["state"] == "alive"):
    """Group rows (by cgroup_id) of HOST's processes that satisfy PRED."""
    out = {}
    for r in model_procs(host).values():
        if not pred(r):
            continue
        g = out.setdefault(r["cgroup_id"], {"host": host, "cgroup_id": r["cgroup_id"], "cgroup": r["cgroup"],
                                             "group": r["group"], "group_kind": r["group_kind"], "processes": 0,
                                             **{k: 0 for k in PROC_SUMS}})
        g["processes"] += 1
        for k in PROC_SUMS:
            g[k] += r[k]
    for g in out.values():
        g["pct_of_ram"] = 100.0 * g["rss_bytes"] / MEM_RAM if host == MEM_HOST else None
    return out


def groups_equal_process_sums(srv):
    """Each /api/groups row equals the sum of the /api/processes rows with
    its cgroup_id (the server's own answers, both ways)."""
    bad = {}
    for host, state in ((MEM_HOST, "alive"), (MEM_HOST, "exited"), (MEM_HOST, "all"), (MEM_HOST2, "alive")):
        st1, _, g = get(srv.base, "/api/groups?host=%s&state=%s&limit=1000" % (host, state))
        st2, _, p = get(srv.base, "/api/processes?host=%s&state=%s&limit=1000" % (host, state))
        if st1 != 200 or st2 != 200:
            bad[host + state] = (st1, st2)
            continue
        sums = {}
        for r in p["processes"]:
            s = sums.setdefault(r["cgroup_id"], {"processes": 0, **{k: 0 for k in PROC_SUMS}})
            s["processes"] += 1
            for k in PROC_SUMS:
                s[k] += r[k]
        for row in g["groups"]:
            d = diff(row, sums.pop(row["cgroup_id"], {"processes": None}))
            if d:
                bad["%s %s %s" % (host, state, row["cgroup_id"])] = d
        if sums or g["total"] != len(g["groups"]):
            bad[host + state + " rest"] = (list(sums), g["total"])
    ok(not bad, "/api/groups: every group's count and sums equal the sums of the /api/processes rows of its cgroup"
       " (alive, exited, all; two hosts)", bad)


def groups(srv):
    groups_equal_process_sums(srv)
    bad = {}
    want = model_groups(MEM_HOST)
    st, _, b = get(srv.base, "/api/groups?host=%s&limit=1000" % MEM_HOST)
    for row in b["groups"] if st == 200 else []:
        d = diff(row, want.get(row["cgroup_id"], {"cgroup_id": None}))
        if d:
            bad[row["cgroup_id"]] = d
    ok(st == 200 and not bad and b["total"] == len(want) == len(b["groups"]) and b["sort"] == "rss" and
       b["order"] == "desc", "/api/groups (default: alive, by resident): %d groups equal the model: name, path, "
       "kind, count, sums, %% of RAM; ids as exact strings" % len(want), (st, bad))
    keys = {"rss": "rss_bytes", "swap": "swap_bytes", "vm": "vm_size_bytes", "mapped": "mapped_bytes",
            "net": "memory_held_bytes", "processes": "processes"}
    allg = model_groups(MEM_HOST, lambda r: True)
    bad = {}
    for sort in list(keys) + ["name"]:
        for order in ("desc", "asc"):
            sign = -1 if order == "desc" else 1
            if sort == "name":
                exp = sorted(allg.values(), key=lambda g: g["group"].encode(), reverse=order == "desc")
            else:
                exp = sorted(allg.values(), key=lambda g: (sign * g[keys[sort]], int(g["cgroup_id"])))
            exp = [g["cgroup_id"] for g in exp][2:6]
            st, _, b = get(srv.base, "/api/groups?host=%s&state=all&sort=%s&order=%s&limit=4&offset=2"
                           % (MEM_HOST, sort, order))
            got = [g["cgroup_id"] for g in b["groups"]] if st == 200 else st
            if got != exp:
                bad[sort + " " + order] = (got, exp)
    ok(not bad, "/api/groups: all 7 sort keys x 2 orders, a middle page, in the model's order", bad)
    odd = lambda r: r["group"] == text(ODD_NAME)  # noqa: E731
    cases = [("state=all", lambda r: True), ("state=exited", lambda r: r["state"] == "exited"),
             ("uid=1000", lambda r: r["uid"] == 1000 and r["state"] == "alive"),
             ("user=root&state=all", lambda r: r["uid"] == 0),
             ("group=nginx.service", lambda r: r["group"] == "nginx.service" and r["state"] == "alive"),
             ("name=docker", lambda r: "docker" in r["group"] and r["state"] == "alive"),
             ("name=cgroup%3A&state=all", lambda r: "cgroup:" in r["group"]),
             ("name=%22q%22&state=all", odd), ("name=zzz", lambda r: False),
             ("uid=2000&name=o&state=exited", lambda r: r["uid"] == 2000 and "o" in r["group"] and
              r["state"] == "exited")]
    bad = {}
    for q, pred in cases:
        exp = sorted(model_groups(MEM_HOST, pred))
        st, _, b = get(srv.base, "/api/groups?host=%s&limit=1000&%s" % (MEM_HOST, q))
        got = sorted(g["cgroup_id"] for g in b["groups"]) if st == 200 else st
        if got != exp or (st == 200 and b["total"] != len(exp)):
            bad[q] = (got, exp)
    ok(not bad, "/api/groups filters (state, uid, user, group, name substring incl. quotes, combined) equal the"
       " model", bad)
    seen, off = [], 0
    while off < 100:
        st, _, b = get(srv.base, "/api/groups?host=%s&state=all&sort=name&order=asc&limit=2&offset=%d"
                       % (MEM_HOST, off))
        if st != 200 or not b["groups"]:
            break
        seen += [g["cgroup_id"] for g in b["groups"]]
        off += 2
    ok(sorted(seen) == sorted(allg) and len(seen) == len(allg),
       "/api/groups paging (limit 2) visits every group once", (seen, sorted(allg)))
    st, _, b = get(srv.base, "/api/groups?host=%s" % MEM_HOST2)
    ok(st == 200 and b["groups"] and all(g["pct_of_ram"] is None for g in b["groups"]),
       "/api/groups: pct_of_ram is null on a host whose MemTotal is 0")


def model_ooms(pred=lambda o: True):
    out = []
    for k, (host, ts, pid, cg, anon, fil, shm, swap, vm) in enumerate(OOMS):
        cgroup, group, kind = group_of(cg)
        o = {"host": host, "ts_ns": ts, "pid": pid, "start_ns": str(50 + pid - PID_BASE), "uid": 1000,
             "name": "victim%d" % k, "cgroup_id": str(cg), "cgroup": cgroup, "group": group, "group_kind": kind,
             "rss_bytes": anon + fil + shm, "rss_anon_bytes": anon, "rss_file_bytes": fil, "rss_shmem_bytes": shm,
             "swap_bytes": swap, "vm_size_bytes": vm, "session": "0x4d", "seq": str(k + 1)}
        if pred(o):
            out.append(o)
    return sorted(out, key=lambda o: -o["ts_ns"])


def oom(srv, db):
    mine = (MEM_HOST, MEM_HOST2)
    st, _, b = get(srv.base, "/api/oom?limit=1000")
    got = [o for o in b["oom_kills"] if o["host"] in mine] if st == 200 else []
    want = model_ooms()
    bad = [diff(g, w) for g, w in zip(got, want) if diff(g, w)]
    ok(st == 200 and len(got) == len(want) and not bad and
       b["total"] == int(db.one("SELECT COUNT(*) FROM oom_kills")),
       "/api/oom: every seeded kill, newest first, fields equal the rows (group, path, sums, session hex, seq)",
       (st, bad, len(got)))
    cases = [("host=" + MEM_HOST, lambda o: o["host"] == MEM_HOST),
             ("host=%s&pid=%d" % (MEM_HOST, PID_BASE + 7), lambda o: o["host"] == MEM_HOST and o["pid"] == PID_BASE + 7),
             ("pid=%d" % (PID_BASE + 1), lambda o: o["pid"] == PID_BASE + 1),
             ("since_ns=%d" % (3 * 10**18 + 5000), lambda o: o["ts_ns"] >= 3 * 10**18 + 5000),
             ("host=nosuchhost", lambda o: False)]
    bad = {}
    for q, pred in cases:
        exp = [(o["host"], o["seq"]) for o in model_ooms(pred)]
        st, _, b = get(srv.base, "/api/oom?" + q)
        g = [(o["host"], o["seq"]) for o in b["oom_kills"] if o["host"] in mine] if st == 200 else st
        if g != exp:
            bad[q] = (g, exp)
    st, _, b = get(srv.base, "/api/oom?host=%s&limit=1&offset=1" % MEM_HOST)
    exp = model_ooms(lambda o: o["host"] == MEM_HOST)
    if st != 200 or b["total"] != 3 or [o["seq"] for o in b["oom_kills"]] != [exp[1]["seq"]]:
        bad["page"] = (st, b)
    ok(not bad, "/api/oom filters host, pid, since_ns and limit/offset paging (total = all matching)", bad)
    counts = {h: get(srv.base, "/api/stats" + ("?host=" + h if h else ""))[2].get("oom_kills") for h in
              (MEM_HOST, MEM_HOST2, "nosuchhost", "")}
    ok(counts == {MEM_HOST: 3, MEM_HOST2: 1, "nosuchhost": 0, "": int(db.one("SELECT COUNT(*) FROM oom_kills"))},
       "/api/stats oom_kills: the count of the host's kills (all hosts without host=)", counts)


def metric_lines(body, family):
    """{label text: value} of FAMILY's samples."""
    out = {}
    for line in text(body).splitlines():
        if line.startswith(family + "{"):
            labels, _, value = line[len(family) + 1:].rpartition("} ")
            out[labels] = float(value)
    return out


def label(s):
    return s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def top_groups(host, n):
    """The label sets and (resident, virtual) of HOST's top N alive groups."""
    g = sorted(model_groups(host).values(), key=lambda g: (-g["rss_bytes"], int(g["cgroup_id"])))[:n]
    return {'host="%s",group="%s",cgroup_id="%s"' % (host, label(x["group"]), x["cgroup_id"]):
            (float(x["rss_bytes"]), float(x["vm_size_bytes"])) for x in g}  # as the text format has them


def metrics(srv, db, conf):
    st, _, body = get(srv.base, "/metrics")
    r = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True)
    ok(st == 200 and r.returncode == 0, "/metrics with group series (odd names included) passes promtool",
       r.stdout + r.stderr)
    res = metric_lines(body, "memprobe_group_resident_bytes")
    virt = metric_lines(body, "memprobe_group_virtual_bytes")
    want = {**top_groups(MEM_HOST, 20), **top_groups(MEM_HOST2, 20)}
    got = {k: (v, virt.get(k)) for k, v in res.items() if 'host="memhost' in k}
    ok(got == want, "/metrics (default --metrics-groups 20): one resident and one virtual series per alive group"
       " of each host, equal to the sums; the odd name escaped (\\\" \\\\ \\n, U+FFFD)",
       (sorted(set(got.items()) ^ set(want.items()))))
    ok('host="memhost",group="we \\"q\\" a\\\\b\\nz\ufffd",cgroup_id="400"' in res,
       "/metrics: label value of a group named 'we \"q\" a\\b<newline>z<0xff>' is escaped per the text format")
    oom = metric_lines(body, "memprobe_oom_kills_total")
    ok(oom.get('host="memhost"') == 3 and oom.get('host="memhost2"') == 1 and oom.get('host="seedhost"') == 0,
       "/metrics: memprobe_oom_kills_total per host, 0 for a host without kills", oom)
    for n in (3, 0):
        s = Server(conf, ["--metrics-groups", str(n)])
        try:
            st, _, body = get(s.base, "/metrics?host=" + MEM_HOST)
        finally:
            s.stop()
        res = metric_lines(body, "memprobe_group_resident_bytes")
        ok(st == 200 and {k: (v, metric_lines(body, "memprobe_group_virtual_bytes").get(k))
                          for k, v in res.items()} == top_groups(MEM_HOST, n) and len(res) == n,
           "/metrics?host=memhost with --metrics-groups %d: exactly the %d groups with most resident bytes" % (n, n),
           (st, res))
    r = subprocess.run([lib.SERVER, "--config", conf, "--metrics-groups", "501"], capture_output=True, timeout=20)
    ok(r.returncode != 0 and b"--metrics-groups" in r.stderr + r.stdout,
       "--metrics-groups 501 is refused (0 ... 500): the number of series stays bounded")


BAD = [("/api/processes?group=", "group"), ("/api/processes?group=a%0Ab", "group"),
       ("/api/processes?group=" + "g" * 256, "group"), ("/api/processes?sort=resident", "sort"),
       ("/api/groups?sort=pid", "sort"), ("/api/groups?state=zombie", "state"), ("/api/groups?limit=0", "limit"),
       ("/api/groups?limit=1001", "limit"), ("/api/groups?offset=1000001", "offset"),
       ("/api/groups?group=a%01b", "group"), ("/api/groups?name=" + "n" * 256, "name"),
       ("/api/groups?pid=5", "pid"), ("/api/groups?user=nosuchuser_x", "user"), ("/api/groups?uid=-1", "uid"),
       ("/api/groups?host=a%27b", "host"), ("/api/groups?order=up", "order"), ("/api/oom?pid=0", "pid"),
       ("/api/oom?pid=4194305", "pid"), ("/api/oom?since_ns=abc", "since_ns"), ("/api/oom?limit=1001", "limit"),
       ("/api/oom?offset=-1", "offset"), ("/api/oom?sort=ts", "sort"), ("/api/oom?host=bad%20host", "host"),
       ("/api/oom?since_ns=9223372036854775808", "since_ns")]


def bad_input(srv):
    bad = {}
    for url, param in BAD:
        st, _, b = get(srv.base, url)
        if st != 400 or not isinstance(b, dict) or b.get("parameter") != param or not b.get("reason"):
            bad[url[:60]] = (st, b)
    ok(not bad, "%d bad parameters of /api/groups, /api/oom and the new /api/processes ones: 400 naming the"
       " parameter and why" % len(BAD), bad)
    sts = [get(srv.base, u)[0] for u in ("/api/processes?group=" + "g" * 255, "/api/groups?name=" + "n" * 255)]
    ok(sts == [200, 200], "a 255-byte group name (the longest there is) is accepted", sts)


def sse_process_event(srv, db):
    """The process event of a call carries the same fields as the REST row."""
    pid = PID_BASE + 5
    c = SSE(srv.port, query="?host=" + MEM_HOST)
    try:
        c.response()
        db.sql(writer_tx(MEM_HOST, "host_id, session, seq, ts_ns, pid, tid, uid, start_ns, comm, thread_comm, "
                         "syscall, addr, len_bytes, new_addr, new_len_bytes, offset_bytes, prot, flags, fd, result, "
                         "total_vm_bytes", ["(@h, 78, 1, %d, %d, %d, 0, %d, 'mem5', 'mem5', 'mmap', 0, 4096, 0, 0, "
                                            "0, 3, 34, -1, 4096, 4096)" % (time.time_ns(), pid, pid, 55)]))
        evs = c.events(5, until=lambda e: e["event"] == "call" and e["data"]["pid"] == pid)
    finally:
        c.close()
    ev = next((e["data"] for e in evs if e["event"] == "process" and e["data"]["pid"] == pid), {})
    st, _, b = get(srv.base, "/api/processes?host=%s&pid=%d" % (MEM_HOST, pid))
    rest = b["processes"][0] if st == 200 and b["processes"] else {"pid": None}
    ok(ev and not diff(ev, rest) and ev.get("cgroup") == text(LONG_PATH),
       "SSE process event: the same resident, swap and cgroup fields as /api/processes", diff(ev, rest) if ev else evs)


def run(srv, db, conf):
    processes(srv)
    groups(srv)
    oom(srv, db)
    metrics(srv, db, conf)
    bad_input(srv)
    sse_process_event(srv, db)
