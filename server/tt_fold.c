/*
 * tt_fold.c - query 2 of timetravel.c and the fold: the calls of every
 * process between its checkpoint and T, read range by range along
 * by_pid_cid or as one cid window along the primary key, folded with
 * model/acct.c (acct_restore of the checkpoint, acct_apply of each call).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rows.h"
#include "server.h"
#include "tt_set.h"

/* Query 2: the calls after each checkpoint, up to T. */
static const char calls_sql[] =
    "SELECT STRAIGHT_JOIN j.i, " REPLAY_COLUMNS
    " FROM JSON_TABLE(?, '$[*]' COLUMNS (i INT UNSIGNED PATH '$[0]',"
    " hid SMALLINT UNSIGNED PATH '$[1]', pid INT UNSIGNED PATH '$[2]',"
    " st BIGINT UNSIGNED PATH '$[3]', lo BIGINT UNSIGNED PATH '$[4]',"
    " hi BIGINT UNSIGNED PATH '$[5]')) j"
    " JOIN calls c FORCE INDEX (by_pid_cid) ON c.pid >= j.pid AND c.pid <= j.pid"
    " AND c.cid > j.lo AND c.cid < j.hi"
    " WHERE c.host_id = j.hid AND c.start_ns = j.st AND c.ts_ns <= ?"
    " ORDER BY j.i, c.cid LIMIT ?";

/* Query 2, the other way: when the processes' ranges lie close together
 * in cid order (calls are clustered by cid: a busy host's processes all
 * have their checkpoints shortly before T), every call of the window that
 * holds them all, read along the primary key, is cheaper than one
 * secondary-index range per process and a row lookup per call; the rows
 * of other processes are skipped in fold_window_call.  ORDER BY: the fold
 * applies each process's calls in cid order, which the primary key's scan
 * gives today but SQL promises only when asked. */
static const char window_sql[] =
    "SELECT c.host_id, c.pid, c.start_ns, " REPLAY_COLUMNS " FROM calls c FORCE INDEX (PRIMARY)"
    " WHERE c.cid > ? AND c.cid < ? AND c.ts_ns <= ? ORDER BY c.cid LIMIT ?";
/* The window holds at most this many cids per process read through it
 * (and at most --series-max-calls in all), or WINDOW_MIN_CALLS: a process
 * whose range starts before it (a slow one: its checkpoint is far back),
 * or that has no next checkpoint (its range is open to the newest call),
 * is read range by range instead, beside the window.  With a checkpoint
 * every --checkpoint-calls calls of each process, the ranges of the busy
 * processes lie within about that many calls of every process before T. */
#define WINDOW_CALLS_PER_PROC 48
#define WINDOW_MIN_CALLS      4096

struct fold {
	struct tt_set *s;
	struct acct *acct;
	uint64_t rows;
};

/* Fold one call (REPLAY_COLUMNS at c) into process i. */
static int fold_row(struct fold *f, size_t i, char **c, unsigned long *len)
{
	struct tt_proc *p = &f->s->p[i];
	struct memprobe_record rec;

	record_of_call(c, len, &rec);
	rec.pid = (uint32_t)i + 1; /* one acct for all: the index is the key */
	rec.start_ns = p->start_ns;
	if (p->from_zero && !p->folded)
		p->exact = rec.ts_ns == p->first_seen_ns;
	p->ap = acct_apply(f->acct, &rec);
	if (!p->ap)
		return -ENOMEM;
	p->mapped_bytes = tt_u64(c[REPLAY_COL_MAPPED]);
	p->folded++;
	return 0;
}

/* A row of calls_sql: the process's index, then the call. */
static int fold_call(void *arg, char **c, unsigned long *len, unsigned int n)
{
	struct fold *f = arg;
	uint64_t i = tt_u64(c[0]);

	(void)n;
	f->rows++;
	return i < f->s->n ? fold_row(f, i, c + 1, len + 1) : 0;
}

