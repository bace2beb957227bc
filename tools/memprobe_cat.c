/*
 * memprobe_cat.c - print capture records from a shell (build/memprobe-cat).
 *
 * Owns the one text form of a record (one line, key=value, comm escaped
 * C-style) that users and tests read, and the --raw form (the 192-byte
 * records as they are).  Source-agnostic: the ring or the eBPF program,
 * through capture/source.h.  Ends on SIGINT/SIGTERM, --count, --duration-ms,
 * or when the source shuts down (module unloaded); exit status 0 then.
 */
#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/sysmacros.h>

#include "clock.h"
#include "options.h"
#include "source.h"

#define POLL_SLICE_MS 100

struct cat_opts {
	struct source_opts src;
	bool raw;
	bool stats;
	bool stats_only;  /* --stats alone: print the counters, consume nothing */
	long pid;	  /* -1: every process */
	uint64_t count;	  /* 0: unlimited */
	long duration_ms; /* 0: unlimited */
	bool capture_opt; /* --raw, --pid, --count or --duration-ms given */
};

struct cat_state {
	const struct cat_opts *o;
	uint64_t printed;
	bool io_error;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	return (errno || !*s || *end || *s == '-') ? -EINVAL : 0;
}

static int parse_source(const char *arg, void *out)
{
	struct cat_opts *o = out;

	o->src.kind = source_kind_parse(arg);
	if ((int)o->src.kind >= 0)
		return 0;
	fprintf(stderr, "memprobe-cat: unknown --source '%s' (auto, ring, bpf or synthetic)\n",
		arg);
	return -EINVAL;
}

/* --pid, --count, --duration-ms: a non-negative number, and capture. */
static int parse_bound(const char *name, const char *arg, uint64_t *v, struct cat_opts *o)
{
	if (parse_u64(arg, v) || *v > INT32_MAX * 1000ULL) {
		fprintf(stderr, "memprobe-cat: --%s needs a non-negative number, got '%s'\n", name,
			arg);
		return -EINVAL;
	}
	o->capture_opt = true;
	return 0;
}

static int parse_pid(const char *arg, void *out)
{
	struct cat_opts *o = out;
	uint64_t v;
	int rc = parse_bound("pid", arg, &v, o);

	o->pid = rc ? o->pid : (long)v;
	return rc;
}

static int parse_count(const char *arg, void *out)
{
	struct cat_opts *o = out;

	return parse_bound("count", arg, &o->count, o);
}

static int parse_duration(const char *arg, void *out)
{
	struct cat_opts *o = out;
	uint64_t v;
	int rc = parse_bound("duration-ms", arg, &v, o);

	o->duration_ms = rc ? o->duration_ms : (long)v;
	return rc;
}

static int set_raw(const char *arg, void *out)
{
	struct cat_opts *o = out;

	(void)arg;
	o->raw = o->capture_opt = true;
	return 0;
}

#define FLAG(field) OPT_FLAG, offsetof(struct cat_opts, field), NULL
static const struct opt_row options[] = {
    {"source", "KIND", OPT_CALL, 0, parse_source,
     "ring (/proc/memprobe, the stap module), bpf, or auto (default:\nring when loaded, else bpf); "
     "synthetic: a simulated host's calls,\n1515/s (no capture)"},
    {"ring-path", "FILE", OPT_STRING, offsetof(struct cat_opts, src.ring_path), NULL,
     "ring: read FILE instead of /proc/memprobe (a saved ring)"},
    {"read", NULL, FLAG(src.use_read), "ring: use read() instead of mmap + MEMPROBE_IOC_CONSUME"},
    {"raw", NULL, OPT_CALL, 0, set_raw, "write the binary 192-byte records to stdout instead"},
    {"pid", "N", OPT_CALL, 0, parse_pid, "only records of process N"},
    {"count", "N", OPT_CALL, 0, parse_count, "stop after N records"},
    {"duration-ms", "N", OPT_CALL, 0, parse_duration, "stop after N milliseconds"},
    {"stats", NULL, FLAG(stats),
     "print drops/seen/delivered/skipped on stderr at exit; alone (no\n"
     "--raw/--pid/--count/--duration-ms), print them now and exit\n"
     "without consuming anything.  skipped: probe runs the tracer\n"
     "or kernel skipped, an upper bound on events missing"},
    {"help", NULL, OPT_HELP, 0, NULL, NULL},
};
#undef FLAG
#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

