"""tests/server/seed.py - SQL for a synthetic host the suite controls exactly:
processes with awkward names (quotes, backslash, invalid UTF-8, SQL), and
calls for paging and filters.  Imported by run-tests and bench/server."""

SEED_HOST = "seedhost"
MEM_BYTES, SWAP_BYTES = 4 << 30, 1 << 30
NAMES = [b'we "q" a\\b', b"x\xff\xfey", b"caf\xc3\xa9", b"';DROP TABLE x--", b"<script>"]
CALLS = ["mmap", "munmap", "mremap", "brk", "mmap"]


def hx(b):
    return "X'%s'" % b.hex() if b else "''"


def proc_name(i):
    return NAMES[i] if i < len(NAMES) else b"worker%d" % (i % 37)


def seed_sql(n_procs=150, n_calls=3000, session=42, host=SEED_HOST, pid_base=100000):
    out = ["INSERT INTO hosts (name, mem_total_bytes, swap_total_bytes) VALUES ('%s', %d, %d)"
           " ON DUPLICATE KEY UPDATE mem_total_bytes=VALUES(mem_total_bytes);" % (host, MEM_BYTES, SWAP_BYTES),
           "SET @h = (SELECT host_id FROM hosts WHERE name='%s');" % host]
    rows = []
    for i in range(n_procs):
        raw = (i * 7919 % 1000 - 100) * 4096
        rows.append("(@h,%d,%d,%d,%s,%d,%d,%d,%d,%d,%d,%d,%d,0,0,0,%d,%d,0,0,%d)" % (
            pid_base + i, 10 + i, (i % 3) * 1000, hx(proc_name(i)), 1000 + i, 5000 + (i * 31 % 1000),
            1 if i % 4 == 0 else 0, max(raw, 0), raw, (i * 13 % 500) * 4096, (i * 17 % 900 + 100) * 4096,
            (i * 7919 % 1000) * 8192, i, i // 2, i % 5))
    out.append("INSERT INTO processes (host_id, pid, start_ns, uid, comm, first_seen_ns, last_seen_ns, "
               "exited, net_bytes, net_bytes_raw, mapped_bytes, vm_size_bytes, requested_bytes, heap_bytes, "
               "heap_base_bytes, heap_known, n_mmap, n_munmap, n_mremap, n_brk, n_failed) "
               "VALUES %s;" % ",".join(rows))
    for start in range(0, n_calls, 1000):
        rows = []
        for s in range(start, min(n_calls, start + 1000)):
            i = s % 20
            rows.append("(@h,%d,%d,%d,%d,%d,%d,%d,%s,%s,'%s',%d,%d,0,0,0,3,34,-1,%d,%d)" % (
                session, s, 10**18 + s * 1000, pid_base + i, pid_base + i, (i % 3) * 1000, 10 + i,
                hx(proc_name(i)), hx(proc_name(i)), CALLS[s % 5], 0x7f0000000000 + s * 4096, 4096 * (1 + s % 8),
                -12 if s % 97 == 0 else 0x7f0000000000 + s * 4096, (1 << 20) + s * 4096))
        out.append("INSERT INTO calls (host_id, session, seq, ts_ns, pid, tid, uid, start_ns, comm, "
                   "thread_comm, syscall, addr, len_bytes, new_addr, new_len_bytes, offset_bytes, prot, flags, "
                   "fd, result, total_vm_bytes) VALUES %s;" % ",".join(rows))
    out.append("INSERT INTO capture_stats (host_id, session, source, committed_seq, rows_committed, seen, drops,"
               " queued, spilled_total, lag_ms, rate_eps, skipped) VALUES (@h, %d, 'seed', %d, %d, %d, 7, 0, 0, 12,"
               " 250.5, 5)"
               " ON DUPLICATE KEY UPDATE rows_committed=VALUES(rows_committed);" % (
                   session, max(n_calls - 1, 0), n_calls, n_calls + 7))
    return "\n".join(out)


# A process on its own host whose replayed series is known call by call
# (model/acct.c rules): two capture sessions, the one with the smaller id
# captured later, so replay order must be by session start, then seq.
SERIES_HOST, SERIES_PID, SERIES_START = "serieshost", 4242, 777
PG, A, B, C = 4096, 0x10000000, 0x20000000, 0x30000000
# (session, syscall, addr, len, new_len, flags, result) and the state after:
# (net shown, mapped); vm is (100 + i) pages.
SERIES_CALLS = [
    (900, "mmap", 0, 3 * PG, 0, 34, A, 3 * PG, 3 * PG),
    (900, "munmap", A + PG, PG, 0, 0, 0, 2 * PG, 2 * PG),              # partial
    (900, "mremap", A, PG, 3 * PG, 1, B, 2 * PG, 4 * PG),              # move + grow
    (900, "brk", 0, 0x21000, 0, 0, 0x555000, 2 * PG, 4 * PG),          # heap baseline
    (900, "brk", 0x557000, 0x23000, 0, 0, 0x557000, 2 * PG, 6 * PG),   # heap +2 pages
    (5, "mmap", 0, PG, 0, 34, -12, 2 * PG, 6 * PG),                    # failed
    (5, "brk", 0x600000, 0x23000, 0, 0, 0x557000, 2 * PG, 6 * PG),     # refused
    (5, "munmap", B, 2 * PG, 0, 0, 0, 0, 4 * PG),
    (5, "munmap", A + 2 * PG, 2 * PG, 0, 0, 0, 0, 3 * PG),             # net -2 pages: shown 0
    (5, "mmap", 0, 5 * PG, 0, 34, C, 3 * PG, 8 * PG),
]
SERIES_T0 = 2 * 10**18


def series_points():
    """[ts_ns, net_bytes, mapped_bytes, vm_size_bytes] after each call."""
    return [[SERIES_T0 + i * 1000, c[7], c[8], (100 + i) * PG] for i, c in enumerate(SERIES_CALLS)]


def series_seed_sql():
    last = series_points()[-1]
    out = ["INSERT INTO hosts (name, mem_total_bytes, swap_total_bytes) VALUES ('%s', %d, 0)"
           " ON DUPLICATE KEY UPDATE mem_total_bytes=VALUES(mem_total_bytes);" % (SERIES_HOST, MEM_BYTES),
           "SET @h = (SELECT host_id FROM hosts WHERE name='%s');" % SERIES_HOST]
    out.append("INSERT INTO processes (host_id, pid, start_ns, uid, comm, first_seen_ns, last_seen_ns, "
               "exited, net_bytes, net_bytes_raw, mapped_bytes, vm_size_bytes, requested_bytes, heap_bytes, "
               "heap_base_bytes, heap_known, n_mmap, n_munmap, n_mremap, n_brk, n_failed) "
               "VALUES (@h,%d,%d,1000,'series',%d,%d,0,%d,%d,%d,%d,%d,%d,%d,1,3,3,1,3,2);" % (
                   SERIES_PID, SERIES_START, SERIES_T0, last[0], last[1], last[1], last[2], last[3],
                   8 * PG, 0x23000, 0x21000))
    rows = []
    for i, (sess, call, addr, ln, new_len, flags, res, _, _) in enumerate(SERIES_CALLS):
        rows.append("(@h,%d,%d,%d,%d,%d,1000,%d,'series','series','%s',%d,%d,%d,%d,0,3,%d,-1,%d,%d)" % (
            sess, i, SERIES_T0 + i * 1000, SERIES_PID, SERIES_PID, SERIES_START, call, addr, ln,
            res if call == "mremap" else 0, new_len, flags, res, (100 + i) * PG))
    out.append("INSERT INTO calls (host_id, session, seq, ts_ns, pid, tid, uid, start_ns, comm, "
               "thread_comm, syscall, addr, len_bytes, new_addr, new_len_bytes, offset_bytes, prot, flags, "
               "fd, result, total_vm_bytes) VALUES %s;" % ",".join(rows))
    return "\n".join(out)


# A process with more calls than the server replays (run-tests starts it
# with --series-max-calls BIG_CAP): mmap i maps page i, so after call i
# net = mapped = (i + 1) pages and VmSize = (1000 + i) pages.
BIG_HOST, BIG_PID, BIG_START, BIG_CAP, BIG_CALLS = "bighost", 777, 5, 1000, 1010


def big_seed_sql():
    return "\n".join([
        "INSERT INTO hosts (name, mem_total_bytes, swap_total_bytes) VALUES ('%s', %d, 0)"
        " ON DUPLICATE KEY UPDATE mem_total_bytes=VALUES(mem_total_bytes);" % (BIG_HOST, MEM_BYTES),
        "SET @h = (SELECT host_id FROM hosts WHERE name='%s');" % BIG_HOST,
        "INSERT INTO processes (host_id, pid, start_ns, uid, comm, first_seen_ns, last_seen_ns, exited, net_bytes,"
        " net_bytes_raw, mapped_bytes, vm_size_bytes, requested_bytes, heap_bytes, heap_base_bytes, heap_known,"
        " n_mmap, n_munmap, n_mremap, n_brk, n_failed) VALUES (@h,%d,%d,0,'big',%d,%d,0,%d,%d,%d,%d,"
        "%d,0,0,0,%d,0,0,0,0);" % (BIG_PID, BIG_START, SERIES_T0, SERIES_T0 + BIG_CALLS - 1, BIG_CALLS * PG,
                                     BIG_CALLS * PG, BIG_CALLS * PG, (1000 + BIG_CALLS - 1) * PG, BIG_CALLS * PG,
                                     BIG_CALLS),
        "INSERT INTO calls (host_id, session, seq, ts_ns, pid, tid, uid, start_ns, comm, thread_comm, syscall, addr,"
        " len_bytes, new_addr, new_len_bytes, offset_bytes, prot, flags, fd, result, total_vm_bytes)"
        " SELECT @h, 1, seq, %d + seq, %d, %d, 0, %d, 'big', 'big', 'mmap', 0, %d, 0, 0, 0, 3, 34, -1,"
        " %d + seq * %d, (1000 + seq) * %d FROM seq_0_to_%d;" % (SERIES_T0, BIG_PID, BIG_PID, BIG_START, PG, A, PG,
                                                                 PG, BIG_CALLS - 1)])
