/*
 * tt_set.h - the state set of time travel (timetravel.h): one process at an
 * instant T and the set of them, the query that names them, and what
 * timetravel.c, tt_checkpoints.c and tt_fold.c share below them: the stored
 * calls as records again (record_of_call, also for every replay of the
 * server: proc_series.c, ledger.c), finding a process in a set, its comm.
 * It uses nothing of those three files, so they call down into it only.
 */
#ifndef MEMPROBE_SERVER_TT_SET_H
#define MEMPROBE_SERVER_TT_SET_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "acct.h"
#include "db.h"
#include "host_id.h"

/* The columns record_of_call() reads, in its order (c: calls). */
#define REPLAY_COLUMNS                                                                             \
	"c.ts_ns, c.syscall, c.addr, c.len_bytes, c.new_addr, c.new_len_bytes, c.flags, c.result," \
	" c.total_vm_bytes, c.uid, c.comm, c.prot, c.offset_bytes, c.fd, c.file_dev, c.file_ino,"  \
	" c.rss_anon_bytes, c.rss_file_bytes, c.rss_shmem_bytes, c.swap_bytes, c.cgroup_id,"       \
	" c.mapped_bytes, c.cid"
#define REPLAY_NCOLS	   23
#define REPLAY_COL_MAPPED  21 /* calls.mapped_bytes: acct_mapped_bytes after the call */
#define REPLAY_COL_CID	   22

/* One stored call (REPLAY_COLUMNS at c[0..]) back into the record lector
 * folded; pid and start_ns are the caller's. */
void record_of_call(char **c, unsigned long *len, struct memprobe_record *rec);

/* At most this many processes whose state at an instant is computed (not
 * those that had exited by then: their processes rows are the answer),
 * and this many in all, are considered for one instant: more is a 413
 * that says to narrow with host= (or pid=, state=alive). */
#define TT_MAX_PROCS 20000
#define TT_MAX_ROWS  100000 /* 688 bytes each (struct tt_proc) */

enum tt_state { TT_UNSEEN, TT_ALIVE, TT_EXITED };

#define TT_GROUP_NAME_MAX_BYTES 255

/* One process at T: its processes-row measures as they were then. */
struct tt_proc {
	uint16_t host_id;
	char host[MP_HOST_ID_MAX + 1];
	uint32_t pid;
	uint64_t start_ns, first_seen_ns, last_seen_ns;
	uint64_t mem_total_bytes, swap_total_bytes;
	int state; /* enum tt_state */
	bool exact;
	uint32_t uid;
	char comm[MEMPROBE_COMM_LEN + 1];
	unsigned long comm_len;
	int64_t net_bytes_raw;
	uint64_t mapped_bytes, vm_size_bytes, requested_bytes;
	uint64_t heap_bytes, heap_base_bytes;
	bool heap_known;
	uint64_t count[ACCT_N_MAX];
	struct acct_mem mem;
	uint64_t cgroup_id;
	/* its group (rows.h, GROUP_COLUMNS): path NULL when unknown */
	char *group_path;
	unsigned long group_path_len;
	char group[TT_GROUP_NAME_MAX_BYTES + 1], group_kind[16];
	/* where the state comes from (timetravel.c) */
	bool pending, k_known, h_known; /* checkpoints to look up; looked up */
	bool met[2];			/* the checkpoint before / after T met by a scan */
	uint64_t key[2][3];		/* its ts_ns, session, seq */
	bool ckpt, ckpt_call_gone, need_calls, from_zero, in_window;
	bool in_snap, snap_zero, snap_gone; /* tt_snap.c: in the snapshot, born after it, neither */
	uint64_t lo_cid, hi_cid, folded, row_cgroup_id;
	struct acct_proc *ap;
};

struct tt_set {
	struct tt_proc *p;
	size_t n;
};

/* Which processes: host ('' = all), pid (0 = all), start_ns (0 = all);
 * those seen at or before at_ns.  skip_exited_ns: leave out the processes
 * that had exited at or before it (0: keep them). */
struct tt_query {
	const char *host;
	uint64_t pid, start_ns, at_ns, skip_exited_ns;
	unsigned int max_calls; /* calls folded at most, all processes together */
	bool admitted;		/* the caller holds a slot of tt_admit() for it */
};

/* The helpers timetravel.c, tt_checkpoints.c and tt_fold.c share (tt_set.c). */
static inline uint64_t tt_u64(const char *s)
{
	return strtoull(s, NULL, 10);
}
void tt_set_comm(struct tt_proc *p, const char *s, unsigned long n);
/* The process (host_id, pid, start_ns) in s, whose processes are in that
 * order (query 1's), or NULL. */
struct tt_proc *tt_find_proc(struct tt_set *s, uint64_t host_id, uint64_t pid, uint64_t start_ns);
/* Each pending process's checkpoint at or before T and the cid of the next
 * one's call (tt_checkpoints.c). */
int tt_checkpoints_around(struct db_pool *db, struct tt_set *s, uint64_t at_ns, char *err,
			  size_t errlen);
/* The pending processes a host snapshot answers, no longer pending
 * (tt_snap.c); the others are left as they were. */
struct tt_query;
int tt_from_snapshots(struct db_pool *db, const struct tt_query *q, struct tt_set *s, char *err,
		      size_t errlen);
/* Query 2 and the fold of every process that needs calls (tt_fold.c). */
int tt_fold_all(struct db_pool *db, const struct tt_query *q, struct tt_set *s, char *err,
		size_t errlen);

/* p's scalars into a (an empty range set: the ranges are not in a
 * checkpoint) as process key (pid in a), p->ap then its acct_proc
 * (NULL when it had exited). */
struct acct;
int tt_restore(struct acct *a, struct tt_proc *p, uint32_t key);
/* p's measures from its folded acct_proc (p->ap). */
void tt_take_state(struct tt_proc *p);

#endif
