/*
 * acct-test.c - unit tests of lector's accounting rules (model/acct.c,
 * model/range.c) on synthetic records: the edge cases README.md "What the
 * numbers mean" names, each checked against numbers worked out by hand.
 * Prints TAP.
 */
#include <stdio.h>
#include <string.h>

#include "acct.h"
#include "acct_inspect.h"

#define P 4096ULL

static int n_test, n_fail;

static void check(int ok, const char *what, long long got, long long want)
{
	n_test++;
	if (ok) {
		printf("ok %d - %s\n", n_test, what);
	} else {
		n_fail++;
		printf("not ok %d - %s (got %lld, want %lld)\n", n_test, what, got, want);
	}
}

#define EQ(what, got, want)                                                                        \
	check((long long)(got) == (long long)(want), what, (long long)(got), (long long)(want))

static struct memprobe_record rec(uint32_t pid, uint64_t start_ns, int call, uint64_t addr,
				  uint64_t len, int64_t ret)
{
	struct memprobe_record r;

	memset(&r, 0, sizeof(r));
	r.pid = r.tid = pid;
	r.start_ns = start_ns;
	r.call = (uint16_t)call;
	r.addr = addr;
	r.len = len;
	r.ret = ret;
	r.fd = -1;
	r.total_vm_bytes = 1000 * P;
	strcpy(r.comm, "t");
	return r;
}

static struct acct_proc *apply(struct acct *a, struct memprobe_record r)
{
	return acct_apply(a, &r);
}

static struct acct_proc *mremap_rec(struct acct *a, uint64_t old, uint64_t old_len,
				    uint64_t new_len, int64_t ret)
{
	struct memprobe_record r = rec(1, 7, MP_CALL_MREMAP, old, old_len, ret);

	r.new_len = new_len;
	return acct_apply(a, &r);
}

static void test_mmap_munmap(struct acct *a)
{
	struct acct_proc *p = apply(a, rec(1, 7, MP_CALL_MMAP, 0, 10000, 0x100000));

	EQ("mmap adds its length to net_bytes", p->net_bytes, 10000);
	EQ("mmap maps whole pages (mapped_bytes)", acct_mapped_bytes(p), 3 * P);
	p = apply(a, rec(1, 7, MP_CALL_MMAP, 0, 4 * P, -12));
	EQ("failed mmap changes no total", p->net_bytes, 10000);
	EQ("failed mmap is counted as failed", p->count[ACCT_N_FAILED], 1);
	EQ("failed mmap is counted as an mmap", p->count[ACCT_N_MMAP], 2);
	p = apply(a, rec(1, 7, MP_CALL_MUNMAP, 0x100000 + P, P, 0));
	EQ("partial munmap removes only the middle page", acct_mapped_bytes(p), 2 * P);
	EQ("partial munmap subtracts its length from net_bytes", p->net_bytes,
	   10000 - (long long)P);
	p = apply(a, rec(1, 7, MP_CALL_MUNMAP, 0x100000, 3 * P, -22));
	EQ("failed munmap changes nothing", acct_mapped_bytes(p), 2 * P);
}

static void test_fixed_and_premapped(struct acct *a)
{
	struct acct_proc *p = apply(a, rec(1, 7, MP_CALL_MMAP, 0x200000, 4 * P, 0x200000));
	uint64_t before = acct_mapped_bytes(p);

	p = apply(a, rec(1, 7, MP_CALL_MMAP, 0x201000, 2 * P, 0x201000));
	EQ("MAP_FIXED over a watched mapping does not double mapped_bytes", acct_mapped_bytes(p),
	   before);
	p = apply(a, rec(1, 7, MP_CALL_MUNMAP, 0x900000, 64 * P, 0));
	EQ("munmap of memory mapped before capture leaves mapped_bytes", acct_mapped_bytes(p),
	   before);
	p = apply(a, rec(1, 7, MP_CALL_MUNMAP, 0x1f0000, 100 * P, 0));
	EQ("munmap over watched + unwatched memory removes only the watched part",
	   acct_mapped_bytes(p), before - 4 * P);
}

