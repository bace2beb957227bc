/*
 * tt_snap.c - the first way timetravel.c tries to the state at T of a
 * host's pending processes: the host's newest snapshot at or before T
 * (table snapshots, migration 022: every live process's state right after
 * one call, and no call in it is after the snapshot's ts_ns) and the calls
 * lector folded after that call, up to T, in place of a checkpoint lookup
 * and a calls range per process (tt_checkpoints.c, tt_fold.c).  lector
 * folds in ring order and numbers the calls in that order, so "after" is
 * by cid: the calls of the snapshot's session with a cid above its call's
 * and up to the call of the next snapshot whose ts_ns is past T by more
 * than DISORDER_NS (calls racing on two CPUs come a little out of ts
 * order).  That range is read along the primary key when the host's calls
 * fill most of it, else through by_seq (host_id, session, seq), its seqs
 * widened by SEQ_DISORDER.  The next snapshot must be of the same session;
 * when none is after T the session must be the host's newest
 * (capture_stats): a later session's calls would not be in the range.  The
 * snapshot's own call must still be stored (retention purges calls oldest
 * first: the calls after it are there too).
 *
 * A process of the snapshot starts from its row; a process not in it whose
 * first call (first_seen_ns) is in the range starts from zero.  Any other
 * pending process (not live at the snapshot, no call in the range: one a
 * restart closed out, one lector did not hold) stays pending: the
 * checkpoints answer it.  When a condition fails, the range holds more than
 * --series-max-calls calls, or a query fails (a database before 022), every
 * process of the host does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rows.h"
#include "server.h"
#include "tt_set.h"

/* The cid of a snapshot's call (s), NULL once purged. */
#define SNAP_CALL_CID                                                                              \
	"(SELECT c.cid FROM calls c FORCE INDEX (by_seq) WHERE c.host_id = s.host_id"              \
	" AND c.session = s.session AND c.seq = s.seq LIMIT 1)"
/* The snapshot at or before T: its key and its call's cid. */
static const char before_sql[] = "SELECT s.ts_ns, s.session, s.seq, " SNAP_CALL_CID
				 " FROM snapshots s WHERE s.host_id = ? AND s.ts_ns <= ?"
				 " ORDER BY s.ts_ns DESC, s.session DESC, s.seq DESC LIMIT 1";
/* The next one past T by more than DISORDER_NS. */
static const char after_sql[] =
    "SELECT s.session, s.seq, " SNAP_CALL_CID " FROM snapshots s WHERE s.host_id = ?"
    " AND s.ts_ns > ? ORDER BY s.ts_ns, s.session, s.seq LIMIT 1";
#define DISORDER_NS  10000000ULL /* 10 ms */
#define SEQ_DISORDER 65536	 /* seqs a call may be from its place in ring order */
/* Sessions of the host started with or after this one (0: it is the newest). */
static const char newer_sql[] =
    "SELECT COUNT(*) FROM capture_stats c WHERE c.host_id = ? AND c.session <> ?"
    " AND c.started_at >= COALESCE((SELECT s.started_at FROM capture_stats s"
    " WHERE s.host_id = ? AND s.session = ?), TIMESTAMP'1970-01-01 00:00:01')";
/* The snapshot's rows: each live process's state. */
static const char rows_sql[] =
    "SELECT s.pid, s.start_ns, s.last_seen_ns, s.uid, s.exited, s.net_bytes_raw,"
    " s.mapped_bytes, s.vm_size_bytes, s.requested_bytes, s.heap_bytes, s.heap_base_bytes,"
    " s.heap_known, s.n_mmap, s.n_munmap, s.n_mremap, s.n_brk, s.n_failed, s.rss_anon_bytes,"
    " s.rss_file_bytes, s.rss_shmem_bytes, s.swap_bytes, s.rss_ts_ns, s.cgroup_id, s.comm"
    " FROM snapshots s WHERE s.host_id = ? AND s.ts_ns = ? AND s.session = ? AND s.seq = ?";
enum {
	R_PID,
	R_START,
	R_LAST,
	R_UID,
	R_EXITED,
	R_NET,
	R_MAPPED,
	R_VM,
	R_REQ,
	R_HEAP,
	R_HEAP_BASE,
	R_HEAP_KNOWN,
	R_COUNT,
	R_RSS_ANON = R_COUNT + ACCT_N_MAX,
	R_RSS_FILE,
	R_RSS_SHMEM,
	R_SWAP,
	R_RSS_TS,
	R_CGROUP,
	R_COMM
};
/* The calls folded after the snapshot's, up to T, in the order lector
 * folded them: by cid (lo, hi], through by_seq with a widened seq range. */
static const char range_sql[] =
    "SELECT c.pid, c.start_ns, " REPLAY_COLUMNS " FROM calls c FORCE INDEX (by_seq)"
    " WHERE c.host_id = ? AND c.session = ? AND c.seq > ? AND c.seq <= ? AND c.cid > ?"
    " AND c.cid <= ? AND c.ts_ns <= ? ORDER BY c.cid LIMIT ?";
