/*
 * resolve.c - which ids of a batch are new, their lookups, and the rows
 * that wait for the sink (resolve.h).  Runs in the writer thread only.
 *
 * Each cache remembers up to CACHE_SLOTS / 4 * 3 ids and is cleared when
 * full, and both every RESOLVE_FORGET_NS: an id met again after that is
 * looked up and written once more (the sink's upsert takes a path found,
 * and keeps the one it has when the lookup finds none).  A file lookup
 * that found nothing is tried again when another process maps the file,
 * FILE_TRIES_MAX times in all; its row is written at the first failure
 * (path NULL, how says why) and again if a later try finds the path.  A
 * cgroup is looked up until answered (found, or gone: ids are not
 * reused).  Per batch, at most LOOKUP_PIDS_MAX maps files are read within
 * LOOKUP_BUDGET_MS; what is left is deferred to the next time the id is
 * seen, and counted.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "resolve.h"
#include "sink.h"

#define CACHE_SLOTS	  65536 /* a power of two */
#define PENDING_MAX	  16384 /* rows waiting for the sink, per table */
#define BATCH_IDS_MAX	  4096	/* new ids looked up per batch, per kind */
#define FILE_TRIES_MAX	  3
#define LOOKUP_PIDS_MAX	  256
#define LOOKUP_BUDGET_MS  25
#define LOG_EVERY_MS	  300000

enum { ST_NONE, ST_DONE, ST_RETRY };

struct cache_ent {
	uint64_t a, b;
	uint32_t pid; /* files: the process of the last try */
	uint32_t gen; /* the batch that queued it */
	uint8_t used, state, tries, found;
	uint8_t queued; /* files: lookups queued by batch gen */
};

struct cache {
	struct cache_ent *e;
	size_t used;
};

struct resolve_counts {
	uint64_t files, files_found;		 /* distinct files met, with a path */
	uint64_t tries[FILE_HOW_UNREADABLE + 1]; /* lookups, by outcome */
	uint64_t files_deferred;
	uint64_t mmaps, mmaps_named, mmaps_unread; /* file mmap records */
	uint64_t cgroups, cgroups_found, cgroups_deferred;
	uint64_t lookup_ns, lookup_max_ns; /* writer time spent looking up */
	uint64_t lookup_max_cpu_ns;	   /* CPU time of that longest batch */
};

struct resolver {
	struct cgroup_fs *fs;
	struct cache cg, files;
	uint32_t gen;
	struct cgroup_row *cg_rows;
	size_t n_cg_rows;
	struct file_row *file_rows;
	size_t n_file_rows;
	/* one batch's lookups */
	uint64_t ids[BATCH_IDS_MAX];
	char *paths[BATCH_IDS_MAX];
	int status[BATCH_IDS_MAX];
	size_t n_ids;
	struct file_want want[BATCH_IDS_MAX];
	size_t n_want;
	struct resolve_counts c;
	uint64_t last_log_ns;
	uint64_t forgot_ns; /* monotonic: the caches were last cleared */
};

static uint64_t mix(uint64_t a, uint64_t b)
{
	uint64_t h = a * 0x9e3779b97f4a7c15ULL ^ b;

	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ULL;
	return h ^ (h >> 29);
}

static void cache_clear(struct cache *c)
{
	memset(c->e, 0, CACHE_SLOTS * sizeof(*c->e));
	c->used = 0;
}

/* The entry of (a, b), added (state ST_NONE) when absent. */
static struct cache_ent *cache_get(struct cache *c, uint64_t a, uint64_t b)
{
	size_t i = mix(a, b) & (CACHE_SLOTS - 1);

	if (c->used >= CACHE_SLOTS / 4 * 3) /* full: start again */
		cache_clear(c);
	for (;; i = (i + 1) & (CACHE_SLOTS - 1)) {
		struct cache_ent *e = &c->e[i];

		if (e->used && e->a == a && e->b == b)
			return e;
		if (!e->used) {
			*e = (struct cache_ent){.a = a, .b = b, .used = 1};
			c->used++;
			return e;
		}
	}
}

int resolve_new(struct resolver **out)
{
	struct resolver *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->cg.e = calloc(CACHE_SLOTS, sizeof(*r->cg.e));
	r->files.e = calloc(CACHE_SLOTS, sizeof(*r->files.e));
	r->cg_rows = calloc(PENDING_MAX, sizeof(*r->cg_rows));
	r->file_rows = calloc(PENDING_MAX, sizeof(*r->file_rows));
	if (!r->cg.e || !r->files.e || !r->cg_rows || !r->file_rows ||
	    cgroup_fs_open(&r->fs) < 0) {
		resolve_free(r);
		return -ENOMEM;
	}
	r->last_log_ns = mono_ns();
	*out = r;
	return 0;
}