static void test_mremap(struct acct *a)
{
	struct acct_proc *p;
	uint64_t base;
	int64_t net;

	p = apply(a, rec(1, 7, MP_CALL_MUNMAP, 0, 0x10000000, 0)); /* start from empty */
	base = acct_mapped_bytes(p);
	EQ("munmap of everything empties mapped_bytes", base, 0);
	net = apply(a, rec(1, 7, MP_CALL_MMAP, 0, 4 * P, 0x300000))->net_bytes;
	p = mremap_rec(a, 0x300000, 4 * P, 8 * P, 0x300000);
	EQ("mremap grow in place maps the new size", acct_mapped_bytes(p), 8 * P);
	EQ("mremap is not in net_bytes (mmap - munmap only)", p->net_bytes, net);
	p = mremap_rec(a, 0x300000, 8 * P, 2 * P, 0x300000);
	EQ("mremap shrink unmaps the tail", acct_mapped_bytes(p), 2 * P);
	p = mremap_rec(a, 0x300000, 2 * P, 2 * P, 0x500000);
	EQ("mremap move keeps the size", acct_mapped_bytes(p), 2 * P);
	p = apply(a, rec(1, 7, MP_CALL_MUNMAP, 0x500000, 2 * P, 0));
	EQ("the moved range lives at the new address", acct_mapped_bytes(p), 0);
	p = mremap_rec(a, 0x700000, 2 * P, 6 * P, 0x800000);
	EQ("mremap grow of a pre-capture mapping counts only the growth", acct_mapped_bytes(p),
	   4 * P);
	p = mremap_rec(a, 0x800000, 6 * P, 9 * P, -12);
	EQ("failed mremap changes nothing", acct_mapped_bytes(p), 4 * P);
}

static void test_brk(struct acct *a)
{
	struct memprobe_record r = rec(2, 9, MP_CALL_BRK, 0, 100 * P, 0x5000000);
	struct acct_proc *p = acct_apply(a, &r);

	EQ("first brk is a baseline: pre-capture heap not counted", acct_mapped_bytes(p), 0);
	r = rec(2, 9, MP_CALL_BRK, 0x5000000 + 16 * P, 116 * P, 0x5000000 + 16 * P);
	p = acct_apply(a, &r);
	EQ("brk growth counts in mapped_bytes", acct_mapped_bytes(p), 16 * P);
	EQ("brk is not in net_bytes (mmap - munmap only)", p->net_bytes, 0);
	r = rec(2, 9, MP_CALL_BRK, 1, 116 * P, 0x5000000 + 16 * P);
	p = acct_apply(a, &r);
	EQ("refused brk is counted as failed", p->count[ACCT_N_FAILED], 1);
	EQ("refused brk changes no total", acct_mapped_bytes(p), 16 * P);
	r = rec(2, 9, MP_CALL_BRK, 0x4000000, 50 * P, 0x4000000);
	p = acct_apply(a, &r);
	EQ("brk below the baseline never goes negative", acct_mapped_bytes(p), 0);
}

static void test_lifecycle(struct acct *a)
{
	struct acct_proc *p = apply(a, rec(3, 11, MP_CALL_MMAP, 0, 8 * P, 0x100000));
	struct memprobe_record r;

	p = apply(a, rec(3, 11, MP_CALL_EXEC, 0, 0, 0));
	EQ("exec resets mapped_bytes", acct_mapped_bytes(p), 0);
	EQ("exec resets net_bytes", p->net_bytes, 0);
	apply(a, rec(3, 11, MP_CALL_MMAP, 0, 8 * P, 0x100000));
	r = rec(3, 11, MP_CALL_EXIT, 0, 0, 0);
	p = acct_apply(a, &r);
	EQ("exit releases mapped_bytes", acct_mapped_bytes(p), 0);
	EQ("exit marks the process exited", p->exited, 1);
	EQ("exit sets vm_size_bytes to 0", p->vm_size_bytes, 0);
	acct_clean(a);
	EQ("an exited process is forgotten after its row is written", acct_find(a, 3) == NULL, 1);
	apply(a, rec(4, 20, MP_CALL_MMAP, 0, 8 * P, 0x100000));
	acct_clean(a);
	p = apply(a, rec(4, 21, MP_CALL_MMAP, 0, P, 0x200000));
	EQ("pid reuse (new start_ns) starts a new process", acct_mapped_bytes(p), P);
	EQ("the new process is keyed by its own start time", p->start_ns, 21);
	{
		int old_exited = 0;

		for (struct acct_proc *d = acct_dirty_list(a); d; d = d->next_dirty)
			if (d->pid == 4 && d->start_ns == 20)
				old_exited = d->exited && acct_mapped_bytes(d) == 0;
		EQ("the reused pid's old process is closed out as exited", old_exited, 1);
	}
	acct_clean(a);
}

/* r with memory fields: anon, file, shmem, swap in pages, at ts_ns. */
static struct memprobe_record mem_rec(uint32_t pid, int call, uint64_t ts_ns, uint64_t anon)
{
	struct memprobe_record r = rec(pid, 31, call, 0, 0, 0);

