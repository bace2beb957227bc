/*
 * sampler-test.c - unit test of lector's RSS sampler (lector/sampler.c,
 * lector/procfs.c) on real child processes and a real /proc, without a
 * database: a live process is read and its reading equals its
 * /proc/PID/status; a pid whose start time is not the process's (the pid
 * was reused) is not read; a zombie (no memory any more) is left to its
 * exit record.  Prints TAP.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "acct.h"
#include "clock.h"
#include "procfs.h"
#include "sampler.h"

static int n_test, n_fail;

static void check(int ok, const char *what)
{
	n_test++;
	n_fail += !ok;
	printf("%sok %d - %s\n", ok ? "" : "not ", n_test, what);
}

static pid_t child(int zombie)
{
	pid_t pid = fork();

	if (pid == 0) {
		static char touched[256 * 1024];

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		memset(touched, 1, sizeof(touched));
		if (zombie)
			_exit(0);
		for (;;)
			pause();
	}
	return pid;
}

/* start_ns as a record carries it, at /proc/PID/stat's resolution. */
static uint64_t start_ns_of(pid_t pid)
{
	uint64_t ns = 0;

	procfs_start_ns((uint32_t)pid, &ns);
	return ns;
}

static unsigned long long status_bytes(pid_t pid, const char *name)
{
	char path[64], line[256];
	unsigned long long kb = ~0ULL;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, name, strlen(name)))
			kb = strtoull(line + strlen(name), NULL, 10);
	if (f)
		fclose(f);
	return kb * 1024;
}

static struct acct_proc *track(struct acct *a, pid_t pid, uint64_t start_ns)
{
	struct memprobe_record r = {.pid = (uint32_t)pid, .tid = (uint32_t)pid, .call = MP_CALL_MMAP,
				    .start_ns = start_ns, .ts_ns = 1, .fd = -1, .ret = 0x10000};

	r.len = 4096;
	return acct_apply(a, &r);
}

int main(void)
{
	pid_t live = child(0), other = child(0), zombie = child(1);
	struct acct *a;
	struct sampler *s;
	struct sampler_stats st;
	struct acct_proc *p_live, *p_other, *p_zombie;
	uint64_t t0;

	if (live < 0 || other < 0 || zombie < 0 || acct_new(&a) || sampler_new(&s, 100))
		return 2;
	usleep(200000); /* children touched their memory; the zombie exited */
	p_live = track(a, live, start_ns_of(live));
	p_other = track(a, other, start_ns_of(other) + 1000000000ULL); /* not its start */
	p_zombie = track(a, zombie, start_ns_of(zombie));
	acct_clean(a);
	t0 = wall_ns();
	for (int i = 0; i < 50; i++) { /* 1 s at most; a pass takes 75 ms */
		sampler_tick(s, a);
		sampler_get_stats(s, &st);
		if (st.reads + st.reused + st.gone >= 3)
			break;
		usleep(20000);
	}
	check(st.reads == 1, "the sampler reads the one live process whose start time matches");
	check(p_live->mem.rss_anon_bytes == status_bytes(live, "RssAnon:") &&
		  p_live->mem.rss_file_bytes == status_bytes(live, "RssFile:") &&
		  p_live->mem.rss_shmem_bytes == status_bytes(live, "RssShmem:") &&
		  p_live->mem.swap_bytes == status_bytes(live, "VmSwap:") &&
		  p_live->mem.rss_anon_bytes >= 256 * 1024,
	      "... its reading equals /proc/PID/status (RssAnon, RssFile, RssShmem, VmSwap)");
	check(p_live->mem.ts_ns >= t0 && p_live->dirty, "... taken now, and marks it dirty");
	check(st.reused == 1 && p_other->mem.ts_ns == 1 && !p_other->dirty,
	      "a pid whose start time differs (reused) is counted and not read");
	check(st.gone == 1 && p_zombie->mem.ts_ns == 1 && !p_zombie->dirty,
	      "a zombie (no memory any more) is counted as gone and left to its exit record");
	kill(live, SIGKILL);
	kill(other, SIGKILL);
	waitpid(live, NULL, 0);
	waitpid(other, NULL, 0);
	waitpid(zombie, NULL, 0);
	sampler_free(s);
	acct_free(a);
	return n_fail ? 1 : 0;
}
