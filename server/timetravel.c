/*
 * timetravel.c - the state of processes at an instant T (timetravel.h),
 * in three queries whatever the number of processes:
 *
 *  1. the processes seen at or before T (processes rows, bounded by
 *     TT_MAX_PROCS), each with its newest checkpoint at or before T (the
 *     checkpoints primary key, correlated on the process, read backwards
 *     from the newest), the cid of that checkpoint's call (calls' unique
 *     key by_seq) and the cid of its next checkpoint's call: the calls
 *     that can matter lie between;
 *  2. those calls with ts_ns <= T, for every process at once: the list of
 *     (process, cid after, cid before) goes in as one JSON parameter and
 *     each element is a range of by_pid_cid (pid, cid) ("Range checked for
 *     each record": an equality on pid would be ref access on pid alone,
 *     which reads every call of the pid);
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
 * resident reading is too (or that exited), is its processes row.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rows.h"
#include "server.h"
#include "timetravel.h"

static uint16_t call_of(const char *name)
{
	for (uint16_t i = 1; i <= MP_CALL_MAX; i++)
		if (!strcmp(name, memprobe_call_name(i)))
			return i;
	return 0;
}

static uint64_t u64_of(const char *s)
{
	return strtoull(s, NULL, 10);
}

void record_of_call(char **c, unsigned long *len, struct memprobe_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->ts_ns = u64_of(c[0]);
	rec->call = call_of(c[1]);
	rec->addr = u64_of(c[2]);
	rec->len = u64_of(c[3]);
	rec->new_addr = u64_of(c[4]);
	rec->new_len = u64_of(c[5]);
	rec->mflags = (uint32_t)u64_of(c[6]);
	rec->ret = strtoll(c[7], NULL, 10);
	rec->total_vm_bytes = u64_of(c[8]);
	rec->uid = (uint32_t)u64_of(c[9]);
	memcpy(rec->comm, c[10], len[10] < MEMPROBE_COMM_LEN ? len[10] : MEMPROBE_COMM_LEN);
	rec->prot = (uint32_t)u64_of(c[11]);
	rec->offset = u64_of(c[12]);
	rec->fd = (int32_t)strtol(c[13], NULL, 10);
	rec->file_dev = (uint32_t)u64_of(c[14]);
	rec->file_ino = u64_of(c[15]);
	rec->rss_anon_bytes = u64_of(c[16]);
	rec->rss_file_bytes = u64_of(c[17]);
	rec->rss_shmem_bytes = u64_of(c[18]);
	rec->swap_bytes = u64_of(c[19]);
	rec->cgroup_id = u64_of(c[20]);
}

/* Query 1.  Its columns: PROC_COLUMNS (0-29, the row as it is now), the
 * host's id and swap total, then the newest checkpoint at or before T in
 * one column (CKPT_NUMBERS, "" when none: one backward seek per process in
 * the checkpoints primary key, and db_core.c's bound on columns kept),
 * and the cid of the next checkpoint's call.  Neither is looked up for a
 * process whose row is its state at T (the shortcut, SHORTCUT). */
#define SHORTCUT "p.last_seen_ns <= ? AND (p.exited = 1 OR p.rss_ts_ns <= ?)"
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
#define CKPT_COLUMNS                                                                               \
	"p.host_id, h.swap_total_bytes, CASE WHEN " SHORTCUT " THEN NULL ELSE (SELECT "            \
	CKPT_NUMBERS " FROM checkpoints k WHERE k.host_id = p.host_id AND k.pid = p.pid"           \
	" AND k.start_ns = p.start_ns AND k.ts_ns <= ?"                                            \
	" ORDER BY k.ts_ns DESC, k.session DESC, k.seq DESC LIMIT 1) END,"                         \
	" CASE WHEN " SHORTCUT " THEN NULL ELSE (SELECT c.cid FROM checkpoints n JOIN calls c"     \
	" ON c.host_id = n.host_id AND c.session = n.session AND c.seq = n.seq"                    \
	" WHERE n.host_id = p.host_id AND n.pid = p.pid AND n.start_ns = p.start_ns"               \
	" AND n.ts_ns > ? ORDER BY n.ts_ns, n.session, n.seq LIMIT 1) END"