	r.ts_ns = ts_ns;
	r.rss_anon_bytes = anon * P;
	r.rss_file_bytes = 2 * P;
	r.rss_shmem_bytes = 3 * P;
	r.swap_bytes = 4 * P;
	r.cgroup_id = 77;
	return r;
}

static void test_mem(struct acct *a)
{
	struct memprobe_record r = mem_rec(5, MP_CALL_MMAP, 1000, 10);
	struct acct_proc *p = acct_apply(a, &r);
	struct acct_mem m = {.rss_anon_bytes = 50 * P, .ts_ns = 2000};

	EQ("a call's record sets the process's resident anon bytes", p->mem.rss_anon_bytes, 10 * P);
	EQ("... file, shmem and swap bytes", p->mem.rss_file_bytes + p->mem.rss_shmem_bytes +
						 p->mem.swap_bytes, 9 * P);
	EQ("... the time of that reading (the record's ts_ns)", p->mem.ts_ns, 1000);
	EQ("... and the cgroup", p->cgroup_id, 77);
	acct_clean(a);
	EQ("acct_lookup finds the live process by pid and start time", acct_lookup(a, 5, 31) == p, 1);
	EQ("... and not another start time", acct_lookup(a, 5, 32) == NULL, 1);
	bool taken = acct_set_mem(a, p, &m);

	EQ("a newer /proc reading replaces the record's", taken, 1);
	EQ("... and marks the process dirty", acct_dirty_list(a) == p, 1);
	EQ("... with its values", p->mem.rss_anon_bytes + p->mem.swap_bytes, 50 * P);
	m.ts_ns = 1500;
	taken = acct_set_mem(a, p, &m);
	EQ("an older reading is ignored", taken, 0);
	r = mem_rec(5, MP_CALL_MUNMAP, 1800, 11);
	acct_apply(a, &r);
	EQ("a record older than the /proc reading leaves the reading", p->mem.rss_anon_bytes, 50 * P);
	r = mem_rec(5, MP_CALL_OOM_KILL, 3000, 12);
	acct_apply(a, &r);
	EQ("an oom_kill record sets its victim's memory", p->mem.rss_anon_bytes, 12 * P);
	EQ("... and counts no call", p->count[ACCT_N_MMAP] + p->count[ACCT_N_MUNMAP], 2);
	r = mem_rec(5, MP_CALL_EXIT, 4000, 0);
	acct_apply(a, &r);
	EQ("exit: nothing resident or swapped", p->mem.rss_anon_bytes + p->mem.rss_file_bytes +
						   p->mem.rss_shmem_bytes + p->mem.swap_bytes, 0);
	EQ("... as of the exit", p->mem.ts_ns, 4000);
	m.ts_ns = 5000;
	taken = acct_set_mem(a, p, &m);
	EQ("an exited process takes no /proc reading", taken, 0);
	acct_clean(a);
}

/* The sampler reads every live process each pass; a reading that finds
 * what is stored must not rewrite the row each time (idle processes would
 * cost the database an upsert each per pass), only restate it a minute on. */
static void test_mem_unchanged(struct acct *a)
{
	struct memprobe_record r = mem_rec(6, MP_CALL_MMAP, 1000, 10);
	struct acct_proc *p = acct_apply(a, &r);
	struct acct_mem m = {.rss_anon_bytes = 10 * P, .rss_file_bytes = 2 * P,
			     .rss_shmem_bytes = 3 * P, .swap_bytes = 4 * P,
			     .ts_ns = 1000 + 59 * 1000000000ULL};
	bool taken;

	acct_clean(a);
	taken = acct_set_mem(a, p, &m);
	EQ("a reading equal to what is held, within a minute of it, is not taken (no row rewrite)",
	   taken + (acct_dirty_list(a) != NULL), 0);
	EQ("... and the held reading keeps its time", p->mem.ts_ns, 1000);
	m.ts_ns = 1000 + 60 * 1000000000ULL;
	taken = acct_set_mem(a, p, &m);
	EQ("... a minute after it, the same values are restated", taken, 1);
	m.ts_ns += 1;
	m.swap_bytes = 0;
	taken = acct_set_mem(a, p, &m);
	EQ("... and a changed value is taken at once", taken, 1);
	r = mem_rec(6, MP_CALL_EXIT, m.ts_ns + 1, 0);
	acct_apply(a, &r);
	acct_clean(a);
}

