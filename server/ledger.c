/*
 * ledger.c - mappings as the API sends them (ledger.h): addresses in hex,
 * prot and flags by name and raw, the file (dev, inode, path from the
 * files table), when the creating call ran and how old the mapping is.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "ledger.h"
#include "range.h"

/* mmap's MAP_* bits (Linux, x86-64 and arm64 alike), by name. */
static const struct {
	uint32_t bit;
	const char *name;
} map_flags[] = {
    {0x01, "shared"},	 {0x02, "private"},	{0x10, "fixed"},     {0x20, "anonymous"},
    {0x100, "growsdown"}, {0x800, "denywrite"},	{0x1000, "executable"}, {0x2000, "locked"},
    {0x4000, "noreserve"}, {0x8000, "populate"},	{0x10000, "nonblock"}, {0x20000, "stack"},
    {0x40000, "hugetlb"}, {0x80000, "sync"},	{0x100000, "fixed_noreplace"},
};

static void add_hex(cJSON *o, const char *key, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)v);
	cJSON_AddStringToObject(o, key, buf);
}

cJSON *ledger_row_json(const struct range *r, const char *path, unsigned long path_len,
		       uint64_t now_ns)
{
	const struct range_attr *a = &r->attr;
	cJSON *o = cJSON_CreateObject(), *fl;
	char prot[4] = {a->prot & 1 ? 'r' : '-', a->prot & 2 ? 'w' : '-', a->prot & 4 ? 'x' : '-',
			0};
	char buf[48];

	add_hex(o, "addr", r->start);
	add_hex(o, "end", r->end);
	cJSON_AddNumberToObject(o, "size_bytes", (double)(r->end - r->start));
	cJSON_AddStringToObject(o, "prot", prot);
	cJSON_AddNumberToObject(o, "prot_raw", a->prot);
	fl = cJSON_AddArrayToObject(o, "flags");
	for (size_t i = 0; i < sizeof(map_flags) / sizeof(map_flags[0]); i++)
		if (a->flags & map_flags[i].bit)
			cJSON_AddItemToArray(fl, cJSON_CreateString(map_flags[i].name));
	cJSON_AddNumberToObject(o, "flags_raw", a->flags);
	if (a->file_ino || a->file_dev) {
		cJSON *f = cJSON_AddObjectToObject(o, "file");

		/* new_encode_dev(): minor's low byte, major, minor's high bits */
		snprintf(buf, sizeof(buf), "%u:%u", (a->file_dev & 0xfff00) >> 8,
			 (a->file_dev & 0xff) | ((a->file_dev >> 12) & 0xfff00));
		cJSON_AddStringToObject(f, "dev", buf);
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)a->file_ino);
		cJSON_AddStringToObject(f, "ino", buf);
		if (path)
			json_add_bytes_str(f, "path", path, path_len);
		else
			cJSON_AddNullToObject(f, "path");
	} else
		cJSON_AddNullToObject(o, "file");
	cJSON_AddNumberToObject(o, "offset_bytes", (double)a->offset_bytes);
	if (a->created_ns) {
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)a->created_ns);
		cJSON_AddStringToObject(o, "created_ns", buf);
		cJSON_AddNumberToObject(o, "age_ns",
					now_ns > a->created_ns ? (double)(now_ns - a->created_ns) : 0);
	} else {
		cJSON_AddNullToObject(o, "created_ns");
		cJSON_AddNullToObject(o, "age_ns");
	}
	cJSON_AddStringToObject(o, "via", mp_via_name(a->via));
	return o;
}

/* The paths of the files of a page of replayed ranges. */
static const char paths_sql[] =
    "SELECT x.i, f.path FROM JSON_TABLE(?, '$[*]' COLUMNS (i INT UNSIGNED PATH '$[0]',"
    " dev INT UNSIGNED PATH '$[1]', ino BIGINT UNSIGNED PATH '$[2]')) x"
    " JOIN files f ON f.host_id = ? AND f.file_dev = x.dev AND f.file_ino = x.ino"
    " WHERE f.path IS NOT NULL";

struct paths {
	char **path;
	unsigned long *len;
	size_t n;
};

static int keep_path(void *arg, char **c, unsigned long *len, unsigned int n)
{
	struct paths *p = arg;
	size_t i = strtoull(c[0], NULL, 10);

	(void)n;
	if (i >= p->n || p->path[i])
		return 0;
	p->path[i] = malloc(len[1] + 1);
	if (!p->path[i])
		return -ENOMEM;
	memcpy(p->path[i], c[1], len[1]);
	p->len[i] = len[1];
	return 0;
}

int ledger_add_rows(struct db_pool *db, unsigned int host_id, const struct range *r, size_t n,
		    uint64_t now_ns, cJSON *arr, char *err, size_t errlen)
{
	struct paths p = {calloc(n + 1, sizeof(char *)), calloc(n + 1, sizeof(unsigned long)), n};
	size_t cap = 2 + n * 48, len = 0;
	char *js = malloc(cap);
	int rc = 0;

	if (!p.path || !p.len || !js) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (r[i].attr.file_ino || r[i].attr.file_dev)
			len += (size_t)snprintf(js + len, cap - len, "%s[%zu,%u,\"%llu\"]",
						len ? "," : "[", i, r[i].attr.file_dev,
						(unsigned long long)r[i].attr.file_ino);
	if (len) {
		struct db_param prm[2];

		snprintf(js + len, cap - len, "]");
		prm[0] = DB_STR(js);
		prm[1] = DB_U64(host_id);
		rc = db_select(db, paths_sql, prm, 2, keep_path, &p, err, errlen);
	}
	for (size_t i = 0; rc == 0 && i < n; i++)
		cJSON_AddItemToArray(arr, ledger_row_json(&r[i], p.path[i], p.len[i], now_ns));
out:
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory formatting mappings");
	for (size_t i = 0; p.path && i < n; i++)
		free(p.path[i]);
	free(p.path);
	free(p.len);
	free(js);
	return rc;
}

struct collect {
	struct range *r;
	size_t n, cap;
};

static int collect_range(void *arg, const struct range *r)
{
	struct collect *c = arg;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		struct range *nr = realloc(c->r, cap * sizeof(*nr));

		if (!nr)
			return -ENOMEM;
		c->r = nr;
		c->cap = cap;
	}
	c->r[c->n++] = *r;
	return 0;
}

int ledger_ranges_of(const struct range_set *s, struct range **out, size_t *n)
{
	struct collect c = {0};
	int rc = range_set_each(s, collect_range, &c);

	if (rc < 0) {
		free(c.r);
		return rc;
	}
	*out = c.r;
	*n = c.n;
	return 0;
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

static int cmp_age(const void *x, const void *y)
{
	const struct range *a = x, *b = y;
	int c = cmp_u64(a->attr.created_ns, b->attr.created_ns);

	return c ? c : cmp_u64(a->start, b->start);
}

static int cmp_size(const void *x, const void *y)
{
	const struct range *a = x, *b = y;
	int c = cmp_u64(a->end - a->start, b->end - b->start);

	return c ? c : cmp_u64(a->start, b->start);
}

void ledger_sort(struct range *r, size_t n, int by_size, int desc)
{
	qsort(r, n, sizeof(*r), by_size ? cmp_size : cmp_age);
	for (size_t i = 0; desc && i < n / 2; i++) {
		struct range t = r[i];

		r[i] = r[n - 1 - i];
		r[n - 1 - i] = t;
	}
}