/* The same along the primary key: when the host's calls fill most of that
 * cid range (one host, or few), its rows lie together there and come in
 * cid order without a lookup from by_seq each or a sort. */
static const char range_pk_sql[] =
    "SELECT c.pid, c.start_ns, " REPLAY_COLUMNS " FROM calls c FORCE INDEX (PRIMARY)"
    " WHERE c.cid > ? AND c.cid <= ? AND c.host_id = ? AND c.session = ? AND c.ts_ns <= ?"
    " ORDER BY c.cid LIMIT ?";
/* At most this many cids of the range per call of the host in it. */
#define RANGE_PK_SPREAD 2

struct snap {
	struct tt_set *s;
	uint64_t host_id;
	size_t a, b; /* the host's processes: s->p[a, b) */
	bool found, call_stored, bad;
	uint64_t ts_ns, session, seq, next_seq, n;
	uint64_t cid, next_cid; /* of the two snapshots' calls; next UINT64_MAX: none */
	struct acct *acct;
};

static int u64_row(void *arg, char **c, unsigned long *len, unsigned int n)
{
	(void)len;
	(void)n;
	*(uint64_t *)arg = tt_u64(c[0]);
	return 0;
}

static int before_row(void *arg, char **c, unsigned long *len, unsigned int n)
{
	struct snap *k = arg;

	(void)n;
	k->found = true;
	k->ts_ns = tt_u64(c[0]);
	k->session = tt_u64(c[1]);
	k->seq = tt_u64(c[2]);
	k->call_stored = len[3] != 0; /* NULL: purged */
	k->cid = tt_u64(c[3]);
	return 0;
}

static int after_row(void *arg, char **c, unsigned long *len, unsigned int n)
{
	struct snap *k = arg;

	(void)len;
	(void)n;
	if (tt_u64(c[0]) != k->session)
		k->bad = true; /* another session's calls may lie before it */
	k->next_seq = tt_u64(c[1]);
	k->next_cid = len[2] ? tt_u64(c[2]) : UINT64_MAX;
	return 0;
}

/* The process (pid, start_ns) among the host's pending ones, or NULL. */
static struct tt_proc *pending_proc(struct snap *k, char **c)
{
	struct tt_proc *p = tt_find_proc(k->s, k->host_id, tt_u64(c[0]), tt_u64(c[1]));

	return p && p->pending ? p : NULL;
}

/* A snapshot row: the state its process starts from. */
static int snap_row(void *arg, char **c, unsigned long *len, unsigned int n)
{
	struct snap *k = arg;
	struct tt_proc *p = pending_proc(k, c);

	(void)n;
	if (!p)
		return 0;
	p->last_seen_ns = tt_u64(c[R_LAST]);
	p->uid = (uint32_t)tt_u64(c[R_UID]);
	tt_set_comm(p, c[R_COMM], len[R_COMM]);
	p->state = c[R_EXITED][0] == '1' ? TT_EXITED : TT_ALIVE;
	p->net_bytes_raw = strtoll(c[R_NET], NULL, 10);
	p->mapped_bytes = tt_u64(c[R_MAPPED]);
	p->vm_size_bytes = tt_u64(c[R_VM]);
	p->requested_bytes = tt_u64(c[R_REQ]);
	p->heap_bytes = tt_u64(c[R_HEAP]);
	p->heap_base_bytes = tt_u64(c[R_HEAP_BASE]);
	p->heap_known = c[R_HEAP_KNOWN][0] == '1';
	for (int i = 0; i < ACCT_N_MAX; i++)
		p->count[i] = tt_u64(c[R_COUNT + i]);
	p->mem = (struct acct_mem){tt_u64(c[R_RSS_ANON]), tt_u64(c[R_RSS_FILE]),
				   tt_u64(c[R_RSS_SHMEM]), tt_u64(c[R_SWAP]), tt_u64(c[R_RSS_TS])};
	p->cgroup_id = tt_u64(c[R_CGROUP]);
	p->in_snap = true;
	return tt_restore(k->acct, p, (uint32_t)(p - k->s->p) + 1);
}

/* A call of the range, folded into its process. */
static int range_row(void *arg, char **c, unsigned long *len, unsigned int n)
{
	struct snap *k = arg;
	struct tt_proc *p = pending_proc(k, c);
	struct memprobe_record rec;

	(void)n;
	k->n++;
	if (!p)
		return 0;
	c += 2;
	len += 2;
	record_of_call(c, len, &rec);
	if (!p->in_snap && !p->snap_zero) {
		/* not live at the snapshot: only a process born in the range */
		if (p->snap_gone || rec.ts_ns != p->first_seen_ns) {
			p->snap_gone = true;
			return 0;
		}
		p->snap_zero = true;
	}
	rec.pid = (uint32_t)(p - k->s->p) + 1; /* one acct for all: the index is the key */
	rec.start_ns = p->start_ns;
	p->ap = acct_apply(k->acct, &rec);
	if (!p->ap)
		return -ENOMEM;
	p->mapped_bytes = tt_u64(c[REPLAY_COL_MAPPED]);
	p->folded++;
	return 0;
}

