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
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acct.h"
#include "rows.h"
#include "server.h"

static unsigned int max_calls = 200000;
static unsigned int max_running = 1;
static atomic_uint running;

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
#define SERIES_WHERE " WHERE h.name = ? AND c.pid = ? AND c.start_ns = ?"
#define SERIES_CALLS " calls c FORCE INDEX (by_pid_cid) JOIN hosts h ON h.host_id = c.host_id"
static const char replay_sql[] =
    "SELECT c.ts_ns, c.syscall, c.addr, c.len_bytes, c.new_addr, c.new_len_bytes, c.flags,"
    " c.result, c.total_vm_bytes, c.uid"
    " FROM" SERIES_CALLS " JOIN (SELECT c.session, MIN(c.ts_ns) AS t0 FROM" SERIES_CALLS
    SERIES_WHERE " GROUP BY c.session) s"
    " ON s.session = c.session" SERIES_WHERE " ORDER BY s.t0, c.session, c.seq LIMIT ?";
static const char count_sql[] = "SELECT COUNT(*) FROM" SERIES_CALLS SERIES_WHERE;

struct point {
	uint64_t ts_ns, net_bytes, mapped_bytes, vm_size_bytes;
};

struct replay {
	struct acct *acct;
	struct point *pt;
	size_t n, cap;
};

static uint16_t call_of(const char *name)
{
	for (uint16_t i = 1; i <= MP_CALL_MAX; i++)
		if (!strcmp(name, memprobe_call_name(i)))
			return i;
	return 0;
}

/* One stored call back into the record lector folded. */
static void record_of(char **c, struct memprobe_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->ts_ns = strtoull(c[0], NULL, 10);
	rec->call = call_of(c[1]);
	rec->addr = strtoull(c[2], NULL, 10);
	rec->len = strtoull(c[3], NULL, 10);
	rec->new_addr = strtoull(c[4], NULL, 10);
	rec->new_len = strtoull(c[5], NULL, 10);
	rec->mflags = (uint32_t)strtoul(c[6], NULL, 10);
	rec->ret = strtoll(c[7], NULL, 10);
	rec->total_vm_bytes = strtoull(c[8], NULL, 10);
	rec->uid = (uint32_t)strtoul(c[9], NULL, 10);
}

static int replay_row(void *arg, char **c, unsigned long *len, unsigned int n)
{
	struct replay *rp = arg;
	struct memprobe_record rec;
	struct acct_proc *p;

	(void)len;
	(void)n;
	record_of(c, &rec);
	rec.pid = 1; /* one process per replay: the key only has to be stable */
	p = acct_apply(rp->acct, &rec);
	if (!p)
		return -ENOMEM;
	if (rp->n == rp->cap) {
		size_t cap = rp->cap ? rp->cap * 2 : 1024;
		struct point *np = realloc(rp->pt, cap * sizeof(*np));

		if (!np)
			return -ENOMEM;
		rp->pt = np;
		rp->cap = cap;
	}
	rp->pt[rp->n++] = (struct point){rec.ts_ns, acct_net_bytes_shown(p), acct_mapped_bytes(p),
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
static void add_points(cJSON *arr, const struct replay *rp, uint64_t want)
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

int proc_series_add(struct db_pool *db, cJSON *proc, const char *host, uint64_t points, char *err,
		    size_t errlen)
{
	struct replay rp = {0};
	struct db_param p[7];
	uint64_t calls = 0;
	int rc;

	if (atomic_fetch_add(&running, 1) >= max_running) {
		atomic_fetch_sub(&running, 1);
		snprintf(err, errlen, "%u process series are being replayed already", max_running);
		return -EBUSY;
	}
	p[0] = DB_STR(host);
	p[1] = DB_U64((uint64_t)cJSON_GetObjectItem(proc, "pid")->valuedouble);
	p[2] = DB_U64(strtoull(cJSON_GetObjectItem(proc, "start_ns")->valuestring, NULL, 10));
	p[3] = p[0];
	p[4] = p[1];
	p[5] = p[2];
	p[6] = DB_U64(max_calls);
	rc = db_select(db, count_sql, p, 3, row_first_u64, &calls, err, errlen);
	if (rc == 0)
		rc = acct_new(&rp.acct);
	if (rc < 0)
		goto out;
	acct_log_ranges(rp.acct, false); /* totals only: nothing stores the ranges */
	rc = db_select(db, replay_sql, p, 7, replay_row, &rp, err, errlen);
	if (rc < 0)
		goto out;
	add_meta(proc, calls, rp.n, points);
	add_points(cJSON_AddArrayToObject(proc, "series"), &rp, points);
	rc = 0;
out:
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory replaying the process's calls");
	acct_free(rp.acct);
	free(rp.pt);
	atomic_fetch_sub(&running, 1);
	return rc;
}
