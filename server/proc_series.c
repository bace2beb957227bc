/*
 * proc_series.c - one process's memory over time for /api/processes/{pid}:
 * its stored calls replayed, in capture order, through lector's own
 * accounting (model/acct.c + model/range.c, linked in, not copied), so
 * every point is exactly what lector's processes row held after that call.
 *
 * Capture order: sessions by their first call's ts_ns for this process,
 * then seq within a session.  The replay always starts at the process's
 * first call (a later start would lose ranges and the heap baseline), and
 * stops after max_calls calls (--series-max-calls): the response then
 * says series_truncated and the last point is not the row's totals.
 *
 * Downsampling: when more points were made than asked for, `points`
 * evenly spaced calls (by call index, first and last included) are kept;
 * every kept point is an exact state, peaks between them may be skipped.
 *
 * After retention (lector/retain.c) purged a process's first calls, a
 * replay from zero misses what they mapped: a later munmap of it takes
 * nothing from mapped, and held lacks their bytes.  The series is then
 * sampled, then exact (resume_sampled): its checkpoints whose call is gone
 * (up to its oldest surviving call) are its first points, and the calls
 * still stored are folded from the newest of them (its scalars restored,
 * an empty range set).  mapped is each call's calls.mapped_bytes and vm
 * its total_vm (both lector's, exact); held is the checkpoint's net plus
 * the calls' own, short of the calls purged after that checkpoint: the
 * first later checkpoint at a replayed call (not an exit) gives the
 * difference, which every replayed point gets.  sampled_until_ns says
 * where the sampled points end.
 *
 * One replay holds a pooled connection for up to max_calls rows: at most
 * max_running of them run at once, so they never take the whole pool.
 * The replay itself (proc_replay) also serves the ledger at an instant and
 * an OOM victim's last minutes (api_mappings.c); until_ns cuts it at T.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acct.h"
#include "rows.h"
#include "server.h"
#include "timetravel.h"

static unsigned int max_calls = 200000;
static unsigned int max_running = 1;
static atomic_uint running;

unsigned int series_max_calls(void)
{
	return max_calls;
}

void proc_series_init(unsigned int calls, unsigned int replays)
{
	max_calls = calls;
	max_running = replays ? replays : 1;
}

/* A process's calls are found by pid (by_pid_cid, then the primary key cid
 * in its order).  The index is forced: for a process holding a large share
 * of the table the optimizer scanned the whole table instead (through
 * by_seq's host_id prefix since migration 018), several times slower at 1M
 * rows (bench/lector/explain-calls). */
#define SERIES_WHERE " WHERE h.name = ? AND c.pid = ? AND c.start_ns = ? AND c.ts_ns <= ?"
#define SERIES_CALLS " calls c FORCE INDEX (by_pid_cid) JOIN hosts h ON h.host_id = c.host_id"
static const char replay_sql[] =
    "SELECT " REPLAY_COLUMNS " FROM" SERIES_CALLS
    " JOIN (SELECT c.session, MIN(c.ts_ns) AS t0 FROM" SERIES_CALLS SERIES_WHERE
    " GROUP BY c.session) s"
    " ON s.session = c.session" SERIES_WHERE " ORDER BY s.t0, c.session, c.seq LIMIT ?";
static const char count_sql[] = "SELECT COUNT(*) FROM" SERIES_CALLS SERIES_WHERE;

/* The sampled part (the header comment): the oldest surviving call's
 * ts_ns, the checkpoints up to it whose call is gone (by_seq), and the
 * first checkpoint at a surviving call after them. */
#define CKPT_PROC                                                                                  \
	" FROM checkpoints k JOIN hosts h ON h.host_id = k.host_id"                                \
	" WHERE h.name = ? AND k.pid = ? AND k.start_ns = ? AND k.ts_ns <= ?"
#define CALL_OF_CKPT " c.host_id = k.host_id AND c.session = k.session AND c.seq = k.seq"
static const char oldest_sql[] =
    "SELECT c.ts_ns FROM" SERIES_CALLS
    " WHERE h.name = ? AND c.pid = ? AND c.start_ns = ? ORDER BY c.cid LIMIT 1";