static void test_ranges(void)
{
	struct range_set s;

	range_set_init(&s);
	range_add(&s, 0x1000, 0x2000);
	range_add(&s, 0x2000, 0x3000);
	EQ("adjacent ranges merge", s.n, 1);
	range_remove(&s, 0x1800, 0x2800, NULL);
	EQ("removing the middle splits a range", s.n, 2);
	EQ("split keeps the bytes outside the hole", s.total_bytes, 0x1000);
	range_set_free(&s);
}

/* The stored copy of a set: one row per range, keyed by start, with its
 * attributes, as the sink keeps it (table process_ranges). */
#define STORED_MAX 4096
static struct range stored[STORED_MAX];
static size_t n_stored;

static int attr_eq(const struct range_attr *x, const struct range_attr *y)
{
	return x->created_ns == y->created_ns && x->offset_bytes == y->offset_bytes &&
	       x->file_ino == y->file_ino && x->prot == y->prot && x->flags == y->flags &&
	       x->file_dev == y->file_dev && x->via == y->via;
}

static void stored_put(const struct range *r)
{
	size_t i = 0;

	while (i < n_stored && stored[i].start != r->start)
		i++;
	if (!r->end) { /* delete */
		if (i < n_stored)
			stored[i] = stored[--n_stored];
		return;
	}
	if (i == n_stored && n_stored < STORED_MAX)
		n_stored++;
	stored[i] = *r;
}

/* The set's ranges, in order, into a plain array (at most max). */
struct collect {
	struct range r[STORED_MAX];
	size_t n;
};

static int collect_one(void *arg, const struct range *r)
{
	struct collect *c = arg;

	if (c->n == STORED_MAX)
		return -1;
	c->r[c->n++] = *r;
	return 0;
}

/* What the sink does at a commit; 1 when the stored copy equals the set. */
static int store_and_compare(struct range_set *s)
{
	static struct collect c;
	size_t same = 0;

	range_log_compact(s);
	if (s->log.cleared || s->log.overflow)
		n_stored = 0;
	c.n = 0;
	range_set_each(s, collect_one, &c);
	if (s->log.overflow)
		for (size_t i = 0; i < c.n; i++)
			stored_put(&c.r[i]);
	else
		for (size_t i = 0; i < s->log.n; i++)
			stored_put(&s->log.e[i]);
	range_log_reset(s);
	for (size_t i = 0; i < c.n; i++)
		for (size_t j = 0; j < n_stored; j++)
			same += stored[j].start == c.r[i].start && stored[j].end == c.r[i].end &&
				attr_eq(&stored[j].attr, &c.r[i].attr);
	return same == c.n && n_stored == c.n && c.n == s->n;
}

/* 1 when the set is exactly the maximal runs of the page model. */
#define MODEL_PAGES 600
static int matches_model(const struct range_set *s, const unsigned char *model)
{
	static struct collect c;
	size_t k = 0;
	uint64_t total = 0;

	c.n = 0;
	range_set_each(s, collect_one, &c);
	for (uint64_t i = 0; i < MODEL_PAGES; i++) {
		if (!model[i] || (i > 0 && model[i - 1]))
			continue; /* not the first page of a run */
		uint64_t j = i;

		while (j < MODEL_PAGES && model[j])
			j++;
		if (k == c.n || c.r[k].start != i * P || c.r[k].end != j * P)
			return 0;
		total += (j - i) * P;
		k++;
	}
	return k == c.n && c.n == s->n && total == s->total_bytes;
}

/* Random adds, removes and clears over MODEL_PAGES pages, against the page
 * model, with a commit every few calls.  array_max decides the form: a
 * small one makes the set switch to a tree (and back at each clear).
 * Returns the number of calls whose result differed. */
static uint64_t random_ops(struct range_set *s, unsigned char *model, int ops, uint64_t x,
			   uint64_t *commits, uint64_t *bad)
{
	uint64_t wrong = 0;

	for (int op = 0; op < ops; op++) {
		uint64_t r, first, pages, had = 0;

		x = x * 6364136223846793005ULL + 1442695040888963407ULL; /* LCG */
		r = x >> 33;
		first = r % 512;
		pages = 1 + (r >> 12) % (r % 2 ? 8 : 16);
		for (uint64_t i = first; i < first + pages; i++)
			had += model[i];
		if (r % 1000 == 0) {
			range_set_clear(s); /* exit, exec */
			memset(model, 0, MODEL_PAGES);
		} else if (r % 2) {
			range_add(s, first * P, (first + pages) * P);
			memset(model + first, 1, pages);
		} else {
			wrong += range_remove(s, first * P, (first + pages) * P, NULL) !=
				 (int64_t)(had * P);
			memset(model + first, 0, pages);
		}
		wrong += !matches_model(s, model);
		if ((r >> 20) % 7 == 0) {
			(*commits)++;
			*bad += !store_and_compare(s);
		}
	}
	return wrong;
}

