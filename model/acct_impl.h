/*
 * acct_impl.h - the inside of struct acct (acct.c), for acct.c and for the
 * tests that inspect it (tests/lector/acct_inspect.h); everyone else goes
 * through acct.h.
 */
#ifndef MEMPROBE_ACCT_IMPL_H
#define MEMPROBE_ACCT_IMPL_H

#include "acct.h"

#define ACCT_BUCKETS 4096 /* power of two */

struct acct {
	struct acct_proc *bucket[ACCT_BUCKETS]; /* by pid, chained through next_hash */
	struct acct_proc *dirty;
	size_t live;
	bool no_range_log; /* nobody stores the ranges (the server's replay) */
};

#endif
