"""tests/server/seed_memory.py - rows of real memory (migration 017) the
suite controls exactly: two hosts, their processes' resident/swap bytes and
cgroups, the cgroups table (named, unnamed, with a path of 3000 bytes, a
name that needs escaping, an id above 2^53) and OOM kills."""

MEM_HOST, MEM_HOST2 = "memhost", "memhost2"
MEM_RAM = 8 << 30
PG = 4096
BIG_ID = (1 << 63) + 5  # not exact as a double: must come back as a string
HUGE_VM = (1 << 60) + 1  # no double holds it: must come back as its digits
LONG_PATH = b"/k" + b"/x" * 1499  # 3000 bytes: longer than a fetch buffer
ODD_NAME = b'we "q" a\\b\nz\xff'  # quote, backslash, newline, invalid UTF-8
# (cgroup_id, path or None, name, kind)
CGROUPS = [
    (1, b"/", b"host", "host"),
    (100, b"/system.slice/nginx.service", b"nginx.service", "systemd"),
    (200, b"/system.slice/docker-" + b"ab" * 32 + b".scope", b"docker:" + b"ab" * 6, "docker"),
    (300, None, b"cgroup:300", "unknown"),
    (400, b"/odd", ODD_NAME, "cgroup"),
    (500, LONG_PATH, b"x", "cgroup"),
    (BIG_ID, b"/kubepods.slice/pod1", b"pod:1-2-3", "kubernetes"),
]
# every process's cgroup: the named ones, 0 (unknown) and 999 (no row)
PROC_CGROUPS = [1, 100, 200, 300, 400, 500, BIG_ID, 0, 999]
N_PROCS = 45
PID_BASE = 300000
# (host, ts_ns, pid, cgroup_id, anon, file, shmem, swap, vm)
OOMS = [
    (MEM_HOST, 3 * 10**18 + 5000, PID_BASE + 7, 100, 900 * PG, 10 * PG, 2 * PG, 3 * PG, 2000 * PG),
    (MEM_HOST, 3 * 10**18 + 1000, PID_BASE + 8, 999, 50 * PG, 0, 0, 0, 100 * PG),
    (MEM_HOST, 3 * 10**18 + 9000, PID_BASE + 7, 0, 1 * PG, 1 * PG, 1 * PG, 1 * PG, 10 * PG),
    (MEM_HOST2, 3 * 10**18 + 7000, PID_BASE + 1, BIG_ID, 70 * PG, 7 * PG, 0, 0, 300 * PG),
]


def hx(b):
    return "X'%s'" % b.hex() if b else "''"


def proc_row(i):
    """(pid, start_ns, uid, comm, exited, anon, file, shmem, swap, rss_ts_ns, cgroup_id, vm, net)"""
    return (PID_BASE + i, 50 + i, (i % 3) * 1000, b"mem%d" % (i % 11), 1 if i % 5 == 0 else 0,
            (i * 7919 % 997) * PG, (i * 31 % 101) * PG, (i % 4) * PG, (i * 13 % 7) * PG,
            0 if i == 3 else 3 * 10**18 + i, PROC_CGROUPS[i % len(PROC_CGROUPS)],
            HUGE_VM if i == 2 else (i * 17 % 900 + 100) * PG, (i * 7 % 300) * PG)


def mem_seed_sql():
    out = ["INSERT INTO hosts (name, mem_total_bytes, swap_total_bytes) VALUES ('%s', %d, 0), ('%s', 0, 0)"
           " ON DUPLICATE KEY UPDATE mem_total_bytes=VALUES(mem_total_bytes);" % (MEM_HOST, MEM_RAM, MEM_HOST2)]
    for host in (MEM_HOST, MEM_HOST2):
        out.append("SET @h = (SELECT host_id FROM hosts WHERE name='%s');" % host)
        out.append("INSERT INTO cgroups (host_id, cgroup_id, path, name, kind, resolved_ns) VALUES %s;" % ",".join(
            "(@h,%d,%s,%s,'%s',1)" % (cid, hx(path) if path else "NULL", hx(name), kind)
            for cid, path, name, kind in CGROUPS))
        rows = []
        for i in range(N_PROCS if host == MEM_HOST else 5):
            pid, start, uid, comm, exited, anon, fil, shm, swap, ts, cg, vm, net = proc_row(i)
            rows.append("(@h,%d,%d,%d,%s,1,2,%d,%d,%d,%d,%d,%d,0,0,0,1,0,0,0,0,%d,%d,%d,%d,%d,%d)" % (
                pid, start, uid, hx(comm), exited, net, net, net // 2, vm, net, anon, fil, shm, swap, ts, cg))
        out.append("INSERT INTO processes (host_id, pid, start_ns, uid, comm, first_seen_ns, last_seen_ns, exited,"
                   " net_bytes, net_bytes_raw, mapped_bytes, vm_size_bytes, requested_bytes, heap_bytes,"
                   " heap_base_bytes, heap_known, n_mmap, n_munmap, n_mremap, n_brk, n_failed, rss_anon_bytes,"
                   " rss_file_bytes, rss_shmem_bytes, swap_bytes, rss_ts_ns, cgroup_id) VALUES %s;" % ",".join(rows))
    for k, (host, ts, pid, cg, anon, fil, shm, swap, vm) in enumerate(OOMS):
        out.append("INSERT INTO oom_kills (host_id, session, seq, ts_ns, pid, start_ns, uid, comm, cgroup_id,"
                   " rss_anon_bytes, rss_file_bytes, rss_shmem_bytes, swap_bytes, total_vm_bytes) SELECT host_id,"
                   " 77, %d, %d, %d, %d, 1000, 'victim%d', %d, %d, %d, %d, %d, %d FROM hosts WHERE name='%s';" % (
                       k + 1, ts, pid, 50 + pid - PID_BASE, k, cg, anon, fil, shm, swap, vm, host))
    return "\n".join(out)
