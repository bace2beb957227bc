/*
 * sink_mysql_stmt.h - inside the MariaDB sink (sink_mysql*.c only): its
 * prepared statements (sink_mysql_stmt.c), the ranges' (sink_mysql_ranges.c)
 * and what it reads back (sink_mysql_read.c).  Connecting, the hosts table
 * and migrations are db/'s; lector's other files see only sink.h.
 */
#ifndef MEMPROBE_SINK_MYSQL_STMT_H
#define MEMPROBE_SINK_MYSQL_STMT_H

#include <mysql.h>

#include "acct.h"
#include "queue.h"
#include "resolve.h"
#include "sink.h"

struct range_batch;

/* The processes table, one column a row: kind U (unsigned), S (signed) or
 * COMM; the value written from p (struct acct_proc); the upsert
 * (db/db_columns.h); R: read back into that field when lector restarts
 * (sink_mysql_read.c), W: written only (the read-back recomputes it). */
#define PROC_TABLE(X)                                                                              \
	X(pid, U, p->pid, KEEP, R)                                                                 \
	X(start_ns, U, p->start_ns, KEEP, R)                                                       \
	X(uid, U, p->uid, SET, R)                                                                  \
	X(comm, COMM, p->comm, SET, R)                                                             \
	X(first_seen_ns, U, p->first_seen_ns, KEEP, R)                                             \
	X(last_seen_ns, U, p->last_seen_ns, SET, R)                                                \
	X(exited, U, p->exited, SET, W)                                                            \
	X(net_bytes, U, acct_net_bytes_shown(p), SET, W)                                           \
	X(net_bytes_raw, S, p->net_bytes, SET, R)                                                  \
	X(mapped_bytes, U, acct_mapped_bytes(p), SET, W)                                           \
	X(vm_size_bytes, U, p->vm_size_bytes, SET, R)                                              \
	X(requested_bytes, U, p->requested_bytes, SET, R)                                          \
	X(heap_bytes, U, p->heap_bytes, SET, R)                                                    \
	X(heap_base_bytes, U, p->heap_base_bytes, SET, R)                                          \
	X(heap_known, U, p->heap_known, SET, R)                                                    \
	X(n_mmap, U, p->count[ACCT_N_MMAP], SET, R)                                                \
	X(n_munmap, U, p->count[ACCT_N_MUNMAP], SET, R)                                            \
	X(n_mremap, U, p->count[ACCT_N_MREMAP], SET, R)                                            \
	X(n_brk, U, p->count[ACCT_N_BRK], SET, R)                                                  \
	X(n_failed, U, p->count[ACCT_N_FAILED], SET, R)                                            \
	X(rss_anon_bytes, U, p->mem.rss_anon_bytes, SET, R)                                        \
	X(rss_file_bytes, U, p->mem.rss_file_bytes, SET, R)                                        \
	X(rss_shmem_bytes, U, p->mem.rss_shmem_bytes, SET, R)                                      \
	X(swap_bytes, U, p->mem.swap_bytes, SET, R)                                                \
	X(rss_ts_ns, U, p->mem.ts_ns, SET, R)                                                      \
	X(cgroup_id, U, p->cgroup_id, SET, R)

struct mysql_stmts {
	MYSQL_STMT *calls;
	uint64_t calls_stored; /* of the last stmts_insert_calls: rows new, not ignored */
	MYSQL_STMT *proc;
	MYSQL_STMT *stats;
	MYSQL_STMT *ranges_clear, *ranges_del, *ranges_put;
	MYSQL_STMT *oom;	     /* sink_mysql_oom.c */
	MYSQL_STMT *ckpt, *snap;     /* sink_mysql_ckpt.c */
	struct range_batch *ranges;  /* rows of the three, reused */
	MYSQL_STMT *cgroups, *files; /* sink_mysql_names.c */
};

int stmts_prepare(struct mysql_stmts *st, MYSQL *db, unsigned int host_id, char *err,
		  size_t errlen);
void stmts_close(struct mysql_stmts *st);
/* e[0..n) with their extras x[0..n) (calls.mapped_bytes); sets
 * calls_stored, which stmts_upsert_stats adds to rows_committed: a batch
 * sent again after a commit whose answer was lost (the server died after
 * it committed) stores no row twice and counts none twice. */
int stmts_insert_calls(struct mysql_stmts *st, const struct qent *e, const struct qext *x,
		       size_t n);
int stmts_upsert_procs(struct mysql_stmts *st, struct acct_proc *dirty);
int stmts_upsert_stats(struct mysql_stmts *st, const struct capture_stats *cs, const struct qent *e,
		       size_t n);
