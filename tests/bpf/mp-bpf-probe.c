/*
 * mp-bpf-probe - drives the eBPF source (capture/source_bpf.c) directly, for
 * what memprobe-cat cannot do: hold the ring undrained (drop tests), account
 * every sequence number, and measure lone-call latency.
 *
 *   mp-bpf-probe --raw [--ring-kib N] [--hold-ms N] [--duration-ms N] [--ready-file F]
 *                [--count-len BYTES [--count-comm NAME]] [--prog-stats]
 *       capture, write raw 192-byte records to stdout; after --hold-ms of not
 *       draining, drain until --duration-ms (or SIGINT/SIGTERM).  At the end
 *       prints to stderr one line:
 *         stats seen=S drops=D drops_after=D2 delivered=N missing=M dup=U counted=C
 *       where S and D are read before the final drain, D2 after it, M is
 *       how many seq values below S never arrived (must equal the drops), and
 *       C the successful mmap/munmap records of length BYTES (bench/bpf),
 *       of processes named NAME if given.
 *       --prog-stats adds "prog NAME runs=N run_time_ns=T" lines (program
 *       statistics are on while it runs: it holds BPF_ENABLE_STATS itself,
 *       kernel.bpf_stats_enabled=1 works too).
 *   mp-bpf-probe --latency N
 *       fork a child making N lone mmap calls 150 ms apart; print
 *         latency max_ms=.. p90_ms=.. median_ms=.. count=..
 *       (delay from the call's return, record ts_ns, to its delivery here).
 *   mp-bpf-probe --getppid N
 *       with program statistics on (BPF_ENABLE_STATS, for as long as it
 *       runs; the sysctl is left alone), make N getppid() calls, then idle
 *       as long; print
 *         getppid calls=N ns_per_call=T runs_loop=A runs_idle=B
 *       A and B: runs of the memory-call programs (all but exec, exit and
 *       oom_kill) during the loop and during the idle time: A - B is what
 *       an unrelated syscall costs in program runs (N with regs, ~0 else).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <bpf/bpf.h>

#include "clock.h"
#include "source_impl.h"

struct probe {
	FILE *out;
	unsigned char *seen_map; /* bit per seq value */
	size_t seen_map_bytes;
	uint64_t dup;
	pid_t child;
	uint64_t count_len;      /* --count-len: count calls of this length */
	const char *count_comm;  /* --count-comm: ...made by processes of this name */
	uint64_t counted;
	double lat_ms[64];
	int lat_n;
};

static volatile sig_atomic_t stop;

/* Through the ops table: this driver links source_bpf.c alone, without the
 * ring source that source.c would pull in. */
#define source_poll(s, t, cb, ctx) ((s)->ops->poll((s), (t), (cb), NULL, (ctx)))
#define source_get_stats(s, st)    ((s)->ops->stats((s), (st)))
#define source_close(s)            ((s)->ops->close(s))

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int mark_seq(struct probe *p, uint64_t seq)
{
	size_t byte = seq / 8;

	if (byte >= p->seen_map_bytes) {
		size_t n = p->seen_map_bytes ? p->seen_map_bytes : 1 << 16;
		unsigned char *m;

		while (n <= byte)
			n *= 2;
		m = realloc(p->seen_map, n);
		if (!m)
			return -ENOMEM;
		memset(m + p->seen_map_bytes, 0, n - p->seen_map_bytes);
		p->seen_map = m;
		p->seen_map_bytes = n;
	}
	if (p->seen_map[byte] & (1 << (seq % 8)))
		p->dup++;
	p->seen_map[byte] |= 1 << (seq % 8);
	return 0;
}

static int on_record(const struct memprobe_record *r, void *ctx)
{
	struct probe *p = ctx;

	if (p->out && fwrite(r, sizeof(*r), 1, p->out) != 1)
		return -EIO;
	if (p->count_len && r->len == p->count_len && r->ret >= 0 &&
	    (r->call == MP_CALL_MMAP || r->call == MP_CALL_MUNMAP) &&
	    (!p->count_comm || !strncmp(r->comm, p->count_comm, sizeof(r->comm))))
		p->counted++;
	if (p->child && r->pid == (uint32_t)p->child && r->call == MP_CALL_MMAP &&
	    p->lat_n < 64)
		p->lat_ms[p->lat_n++] = (double)(wall_ns() - r->ts_ns) / 1e6;
	return mark_seq(p, r->seq);
}

