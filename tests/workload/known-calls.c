/*
 * known-calls - performs a fixed list of memory calls and writes down
 * exactly what it did and got (format: workload.h), so that a capture of the
 * same run can be checked field by field (check-records).
 *
 *   known-calls EXPECT_FILE
 *
 * The calls, in order (p = 4096-byte page; "->" = what the record's ret is):
 *  main thread (thread_comm = comm = the program's name)
 *   1  mmap(WL_MARKER_ADDR, 0, R, PRIVATE|ANON, -1, 0)        -> -EINVAL (begin marker)
 *   2  mmap(0, 16p, RW, PRIVATE|ANON, -1, 0)                  -> A
 *   3  mmap(0, 1p, R, PRIVATE, <closed fd>, 0)                -> -EBADF
 *   4  mmap(0, 2p, R, PRIVATE, fd of /proc/self/exe, 1p)      -> B (file, offset 4096)
 *   5  munmap(B, 2p)                                          -> 0
 *   6  mmap(0, 16p, RW, PRIVATE|ANON, -1, 0)                  -> C
 *   7  munmap(C + 4p, 4p)                                     -> 0 (partial)
 *   8  mmap(C + 8p, 2p, RW, PRIVATE|ANON|FIXED, -1, 0)        -> C + 8p (replaces)
 *   9  mremap(A, 16p, 32p, MAYMOVE, 0)                        -> A2 (grow)
 *  10  mremap(A2, 32p, 8p, 0, 0)                              -> A2 (shrink)
 *  11  mmap(0, 16p, NONE, PRIVATE|ANON, -1, 0)                -> D (move target)
 *  12  mremap(A2, 8p, 8p, MAYMOVE|FIXED, D + 4p)              -> D + 4p (move)
 *  13  mremap(D + 1, 1p, 2p, 0, 0)                            -> -EINVAL (unaligned)
 *  14  brk(0)                                                 -> b0 (query)
 *  15  brk(b0 + 16p)                                          -> b0 + 16p (grow)
 *  16  brk(b0 + 4p)                                           -> b0 + 4p (shrink)
 *  17  brk(1)                                                 -> b0 + 4p (refused)
 *  18  brk(b0)                                                -> b0
 *  second thread (tid != pid; comm stays the program's name)
 *  19  mmap(0, 2p, RW, PRIVATE|ANON, -1, 0)                   -> E (thread_comm inherited)
 *      prctl(PR_SET_NAME, "we \"q\" a\\b")                    (quotes, spaces, backslash)
 *  20  munmap(E, 2p)                                          -> 0 (thread_comm renamed)
 *  21  munmap(E + 1, 1p)                                      -> -EINVAL
 *  main thread, after joining it
 *  22  munmap(D, 16p)                                         -> 0
 *  23  munmap(C, 16p)                                         -> 0 (range with a hole)
 *  24  exit record: exit_group(0), tid = pid, ret 0, total_vm 0
 *
 * Everything between the calls avoids memory calls of its own: raw
 * syscall(), the thread runs on a static stack (no mmap by pthread_create;
 * the small malloc it makes for TLS comes from a heap made before the
 * marker, and calls 14-18 leave the break where malloc left it),
 * the expectation is kept in a static array and written with write() at the
 * end, VmSize is read with open/read into a static buffer (no stdio).
 * total_vm_bytes expected = VmSize kB * 1024 read right after each call.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "workload.h"

#define PAGE        4096UL
#define THREAD_NAME "we \"q\" a\\b"

static struct memprobe_record exp_recs[WL_MAX_RECORDS + 1];
static int exp_n;
static char status_buf[8192];
static void *volatile heap_warmup;
static char leader_comm[MEMPROBE_COMM_LEN];
static unsigned char thread_stack[256 * 1024] __attribute__((aligned(4096)));

static void die(const char *msg)
{
	(void)!write(2, msg, strlen(msg));
	_exit(2);
}

static long read_proc(const char *path)
{
	int fd = open(path, O_RDONLY);
	long n;

	if (fd < 0)
		die("known-calls: cannot open /proc/self files: is /proc mounted?\n");
	n = read(fd, status_buf, sizeof(status_buf) - 1);
	close(fd);
	if (n <= 0)
		die("known-calls: cannot read /proc/self files\n");
	status_buf[n] = 0;
	return n;
}

static unsigned long long vm_size_bytes(void)
{
	char *p;

	read_proc("/proc/self/status");
	p = strstr(status_buf, "VmSize:");
	if (!p)
		die("known-calls: no VmSize in /proc/self/status\n");
	return strtoull(p + 7, NULL, 10) * 1024;
}

/* Field n (1-based, as in proc(5)) of /proc/self/stat. */
static unsigned long long stat_field(int n)
{
	char *p;
	int i;

	read_proc("/proc/self/stat");
	p = strrchr(status_buf, ')');
	if (!p)
		die("known-calls: cannot parse /proc/self/stat\n");
	p += 2; /* now at field 3 */
	for (i = 3; i < n; i++) {
		p = strchr(p, ' ');
		if (!p)
			die("known-calls: short /proc/self/stat\n");
		p++;
	}
	return strtoull(p, NULL, 10);
}

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Note one call that just returned ret (raw syscall: -errno on failure). */
static struct memprobe_record *expect(uint16_t call, long ret)
{
	struct memprobe_record *r = &exp_recs[++exp_n];