/* A row of window_sql: host_id, pid, start_ns, then the call; the rows of
 * other processes, and those outside a process's range, are skipped. */
static int fold_window_call(void *arg, char **c, unsigned long *len, unsigned int n)
{
	struct fold *f = arg;
	struct tt_proc *p = tt_find_proc(f->s, tt_u64(c[0]), tt_u64(c[1]), tt_u64(c[2]));
	uint64_t cid = tt_u64(c[3 + REPLAY_COL_CID]);

	(void)n;
	f->rows++;
	if (!p || !p->need_calls || !p->in_window || cid <= p->lo_cid || cid >= p->hi_cid)
		return 0;
	return fold_row(f, (size_t)(p - f->s->p), c + 3, len + 3);
}

int tt_restore(struct acct *a, struct tt_proc *p, uint32_t key)
{
	struct acct_proc src;

	memset(&src, 0, sizeof(src));
	src.pid = key;
	src.uid = p->uid;
	src.start_ns = p->start_ns;
	memcpy(src.comm, p->comm, sizeof(src.comm));
	src.first_seen_ns = p->first_seen_ns;
	src.last_seen_ns = p->last_seen_ns;
	src.exited = p->state == TT_EXITED;
	src.net_bytes = p->net_bytes_raw;
	range_set_init(&src.mapped);
	src.heap_bytes = p->heap_bytes;
	src.heap_base_bytes = p->heap_base_bytes;
	src.heap_known = p->heap_known;
	src.vm_size_bytes = p->vm_size_bytes;
	src.requested_bytes = p->requested_bytes;
	memcpy(src.count, p->count, sizeof(src.count));
	src.mem = p->mem;
	src.cgroup_id = p->cgroup_id;
	if (acct_restore(a, &src) < 0)
		return -ENOMEM;
	p->ap = acct_lookup(a, key, p->start_ns);
	if (!p->ap && !src.exited)
		return -ENOMEM;
	return 0;
}

void tt_take_state(struct tt_proc *p)
{
	const struct acct_proc *a = p->ap;

	if (!a || (!p->folded && !p->ckpt)) {
		p->state = TT_UNSEEN;
		return;
	}
	p->state = a->exited ? TT_EXITED : TT_ALIVE;
	p->uid = a->uid;
	tt_set_comm(p, a->comm, strnlen(a->comm, MEMPROBE_COMM_LEN));
	p->last_seen_ns = a->last_seen_ns;
	p->net_bytes_raw = a->net_bytes;
	if (p->from_zero)
		p->mapped_bytes = acct_mapped_bytes(a);
	p->vm_size_bytes = a->vm_size_bytes;
	p->requested_bytes = a->requested_bytes;
	memcpy(p->count, a->count, sizeof(p->count));
	p->mem = a->mem;
	p->cgroup_id = a->cgroup_id;
}

/* JSON text of [[i, host_id, pid, "start_ns", "lo", "hi"], ...] of the
 * processes whose calls are folded; NULL when none (or out of memory:
 * *oom). */
static char *ranges_json(const struct tt_set *s, int *oom)
{
	size_t cap = 2 + s->n * 128, len = 0; /* an element is at most 96 */
	char *buf = malloc(cap);

	*oom = !buf;
	if (!buf)
		return NULL;
	buf[len++] = '[';
	for (size_t i = 0; i < s->n; i++) {
		const struct tt_proc *p = &s->p[i];

		if (!p->need_calls || p->in_window)
			continue;
		len += (size_t)snprintf(buf + len, cap - len, "%s[%zu,%u,%u,\"%llu\",\"%llu\",\"%llu\"]",
					len > 1 ? "," : "", i, p->host_id, p->pid,
					(unsigned long long)p->start_ns,
					(unsigned long long)p->lo_cid,
					(unsigned long long)p->hi_cid);
	}
	if (len == 1) {
		free(buf);
		return NULL;
	}
	buf[len++] = ']';
	buf[len] = 0;
	return buf;
}

