/*
 * checkpoint.h - what lector folds from each record besides the process's
 * totals (checkpoint.c): the process's mapped_bytes right after the call
 * (calls.mapped_bytes), and checkpoints, the process's state right after
 * one of its calls (table checkpoints, migration 019; README.md, "What
 * the numbers mean").
 *
 * A process gets a checkpoint at a call when, counting that call, it made
 * every_calls calls since its last checkpoint, or its last checkpoint is
 * every_ns older than the call (its first call: it has none yet), or the
 * call is its exit.  every_calls 0: no checkpoints at all.  The writer
 * folds a batch once and commits it as many times as it takes, so the
 * checkpoints and the per-call values live beside the batch until then.
 */
#ifndef MEMPROBE_CHECKPOINT_H
#define MEMPROBE_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acct.h"
#include "queue.h"

/* Per entry of a batch, what lector computed and the record does not
 * carry.  The sink binds the calls insert row-wise, every column advancing
 * by sizeof(struct qent), so an entry's extra is padded to that size and
 * bound beside the entries; the spill file's struct qent stays as it is.
 * cid is the sink's to fill at each commit attempt (sink_mysql_lease.c). */
struct qext {
	uint64_t mapped_bytes; /* acct_mapped_bytes() of its process right after it */
	uint64_t cid;	       /* set by the MariaDB sink: from its cid lease */
	unsigned char pad_[sizeof(struct qent) - 2 * sizeof(uint64_t)];
};
_Static_assert(sizeof(struct qext) == sizeof(struct qent), "qext is bound with qent's row size");

/* One checkpoints row: the processes row's state (sink_mysql_stmt.h,
 * PROC_TABLE) right after the call (session, seq) at ts_ns.  Numbers are
 * u64 (net_bytes_raw: s64) as the sink binds them row-wise. */
struct ckpt {
	uint64_t pid, start_ns, ts_ns, session, seq, uid;
	char comm[MEMPROBE_COMM_LEN];
	unsigned long comm_len;
	uint64_t exited;
	int64_t net_bytes_raw;
	uint64_t mapped_bytes, vm_size_bytes, requested_bytes;
	uint64_t heap_bytes, heap_base_bytes, heap_known;
	uint64_t n_mmap, n_munmap, n_mremap, n_brk, n_failed;
	uint64_t rss_anon_bytes, rss_file_bytes, rss_shmem_bytes, swap_bytes, rss_ts_ns;
	uint64_t cgroup_id;
	uint64_t last_seen_ns; /* a snapshot's row only (the checkpoint's is ts_ns) */
};

struct ckpt_policy {
	unsigned int every_calls; /* --checkpoint-calls; 0: none */
	uint64_t every_ns;	  /* --checkpoint-secs, in ns */
	unsigned int snap_calls;  /* --snapshot-calls; 0: no snapshots */
};

/* A batch's checkpoints: at most one per record, so cap = the batch's
 * size and adding never allocates. */
struct ckpt_list {
	struct ckpt *row;
	size_t n, cap;
};

/* cap rows (none when the policy takes no checkpoints): 0 or -ENOMEM. */
int ckpt_list_init(struct ckpt_list *l, size_t cap, const struct ckpt_policy *pol);
void ckpt_list_free(struct ckpt_list *l);

/* Fold e's record into a (acct_apply), set x->mapped_bytes, and add p's
 * checkpoint to l when one is due.  A record acct could not apply (no
 * memory for a new process) gets mapped_bytes 0 and no checkpoint. */
void ckpt_apply(struct acct *a, const struct qent *e, struct qext *x, struct ckpt_list *l,
		const struct ckpt_policy *pol);

/*
 * Snapshots (table snapshots, migration 022): every live process's state
 * at one point of the stream, right after a call, taken when the host made
 * snap_calls calls per process accounting holds since the last one, so a
 * snapshot costs about one row per snap_calls calls.  Each row is a struct
 * ckpt whose ts_ns, session and seq are the snapshot's: its ts_ns is the
 * newest ts_ns folded in the session by then (from the newest call of the
 * processes held when the session's first record is folded: a restarted
 * lector holds calls the run before folded), so no call in it is after
 * ts_ns.  The calls after it are those of higher cid: lector folds and
 * numbers them in ring order, which may differ a little from seq order.
 * The server answers an instant from the snapshot before it and the host's
 * calls after it (server/tt_snap.c).
 */
struct snap_state {
	uint64_t session; /* of the calls counted; a new session starts over */
	uint64_t calls;	  /* since the last snapshot */
	uint64_t max_ts;  /* newest ts_ns folded in the session */
};

/* After e's record was folded (ckpt_apply): count it, and when a snapshot
 * is due append every live process of a to l (grown as needed).  -ENOMEM:
 * the snapshot is dropped whole (the server then answers without it). */
int snap_after(struct acct *a, const struct qent *e, struct snap_state *s, struct ckpt_list *l,
	       const struct ckpt_policy *pol);

#endif
