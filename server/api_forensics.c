/*
 * api_forensics.c - /api/oom/forensics: what an OOM victim did in its last
 * minutes (docs/API.md): its calls in the window before the kill (newest
 * first, as /api/calls rows), the mappings it made in the window and still
 * held at the kill (largest first, as /mappings rows) and its memory after
 * each call of the window.  The kill is named as /api/oom gives it (host,
 * session, seq).
 *
 * The window only, whatever the victim did before it: its state just
 * before the window is time travel's (timetravel.h: the newest checkpoint
 * before it and the calls after that), then the window's calls are folded
 * on it (model/acct.c; mapped_bytes from calls.mapped_bytes, the ranges
 * not being in a checkpoint), bounded by --series-max-calls ("truncated").
 * The ranges that fold made are those created in the window (a range made
 * there can only be changed by later calls there), but for a range an
 * mremap made of memory the fold did not know (mapped before the
 * checkpoint; the real ledger keeps its older creation): left out.
 *
 * The calls are read along by_pid_cid from a cid before the window: the
 * victim's checkpoint's call, else the newest checkpoint call of its host
 * before the window (every process checkpoints at its first call and then
 * every --checkpoint-calls calls: a busy host has one shortly before), so
 * neither the list nor its count walks the pid's older calls.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_id.h"
#include "ledger.h"
#include "rows.h"
#include "server.h"
#include "timetravel.h"

#define FORENSICS_CALLS	 500
#define FORENSICS_GROWING 20
#define FORENSICS_POINTS 500

/* A cid the host's calls before from_ns (ts_ns < ?) end at or before. */
static const char host_lo_sql[] =
    "SELECT COALESCE((SELECT c.cid FROM checkpoints k FORCE INDEX (by_time) JOIN calls c"
    " ON c.host_id = k.host_id AND c.session = k.session AND c.seq = k.seq"
    " WHERE k.host_id = ? AND k.ts_ns < ? ORDER BY k.ts_ns DESC LIMIT 1), 0)";
#define WINDOW_WHERE                                                                               \
	" FROM calls c FORCE INDEX (by_pid_cid) JOIN hosts h ON h.host_id = c.host_id"             \
	" WHERE c.pid = ? AND c.cid > ? AND c.cid < ? AND c.host_id = ? AND c.start_ns = ?"        \
	" AND c.ts_ns >= ? AND c.ts_ns <= ? AND c.syscall <> 'oom_kill'"
static const char window_sql[] =
    "SELECT STRAIGHT_JOIN " CALLS_COLUMNS WINDOW_WHERE " ORDER BY c.cid DESC LIMIT ?";
static const char window_count_sql[] = "SELECT STRAIGHT_JOIN COUNT(*)" WINDOW_WHERE;
/* The window's calls to fold, the kill's own included. */
static const char fold_sql[] =
    "SELECT " REPLAY_COLUMNS " FROM calls c FORCE INDEX (by_pid_cid)"
    " WHERE c.pid = ? AND c.cid > ? AND c.cid <= ? AND c.host_id = ? AND c.start_ns = ?"
    " AND c.ts_ns >= ? AND c.ts_ns <= ? ORDER BY c.cid LIMIT ?";

struct kill {
	cJSON *rows;
	uint64_t host_id, cid;
};

static int keep_kill(void *arg, char **c, unsigned long *len, unsigned int n)
{
	struct kill *k = arg;

	oom_row_add(k->rows, c, len, n);
	k->host_id = strtoull(c[OOM_COL_HOST_ID], NULL, 10);
	k->cid = len[OOM_COL_CID] ? strtoull(c[OOM_COL_CID], NULL, 10) : UINT64_MAX;
	return 1;
}

static int add_call_row(void *arg, char **c, unsigned long *len, unsigned int n)
{
	(void)n;
	cJSON_AddItemToArray(arg, calls_row_json(c, len));
	return 0;
}

struct point {
	uint64_t ts_ns, held, mapped, vm, rss;
};

/* The fold of the window's calls: the victim's acct, its points. */
struct curve {
	struct acct *acct;
	struct acct_proc *proc;
	uint64_t start_ns, max_calls, rows;
	struct point *pt;
	size_t n, cap;
};

static int fold_point(void *arg, char **c, unsigned long *len, unsigned int ncols)
{
	struct curve *cv = arg;
	struct memprobe_record rec;
	const struct acct_proc *p;

	(void)ncols;
	if (++cv->rows > cv->max_calls)
		return 1; /* truncated */
	record_of_call(c, len, &rec);
	rec.pid = 1; /* one process: the key only has to be stable (tt_restore's) */
	rec.start_ns = cv->start_ns;
	cv->proc = acct_apply(cv->acct, &rec);
	if (!cv->proc)
		return -ENOMEM;
	if (cv->n == cv->cap) {
		size_t cap = cv->cap ? cv->cap * 2 : 256;
		struct point *np = realloc(cv->pt, cap * sizeof(*np));

		if (!np)
			return -ENOMEM;
		cv->pt = np;
		cv->cap = cap;
	}
	p = cv->proc;
	cv->pt[cv->n++] = (struct point){
	    rec.ts_ns, acct_net_bytes_shown(p), tt_u64(c[REPLAY_COL_MAPPED]), p->vm_size_bytes,
	    p->mem.rss_anon_bytes + p->mem.rss_file_bytes + p->mem.rss_shmem_bytes};
	return 0;
}

