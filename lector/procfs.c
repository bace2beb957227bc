/*
 * procfs.c - a process in /proc (procfs.h).  Every read is bounded: stat
 * in one read(2) of at most 1 KiB, status a page at a time up to 1 MiB.
 * A /proc/PID directory opened once stands for that process only: if it
 * ends and its pid is reused, files opened through the old directory fail
 * instead of showing the new process.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procfs.h"

#define STAT_STARTTIME	 22   /* field of /proc/PID/stat, clock ticks since boot */

/* The file name under dir into buf (NUL-terminated): its length, -errno. */
static ssize_t read_at(int dir, const char *name, char *buf, size_t buf_bytes)
{
	int fd = openat(dir, name, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, buf_bytes - 1);
	if (n < 0)
		n = -errno;
	else
		buf[n] = 0;
	close(fd);
	return n;
}

/* The process's start time in ns since boot from the stat file of its
 * /proc directory: 0, -ENOENT gone, -EIO not read or not parsed. */
static int start_ns_at(int dir, uint64_t *start_ns)
{
	char buf[1024], *p;
	unsigned long long ticks;
	long hz = sysconf(_SC_CLK_TCK);
	ssize_t n = read_at(dir, "stat", buf, sizeof(buf));
	int field;

	if (n < 0)
		return n == -EACCES ? -EIO : -ENOENT;
	p = strrchr(buf, ')'); /* comm may hold spaces and parens */
	for (field = 2; p && field < STAT_STARTTIME; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p, " %llu", &ticks) != 1 || hz <= 0)
		return -EIO;
	*start_ns = ticks * (1000000000ULL / (unsigned long)hz);
	return 0;
}

/* 1 same, 0 another process, -EIO stat not parsed, -ENOENT gone. */
static int same_start(int dir, uint64_t start_ns)
{
	long hz = sysconf(_SC_CLK_TCK);
	uint64_t proc_ns;
	int rc = start_ns_at(dir, &proc_ns);

	if (rc < 0)
		return rc;
	return llabs((long long)proc_ns - (long long)start_ns) <= 2 * 1000000000LL / hz;
}

static int open_pid_dir(uint32_t pid)
{
	char path[32];

	snprintf(path, sizeof(path), "/proc/%u", pid);
	return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int procfs_start_ns(uint32_t pid, uint64_t *start_ns)
{
	int dir = open_pid_dir(pid), rc;

	if (dir < 0)
		return -ENOENT;
	rc = start_ns_at(dir, start_ns);
	close(dir);
	return rc;
}

int procfs_same_process(uint32_t pid, uint64_t start_ns)
{
	int dir = open_pid_dir(pid), rc;

	if (dir < 0)
		return 0;
	rc = same_start(dir, start_ns);
	close(dir);
	return rc == -ENOENT ? 0 : rc;
}

/* The four lines of status lector takes, in the order the kernel prints. */
static const char *const mem_lines[] = {"RssAnon:", "RssFile:", "RssShmem:", "VmSwap:"};
#define MEM_LINES (sizeof(mem_lines) / sizeof(mem_lines[0]))
#define STATUS_MAX_BYTES (1 << 20) /* Groups: may hold 65536 groups */

/* One whole line of status: a wanted "Name:   N kB" into its slot. */
static int status_line(const char *line, uint64_t *val, unsigned int *seen)
{
	for (unsigned int i = 0; i < MEM_LINES; i++) {
		size_t len = strlen(mem_lines[i]);
		unsigned long long kb;
		char *end;

		if (strncmp(line, mem_lines[i], len))
			continue;
		kb = strtoull(line + len, &end, 10);
		if (end == line + len || strcmp(end, " kB") || kb > UINT64_MAX / 1024)
			return -EIO;
		val[i] = kb * 1024;
		*seen |= 1u << i;
	}
	return 0;
}

/* The status file of dir, read to its end (at most STATUS_MAX_BYTES) a
 * page at a time and parsed line by line: lines longer than a page (only
 * Groups: with hundreds of groups) are skipped.  0 with the four values;
 * -ENOENT gone, or no memory lines (a zombie leader); -EIO otherwise. */
static int status_mem_at(int dir, const char *name, struct acct_mem *m)
{
	char buf[4096 + 1];
	size_t have = 0, total = 0;
	uint64_t val[MEM_LINES];
	unsigned int seen = 0;
	bool skipping = false;
	int fd = openat(dir, name, O_RDONLY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return errno == EACCES ? -EIO : -ENOENT;
	while (rc == 0 && total < STATUS_MAX_BYTES) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);
		char *line = buf, *nl;

		if (n <= 0) {
			rc = n < 0 ? -EIO : 0;
			break;
		}
		total += n;
		have += n;
		buf[have] = 0;
		while (rc == 0 && (nl = memchr(line, '\n', have - (line - buf)))) {
			*nl = 0;
			if (!skipping)
				rc = status_line(line, val, &seen);
			skipping = false;
			line = nl + 1;
		}
		have -= line - buf;
		memmove(buf, line, have);
		if (have == sizeof(buf) - 1) { /* a line longer than the buffer */
			skipping = true;
			have = 0;
		}
	}
	close(fd);
	if (rc == 0 && total >= STATUS_MAX_BYTES)
		rc = -EIO;
	if (rc == 0 && seen != (1u << MEM_LINES) - 1)
		rc = seen ? -EIO : -ENOENT;
	if (rc == 0) {
		m->rss_anon_bytes = val[0];
		m->rss_file_bytes = val[1];
		m->rss_shmem_bytes = val[2];
		m->swap_bytes = val[3];
	}
	return rc;
}

/* A process whose leader thread exited while others run shows no memory
 * in its own status (a zombie leader); any live thread's shows the
 * process's (they share one mm).  The first of at most TASKS_TRIED. */
#define TASKS_TRIED 64
static int task_status_mem_at(int dir, struct acct_mem *m)
{
	int tdir = openat(dir, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = -ENOENT;
	DIR *d = tdir < 0 ? NULL : fdopendir(tdir);
	struct dirent *e;
	char name[sizeof(e->d_name) + 8];

	if (!d) {
		if (tdir >= 0)
			close(tdir);
		return -ENOENT;
	}
	for (int tried = 0; rc == -ENOENT && tried < TASKS_TRIED && (e = readdir(d)); ) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(name, sizeof(name), "%s/status", e->d_name);
		rc = status_mem_at(dirfd(d), name, m);
		tried++;
	}
	closedir(d);
	return rc;
}

int procfs_read_mem(uint32_t pid, uint64_t start_ns, struct acct_mem *m)
{
	int dir = open_pid_dir(pid), rc;

	if (dir < 0)
		return -ENOENT;
	rc = same_start(dir, start_ns);
	if (rc == 1) {
		rc = status_mem_at(dir, "status", m);
		if (rc == -ENOENT)
			rc = task_status_mem_at(dir, m);
	} else if (rc == 0) {
		rc = -ESRCH;
	}
	close(dir);
	return rc;
}
