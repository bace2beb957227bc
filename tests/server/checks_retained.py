"""tests/server/checks_retained.py - /api/processes/{pid} after retention
purged a process's first calls (lector/retain.c): the series is its
checkpoints whose call is gone (sampled, up to sampled_until_ns), then the
calls still stored replayed from the newest of them, each point equal to
the suite's own replay from zero of every call (seed_timetravel.Proc), the
purged ones too: munmaps of purged mmaps take from mapped, held counts the
purged calls' bytes.  Without a purge the series says sampled_until_ns
null (checks_series)."""
from lib import get, ok
from seed import SERIES_HOST, SERIES_PID, SERIES_START
from seed_timetravel import PG, Proc, hx

RET_HOST, RET_PID, RET_START = "rethost", 6001, 66
T0, STEP = 1700 * 10**15, 1000
SESSION = 9
A, B, C, D, E, F, G, H = (0x10000000 + i * 0x1000000 for i in range(8))
ANON = 0x22
# (syscall, addr, len, result); checkpoints after calls 3, 7 and 12; the
# calls before PURGED_BEFORE are purged (8 and 9 after the last checkpoint
# before them: held is short of them until checkpoint 12 says by how much)
CALLS = [("mmap", 0, 8 * PG, A), ("mmap", 0, 4 * PG, B), ("brk", 0, 0x21000, 0x555000),
         ("mmap", 0, 2 * PG, C), ("munmap", A, 2 * PG, 0), ("mmap", 0, 16 * PG, D),
         ("brk", 0x557000, 0x24000, 0x557000), ("mmap", 0, 3 * PG, E), ("mmap", 0, 5 * PG, F),
         ("munmap", B, 4 * PG, 0), ("munmap", A + 2 * PG, 6 * PG, 0), ("munmap", D, 16 * PG, 0),
         ("mmap", 0, PG, G), ("munmap", F, 5 * PG, 0), ("mmap", 0, 2 * PG, H), ("munmap", E, 3 * PG, 0)]
CHECKPOINTS = (3, 7, 12)
PURGED_BEFORE = 10


def ts(g):
    return T0 + g * STEP


def model_calls():
    return [((RET_PID, RET_START), sc, addr, ln, 0, ANON if sc == "mmap" else 0, 3 if sc == "mmap" else 0,
             res, None, 0, 0) for sc, addr, ln, res in CALLS]


