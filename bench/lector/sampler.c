/*
 * sampler-bench - what lector's RSS sampler (lector/sampler.c) costs with
 * many live processes: PROCS children that sleep (each touching a little
 * memory), known to an accounting as lector would know them, read by the
 * sampler's own code.
 *
 *   sampler-bench [--procs N] [--seconds S] [--interval-ms MS]
 *
 * Prints key=value figures:
 *   read_us_per_proc   one reading (stat + status through /proc/PID), the
 *                      best of 5 passes over every process;
 *   cpu_pct_on/off     this process's CPU time (user + system) over the wall
 *                      time of S seconds of ticks at the writer's idle
 *                      cadence (every 200 ms), with the sampler at MS (on)
 *                      and with the sampler off, the baseline, in the same run;
 *   cpu_us_per_reading what on costs over off, per reading taken;
 *   tick_max_us        the longest tick (what a commit could wait for it),
 *   tick_max_cpu_us    and the most CPU time one tick used (wall time above
 *                      it is the machine's other work preempting the tick);
 *   readings, passes   the sampler's counters of the "on" run; pass_max_ms,
 *                      the longest pass (a process waits at most twice that
 *                      between two readings).
 * Never passes or fails on time.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "acct.h"
#include "clock.h"
#include "procfs.h"
#include "sampler.h"

#define TICK_EVERY_US 200000 /* the writer's idle wait (writer.c IDLE_WAIT_MS) */
#define PROCS_MAX     20000

static pid_t kids[PROCS_MAX];
static uint64_t kid_start_ns[PROCS_MAX];
static int n_kids;

static void sleeper(void)
{
	static char touched[64 * 1024];

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	memset(touched, 1, sizeof(touched));
	for (;;)
		pause();
}

/* start_ns as a record carries it, at /proc/PID/stat's resolution. */
static uint64_t start_ns_of(pid_t pid)
{
	uint64_t ns = 0;

	procfs_start_ns((uint32_t)pid, &ns);
	return ns;
}

static int spawn(struct acct *a, int n)
{
	for (n_kids = 0; n_kids < n; n_kids++) {
		struct memprobe_record r = {.call = MP_CALL_MMAP, .fd = -1, .ret = 0x10000000};
		pid_t pid = fork();

		if (pid < 0)
			return -errno;
		if (pid == 0)
			sleeper();
		kids[n_kids] = pid;
		r.pid = r.tid = (uint32_t)pid;
		r.start_ns = kid_start_ns[n_kids] = start_ns_of(pid);
		r.ts_ns = wall_ns() - 60 * 1000000000ULL; /* older than any reading */
		r.len = 4096;
		if (!acct_apply(a, &r))
			return -ENOMEM;
	}
	acct_clean(a);
	return 0;
}

static void reap(void)
{
	for (int i = 0; i < n_kids; i++)
		kill(kids[i], SIGKILL);
	for (int i = 0; i < n_kids; i++)
		waitpid(kids[i], NULL, 0);
}

static double read_us_per_proc(void)
{
	double best = 0;

	for (int pass = 0; pass < 5; pass++) {
		uint64_t t0 = mono_ns();
		struct acct_mem m;
		int ok = 0;

		for (int i = 0; i < n_kids; i++)
			ok += procfs_read_mem((uint32_t)kids[i], kid_start_ns[i], &m) == 0;
		double us = (mono_ns() - t0) / 1000.0 / (ok ? ok : 1);
		if (pass == 0 || us < best)
			best = us;
	}
	return best;
}

static uint64_t cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ULL +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ULL;
}

/* S seconds of ticks every 200 ms, as the idle writer makes them (a
 * commit, acct_clean, follows each). */
static double cpu_pct(struct acct *a, struct sampler *s, int seconds)
{
	uint64_t w0 = mono_ns(), c0 = cpu_ns(), end = w0 + seconds * 1000000000ULL;

	while (mono_ns() < end) {
		sampler_tick(s, a);
		acct_clean(a);
		usleep(TICK_EVERY_US);
	}
	return 100.0 * (double)(cpu_ns() - c0) / (double)(mono_ns() - w0);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"procs", 1, NULL, 'p'}, {"seconds", 1, NULL, 's'},
					     {"interval-ms", 1, NULL, 'i'}, {"help", 0, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	int procs = 1000, seconds = 10, interval_ms = SAMPLER_INTERVAL_DEFAULT_MS, c, rc;
	struct sampler_stats st;
	struct sampler *s = NULL;
	struct acct *a = NULL;
	double read_us, off, on;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'p')
			procs = atoi(optarg);
		else if (c == 's')
			seconds = atoi(optarg);
		else if (c == 'i')
			interval_ms = atoi(optarg);
		else {
			printf("usage: sampler-bench [--procs N (1..%d)] [--seconds S] "
			       "[--interval-ms MS]\n", PROCS_MAX);
			return c == 'h' ? 0 : 2;
		}
	}
	if (procs < 1 || procs > PROCS_MAX || seconds < 1 || interval_ms < 1) {
		fprintf(stderr, "sampler-bench: --procs 1..%d, --seconds and --interval-ms > 0\n",
			PROCS_MAX);
		return 2;
	}
	rc = acct_new(&a);
	if (rc == 0)
		rc = spawn(a, procs);
	if (rc == 0)
		rc = sampler_new(&s, (unsigned int)interval_ms);
	if (rc < 0) {
		fprintf(stderr, "sampler-bench: %s\n", strerror(-rc));
		reap();
		return 1;
	}
	read_us = read_us_per_proc();
	off = cpu_pct(a, NULL, seconds);
	on = cpu_pct(a, s, seconds);
	sampler_get_stats(s, &st);
	printf("sampler: procs=%d interval_ms=%d seconds=%d read_us_per_proc=%.1f "
	       "cpu_pct_on=%.2f cpu_pct_off=%.2f cpu_us_per_reading=%.1f tick_max_us=%llu "
	       "tick_max_cpu_us=%llu "
	       "readings=%llu passes=%llu late_passes=%llu pass_max_ms=%llu gone=%llu reused=%llu\n",
	       procs, interval_ms, seconds, read_us, on, off,
	       st.reads ? (on - off) / 100.0 * seconds * 1e6 / (double)st.reads : 0.0,
	       (unsigned long long)st.tick_max_ns / 1000,
	       (unsigned long long)st.tick_max_cpu_ns / 1000, (unsigned long long)st.reads,
	       (unsigned long long)st.rounds, (unsigned long long)st.late_rounds,
	       (unsigned long long)st.pass_max_ns / 1000000,
	       (unsigned long long)st.gone, (unsigned long long)st.reused);
	sampler_free(s);
	acct_free(a);
	reap();
	return 0;
}
