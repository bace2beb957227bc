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
        rows.append("(@h,%d,%d,%d,%s,%d,%d,%d,%d,%d,%d,%d,%d,0,0,0,%d,%d,0,0,%d,'')" % (
            pid_base + i, 10 + i, (i % 3) * 1000, hx(proc_name(i)), 1000 + i, 5000 + (i * 31 % 1000),
            1 if i % 4 == 0 else 0, max(raw, 0), raw, (i * 13 % 500) * 4096, (i * 17 % 900 + 100) * 4096,
            (i * 7919 % 1000) * 8192, i, i // 2, i % 5))
    out.append("INSERT INTO processes (host_id, pid, start_ns, uid, comm, first_seen_ns, last_seen_ns, "
               "exited, net_bytes, net_bytes_raw, mapped_bytes, vm_size_bytes, requested_bytes, heap_bytes, "
               "heap_base_bytes, heap_known, n_mmap, n_munmap, n_mremap, n_brk, n_failed, mapped_ranges) "
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
               " queued, spilled_total, lag_ms, rate_eps) VALUES (@h, %d, 'seed', %d, %d, %d, 7, 0, 0, 12, 250.5)"
               " ON DUPLICATE KEY UPDATE rows_committed=VALUES(rows_committed);" % (
                   session, max(n_calls - 1, 0), n_calls, n_calls + 7))
    return "\n".join(out)
