/*
 * fleet.c - a fleet of N simulated hosts writing one database through
 * lector's own accounting and MariaDB sink (bench/fleet/run, the fleet
 * check in tests/lector).
 *
 * Each simulated host is what one lector is to the database: its own host
 * name and host_id (fleet-0001, ...), its own capture session, its own
 * accounting (struct acct, checkpoints folded by ckpt_apply as lector's
 * writer does) and its own sink, hence its own connection, committing its
 * calls, checkpoints, processes and capture_stats in one transaction as
 * lector does.  The records come from capture/synth_gen.c (the measured
 * mix), the generator of lector --source=synthetic.
 * What is bounded: threads.  --threads workers (default 2, the machine's
 * cores) each serve a fixed share of the hosts round-robin; a host commits
 * what it generated since its last commit when its turn comes, at most
 * every --min-commit-ms (a lector commits as soon as its writer is free:
 * batches grow with load the same way).  Connections are one per host, as
 * N real lectors make: that is the load a fleet puts on the database (the
 * run script raises max_connections and runs MariaDB's thread pool, so
 * the server's threads stay bounded too); 16 short-lived threads open them.  1000 lector processes
 * would need 2000+ threads and 1000 queues and spill files on 2 cores.
 *   --calls=K: exactly K records per host, as fast as they commit, from a
 *   fixed epoch: reproducible (the test); --dry-run: no database, the
 *   generator's totals only.
 * Output: one "fleet ..." summary line (rows, rows/s, lag percentiles:
 * commit time minus record time, per row) and, with --totals, one "host
 * ..." line per host with the generator's own totals.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <mysql.h>

#include "checkpoint.h"
#include "clock.h"
#include "config.h"
#include "synth_gen.h"
#include "options.h"
#include "sink.h"

#define LAG_BUCKETS 120000 /* 1 ms each */

struct args {
	const char *config, *hosts, *rate, *seconds, *threads, *seed, *calls, *epoch, *prefix,
	    *batch, *min_commit_ms, *db_hosts, *checkpoint_calls, *drain_s;
	bool dry_run, totals;
};

#define STR(field) OPT_STRING, offsetof(struct args, field), NULL
static const struct opt_row options[] = {
    {"config", "FILE", STR(config), "lector's settings file (the database and its writer)"},
    {"hosts", "N", STR(hosts), "simulated hosts (default 10)"},
    {"rate", "R", STR(rate), "mean calls per second per host (default 1515, as measured)"},
    {"seconds", "S", STR(seconds), "how long to run (default 30)"},
    {"calls", "K", STR(calls), "instead: exactly K records per host, flat out, reproducible"},
    {"threads", "T", STR(threads), "worker threads (default 2)"},
    {"seed", "N", STR(seed), "the generator's seed (default 1)"},
    {"epoch-ns", "NS", STR(epoch), "wall time of the first record with --calls (default fixed)"},
    {"host-prefix", "NAME", STR(prefix), "host names are NAME0001... (default fleet-)"},
    {"batch", "N", STR(batch), "records per transaction at most (default 10000, lector's)"},
    {"min-commit-ms", "MS", STR(min_commit_ms), "a host commits at most this often (default 100)"},
    {"db-hosts", "H[:P],...", STR(db_hosts),
     "host i writes to entry i mod count (default: the config's)"},
    {"checkpoint-calls", "N", STR(checkpoint_calls), "as lector's (default 16)"},
    {"drain-s", "S", STR(drain_s),
     "after --seconds, commit what is due for at most S s more\n"
     "(default 600; 0: stop at once, e.g. a saturation run)"},
    {"dry-run", NULL, OPT_FLAG, offsetof(struct args, dry_run), NULL, "no database: totals only"},
    {"totals", NULL, OPT_FLAG, offsetof(struct args, totals), NULL,
     "print each host's generator totals"},
    {"help", NULL, OPT_HELP, 0, NULL, "this text"},
};
#undef STR
#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

