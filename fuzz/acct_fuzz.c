/*
 * acct_fuzz.c - libFuzzer harness of lector's accounting (model/acct.c)
 * and its range set (model/range.c) with arbitrary input.
 *
 * Byte 0, bit 0 picks the mode:
 *   0  records: the rest is a stream of 192-byte records (any call, addr,
 *      len, ret, flags...); pid is folded to 4 values and start_ns to 2 so
 *      processes collide and pids get reused; record flags bit 0 makes the
 *      sink "commit" (acct_clean) after the record.
 *   1  ranges: 4-byte ops (add / remove / remove collecting the pieces;
 *      sometimes a clear first, sometimes a "commit" after) on a 512-page
 *      universe, checked page by page against a bitmap.  Bit 1 places the
 *      universe at the top of the address space, bit 2 makes the set a
 *      tree past 4 ranges (not RANGE_ARRAY_MAX).  Each commit applies the
 *      set's change log to a stored copy (one row per range, keyed by
 *      start, as table process_ranges holds it); at the end the stored
 *      rows, loaded back as a restart does, must give the same set.
 *
 * Invariants: a range set is sorted, disjoint, no range continues the one
 * before it (range_continues: those merge; different calls' may touch), its count
 * and total are its ranges'; a removal returns exactly the bytes that were
 * in the set; heap_bytes >= heap_base_bytes (mapped_bytes cannot wrap);
 * failed calls never outnumber calls; exit leaves nothing mapped; the
 * process returned is the record's; no UB (UBSan aborts).
 */
#include <stdint.h>
#include <string.h>

#include "acct.h"
#include "../tests/lector/acct_inspect.h"
#include "fuzz_util.h"

#define PAGE	 4096ULL
#define UNIVERSE 512

struct set_walk {
	struct range prev;
	uint64_t total;
	size_t n;
	bool any;
};

static int check_one(void *arg, const struct range *r)
{
	struct set_walk *w = arg;

	FUZZ_ASSERT(r->start < r->end, "range %zu is empty or reversed", w->n);
	FUZZ_ASSERT(!w->any || w->prev.end < r->start ||
			(w->prev.end == r->start && !range_continues(&w->prev, r)),
		    "ranges %zu and %zu overlap or should have merged", w->n - 1, w->n);
	w->prev = *r;
	w->total += r->end - r->start;
	w->any = true;
	w->n++;
	return 0;
}

static void check_set(const struct range_set *s)
{
	struct set_walk w = {0};

	range_set_each(s, check_one, &w);
	FUZZ_ASSERT(w.n == s->n, "%zu ranges counted as %zu", w.n, s->n);
	FUZZ_ASSERT(w.total == s->total_bytes, "total_bytes %llu, ranges sum to %llu",
		    (unsigned long long)s->total_bytes, (unsigned long long)w.total);
}

static void check_proc(const struct acct_proc *p, const struct memprobe_record *r)
{
	uint64_t calls = p->count[ACCT_N_MMAP] + p->count[ACCT_N_MUNMAP] + p->count[ACCT_N_MREMAP] +
			 p->count[ACCT_N_BRK];

	FUZZ_ASSERT(p->pid == r->pid && p->start_ns == r->start_ns, "wrong process returned");
	check_set(&p->mapped);
	FUZZ_ASSERT(p->heap_bytes >= p->heap_base_bytes, "heap %llu below its base %llu",
		    (unsigned long long)p->heap_bytes, (unsigned long long)p->heap_base_bytes);
	FUZZ_ASSERT(p->count[ACCT_N_FAILED] <= calls, "more failed calls than calls");
	FUZZ_ASSERT(p->comm[MEMPROBE_COMM_LEN] == 0, "comm not terminated");
	if (r->call == MP_CALL_EXIT)
		FUZZ_ASSERT(p->exited && acct_mapped_bytes(p) == 0 && p->net_bytes == 0,
			    "exit left %llu bytes mapped",
			    (unsigned long long)acct_mapped_bytes(p));
}

static void fuzz_records(const uint8_t *data, size_t size)
{
	struct acct *a;

	if (acct_new(&a))
		abort();
	for (size_t off = 0; off < size; off += MEMPROBE_RECORD_SIZE) {
		struct memprobe_record r = {0};
		struct acct_proc *p;
		size_t n = size - off < MEMPROBE_RECORD_SIZE ? size - off : MEMPROBE_RECORD_SIZE;

		memcpy(&r, data + off, n);
		r.pid &= 3;
		r.start_ns &= 1;
		p = acct_apply(a, &r);
		FUZZ_ASSERT(p, "acct_apply failed");
		check_proc(p, &r);
		FUZZ_ASSERT(acct_live_count(a) <= 4, "%zu live processes for 4 pids",
			    acct_live_count(a));
		for (struct acct_proc *d = acct_dirty_list(a); d; d = d->next_dirty)
			check_set(&d->mapped);
		if (r.flags & 1)
			acct_clean(a);
	}
	acct_free(a);
}

static void check_pieces(const struct range_list *out)
{
	uint64_t total = 0;

	for (size_t i = 0; i < out->n; i++) {
		FUZZ_ASSERT(out->r[i].start < out->r[i].end, "piece %zu is empty or reversed", i);
		FUZZ_ASSERT(i == 0 || out->r[i - 1].end < out->r[i].start,
			    "pieces %zu and %zu are out of order or touch", i - 1, i);
		total += out->r[i].end - out->r[i].start;
	}
	FUZZ_ASSERT(total == out->total_bytes, "pieces sum to %llu, total says %llu",
		    (unsigned long long)total, (unsigned long long)out->total_bytes);
}

