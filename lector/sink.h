/*
 * sink.h - where committed records go: MariaDB (sink_mysql.c) or JSON
 * lines on stdout (sink_jsonl.c).
 *
 * commit() stores a batch of records of one capture session, with what
 * lector computed for them (struct batch_extra), the processes they
 * changed and the capture statistics atomically: all or nothing.  A
 * failed commit leaves the sink ready to be retried with the same batch.
 */
#ifndef MEMPROBE_SINK_H
#define MEMPROBE_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acct.h"
#include "checkpoint.h"
#include "config.h"
#include "queue.h"

struct capture_stats {
	uint64_t session;
	const char *source; /* "bpf", "stap" */
	uint64_t drops;
	uint64_t seen;
	uint64_t queued; /* waiting in memory + spill */
	uint64_t spilled_total;
	uint64_t lag_ms;	/* now - timestamp of the newest committed record */
	double rate_eps;	/* committed records per second, recent */
	bool current;		/* drops/seen describe this session */
	uint64_t lost;		/* read but not kept: the spill disk was full */
	uint64_t lost_before;	/* previous session's records never committed */
	uint64_t gap_before_ms; /* no lector ran: previous last poll -> this start */
	uint64_t prev_session;
	uint64_t skipped; /* probe runs the producer skipped (upper bound) */
};

/* What lector folded from a batch besides the totals (checkpoint.h). */
struct batch_extra {
	struct qext *ext;	 /* [n], parallel to the records; the sink sets cid */
	const struct ckpt *ckpt; /* the checkpoints their calls made */
	size_t n_ckpt;
	const struct ckpt *snap; /* the rows of the snapshots taken among them */
	size_t n_snap;
};

struct sink;
struct names_batch;

struct sink_ops {
	/* x may be NULL only when n is 0 */
	int (*commit)(struct sink *s, const struct qent *e, size_t n, const struct batch_extra *x,
		      struct acct_proc *dirty, const struct capture_stats *st);
	/* Highest committed seq of a session: 1 found, 0 none, -errno. */
	int (*committed_seq)(struct sink *s, uint64_t session, uint64_t *seq);
	/* Rows committed for a session, ever (0 when none), or -errno.
	 * Optional (NULL): a sink that cannot tell. */
	int (*session_rows)(struct sink *s, uint64_t session, uint64_t *rows);
	/* Store the names lector found for cgroup and file ids (resolve.h),
	 * in a transaction of their own.  Optional (NULL): no names kept. */
	int (*put_names)(struct sink *s, const struct names_batch *nb);
	/* Reload live processes of this host into acct (resume). */
	int (*restore)(struct sink *s, struct acct *a);
	void (*close)(struct sink *s);
};

struct sink {
	const struct sink_ops *ops;
	char err[1024]; /* last error, a sentence for the log */
	/* calls the last successful commit stored (set to the batch size
	 * before each commit; MariaDB's sink lowers it when rows of a batch
	 * sent again were already stored) */
	uint64_t stored;
};

int sink_mysql_open(struct sink **out, const struct lector_config *cfg, char *err, size_t errlen);
/* A MariaDB sink that connects on first use (the database is down at start). */
int sink_mysql_open_lazy(struct sink **out, const struct lector_config *cfg);
/* The statement that locks the writers' commit_order row (migration 014):
 * lector no longer takes it (cid leases, migration 020); bench/lector's
 * commit-lock bench times it. */
void sink_mysql_lock_sql(const char *db_name, char *sql, size_t sql_len);
int sink_jsonl_open(struct sink **out, const struct lector_config *cfg, char *err, size_t errlen);

#endif
