/*
 * tt_checkpoints.c - each process's checkpoints around an instant T for
 * timetravel.c: its newest at or before T (the state the fold starts
 * from, and its call's cid) and its next one (that call's cid, the end of
 * the calls to fold).  Per host along by_time (host_id, ts_ns) from T
 * backwards and forwards (index only), the rows met then read by their
 * keys; one by one, correlated on the checkpoints primary key, for the
 * processes a scan cut at its bound did not reach.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"
#include "tt_set.h"

#define CKPT_NUMBERS                                                                               \
	"CONCAT_WS(' ', COALESCE((SELECT c.cid FROM calls c WHERE c.host_id = k.host_id"           \
	" AND c.session = k.session AND c.seq = k.seq), 0), k.ts_ns, k.uid, k.exited,"             \
	" k.net_bytes_raw, k.mapped_bytes, k.vm_size_bytes, k.requested_bytes, k.heap_bytes,"      \
	" k.heap_base_bytes, k.heap_known, k.n_mmap, k.n_munmap, k.n_mremap, k.n_brk, k.n_failed," \
	" k.rss_anon_bytes, k.rss_file_bytes, k.rss_shmem_bytes, k.swap_bytes, k.rss_ts_ns,"       \
	" k.cgroup_id, HEX(k.comm))"
enum {
	K_CID, /* of the checkpoint's call; 0: purged */
	K_TS,
	K_UID,
	K_EXITED,
	K_NET_RAW,
	K_MAPPED,
	K_VM,
	K_REQUESTED,
	K_HEAP,
	K_HEAP_BASE,
	K_HEAP_KNOWN,
	K_COUNT, /* ACCT_N_MAX of them */
	K_RSS_ANON = K_COUNT + ACCT_N_MAX,
	K_RSS_FILE,
	K_RSS_SHMEM,
	K_SWAP,
	K_RSS_TS,
	K_CGROUP,
	K_N /* then the comm in hex */
};


/* Queries 1b and 1c: a host's checkpoints around T along by_time (host_id,
 * ts_ns; it holds the primary key's columns, so the scans read that index
 * alone): backwards from T, the first one met of each process is its
 * newest at or before T; forwards, its next one.  A busy host's processes
 * all checkpoint often, so a few rows per process cover them all: the
 * scans stop at AROUND_ROWS_PER_PROC rows per process looked up (plus
 * AROUND_ROWS_MIN).  A scan that stopped there leaves some processes
 * unknown: query 1d looks theirs up one by one (the checkpoints primary
 * key, correlated).  Query 1e reads the rows met by their keys
 * (CKPT_NUMBERS: the checkpoint and its call's cid through by_seq). */
#define CKPT_KEY "k.pid, k.start_ns, k.ts_ns, k.session, k.seq"
static const char before_sql[] =
    "SELECT " CKPT_KEY " FROM checkpoints k FORCE INDEX (by_time)"
    " WHERE k.host_id = ? AND k.ts_ns <= ? ORDER BY k.ts_ns DESC LIMIT ?";
static const char after_sql[] =
    "SELECT " CKPT_KEY " FROM checkpoints k FORCE INDEX (by_time)"
    " WHERE k.host_id = ? AND k.ts_ns > ? ORDER BY k.ts_ns LIMIT ?";
static const char by_key_sql[] =
    "SELECT j.i, j.w, " CKPT_NUMBERS " FROM JSON_TABLE(?, '$[*]' COLUMNS ("
    " i INT UNSIGNED PATH '$[0]', w INT UNSIGNED PATH '$[1]', hid SMALLINT UNSIGNED PATH '$[2]',"
    " pid INT UNSIGNED PATH '$[3]', st BIGINT UNSIGNED PATH '$[4]',"
    " ts BIGINT UNSIGNED PATH '$[5]', se BIGINT UNSIGNED PATH '$[6]',"
    " sq BIGINT UNSIGNED PATH '$[7]')) j JOIN checkpoints k ON k.host_id = j.hid"
    " AND k.pid = j.pid AND k.start_ns = j.st AND k.ts_ns = j.ts AND k.session = j.se"
    " AND k.seq = j.sq";