static const char sampled_sql[] =
    "SELECT k.ts_ns, k.net_bytes_raw, k.mapped_bytes, k.vm_size_bytes, k.exited, k.heap_bytes,"
    " k.heap_base_bytes, k.heap_known, k.requested_bytes" CKPT_PROC
    " AND NOT EXISTS (SELECT 1 FROM calls c WHERE" CALL_OF_CKPT ")"
    " ORDER BY k.ts_ns, k.session, k.seq LIMIT ?";
static const char resync_sql[] =
    "SELECT c.cid, k.net_bytes_raw FROM checkpoints k JOIN hosts h ON h.host_id = k.host_id"
    " JOIN calls c ON" CALL_OF_CKPT " WHERE h.name = ? AND k.pid = ? AND k.start_ns = ?"
    " AND k.ts_ns <= ? AND k.ts_ns >= ? AND k.exited = 0 ORDER BY k.ts_ns, k.session, k.seq"
    " LIMIT 1";

struct point {
	uint64_t ts_ns;
	int64_t net_bytes; /* raw: shown clamped at 0 */
	uint64_t mapped_bytes, vm_size_bytes;
};

struct points {
	struct point *pt;
	size_t n, cap;
};

struct replay {
	struct acct *acct;
	struct acct_proc *proc;
	size_t n;
	replay_fn fn;
	void *arg;
	/* resume_sampled: points made here, mapped from the calls rows */
	struct points *pts;
	uint64_t resync_cid;
	int64_t resync_net, net_shift;
};

static int points_add(struct points *rp, struct point pt)
{
	if (rp->n == rp->cap) {
		size_t cap = rp->cap ? rp->cap * 2 : 1024;
		struct point *np = realloc(rp->pt, cap * sizeof(*np));

		if (!np)
			return -ENOMEM;
		rp->pt = np;
		rp->cap = cap;
	}
	rp->pt[rp->n++] = pt;
	return 0;
}

static int replay_row(void *arg, char **c, unsigned long *len, unsigned int n)
{
	struct replay *rp = arg;
	struct memprobe_record rec;

	(void)n;
	record_of_call(c, len, &rec);
	rec.pid = 1; /* one process per replay: the key only has to be stable */
	rp->proc = acct_apply(rp->acct, &rec);
	if (!rp->proc)
		return -ENOMEM;
	rp->n++;
	if (rp->pts) {
		if (strtoull(c[REPLAY_COL_CID], NULL, 10) == rp->resync_cid)
			rp->net_shift = rp->resync_net - rp->proc->net_bytes;
		return points_add(rp->pts, (struct point){rec.ts_ns, rp->proc->net_bytes,
							  strtoull(c[REPLAY_COL_MAPPED], NULL, 10),
							  rp->proc->vm_size_bytes});
	}
	return rp->fn ? rp->fn(rp->arg, &rec, rp->proc) : 0;
}

/* A replay's place among the max_running, taken before its first query
 * (a full pool must not keep the 503 waiting). */
static int replay_enter(char *err, size_t errlen)
{
	if (atomic_fetch_add(&running, 1) < max_running)
		return 0;
	atomic_fetch_sub(&running, 1);
	snprintf(err, errlen, "%u process series are being replayed already", max_running);
	return -EBUSY;
}

static void replay_leave(void)
{
	atomic_fetch_sub(&running, 1);
}

/* The process's calls up to until_ns, counted (out->calls) and the first
 * max_calls of them through replay_row into rp->acct. */
static int replay_calls(struct db_pool *db, const char *host, uint64_t pid, uint64_t start_ns,
			uint64_t until_ns, struct replay *rp, struct replay_result *out, char *err,
			size_t errlen)
{
	struct db_param p[9];
	int rc;

	p[0] = DB_STR(host);
	p[1] = DB_U64(pid);
	p[2] = DB_U64(start_ns);
	p[3] = DB_U64(until_ns);
	p[4] = p[0];
	p[5] = p[1];
	p[6] = p[2];
	p[7] = p[3];
	p[8] = DB_U64(max_calls);
	rc = db_select(db, count_sql, p, 4, row_first_u64, &out->calls, err, errlen);
	if (rc == 0)
		rc = db_select(db, replay_sql, p, 9, replay_row, rp, err, errlen);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory replaying the process's calls");
	return rc;
}

