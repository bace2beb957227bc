/*
 * timetravel.c - the state of processes at an instant T (timetravel.h),
 * in a few queries whatever the number of processes (this file: 1 and 3
 * and the answer; tt_checkpoints.c: the checkpoints of 1; tt_fold.c: 2).
 * A question about more than one process first tries each host's
 * snapshot before T and the host's calls after it (tt_snap.c: a few
 * queries, one contiguous range of calls); the processes that answers
 * take none of the steps below, which answer the others:
 *
 *  1. the processes seen at or before T (processes rows, bounded by
 *     TT_MAX_PROCS), then for each its newest checkpoint at or before T,
 *     the cid of that checkpoint's call (calls' unique key by_seq) and the
 *     cid of its next checkpoint's call: the calls that can matter lie
 *     between.  Per host along by_time (host_id, ts_ns), a few rows per
 *     process from T backwards and forwards; one by one (the primary key,
 *     correlated) for the processes those scans did not reach;
 *  2. those calls with ts_ns <= T, for every process at once: the list of
 *     (process, cid after, cid before) goes in as one JSON parameter and
 *     each element is a range of by_pid_cid (pid, cid) ("Range checked for
 *     each record": an equality on pid would be ref access on pid alone,
 *     which reads every call of the pid); or, when the ranges lie close
 *     together, the one cid window that holds them, along the primary key;
 *  3. the names of the cgroups a process was in at T, when that is not
 *     the one its row names now (rare: nothing to ask otherwise).
 *
 * The fold is model/acct.c's: acct_restore of the checkpoint's scalars
 * with an empty range set, acct_apply of each call in cid order (the order
 * lector committed them); mapped_bytes is the last folded call's
 * calls.mapped_bytes (the ranges are not in a checkpoint), or the
 * checkpoint's, or acct's own when folded from the first call.
 *
 * Shortcut: a process whose last call is at or before T, and whose row's
 * resident reading is too (or that exited at that call: its exit
 * checkpoint, or its exit call), is its processes row.  Only the others
 * count against TT_MAX_PROCS (exited rows are kept for days: they would
 * fill it); all together against TT_MAX_ROWS.
 *
 * Not exact ("exact": false): the checkpoint's call was purged by
 * retention (calls after it may be gone too: the checkpoint alone is the
 * answer), or a process without a checkpoint at or before T lost its
 * first calls (what remains is folded).  A process with neither a
 * checkpoint nor a call at or before T left is not known at T: it is left
 * out.
 */
#include <ctype.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rows.h"
#include "server.h"
#include "timetravel.h"

static unsigned int max_running = 4;
static atomic_uint running;
/* processes whose state at an instant came from a host snapshot, and from
 * their own checkpoints and calls (/metrics, /api/stats) */
static atomic_ullong from_snapshot, from_checkpoints;

uint64_t tt_from_snapshot_total(void)
{
	return atomic_load(&from_snapshot);
}

uint64_t tt_from_checkpoints_total(void)
{
	return atomic_load(&from_checkpoints);
}

void tt_init(unsigned int n)
{
	max_running = n ? n : 1;
}

bool tt_admit(unsigned int n)
{
	unsigned int now = atomic_load(&running);

	do {
		if (now + n > max_running)
			return false;
	} while (!atomic_compare_exchange_weak(&running, &now, now + n));
	return true;
}

void tt_leave(unsigned int n)
{
	atomic_fetch_sub(&running, n);
}



/* Query 1: the processes seen by T.  Its columns: PROC_COLUMNS (0-29, the
 * row as it is now), the host's id and swap total, and whether an exited
 * row's exit is known to have come by T (the shortcut below): its exit
 * checkpoint (lector writes one at the exit record: a dive into the
 * checkpoints primary key) or, for a process without any checkpoint
 * (--checkpoint-calls 0, rows from before 019), its last call is the exit
 * (read along by_pid_cid from the pid's newest call: only then, since a
 * pid reused by a busy process would make that walk long).  A row closed
 * without an exit record (pid reused, died while lector was stopped:
 * model/acct.c) is exited at its last real call, but the calls say it was
 * alive then: it takes the checkpoint path. */