void resolve_written(struct resolver *r)
{
	for (size_t i = 0; i < r->n_cg_rows; i++)
		free(r->cg_rows[i].path);
	for (size_t i = 0; i < r->n_file_rows; i++)
		free(r->file_rows[i].path);
	r->n_cg_rows = r->n_file_rows = 0;
}

void resolve_free(struct resolver *r)
{
	if (!r)
		return;
	if (r->cg_rows && r->file_rows) {
		resolve_log(r, stderr);
		resolve_written(r);
	}
	cgroup_fs_close(r->fs);
	free(r->cg.e);
	free(r->files.e);
	free(r->cg_rows);
	free(r->file_rows);
	free(r);
}

void resolve_pending(const struct resolver *r, struct names_batch *nb)
{
	nb->cgroups = r->cg_rows;
	nb->n_cgroups = r->n_cg_rows;
	nb->files = r->file_rows;
	nb->n_files = r->n_file_rows;
}

static double share(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0;
}

void resolve_log(const struct resolver *r, FILE *f)
{
	const struct resolve_counts *c = &r->c;

	fprintf(f,
		"lector: files: %" PRIu64 " met, %" PRIu64 " with a path (%.1f%%); lookups: %" PRIu64
		" found in maps, %" PRIu64 " gone, %" PRIu64 " not in maps, %" PRIu64
		" unreadable, %" PRIu64 " deferred; file mmaps: %" PRIu64 ", %" PRIu64
		" with the path known when stored (%.1f%%), %" PRIu64
		" whose file the probe could not read; cgroups: %" PRIu64 " met, %" PRIu64
		" with a path, %" PRIu64 " lookups deferred; lookups took %.1f ms, at most %.1f ms "
		"in one batch (%.1f ms of CPU)\n",
		c->files, c->files_found, share(c->files_found, c->files), c->tries[FILE_HOW_MAPS],
		c->tries[FILE_HOW_GONE], c->tries[FILE_HOW_NOT_IN_MAPS], c->tries[FILE_HOW_UNREADABLE],
		c->files_deferred, c->mmaps, c->mmaps_named, share(c->mmaps_named, c->mmaps),
		c->mmaps_unread, c->cgroups, c->cgroups_found, c->cgroups_deferred,
		(double)c->lookup_ns / 1e6, (double)c->lookup_max_ns / 1e6,
		(double)c->lookup_max_cpu_ns / 1e6);
}

/* ---- one batch ---- */

static void queue_cgroup(struct resolver *r, uint64_t id)
{
	struct cache_ent *e = cache_get(&r->cg, id, 0);

	if (e->state == ST_NONE)
		r->c.cgroups++;
	if (e->state == ST_DONE || e->gen == r->gen)
		return;
	e->state = ST_RETRY;
	if (r->n_ids == BATCH_IDS_MAX || r->n_cg_rows + r->n_ids >= PENDING_MAX) {
		r->c.cgroups_deferred++;
		return;
	}
	e->gen = r->gen;
	r->ids[r->n_ids++] = id;
}

/* A lookup of the record's file in its process's maps, unless found
 * already, tried from that process last, or tried FILE_TRIES_MAX times. */
static void queue_file(struct resolver *r, const struct memprobe_record *rec)
{
	struct cache_ent *e = cache_get(&r->files, rec->file_dev, rec->file_ino);

	if (e->state == ST_NONE)
		r->c.files++;
	if (e->state == ST_DONE)
		return;
	if (e->gen != r->gen)
		e->gen = r->gen, e->queued = 0;
	if ((e->pid == rec->pid && (e->tries || e->queued)) || e->tries + e->queued >= FILE_TRIES_MAX)
		return;
	e->state = ST_RETRY;
	if (r->n_want == BATCH_IDS_MAX || r->n_file_rows + r->n_want >= PENDING_MAX) {
		r->c.files_deferred++;
		return;
	}
	e->pid = rec->pid;
	e->queued++;
	r->want[r->n_want++] =
	    (struct file_want){.pid = rec->pid,
			       .dev = rec->file_dev,
			       .ino = rec->file_ino,
			       .addr = (uint64_t)rec->ret};
}