static void small_changes(uint64_t n, const char *form);

static void test_range_log(void)
{
	static unsigned char model[MODEL_PAGES];
	struct range_set s;
	uint64_t commits = 0, bad = 0, wrong;

	range_set_init(&s);
	range_log_start(&s);
	n_stored = 0;
	wrong = random_ops(&s, model, 50000, 12345, &commits, &bad);
	EQ("random adds, removes and clears (sorted array): the set is always the maximal runs of "
	   "a page model, and each removal returns the bytes the model had there",
	   wrong, 0);
	EQ("the stored copy, kept by applying only the logged changes, equals the set after every "
	   "commit",
	   bad, 0);
	EQ("... over many commits", commits > 5000, 1);
	range_set_free(&s);
	memset(model, 0, sizeof(model));
	range_set_init(&s);
	s.array_max = 4; /* a tree from the fifth range on */
	range_log_start(&s);
	n_stored = commits = bad = 0;
	wrong = random_ops(&s, model, 50000, 777, &commits, &bad);
	EQ("the same with the set switching to a tree past 4 ranges: always the page model", wrong,
	   0);
	EQ("... and the stored copy equals the set after every commit", bad, 0);
	range_set_free(&s);
	small_changes(1000, "a sorted array");
	small_changes(3000, "a tree");
}

/* n separate one-page ranges; one page unmapped and mapped again, then a
 * munmap over 10 ranges: the log holds what changed, not n rows. */
static void small_changes(uint64_t n, const char *form)
{
	struct range_set s;
	char what[160];

	range_set_init(&s);
	range_log_start(&s);
	n_stored = 0;
	for (uint64_t i = 0; i < n; i++)
		range_add(&s, 2 * i * P, (2 * i + 1) * P);
	store_and_compare(&s);
	snprintf(what, sizeof(what), "%llu separate ranges are kept as %s",
		 (unsigned long long)n, form);
	EQ(what, (s.tree != NULL) == (n > RANGE_ARRAY_MAX), 1);
	range_remove(&s, 500 * 2 * P, (500 * 2 + 1) * P, NULL);
	range_add(&s, 500 * 2 * P, (500 * 2 + 1) * P);
	snprintf(what, sizeof(what), "%s: munmap + mmap of one page among %llu ranges logs one row",
		 form, (unsigned long long)n);
	EQ(what, range_log_compact(&s), 1);
	range_remove(&s, 10 * P, 30 * P, NULL);
	snprintf(what, sizeof(what), "%s: a munmap over 10 ranges logs their 10 rows", form);
	EQ(what, range_log_compact(&s), 11);
	snprintf(what, sizeof(what), "%s: ... and the stored copy still equals the set", form);
	EQ(what, store_and_compare(&s), 1);
	range_set_free(&s);
}

/* The ledger (README, "What the numbers mean"): each range keeps the
 * attributes of the call that gave it its place. */

/* An mmap record with every attribute set, at ts_ns. */
static struct memprobe_record mmap_rec(uint32_t pid, uint64_t ts_ns, uint64_t at, uint64_t len,
				       uint64_t offset)
{
	struct memprobe_record r = rec(pid, 50, MP_CALL_MMAP, 0, len, (int64_t)at);

	r.ts_ns = ts_ns;
	r.prot = 1;   /* PROT_READ */
	r.mflags = 2; /* MAP_PRIVATE */
	r.file_dev = 0x801;
	r.file_ino = 4242;
	r.offset = offset;
	return r;
}

/* The range of the set at addr (a copy; end 0 when none starts there). */
struct find_at {
	uint64_t addr;
	struct range r;
};

static int find_one(void *arg, const struct range *r)
{
	struct find_at *f = arg;

	if (r->start == f->addr)
		f->r = *r;
	return 0;
}

static struct range range_at(const struct range_set *s, uint64_t addr)
{
	struct find_at f = {.addr = addr};

	range_set_each(s, find_one, &f);
	return f.r;
}

/* 1 when the range at start is [start, end) with the attributes wanted. */
static int has(const struct range_set *s, uint64_t start, uint64_t end, uint64_t created_ns,
	       uint64_t offset, int via)
{
	struct range r = range_at(s, start);

	return r.end == end && r.attr.created_ns == created_ns && r.attr.offset_bytes == offset &&
	       r.attr.via == via;
}

