/*
 * testpause.h - a test-only stop in the capture path (tests/faults).
 *
 * MEMPROBE_TEST_PAUSE=POINT:K stops the whole process (SIGSTOP) right after
 * the K-th event of POINT, having said so on stderr, so that a test can
 * SIGKILL lector inside the window it names, every time, instead of hoping
 * a kill lands there:
 *   mapped    the ring source mapped and checked the header page of a ring
 *             and has not yet mapped the whole ring
 *   kept      the caller kept what a source delivered (batch_end, source.h)
 *             and the source has not yet released it
 *   released  a source handed records back to the producer (ring consume
 *             ioctl, eBPF consumer position)
 * The line names the records released so far by the source: for a ring
 * file, the consumer position the module would now hold.  SIGCONT
 * resumes.  Unset (always, outside tests) it costs one getenv per process
 * and source file.
 */
#ifndef MEMPROBE_TESTPAUSE_H
#define MEMPROBE_TESTPAUSE_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline void testpause_at(const char *point, uint64_t released_recs)
{
	static int armed = -1; /* -1: not read yet */
	static unsigned long want_k, seen_k;
	static char want_point[16];
	const char *env;

	if (armed < 0) {
		env = getenv("MEMPROBE_TEST_PAUSE");
		armed = env && sscanf(env, "%15[a-z]:%lu", want_point, &want_k) == 2;
	}
	if (!armed || strcmp(point, want_point) || ++seen_k != want_k)
		return;
	fprintf(stderr, "lector: test pause after %s #%lu: %llu records released to the producer\n",
		point, seen_k, (unsigned long long)released_recs);
	fflush(stderr);
	raise(SIGSTOP);
}

#endif
