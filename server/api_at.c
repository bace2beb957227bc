/*
 * api_at.c - the answers about a past instant that cover many processes:
 * /api/processes?at=T (the list as it was at T) and /api/diff (what grew
 * between two instants, per process and per group).  The states come
 * from timetravel.c; filtering, sorting, paging and the sums are done
 * here, on the values at T (docs/API.md, "Time travel").
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_id.h"
#include "server.h"
#include "timetravel.h"

int reply_tt_error(struct req *r, int rc, const char *err)
{
	if (rc == -E2BIG)
		return reply_error(r, 413, "too much to compute", "host", err);
	return reply_db_error(r, rc, err);
}

/* One row to sort: its key, or its name (sort=name). */
struct sorted {
	const struct tt_proc *p;
	uint64_t key;
	int desc, by_name;
	int64_t growth;
};

static int cmp_ids(const struct tt_proc *a, const struct tt_proc *b)
{
	if (a->host_id != b->host_id)
		return a->host_id < b->host_id ? -1 : 1;
	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	return a->start_ns < b->start_ns ? -1 : a->start_ns > b->start_ns;
}

/* Like the SQL of the list: ORDER BY key dir, host, pid, start_ns. */
static int cmp_sorted(const void *x, const void *y)
{
	const struct sorted *a = x, *b = y;
	int c = 0;

	if (a->by_name) {
		size_t n = a->p->comm_len < b->p->comm_len ? a->p->comm_len : b->p->comm_len;

		c = memcmp(a->p->comm, b->p->comm, n);
		if (!c)
			c = a->p->comm_len < b->p->comm_len ? -1 : a->p->comm_len > b->p->comm_len;
	} else if (a->key != b->key)
		c = a->key < b->key ? -1 : 1;
	if (c)
		return a->desc ? -c : c;
	return cmp_ids(a->p, b->p);
}

static uint64_t sort_key(const struct tt_proc *p, int sort)
{
	switch (sort) {
	case 0:
		return tt_held_bytes(p);
	case 1:
		return p->mapped_bytes;
	case 2:
		return p->vm_size_bytes;
	case 3:
		return p->requested_bytes;
	case 4:
		return p->pid;
	case 6:
		return p->last_seen_ns;
	case 7:
		return p->mem.rss_anon_bytes + p->mem.rss_file_bytes + p->mem.rss_shmem_bytes;
	case 8:
		return p->mem.swap_bytes;
	default:
		return 0;
	}
}

static int matches(const struct tt_proc *p, const struct at_list *a)
{
	size_t nl = strlen(a->name);

	if (a->uid != UINT64_MAX && p->uid != a->uid)
		return 0;
	if (nl && !memmem(p->comm, p->comm_len, a->name, nl))
		return 0;
	if (a->state && (p->state == TT_EXITED) != (a->state == 2))
		return 0;
	return !a->group[0] || !strcmp(p->group, a->group);
}

int api_processes_at(struct req *r, const struct at_list *a)
{
	struct tt_query q = {.host = a->host,
			     .pid = a->pid,
			     .at_ns = a->at_ns,
			     .skip_exited_ns = a->state == 1 ? a->at_ns : 0,
			     .max_calls = series_max_calls()};
	struct tt_set s;
	struct sorted *v;
	size_t n = 0;
	char err[256];
	cJSON *o, *rows;
	int rc = tt_states(r->db, &q, &s, err, sizeof(err));

	if (rc < 0)
		return reply_tt_error(r, rc, err);
	v = calloc(s.n ? s.n : 1, sizeof(*v));
	if (!v) {
		tt_set_free(&s);
		return reply_error(r, 500, "out of memory", NULL, "try a narrower question");
	}
	for (size_t i = 0; i < s.n; i++)
		if (matches(&s.p[i], a))
			v[n++] = (struct sorted){&s.p[i], sort_key(&s.p[i], a->sort), a->order == 0,
						 a->sort == 5, 0};
	qsort(v, n, sizeof(*v), cmp_sorted);
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "total", (double)n);
	cJSON_AddNumberToObject(o, "limit", (double)a->limit);
	cJSON_AddNumberToObject(o, "offset", (double)a->offset);
	cJSON_AddStringToObject(o, "sort", a->sort_name);
	cJSON_AddStringToObject(o, "order", a->order_name);
	tt_add_ns_str(o, "at_ns", a->at_ns);
	rows = cJSON_AddArrayToObject(o, "processes");
	for (size_t i = a->offset; i < n && i < a->offset + a->limit; i++)
		cJSON_AddItemToArray(rows, tt_proc_json(v[i].p));
	free(v);
	tt_set_free(&s);
	return reply_json(r, 200, o);
}

/* ---- /api/diff ---- */

static const char *const measure_names[] = {"held", "mapped", "vm", NULL};
#define N_MEASURES 3

