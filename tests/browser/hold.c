/*
 * hold.c - the browser suite's workload: maps a known amount of anonymous
 * memory, keeps it, and makes one more mapping per line read on stdin, so
 * the test decides when calls happen.  Statically linked so the dynamic
 * loader's own mmaps do not blur the expected totals.  After start-up the
 * process holds exactly RESERVE + 64 MiB: a PROT_NONE reservation of
 * RESERVE_GIB GiB (address space only, no RAM: it puts the process in the
 * pie's top 10 next to browsers that reserve TiBs), 48 + 16 MiB mapped,
 * 8 MiB mapped and unmapped, one failed mmap.  Each stdin line adds
 * STEP_BYTES.  lector counts the brk heap in mapped_bytes (not in
 * net_bytes), so the workload reports its heap (brk - start_brk, whole
 * pages) on the ready line: "ready PID HEAP_BYTES", then "mapped N"; exits
 * at end of input.
 * stdout uses a static buffer: no malloc, the heap stays what libc's
 * start-up made it.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MIB (1024UL * 1024UL)
#define STEP_BYTES (4 * MIB)

static char out_buf[4096];

/* brk - start_brk (field 47 of /proc/self/stat), rounded up to pages. */
static unsigned long heap_bytes(void)
{
	unsigned long start_brk = 0, page = (unsigned long)sysconf(_SC_PAGESIZE), cur;
	char buf[2048], *p = buf;
	FILE *f = fopen("/proc/self/stat", "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = 0;
	p = strrchr(buf, ')');
	for (int field = 2; p && field < 47; field++)
		p = strchr(p + 1, ' ');
	if (p)
		start_brk = strtoul(p + 1, NULL, 10);
	cur = (unsigned long)sbrk(0);
	return start_brk && cur > start_brk ? (cur - start_brk + page - 1) / page * page : 0;
}

static void *map_bytes(size_t len_bytes, int prot, int extra_flags)
{
	void *p = mmap(NULL, len_bytes, prot, MAP_PRIVATE | MAP_ANONYMOUS | extra_flags, -1, 0);

	if (p == MAP_FAILED) {
		perror("hold: mmap");
		_exit(1);
	}
	return p;
}

int main(int argc, char **argv)
{
	unsigned long steps = 0, reserve_gib = 0;
	char line[64], *end;

	setvbuf(stdout, out_buf, _IOLBF, sizeof(out_buf));
	if (argc > 1 && strcmp(argv[1], "--help") == 0) {
		printf("usage: hold [RESERVE_GIB] < commands\nReserves RESERVE_GIB GiB (PROT_NONE), maps 64 MiB"
		       " and holds it; each stdin line maps 4 MiB more; exits at end of input.\n");
		return 0;
	}
	if (argc > 1) {
		reserve_gib = strtoul(argv[1], &end, 10);
		if (*end || reserve_gib > 65536) {
			fprintf(stderr, "hold: RESERVE_GIB must be a number of GiB up to 65536 (see --help)\n");
			return 2;
		}
	}
	if (reserve_gib)
		map_bytes(reserve_gib * 1024 * MIB, PROT_NONE, MAP_NORESERVE);
	map_bytes(48 * MIB, PROT_READ | PROT_WRITE, 0);
	map_bytes(16 * MIB, PROT_READ | PROT_WRITE, 0);
	munmap(map_bytes(8 * MIB, PROT_READ | PROT_WRITE, 0), 8 * MIB);
	/* A failed call: stored and shown, changes no total. */
	mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("ready %d %lu\n", getpid(), heap_bytes());
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		map_bytes(STEP_BYTES, PROT_READ | PROT_WRITE, 0);
		printf("mapped %lu\n", ++steps);
		fflush(stdout);
	}
	return 0;
}
