/*
 * sampler-test.c - unit test of lector's RSS sampler (lector/sampler.c,
 * lector/procfs.c) on real child processes and a real /proc, without a
 * database: a live process is read and its reading equals its
 * /proc/PID/status; a pid whose start time is not the process's (the pid
 * was reused) is not read; a zombie (no memory any more) is left to its
 * exit record; a process in hundreds of groups (a status file over a
 * page) and one whose leader thread exited while another runs are read.
 * Prints TAP.
 */
#include <dirent.h>
#include <grp.h>
#include <pthread.h>
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

enum child_kind { CHILD_LIVE, CHILD_ZOMBIE, CHILD_GROUPS, CHILD_LEADER_EXITS };
#define CHILD_GROUPS_N 700 /* a Groups: line of over 4 KiB */

static void *pause_forever(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static pid_t child(enum child_kind kind)
{
	pid_t pid = fork();

	if (pid == 0) {
		static char touched[256 * 1024];
		static gid_t groups[CHILD_GROUPS_N];
		pthread_t t;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		memset(touched, 1, sizeof(touched));
		if (kind == CHILD_ZOMBIE)
			_exit(0);
		for (int i = 0; i < CHILD_GROUPS_N; i++)
			groups[i] = 100000 + i;
		if (kind == CHILD_GROUPS && setgroups(CHILD_GROUPS_N, groups))
			_exit(3);
		if (kind == CHILD_LEADER_EXITS) {
			if (pthread_create(&t, NULL, pause_forever, NULL))
				_exit(3);
			pthread_exit(NULL);
		}
		pause_forever(NULL);
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

/* "Name: N kB" of /proc/WHERE/status (WHERE: "PID" or "PID/task/TID"). */
static unsigned long long status_bytes_at(const char *where, const char *name)
{
	char path[96], line[256];
	unsigned long long kb = ~0ULL;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/status", where);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, name, strlen(name)))
			kb = strtoull(line + strlen(name), NULL, 10);
	if (f)
		fclose(f);
	return kb * 1024;
}

static unsigned long long status_bytes(pid_t pid, const char *name)
{
	char where[16];

	snprintf(where, sizeof(where), "%d", (int)pid);
	return status_bytes_at(where, name);
}

/* The four values equal /proc/PID/status's (read with stdio, whole lines). */
static int mem_equals_status(pid_t pid, const struct acct_mem *m)
{
	return m->rss_anon_bytes == status_bytes(pid, "RssAnon:") &&
	       m->rss_file_bytes == status_bytes(pid, "RssFile:") &&
	       m->rss_shmem_bytes == status_bytes(pid, "RssShmem:") &&
	       m->swap_bytes == status_bytes(pid, "VmSwap:") && m->rss_anon_bytes >= 256 * 1024;
}

/* A thread of pid other than its leader: 0 if none. */
static pid_t other_thread(pid_t pid)
{
	char path[64];
	DIR *d;
	struct dirent *e;
	pid_t tid = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	while (d && !tid && (e = readdir(d)))
		if (atoi(e->d_name) > 0 && atoi(e->d_name) != pid)
			tid = atoi(e->d_name);
	if (d)
		closedir(d);
	return tid;
}

static void read_hard_cases(void)
{
	pid_t grp = child(CHILD_GROUPS), lead = child(CHILD_LEADER_EXITS), tid;
	struct acct_mem m = {0};
	char path[64];
	int rc;

	usleep(200000);
	rc = procfs_read_mem((uint32_t)grp, start_ns_of(grp), &m);
	check(rc == 0 && mem_equals_status(grp, &m),
	      "a process in 700 groups (its status is over a page: Groups: comes first) is read whole");
	memset(&m, 0, sizeof(m));
	rc = procfs_read_mem((uint32_t)lead, start_ns_of(lead), &m);
	tid = other_thread(lead);
	snprintf(path, sizeof(path), "%d/task/%d", (int)lead, (int)tid);
	check(rc == 0 && tid > 0 && m.rss_anon_bytes == status_bytes_at(path, "RssAnon:") &&
		      m.rss_anon_bytes >= 256 * 1024,
	      "a process whose leader thread exited while another runs is read (from the live thread)");
	kill(grp, SIGKILL);
	kill(lead, SIGKILL);
	waitpid(grp, NULL, 0);
	waitpid(lead, NULL, 0);
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
	pid_t live = child(CHILD_LIVE), other = child(CHILD_LIVE), zombie = child(CHILD_ZOMBIE);
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
	read_hard_cases();
	return n_fail ? 1 : 0;
}
