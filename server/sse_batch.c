/*
 * sse_batch.c - reads newly committed calls (by cid) and the processes
 * rows they changed, and formats each as one server-sent event, once for
 * all clients.  A batch costs two queries whatever the number of hosts
 * and processes it touched: its calls, then the rows of all its processes
 * by their keys (a JSON array of at most PROC_KEYS_MAX keys, one more
 * query per further PROC_KEYS_MAX).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rows.h"
#include "sse_batch.h"

/* CALLS_COLUMNS, then the call's host_id (column CALLS_N_COLUMNS). */
#define CALLS_N_COLUMNS 22
static const char batch_sql[] =
    "SELECT STRAIGHT_JOIN " CALLS_COLUMNS
    ", c.host_id FROM calls c FORCE INDEX (PRIMARY) JOIN hosts h ON "
    "h.host_id = c.host_id WHERE c.cid > ? AND c.cid <= ? ORDER BY c.cid LIMIT ?";

/* The processes rows of the keys [i, host_id, pid, start_ns] in ?, each
 * with its i (column PROC_N_COLUMNS).  start_ns is sent as a string: a
 * JSON number that large could pass through a double. */
#define PROC_N_COLUMNS 30
#define PROC_KEYS_MAX  1024
static const char procs_sql[] =
    "SELECT STRAIGHT_JOIN " PROC_COLUMNS ", j.i FROM JSON_TABLE(?, '$[*]' COLUMNS ("
    " i INT UNSIGNED PATH '$[0]', hid SMALLINT UNSIGNED PATH '$[1]',"
    " pid BIGINT UNSIGNED PATH '$[2]', st BIGINT UNSIGNED PATH '$[3]')) j"
    " JOIN processes p ON p.host_id = j.hid AND p.pid = j.pid AND p.start_ns = j.st"
    " JOIN hosts h ON h.host_id = p.host_id" GROUP_JOIN("p");

void msg_put(struct msg *m)
{
	if (m && atomic_fetch_sub(&m->ref, 1) == 1)
		free(m);
}

static struct msg *msg_new(const char *event, uint64_t id, uint64_t cid, cJSON *body)
{
	char *json = cJSON_PrintUnformatted(body);
	size_t cap = (json ? strlen(json) : 0) + 96;
	struct msg *m = json ? malloc(sizeof(*m) + cap) : NULL;

	if (m) {
		cJSON *h = cJSON_GetObjectItem(body, "host"),
		      *n = cJSON_GetObjectItem(body, "name");

		atomic_init(&m->ref, 1);
		m->cid = cid;
		m->pid = (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(body, "pid"));
		snprintf(m->host, sizeof(m->host), "%s", cJSON_IsString(h) ? h->valuestring : "");
		snprintf(m->name, sizeof(m->name), "%s", cJSON_IsString(n) ? n->valuestring : "");
		if (id)
			m->len = snprintf(m->data, cap, "id: %llu\nevent: %s\ndata: %s\n\n",
					  (unsigned long long)id, event, json);
		else
			m->len = snprintf(m->data, cap, "event: %s\ndata: %s\n\n", event, json);
	}
	cJSON_Delete(body);
	free(json);
	return m;
}

/* Remember the process (host, pid, start_ns) of a call, once per batch;
 * open addressing in a table at most half full. */
static void batch_note_proc(struct batch *b, uint64_t host_id, uint64_t pid, uint64_t start_ns)
{
	uint64_t h = ((pid ^ host_id << 40) * 0x9e3779b97f4a7c15ull) ^ start_ns;
	size_t mask = b->n_slots - 1, i;
	struct batch_key *k;

	h ^= h >> 29;
	for (i = h & mask; b->slot[i]; i = (i + 1) & mask) {
		k = &b->key[b->slot[i] - 1];
		if (k->pid == pid && k->start_ns == start_ns && k->host_id == host_id)
			return;
	}
	k = &b->key[b->n_procs++];
	k->host_id = host_id;
	k->pid = pid;
	k->start_ns = start_ns;
	b->slot[i] = b->n_procs;
}