	if (exp_n > WL_MAX_RECORDS)
		die("known-calls: WL_MAX_RECORDS too small\n");
	r->call = call;
	r->ret = ret;
	r->pid = getpid();
	r->tid = syscall(SYS_gettid);
	r->uid = getuid();
	r->fd = -1;
	r->total_vm_bytes = call == MP_CALL_EXIT ? 0 : vm_size_bytes();
	memcpy(r->comm, leader_comm, sizeof(r->comm));
	prctl(PR_GET_NAME, r->thread_comm);
	return r;
}

static long x_mmap(uint64_t addr, uint64_t len, int prot, int flags, int fd, uint64_t off)
{
	long ret = syscall(SYS_mmap, addr, len, prot, flags, fd, off);
	struct memprobe_record *r;

	ret = ret == -1 ? -errno : ret;
	r = expect(MP_CALL_MMAP, ret);
	r->addr = addr, r->len = len, r->prot = prot, r->mflags = flags, r->fd = fd;
	r->offset = off;
	if (!(ret < 0 && ret > -4096) && fd >= 0 && !(flags & MAP_ANONYMOUS)) {
		struct stat st;

		if (fstat(fd, &st) != 0)
			die("known-calls: fstat of a mapped fd failed\n");
		r->file_dev = (uint32_t)st.st_dev; /* st_dev: new_encode_dev() */
		r->file_ino = st.st_ino;
	}
	return ret;
}

static long x_munmap(uint64_t addr, uint64_t len)
{
	long ret = syscall(SYS_munmap, addr, len);
	struct memprobe_record *r;

	ret = ret == -1 ? -errno : ret;
	r = expect(MP_CALL_MUNMAP, ret);
	r->addr = addr, r->len = len;
	return ret;
}

static long x_mremap(uint64_t addr, uint64_t old_len, uint64_t new_len, int flags,
		     uint64_t new_addr)
{
	long ret = syscall(SYS_mremap, addr, old_len, new_len, flags, new_addr);
	struct memprobe_record *r;

	ret = ret == -1 ? -errno : ret;
	r = expect(MP_CALL_MREMAP, ret);
	r->addr = addr, r->len = old_len, r->new_len = new_len, r->mflags = flags;
	r->new_addr = new_addr;
	return ret;
}

static long x_brk(uint64_t addr, uint64_t start_brk)
{
	long ret = syscall(SYS_brk, addr); /* never fails: returns the break */
	struct memprobe_record *r = expect(MP_CALL_BRK, ret);

	r->addr = addr, r->new_addr = start_brk, r->len = ret - start_brk;
	return ret;
}