static uint64_t count_missing(const struct probe *p, uint64_t below)
{
	uint64_t missing = 0, s;

	for (s = 0; s < below; s++)
		if (s / 8 >= p->seen_map_bytes || !(p->seen_map[s / 8] & (1 << (s % 8))))
			missing++;
	return missing;
}

/* Take what is in the ring, for at most limit_ms: other processes keep
 * producing, so "until empty" may never come. */
static int drain(struct source *src, struct probe *p, int limit_ms)
{
	uint64_t end_ns = mono_ns() + (uint64_t)limit_ms * 1000000ULL;
	int n, total = 0;

	while ((n = source_poll(src, 20, on_record, p)) > 0 && mono_ns() < end_ns)
		total += n;
	return n < 0 ? n : total;
}

static int run_raw(struct source *src, struct probe *p, int hold_ms, int duration_ms)
{
	uint64_t end_ns = mono_ns() + (uint64_t)duration_ms * 1000000ULL;
	struct source_stats st, after;
	int rc = 0;

	p->out = stdout;
	if (hold_ms > 0)
		usleep(hold_ms * 1000);
	while (!stop && (duration_ms <= 0 || mono_ns() < end_ns)) {
		rc = source_poll(src, 100, on_record, p);
		if (rc < 0)
			break;
	}
	source_get_stats(src, &st);
	if (rc >= 0)
		rc = drain(src, p, 300);
	source_get_stats(src, &after);
	fflush(stdout);
	fprintf(stderr,
		"stats seen=%llu drops=%llu drops_after=%llu delivered=%llu missing=%llu dup=%llu "
		"counted=%llu\n",
		(unsigned long long)st.seen, (unsigned long long)st.drops,
		(unsigned long long)after.drops, (unsigned long long)after.delivered,
		(unsigned long long)count_missing(p, st.seen), (unsigned long long)p->dup,
		(unsigned long long)p->counted);
	return rc < 0 ? rc : 0;
}

/* Program run time as the kernel counts it (kernel.bpf_stats_enabled=1):
 * find our own program fds among /proc/self/fd. */
static void print_prog_stats(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	while (d && (e = readdir(d))) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);

		if (e->d_name[0] == '.' ||
		    bpf_obj_get_info_by_fd(atoi(e->d_name), &info, &len) != 0 ||
		    strncmp(info.name, "mp_", 3) != 0 || !info.run_cnt)
			continue;
		fprintf(stderr, "prog %s runs=%llu run_time_ns=%llu\n", info.name,
			(unsigned long long)info.run_cnt, (unsigned long long)info.run_time_ns);
	}
	if (d)
		closedir(d);
}

/* Runs of our programs that catch memory syscalls (every mp_* program but
 * the exec, exit and oom_kill ones), summed. */
static uint64_t memory_prog_runs(void)
{
	static const char *const others[] = { "mp_exec", "mp_exit", "mp_oom_kill" };
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	uint64_t sum = 0;
	size_t i;

	while (d && (e = readdir(d))) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);
		bool other = false;

		if (e->d_name[0] == '.' ||
		    bpf_obj_get_info_by_fd(atoi(e->d_name), &info, &len) != 0 ||
		    strncmp(info.name, "mp_", 3) != 0)
			continue;
		for (i = 0; i < sizeof(others) / sizeof(others[0]); i++)
			other |= !strcmp(info.name, others[i]);
		if (!other)
			sum += info.run_cnt;
	}
	if (d)
		closedir(d);
	return sum;
}

static int run_getppid(long calls)
{
	int stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	uint64_t r0, r1, r2, t0, loop_ns;
	long i;

	if (stats_fd < 0) {
		fprintf(stderr, "mp-bpf-probe: BPF_ENABLE_STATS failed (%s)\n", strerror(errno));
		return -errno;
	}
	r0 = memory_prog_runs();
	t0 = mono_ns();
	for (i = 0; i < calls; i++)
		syscall(SYS_getppid);
	loop_ns = mono_ns() - t0;
	r1 = memory_prog_runs();
	usleep(loop_ns / 1000);
	r2 = memory_prog_runs();
	close(stats_fd);
	printf("getppid calls=%ld ns_per_call=%.1f runs_loop=%llu runs_idle=%llu\n", calls,
	       (double)loop_ns / calls, (unsigned long long)(r1 - r0),
	       (unsigned long long)(r2 - r1));
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void lone_calls(int count)
{
	int i;

	for (i = 0; i < count; i++) {
		usleep(150 * 1000);
		void *m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m != MAP_FAILED)
			munmap(m, 4096);
	}
	_exit(0);
}