/* sink_mysql_read.c.  A session's committed_seq: 1 found, 0 none, -EIO. */
int stmts_committed_seq(MYSQL *db, unsigned int host_id, uint64_t session, uint64_t *seq);
/* rows_committed of a session (0 when it has no row): 0 or -EIO. */
int stmts_session_rows(MYSQL *db, unsigned int host_id, uint64_t session, uint64_t *rows);
/* This host's live processes into a, with their ranges: how many, -errno. */
int stmts_restore_procs(MYSQL *db, unsigned int host_id, struct acct *a);
/* sink_mysql_ranges.c: the processes' ranges, one row per range. */
int ranges_prepare(struct mysql_stmts *st, MYSQL *db, unsigned int host_id, char *err,
		   size_t errlen);
void ranges_close(struct mysql_stmts *st);
/* Write what changed in the dirty processes' ranges (in the commit). */
int ranges_write(struct mysql_stmts *st, struct acct_proc *dirty);
/* Load ranges into procs[0..n), sorted by (pid, start_ns). */
int ranges_restore(MYSQL *db, unsigned int host_id, struct acct_proc *procs, size_t n);
/* sink_mysql_oom.c: an oom_kills row for each oom_kill record of e[0..n). */
int oom_prepare(struct mysql_stmts *st, MYSQL *db, unsigned int host_id, char *err, size_t errlen);
void oom_close(struct mysql_stmts *st);
int oom_insert(struct mysql_stmts *st, const struct qent *e, size_t n);

/* sink_mysql_ckpt.c: the checkpoints and snapshots tables, bulk, INSERT
 * IGNORE. */
int ckpt_prepare(struct mysql_stmts *st, MYSQL *db, unsigned int host_id, char *err, size_t errlen);
void ckpt_close(struct mysql_stmts *st);
int ckpt_insert(struct mysql_stmts *st, const struct ckpt *c, size_t n);
int snap_insert(struct mysql_stmts *st, const struct ckpt *c, size_t n);

/* sink_mysql_lease.c: this host's block of cids (migration 020). */
struct cid_lease {
	char lockdb[160]; /* `<db>_lock`, quoted */
	unsigned int host_id;
	uint64_t lector_id; /* with host_id, the key of this lector's lease row */
	bool commit_lock;   /* bench only: the old order (lock + AUTO_INCREMENT) */
	bool held;	    /* lo..hi is ours, live, unused by any commit */
	uint64_t lo, hi;
	uint64_t fenced_ms; /* monotonic ms of this lector's last fence */
};
#define LEASE_USE_MAX_S 100 /* a live lease older than this is fenced */
/* The fence age: LEASE_USE_MAX_S, or MEMPROBE_LECTOR_LEASE_FENCE_S (tests). */
int lease_fence_s(void);
/* Clear every live lease older than the fence age, any host's (a
 * transaction whose release is in flight holds its row: this waits for
 * it).  Own short READ COMMITTED transaction, committed.  0 or -EIO. */
int lease_fence(struct cid_lease *l, MYSQL *db);
void lease_init(struct cid_lease *l, const char *db_name, unsigned int host_id, uint64_t lector_id,
		bool commit_lock);
/* On (re)connect: clear this lector's lease, drop this host's dead ones,
 * keep the allocation above calls' highest cid; commits.  0 or -EIO. */
int lease_reset(struct cid_lease *l, MYSQL *db);
/* Set x[0..n).cid for the batch: the held block when a retry of the same
 * size, else a new one (its own transaction, committed).  0, -EIO, or
 * -ENOENT (no allocation row). */
int lease_take(struct cid_lease *l, MYSQL *db, struct qext *x, size_t n);
/* After the calls insert (stored: the rows it added): -EEXIST when a row
 * not of this batch holds a cid of the block (stored without a lease),
 * else 0, or -EIO. */
int lease_check(struct cid_lease *l, MYSQL *db, uint64_t stored);
/* Inside the data transaction, last before COMMIT: the lease is no longer
 * live.  0; -ESTALE when it was fenced or is gone (roll back, retry: a new
 * block); -EIO. */
int lease_release(struct cid_lease *l, MYSQL *db);
/* The data transaction committed: the block is used up. */
void lease_committed(struct cid_lease *l);
/* Closing: nothing of ours is in flight, the lease stops holding the
 * stream back (a rolled-back block never commits).  0 or -EIO. */
int lease_close(struct cid_lease *l, MYSQL *db);

/* sink_mysql_names.c: the cgroups and files tables (resolve.h's rows). */
int names_prepare(struct mysql_stmts *st, MYSQL *db, unsigned int host_id, char *err,
		  size_t errlen);
void names_close(struct mysql_stmts *st);
int names_write(struct mysql_stmts *st, const struct names_batch *nb);

#endif
