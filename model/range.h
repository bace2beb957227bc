/*
 * range.h - a set of disjoint address ranges [start, end), kept sorted.
 *
 * Backs per-process mapped_bytes: which bytes were mapped while memprobe
 * watched and are still mapped, each range with the attributes of the
 * call that made it (range_types.h: the ledger, table process_ranges).
 * Removing a range that is only partly in the set (memory mapped before
 * capture began) removes only the overlap, so the total can never go
 * negative.  An operation costs O(log n) plus the ranges it removes,
 * however many ranges the process holds (up to vm.max_map_count, 65530 by
 * default): a sorted array while small, a balanced tree once large.
 */
#ifndef MEMPROBE_RANGE_H
#define MEMPROBE_RANGE_H

#include "range_types.h"

void range_set_init(struct range_set *s);
void range_set_free(struct range_set *s);
void range_set_clear(struct range_set *s);

/* Add [start, end) made by the call attr says, replacing whatever was
 * there; merges with a neighbour it continues (range_continues), never
 * with another call's.  -ENOMEM on allocation failure. */
int range_add_attr(struct range_set *s, uint64_t start, uint64_t end,
		   const struct range_attr *attr);
/* Add [start, end) without attributes (offset = start, so such ranges merge
 * with each other as one call's would): tests and benchmarks. */
int range_add(struct range_set *s, uint64_t start, uint64_t end);

/* Remove [start, end); returns the bytes that were in the set.  A range
 * partly inside is cut: what remains keeps its attributes (the right
 * piece's offset grown by the cut).  If out is not NULL, the removed
 * pieces, with their attributes, are appended to it in address order (for
 * mremap moves). */
int64_t range_remove(struct range_set *s, uint64_t start, uint64_t end, struct range_list *out);

/* Call fn for each range in address order; stops at, and returns, the
 * first non-zero result. */
int range_set_each(const struct range_set *s, int (*fn)(void *arg, const struct range *r),
		   void *arg);

void range_list_free(struct range_list *l);

/* Log the set's changes from now on. */
void range_log_start(struct range_set *s);
/* Keep only the last entry per start, in start order; returns how many. */
size_t range_log_compact(struct range_set *s);
/* The changes are stored: forget them. */
void range_log_reset(struct range_set *s);

#endif
