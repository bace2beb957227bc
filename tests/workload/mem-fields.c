/*
 * mem-fields - workload and checker for the ABI v2 memory fields (rss_*,
 * swap, cgroup_id, file_dev/file_ino) and the oom_kill record, compared
 * with the kernel's own view (/proc/self/status, stat(2)).
 *
 *   mem-fields touch DIR MIB OUT   touch MIB MiB anonymous, MIB MiB of a file
 *                                  in DIR (mapped shared) and MIB/2 MiB of
 *                                  shared anonymous memory; read
 *                                  /proc/self/status, make the marker call,
 *                                  read it again; write what it saw to OUT
 *   mem-fields check OUT RAW [CGROUP_ID]
 *                                  TAP: RAW's records of that pid carry what
 *                                  OUT says (and CGROUP_ID, if given)
 *   mem-fields hog MAX_MIB         touch memory 1 MiB at a time up to MAX_MIB
 *                                  (the OOM victim); exit 3 if never killed
 *   mem-fields check-oom RAW PID [CGROUP_ID]
 *                                  TAP: exactly one oom_kill record, PID's
 *   mem-fields late-touch MIB      map MIB MiB anonymous without touching
 *                                  it, say "mapped", wait for SIGUSR1,
 *                                  touch it (page faults, no call), say
 *                                  "touched", exit at the next SIGUSR1:
 *                                  resident memory grows after the last
 *                                  memory call (lector's sampler)
 *
 * The marker call is munmap(MF_MARKER_ADDR, 0): it fails (EINVAL), is
 * recorded like any call, and changes no memory.  Between the two status
 * reads the process touches no new page (buffers are touched first), so
 * both reads and the marker's record see the same counters.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "memprobe_abi.h"

#define MF_MARKER_ADDR 0x6d656d000000ULL /* "mem" */
#define MF_MAX_RECORDS (1u << 22)

struct mf_status {
	unsigned long long anon_kb, file_kb, shmem_kb, swap_kb;
};

static char status_buf[16384];
static int tap_n, tap_failed;