def seed(db):
    st, rows, ck, states = Proc(), [], [], []
    for g, call in enumerate(model_calls()):
        st.apply(g, call)
        sc, addr, ln, res = CALLS[g]
        states.append([ts(g), max(st.net, 0), st.mapped(), st.vm])
        rows.append("(@h,%d,%d,%d,%d,%d,1000,%d,'ret','ret','%s',%d,%d,0,0,0,%d,%d,-1,%d,%d,%d)" % (
            SESSION, g, ts(g), RET_PID, RET_PID, RET_START, sc, addr, ln, call[6], call[5], res, st.vm,
            st.mapped()))
        if g in CHECKPOINTS:
            r = st.row()
            ck.append("(@h,%d,%d,%d,%d,%d,1000,'ret',0,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,0,0,0,0,0,0)" % (
                RET_PID, RET_START, ts(g), SESSION, g, st.net, st.mapped(), st.vm, st.requested, st.heap,
                st.heap_base, st.heap_known, r["n_mmap"], r["n_munmap"], r["n_mremap"], r["n_brk"],
                r["n_failed"]))
    r = st.row()
    db.sql("\n".join([
        "INSERT INTO hosts (name) VALUES ('%s');" % RET_HOST,
        "SET @h = (SELECT host_id FROM hosts WHERE name='%s');" % RET_HOST,
        "INSERT INTO calls (host_id, session, seq, ts_ns, pid, tid, uid, start_ns, comm, thread_comm, syscall,"
        " addr, len_bytes, new_addr, new_len_bytes, offset_bytes, prot, flags, fd, result, total_vm_bytes,"
        " mapped_bytes) VALUES %s;" % ",".join(rows),
        "INSERT INTO checkpoints (host_id, pid, start_ns, ts_ns, session, seq, uid, comm, exited,"
        " net_bytes_raw, mapped_bytes, vm_size_bytes, requested_bytes, heap_bytes, heap_base_bytes,"
        " heap_known, n_mmap, n_munmap, n_mremap, n_brk, n_failed, rss_anon_bytes, rss_file_bytes,"
        " rss_shmem_bytes, swap_bytes, rss_ts_ns, cgroup_id) VALUES %s;" % ",".join(ck),
        "INSERT INTO processes (host_id, pid, start_ns, uid, comm, first_seen_ns, last_seen_ns, exited,"
        " net_bytes, net_bytes_raw, mapped_bytes, vm_size_bytes, requested_bytes, heap_bytes, heap_base_bytes,"
        " heap_known, n_mmap, n_munmap, n_mremap, n_brk, n_failed) VALUES (@h,%d,%d,1000,%s,%d,%d,0,%d,%d,%d,"
        "%d,%d,%d,%d,%d,%d,%d,%d,%d,%d);" % (RET_PID, RET_START, hx(b"ret"), ts(0), st.last_seen, max(st.net, 0),
                                             st.net, st.mapped(), st.vm, st.requested, st.heap, st.heap_base,
                                             st.heap_known, r["n_mmap"], r["n_munmap"], r["n_mremap"],
                                             r["n_brk"], r["n_failed"]),
        # retention: the calls before call PURGED_BEFORE are gone
        "DELETE FROM calls WHERE host_id = @h AND ts_ns < %d;" % ts(PURGED_BEFORE)]))
    return states


def run(srv, db):
    states = seed(db)
    sampled = [states[g] for g in CHECKPOINTS if g < PURGED_BEFORE]
    url = "/api/processes/%d?host=%s&start_ns=%d" % (RET_PID, RET_HOST, RET_START)
    st, _, b = get(srv.base, url)
    got = b.get("series") if st == 200 else b
    want = sampled + states[PURGED_BEFORE:]
    ok(st == 200 and got == want and b.get("sampled_until_ns") == str(ts(CHECKPOINTS[1])) and
       b.get("calls") == len(CALLS) - PURGED_BEFORE and b.get("series_truncated") is False,
       "/api/processes/{pid} after retention purged its first %d calls: the series is its checkpoints of "
       "purged calls (sampled, sampled_until_ns) then the stored calls replayed from the newest of them, equal "
       "to a replay from zero of every call (munmaps of purged mmaps, held with the purged calls' bytes)"
       % PURGED_BEFORE, {"got": got, "want": want, "sampled_until_ns": b.get("sampled_until_ns")})
    st, _, b = get(srv.base, url + "&at=%d" % ts(13))
    got = b.get("series") if st == 200 else b
    want = sampled + states[PURGED_BEFORE:14]
    ok(st == 200 and got == want and b.get("sampled_until_ns") == str(ts(CHECKPOINTS[1])),
       "/api/processes/{pid}?at=T after the purge: the same series cut at T", {"got": got, "want": want})
    st, _, b = get(srv.base, url + "&at=%d" % ts(8))
    got = b.get("series") if st == 200 else b
    ok(st == 200 and got == sampled and b.get("sampled_until_ns") == str(ts(CHECKPOINTS[1])) and
       b.get("calls") == 0, "/api/processes/{pid}?at=T before the oldest stored call: the checkpoints alone",
       {"got": got, "want": sampled})
    st, _, b = get(srv.base, "/api/processes/%d?host=%s&start_ns=%d" % (SERIES_PID, SERIES_HOST, SERIES_START))
    ok(st == 200 and "sampled_until_ns" in b and b["sampled_until_ns"] is None and len(b.get("series", [])) == 10,
       "/api/processes/{pid} of a process whose calls are all kept: sampled_until_ns null, every point a call",
       {k: b.get(k) for k in ("sampled_until_ns", "calls")})