static void *second_thread(void *arg)
{
	long e;

	(void)arg;
	e = x_mmap(0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	prctl(PR_SET_NAME, THREAD_NAME);
	x_munmap(e, 2 * PAGE);
	x_munmap(e + 1, PAGE);
	return NULL;
}

static void main_thread_calls(long *c_out, long *d_out)
{
	const int rw = PROT_READ | PROT_WRITE, anon = MAP_PRIVATE | MAP_ANONYMOUS;
	long a, b, c, d, b0, start_brk;
	int exe_fd, closed_fd;

	exe_fd = open("/proc/self/exe", O_RDONLY);
	closed_fd = dup(exe_fd);
	if (exe_fd < 0 || closed_fd < 0)
		die("known-calls: cannot open /proc/self/exe\n");
	close(closed_fd);
	start_brk = stat_field(47);
	exp_recs[0].ts_ns = wall_ns();

	x_mmap(WL_MARKER_ADDR, 0, PROT_READ, anon, -1, 0);
	a = x_mmap(0, 16 * PAGE, rw, anon, -1, 0);
	x_mmap(0, PAGE, PROT_READ, MAP_PRIVATE, closed_fd, 0);
	b = x_mmap(0, 2 * PAGE, PROT_READ, MAP_PRIVATE, exe_fd, PAGE);
	x_munmap(b, 2 * PAGE);
	c = x_mmap(0, 16 * PAGE, rw, anon, -1, 0);
	x_munmap(c + 4 * PAGE, 4 * PAGE);
	x_mmap(c + 8 * PAGE, 2 * PAGE, rw, anon | MAP_FIXED, -1, 0);
	a = x_mremap(a, 16 * PAGE, 32 * PAGE, MREMAP_MAYMOVE, 0);
	x_mremap(a, 32 * PAGE, 8 * PAGE, 0, 0);
	d = x_mmap(0, 16 * PAGE, PROT_NONE, anon, -1, 0);
	x_mremap(a, 8 * PAGE, 8 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, d + 4 * PAGE);
	x_mremap(d + 1, PAGE, 2 * PAGE, 0, 0);
	b0 = x_brk(0, start_brk);
	x_brk(b0 + 16 * PAGE, start_brk);
	x_brk(b0 + 4 * PAGE, start_brk);
	x_brk(1, start_brk);
	x_brk(b0, start_brk);
	close(exe_fd);
	*c_out = c;
	*d_out = d;
}

int main(int argc, char **argv)
{
	struct memprobe_record *h = &exp_recs[0];
	pthread_attr_t attr;
	pthread_t th;
	long d, c;
	int fd;

	if (argc != 2 || argv[1][0] == '-') {
		static const char usage[] = "usage: known-calls EXPECT_FILE\n"
					    "Makes a fixed list of mmap/munmap/mremap/brk calls "
					    "(see the top of tests/workload/known-calls.c)\n"
					    "and writes what it did and got to EXPECT_FILE.\n";
		(void)!write(argc == 2 ? 1 : 2, usage, sizeof(usage) - 1);
		return argc == 2 && !strcmp(argv[1], "--help") ? 0 : 2;
	}
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die("known-calls: cannot create the expectation file: check the path\n");
	prctl(PR_GET_NAME, leader_comm);
	h->pid = getpid();
	h->uid = getuid();
	h->new_len = stat_field(22);
	h->len = sysconf(_SC_CLK_TCK);
	memcpy(h->comm, leader_comm, sizeof(h->comm));
	/* pthread_create mallocs the thread's TLS vector: let malloc make its
	 * heap (brk) now, before the marker, not in the middle of the list. */
	heap_warmup = malloc(64); /* volatile: the compiler may not drop the pair */
	free(heap_warmup);
	if (pthread_attr_init(&attr) ||
	    pthread_attr_setstack(&attr, thread_stack, sizeof(thread_stack)))
		die("known-calls: pthread_attr_setstack failed\n");

	main_thread_calls(&c, &d);
	if (pthread_create(&th, &attr, second_thread, NULL) || pthread_join(th, NULL))
		die("known-calls: cannot run the second thread\n");
	x_munmap(d, 16 * PAGE);
	x_munmap(c, 16 * PAGE);

	expect(MP_CALL_EXIT, 0);
	h->tid = exp_n;
	h->new_addr = wall_ns();
	if (write(fd, exp_recs, sizeof(exp_recs[0]) * (exp_n + 1)) !=
	    (long)(sizeof(exp_recs[0]) * (exp_n + 1)))
		die("known-calls: short write of the expectation file\n");
	close(fd);
	syscall(SYS_exit_group, 0);
	return 0;
}
