/*
 * main.c - lector: read every captured mmap/munmap/mremap/brk and store it.
 *
 * Table of contents: parse flags and config, open the sink (MariaDB or
 * JSON lines), reload live processes (or, the database being down, leave
 * that to the writer once it connects), open the capture source and the
 * state file (runstate.c: what a killed previous run left uncommitted),
 * then the capture thread (capture.c, this thread) feeds the writer
 * thread (lector.c) until SIGTERM/SIGINT, across module reloads unless
 * --exit-on-unload; shutdown drains what is queued.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lector.h"
#include "retain.h"
#include "sink_mysql_stmt.h"

static volatile sig_atomic_t stop_signal;
static struct retain *retainer; /* --retain-days */

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void usage(FILE *f)
{
	fputs("usage: lector [OPTIONS]\n"
	      "Capture every mmap/munmap/mremap/brk on this machine and store it.\n\n"
	      "  --source=auto|ring|bpf  capture source (auto: /proc/memprobe if present, else "
	      "eBPF)\n"
	      "  --ring-path=FILE        ring file for --source=ring (default /proc/memprobe)\n"
	      "  --sink=mysql|jsonl      store in MariaDB (default) or print JSON lines on stdout\n"
	      "  --config=FILE           settings file (key = value), e.g. var/lector.conf\n"
	      "  --host-id=NAME          name of this machine in the database (default hostname)\n"
	      "  --spill=FILE            where records wait while the database is down (default:\n"
	      "                          next to --config, else /var/cache/memprobe/lector.spill)\n"
	      "  --mem-queue=N           records held in memory before spilling to disk; 0 =\n"
	      "                          journal: every record is on disk before it is\n"
	      "                          committed (default with the ring source, so a\n"
	      "                          kill -9 loses nothing the ring already released)\n"
	      "  --batch=N               records per transaction (default 10000)\n"
	      "  --retain-days=N         purge this host's calls, exited processes and sessions\n"
	      "                          older than N days, in the background (0 = keep, default;\n"
	      "                          at most 106751, the span of the 64-bit ns clock)\n"
	      "  --exit-on-unload        exit when the module is unloaded (default: say so,\n"
	      "                          wait for it to be loaded again, capture on)\n"
	      "  --migrate               apply database migrations and exit\n"
	      "  --help                  this text\n\n"
	      "Credentials come from the config file or the environment (MEMPROBE_DB_USER,\n"
	      "MEMPROBE_DB_PASSWORD, MEMPROBE_DB_HOST, MEMPROBE_DB_PORT, MEMPROBE_DB_SOCKET,\n"
	      "MEMPROBE_DB_NAME), never from the command line.\n",
	      f);
}

struct args {
	const char *config, *sink, *ring_path;
	enum source_kind source;
	bool migrate;
	bool mem_queue_set;
	bool exit_on_unload;
};

static int parse_num(const char *s, size_t *out)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (end == s || *end || v == 0)
		return -EINVAL;
	*out = (size_t)v;
	return 0;
}

/* Next to the config file (var/lector.spill for make run), else in the
 * cache directory: never the current directory. */
static void default_spill_path(struct lector_config *c, const char *config)
{
	const char *slash = config ? strrchr(config, '/') : NULL;

	if (config && slash)
		snprintf(c->spill_path, sizeof(c->spill_path), "%.*s/lector.spill",
			 (int)(slash - config), config);
	else if (config)
		snprintf(c->spill_path, sizeof(c->spill_path), "lector.spill");
	else {
		mkdir("/var/cache/memprobe", 0700);
		snprintf(c->spill_path, sizeof(c->spill_path), "/var/cache/memprobe/lector.spill");
	}
}