struct host {
	char name[64];
	struct fleetgen *g;
	struct acct *acct;
	struct sink *sink;
	struct lector_config cfg;
	uint64_t session;
	struct qent *batch;
	struct qext *ext;
	struct ckpt_list ckpts;
	size_t n;
	uint64_t made, committed, commits, last_commit_ms, last_ts;
	bool failing;
};

struct fleet {
	struct host *h;
	unsigned int n_hosts, n_threads;
	size_t batch_max;
	uint64_t calls, end_ns, stop_ns, min_commit_ms;
	struct ckpt_policy pol;
	bool dry_run;
	atomic_bool failed;
	atomic_uint opened;
	pthread_barrier_t ready, go;
	uint64_t epoch_ns;
	double rate;
	uint64_t seed;
};

struct worker {
	struct fleet *f;
	unsigned int id;
	pthread_t t;
	uint64_t lag[LAG_BUCKETS + 1];
	uint64_t rows, commits, failures;
};

static int host_open(struct fleet *f, struct host *h)
{
	char err[1024];
	int rc;

	h->batch = calloc(f->batch_max, sizeof(*h->batch));
	h->ext = calloc(f->batch_max, sizeof(*h->ext));
	if (!h->batch || !h->ext || acct_new(&h->acct) < 0 ||
	    ckpt_list_init(&h->ckpts, f->batch_max, &f->pol) < 0)
		return -ENOMEM;
	if (f->dry_run)
		return 0;
	rc = sink_mysql_open(&h->sink, &h->cfg, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "fleet: %s: %s\n", h->name, err);
		return rc;
	}
	return 0;
}

static void fill_stats(struct host *h, struct capture_stats *cs)
{
	memset(cs, 0, sizeof(*cs));
	cs->session = h->session;
	cs->source = "synthetic";
	cs->seen = h->made;
	cs->current = true;
}

/* Generate what is due (up to the batch), fold it, commit it. */
static void host_turn(struct fleet *f, struct host *h, struct worker *w, uint64_t now)
{
	struct capture_stats cs;
	struct batch_extra x;
	uint64_t done_ns;
	int rc;

	while (h->n < f->batch_max &&
	       (f->calls ? h->made < f->calls : fleetgen_next_ts(h->g) <= now)) {
		struct qent *e = &h->batch[h->n];

		e->session = h->session;
		fleetgen_next(h->g, &e->rec);
		e->comm_len = strnlen(e->rec.comm, sizeof(e->rec.comm));
		e->thread_comm_len = strnlen(e->rec.thread_comm, sizeof(e->rec.thread_comm));
		ckpt_apply(h->acct, &h->batch[h->n], &h->ext[h->n], &h->ckpts, &f->pol);
		h->n++;
		h->made++;
	}
	if (f->dry_run) {
		acct_clean(h->acct);
		h->committed += h->n;
		h->n = 0;
		h->ckpts.n = 0;
		return;
	}
	x = (struct batch_extra){.ext = h->ext, .ckpt = h->ckpts.row, .n_ckpt = h->ckpts.n};
	fill_stats(h, &cs);
	rc = h->sink->ops->commit(h->sink, h->batch, h->n, &x, acct_dirty_list(h->acct), &cs);
	h->last_commit_ms = mono_ms();
	if (rc < 0) {
		w->failures++;
		if (!h->failing)
			fprintf(stderr, "fleet: %s: commit failed (%s); retrying\n", h->name,
				h->sink->err);
		h->failing = true;
		return; /* the batch stays, folded once, and is committed again */
	}
	if (h->failing)
		fprintf(stderr, "fleet: %s: committing again\n", h->name);
	h->failing = false;
	done_ns = wall_ns();
	for (size_t i = 0; i < h->n; i++) {
		uint64_t ts = h->batch[i].rec.ts_ns,
			 ms = done_ns > ts ? (done_ns - ts) / 1000000 : 0;

		w->lag[ms < LAG_BUCKETS ? ms : LAG_BUCKETS]++;
	}
	acct_clean(h->acct);
	w->rows += h->n;
	w->commits++;
	h->commits++;
	h->committed += h->n;
	h->n = 0;
	h->ckpts.n = 0;
}