enum { C_HOST_ID = 30, C_SWAP_TOTAL, C_EXIT_KNOWN };
static const char procs_sql[] =
    "SELECT STRAIGHT_JOIN " PROC_COLUMNS ", p.host_id, h.swap_total_bytes,"
    " IF(p.exited = 1 AND p.last_seen_ns <= ?, EXISTS(SELECT 1 FROM checkpoints k"
    " WHERE k.host_id = p.host_id AND k.pid = p.pid AND k.start_ns = p.start_ns"
    " AND k.ts_ns = p.last_seen_ns AND k.exited = 1) OR (NOT EXISTS(SELECT 1 FROM"
    " checkpoints k WHERE k.host_id = p.host_id AND k.pid = p.pid AND k.start_ns = p.start_ns)"
    " AND (SELECT c.syscall FROM calls c FORCE INDEX (by_pid_cid) WHERE c.pid = p.pid"
    " AND c.host_id = p.host_id AND c.start_ns = p.start_ns ORDER BY c.cid DESC LIMIT 1)"
    " <=> 'exit'), 0)"
    " FROM hosts h JOIN processes p ON p.host_id = h.host_id" GROUP_JOIN("p")
    " WHERE (? = '' OR h.name = ?) AND (? = 0 OR p.pid = ?) AND (? = 0 OR p.start_ns = ?)"
    " AND p.first_seen_ns <= ? AND (? = 0 OR p.exited = 0 OR p.last_seen_ns > ?)"
    " ORDER BY p.host_id, p.pid, p.start_ns LIMIT ?";
#define PROCS_PARAMS 11


/* Query 3: the groups of cgroups a process was in at T. */
static const char groups_sql[] =
    "SELECT x.i, " GROUP_COLUMNS("x") " FROM JSON_TABLE(?, '$[*]' COLUMNS ("
    " i INT UNSIGNED PATH '$[0]', host_id SMALLINT UNSIGNED PATH '$[1]',"
    " cgroup_id BIGINT UNSIGNED PATH '$[2]')) x" GROUP_JOIN("x");

struct collect {
	struct tt_set *s;
	uint64_t at_ns;
	size_t cap, pending;
	int rc;
};

static void set_group(struct tt_proc *p, char **c, unsigned long *len)
{
	free(p->group_path);
	p->group_path = NULL;
	p->group_path_len = 0;
	if (len[1] && (p->group_path = malloc(len[1])))
		memcpy(p->group_path, c[1], p->group_path_len = len[1]);
	snprintf(p->group, sizeof(p->group), "%.*s", (int)len[2], c[2]);
	snprintf(p->group_kind, sizeof(p->group_kind), "%.*s", (int)len[3], c[3]);
}


/* The state is the processes row (the shortcut). */
static void from_row(struct tt_proc *p, char **c, unsigned long *len)
{
	p->state = c[7][0] == '1' ? TT_EXITED : TT_ALIVE;
	p->exact = true;
	p->uid = (uint32_t)tt_u64(c[3]);
	tt_set_comm(p, c[4], len[4]);
	p->net_bytes_raw = strtoll(c[9], NULL, 10);
	p->mapped_bytes = tt_u64(c[10]);
	p->vm_size_bytes = tt_u64(c[11]);
	p->requested_bytes = tt_u64(c[12]);
	for (int i = 0; i < ACCT_N_MAX; i++)
		p->count[i] = tt_u64(c[14 + i]);
	p->mem = (struct acct_mem){tt_u64(c[20]), tt_u64(c[21]), tt_u64(c[22]), tt_u64(c[23]),
				   tt_u64(c[24])};
	p->cgroup_id = p->row_cgroup_id;
}

static int collect_proc(void *arg, char **c, unsigned long *len, unsigned int n)
{
	struct collect *k = arg;
	struct tt_set *s = k->s;
	struct tt_proc *p;

	(void)n;
	if (s->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 256;
		struct tt_proc *np = realloc(s->p, cap * sizeof(*np));

		if (!np)
			return -ENOMEM;
		s->p = np;
		k->cap = cap;
	}
	p = &s->p[s->n++];
	memset(p, 0, sizeof(*p));
	p->host_id = (uint16_t)tt_u64(c[C_HOST_ID]);
	snprintf(p->host, sizeof(p->host), "%.*s", (int)len[0], c[0]);
	p->pid = (uint32_t)tt_u64(c[1]);
	p->start_ns = tt_u64(c[2]);
	p->first_seen_ns = tt_u64(c[5]);
	p->last_seen_ns = tt_u64(c[6]);
	p->mem_total_bytes = tt_u64(c[25]);
	p->swap_total_bytes = tt_u64(c[C_SWAP_TOTAL]);
	p->row_cgroup_id = tt_u64(c[26]);
	set_group(p, c + 26, len + 26);
	if (p->last_seen_ns <= k->at_ns &&
	    (c[7][0] == '1' ? c[C_EXIT_KNOWN][0] == '1' : tt_u64(c[24]) <= k->at_ns)) {
		from_row(p, c, len);
		return 0;
	}
	/* only the processes whose state is computed count against the bound */
	if (++k->pending > TT_MAX_PROCS) {
		k->rc = -E2BIG;
		return 1;
	}
	p->pending = true; /* its checkpoints are looked up next */
	p->hi_cid = UINT64_MAX;
	p->state = TT_UNSEEN;
	return 0;
}