static void tap(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tap(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", ok ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	tap_failed += !ok;
}

static void die(const char *what)
{
	fprintf(stderr, "mem-fields: %s: %s\n", what, strerror(errno));
	exit(2);
}

static unsigned long long status_kb(const char *name)
{
	const char *p = strstr(status_buf, name);

	return p ? strtoull(p + strlen(name), NULL, 10) : ~0ULL;
}

/* No allocation, no new page: status_buf is touched before. */
static void read_status(struct mf_status *s)
{
	int fd = open("/proc/self/status", O_RDONLY);
	ssize_t n;

	if (fd < 0)
		die("open /proc/self/status");
	n = read(fd, status_buf, sizeof(status_buf) - 1);
	close(fd);
	if (n <= 0)
		die("read /proc/self/status");
	status_buf[n] = 0;
	s->anon_kb = status_kb("RssAnon:");
	s->file_kb = status_kb("RssFile:");
	s->shmem_kb = status_kb("RssShmem:");
	s->swap_kb = status_kb("VmSwap:");
}

static void touch(volatile char *p, size_t len_bytes, int write)
{
	for (size_t i = 0; i < len_bytes; i += 4096) {
		if (write)
			p[i] = 1;
		else
			(void)p[i];
	}
}

static int do_touch(const char *dir, unsigned long mib, const char *out)
{
	size_t len_bytes = mib << 20;
	char path[4096], chunk[65536];
	struct mf_status s1, s2;
	struct stat st;
	char *anon, *shm, *file;
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "%s/mem-fields.data", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		die("create the data file");
	memset(chunk, 'm', sizeof(chunk));
	for (size_t done = 0; done < len_bytes; done += sizeof(chunk))
		if (write(fd, chunk, sizeof(chunk)) != (ssize_t)sizeof(chunk))
			die("write the data file");
	if (fstat(fd, &st))
		die("fstat the data file");
	anon = mmap(NULL, len_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	shm = mmap(NULL, len_bytes / 2, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	file = mmap(NULL, len_bytes, PROT_READ, MAP_SHARED, fd, 0);
	if (anon == MAP_FAILED || shm == MAP_FAILED || file == MAP_FAILED)
		die("mmap");
	touch(anon, len_bytes, 1);
	touch(shm, len_bytes / 2, 1);
	touch(file, len_bytes, 0);
	f = fopen(out, "w"); /* before the reads: stdio allocates */
	if (!f)
		die("open OUT");
	memset(status_buf, 0, sizeof(status_buf));
	/* Nothing between the two reads may touch a new page, the code run
	 * for the first time included: a first run of libc and ld.so code maps
	 * file pages (16 at a time, fault-around), a first call of syscall()
	 * binds its PLT slot (a GOT write: a new anonymous page where that page
	 * was still the file's), and its failure writes errno in the TLS block,
	 * whose page ASLR may place where nothing was written yet.  The first
	 * read_status() parses after the kernel made its text.  So the whole
	 * path runs once first, with a call that fails the same way and is no
	 * memory call. */
	read_status(&s1);
	syscall(SYS_close, -1);
	read_status(&s1);
	syscall(SYS_munmap, MF_MARKER_ADDR, 0UL);
	read_status(&s2);
	fprintf(f, "pid %d\nstatus1 %llu %llu %llu %llu\nstatus2 %llu %llu %llu %llu\n"
		"file %llu %llu %llu\n",
		(int)getpid(), s1.anon_kb, s1.file_kb, s1.shmem_kb, s1.swap_kb, s2.anon_kb,
		s2.file_kb, s2.shmem_kb, s2.swap_kb, (unsigned long long)(uintptr_t)file,
		(unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	if (fclose(f))
		die("write OUT");
	close(fd);
	unlink(path);
	return 0;
}

static int do_hog(unsigned long max_mib)
{
	for (unsigned long i = 0; i < max_mib; i++) {
		char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			die("mmap");
		touch(p, 1 << 20, 1);
	}
	fprintf(stderr, "mem-fields: touched %lu MiB and was not killed\n", max_mib);
	return 3;
}

/* No memory call after the mmap: write(2), sigwait and page faults only. */
static int do_late_touch(unsigned long mib)
{
	size_t len_bytes = mib << 20;
	sigset_t usr1;
	char *p;
	int sig;

	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &usr1, NULL))
		die("sigprocmask");
	p = mmap(NULL, len_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap");
	if (write(1, "mapped\n", 7) != 7 || sigwait(&usr1, &sig))
		die("say mapped, wait");
	touch(p, len_bytes, 1);
	if (write(1, "touched\n", 8) != 8 || sigwait(&usr1, &sig))
		die("say touched, wait");
	return 0;
}

static struct memprobe_record *load_raw(const char *path, size_t *n)
{
	struct memprobe_record *v = malloc(sizeof(*v) * 1024);
	size_t cap = 1024;
	FILE *f = fopen(path, "rb");

	if (!f || !v)
		die("open RAW");
	*n = 0;
	while (*n < MF_MAX_RECORDS && fread(&v[*n], sizeof(*v), 1, f) == 1) {
		if (++*n == cap) {
			cap *= 2;
			v = realloc(v, cap * sizeof(*v));
			if (!v)
				die("realloc");
		}
	}
	fclose(f);
	return v;
}

static void check_mem(const struct memprobe_record *r, const struct mf_status *s)
{
	tap(r->rss_anon_bytes == s->anon_kb << 10, "rss_anon_bytes %llu = RssAnon %llu kB",
	    (unsigned long long)r->rss_anon_bytes, s->anon_kb);
	tap(r->rss_file_bytes == s->file_kb << 10, "rss_file_bytes %llu = RssFile %llu kB",
	    (unsigned long long)r->rss_file_bytes, s->file_kb);
	tap(r->rss_shmem_bytes == s->shmem_kb << 10, "rss_shmem_bytes %llu = RssShmem %llu kB",
	    (unsigned long long)r->rss_shmem_bytes, s->shmem_kb);
	tap(r->swap_bytes == s->swap_kb << 10, "swap_bytes %llu = VmSwap %llu kB",
	    (unsigned long long)r->swap_bytes, s->swap_kb);
}

static int do_check(const char *out, const char *raw, const char *cgroup)
{
	struct mf_status s1, s2;
	unsigned long long addr, dev, ino;
	const struct memprobe_record *marker = NULL, *map = NULL;
	size_t n, i, mine = 0, cg_ok = 0;
	struct memprobe_record *v;
	FILE *f = fopen(out, "r");
	int pid;

	if (!f || fscanf(f, "pid %d status1 %llu %llu %llu %llu status2 %llu %llu %llu %llu "
			 "file %llu %llu %llu", &pid, &s1.anon_kb, &s1.file_kb, &s1.shmem_kb,
			 &s1.swap_kb, &s2.anon_kb, &s2.file_kb, &s2.shmem_kb, &s2.swap_kb, &addr,
			 &dev, &ino) != 12)
		die("read OUT");
	fclose(f);
	v = load_raw(raw, &n);
	for (i = 0; i < n; i++) {
		/* from its exec on: before, it was the shell that moved itself */
		if (v[i].pid != (uint32_t)pid || strncmp(v[i].comm, "mem-fields", sizeof(v[i].comm)))
			continue;
		mine++;
		if (cgroup && v[i].cgroup_id == strtoull(cgroup, NULL, 10))
			cg_ok++;
		if (v[i].call == MP_CALL_MUNMAP && v[i].addr == MF_MARKER_ADDR && !v[i].len)
			marker = &v[i];
		if (v[i].call == MP_CALL_MMAP && (uint64_t)v[i].ret == addr)
			map = &v[i];
	}
	tap(!memcmp(&s1, &s2, sizeof(s1)), "the workload was quiescent: /proc/self/status "
	    "the same before and after the marker (RssAnon %llu / %llu kB)", s1.anon_kb, s2.anon_kb);
	tap(marker != NULL, "the marker call of pid %d was captured (%zu records of it)", pid, mine);
	if (marker)
		check_mem(marker, &s1);
	tap(map && map->file_dev == (uint32_t)dev && map->file_ino == ino && !map->flags,
	    "the file mmap carries the file's st_dev %llu and st_ino %llu (got %u, %llu, flags %u)",
	    dev, ino, map ? map->file_dev : 0, map ? (unsigned long long)map->file_ino : 0ULL,
	    map ? map->flags : 0);
	if (cgroup)
		tap(mine && cg_ok == mine, "every record of pid %d since its exec carries cgroup id %s (%zu of %zu)",
		    pid, cgroup, cg_ok, mine);
	free(v);
	return tap_failed ? 1 : 0;
}

static int do_check_oom(const char *raw, int pid, const char *cgroup)
{
	const struct memprobe_record *k = NULL;
	size_t n, i, kills = 0;
	struct memprobe_record *v = load_raw(raw, &n);

	for (i = 0; i < n; i++) {
		if (v[i].call == MP_CALL_OOM_KILL && v[i].pid == (uint32_t)pid) {
			kills++;
			k = &v[i];
		}
	}
	tap(kills == 1, "exactly one oom_kill record for victim pid %d (%zu)", pid, kills);
	if (k) {
		tap(!strncmp(k->comm, "mem-fields", sizeof(k->comm)) && k->tid == (uint32_t)pid,
		    "it names the victim: comm \"%.16s\", tid %u", k->comm, k->tid);
		tap(k->rss_anon_bytes >= (1u << 20) && k->total_vm_bytes >= k->rss_anon_bytes,
		    "it carries the victim's counters at the kill (rss_anon %llu, total_vm %llu)",
		    (unsigned long long)k->rss_anon_bytes, (unsigned long long)k->total_vm_bytes);
		if (cgroup)
			tap(k->cgroup_id == strtoull(cgroup, NULL, 10),
			    "it carries the victim's cgroup id %s (got %llu)", cgroup,
			    (unsigned long long)k->cgroup_id);
	}
	free(v);
	return tap_failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "touch"))
		return do_touch(argv[2], strtoul(argv[3], NULL, 10), argv[4]);
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "check"))
		return do_check(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
	if (argc == 3 && !strcmp(argv[1], "hog"))
		return do_hog(strtoul(argv[2], NULL, 10));
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "check-oom"))
		return do_check_oom(argv[2], atoi(argv[3]), argc == 5 ? argv[4] : NULL);
	if (argc == 3 && !strcmp(argv[1], "late-touch"))
		return do_late_touch(strtoul(argv[2], NULL, 10));
	fprintf(stderr, "usage: mem-fields touch DIR MIB OUT | check OUT RAW [CGROUP_ID] |\n"
			"       hog MAX_MIB | check-oom RAW PID [CGROUP_ID] | late-touch MIB\n");
	return 2;
}