/* The whole ledger story on process pid, its set a sorted array or (tree)
 * a tree from the third range on. */
static void ledger_story(struct acct *a, uint32_t pid, int tree)
{
	const char *form = tree ? " (tree)" : "";
	struct memprobe_record r;
	struct acct_proc *p;
	struct range x;
	char what[200];

#define LEDGER_EQ(text, got, want)                                                                 \
	do {                                                                                       \
		snprintf(what, sizeof(what), "%s%s", text, form);                                  \
		EQ(what, got, want);                                                               \
	} while (0)
	p = apply(a, mmap_rec(pid, 100, 0x100000, 4 * P, 8 * P));
	if (tree)
		p->mapped.array_max = 2;
	p = apply(a, mmap_rec(pid, 200, 0x100000 + 4 * P, 4 * P, 12 * P)); /* same file run on */
	LEDGER_EQ("two adjacent mmaps of one file, the second running on at the first's end, stay "
		  "two ranges",
		  p->mapped.n, 2);
	x = range_at(&p->mapped, 0x100000);
	LEDGER_EQ("a range carries its call's time, prot, flags, file and offset",
		  x.attr.created_ns == 100 && x.attr.prot == 1 && x.attr.flags == 2 &&
		      x.attr.file_dev == 0x801 && x.attr.file_ino == 4242 &&
		      x.attr.offset_bytes == 8 * P && x.attr.via == MP_VIA_MMAP,
		  1);
	r = mmap_rec(pid, 200, 0x100000 + 8 * P, 2 * P, 12 * P); /* same ns, offset not run on */
	p = apply(a, r);
	LEDGER_EQ("... nor does a third call in the same ns whose offset does not run on",
		  p->mapped.n, 3);
	LEDGER_EQ("mapped_bytes is the sum of the ranges, as before the ledger",
		  acct_mapped_bytes(p), 10 * P);
	p = apply(a, rec(pid, 50, MP_CALL_MUNMAP, 0x100000 + P, P, 0));
	LEDGER_EQ("a munmap inside a range splits it: the left piece keeps its attributes",
		  has(&p->mapped, 0x100000, 0x100000 + P, 100, 8 * P, MP_VIA_MMAP), 1);
	LEDGER_EQ("... the right piece too, its offset grown by the cut",
		  has(&p->mapped, 0x100000 + 2 * P, 0x100000 + 4 * P, 100, 10 * P, MP_VIA_MMAP), 1);
	LEDGER_EQ("... and its file", range_at(&p->mapped, 0x100000 + 2 * P).attr.file_ino, 4242);
	p = apply(a, rec(pid, 50, MP_CALL_MUNMAP, 0x100000 + 4 * P, P, 0));
	LEDGER_EQ("a munmap of a range's head leaves its tail with the offset grown",
		  has(&p->mapped, 0x100000 + 5 * P, 0x100000 + 8 * P, 200, 13 * P, MP_VIA_MMAP), 1);
	/* move [2P, 4P) of the first call and its neighbour [5P, 8P) */
	r = rec(pid, 50, MP_CALL_MREMAP, 0x100000 + 2 * P, 6 * P, 0x900000);
	r.new_len = 6 * P;
	r.ts_ns = 300;
	p = apply(a, r);
	LEDGER_EQ(
	    "mremap moves each piece with its own attributes, via mremap",
	    has(&p->mapped, 0x900000, 0x900000 + 2 * P, 100, 10 * P, MP_VIA_MREMAP) &&
		has(&p->mapped, 0x900000 + 3 * P, 0x900000 + 6 * P, 200, 13 * P, MP_VIA_MREMAP),
	    1);
	LEDGER_EQ("... the hole between them stays unknown, nothing is left at the old address",
		  range_at(&p->mapped, 0x900000 + 2 * P).end == 0 &&
		      range_at(&p->mapped, 0x100000 + 2 * P).end == 0 &&
		      range_at(&p->mapped, 0x100000 + 5 * P).end == 0,
		  1);
	LEDGER_EQ("... and the pieces keep their file",
		  range_at(&p->mapped, 0x900000 + 3 * P).attr.file_ino, 4242);
	r = rec(pid, 50, MP_CALL_MREMAP, 0x900000 + 3 * P, 3 * P, 0x900000 + 3 * P);
	r.new_len = 7 * P;
	r.ts_ns = 400;
	p = apply(a, r);
	LEDGER_EQ("mremap growing in place: the grown tail continues the last piece (one range)",
		  has(&p->mapped, 0x900000 + 3 * P, 0x900000 + 10 * P, 200, 13 * P, MP_VIA_MREMAP),
		  1);
	r = rec(pid, 50, MP_CALL_MREMAP, 0x700000, 2 * P, 0xa00000);
	r.new_len = 5 * P;
	r.ts_ns = 500;
	p = apply(a, r);
	x = range_at(&p->mapped, 0xa00000 + 2 * P);
	LEDGER_EQ("mremap of memory the ledger did not know: the growth is made by the mremap "
		  "(its time, via mremap, no prot, flags or file)",
		  has(&p->mapped, 0xa00000 + 2 * P, 0xa00000 + 5 * P, 500, 0, MP_VIA_MREMAP) &&
		      x.attr.prot == 0 && x.attr.flags == 0 && x.attr.file_ino == 0,
		  1);
	r = rec(pid, 50, MP_CALL_MREMAP, 0x100000, P, 0xb00000);
	r.new_len = P;
	r.mflags = 4; /* MREMAP_DONTUNMAP */
	r.ts_ns = 600;
	p = apply(a, r);
	LEDGER_EQ("MREMAP_DONTUNMAP: the old range stays as it was",
		  has(&p->mapped, 0x100000, 0x100000 + P, 100, 8 * P, MP_VIA_MMAP), 1);
	LEDGER_EQ("... and the new one is the old one's, via mremap",
		  has(&p->mapped, 0xb00000, 0xb00000 + P, 100, 8 * P, MP_VIA_MREMAP), 1);
	r = rec(pid, 50, MP_CALL_MREMAP, 0xb00000, P, 0xc00000);
	r.new_len = 9 * P;
	r.ret = -12;
	p = apply(a, r);
	LEDGER_EQ("a failed mremap changes nothing",
		  has(&p->mapped, 0xb00000, 0xb00000 + P, 100, 8 * P, MP_VIA_MREMAP) &&
		      range_at(&p->mapped, 0xc00000).end == 0,
		  1);
	LEDGER_EQ("the set took the form asked", p->mapped.tree != NULL, tree);
	LEDGER_EQ("mapped_bytes after the story is the sum of the ranges", acct_mapped_bytes(p),
		  (1 + 2 + 2 + 7 + 3 + 1) * P);
#undef LEDGER_EQ
}