static void usage(FILE *f)
{
	fputs("usage: memprobe-cat [--source=auto|ring|bpf|synthetic] [--ring-path=FILE] [--read]\n"
	      "                    [--raw] [--pid=N] [--count=N] [--duration-ms=N] [--stats] "
	      "[--help]\n"
	      "Prints memprobe capture records, one line each:\n"
	      "  seq= ts= pid= tid= uid= call= addr=0x len= prot=0x flags=0x fd= off=\n"
	      "  new_addr=0x new_len= ret= total_vm= start= comm=\"..\" thread=\"..\"\n"
	      "  rss_anon= rss_file= rss_shmem= swap= cgroup= dev=MAJOR:MINOR ino= [file=unread]\n"
	      "(comm and thread escaped C-style: \\\" \\\\ \\n \\t, other bytes as \\ooo octal;\n"
	      "sizes in bytes; cgroup is the cgroup v2 id, the inode of its directory;\n"
	      "dev/ino: the file a mmap mapped, 0:0 0 otherwise; file=unread: its lock was\n"
	      "busy; call=oom_kill: the OOM killer's victim, fields are the victim's).\n",
	      f);
	options_help(f, options, N_OPTIONS, 17);
	fputs("Ends on SIGINT/SIGTERM or when the source goes away (exit status 0).\n"
	      "Needs root. Load the module with 'make load', or use --source=bpf.\n",
	      f);
}

/* argv -> o: 0, 1 (--help: exit 0) or -EINVAL (said). */
static int parse_args(int argc, char **argv, struct cat_opts *o)
{
	int first_arg, rc;

	memset(o, 0, sizeof(*o));
	o->pid = -1;
	rc = options_parse(options, N_OPTIONS, argc, argv, o, &first_arg);
	if (rc == OPTIONS_HELP)
		return 1;
	if (rc == -ENOENT)
		fprintf(stderr, "memprobe-cat: try --help\n");
	if (rc < 0)
		return -EINVAL;
	if (first_arg < argc) {
		fprintf(stderr, "memprobe-cat: unexpected argument '%s' (try --help)\n",
			argv[first_arg]);
		return -EINVAL;
	}
	o->stats_only = o->stats && !o->capture_opt;
	return 0;
}

/* C-style escape so any comm (quotes, spaces, control bytes) reads back
 * unambiguously; octal escapes are always 3 digits. */
static void print_escaped(FILE *f, const char *s, size_t max_len)
{
	size_t i;

	fputc('"', f);
	for (i = 0; i < max_len && s[i]; i++) {
		unsigned char ch = (unsigned char)s[i];

		switch (ch) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (ch < 0x20 || ch >= 0x7f)
				fprintf(f, "\\%03o", ch);
			else
				fputc(ch, f);
		}
	}
	fputc('"', f);
}

static void print_text(FILE *f, const struct memprobe_record *r)
{
	fprintf(f,
		"seq=%" PRIu64 " ts=%" PRIu64 " pid=%u tid=%u uid=%u call=%s addr=0x%" PRIx64
		" len=%" PRIu64 " prot=0x%x flags=0x%x fd=%d off=%" PRIu64 " new_addr=0x%" PRIx64
		" new_len=%" PRIu64 " ret=%" PRId64 " total_vm=%" PRIu64 " start=%" PRIu64 " comm=",
		(uint64_t)r->seq, (uint64_t)r->ts_ns, r->pid, r->tid, r->uid,
		memprobe_call_name(r->call), (uint64_t)r->addr, (uint64_t)r->len, r->prot,
		r->mflags, r->fd, (uint64_t)r->offset, (uint64_t)r->new_addr, (uint64_t)r->new_len,
		(int64_t)r->ret, (uint64_t)r->total_vm_bytes, (uint64_t)r->start_ns);
	print_escaped(f, r->comm, sizeof(r->comm));
	fputs(" thread=", f);
	print_escaped(f, r->thread_comm, sizeof(r->thread_comm));
	fprintf(f,
		" rss_anon=%" PRIu64 " rss_file=%" PRIu64 " rss_shmem=%" PRIu64 " swap=%" PRIu64
		" cgroup=%" PRIu64 " dev=%u:%u ino=%" PRIu64 "%s\n",
		(uint64_t)r->rss_anon_bytes, (uint64_t)r->rss_file_bytes,
		(uint64_t)r->rss_shmem_bytes, (uint64_t)r->swap_bytes, (uint64_t)r->cgroup_id,
		major(r->file_dev), minor(r->file_dev), (uint64_t)r->file_ino,
		r->flags & MEMPROBE_REC_FILE_UNREAD ? " file=unread" : "");
}

