/*
 * checkpoint.c - per call, the process's mapped_bytes after it and, when
 * due, a checkpoint of its state (checkpoint.h).  Each process counts its
 * calls since its last checkpoint and keeps that checkpoint's ts_ns in its
 * struct acct_proc (ckpt_calls, ckpt_taken, ckpt_ts_ns); a process lector
 * reloads after a restart starts with none, so its first call after the
 * restart gets one.  A process closed out without an exit record of its own (pid
 * reused, ended while lector was stopped) gets none: no call of its says
 * when.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"

int ckpt_list_init(struct ckpt_list *l, size_t cap, const struct ckpt_policy *pol)
{
	memset(l, 0, sizeof(*l));
	if (!pol->every_calls || !cap)
		return 0;
	l->row = calloc(cap, sizeof(*l->row));
	if (!l->row)
		return -ENOMEM;
	l->cap = cap;
	return 0;
}

void ckpt_list_free(struct ckpt_list *l)
{
	free(l->row);
	memset(l, 0, sizeof(*l));
}

/* Counts the call; whether p's state after it is a checkpoint. */
static bool ckpt_due(struct acct_proc *p, const struct memprobe_record *r,
		     const struct ckpt_policy *pol)
{
	if (!pol->every_calls)
		return false;
	p->ckpt_calls++;
	if (r->call == MP_CALL_EXIT || p->ckpt_calls >= pol->every_calls || !p->ckpt_taken)
		return true;
	/* records of one process may come a little out of ts order (per-CPU
	 * rings): an older call than the checkpoint is not "older than" it */
	return r->ts_ns > p->ckpt_ts_ns && r->ts_ns - p->ckpt_ts_ns >= pol->every_ns;
}

static void ckpt_fill(struct ckpt *c, const struct acct_proc *p, uint64_t session,
		      const struct memprobe_record *r)
{
	*c = (struct ckpt){
	    .pid = p->pid,
	    .start_ns = p->start_ns,
	    .ts_ns = r->ts_ns,
	    .session = session,
	    .seq = r->seq,
	    .uid = p->uid,
	    .comm_len = strnlen(p->comm, MEMPROBE_COMM_LEN),
	    .exited = p->exited,
	    .net_bytes_raw = p->net_bytes,
	    .mapped_bytes = acct_mapped_bytes(p),
	    .vm_size_bytes = p->vm_size_bytes,
	    .requested_bytes = p->requested_bytes,
	    .heap_bytes = p->heap_bytes,
	    .heap_base_bytes = p->heap_base_bytes,
	    .heap_known = p->heap_known,
	    .n_mmap = p->count[ACCT_N_MMAP],
	    .n_munmap = p->count[ACCT_N_MUNMAP],
	    .n_mremap = p->count[ACCT_N_MREMAP],
	    .n_brk = p->count[ACCT_N_BRK],
	    .n_failed = p->count[ACCT_N_FAILED],
	    .rss_anon_bytes = p->mem.rss_anon_bytes,
	    .rss_file_bytes = p->mem.rss_file_bytes,
	    .rss_shmem_bytes = p->mem.rss_shmem_bytes,
	    .swap_bytes = p->mem.swap_bytes,
	    .rss_ts_ns = p->mem.ts_ns,
	    .cgroup_id = p->cgroup_id,
	    .last_seen_ns = p->last_seen_ns,
	};
	memcpy(c->comm, p->comm, c->comm_len);
}

void ckpt_apply(struct acct *a, const struct qent *e, struct qext *x, struct ckpt_list *l,
		const struct ckpt_policy *pol)
{
	struct acct_proc *p = acct_apply(a, &e->rec);

	x->mapped_bytes = p ? acct_mapped_bytes(p) : 0;
	if (!p || !ckpt_due(p, &e->rec, pol) || l->n >= l->cap)
		return;
	ckpt_fill(&l->row[l->n++], p, e->session, &e->rec);
	p->ckpt_calls = 0;
	p->ckpt_taken = true;
	p->ckpt_ts_ns = e->rec.ts_ns;
}

struct snap_take {
	struct acct *a;
	struct ckpt_list *l;
	const struct qent *e;
	uint64_t ts_ns;
	size_t first;
	int rc;
};

static void snap_row(uint32_t pid, uint64_t start_ns, void *arg)
{
	struct snap_take *t = arg;
	const struct acct_proc *p = acct_lookup(t->a, pid, start_ns);
	struct ckpt_list *l = t->l;

	if (!p || t->rc)
		return;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		struct ckpt *row = realloc(l->row, cap * sizeof(*row));

		if (!row) {
			t->rc = -ENOMEM;
			return;
		}
		l->row = row;
		l->cap = cap;
	}
	ckpt_fill(&l->row[l->n], p, t->e->session, &t->e->rec);
	l->row[l->n++].ts_ns = t->ts_ns;
}

/* The newest call of a live process acct holds: a session's snapshots
 * start no earlier (a restarted lector holds the state of calls it skips as
 * committed already, folded by the run before). */
static void newest_call(uint32_t pid, uint64_t start_ns, void *arg)
{
	struct snap_take *t = arg;
	const struct acct_proc *p = acct_lookup(t->a, pid, start_ns);

	if (p && p->last_seen_ns > t->ts_ns)
		t->ts_ns = p->last_seen_ns;
}

int snap_after(struct acct *a, const struct qent *e, struct snap_state *s, struct ckpt_list *l,
	       const struct ckpt_policy *pol)
{
	struct snap_take t = {.a = a, .l = l, .e = e, .first = l->n};
	size_t held;

	if (!pol->snap_calls)
		return 0;
	if (e->session != s->session) {
		*s = (struct snap_state){.session = e->session};
		acct_each_live(a, newest_call, &t);
		s->max_ts = t.ts_ns;
	}
	s->calls++;
	s->max_ts = e->rec.ts_ns > s->max_ts ? e->rec.ts_ns : s->max_ts;
	/* N calls per process acct holds now: at most about a row per N calls */
	held = acct_held_count(a);
	if (s->calls < (uint64_t)pol->snap_calls * (held ? held : 1))
		return 0;
	t.ts_ns = s->max_ts;
	acct_each_live(a, snap_row, &t);
	if (t.rc) {
		l->n = t.first;
		return t.rc;
	}
	s->calls = 0;
	return 0;
}