static const char around_sql[] =
    "SELECT j.i, (SELECT " CKPT_NUMBERS " FROM checkpoints k WHERE k.host_id = j.hid"
    " AND k.pid = j.pid AND k.start_ns = j.st AND k.ts_ns <= ?"
    " ORDER BY k.ts_ns DESC, k.session DESC, k.seq DESC LIMIT 1),"
    " (SELECT c.cid FROM checkpoints n JOIN calls c ON c.host_id = n.host_id"
    " AND c.session = n.session AND c.seq = n.seq WHERE n.host_id = j.hid AND n.pid = j.pid"
    " AND n.start_ns = j.st AND n.ts_ns > ? ORDER BY n.ts_ns, n.session, n.seq LIMIT 1)"
    " FROM JSON_TABLE(?, '$[*]' COLUMNS (i INT UNSIGNED PATH '$[0]',"
    " hid SMALLINT UNSIGNED PATH '$[1]', pid INT UNSIGNED PATH '$[2]',"
    " st BIGINT UNSIGNED PATH '$[3]')) j";
#define AROUND_ROWS_PER_PROC 8
#define AROUND_ROWS_MIN	     1024
#define AROUND_ROWS_MAX	     200000

static int hex_digit(char ch)
{
	return ch >= 'a' ? ch - 'a' + 10 : ch >= 'A' ? ch - 'A' + 10 : ch - '0';
}

/* The checkpoint (CKPT_NUMBERS, text); false when there is none. */
static bool from_ckpt(struct tt_proc *p, const char *s, unsigned long len)
{
	uint64_t k[K_N];
	char *end, comm[MEMPROBE_COMM_LEN];
	unsigned long n = 0;

	if (!len)
		return false;
	for (int i = 0; i < K_N; i++, s = end)
		k[i] = strtoull(s, &end, 10);
	for (s += *s == ' '; isxdigit((unsigned char)s[0]) && isxdigit((unsigned char)s[1]) &&
			     n < sizeof(comm);
	     s += 2)
		comm[n++] = (char)(hex_digit(s[0]) << 4 | hex_digit(s[1]));
	p->ckpt = true;
	p->lo_cid = k[K_CID];
	p->ckpt_call_gone = !k[K_CID];
	p->last_seen_ns = k[K_TS];
	p->uid = (uint32_t)k[K_UID];
	tt_set_comm(p, comm, n);
	p->state = k[K_EXITED] ? TT_EXITED : TT_ALIVE;
	p->net_bytes_raw = (int64_t)k[K_NET_RAW]; /* strtoull wraps a negative back */
	p->mapped_bytes = k[K_MAPPED];
	p->vm_size_bytes = k[K_VM];
	p->requested_bytes = k[K_REQUESTED];
	p->heap_bytes = k[K_HEAP];
	p->heap_base_bytes = k[K_HEAP_BASE];
	p->heap_known = k[K_HEAP_KNOWN] != 0;
	memcpy(p->count, k + K_COUNT, sizeof(p->count));
	p->mem = (struct acct_mem){k[K_RSS_ANON], k[K_RSS_FILE], k[K_RSS_SHMEM], k[K_SWAP],
				   k[K_RSS_TS]};
	p->cgroup_id = k[K_CGROUP];
	return true;
}

struct around {
	struct tt_set *s;
	uint64_t host_id, rows;
};

/* The first checkpoint met of a process (CKPT_KEY at c) is the one. */
static int met_row(struct around *a, char **c, int after)
{
	struct tt_proc *p = tt_find_proc(a->s, a->host_id, tt_u64(c[0]), tt_u64(c[1]));
	bool *known = p ? (after ? &p->h_known : &p->k_known) : NULL;

	a->rows++;
	if (!p || !p->pending || *known)
		return 0;
	*known = true;
	for (int i = 0; i < 3; i++)
		p->key[after][i] = tt_u64(c[2 + i]);
	p->met[after] = true;
	return 0;
}

static int before_row(void *arg, char **c, unsigned long *len, unsigned int n)
{
	(void)len;
	(void)n;
	return met_row(arg, c, 0);
}

static int after_row(void *arg, char **c, unsigned long *len, unsigned int n)
{
	(void)len;
	(void)n;
	return met_row(arg, c, 1);
}

/* Query 1e's rows: the checkpoint before T whole, the one after for its cid. */
static int by_key_row(void *arg, char **c, unsigned long *len, unsigned int n)
{
	struct tt_set *s = arg;
	uint64_t i = tt_u64(c[0]), cid;

	(void)n;
	if (i >= s->n)
		return 0;
	if (c[1][0] == '0') {
		from_ckpt(&s->p[i], c[2], len[2]);
	} else {
		cid = tt_u64(c[2]); /* CKPT_NUMBERS starts with it; 0: purged */
		s->p[i].hi_cid = cid ? cid : UINT64_MAX;
	}
	return 0;
}