/* Where a pending process's state starts, once its checkpoints are known. */
static void plan(struct tt_proc *p)
{
	if (p->ckpt) {
		p->exact = !p->ckpt_call_gone;
		/* after its exit a process makes no call */
		p->need_calls = !p->ckpt_call_gone && p->state != TT_EXITED;
	} else {
		p->from_zero = p->need_calls = true;
		p->state = TT_UNSEEN; /* until a call is folded */
	}
}

static int name_group(void *arg, char **c, unsigned long *len, unsigned int n)
{
	struct tt_set *s = arg;
	uint64_t i = tt_u64(c[0]);

	(void)n;
	if (i < s->n)
		set_group(&s->p[i], c + 1, len + 1);
	return 0;
}

/* Query 3, for the processes whose cgroup at T is not their row's. */
static int name_groups(struct db_pool *db, struct tt_set *s, char *err, size_t errlen)
{
	size_t cap = 2 + s->n * 48, len = 0;
	char *js = NULL;
	int rc = 0;

	for (size_t i = 0; i < s->n; i++) {
		struct tt_proc *p = &s->p[i];

		if (p->cgroup_id == p->row_cgroup_id)
			continue;
		if (!js && !(js = malloc(cap)))
			return -ENOMEM;
		len += (size_t)snprintf(js + len, cap - len, "%s[%zu,%u,\"%llu\"]", len ? "," : "[",
					i, p->host_id, (unsigned long long)p->cgroup_id);
	}
	if (js) {
		struct db_param prm[1];

		snprintf(js + len, cap - len, "]");
		prm[0] = DB_STR(js);
		rc = db_select(db, groups_sql, prm, 1, name_group, s, err, errlen);
		free(js);
	}
	return rc;
}

static int states(struct db_pool *db, const struct tt_query *q, struct tt_set *out, char *err,
		  size_t errlen)
{
	struct collect k = {.s = out, .at_ns = q->at_ns};
	struct db_param p[PROCS_PARAMS];
	size_t kept = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	p[0] = DB_U64(q->at_ns);
	p[1] = DB_STR(q->host);
	p[2] = DB_STR(q->host);
	p[3] = DB_U64(q->pid);
	p[4] = DB_U64(q->pid);
	p[5] = DB_U64(q->start_ns);
	p[6] = DB_U64(q->start_ns);
	p[7] = DB_U64(q->at_ns);
	p[8] = DB_U64(q->skip_exited_ns);
	p[9] = DB_U64(q->skip_exited_ns);
	p[10] = DB_U64(TT_MAX_ROWS + 1);
	rc = db_select(db, procs_sql, p, PROCS_PARAMS, collect_proc, &k, err, errlen);
	if (rc == 0 && (k.rc == -E2BIG || out->n > TT_MAX_ROWS)) {
		if (k.rc == -E2BIG)
			snprintf(err, errlen,
				 "more than %d processes alive (or not known to have exited) at this "
				 "instant: narrow with host= (or pid=, state=alive)",
				 TT_MAX_PROCS);
		else
			snprintf(err, errlen,
				 "more than %d processes were seen by this instant: narrow with "
				 "host= (or pid=, state=alive)",
				 TT_MAX_ROWS);
		rc = -E2BIG;
	}
	if (rc == 0 && !q->pid) { /* many processes: a host snapshot first (tt_snap.c) */
		size_t before = 0, after = 0;

		for (size_t i = 0; i < out->n; i++)
			before += out->p[i].pending;
		rc = tt_from_snapshots(db, q, out, err, errlen);
		for (size_t i = 0; i < out->n; i++)
			after += out->p[i].pending;
		atomic_fetch_add(&from_snapshot, before - after);
	}
	for (size_t i = 0; rc == 0 && i < out->n; i++)
		if (out->p[i].pending)
			atomic_fetch_add(&from_checkpoints, 1);
	if (rc == 0)
		rc = tt_checkpoints_around(db, out, q->at_ns, err, errlen);
	for (size_t i = 0; rc == 0 && i < out->n; i++)
		if (out->p[i].pending)
			plan(&out->p[i]);
	if (rc == 0)
		rc = tt_fold_all(db, q, out, err, errlen);
	if (rc == 0)
		rc = name_groups(db, out, err, errlen);
	if (rc < 0) {
		if (rc == -ENOMEM)
			snprintf(err, errlen, "out of memory computing the state at an instant");
		tt_set_free(out);
		return rc;
	}
	for (size_t i = 0; i < out->n; i++) {
		if (out->p[i].state == TT_UNSEEN) {
			free(out->p[i].group_path);
			continue;
		}
		out->p[kept++] = out->p[i];
	}
	out->n = kept;
	return 0;
}