static int parse_args(int argc, char **argv, struct args *a, struct lector_config *c)
{
	static const struct option opts[] = {
	    {"source", 1, 0, 's'},
	    {"ring-path", 1, 0, 'r'},
	    {"sink", 1, 0, 'k'},
	    {"config", 1, 0, 'c'},
	    {"host-id", 1, 0, 'H'},
	    {"spill", 1, 0, 'S'},
	    {"mem-queue", 1, 0, 'm'},
	    {"batch", 1, 0, 'b'},
	    {"retain-days", 1, 0, 'D'},
	    {"migrate", 0, 0, 'M'},
	    {"exit-on-unload", 0, 0, 'U'},
	    {"help", 0, 0, 'h'},
	    {0, 0, 0, 0},
	};
	const char *host = NULL, *spill = NULL, *memq = NULL, *batch = NULL, *retain = NULL;
	int o;

	a->source = SOURCE_AUTO;
	a->sink = "mysql";
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 's':
			a->source = source_kind_parse(optarg);
			if ((int)a->source < 0) {
				fprintf(stderr, "lector: unknown --source '%s' (auto, ring, bpf)\n",
					optarg);
				return -EINVAL;
			}
			break;
		case 'r':
			a->ring_path = optarg;
			break;
		case 'k':
			a->sink = optarg;
			break;
		case 'c':
			a->config = optarg;
			break;
		case 'H':
			host = optarg;
			break;
		case 'S':
			spill = optarg;
			break;
		case 'm':
			memq = optarg;
			break;
		case 'b':
			batch = optarg;
			break;
		case 'M':
			a->migrate = true;
			break;
		case 'D':
			retain = optarg;
			break;
		case 'U':
			a->exit_on_unload = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr,
			"lector: unexpected argument '%s' (credentials go in --config or "
			"MEMPROBE_DB_*)\n",
			argv[optind]);
		return -EINVAL;
	}
	if (strcmp(a->sink, "mysql") && strcmp(a->sink, "jsonl")) {
		fprintf(stderr, "lector: unknown --sink '%s' (mysql, jsonl)\n", a->sink);
		return -EINVAL;
	}
	if (a->config) {
		char err[512];
		int rc = config_load_file(c, a->config, err, sizeof(err));

		if (rc < 0) {
			fprintf(stderr, "lector: %s\n", err);
			return rc;
		}
	}
	config_load_env(c);
	if (host)
		snprintf(c->host_id, sizeof(c->host_id), "%s", host);
	if (retain) {
		char err[256];

		if (config_parse_retain_days(retain, &c->retain_days, err, sizeof(err)) < 0) {
			fprintf(stderr, "lector: --retain-days: %s\n", err);
			return -EINVAL;
		}
	}
	if (spill)
		snprintf(c->spill_path, sizeof(c->spill_path), "%s", spill);
	else if (!c->spill_path[0])
		default_spill_path(c, a->config);
	if ((memq && strcmp(memq, "0") && parse_num(memq, &c->mem_queue_max)) ||
	    (batch && parse_num(batch, &c->batch_max))) {
		fprintf(stderr, "lector: --mem-queue takes a number, --batch a positive number\n");
		return -EINVAL;
	}
	if (memq && !strcmp(memq, "0"))
		c->mem_queue_max = 0;
	a->mem_queue_set = memq != NULL;
	return 0;
}

static int open_sink(struct lector *l, const struct args *a)
{
	char err[512] = "";
	int rc;

	if (!strcmp(a->sink, "jsonl"))
		return sink_jsonl_open(&l->sink, &l->cfg, err, sizeof(err));
	rc = sink_mysql_open(&l->sink, &l->cfg, err, sizeof(err));
	if (rc == -ECONNREFUSED) {
		/* like an outage: capture now, the writer connects and resumes
		 * (schema check, committed seq, processes) before any accounting */
		fprintf(stderr,
			"lector: %s\nlector: the database is not reachable; capturing anyway: "
			"records wait in memory (%zu), then in %s, until it is; retrying\n",
			err, l->cfg.mem_queue_max, l->cfg.spill_path);
		l->restore_pending = true;
		return sink_mysql_open_lazy(&l->sink, &l->cfg);
	}
	if (rc < 0) {
		fprintf(stderr, "lector: %s\n", err);
		return rc;
	}
	return lector_restore(l);
}

