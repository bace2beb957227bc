/*
 * main.c - lector: read every captured mmap/munmap/mremap/brk and store it.
 *
 * Table of contents: parse flags and config, open the sink (MariaDB or
 * JSON lines), reload live processes (or, the database being down, leave
 * that to the writer once it connects), open the capture source and the
 * state file (runstate.c: what a killed previous run left uncommitted),
 * then the capture thread (capture.c, this thread) feeds the writer
 * thread (writer.c) until SIGTERM/SIGINT, across module reloads unless
 * --exit-on-unload; shutdown drains what is queued.
 */
#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lector.h"
#include "migrate.h"
#include "options.h"
#include "retain.h"

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

struct args {
	const char *config, *sink, *ring_path, *host_id, *spill, *mem_queue, *batch, *retain_days;
	const char *db_host; /* --db-host: overrides db_host */
	const char *checkpoint_calls, *checkpoint_secs, *retain_checkpoint_days, *snapshot_calls;
	const char *rss_interval_ms;
	const char *rate, *seed; /* --source=synthetic */
	enum source_kind source;
	bool migrate;
	bool exit_on_unload;
	const char *names; /* --names: auto, on, off */
};

static int parse_source(const char *arg, void *out)
{
	struct args *a = out;

	a->source = source_kind_parse(arg);
	if ((int)a->source >= 0)
		return 0;
	fprintf(stderr, "lector: unknown --source '%s' (auto, ring, bpf, synthetic)\n", arg);
	return -EINVAL;
}

#define STR(field) OPT_STRING, offsetof(struct args, field), NULL
static const struct opt_row options[] = {
    {"source", "auto|ring|bpf|synthetic", OPT_CALL, 0, parse_source,
     "capture source (auto: /proc/memprobe if present, else\n"
     "eBPF; synthetic: no capture, a simulated host's calls,\n"
     "the mix measured on a real machine, with bursts;\n"
     "needs --host-id, a name of its own)"},
    {"rate", "R", STR(rate), "synthetic: mean calls per second (default 1515)"},
    {"seed", "N", STR(seed), "synthetic: which calls (default 1; same seed, same calls)"},
    {"ring-path", "FILE", STR(ring_path), "ring file for --source=ring (default /proc/memprobe)"},
    {"sink", "mysql|jsonl", STR(sink), "store in MariaDB (default) or print JSON lines on stdout"},
    {"config", "FILE", STR(config), "settings file (key = value), e.g. var/lector.conf"},
    {"host-id", "NAME", STR(host_id), "name of this machine in the database (default hostname)"},
    {"db-host", "H[:PORT],...", STR(db_host),
     "the database server(s), overriding db_host: several are\n"
     "tried in order at each (re)connect, the first that takes\n"
     "the login (and, in a Galera cluster, is ready) is used"},
    {"spill", "FILE", STR(spill),
     "where records wait while the database is down (default:\n"
     "next to --config, else /var/cache/memprobe/lector.spill)"},
    {"mem-queue", "N", STR(mem_queue),
     "records held in memory before spilling to disk; 0 =\n"
     "journal: every record is on disk before it is\n"
     "committed (default with the ring source, so a\n"
     "kill -9 loses nothing the ring already released)"},
    {"batch", "N", STR(batch), "records per transaction (default 10000)"},
    {"names", "auto|on|off", STR(names),
     "look up the paths of cgroups and mapped files in this\n"
     "machine's /proc (auto: unless --ring-path names a ring\n"
     "file, whose records may come from another machine)"},
    {"retain-days", "N", STR(retain_days),
     "purge this host's calls, sessions, OOM kills and unused\n"
     "names older than N days, in the background (0 = keep,\n"
     "default; at most 106751, the span of the 64-bit ns clock)"},
    {"retain-checkpoint-days", "N", STR(retain_checkpoint_days),
     "purge this host's checkpoints and exited processes\n"
     "older than N days (0 = keep; at least --retain-days;\n"
     "default 90, or --retain-days when longer, 0 when that\n"
     "is 0); a process kept keeps its newest one before then"},
    {"checkpoint-calls", "N", STR(checkpoint_calls),
     "store a process's state (a checkpoint, for its history)\n"
     "every N of its calls (default 16; 1 to 1000000;\n"
     "0 = no checkpoints), at its exit, and ..."},
    {"checkpoint-secs", "N", STR(checkpoint_secs),
     "... at its first call N s after its last checkpoint\n"
     "(default 60; 1 to 86400)"},
    {"snapshot-calls", "N", STR(snapshot_calls),
     "store the state of every live process at once (a\n"
     "snapshot, for ?at=T and /api/diff) when the host made N\n"
     "calls per live process since the last (default 16;\n"
     "1 to 1000000; 0 = none): at most a row per N calls"},
    {"rss-interval-ms", "N", STR(rss_interval_ms),
     "read each live process's resident and swapped memory\n"
     "from /proc/PID/status every N ms between its calls\n"
     "(default 2000; 50 to 5000; 0 = off; off for a ring\n"
     "file's records unless --names=on)"},
    {"exit-on-unload", NULL, OPT_FLAG, offsetof(struct args, exit_on_unload), NULL,
     "exit when the module is unloaded (default: say so,\n"
     "wait for it to be loaded again, capture on)"},
    {"migrate", NULL, OPT_FLAG, offsetof(struct args, migrate), NULL,
     "apply database migrations and exit"},
    {"help", NULL, OPT_HELP, 0, NULL, "this text"},
};
#undef STR
#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