static int batch_add_call(void *arg, char **c, unsigned long *len, unsigned int n)
{
	struct batch *b = arg;
	uint64_t cid = strtoull(c[0], NULL, 10), pid = strtoull(c[5], NULL, 10);
	uint64_t start = strtoull(c[8], NULL, 10);

	(void)n;
	b->calls[b->n_calls] = msg_new("call", cid, cid, calls_row_json(c, len));
	if (!b->calls[b->n_calls])
		return -ENOMEM;
	b->n_calls++;
	b->last_cid = cid;
	batch_note_proc(b, strtoull(c[CALLS_N_COLUMNS], NULL, 10), pid, start);
	return 0;
}

/* A processes row of key i: procs[i], once (a key matches one row). */
static int batch_add_proc(void *arg, char **c, unsigned long *len, unsigned int n)
{
	struct batch *b = arg;
	size_t i;

	if (n <= PROC_N_COLUMNS)
		return -EIO;
	i = strtoull(c[PROC_N_COLUMNS], NULL, 10);
	if (i >= b->n_procs || b->procs[i])
		return -EIO;
	b->procs[i] = msg_new("process", 0, b->last_cid, proc_row_json(c, len));
	return b->procs[i] ? 0 : -ENOMEM;
}

/* keys[from, to) as the JSON array procs_sql reads, into buf. */
static char *keys_json(const struct batch *b, size_t from, size_t to)
{
	/* ",[i,host_id,pid,\"start_ns\"]": at most 2 + 3 * 21 + 23 bytes */
	char *buf = malloc((to - from) * 96 + 3), *p = buf;

	if (!buf)
		return NULL;
	*p++ = '[';
	for (size_t k = from; k < to; k++)
		p += sprintf(p, "%s[%zu,%llu,%llu,\"%llu\"]", k > from ? "," : "", k,
			     (unsigned long long)b->key[k].host_id,
			     (unsigned long long)b->key[k].pid,
			     (unsigned long long)b->key[k].start_ns);
	*p++ = ']';
	*p = 0;
	return buf;
}

void batch_free(struct batch *b)
{
	for (size_t i = 0; i < b->n_calls; i++)
		msg_put(b->calls[i]);
	for (size_t i = 0; b->procs && i < b->n_procs; i++)
		msg_put(b->procs[i]);
	free(b->calls);
	free(b->procs);
	free(b->key);
	free(b->slot);
	free(b);
}

static struct batch *batch_new(unsigned int max_rows)
{
	struct batch *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	for (b->n_slots = 16; b->n_slots < 2 * (size_t)max_rows;)
		b->n_slots *= 2;
	b->calls = calloc(max_rows, sizeof(*b->calls));
	b->key = malloc((size_t)max_rows * sizeof(*b->key));
	b->slot = calloc(b->n_slots, sizeof(*b->slot));
	if (!b->calls || !b->key || !b->slot) {
		batch_free(b);
		return NULL;
	}
	return b;
}

/* Calls with after < cid <= upto (at most max_rows), and the rows of
 * all the processes they touched (procs[k] in the order of key[k]: the
 * order each first appeared in, as the events go out). */
int batch_fetch(struct db_pool *db, uint64_t after, uint64_t upto, unsigned int max_rows,
		struct batch **out, char *err, size_t errlen)
{
	struct batch *b = batch_new(max_rows);
	struct db_param p[3] = {DB_U64(after), DB_U64(upto), DB_U64(max_rows)};
	int rc;

	if (!b)
		return -ENOMEM;
	rc = db_select(db, batch_sql, p, 3, batch_add_call, b, err, errlen);
	if (rc == 0 && b->n_procs && !(b->procs = calloc(b->n_procs, sizeof(*b->procs))))
		rc = -ENOMEM;
	for (size_t k = 0; rc == 0 && k < b->n_procs; k += PROC_KEYS_MAX) {
		size_t to = b->n_procs - k < PROC_KEYS_MAX ? b->n_procs : k + PROC_KEYS_MAX;
		char *keys = keys_json(b, k, to);

		if (!keys) {
			rc = -ENOMEM;
			break;
		}
		p[0] = DB_STR(keys);
		rc = db_select(db, procs_sql, p, 1, batch_add_proc, b, err, errlen);
		free(keys);
	}
	if (rc < 0) {
		batch_free(b);
		return rc;
	}
	*out = b;
	return 0;
}