/* The snapshot, the range's bounds, and whether they may be used. */
static int locate(struct db_pool *db, struct snap *k, uint64_t at_ns, char *err, size_t errlen)
{
	struct db_param p[4] = {DB_U64(k->host_id), DB_U64(at_ns)};
	uint64_t newer = 0;
	int rc = db_select(db, before_sql, p, 2, before_row, k, err, errlen);

	if (rc < 0 || !k->found || !k->call_stored)
		return rc;
	k->next_seq = k->next_cid = UINT64_MAX;
	p[1] = DB_U64(at_ns + DISORDER_NS);
	rc = db_select(db, after_sql, p, 2, after_row, k, err, errlen);
	if (rc < 0 || k->bad || k->next_seq != UINT64_MAX)
		return rc;
	p[1] = DB_U64(k->session);
	p[2] = DB_U64(k->host_id);
	p[3] = DB_U64(k->session);
	rc = db_select(db, newer_sql, p, 4, u64_row, &newer, err, errlen);
	k->bad = k->bad || newer != 0;
	return rc;
}

/* Back to pending, as if the snapshot had not been read. */
static void undo(struct snap *k)
{
	for (size_t i = k->a; i < k->b; i++) {
		struct tt_proc *p = &k->s->p[i];

		if (!p->pending)
			continue;
		p->in_snap = p->snap_zero = p->snap_gone = false;
		p->folded = 0;
		p->ap = NULL;
		p->state = TT_UNSEEN;
	}
}

/* The host's pending processes s->p[a, b). */
static int host_from_snapshot(struct db_pool *db, const struct tt_query *q, struct tt_set *s,
			      size_t a, size_t b, char *err, size_t errlen)
{
	struct snap k = {.s = s, .host_id = s->p[a].host_id, .a = a, .b = b};
	struct db_param p[6];
	int rc = locate(db, &k, q->at_ns, err, errlen);

	if (rc < 0 && rc != -ENOMEM)
		err[0] = 0; /* no snapshot table (before 022): the checkpoints answer */
	if (rc < 0 || !k.found || !k.call_stored || k.bad)
		return rc == -ENOMEM ? rc : 0;
	rc = acct_new(&k.acct);
	if (rc < 0)
		return rc;
	acct_log_ranges(k.acct, false);
	p[0] = DB_U64(k.host_id);
	p[1] = DB_U64(k.ts_ns);
	p[2] = DB_U64(k.session);
	p[3] = DB_U64(k.seq);
	rc = db_select(db, rows_sql, p, 4, snap_row, &k, err, errlen);
	if (rc == 0 && k.next_cid != UINT64_MAX && k.next_cid > k.cid && k.next_seq > k.seq &&
	    k.next_cid - k.cid <= RANGE_PK_SPREAD * (k.next_seq - k.seq)) {
		p[0] = DB_U64(k.cid);
		p[1] = DB_U64(k.next_cid);
		p[2] = DB_U64(k.host_id);
		p[3] = DB_U64(k.session);
		p[4] = DB_U64(q->at_ns);
		p[5] = DB_U64((uint64_t)q->max_calls + 1);
		rc = db_select(db, range_pk_sql, p, 6, range_row, &k, err, errlen);
	} else if (rc == 0) {
		struct db_param r[8] = {DB_U64(k.host_id),
					DB_U64(k.session),
					DB_U64(k.seq > SEQ_DISORDER ? k.seq - SEQ_DISORDER : 0),
					DB_U64(k.next_seq < UINT64_MAX - SEQ_DISORDER
						   ? k.next_seq + SEQ_DISORDER
						   : UINT64_MAX),
					DB_U64(k.cid),
					DB_U64(k.next_cid),
					DB_U64(q->at_ns),
					DB_U64((uint64_t)q->max_calls + 1)};

		rc = db_select(db, range_sql, r, 8, range_row, &k, err, errlen);
	}
	if (rc == 0 && k.n > q->max_calls) {
		undo(&k); /* too many: the checkpoints answer */
	} else if (rc == 0) {
		for (size_t i = a; i < b; i++) {
			struct tt_proc *p = &s->p[i];

			if (!p->pending || !(p->in_snap || p->snap_zero))
				continue;
			p->exact = true;
			p->from_zero = p->snap_zero;
			if (p->folded)
				tt_take_state(p);
			p->pending = false; /* answered */
		}
	} else {
		undo(&k);
	}
	acct_free(k.acct);
	for (size_t i = a; i < b; i++)
		s->p[i].ap = NULL;
	if (rc < 0 && rc != -ENOMEM)
		err[0] = 0; /* a failed query: the checkpoints answer */
	return rc == -ENOMEM ? rc : 0;
}

int tt_from_snapshots(struct db_pool *db, const struct tt_query *q, struct tt_set *s, char *err,
		      size_t errlen)
{
	int rc = 0;

	for (size_t a = 0, b; rc == 0 && a < s->n; a = b) {
		size_t pending = 0;

		for (b = a; b < s->n && s->p[b].host_id == s->p[a].host_id; b++)
			pending += s->p[b].pending;
		if (pending)
			rc = host_from_snapshot(db, q, s, a, b, err, errlen);
	}
	return rc;
}