int proc_replay(struct db_pool *db, const char *host, uint64_t pid, uint64_t start_ns,
		uint64_t until_ns, replay_fn fn, void *arg, struct replay_result *out, char *err,
		size_t errlen)
{
	struct replay rp = {.fn = fn, .arg = arg};
	int rc;

	memset(out, 0, sizeof(*out));
	rc = replay_enter(err, errlen);
	if (rc < 0)
		return rc;
	rc = acct_new(&rp.acct);
	if (rc == 0) {
		acct_log_ranges(rp.acct, false); /* nothing stores the ranges */
		rc = replay_calls(db, host, pid, start_ns, until_ns, &rp, out, err, errlen);
	}
	replay_leave();
	if (rc < 0) {
		acct_free(rp.acct);
		return rc;
	}
	out->acct = rp.acct;
	out->proc = rp.proc;
	out->replayed = rp.n;
	return 0;
}

static int add_point(void *arg, const struct memprobe_record *rec, const struct acct_proc *p)
{
	return points_add(
	    arg, (struct point){rec->ts_ns, p->net_bytes, acct_mapped_bytes(p), p->vm_size_bytes});
}

/* The sampled part: checkpoints whose call is gone (sampled_sql's
 * columns), each a point; the newest is kept in *last. */
struct sampled {
	struct points *pts;
	struct acct_proc last;
	bool any;
};

static int sampled_row(void *arg, char **c, unsigned long *len, unsigned int n)
{
	struct sampled *sp = arg;
	struct acct_proc *k = &sp->last;

	(void)len;
	(void)n;
	memset(k, 0, sizeof(*k));
	k->pid = 1; /* replay_row's key */
	k->last_seen_ns = strtoull(c[0], NULL, 10);
	k->net_bytes = strtoll(c[1], NULL, 10);
	k->vm_size_bytes = strtoull(c[3], NULL, 10);
	k->exited = c[4][0] == '1';
	k->heap_bytes = strtoull(c[5], NULL, 10);
	k->heap_base_bytes = strtoull(c[6], NULL, 10);
	k->heap_known = c[7][0] == '1';
	k->requested_bytes = strtoull(c[8], NULL, 10);
	range_set_init(&k->mapped);
	sp->any = true;
	return points_add(sp->pts, (struct point){k->last_seen_ns, k->net_bytes,
						  strtoull(c[2], NULL, 10), k->vm_size_bytes});
}

/* resync_sql: the cid of that checkpoint's call and its net. */
static int resync_row(void *arg, char **c, unsigned long *len, unsigned int n)
{
	struct replay *rp = arg;

	(void)len;
	(void)n;
	rp->resync_cid = strtoull(c[0], NULL, 10);
	rp->resync_net = strtoll(c[1], NULL, 10);
	return 0;
}

/* The sampled part then the surviving calls from its newest checkpoint
 * (the header comment).  0 with *sampled_until 0: nothing was purged
 * (the caller replays from zero). */
static int resume_sampled(struct db_pool *db, const char *host, uint64_t pid, uint64_t start_ns,
			  uint64_t until_ns, struct points *pts, struct replay_result *out,
			  uint64_t *sampled_until, char *err, size_t errlen)
{
	struct sampled sp = {.pts = pts};
	struct replay rp = {.pts = pts};
	uint64_t oldest_ns = 0;
	struct db_param p[6] = {DB_STR(host), DB_U64(pid), DB_U64(start_ns), DB_U64(until_ns)};
	size_t first;
	int rc;

	memset(out, 0, sizeof(*out));
	*sampled_until = 0;
	rc = db_select(db, oldest_sql, p, 3, row_first_u64, &oldest_ns, err, errlen);
	p[3] = DB_U64(oldest_ns && oldest_ns < until_ns ? oldest_ns : until_ns);
	p[4] = DB_U64(max_calls);
	if (rc == 0)
		rc = db_select(db, sampled_sql, p, 5, sampled_row, &sp, err, errlen);
	if (rc < 0 || !sp.any)
		return rc;
	*sampled_until = sp.last.last_seen_ns;
	p[3] = DB_U64(until_ns);
	p[4] = DB_U64(sp.last.last_seen_ns);
	rc = db_select(db, resync_sql, p, 5, resync_row, &rp, err, errlen);
	if (rc == 0)
		rc = acct_new(&rp.acct);
	if (rc < 0)
		return rc;
	acct_log_ranges(rp.acct, false);
	if (!sp.last.exited && acct_restore(rp.acct, &sp.last) < 0)
		rc = -ENOMEM;
	first = pts->n;
	if (rc == 0)
		rc = replay_calls(db, host, pid, start_ns, until_ns, &rp, out, err, errlen);
	for (size_t i = first; rc == 0 && i < pts->n; i++)
		pts->pt[i].net_bytes += rp.net_shift;
	acct_free(rp.acct);
	out->replayed = rp.n;
	return rc;
}

