/*
 * timetravel.h - what processes held at an instant T (docs/API.md, "Time
 * travel"): the state after the last of each process's calls with
 * ts_ns <= T, from the newest checkpoint at or before T plus the calls
 * after it, folded with model/acct.c (timetravel.c), and the stored calls
 * as records again for every replay of the server (proc_series.c,
 * ledger.c).
 */
#ifndef MEMPROBE_SERVER_TIMETRAVEL_H
#define MEMPROBE_SERVER_TIMETRAVEL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <cjson/cJSON.h>

#include "db.h"
#include "tt_set.h"

/* At most max_running computations of tt_states() at once (--at-max-running):
 * each holds a pooled connection for its queries and memory for its
 * processes.  tt_admit takes n slots (all or none; /api/diff computes two
 * instants at once), false when they are not free: the caller answers 503
 * with Retry-After (reply_db_error with -EBUSY). */
void tt_init(unsigned int max_running);
bool tt_admit(unsigned int n);
void tt_leave(unsigned int n);

/* The state at q->at_ns of every process q names (TT_UNSEEN ones are
 * left out).  0, -E2BIG (more than TT_MAX_PROCS processes, or more than
 * max_calls calls to fold: err says which and what to narrow), -EBUSY
 * (no slot free, unless q->admitted) or a db_select error. */
int tt_states(struct db_pool *db, const struct tt_query *q, struct tt_set *out, char *err,
	      size_t errlen);
void tt_set_free(struct tt_set *s);
/* Processes whose state at an instant a host snapshot gave (tt_snap.c),
 * and their own checkpoints and calls, since the server started. */
uint64_t tt_from_snapshot_total(void);
uint64_t tt_from_checkpoints_total(void);
/* The newest process of s (the largest start_ns: a pid's latest life), or
 * NULL when s is empty. */
const struct tt_proc *tt_newest(const struct tt_set *s);

/* A process at T as the object /api/processes lists (rows.c,
 * proc_row_json), plus "exact". */
cJSON *tt_proc_json(const struct tt_proc *p);
/* memory held as shown: net_bytes clamped at 0. */
uint64_t tt_held_bytes(const struct tt_proc *p);

/* A decimal ns time as a JSON string ("at_ns": "T"). */
void tt_add_ns_str(cJSON *o, const char *key, uint64_t ns);

/* /api/processes?at=T (api_at.c): today's filters, applied to the values
 * at T but host and pid; sort: index in api_proc.c's sort_names[]
 * (net, mapped, vm, requested, pid, name, last_seen, rss, swap), order 0
 * desc, 1 asc; state 0 all, 1 alive, 2 exited. */
struct at_list {
	const char *host, *name, *group, *sort_name, *order_name;
	uint64_t pid, uid, at_ns, limit, offset;
	int state, sort, order;
};
struct req;
int api_processes_at(struct req *r, const struct at_list *a);
/* 413 for -E2BIG (too much to compute for one answer), else 503. */
int reply_tt_error(struct req *r, int rc, const char *err);

#endif