/* A process's measures at one end: 0 when unseen or exited there. */
static void measures(const struct tt_proc *p, int64_t m[N_MEASURES])
{
	int live = p && p->state == TT_ALIVE;

	m[0] = live ? (int64_t)tt_held_bytes(p) : 0;
	m[1] = live ? (int64_t)p->mapped_bytes : 0;
	m[2] = live ? (int64_t)p->vm_size_bytes : 0;
}

static void add_measures(cJSON *o, const char *key, const int64_t m[N_MEASURES],
			 const struct tt_proc *p)
{
	cJSON *e = cJSON_AddObjectToObject(o, key);

	if (p)
		cJSON_AddStringToObject(e, "state",
					p->state == TT_EXITED ? "exited"
					: p->state == TT_ALIVE ? "alive"
							       : "unseen");
	cJSON_AddNumberToObject(e, "memory_held_bytes", (double)m[0]);
	cJSON_AddNumberToObject(e, "mapped_bytes", (double)m[1]);
	cJSON_AddNumberToObject(e, "vm_size_bytes", (double)m[2]);
}

static const struct tt_proc unseen = {.state = TT_UNSEEN};

struct diff_row {
	const struct tt_proc *from, *to;
	int64_t m_from[N_MEASURES], m_to[N_MEASURES];
};

static cJSON *diff_row_json(const struct diff_row *d)
{
	cJSON *o = cJSON_CreateObject();
	const struct tt_proc *p = d->to;
	int64_t g[N_MEASURES];
	char start[24];

	json_add_bytes_str(o, "host", p->host, strlen(p->host));
	cJSON_AddNumberToObject(o, "pid", p->pid);
	snprintf(start, sizeof(start), "%llu", (unsigned long long)p->start_ns);
	cJSON_AddStringToObject(o, "start_ns", start);
	json_add_bytes_str(o, "name", p->comm, p->comm_len);
	cJSON_AddNumberToObject(o, "uid", p->uid);
	json_add_bytes_str(o, "group", p->group, strlen(p->group));
	cJSON_AddStringToObject(o, "group_kind", p->group_kind);
	add_measures(o, "from", d->m_from, d->from);
	add_measures(o, "to", d->m_to, d->to);
	for (int i = 0; i < N_MEASURES; i++)
		g[i] = d->m_to[i] - d->m_from[i];
	add_measures(o, "growth", g, NULL);
	cJSON_AddBoolToObject(o, "exact",
			      (d->from->state == TT_UNSEEN || d->from->exact) && d->to->exact);
	return o;
}

struct group_sum {
	const struct tt_proc *first; /* names the group */
	uint64_t n;
	int64_t from[N_MEASURES], to[N_MEASURES];
};

static int cmp_growth(const void *x, const void *y)
{
	const struct sorted *a = x, *b = y;

	if (a->growth != b->growth)
		return a->growth > b->growth ? -1 : 1;
	return cmp_ids(a->p, b->p);
}

static cJSON *groups_json(const struct diff_row *d, size_t n, int sort)
{
	struct group_sum *g = calloc(n ? n : 1, sizeof(*g));
	struct sorted *v = calloc(n ? n : 1, sizeof(*v));
	cJSON *arr = cJSON_CreateArray();
	size_t ng = 0;

	if (!g || !v)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct tt_proc *p = d[i].to;
		size_t k;

		for (k = 0; k < ng; k++)
			if (!strcmp(g[k].first->group, p->group) &&
			    !strcmp(g[k].first->group_kind, p->group_kind))
				break;
		if (k == ng)
			g[ng++].first = p;
		g[k].n++;
		for (int m = 0; m < N_MEASURES; m++) {
			g[k].from[m] += d[i].m_from[m];
			g[k].to[m] += d[i].m_to[m];
		}
	}
	for (size_t k = 0; k < ng; k++)
		v[k] = (struct sorted){.p = g[k].first,
				       .key = k,
				       .growth = g[k].to[sort] - g[k].from[sort]};
	qsort(v, ng, sizeof(*v), cmp_growth);
	for (size_t i = 0; i < ng; i++) {
		const struct group_sum *s = &g[v[i].key];
		cJSON *o = cJSON_CreateObject();
		int64_t gr[N_MEASURES];

		json_add_bytes_str(o, "group", s->first->group, strlen(s->first->group));
		cJSON_AddStringToObject(o, "group_kind", s->first->group_kind);
		cJSON_AddNumberToObject(o, "processes", (double)s->n);
		add_measures(o, "from", s->from, NULL);
		add_measures(o, "to", s->to, NULL);
		for (int m = 0; m < N_MEASURES; m++)
			gr[m] = s->to[m] - s->from[m];
		add_measures(o, "growth", gr, NULL);
		cJSON_AddItemToArray(arr, o);
	}
out:
	free(g);
	free(v);
	return arr;
}

/* The processes of "to" (seen by T2, not exited by T1), each with its
 * state at T1 (both sets are in (host_id, pid, start_ns) order). */
