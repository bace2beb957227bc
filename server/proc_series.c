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
    "SELECT " REPLAY_COLUMNS " FROM" SERIES_CALLS " JOIN (SELECT c.session, MIN(c.ts_ns) AS t0 FROM" SERIES_CALLS
    SERIES_WHERE " GROUP BY c.session) s"
    " ON s.session = c.session" SERIES_WHERE " ORDER BY s.t0, c.session, c.seq LIMIT ?";
static const char count_sql[] = "SELECT COUNT(*) FROM" SERIES_CALLS SERIES_WHERE;

struct point {
	uint64_t ts_ns, net_bytes, mapped_bytes, vm_size_bytes;
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
};

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
	return rp->fn ? rp->fn(rp->arg, &rec, rp->proc) : 0;
}

int proc_replay(struct db_pool *db, const char *host, uint64_t pid, uint64_t start_ns,
		uint64_t until_ns, replay_fn fn, void *arg, struct replay_result *out, char *err,
		size_t errlen)
{
	struct replay rp = {.fn = fn, .arg = arg};
	struct db_param p[9];
	int rc;

	memset(out, 0, sizeof(*out));
	if (atomic_fetch_add(&running, 1) >= max_running) {
		atomic_fetch_sub(&running, 1);
		snprintf(err, errlen, "%u process series are being replayed already", max_running);
		return -EBUSY;
	}
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
		rc = acct_new(&rp.acct);
	if (rc < 0)
		goto out;
	acct_log_ranges(rp.acct, false); /* nothing stores the ranges */
	rc = db_select(db, replay_sql, p, 9, replay_row, &rp, err, errlen);
out:
	atomic_fetch_sub(&running, 1);
	if (rc < 0) {
		if (rc == -ENOMEM)
			snprintf(err, errlen, "out of memory replaying the process's calls");
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
	struct points *rp = arg;

	if (rp->n == rp->cap) {
		size_t cap = rp->cap ? rp->cap * 2 : 1024;
		struct point *np = realloc(rp->pt, cap * sizeof(*np));

		if (!np)
			return -ENOMEM;
		rp->pt = np;
		rp->cap = cap;
	}
	rp->pt[rp->n++] = (struct point){rec->ts_ns, acct_net_bytes_shown(p), acct_mapped_bytes(p),
					 p->vm_size_bytes};
	return 0;
}

static void add_point_json(cJSON *arr, const struct point *p)
{
	cJSON *o = cJSON_CreateArray();
	char ts[24];

	snprintf(ts, sizeof(ts), "%llu", (unsigned long long)p->ts_ns);
	cJSON_AddItemToArray(o, json_int_raw(ts));
	cJSON_AddItemToArray(o, cJSON_CreateNumber((double)p->net_bytes));
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

static void add_meta(cJSON *proc, uint64_t calls, size_t replayed, uint64_t points)
{
	cJSON_AddNumberToObject(proc, "calls", (double)calls);
	cJSON_AddNumberToObject(proc, "replayed_calls", (double)replayed);
	cJSON_AddNumberToObject(proc, "max_replayed_calls", max_calls);
	cJSON_AddNumberToObject(proc, "points", (double)points);
	cJSON_AddBoolToObject(proc, "series_truncated", calls > replayed);
	cJSON_AddBoolToObject(proc, "series_downsampled", replayed > points);
	cJSON_AddStringToObject(
	    proc, "series_kind",
	    "[ts_ns, net_bytes, mapped_bytes, vm_size_bytes] after each replayed "
	    "call (lector's accounting); evenly spaced calls when downsampled");
}

int proc_series_add(struct db_pool *db, cJSON *proc, const char *host, uint64_t points,
		    uint64_t until_ns, char *err, size_t errlen)
{
	struct points pts = {0};
	struct replay_result res;
	int rc = proc_replay(db, host, (uint64_t)cJSON_GetObjectItem(proc, "pid")->valuedouble,
			     strtoull(cJSON_GetObjectItem(proc, "start_ns")->valuestring, NULL, 10),
			     until_ns, add_point, &pts, &res, err, errlen);

	if (rc == 0) {
		add_meta(proc, res.calls, pts.n, points);
		add_points(cJSON_AddArrayToObject(proc, "series"), &pts, points);
		acct_free(res.acct);
	}
	free(pts.pt);
	return rc;
}