static void add_point_json(cJSON *arr, const struct point *p)
{
	cJSON *o = cJSON_CreateArray();
	char ts[24];

	snprintf(ts, sizeof(ts), "%llu", (unsigned long long)p->ts_ns);
	cJSON_AddItemToArray(o, json_int_raw(ts));
	cJSON_AddItemToArray(o, cJSON_CreateNumber(p->net_bytes > 0 ? (double)p->net_bytes : 0));
	cJSON_AddItemToArray(o, cJSON_CreateNumber((double)p->mapped_bytes));
	cJSON_AddItemToArray(o, cJSON_CreateNumber((double)p->vm_size_bytes));
	cJSON_AddItemToArray(arr, o);
}

/* Points k = 0 .. want-1 at call index round(k * (n - 1) / (want - 1)). */
static void add_points(cJSON *arr, const struct points *rp, uint64_t want)
{
	if (rp->n <= want) {
		for (size_t i = 0; i < rp->n; i++)
			add_point_json(arr, &rp->pt[i]);
		return;
	}
	for (uint64_t k = 0; k < want; k++)
		add_point_json(arr, &rp->pt[(k * (rp->n - 1) + (want - 1) / 2) / (want - 1)]);
}

static void add_meta(cJSON *proc, uint64_t calls, size_t replayed, uint64_t points, size_t made,
		     uint64_t sampled_until)
{
	cJSON_AddNumberToObject(proc, "calls", (double)calls);
	cJSON_AddNumberToObject(proc, "replayed_calls", (double)replayed);
	cJSON_AddNumberToObject(proc, "max_replayed_calls", max_calls);
	cJSON_AddNumberToObject(proc, "points", (double)points);
	cJSON_AddBoolToObject(proc, "series_truncated", calls > replayed);
	cJSON_AddBoolToObject(proc, "series_downsampled", made > points);
	if (sampled_until)
		tt_add_ns_str(proc, "sampled_until_ns", sampled_until);
	else
		cJSON_AddNullToObject(proc, "sampled_until_ns");
	cJSON_AddStringToObject(
	    proc, "series_kind",
	    "[ts_ns, net_bytes, mapped_bytes, vm_size_bytes] after each replayed "
	    "call (lector's accounting); evenly spaced calls when downsampled; "
	    "points up to sampled_until_ns are checkpoints (calls purged by retention)");
}

int proc_series_add(struct db_pool *db, cJSON *proc, const char *host, uint64_t points,
		    uint64_t until_ns, char *err, size_t errlen)
{
	struct points pts = {0};
	struct replay_result res;
	uint64_t pid = (uint64_t)cJSON_GetObjectItem(proc, "pid")->valuedouble;
	uint64_t start_ns = strtoull(cJSON_GetObjectItem(proc, "start_ns")->valuestring, NULL, 10);
	uint64_t sampled_until = 0;
	struct replay rp = {.fn = add_point, .arg = &pts};
	int rc = replay_enter(err, errlen);

	if (rc < 0)
		return rc;
	rc = resume_sampled(db, host, pid, start_ns, until_ns, &pts, &res, &sampled_until, err,
			    errlen);
	if (rc == 0 && !sampled_until) { /* nothing purged: from the first call */
		rc = acct_new(&rp.acct);
		if (rc == 0) {
			acct_log_ranges(rp.acct, false);
			rc =
			    replay_calls(db, host, pid, start_ns, until_ns, &rp, &res, err, errlen);
		}
		res.replayed = rp.n;
		acct_free(rp.acct);
	}
	replay_leave();
	if (rc == 0) {
		add_meta(proc, res.calls, res.replayed, points, pts.n, sampled_until);
		add_points(cJSON_AddArrayToObject(proc, "series"), &pts, points);
	}
	free(pts.pt);
	return rc;
}