/* Query 1e: the checkpoints the scans met, read by their keys. */
static int read_met(struct db_pool *db, struct tt_set *s, char *err, size_t errlen)
{
	size_t cap = 2 + s->n * 2 * 160, len = 0;
	char *js = NULL;
	struct db_param p[1];
	int rc;

	for (size_t i = 0; i < s->n; i++)
		for (int w = 0; w < 2; w++) {
			const struct tt_proc *t = &s->p[i];

			if (!t->met[w])
				continue;
			if (!js && !(js = malloc(cap)))
				return -ENOMEM;
			len += (size_t)snprintf(
			    js + len, cap - len, "%s[%zu,%d,%u,%u,\"%llu\",\"%llu\",\"%llu\",\"%llu\"]",
			    len ? "," : "[", i, w, t->host_id, t->pid, (unsigned long long)t->start_ns,
			    (unsigned long long)t->key[w][0], (unsigned long long)t->key[w][1],
			    (unsigned long long)t->key[w][2]);
		}
	if (!js)
		return 0;
	snprintf(js + len, cap - len, "]");
	p[0] = DB_STR(js);
	rc = db_select(db, by_key_sql, p, 1, by_key_row, s, err, errlen);
	free(js);
	return rc;
}

/* Queries 1b and 1c for the pending processes of one host, s->p[a, b). */
static int around_host(struct db_pool *db, struct tt_set *s, size_t a, size_t b, uint64_t at_ns,
		       char *err, size_t errlen)
{
	struct around ar = {.s = s, .host_id = s->p[a].host_id};
	uint64_t pending = 0, limit;
	struct db_param p[3];
	int rc;

	for (size_t i = a; i < b; i++)
		pending += s->p[i].pending;
	if (!pending)
		return 0;
	limit = pending * AROUND_ROWS_PER_PROC + AROUND_ROWS_MIN;
	limit = limit < AROUND_ROWS_MAX ? limit : AROUND_ROWS_MAX;
	p[0] = DB_U64(ar.host_id);
	p[1] = DB_U64(at_ns);
	p[2] = DB_U64(limit);
	rc = db_select(db, before_sql, p, 3, before_row, &ar, err, errlen);
	/* every checkpoint at or before T was met: those not met have none */
	for (size_t i = a; rc == 0 && ar.rows < limit && i < b; i++)
		s->p[i].k_known = true;
	ar.rows = 0;
	if (rc == 0)
		rc = db_select(db, after_sql, p, 3, after_row, &ar, err, errlen);
	for (size_t i = a; rc == 0 && ar.rows < limit && i < b; i++)
		s->p[i].h_known = true;
	return rc;
}

static int around_row(void *arg, char **c, unsigned long *len, unsigned int n)
{
	struct tt_set *s = arg;
	uint64_t i = tt_u64(c[0]);
	struct tt_proc *p;

	(void)n;
	if (i >= s->n)
		return 0;
	p = &s->p[i];
	if (!p->k_known)
		from_ckpt(p, c[1], len[1]);
	if (!p->h_known)
		p->hi_cid = len[2] ? tt_u64(c[2]) : UINT64_MAX;
	p->k_known = p->h_known = true;
	return 0;
}

/* The checkpoints around T of every pending process: per host along
 * by_time, then one by one for those the scans left unknown (query 1d). */
int tt_checkpoints_around(struct db_pool *db, struct tt_set *s, uint64_t at_ns, char *err,
			  size_t errlen)
{
	size_t cap = 2 + s->n * 80, len = 0;
	char *js = NULL;
	int rc = 0;

	for (size_t a = 0, b; rc == 0 && a < s->n; a = b) {
		for (b = a; b < s->n && s->p[b].host_id == s->p[a].host_id; b++)
			;
		rc = around_host(db, s, a, b, at_ns, err, errlen);
	}
	for (size_t i = 0; rc == 0 && i < s->n; i++) {
		const struct tt_proc *p = &s->p[i];

		if (!p->pending || (p->k_known && p->h_known))
			continue;
		if (!js && !(js = malloc(cap)))
			return -ENOMEM;
		len += (size_t)snprintf(js + len, cap - len, "%s[%zu,%u,%u,\"%llu\"]", len ? "," : "[",
					i, p->host_id, p->pid, (unsigned long long)p->start_ns);
	}
	if (rc == 0 && js) {
		struct db_param p[3];

		snprintf(js + len, cap - len, "]");
		p[0] = DB_U64(at_ns);
		p[1] = DB_U64(at_ns);
		p[2] = DB_STR(js);
		rc = db_select(db, around_sql, p, 3, around_row, s, err, errlen);
	}
	free(js);
	if (rc == 0)
		rc = read_met(db, s, err, errlen);
	return rc;
}