static bool host_done(const struct fleet *f, const struct host *h)
{
	if (f->calls)
		return h->made >= f->calls && !h->n;
	return fleetgen_next_ts(h->g) > f->end_ns && !h->n;
}

/* Opening a sink is a connection, the schema check, the host row and a
 * dozen prepared statements: round trips, done by OPENERS threads at once
 * (1000 hosts one after another took 50 s on the loaded 2-core machine). */
#define OPENERS 16
struct opener {
	struct fleet *f;
	unsigned int id;
	pthread_t t;
};

static void *opener_main(void *arg)
{
	struct opener *o = arg;

	for (unsigned int i = o->id; i < o->f->n_hosts && !atomic_load(&o->f->failed); i += OPENERS)
		if (host_open(o->f, &o->f->h[i]) < 0)
			atomic_store(&o->f->failed, true);
		else
			atomic_fetch_add(&o->f->opened, 1);
	return NULL;
}

static void open_all(struct fleet *f)
{
	struct opener o[OPENERS];
	unsigned int n = f->n_hosts < OPENERS ? f->n_hosts : OPENERS;

	for (unsigned int k = 0; k < n; k++) {
		o[k] = (struct opener){.f = f, .id = k};
		if (pthread_create(&o[k].t, NULL, opener_main, &o[k])) {
			atomic_store(&f->failed, true);
			n = k;
			break;
		}
	}
	for (unsigned int k = 0; k < n; k++)
		pthread_join(o[k].t, NULL);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct fleet *f = w->f;

	pthread_barrier_wait(&f->ready);
	pthread_barrier_wait(&f->go); /* main set the epoch and the end */
	if (atomic_load(&f->failed))
		return NULL;
	for (unsigned int i = w->id; i < f->n_hosts; i += f->n_threads) {
		struct host *h = &f->h[i];

		h->g = fleetgen_new(f->seed, i, f->epoch_ns, f->rate);
		if (!h->g) {
			atomic_store(&f->failed, true);
			return NULL;
		}
	}
	for (;;) {
		bool all_done = true, worked = false;
		uint64_t now = wall_ns(), now_ms = mono_ms();

		if (!f->calls && now > f->end_ns)
			now = f->end_ns; /* nothing past the end: the rest drains */
		for (unsigned int i = w->id; i < f->n_hosts; i += f->n_threads) {
			struct host *h = &f->h[i];

			if (host_done(f, h))
				continue;
			all_done = false;
			if (now_ms - h->last_commit_ms < f->min_commit_ms)
				continue;
			if (!f->calls && !h->n && fleetgen_next_ts(h->g) > now)
				continue;
			host_turn(f, h, w, now);
			worked = true;
		}
		if (all_done || (!f->calls && wall_ns() > f->stop_ns))
			break;
		if (!worked)
			usleep(2000);
	}
	return NULL;
}

static unsigned long long num(const char *s, unsigned long long dflt, const char *what)
{
	char *end;
	unsigned long long v;

	if (!s)
		return dflt;
	v = strtoull(s, &end, 0);
	if (end == s || *end) {
		fprintf(stderr, "fleet: --%s takes a number, not '%s'\n", what, s);
		exit(2);
	}
	return v;
}

/* --db-hosts: entry i mod count as host h's db_host (and port) */
static void pick_db_host(const char *list, unsigned int i, struct lector_config *c)
{
	unsigned int count = 1, k;
	const char *p = list, *e;
	char *colon;

	for (const char *q = list; *q; q++)
		count += *q == ',';
	for (k = i % count; k; k--)
		p = strchr(p, ',') + 1;
	e = strchr(p, ',');
	snprintf(c->db_host, sizeof(c->db_host), "%.*s", (int)(e ? e - p : (long)strlen(p)), p);
	colon = strrchr(c->db_host, ':');
	if (colon) {
		*colon = 0;
		c->db_port = (unsigned int)strtoul(colon + 1, NULL, 10);
	}
}