enum { C_HOST_ID = 30, C_SWAP_TOTAL, C_CKPT, C_HI_CID };
static const char procs_sql[] =
    "SELECT STRAIGHT_JOIN " PROC_COLUMNS ", " CKPT_COLUMNS
    " FROM hosts h JOIN processes p ON p.host_id = h.host_id" GROUP_JOIN("p")
    " WHERE (? = '' OR h.name = ?) AND (? = 0 OR p.pid = ?) AND (? = 0 OR p.start_ns = ?)"
    " AND p.first_seen_ns <= ? AND (? = 0 OR p.exited = 0 OR p.last_seen_ns > ?)"
    " ORDER BY p.host_id, p.pid, p.start_ns LIMIT ?";
#define PROCS_PARAMS 16

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

/* Query 3: the groups of cgroups a process was in at T. */
static const char groups_sql[] =
    "SELECT x.i, " GROUP_COLUMNS("x") " FROM JSON_TABLE(?, '$[*]' COLUMNS ("
    " i INT UNSIGNED PATH '$[0]', host_id SMALLINT UNSIGNED PATH '$[1]',"
    " cgroup_id BIGINT UNSIGNED PATH '$[2]')) x" GROUP_JOIN("x");

struct collect {
	struct tt_set *s;
	uint64_t at_ns;
	size_t cap;
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

static void set_comm(struct tt_proc *p, const char *s, unsigned long n)
{
	p->comm_len = n < MEMPROBE_COMM_LEN ? n : MEMPROBE_COMM_LEN;
	memcpy(p->comm, s, p->comm_len);
	p->comm[p->comm_len] = 0;
}

/* The state is the processes row (the shortcut). */
static void from_row(struct tt_proc *p, char **c, unsigned long *len)
{
	p->state = c[7][0] == '1' ? TT_EXITED : TT_ALIVE;
	p->exact = true;
	p->uid = (uint32_t)u64_of(c[3]);
	set_comm(p, c[4], len[4]);
	p->net_bytes_raw = strtoll(c[9], NULL, 10);
	p->mapped_bytes = u64_of(c[10]);
	p->vm_size_bytes = u64_of(c[11]);
	p->requested_bytes = u64_of(c[12]);
	for (int i = 0; i < ACCT_N_MAX; i++)
		p->count[i] = u64_of(c[14 + i]);
	p->mem = (struct acct_mem){u64_of(c[20]), u64_of(c[21]), u64_of(c[22]), u64_of(c[23]),
				   u64_of(c[24])};
	p->cgroup_id = p->row_cgroup_id;
}

static int hex_digit(char ch)
{
	return ch >= 'a' ? ch - 'a' + 10 : ch >= 'A' ? ch - 'A' + 10 : ch - '0';
}

/* The checkpoint (CKPT_NUMBERS); false when there is none. */
static bool from_ckpt(struct tt_proc *p, char **c, unsigned long *len)
{
	uint64_t k[K_N];
	const char *s = c[C_CKPT];
	char *end, comm[MEMPROBE_COMM_LEN];
	unsigned long n = 0;

	if (!len[C_CKPT])
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
	set_comm(p, comm, n);
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
	p->host_id = (uint16_t)u64_of(c[C_HOST_ID]);
	snprintf(p->host, sizeof(p->host), "%.*s", (int)len[0], c[0]);
	p->pid = (uint32_t)u64_of(c[1]);
	p->start_ns = u64_of(c[2]);
	p->first_seen_ns = u64_of(c[5]);
	p->last_seen_ns = u64_of(c[6]);
	p->mem_total_bytes = u64_of(c[25]);
	p->swap_total_bytes = u64_of(c[C_SWAP_TOTAL]);
	p->row_cgroup_id = u64_of(c[26]);
	set_group(p, c + 26, len + 26);
	if (p->last_seen_ns <= k->at_ns && (c[7][0] == '1' || u64_of(c[24]) <= k->at_ns)) {
		from_row(p, c, len);
		return 0;
	}
	p->hi_cid = len[C_HI_CID] ? u64_of(c[C_HI_CID]) : UINT64_MAX;
	if (from_ckpt(p, c, len)) {
		p->exact = !p->ckpt_call_gone;
		/* after its exit a process makes no call */
		p->need_calls = !p->ckpt_call_gone && p->state != TT_EXITED;
	} else {
		p->from_zero = p->need_calls = true;
		p->state = TT_UNSEEN; /* until a call is folded */
	}
	return 0;
}

struct fold {
	struct tt_set *s;
	struct acct *acct;
	uint64_t rows;
};

static int fold_call(void *arg, char **c, unsigned long *len, unsigned int n)
{
	struct fold *f = arg;
	uint64_t i = u64_of(c[0]);
	struct memprobe_record rec;
	struct tt_proc *p;

	(void)n;
	f->rows++;
	if (i >= f->s->n)
		return 0;
	p = &f->s->p[i];
	record_of_call(c + 1, len + 1, &rec);
	rec.pid = (uint32_t)i + 1; /* one acct for all: the index is the key */
	rec.start_ns = p->start_ns;
	if (p->from_zero && !p->folded)
		p->exact = rec.ts_ns == p->first_seen_ns;
	p->ap = acct_apply(f->acct, &rec);
	if (!p->ap)
		return -ENOMEM;
	p->mapped_bytes = u64_of(c[1 + REPLAY_COL_MAPPED]);
	p->folded++;
	return 0;
}

static int restore_ckpt(struct acct *a, struct tt_proc *p, uint32_t key)
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

static void take_state(struct tt_proc *p)
{
	const struct acct_proc *a = p->ap;

	if (!a || (!p->folded && !p->ckpt)) {
		p->state = TT_UNSEEN;
		return;
	}
	p->state = a->exited ? TT_EXITED : TT_ALIVE;
	p->uid = a->uid;
	set_comm(p, a->comm, strnlen(a->comm, MEMPROBE_COMM_LEN));
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
	size_t cap = 2 + s->n * 96, len = 0;
	char *buf = malloc(cap);

	*oom = !buf;
	if (!buf)
		return NULL;
	buf[len++] = '[';
	for (size_t i = 0; i < s->n; i++) {
		const struct tt_proc *p = &s->p[i];

		if (!p->need_calls)
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

static int fold_all(struct db_pool *db, const struct tt_query *q, struct tt_set *s, char *err,
		    size_t errlen)
{
	struct fold f = {.s = s};
	struct db_param p[3];
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
			rc = restore_ckpt(f.acct, &s->p[i], (uint32_t)i + 1);
	if (rc < 0)
		goto out;
	p[0] = DB_STR(js);
	p[1] = DB_U64(q->at_ns);
	p[2] = DB_U64((uint64_t)q->max_calls + 1);
	rc = db_select(db, calls_sql, p, 3, fold_call, &f, err, errlen);
	if (rc == 0 && f.rows > q->max_calls) {
		snprintf(err, errlen,
			 "more than %u calls to fold for this instant (--series-max-calls): narrow "
			 "with host= or pid=",
			 q->max_calls);
		rc = -E2BIG;
	}
	for (size_t i = 0; rc == 0 && i < s->n; i++)
		if (s->p[i].need_calls)
			take_state(&s->p[i]);
out:
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory folding the calls");
	acct_free(f.acct); /* the states were copied out */
	for (size_t i = 0; i < s->n; i++)
		s->p[i].ap = NULL;
	free(js);
	return rc;
}

static int name_group(void *arg, char **c, unsigned long *len, unsigned int n)
{
	struct tt_set *s = arg;
	uint64_t i = u64_of(c[0]);

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

int tt_states(struct db_pool *db, const struct tt_query *q, struct tt_set *out, char *err,
	      size_t errlen)
{
	struct collect k = {.s = out, .at_ns = q->at_ns};
	struct db_param p[PROCS_PARAMS];
	size_t kept = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < 6; i++) /* the shortcuts and the checkpoints around T */
		p[i] = DB_U64(q->at_ns);
	p[6] = DB_STR(q->host);
	p[7] = DB_STR(q->host);
	p[8] = DB_U64(q->pid);
	p[9] = DB_U64(q->pid);
	p[10] = DB_U64(q->start_ns);
	p[11] = DB_U64(q->start_ns);
	p[12] = DB_U64(q->at_ns);
	p[13] = DB_U64(q->skip_exited_ns);
	p[14] = DB_U64(q->skip_exited_ns);
	p[15] = DB_U64(TT_MAX_PROCS + 1);
	rc = db_select(db, procs_sql, p, PROCS_PARAMS, collect_proc, &k, err, errlen);
	if (rc == 0 && out->n > TT_MAX_PROCS) {
		snprintf(err, errlen,
			 "more than %d processes were seen by this instant: narrow with host= (or "
			 "pid=, state=alive)",
			 TT_MAX_PROCS);
		rc = -E2BIG;
	}
	if (rc == 0)
		rc = fold_all(db, q, out, err, errlen);
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