/* The cid window (lo, hi) read whole along the primary key, and which
 * processes it serves (in_window); hi 0: none, every range is read by
 * itself.  The window ends at the newest end of a closed range; it starts
 * as far back as the budget allows, and serves the processes whose range
 * lies inside it. */
static void window_of(const struct tt_query *q, struct tt_set *s, uint64_t *lo, uint64_t *hi)
{
	uint64_t need = 0, limit, served = 0;

	*lo = UINT64_MAX;
	*hi = 0;
	for (size_t i = 0; i < s->n; i++) {
		s->p[i].in_window = false;
		if (s->p[i].need_calls && s->p[i].hi_cid != UINT64_MAX) {
			need++;
			*hi = s->p[i].hi_cid > *hi ? s->p[i].hi_cid : *hi;
		}
	}
	if (!need) {
		*hi = 0;
		return;
	}
	limit = need * WINDOW_CALLS_PER_PROC > WINDOW_MIN_CALLS ? need * WINDOW_CALLS_PER_PROC
								: WINDOW_MIN_CALLS;
	if (limit > q->max_calls)
		limit = q->max_calls;
	for (size_t i = 0; i < s->n; i++) {
		struct tt_proc *p = &s->p[i];

		if (!p->need_calls || p->hi_cid == UINT64_MAX || p->lo_cid + limit < *hi)
			continue;
		p->in_window = true;
		served++;
		*lo = p->lo_cid < *lo ? p->lo_cid : *lo;
	}
	if (served < 2) { /* one range: by_pid_cid reads just it */
		for (size_t i = 0; i < s->n; i++)
			s->p[i].in_window = false;
		*hi = 0;
	}
}

int tt_fold_all(struct db_pool *db, const struct tt_query *q, struct tt_set *s, char *err,
		size_t errlen)
{
	struct fold f = {.s = s};
	struct db_param p[4];
	uint64_t lo, hi;
	int oom, rc;
	char *js = ranges_json(s, &oom);

	if (!js)
		return oom ? -ENOMEM : 0;
	rc = acct_new(&f.acct);
	if (rc < 0)
		goto out;
	acct_log_ranges(f.acct, false);
	for (size_t i = 0; i < s->n && rc == 0; i++)
		if (s->p[i].need_calls && s->p[i].ckpt)
			rc = tt_restore(f.acct, &s->p[i], (uint32_t)i + 1);
	if (rc < 0)
		goto out;
	window_of(q, s, &lo, &hi);
	if (hi) { /* the window */
		p[0] = DB_U64(lo);
		p[1] = DB_U64(hi);
		p[2] = DB_U64(q->at_ns);
		p[3] = DB_U64((uint64_t)q->max_calls + 1);
		rc = db_select(db, window_sql, p, 4, fold_window_call, &f, err, errlen);
	}
	free(js); /* the ranges the window does not serve */
	js = rc == 0 ? ranges_json(s, &oom) : NULL;
	if (rc == 0 && !js && oom)
		rc = -ENOMEM;
	if (rc == 0 && js) {
		p[0] = DB_STR(js);
		p[1] = DB_U64(q->at_ns);
		p[2] = DB_U64((uint64_t)q->max_calls + 1);
		rc = db_select(db, calls_sql, p, 3, fold_call, &f, err, errlen);
	}
	if (rc == 0 && f.rows > q->max_calls) {
		snprintf(err, errlen,
			 "more than %u calls to fold for this instant (--series-max-calls): narrow "
			 "with host= or pid=",
			 q->max_calls);
		rc = -E2BIG;
	}
	for (size_t i = 0; rc == 0 && i < s->n; i++)
		if (s->p[i].need_calls)
			tt_take_state(&s->p[i]);
out:
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory folding the calls");
	acct_free(f.acct); /* the states were copied out */
	for (size_t i = 0; i < s->n; i++)
		s->p[i].ap = NULL;
	free(js);
	return rc;
}