/* The p-th percentile of the lag histogram (0 when it is empty: --dry-run) */
static uint64_t pct(const uint64_t *lag, double p)
{
	uint64_t total = 0, want, c = 0;

	for (unsigned int i = 0; i <= LAG_BUCKETS; i++)
		total += lag[i];
	if (!total)
		return 0;
	want = (uint64_t)(p * (double)total);

	for (unsigned int i = 0; i <= LAG_BUCKETS; i++)
		if ((c += lag[i]) > want)
			return i;
	return LAG_BUCKETS;
}

int main(int argc, char **argv)
{
	struct args a = {0};
	struct fleet f = {0};
	struct lector_config base;
	struct worker *w;
	char err[512];
	uint64_t t0, t1, rows = 0, commits = 0, failures = 0, opened_ms;
	uint64_t *lag;
	int first, rc = options_parse(options, N_OPTIONS, argc, argv, &a, &first);

	if (rc == OPTIONS_HELP) {
		fputs("usage: fleet [OPTIONS]\nN simulated hosts (capture/synth_gen.c's measured "
		      "mix,\n"
		      "with bursts) writing one database through lector's accounting and sink.\n\n",
		      stdout);
		options_help(stdout, options, N_OPTIONS, 24);
		return 0;
	}
	if (rc < 0 || first < argc)
		return 2;
	f.n_hosts = (unsigned int)num(a.hosts, 10, "hosts");
	f.rate = (double)num(a.rate, 1515, "rate");
	f.n_threads = (unsigned int)num(a.threads, 2, "threads");
	f.seed = num(a.seed, 1, "seed");
	f.calls = num(a.calls, 0, "calls");
	f.batch_max = num(a.batch, 10000, "batch");
	f.min_commit_ms = num(a.min_commit_ms, 100, "min-commit-ms");
	f.dry_run = a.dry_run;
	f.pol.every_calls = (unsigned int)num(a.checkpoint_calls, 16, "checkpoint-calls");
	f.pol.every_ns = 60ull * 1000000000ull;
	if (!f.n_hosts || !f.n_threads || !f.batch_max || f.n_hosts > 100000) {
		fprintf(stderr, "fleet: --hosts 1..100000, --threads and --batch at least 1\n");
		return 2;
	}
	if (f.n_threads > f.n_hosts)
		f.n_threads = f.n_hosts;
	config_defaults(&base);
	if (a.config && config_load_file(&base, a.config, err, sizeof(err)) < 0) {
		fprintf(stderr, "fleet: %s\n", err);
		return 2;
	}
	config_load_env(&base);
	f.h = calloc(f.n_hosts, sizeof(*f.h));
	w = calloc(f.n_threads, sizeof(*w));
	lag = calloc(LAG_BUCKETS + 1, sizeof(*lag));
	if (!f.h || !w || !lag)
		return 1;
	for (unsigned int i = 0; i < f.n_hosts; i++) {
		struct host *h = &f.h[i];

		snprintf(h->name, sizeof(h->name), "%s%04u", a.prefix ? a.prefix : "fleet-", i + 1);
		h->cfg = base;
		snprintf(h->cfg.host_id, sizeof(h->cfg.host_id), "%s", h->name);
		if (a.db_hosts && *a.db_hosts)
			pick_db_host(a.db_hosts, i, &h->cfg);
		/* a session of its own, as a capture's (the seed keeps it reproducible) */
		h->session = (f.seed * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)(i + 1) << 20) ^
			     (f.calls ? 0x5eed : wall_ns());
	}
	pthread_barrier_init(&f.ready, NULL, f.n_threads + 1);
	pthread_barrier_init(&f.go, NULL, f.n_threads + 1);
	mysql_library_init(0, NULL, NULL); /* before threads connect */
	t0 = mono_ms();
	open_all(&f);
	for (unsigned int i = 0; i < f.n_threads; i++) {
		w[i].f = &f;
		w[i].id = i;
		if (pthread_create(&w[i].t, NULL, worker_main, &w[i])) {
			fprintf(stderr, "fleet: no thread\n");
			return 1;
		}
	}
	pthread_barrier_wait(&f.ready); /* every host's sink is open */
	opened_ms = mono_ms() - t0;
	f.epoch_ns = f.calls ? num(a.epoch, 1796601600000000000ull, "epoch-ns") : wall_ns();
	f.end_ns = f.epoch_ns + num(a.seconds, 30, "seconds") * 1000000000ull;
	f.stop_ns = f.end_ns + num(a.drain_s, 600, "drain-s") * 1000000000ull;
	t0 = mono_ms();
	pthread_barrier_wait(&f.go);
	for (unsigned int i = 0; i < f.n_threads; i++)
		pthread_join(w[i].t, NULL);
	t1 = mono_ms();
	if (atomic_load(&f.failed)) {
		fprintf(stderr, "fleet: %u of %u hosts opened; stopping\n", atomic_load(&f.opened),
			f.n_hosts);
		return 1;
	}
	for (unsigned int i = 0; i < f.n_threads; i++) {
		rows += w[i].rows;
		commits += w[i].commits;
		failures += w[i].failures;
		for (unsigned int b = 0; b <= LAG_BUCKETS; b++)
			lag[b] += w[i].lag[b];
	}
	if (f.dry_run)
		for (unsigned int i = 0; i < f.n_hosts; i++)
			rows += f.h[i].committed;
	uint64_t made = 0;
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	for (unsigned int i = 0; i < f.n_hosts; i++)
		made += f.h[i].made;
	printf("fleet hosts=%u threads=%u rate_per_host=%.0f offered_per_s=%.0f seconds=%.2f "
	       "rows=%" PRIu64 " rows_per_s=%.0f commits=%" PRIu64 " failed_commits=%" PRIu64
	       " lag_p50_ms=%" PRIu64 " lag_p99_ms=%" PRIu64 " lag_max_ms=%" PRIu64
	       " open_ms=%" PRIu64 " made=%" PRIu64 " uncommitted=%" PRIu64 " fleet_cpu_s=%.1f\n",
	       f.n_hosts, f.n_threads, f.calls ? 0 : f.rate, f.calls ? 0 : f.rate * f.n_hosts,
	       (t1 - t0) / 1000.0, rows, t1 > t0 ? rows * 1000.0 / (double)(t1 - t0) : 0, commits,
	       failures, pct(lag, 0.5), pct(lag, 0.99), pct(lag, 1.0 - 1e-12), opened_ms, made,
	       made - rows,
	       ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
		   (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	for (unsigned int i = 0; a.totals && i < f.n_hosts; i++) {
		struct fleetgen_totals t;

		fleetgen_totals(f.h[i].g, &t);
		printf("host %s session=%" PRIu64 " calls=%" PRIu64 " mmap=%" PRIu64
		       " munmap=%" PRIu64 " mremap=%" PRIu64 " brk=%" PRIu64 " exec=%" PRIu64
		       " exit=%" PRIu64 " failed=%" PRIu64 " procs=%" PRIu64 " exited=%" PRIu64
		       " live_mapped=%" PRIu64 " hash=%016" PRIx64 "\n",
		       f.h[i].name, f.h[i].session, f.h[i].made, t.calls[MP_CALL_MMAP],
		       t.calls[MP_CALL_MUNMAP], t.calls[MP_CALL_MREMAP], t.calls[MP_CALL_BRK],
		       t.calls[MP_CALL_EXEC], t.calls[MP_CALL_EXIT], t.failed, t.procs, t.exited,
		       t.live_mapped, t.hash);
	}
	for (unsigned int i = 0; i < f.n_hosts; i++) {
		struct host *h = &f.h[i];

		if (h->sink)
			h->sink->ops->close(h->sink);
		fleetgen_free(h->g);
		acct_free(h->acct);
		ckpt_list_free(&h->ckpts);
		free(h->batch);
		free(h->ext);
	}
	free(f.h);
	free(w);
	free(lag);
	return 0;
}