static size_t pair_up(const struct tt_set *a, const struct tt_set *b, const char *group,
		      struct diff_row *d)
{
	size_t n = 0, j = 0;

	for (size_t i = 0; i < b->n; i++) {
		const struct tt_proc *to = &b->p[i];

		while (j < a->n && cmp_ids(&a->p[j], to) < 0)
			j++;
		if (group[0] && strcmp(to->group, group))
			continue;
		d[n].to = to;
		d[n].from = j < a->n && !cmp_ids(&a->p[j], to) ? &a->p[j] : &unseen;
		measures(d[n].from, d[n].m_from);
		measures(to, d[n].m_to);
		n++;
	}
	return n;
}

/* The state at "from" is computed on a thread of its own while this one
 * computes "to": two pooled connections, the answer in the time of one. */
struct tt_job {
	struct db_pool *db;
	struct tt_query q;
	struct tt_set s;
	char err[256];
	int rc;
};

static void *tt_job_run(void *arg)
{
	struct tt_job *j = arg;

	j->rc = tt_states(j->db, &j->q, &j->s, j->err, sizeof(j->err));
	return NULL;
}

int api_diff(struct req *r)
{
	static const char *const allowed[] = {"from", "to", "host", "sort", "limit", "group", NULL};
	char host[MP_HOST_ID_MAX + 1], group[TT_GROUP_NAME_MAX_BYTES + 1], err[256];
	uint64_t from, to, limit;
	struct tt_set a = {0}, b = {0};
	struct diff_row *d = NULL;
	struct sorted *v = NULL;
	size_t n;
	int sort, rc;
	cJSON *o, *rows;

	if (http_check_params(r, allowed) || param_u64(r, "from", 1, INT64_MAX, 0, &from) ||
	    param_u64(r, "to", 1, INT64_MAX, 0, &to) ||
	    param_str(r, "host", host, sizeof(host), MP_HOST_ID_CHARSET) < 0 ||
	    param_enum(r, "sort", measure_names, 0, &sort) ||
	    param_u64(r, "limit", 1, 1000, 100, &limit) ||
	    param_str(r, "group", group, sizeof(group), NULL) < 0)
		return 400;
	if (!from || !to)
		return reply_error(r, 400, "bad parameter", from ? "to" : "from",
				   "from and to are both required: ns since the epoch, from < to");
	if (to <= from)
		return reply_error(r, 400, "bad parameter", "to", "must be greater than from");
	struct tt_job ja = {.db = r->db,
			    .q = {.host = host,
				  .at_ns = from,
				  .skip_exited_ns = from,
				  .max_calls = series_max_calls()}};
	struct tt_query q = ja.q;
	pthread_t th;
	int threaded;

	if (!tt_admit(2)) /* both instants at once, or none */
		return reply_db_error(r, -EBUSY,
				      "the computations of an instant (?at=, /api/diff) that may run "
				      "at once are running already (--at-max-running)");
	ja.q.admitted = q.admitted = true;
	threaded = !pthread_create(&th, NULL, tt_job_run, &ja);

	q.at_ns = to;
	rc = tt_states(r->db, &q, &b, err, sizeof(err));
	if (threaded)
		pthread_join(th, NULL);
	else
		tt_job_run(&ja);
	tt_leave(2);
	a = ja.s;
	if (rc == 0 && ja.rc < 0) {
		rc = ja.rc;
		snprintf(err, sizeof(err), "%s", ja.err);
	}
	if (rc < 0) {
		tt_set_free(&a);
		tt_set_free(&b);
		return reply_tt_error(r, rc, err);
	}
	d = calloc(b.n ? b.n : 1, sizeof(*d));
	v = calloc(b.n ? b.n : 1, sizeof(*v));
	if (!d || !v) {
		rc = reply_error(r, 500, "out of memory", NULL, "try a narrower question");
		goto out;
	}
	n = pair_up(&a, &b, group, d);
	for (size_t i = 0; i < n; i++)
		v[i] = (struct sorted){.p = d[i].to,
				       .key = i,
				       .growth = d[i].m_to[sort] - d[i].m_from[sort]};
	qsort(v, n, sizeof(*v), cmp_growth);
	o = cJSON_CreateObject();
	tt_add_ns_str(o, "from_ns", from);
	tt_add_ns_str(o, "to_ns", to);
	cJSON_AddStringToObject(o, "sort", measure_names[sort]);
	cJSON_AddNumberToObject(o, "total", (double)n);
	cJSON_AddNumberToObject(o, "limit", (double)limit);
	rows = cJSON_AddArrayToObject(o, "processes");
	for (size_t i = 0; i < n && i < limit; i++)
		cJSON_AddItemToArray(rows, diff_row_json(&d[v[i].key]));
	cJSON_AddItemToObject(o, "groups", groups_json(d, n, sort));
	rc = reply_json(r, 200, o);
out:
	free(d);
	free(v);
	tt_set_free(&a);
	tt_set_free(&b);
	return rc;
}
