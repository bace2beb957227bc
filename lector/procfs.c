/*
 * procfs.c - a process in /proc (procfs.h).  Every read is bounded: one
 * read(2) of at most PROCFS_BUF_BYTES per file.  A /proc/PID directory
 * opened once stands for that process only: if it ends and its pid is
 * reused, files opened through the old directory fail instead of showing
 * the new process.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procfs.h"

#define PROCFS_BUF_BYTES 4096 /* /proc/PID/status is under 2 KiB */
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

/* "Name:   N kB" in status -> bytes; -ENOENT when the line is missing. */
static int status_kb(const char *status, const char *name, uint64_t *bytes)
{
	const char *p = strstr(status, name);
	char *end;
	unsigned long long kb;

	if (!p)
		return -ENOENT;
	kb = strtoull(p + strlen(name), &end, 10);
	if (end == p + strlen(name) || kb > UINT64_MAX / 1024)
		return -EIO;
	*bytes = kb * 1024;
	return 0;
}

int procfs_read_mem(uint32_t pid, uint64_t start_ns, struct acct_mem *m)
{
	char buf[PROCFS_BUF_BYTES];
	int dir = open_pid_dir(pid), rc;
	ssize_t n;

	if (dir < 0)
		return -ENOENT;
	rc = same_start(dir, start_ns);
	if (rc == 1) {
		n = read_at(dir, "status", buf, sizeof(buf));
		rc = n < 0 ? -ENOENT : 0;
	} else if (rc == 0) {
		rc = -ESRCH;
	}
	close(dir);
	if (rc == 0)
		rc = status_kb(buf, "\nRssAnon:", &m->rss_anon_bytes);
	if (rc == 0)
		rc = status_kb(buf, "\nRssFile:", &m->rss_file_bytes);
	if (rc == 0)
		rc = status_kb(buf, "\nRssShmem:", &m->rss_shmem_bytes);
	if (rc == 0)
		rc = status_kb(buf, "\nVmSwap:", &m->swap_bytes);
	return rc;
}