static void usage(FILE *f)
{
	fputs("usage: lector [OPTIONS]\n"
	      "Capture every mmap/munmap/mremap/brk on this machine and store it.\n\n",
	      f);
	options_help(f, options, N_OPTIONS, 26);
	fputs("\nCredentials come from the config file or the environment (MEMPROBE_DB_USER,\n"
	      "MEMPROBE_DB_PASSWORD, MEMPROBE_DB_HOST, MEMPROBE_DB_PORT, MEMPROBE_DB_SOCKET,\n"
	      "MEMPROBE_DB_NAME), never from the command line.\n",
	      f);
}

static int parse_num(const char *s, size_t *out)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (end == s || *end || v == 0)
		return -EINVAL;
	*out = (size_t)v;
	return 0;
}

/* --rss-interval-ms: 0 (off) or SAMPLER_INTERVAL_MIN_MS..MAX_MS. */
static int parse_rss_interval(const char *s, unsigned int *interval_ms)
{
	char *end;
	unsigned long v;

	*interval_ms = SAMPLER_INTERVAL_DEFAULT_MS;
	if (!s)
		return 0;
	v = strtoul(s, &end, 10);
	if (end == s || *end ||
	    (v && (v < SAMPLER_INTERVAL_MIN_MS || v > SAMPLER_INTERVAL_MAX_MS))) {
		fprintf(stderr,
			"lector: --rss-interval-ms takes 0 (off) or %d to %d (ms), not '%s'\n",
			SAMPLER_INTERVAL_MIN_MS, SAMPLER_INTERVAL_MAX_MS, s);
		return -EINVAL;
	}
	*interval_ms = (unsigned int)v;
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

/* argv -> struct args: 0, 1 (--help: exit 0) or -EINVAL (said). */
static int parse_args(int argc, char **argv, struct args *a)
{
	int first_arg, rc;

	a->source = SOURCE_AUTO;
	a->sink = "mysql";
	a->names = "auto";
	rc = options_parse(options, N_OPTIONS, argc, argv, a, &first_arg);
	if (rc == OPTIONS_HELP)
		return 1;
	if (rc == -ENOENT)
		usage(stderr);
	if (rc < 0)
		return rc;
	if (first_arg < argc) {
		fprintf(stderr,
			"lector: unexpected argument '%s' (credentials go in --config or "
			"MEMPROBE_DB_*)\n",
			argv[first_arg]);
		return -EINVAL;
	}
	if (strcmp(a->names, "auto") && strcmp(a->names, "on") && strcmp(a->names, "off")) {
		fprintf(stderr, "lector: unknown --names '%s' (auto, on, off)\n", a->names);
		return -EINVAL;
	}
	if ((a->rate || a->seed) && a->source != SOURCE_SYNTHETIC) {
		fprintf(stderr, "lector: --rate and --seed go with --source=synthetic\n");
		return -EINVAL;
	}
	/* Made-up calls under the machine's own name would mix into its real
	 * rows (the default host_id is the hostname, and lector.conf may name
	 * the real host): a synthetic host is always named on the command line. */
	if (a->source == SOURCE_SYNTHETIC && (!a->host_id || !a->host_id[0])) {
		fprintf(stderr,
			"lector: --source=synthetic needs --host-id=NAME, a name of its own "
			"(not this machine's: the made-up calls would mix into its rows)\n");
		return -EINVAL;
	}
	if (a->rate) {
		char *end;
		double r = strtod(a->rate, &end);

		if (end == a->rate || *end || !(r >= 0.01 && r <= 10000000)) {
			fprintf(stderr,
				"lector: --rate takes calls per second, 0.01 to 10000000, "
				"not '%s'\n",
				a->rate);
			return -EINVAL;
		}
	}
	if (a->seed) {
		char *end;

		strtoull(a->seed, &end, 0);
		if (end == a->seed || *end) {
			fprintf(stderr, "lector: --seed takes a number, not '%s'\n", a->seed);
			return -EINVAL;
		}
	}
	if (strcmp(a->sink, "mysql") && strcmp(a->sink, "jsonl")) {
		fprintf(stderr, "lector: unknown --sink '%s' (mysql, jsonl)\n", a->sink);
		return -EINVAL;
	}
	return 0;
}

/* --checkpoint-calls, --checkpoint-secs, --retain-checkpoint-days, then
 * the checkpoint horizon against --retain-days (config_settle). */
static int settings_checkpoints(const struct args *a, struct lector_config *c)
{
	const struct {
		const char *flag, *key, *val;
	} opt[] = {{"checkpoint-calls", "checkpoint_calls", a->checkpoint_calls},
		   {"checkpoint-secs", "checkpoint_secs", a->checkpoint_secs},
		   {"snapshot-calls", "snapshot_calls", a->snapshot_calls},
		   {"retain-checkpoint-days", "retain_checkpoint_days", a->retain_checkpoint_days}};
	char err[512];

	for (size_t i = 0; i < sizeof(opt) / sizeof(opt[0]); i++)
		if (opt[i].val &&
		    config_parse_checkpoint(c, opt[i].key, opt[i].val, err, sizeof(err)) < 0) {
			fprintf(stderr, "lector: --%s: %s\n", opt[i].flag, err);
			return -EINVAL;
		}
	if (config_settle(c, err, sizeof(err)) < 0) {
		fprintf(stderr, "lector: %s\n", err);
		return -EINVAL;
	}
	return 0;
}

/* The settings: defaults, then the config file, then the environment,
 * then the options that override them. */
static int settings_load(const struct args *a, struct lector_config *c)
{
	char err[512];

	config_defaults(c);
	if (a->config && config_load_file(c, a->config, err, sizeof(err)) < 0) {
		fprintf(stderr, "lector: %s\n", err);
		return -EINVAL;
	}
	config_load_env(c);
	if (a->host_id)
		snprintf(c->host_id, sizeof(c->host_id), "%s", a->host_id);
	if (a->db_host) {
		struct config_db_host hosts[CONFIG_DB_HOSTS_MAX];

		if (strlen(a->db_host) >= sizeof(c->db_host) ||
		    config_db_hosts(a->db_host, c->db_port, hosts, CONFIG_DB_HOSTS_MAX, err,
				    sizeof(err)) < 0) {
			fprintf(stderr, "lector: --db-host: %s\n",
				strlen(a->db_host) >= sizeof(c->db_host) ? "too long" : err);
			return -EINVAL;
		}
		snprintf(c->db_host, sizeof(c->db_host), "%s", a->db_host);
	}
	if (a->retain_days &&
	    config_parse_retain_days(a->retain_days, &c->retain_days, err, sizeof(err)) < 0) {
		fprintf(stderr, "lector: --retain-days: %s\n", err);
		return -EINVAL;
	}
	if (settings_checkpoints(a, c) < 0)
		return -EINVAL;
	if (a->spill)
		snprintf(c->spill_path, sizeof(c->spill_path), "%s", a->spill);
	else if (!c->spill_path[0])
		default_spill_path(c, a->config);
	if ((a->mem_queue && strcmp(a->mem_queue, "0") &&
	     parse_num(a->mem_queue, &c->mem_queue_max)) ||
	    (a->batch && parse_num(a->batch, &c->batch_max))) {
		fprintf(stderr, "lector: --mem-queue takes a number, --batch a positive number\n");
		return -EINVAL;
	}
	if (a->mem_queue && !strcmp(a->mem_queue, "0"))
		c->mem_queue_max = 0;
	return 0;
}

static int open_sink(struct lector *l, const struct args *a)
{
	char err[512] = "";
	int rc;

	if (!strcmp(a->sink, "jsonl"))
		return sink_jsonl_open(&l->w.sink, &l->cfg, err, sizeof(err));
	rc = sink_mysql_open(&l->w.sink, &l->cfg, err, sizeof(err));
	if (rc == -ECONNREFUSED) {
		/* like an outage: capture now, the writer connects and resumes
		 * (schema check, committed seq, processes) before any accounting */
		fprintf(stderr,
			"lector: %s\nlector: the database is not reachable; capturing anyway: "
			"records wait in memory (%zu), then in %s, until it is; retrying\n",
			err, l->cfg.mem_queue_max, l->cfg.spill_path);
		l->w.restore_pending = true;
		return sink_mysql_open_lazy(&l->w.sink, &l->cfg);
	}
	if (rc < 0) {
		fprintf(stderr, "lector: %s\n", err);
		return rc;
	}
	return writer_restore(l);
}

/* Whether the records' pids are this machine's processes: eBPF or the
 * module's own ring (a ring file may come from another machine), or
 * --names=on says so.  The RSS sampler and the names (unless
 * --names=off) read this machine's /proc for them only then. */
static bool pids_are_ours(const struct args *a)
{
	if (a->source == SOURCE_SYNTHETIC)
		return false; /* made up: no process of this machine */
	return !a->ring_path || !strcmp(a->ring_path, MEMPROBE_PROC_PATH) ||
	       !strcmp(a->names, "on");
}

static int run(struct lector *l, const struct args *a)
{
	struct source_opts so = {.kind = a->source,
				 .ring_path = a->ring_path,
				 .ring_kib = l->cfg.ring_kib,
				 .synth_rate = a->rate ? strtod(a->rate, NULL) : 0,
				 .synth_seed = a->seed ? strtoull(a->seed, NULL, 0) : 1};
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
	l->w.prev_pending = l->prev.magic && l->prev.session != l->session;
	l->w.names = strcmp(a->names, "off") && pids_are_ours(a);
	rc = writer_start(l);
	if (rc == 0) {
		rc = capture_run(l, &so, a->exit_on_unload, &src);
		source_close(src);
		src = NULL;
		fprintf(stderr, "lector: stopping; writing what is queued\n");
		writer_stop(l);
		if (rc == 0 && atomic_load(&l->writer_failed))
			rc = -EIO; /* e.g. a newer schema met after a late connect */
		fprintf(stderr,
			"lector: stopped; %llu records committed this run, %" PRIu64
			" delivered by the source\n",
			(unsigned long long)atomic_load(&l->committed_rows),
			l->src_stats.delivered);
	}
	source_close(src);
	return rc;
}

int main(int argc, char **argv)
{
	struct lector l;
	struct retain *retainer = NULL; /* --retain-days */
	struct args a = {0};
	struct sigaction sa = {.sa_handler = on_signal};
	char err[512] = "";
	unsigned int rss_interval_ms;
	int rc, src_rc;

	memset(&l, 0, sizeof(l));
	l.stop_signal = &stop_signal;
	pthread_mutex_init(&l.stats_lock, NULL);
	rc = parse_args(argc, argv, &a);
	if (rc == 1) {
		usage(stdout);
		return 0;
	}
	if (rc < 0 || settings_load(&a, &l.cfg) < 0 ||
	    parse_rss_interval(a.rss_interval_ms, &rss_interval_ms) < 0)
		return 2;
	if (a.migrate) {
		rc = db_migrate_config(&l.cfg, err, sizeof(err));
		fprintf(stderr, "lector: %s\n", rc < 0 ? err : "schema is up to date");
		return rc < 0 ? 1 : 0;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (!a.mem_queue && (a.source == SOURCE_RING ||
			     (a.source == SOURCE_AUTO &&
			      !access(a.ring_path ? a.ring_path : MEMPROBE_PROC_PATH, F_OK))))
		l.cfg.mem_queue_max = 0; /* the ring releases on delivery: journal first */
	rc = acct_new(&l.w.acct);
	/* JSON lines have no processes; another machine's pids are not in our /proc */
	if (rc == 0 && !strcmp(a.sink, "mysql") && pids_are_ours(&a))
		rc = sampler_new(&l.w.sampler, rss_interval_ms);
	if (rc == 0)
		rc = capture_init(&l.cap);
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
	if (rc == 0 && (src_rc = runstate_open(&l.cap.rs, l.cfg.spill_path, &l.prev)) < 0)
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
	if (l.w.sink)
		l.w.sink->ops->close(l.w.sink);
	queue_close(l.q);
	runstate_close(l.cap.rs);
	sampler_log(l.w.sampler, stderr);
	sampler_free(l.w.sampler);
	acct_free(l.w.acct);
	capture_free(&l.cap);
	return rc < 0 ? 1 : 0;
}
