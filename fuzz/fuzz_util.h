/*
 * fuzz_util.h - what every harness shares: a failed invariant aborts with
 * a message (libFuzzer saves the input as a crash file).
 */
#ifndef MEMPROBE_FUZZ_UTIL_H
#define MEMPROBE_FUZZ_UTIL_H

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_ASSERT(cond, ...)                                                                     \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "invariant failed at %s:%d: %s: ", __FILE__, __LINE__,     \
				#cond);                                                            \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#endif