static void range_op(struct range_set *s, uint8_t *model, uint64_t base, const uint8_t *op)
{
	uint64_t first = op[1] | (op[3] & 1u) << 8, pages = op[2];
	uint64_t start = base + first * PAGE, end = start + pages * PAGE, had = 0;
	struct range_list out = {0};
	int64_t removed;

	if ((op[3] & 0xf0) == 0xf0) { /* exit, exec */
		range_set_clear(s);
		memset(model, 0, UNIVERSE);
	}
	if (first + pages > UNIVERSE)
		pages = UNIVERSE - first, end = start + pages * PAGE;
	for (uint64_t i = first; i < first + pages; i++)
		had += model[i];
	switch (op[0] % 3) {
	case 0:
		FUZZ_ASSERT(range_add(s, start, end) == 0, "range_add failed");
		memset(model + first, 1, pages);
		break;
	default:
		removed = range_remove(s, start, end, op[0] % 3 == 2 ? &out : NULL);
		FUZZ_ASSERT((uint64_t)removed == had * PAGE, "removed %lld bytes, %llu were there",
			    (long long)removed, (unsigned long long)(had * PAGE));
		if (op[0] % 3 == 2) {
			check_pieces(&out);
			FUZZ_ASSERT(out.total_bytes == had * PAGE, "pieces hold %llu of %llu bytes",
				    (unsigned long long)out.total_bytes,
				    (unsigned long long)(had * PAGE));
		}
		memset(model + first, 0, pages);
	}
	range_list_free(&out);
}

struct model_walk {
	uint8_t seen[UNIVERSE];
	uint64_t base;
};

static int mark_pages(void *arg, const struct range *r)
{
	struct model_walk *w = arg;

	for (uint64_t a = r->start; a < r->end; a += PAGE) {
		FUZZ_ASSERT(a >= w->base && (a - w->base) / PAGE < UNIVERSE, "page outside universe");
		w->seen[(a - w->base) / PAGE] = 1;
	}
	return 0;
}

static void check_model(const struct range_set *s, const uint8_t *model, uint64_t base)
{
	struct model_walk w = {.base = base};

	check_set(s);
	range_set_each(s, mark_pages, &w);
	FUZZ_ASSERT(!memcmp(w.seen, model, UNIVERSE), "range set differs from the page model");
}

/* The stored copy: one row per range, keyed by start. */
struct stored {
	struct range row[UNIVERSE];
	size_t n;
};

static void stored_put(struct stored *st, uint64_t start, uint64_t end)
{
	size_t i = 0;

	while (i < st->n && st->row[i].start != start)
		i++;
	if (!end) {
		if (i < st->n)
			st->row[i] = st->row[--st->n];
		return;
	}
	FUZZ_ASSERT(i < st->n || st->n < UNIVERSE, "more stored rows than pages");
	if (i == st->n)
		st->n++;
	st->row[i] = (struct range){.start = start, .end = end};
}

static int put_row(void *arg, const struct range *r)
{
	stored_put(arg, r->start, r->end);
	return 0;
}

/* A commit: what the sink writes (sink_mysql_ranges.c), then forgotten. */
static void store(struct stored *st, struct range_set *s)
{
	range_log_compact(s);
	if (s->log.cleared || s->log.overflow)
		st->n = 0;
	if (s->log.overflow)
		range_set_each(s, put_row, st);
	else
		for (size_t i = 0; i < s->log.n; i++)
			stored_put(st, s->log.e[i].start, s->log.e[i].end);
	range_log_reset(s);
}

static int by_start(const void *x, const void *y)
{
	const struct range *a = x, *b = y;

	return (a->start > b->start) - (a->start < b->start);
}

static void fuzz_ranges(const uint8_t *data, size_t size, uint64_t base, size_t array_max)
{
	static struct stored st;
	struct range_set s, back;
	uint8_t model[UNIVERSE] = {0};

	range_set_init(&s);
	range_set_init(&back);
	s.array_max = array_max;
	range_log_start(&s);
	st.n = 0;
	for (size_t off = 0; off + 4 <= size && data[off] != 0xff; off += 4) {
		range_op(&s, model, base, data + off);
		check_model(&s, model, base);
		if (data[off + 3] & 2)
			store(&st, &s);
	}
	store(&st, &s);
	qsort(st.row, st.n, sizeof(st.row[0]), by_start); /* a restart reads them in key order */
	for (size_t i = 0; i < st.n; i++)
		FUZZ_ASSERT(range_add(&back, st.row[i].start, st.row[i].end) == 0, "reload failed");
	FUZZ_ASSERT(back.n == st.n, "%zu stored rows reload as %zu ranges", st.n, back.n);
	check_model(&back, model, base);
	range_set_free(&s);
	range_set_free(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		fuzz_ranges(data + 1, size - 1, data[0] & 2 ? 0 - (UNIVERSE + 1) * PAGE : 0,
			    data[0] & 4 ? 4 : RANGE_ARRAY_MAX);
	else
		fuzz_records(data + 1, size - 1);
	return 0;
}