static void add_curve(cJSON *o, const struct curve *cv)
{
	cJSON *arr = cJSON_AddArrayToObject(o, "curve");
	size_t want = cv->n < FORENSICS_POINTS ? cv->n : FORENSICS_POINTS;

	for (size_t k = 0; k < want; k++) {
		/* evenly spaced, first and last kept (proc_series.c's way) */
		size_t i = want < 2 ? k : (k * (cv->n - 1) + (want - 1) / 2) / (want - 1);
		const struct point *p = &cv->pt[i];
		cJSON *e = cJSON_CreateObject();

		tt_add_ns_str(e, "ts_ns", p->ts_ns);
		cJSON_AddNumberToObject(e, "memory_held_bytes", (double)p->held);
		cJSON_AddNumberToObject(e, "mapped_bytes", (double)p->mapped);
		cJSON_AddNumberToObject(e, "vm_size_bytes", (double)p->vm);
		cJSON_AddNumberToObject(e, "rss_bytes", (double)p->rss);
		cJSON_AddItemToArray(arr, e);
	}
}

/* An mremap of memory the fold did not know makes a range at the mremap
 * with nothing of the call that mapped it (model/acct.c, add_grown_tail):
 * an mmap always has MAP_SHARED or MAP_PRIVATE. */
static bool made_of_unknown(const struct range *v)
{
	return v->attr.via == MP_VIA_MREMAP && !v->attr.flags && !v->attr.file_dev &&
	       !v->attr.file_ino;
}

/* The victim's ranges made inside the window, largest first. */
static int add_growing(struct req *r, cJSON *o, const struct curve *cv, bool from_first,
		       uint64_t host_id, uint64_t from_ns, uint64_t kill_ns, char *err,
		       size_t errlen)
{
	cJSON *arr = cJSON_AddArrayToObject(o, "growing");
	struct range *v = NULL;
	size_t n = 0, kept = 0;
	int rc = 0;

	if (cv->proc && !cv->proc->exited)
		rc = ledger_ranges_of(&cv->proc->mapped, &v, &n);
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (v[i].attr.created_ns >= from_ns && (from_first || !made_of_unknown(&v[i])))
			v[kept++] = v[i];
	if (rc == 0) {
		ledger_sort(v, kept, 1, 1);
		rc = ledger_add_rows(r->db, (unsigned int)host_id, v,
				     kept < FORENSICS_GROWING ? kept : FORENSICS_GROWING, kill_ns,
				     arr, err, errlen);
	}
	free(v);
	return rc;
}

/* The victim's state just before the window (from_ns - 1) into cv->acct,
 * and the cid its window starts after: *lo (0: none known), *from_first
 * when the window holds its first call. */
static int state_before(struct req *r, const char *host, uint64_t host_id, uint64_t pid,
			uint64_t start_ns, uint64_t from_ns, struct curve *cv, uint64_t *lo,
			bool *from_first, char *err, size_t errlen)
{
	struct tt_query q = {.host = host, .pid = pid, .start_ns = start_ns, .at_ns = from_ns - 1,
			     .max_calls = series_max_calls()};
	struct tt_set s = {0};
	struct tt_proc *p = NULL;
	struct db_param prm[2];
	int rc = from_ns ? tt_states(r->db, &q, &s, err, errlen) : 0;

	if (rc == -E2BIG)
		snprintf(err, errlen,
			 "the victim's state before the window needs more than %u calls folded "
			 "(--series-max-calls): it has no checkpoint close before the window "
			 "(lector's --checkpoint-calls 0?)",
			 q.max_calls);
	*lo = 0;
	for (size_t i = 0; rc == 0 && i < s.n; i++)
		if (s.p[i].start_ns == start_ns)
			p = &s.p[i];
	*from_first = !p;
	if (p) {
		rc = tt_restore(cv->acct, p, 1);
		cv->proc = p->ap;
		if (p->ckpt && !p->ckpt_call_gone)
			*lo = p->lo_cid;
	}
	if (rc == 0 && !*lo && from_ns) {
		prm[0] = DB_U64(host_id);
		prm[1] = DB_U64(from_ns);
		rc = db_select(r->db, host_lo_sql, prm, 2, row_first_u64, lo, err, errlen);
	}
	tt_set_free(&s);
	return rc;
}