int tt_states(struct db_pool *db, const struct tt_query *q, struct tt_set *out, char *err,
	      size_t errlen)
{
	int rc;

	if (!q->admitted && !tt_admit(1)) {
		memset(out, 0, sizeof(*out));
		snprintf(err, errlen,
			 "%u computations of an instant (?at=, /api/diff) are running already "
			 "(--at-max-running)",
			 max_running);
		return -EBUSY;
	}
	rc = states(db, q, out, err, errlen);
	if (!q->admitted)
		tt_leave(1);
	return rc;
}

const struct tt_proc *tt_newest(const struct tt_set *s)
{
	const struct tt_proc *best = NULL;

	for (size_t i = 0; i < s->n; i++)
		if (!best || s->p[i].start_ns > best->start_ns)
			best = &s->p[i];
	return best;
}

void tt_set_free(struct tt_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->p[i].group_path);
	free(s->p);
	s->p = NULL;
	s->n = 0;
}

uint64_t tt_held_bytes(const struct tt_proc *p)
{
	return p->net_bytes_raw > 0 ? (uint64_t)p->net_bytes_raw : 0;
}

void tt_add_ns_str(cJSON *o, const char *key, uint64_t ns)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)ns);
	cJSON_AddStringToObject(o, key, buf);
}

/* The columns proc_row_json() reads (rows.h, PROC_COLUMNS), from p. */
cJSON *tt_proc_json(const struct tt_proc *p)
{
	char num[26][24], *c[30];
	unsigned long len[30];
	const uint64_t *cnt = p->count;
	uint64_t v[26] = {
	    p->pid,		  p->start_ns,
	    p->uid,		  p->first_seen_ns,
	    p->last_seen_ns,	  p->state == TT_EXITED,
	    tt_held_bytes(p),	  0 /* net raw, signed */,
	    p->mapped_bytes,	  p->vm_size_bytes,
	    p->requested_bytes,	  p->mem_total_bytes + p->swap_total_bytes,
	    cnt[0],		  cnt[1],
	    cnt[2],		  cnt[3],
	    cnt[4],		  p->mem.rss_anon_bytes + p->mem.rss_file_bytes + p->mem.rss_shmem_bytes,
	    p->mem.rss_anon_bytes, p->mem.rss_file_bytes,
	    p->mem.rss_shmem_bytes, p->mem.swap_bytes,
	    p->mem.ts_ns,	  p->mem_total_bytes,
	    p->cgroup_id,	  0};
	/* where each of v[] goes in PROC_COLUMNS (c[0] host, c[4] comm and
	 * c[27..29] the group are bytes) */
	static const int at[25] = {1,  2,  3,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14,
				   15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26};
	cJSON *o;

	for (int i = 0; i < 25; i++) {
		if (i == 7)
			snprintf(num[i], sizeof(num[i]), "%lld", (long long)p->net_bytes_raw);
		else
			snprintf(num[i], sizeof(num[i]), "%llu", (unsigned long long)v[i]);
		c[at[i]] = num[i];
		len[at[i]] = strlen(num[i]);
	}
	c[0] = (char *)p->host;
	len[0] = strlen(p->host);
	c[4] = (char *)p->comm;
	len[4] = p->comm_len;
	c[27] = p->group_path ? p->group_path : (char *)"";
	len[27] = p->group_path ? p->group_path_len : 0;
	c[28] = (char *)p->group;
	len[28] = strlen(p->group);
	c[29] = (char *)p->group_kind;
	len[29] = strlen(p->group_kind);
	o = proc_row_json(c, len);
	cJSON_AddBoolToObject(o, "exact", p->exact);
	return o;
}
