/*
 * ledger-steps - memory calls with a known outcome, in numbered steps, for
 * the ledger oracle (tests/ledger/run-tests).  The test runs it under
 * strace and compares memprobe's ledger with the ranges it rebuilds from
 * the strace log after each step; this program only makes the calls.
 *
 *   ledger-steps FILE
 *
 * Before each step it reads one byte from stdin (a pipe the test writes;
 * 'q' or end of file: exit), makes the step's calls, then writes
 * "step N\n" to stdout.  FILE
 * (at least 4 pages) is mapped in step 1.  The calls (p = 4096 bytes):
 *   1  A = mmap 16p rw private anon; B = mmap 1p r private anon;
 *      H = mmap 16 MiB rw private anon noreserve; F = mmap 3p of FILE r
 *      shared at offset 1p; N = mmap 8p none private anon
 *   2  munmap A+4p..A+8p (A splits in two); munmap F's first page (the
 *      rest's offset is 2p); munmap of an unaligned address (fails)
 *   3  mremap A+8p 8p -> 24p maymove (grows, may move); mremap H 16 MiB ->
 *      8 MiB (shrinks in place); mremap B 1p -> 1p maymove|fixed to N+2p
 *      (moves over part of N)
 *   4  mremap A 4p -> 4p maymove|dontunmap (the old range stays; skipped,
 *      "dontunmap=no" on stdout, where the kernel refuses it); mmap 2p rw
 *      private anon fixed at N+5p (replaces part of N); mmap of a closed fd
 *      (fails)
 *   5  brk(0), brk(+16p), brk(-8p) (the heap: not a range)
 *   6  munmap all of N's old span (the pieces of N, B and the fixed map)
 * Between calls it makes no memory call of its own: no stdio, no malloc.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

#define P 4096UL

static void say(const char *s)
{
	(void)!write(1, s, strlen(s));
}

static void die(const char *what)
{
	say("ledger-steps: failed: ");
	say(what);
	say("\n");
	_exit(2);
}

static void *map(void *at, size_t len, int prot, int flags, int fd, off_t off)
{
	void *p = mmap(at, len, prot, flags, fd, off);

	if (p == MAP_FAILED)
		die("mmap");
	return p;
}

/* Wait for the test's go; false: it said stop. */
static int wait_go(int ctl)
{
	char c;

	return read(ctl, &c, 1) == 1 && c != 'q';
}

static void step_done(int n)
{
	char line[] = "step 0\n";

	line[5] = (char)('0' + n);
	say(line);
}

int main(int argc, char **argv)
{
	char *a, *b, *h, *f, *n, *grown, *copy;
	void *brk0;
	int ctl, fd;

	if (argc != 2) {
		say("usage: ledger-steps FILE\n");
		return 2;
	}
	ctl = 0;
	fd = open(argv[1], O_RDONLY);
	if (fd < 0)
		die("open");

	if (!wait_go(ctl))
		return 0;
	a = map(NULL, 16 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	b = map(NULL, P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	h = map(NULL, 16 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		-1, 0);
	f = map(NULL, 3 * P, PROT_READ, MAP_SHARED, fd, P);
	n = map(NULL, 8 * P, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	step_done(1);

	if (!wait_go(ctl))
		return 0;
	if (munmap(a + 4 * P, 4 * P) || munmap(f, P))
		die("munmap");
	if (munmap(a + 1, P) == 0) /* unaligned: EINVAL */
		die("munmap of an unaligned address succeeded");
	step_done(2);

	if (!wait_go(ctl))
		return 0;
	grown = mremap(a + 8 * P, 8 * P, 24 * P, MREMAP_MAYMOVE);
	if (grown == MAP_FAILED || mremap(h, 16 << 20, 8 << 20, 0) != h)
		die("mremap");
	if (mremap(b, P, P, MREMAP_MAYMOVE | MREMAP_FIXED, n + 2 * P) != n + 2 * P)
		die("mremap fixed");
	step_done(3);

	if (!wait_go(ctl))
		return 0;
	copy = mremap(a, 4 * P, 4 * P, MREMAP_MAYMOVE | MREMAP_DONTUNMAP);
	if (copy == MAP_FAILED)
		say(errno == EINVAL ? "dontunmap=no\n" : "dontunmap=failed\n");
	map(n + 5 * P, 2 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (mmap(NULL, P, PROT_READ, MAP_PRIVATE, 1000, 0) != MAP_FAILED) /* no fd 1000: EBADF */
		die("mmap of a closed fd succeeded");
	step_done(4);

	if (!wait_go(ctl))
		return 0;
	brk0 = (void *)syscall(SYS_brk, 0);
	syscall(SYS_brk, (char *)brk0 + 16 * P);
	syscall(SYS_brk, (char *)brk0 + 8 * P);
	step_done(5);

	if (!wait_go(ctl))
		return 0;
	if (munmap(n, 8 * P))
		die("munmap N");
	step_done(6);

	wait_go(ctl);
	(void)grown;
	return 0;
}