static int parse_session(struct req *r, uint64_t *session)
{
	char buf[24], *end;
	int rc = param_str(r, "session", buf, sizeof(buf), "0123456789abcdefABCDEFx");

	if (rc < 0)
		return rc;
	if (rc == 1 && buf[0] == '0' && buf[1] == 'x' && buf[2]) {
		*session = strtoull(buf + 2, &end, 16);
		if (!*end && strlen(buf + 2) <= 16)
			return 0;
	}
	reply_error(r, 400, "bad parameter", "session",
		    "required: the kill's capture session in hex (0x...), as /api/oom gives it");
	return -EINVAL;
}

int api_oom_forensics(struct req *r)
{
	static const char *const allowed[] = {"host", "session", "seq", "minutes", NULL};
	char host[MP_HOST_ID_MAX + 1], err[256];
	uint64_t session = 0, seq, minutes, pid, start_ns, kill_ns, from_ns, lo = 0, total = 0;
	struct kill k = {cJSON_CreateArray(), 0, 0};
	struct curve cv = {.max_calls = series_max_calls()};
	struct db_param p[10];
	cJSON *o = NULL, *kill, *calls;
	bool from_first = false;
	int rc;

	if (http_check_params(r, allowed) ||
	    param_str(r, "host", host, sizeof(host), MP_HOST_ID_CHARSET) < 0 ||
	    parse_session(r, &session) || param_u64(r, "seq", 0, UINT64_MAX, UINT64_MAX, &seq) ||
	    param_u64(r, "minutes", 1, 60, 5, &minutes)) {
		rc = 400;
		goto out;
	}
	if (!host[0] || seq == UINT64_MAX) {
		rc = reply_error(r, 400, "bad parameter", host[0] ? "seq" : "host",
				 "host, session and seq are required: the kill's identity as "
				 "/api/oom gives it");
		goto out;
	}
	p[0] = DB_STR(host);
	p[1] = DB_U64(session);
	p[2] = DB_U64(seq);
	rc = db_select(r->db, oom_one_sql, p, 3, keep_kill, &k, err, sizeof(err));
	if (rc < 0) {
		rc = reply_db_error(r, rc, err);
		goto out;
	}
	kill = cJSON_GetArrayItem(k.rows, 0);
	if (!kill) {
		rc = reply_error(r, 404, "no such OOM kill", "seq",
				 "no OOM kill with this host, session and seq: take them from "
				 "/api/oom");
		goto out;
	}
	pid = (uint64_t)cJSON_GetObjectItem(kill, "pid")->valuedouble;
	start_ns = strtoull(cJSON_GetObjectItem(kill, "start_ns")->valuestring, NULL, 10);
	kill_ns = strtoull(cJSON_GetObjectItem(kill, "ts_ns")->valuestring, NULL, 10);
	from_ns = kill_ns > minutes * 60000000000ULL ? kill_ns - minutes * 60000000000ULL : 0;
	cv.start_ns = start_ns;
	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "kill", cJSON_DetachItemFromArray(k.rows, 0));
	cJSON_AddNumberToObject(o, "window_ns", (double)(minutes * 60000000000ULL));
	tt_add_ns_str(o, "window_from_ns", from_ns);
	rc = acct_new(&cv.acct);
	if (rc == 0) {
		acct_log_ranges(cv.acct, false);
		rc = state_before(r, host, k.host_id, pid, start_ns, from_ns, &cv, &lo, &from_first,
				  err, sizeof(err));
	}
	p[0] = DB_U64(pid);
	p[1] = DB_U64(lo);
	p[2] = DB_U64(k.cid);
	p[3] = DB_U64(k.host_id);
	p[4] = DB_U64(start_ns);
	p[5] = DB_U64(from_ns);
	p[6] = DB_U64(kill_ns);
	p[7] = DB_U64(FORENSICS_CALLS);
	calls = cJSON_AddArrayToObject(o, "calls");
	if (rc == 0)
		rc = db_select(r->db, window_sql, p, 8, add_call_row, calls, err, sizeof(err));
	if (rc == 0)
		rc = db_select(r->db, window_count_sql, p, 7, row_first_u64, &total, err,
			       sizeof(err));
	p[7] = DB_U64(cv.max_calls + 1);
	if (rc == 0)
		rc = db_select(r->db, fold_sql, p, 8, fold_point, &cv, err, sizeof(err));
	if (rc == 0)
		rc = add_growing(r, o, &cv, from_first, k.host_id, from_ns, kill_ns, err,
				 sizeof(err));
	if (rc < 0) {
		if (rc == -ENOMEM)
			rc = reply_error(r, 500, "out of memory", NULL, "ask again later");
		else
			rc = rc == -E2BIG ? reply_tt_error(r, rc, err) : reply_db_error(r, rc, err);
		goto out;
	}
	cJSON_AddNumberToObject(o, "calls_total", (double)total);
	cJSON_AddBoolToObject(o, "truncated", cv.rows > cv.max_calls);
	add_curve(o, &cv);
	rc = reply_json(r, 200, o);
	o = NULL;
out:
	cJSON_Delete(o);
	cJSON_Delete(k.rows);
	acct_free(cv.acct);
	free(cv.pt);
	return rc;
}