static int run_latency(struct source *src, struct probe *p, int count)
{
	int status, rc = 0;

	p->child = fork();
	if (p->child < 0)
		return -errno;
	if (p->child == 0)
		lone_calls(count);
	while (p->lat_n < count && rc >= 0 && waitpid(p->child, &status, WNOHANG) == 0)
		rc = source_poll(src, 1000, on_record, p);
	if (rc >= 0)
		rc = drain(src, p, 200);
	waitpid(p->child, &status, 0);
	if (p->lat_n == 0) {
		fprintf(stderr, "mp-bpf-probe: no record of the child's calls arrived\n");
		return -ENODATA;
	}
	qsort(p->lat_ms, p->lat_n, sizeof(double), cmp_double);
	printf("latency max_ms=%.3f p90_ms=%.3f median_ms=%.3f count=%d\n",
	       p->lat_ms[p->lat_n - 1], p->lat_ms[(p->lat_n * 9 - 1) / 10], p->lat_ms[p->lat_n / 2],
	       p->lat_n);
	return rc < 0 ? rc : 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: mp-bpf-probe --raw [--ring-kib N] [--hold-ms N] [--duration-ms N]\n"
		   "                    [--ready-file F] [--count-len BYTES [--count-comm NAME]]\n"
		   "                    [--prog-stats]\n"
		   "       mp-bpf-probe --latency N\n"
		   "       mp-bpf-probe --getppid N\n"
		   "Test driver of the eBPF source; needs root.  See the top of\n"
		   "tests/bpf/mp-bpf-probe.c for the output format.\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "raw", no_argument, NULL, 'r' },	   { "ring-kib", required_argument, NULL, 'k' },
		{ "hold-ms", required_argument, NULL, 'H' }, { "duration-ms", required_argument, NULL, 'd' },
		{ "ready-file", required_argument, NULL, 'f' }, { "latency", required_argument, NULL, 'l' },
		{ "count-len", required_argument, NULL, 'c' }, { "prog-stats", no_argument, NULL, 'p' },
		{ "count-comm", required_argument, NULL, 'C' }, { "help", no_argument, NULL, 'h' },
		{ "getppid", required_argument, NULL, 'g' },   { 0 } };
	struct source_opts opts = { .kind = SOURCE_BPF };
	int c, rc, hold_ms = 0, duration_ms = 0, latency = 0, raw = 0, prog_stats = 0;
	long getppid_calls = 0;
	int stats_fd = -1;
	const char *ready = NULL;
	struct probe p = { 0 };
	struct source *src;
	char err[512];

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': raw = 1; break;
		case 'k': opts.ring_kib = atoi(optarg); break;
		case 'H': hold_ms = atoi(optarg); break;
		case 'd': duration_ms = atoi(optarg); break;
		case 'f': ready = optarg; break;
		case 'l': latency = atoi(optarg); break;
		case 'p': prog_stats = 1; break;
		case 'c': p.count_len = strtoull(optarg, NULL, 0); break;
		case 'C': p.count_comm = optarg; break;
		case 'g': getppid_calls = atol(optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!!raw + !!latency + !!getppid_calls != 1 || latency > 64 || getppid_calls < 0) {
		usage(stderr);
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	rc = source_bpf_open(&src, &opts, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "mp-bpf-probe: %s\n", err);
		return 1;
	}
	if (prog_stats && (stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME)) < 0)
		fprintf(stderr, "mp-bpf-probe: BPF_ENABLE_STATS failed (%s): set "
				"kernel.bpf_stats_enabled=1\n", strerror(errno));
	if (ready)
		close(open(ready, O_WRONLY | O_CREAT | O_TRUNC, 0644));
	if (raw)
		rc = run_raw(src, &p, hold_ms, duration_ms);
	else if (latency)
		rc = run_latency(src, &p, latency);
	else
		rc = run_getppid(getppid_calls);
	if (prog_stats)
		print_prog_stats();
	if (stats_fd >= 0)
		close(stats_fd);
	source_close(src);
	free(p.seen_map);
	if (rc < 0)
		fprintf(stderr, "mp-bpf-probe: %s\n", strerror(-rc));
	return rc < 0;
}