static void lookup_cgroups(struct resolver *r)
{
	uint64_t now = wall_ns();

	cgroup_fs_paths(r->fs, r->ids, r->n_ids, r->paths, r->status);
	for (size_t i = 0; i < r->n_ids; i++) {
		struct cache_ent *e = cache_get(&r->cg, r->ids[i], 0);
		struct cgroup_row *row;

		if (r->status[i] < 0) {
			e->gen = 0; /* asked again when seen again */
			r->c.cgroups_deferred++;
			continue;
		}
		e->state = ST_DONE;
		row = &r->cg_rows[r->n_cg_rows++];
		row->id = r->ids[i];
		row->path = r->paths[i];
		row->kind = cgroup_name(row->path, row->id, row->name, sizeof(row->name));
		row->resolved_ns = now;
		r->c.cgroups_found += row->path != NULL;
	}
	r->n_ids = 0;
}

static int by_pid(const void *a, const void *b)
{
	const struct file_want *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* A row when the path is found (by the first of the batch's lookups that
 * finds it), or at the first failure. */
static void lookup_files(struct resolver *r)
{
	uint64_t now = wall_ns();
	qsort(r->want, r->n_want, sizeof(r->want[0]), by_pid);
	file_paths(r->want, r->n_want, LOOKUP_PIDS_MAX, LOOKUP_BUDGET_MS * 1000000ULL);
	for (size_t i = 0; i < r->n_want; i++) {
		struct file_want *w = &r->want[i];
		struct cache_ent *e = cache_get(&r->files, w->dev, w->ino);

		if (!w->how) {
			r->c.files_deferred++;
			e->pid = e->pid == w->pid ? 0 : e->pid;
			continue;
		}
		r->c.tries[w->how]++;
		e->tries++;
		if (e->state == ST_DONE) {
			free(w->path); /* found by another process's maps */
			continue;
		}
		if (w->path) {
			e->state = ST_DONE;
			e->found = 1;
			r->c.files_found++;
		} else if (e->tries > 1) {
			continue; /* its row says why already */
		}
		r->file_rows[r->n_file_rows++] = (struct file_row){
		    .dev = w->dev, .ino = w->ino, .path = w->path, .how = w->how, .resolved_ns = now};
	}
	r->n_want = 0;
}

void resolve_batch(struct resolver *r, const struct qent *q, size_t n)
{
	uint64_t now = mono_ns();

	if (now - r->forgot_ns >= RESOLVE_FORGET_NS) {
		cache_clear(&r->cg);
		cache_clear(&r->files);
		r->forgot_ns = now;
	}
	if (++r->gen == 0)
		r->gen = 1; /* 0: queued by no batch */
	for (size_t i = 0; i < n; i++) {
		const struct memprobe_record *rec = &q[i].rec;

		if (rec->cgroup_id)
			queue_cgroup(r, rec->cgroup_id);
		if (rec->call == MP_CALL_MMAP && rec->ret >= 0 && rec->file_ino)
			queue_file(r, rec);
	}
	if (r->n_ids || r->n_want) {
		uint64_t t0 = mono_ns(), cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID), took;

		if (r->n_ids)
			lookup_cgroups(r);
		if (r->n_want)
			lookup_files(r);
		took = mono_ns() - t0;
		r->c.lookup_ns += took;
		if (took > r->c.lookup_max_ns) {
			r->c.lookup_max_ns = took;
			r->c.lookup_max_cpu_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
		}
	}
	for (size_t i = 0; i < n; i++) { /* the share of file mmaps stored with a path */
		const struct memprobe_record *rec = &q[i].rec;

		if (rec->call != MP_CALL_MMAP || rec->ret < 0)
			continue;
		if (rec->flags & MEMPROBE_REC_FILE_UNREAD)
			r->c.mmaps_unread++;
		if (!rec->file_ino)
			continue;
		r->c.mmaps++;
		r->c.mmaps_named += cache_get(&r->files, rec->file_dev, rec->file_ino)->found;
	}
	if (mono_ns() - r->last_log_ns >= LOG_EVERY_MS * 1000000ULL) {
		resolve_log(r, stderr);
		r->last_log_ns = mono_ns();
	}
}

int resolve_store(struct resolver *r, struct sink *s)
{
	struct names_batch nb;
	int rc;

	resolve_pending(r, &nb);
	if (!nb.n_cgroups && !nb.n_files)
		return 0;
	rc = s->ops->put_names(s, &nb);
	if (rc == 0)
		resolve_written(r);
	return rc; /* a failure shows at the next commit, which fails too */
}
