/*
 * acct_inspect.h - what the accounting tests look at inside struct acct
 * (model/acct_impl.h) and lector never needs: a process by pid, how many
 * are held.  Used by tests/lector/acct-test.c and fuzz/acct_fuzz.c.
 */
#ifndef MEMPROBE_ACCT_INSPECT_H
#define MEMPROBE_ACCT_INSPECT_H

#include "acct_impl.h"

static inline struct acct_proc *acct_find(struct acct *a, uint32_t pid)
{
	struct acct_proc *p = a->bucket[pid & (ACCT_BUCKETS - 1)];

	while (p && p->pid != pid)
		p = p->next_hash;
	return p;
}

static inline size_t acct_live_count(const struct acct *a)
{
	return a->live;
}

#endif