static int on_record(const struct memprobe_record *r, void *ctx)
{
	struct cat_state *st = ctx;

	if (st->o->count && st->printed >= st->o->count)
		return 1; /* leave it in the ring */
	if (st->o->pid >= 0 && r->pid != (uint32_t)st->o->pid)
		return 0;
	if (st->o->raw) {
		if (fwrite(r, sizeof(*r), 1, stdout) != 1)
			st->io_error = true;
	} else {
		print_text(stdout, r);
	}
	st->printed++;
	return 0;
}

/* Before the source releases what it delivered: the output has it. */
static int on_batch_end(void *ctx)
{
	struct cat_state *st = ctx;

	return fflush(stdout) || st->io_error ? -EIO : 0;
}

static void print_stats(struct source *s)
{
	struct source_stats st;

	source_get_stats(s, &st);
	fprintf(stderr,
		"memprobe-cat: source=%s session=0x%016" PRIx64 " drops=%" PRIu64 " seen=%" PRIu64
		" delivered=%" PRIu64 " running=%d skipped=%" PRIu64 "\n",
		st.name, st.session_id, st.drops, st.seen, st.delivered, st.running ? 1 : 0,
		st.skipped);
}

/* Poll until a stop condition; 0 on a clean end, -errno otherwise. */
static int cat_loop(struct source *s, struct cat_state *st)
{
	const struct cat_opts *o = st->o;
	uint64_t t0_ms;
	int rc = 0, slice_ms;

	t0_ms = mono_ms();
	while (!stop_requested) {
		if (o->count && st->printed >= o->count)
			break;
		slice_ms = POLL_SLICE_MS;
		if (o->duration_ms) {
			long left_ms = o->duration_ms - (long)(mono_ms() - t0_ms);

			if (left_ms <= 0)
				break;
			if (left_ms < slice_ms)
				slice_ms = (int)left_ms;
		}
		rc = source_poll(s, slice_ms, on_record, on_batch_end, st);
		if (fflush(stdout) || st->io_error) {
			rc = -EIO;
			break;
		}
		if (rc == -ESHUTDOWN) {
			rc = 0;
			break;
		}
		if (rc < 0)
			break;
		rc = 0;
	}
	return rc;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_signal};
	struct cat_state st = {0};
	struct source *s = NULL;
	struct cat_opts o;
	char err[512] = "";
	int rc;

	rc = parse_args(argc, argv, &o);
	if (rc == 1) {
		usage(stdout);
		return 0;
	}
	if (rc < 0)
		return 2;
	st.o = &o;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL); /* no SA_RESTART: poll() returns EINTR */
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	rc = source_open(&s, &o.src, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "memprobe-cat: %s\n", err[0] ? err : strerror(-rc));
		return 1;
	}
	if (!o.stats_only) {
		rc = cat_loop(s, &st);
		if (rc < 0 && source_error(s))
			fprintf(stderr, "memprobe-cat: %s\n", source_error(s));
		else if (rc < 0)
			fprintf(stderr, "memprobe-cat: %s\n",
				rc == -EIO ? "cannot write the output" : strerror(-rc));
	}
	if (o.stats)
		print_stats(s);
	source_close(s);
	return rc < 0 ? 1 : 0;
}