static void test_ledger(struct acct *a)
{
	struct range_set s;
	struct range_list out = {0};
	const struct range_attr at = {.created_ns = 9, .offset_bytes = 100 * P, .via = MP_VIA_MMAP};

	ledger_story(a, 60, 0);
	ledger_story(a, 61, 1);
	range_set_init(&s);
	range_log_start(&s);
	range_add_attr(&s, 0x10000, 0x10000 + 8 * P, &at);
	range_log_reset(&s);
	range_remove(&s, 0x10000 + 2 * P, 0x10000 + 3 * P, &out);
	EQ("the removed pieces carry their attributes, offset at the piece",
	   out.n == 1 && out.r[0].attr.created_ns == 9 && out.r[0].attr.offset_bytes == 102 * P, 1);
	EQ("a split logs both pieces with their attributes",
	   s.log.n == 2 && s.log.e[1].start == 0x10000 + 3 * P &&
	       s.log.e[1].attr.offset_bytes == 103 * P && s.log.e[1].attr.created_ns == 9,
	   1);
	range_list_free(&out);
	range_set_free(&s);
	EQ("via names, as table process_ranges spells them",
	   !strcmp(mp_via_name(MP_VIA_UNKNOWN), "unknown") &&
	       !strcmp(mp_via_name(MP_VIA_MMAP), "mmap") &&
	       !strcmp(mp_via_name(MP_VIA_MREMAP), "mremap"),
	   1);
}

/* Random mmaps (each its own call: id = its time) and munmaps over
 * MODEL_PAGES pages, against a model that knows which call each page is
 * from: the set must be the maximal runs of one call, each with that
 * call's attributes and the offset of its first page; and the stored copy,
 * kept from the log, equal to it (attributes too) after every commit. */
struct call_model {
	uint32_t id[MODEL_PAGES]; /* the call that mapped each page, 0: none */
	uint64_t first[50001];	  /* each call's first page */
	uint64_t offset[50001];	  /* and its offset */
};

