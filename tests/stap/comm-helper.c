/*
 * comm-helper.c - a process with a hostile name for memprobe-cat's text
 * format test (tests/stap/run-host): renames itself, then makes one
 * anonymous mmap of a size nothing else uses and prints "pid addr".
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>

int main(int argc, char **argv)
{
	size_t len_bytes;
	void *p;

	if (argc != 3) {
		fprintf(stderr, "usage: comm-helper NAME LEN_BYTES\n");
		return 2;
	}
	len_bytes = strtoul(argv[2], NULL, 10);
	if (prctl(PR_SET_NAME, argv[1], 0, 0, 0)) {
		perror("comm-helper: prctl");
		return 1;
	}
	p = mmap(NULL, len_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("comm-helper: mmap");
		return 1;
	}
	printf("%d %lu\n", (int)getpid(), (unsigned long)p);
	return 0;
}