static int run(struct lector *l, const struct args *a)
{
	struct source_opts so = {
	    .kind = a->source, .ring_path = a->ring_path, .ring_kib = l->cfg.ring_kib};
	struct source *src = NULL;
	char err[512] = "";
	int rc;

	rc = source_open(&src, &so, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "lector: no capture source: %s\n", err);
		return rc;
	}
	capture_begin_session(l, src, l->prev.magic ? l->prev.session : 0, l->prev.updated_ns);
	/* the previous run's uncommitted records, once its spill is in */
	l->prev_pending = l->prev.magic && l->prev.session != l->session;
	rc = lector_writer_start(l);
	if (rc == 0) {
		rc = capture_run(l, &so, a->exit_on_unload, &src);
		source_close(src);
		src = NULL;
		fprintf(stderr, "lector: stopping; writing what is queued\n");
		lector_writer_stop(l);
		if (rc == 0 && atomic_load(&l->writer_failed))
			rc = -EIO; /* e.g. a newer schema met after a late connect */
		fprintf(stderr,
			"lector: stopped; %llu records committed this run, %" PRIu64
			" delivered by the source\n",
			(unsigned long long)l->committed_rows, l->src_stats.delivered);
	}
	source_close(src);
	return rc;
}

int main(int argc, char **argv)
{
	struct lector l;
	struct args a = {0};
	struct sigaction sa = {.sa_handler = on_signal};
	char err[512] = "";
	int rc, src_rc;

	memset(&l, 0, sizeof(l));
	l.stop_signal = &stop_signal;
	pthread_mutex_init(&l.stats_lock, NULL);
	config_defaults(&l.cfg);
	rc = parse_args(argc, argv, &a, &l.cfg);
	if (rc < 0)
		return 2;
	if (a.migrate) {
		rc = sink_mysql_migrate(&l.cfg, err, sizeof(err));
		fprintf(stderr, "lector: %s\n", rc < 0 ? err : "schema is up to date");
		return rc < 0 ? 1 : 0;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (!a.mem_queue_set && (a.source == SOURCE_RING ||
				 (a.source == SOURCE_AUTO &&
				  !access(a.ring_path ? a.ring_path : MEMPROBE_PROC_PATH, F_OK))))
		l.cfg.mem_queue_max = 0; /* the ring releases on delivery: journal first */
	rc = acct_new(&l.acct);
	if (rc == 0)
		rc = queue_open(&l.q, l.cfg.mem_queue_max, l.cfg.spill_path);
	if (rc == -EBUSY)
		fprintf(stderr,
			"lector: spill file %s is in use by another lector; stop it or pass "
			"--spill=FILE\n",
			l.cfg.spill_path);
	else if (rc < 0)
		fprintf(stderr, "lector: cannot open spill file %s: %s (pass --spill=FILE)\n",
			l.cfg.spill_path, strerror(-rc));
	if (rc == 0 && (src_rc = runstate_open(&l.rs, l.cfg.spill_path, &l.prev)) < 0)
		fprintf(stderr,
			"lector: cannot keep %s.state (%s): a kill -9 of this lector will not "
			"be counted by the next one\n",
			l.cfg.spill_path, strerror(-src_rc));
	if (rc == 0)
		rc = open_sink(&l, &a);
	if (rc == 0 && !strcmp(a.sink, "mysql"))
		rc = retain_start(&retainer, &l.cfg);
	if (rc == 0)
		rc = run(&l, &a);
	retain_stop(retainer);
	if (l.sink)
		l.sink->ops->close(l.sink);
	queue_close(l.q);
	runstate_close(l.rs);
	acct_free(l.acct);
	return rc < 0 ? 1 : 0;
}