static int matches_ledger(const struct range_set *s, const struct call_model *m)
{
	static struct collect c;
	size_t k = 0;

	c.n = 0;
	range_set_each(s, collect_one, &c);
	for (uint64_t i = 0; i < MODEL_PAGES; i++) {
		uint32_t id = m->id[i];
		uint64_t j = i;

		if (!id || (i > 0 && m->id[i - 1] == id))
			continue; /* not the first page of a run */
		while (j < MODEL_PAGES && m->id[j] == id)
			j++;
		if (k == c.n || c.r[k].start != i * P || c.r[k].end != j * P ||
		    c.r[k].attr.created_ns != id || c.r[k].attr.prot != id % 7 ||
		    c.r[k].attr.offset_bytes != m->offset[id] + (i - m->first[id]) * P)
			return 0;
		k++;
	}
	return k == c.n && c.n == s->n;
}

static uint64_t random_ledger_ops(struct range_set *s, struct call_model *m, uint64_t x,
				  uint64_t *commits, uint64_t *bad)
{
	uint64_t wrong = 0;

	for (uint32_t op = 1; op <= 50000; op++) {
		uint64_t r, first, pages;

		x = x * 6364136223846793005ULL + 1442695040888963407ULL; /* LCG */
		r = x >> 33;
		first = r % 512;
		pages = 1 + (r >> 12) % (r % 2 ? 8 : 16);
		if (r % 2) {
			const struct range_attr at = {.created_ns = op,
						      .offset_bytes = (r >> 20) % 64 * P,
						      .prot = op % 7,
						      .via = MP_VIA_MMAP};

			m->first[op] = first;
			m->offset[op] = at.offset_bytes;
			range_add_attr(s, first * P, (first + pages) * P, &at);
			for (uint64_t i = first; i < first + pages; i++)
				m->id[i] = op;
		} else {
			range_remove(s, first * P, (first + pages) * P, NULL);
			memset(m->id + first, 0, pages * sizeof(m->id[0]));
		}
		wrong += !matches_ledger(s, m);
		if ((r >> 20) % 7 == 0) {
			(*commits)++;
			*bad += !store_and_compare(s);
		}
	}
	return wrong;
}

static void test_random_ledger(void)
{
	static struct call_model m;
	struct range_set s;
	uint64_t commits = 0, bad = 0, wrong;

	for (int tree = 0; tree < 2; tree++) {
		memset(&m, 0, sizeof(m));
		range_set_init(&s);
		if (tree)
			s.array_max = 4;
		range_log_start(&s);
		n_stored = commits = bad = 0;
		wrong = random_ledger_ops(&s, &m, tree ? 99 : 4321, &commits, &bad);
		EQ(tree
		       ? "random mmaps and munmaps, a tree past 4 ranges: each range is one call's "
			 "run with its attributes and offset"
		       : "random mmaps and munmaps (sorted array): each range is one call's run "
			 "(never merged with another call's) with its attributes and offset",
		   wrong, 0);
		EQ(tree ? "... and the stored copy, attributes too, equals the set after every "
			  "commit "
			  "(tree)"
			: "... and the stored copy, attributes too, equals the set after every "
			  "commit",
		   bad, 0);
		range_set_free(&s);
	}
}

static void test_acct_logs(struct acct *a)
{
	struct acct_proc *p = apply(a, rec(9, 90, MP_CALL_MMAP, 0, 4 * P, 0x400000));

	EQ("a new process's ranges log their changes", p->mapped.log.on && p->mapped.log.n == 1, 1);
	acct_clean(a);
	EQ("a commit forgets the logged changes", p->mapped.log.n, 0);
	p = apply(a, rec(9, 90, MP_CALL_EXIT, 0, 0, 0));
	EQ("exit logs 'every range went'", p->mapped.log.cleared, 1);
	acct_clean(a);
	acct_log_ranges(a, false);
	p = apply(a, rec(10, 100, MP_CALL_MMAP, 0, 4 * P, 0x400000));
	EQ("an accounting that stores no ranges (the server's replay) logs none", p->mapped.log.n,
	   0);
	acct_clean(a);
	acct_log_ranges(a, true);
}

int main(void)
{
	struct acct *a;

	if (acct_new(&a) < 0)
		return 1;
	test_mmap_munmap(a);
	test_fixed_and_premapped(a);
	test_mremap(a);
	test_brk(a);
	test_lifecycle(a);
	test_mem(a);
	test_mem_unchanged(a);
	test_ranges();
	test_range_log();
	test_acct_logs(a);
	test_ledger(a);
	test_random_ledger();
	acct_free(a);
	return n_fail ? 1 : 0;
}
