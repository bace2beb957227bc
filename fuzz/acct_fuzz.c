/*
 * acct_fuzz.c - libFuzzer harness of lector's accounting (lector/acct.c)
 * and its range set (lector/range.c) with arbitrary input.
 *
 * Byte 0, bit 0 picks the mode:
 *   0  records: the rest is a stream of 144-byte records (any call, addr,
 *      len, ret, flags...); pid is folded to 4 values and start_ns to 2 so
 *      processes collide and pids get reused; record flags bit 0 makes the
 *      sink "commit" (acct_clean) after the record.
 *   1  ranges: 4-byte ops (add / remove / remove collecting the pieces)
 *      on a 512-page universe placed at 0 or at the top of the address
 *      space, checked page by page against a bitmap; then the blob
 *      round trip and a blob load of the leftover bytes.
 *
 * Invariants: a range set is sorted, disjoint, never adjacent, its total
 * is the sum of its ranges; a removal returns exactly the bytes that were
 * in the set; heap_bytes >= heap_base_bytes (mapped_bytes cannot wrap);
 * failed calls never outnumber calls; exit leaves nothing mapped; the
 * process returned is the record's; no UB (UBSan aborts).
 */
#include <stdint.h>
#include <string.h>

#include "acct.h"
#include "fuzz_util.h"

#define PAGE	 4096ULL
#define UNIVERSE 512

static void check_set(const struct range_set *s)
{
	uint64_t total = 0;

	for (size_t i = 0; i < s->n; i++) {
		FUZZ_ASSERT(s->r[i].start < s->r[i].end, "range %zu is empty or reversed", i);
		FUZZ_ASSERT(i == 0 || s->r[i - 1].end < s->r[i].start,
			    "ranges %zu and %zu overlap or touch", i - 1, i);
		total += s->r[i].end - s->r[i].start;
	}
	FUZZ_ASSERT(total == s->total_bytes, "total_bytes %llu, ranges sum to %llu",
		    (unsigned long long)s->total_bytes, (unsigned long long)total);
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

static void range_op(struct range_set *s, uint8_t *model, uint64_t base, const uint8_t *op)
{
	uint64_t first = op[1] | (op[3] & 1u) << 8, pages = op[2];
	uint64_t start = base + first * PAGE, end = start + pages * PAGE, had = 0;
	struct range_set out;
	int64_t removed;

	if (first + pages > UNIVERSE)
		pages = UNIVERSE - first, end = start + pages * PAGE;
	for (uint64_t i = first; i < first + pages; i++)
		had += model[i];
	range_set_init(&out);
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
			check_set(&out);
			FUZZ_ASSERT(out.total_bytes == had * PAGE, "pieces hold %llu of %llu bytes",
				    (unsigned long long)out.total_bytes,
				    (unsigned long long)(had * PAGE));
		}
		memset(model + first, 0, pages);
	}
	range_set_free(&out);
}

static void check_model(const struct range_set *s, const uint8_t *model, uint64_t base)
{
	uint8_t seen[UNIVERSE] = {0};

	check_set(s);
	for (size_t i = 0; i < s->n; i++)
		for (uint64_t a = s->r[i].start; a < s->r[i].end; a += PAGE) {
			FUZZ_ASSERT(a >= base && (a - base) / PAGE < UNIVERSE,
				    "page outside universe");
			seen[(a - base) / PAGE] = 1;
		}
	FUZZ_ASSERT(!memcmp(seen, model, UNIVERSE), "range set differs from the page model");
}

static void fuzz_ranges(const uint8_t *data, size_t size, uint64_t base)
{
	struct range_set s, back;
	uint8_t model[UNIVERSE] = {0};
	unsigned char *blob;
	size_t off = 0;

	range_set_init(&s);
	range_set_init(&back);
	for (; off + 4 <= size && data[off] != 0xff; off += 4) {
		range_op(&s, model, base, data + off);
		check_model(&s, model, base);
	}
	blob = malloc(range_set_blob_len(&s) + 1);
	range_set_to_blob(&s, blob);
	FUZZ_ASSERT(range_set_from_blob(&back, blob, range_set_blob_len(&s)) == 0, "blob reload");
	check_model(&back, model, base);
	free(blob);
	/* a blob from storage with any bytes: refused (odd length) or a valid set */
	if (off < size && range_set_from_blob(&back, data + off + 1, size - off - 1) == 0)
		check_set(&back);
	range_set_free(&s);
	range_set_free(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		fuzz_ranges(data + 1, size - 1, data[0] & 2 ? 0 - (UNIVERSE + 1) * PAGE : 0);
	else
		fuzz_records(data + 1, size - 1);
	return 0;
}
