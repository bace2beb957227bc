/*
 * range.h - a set of disjoint address ranges [start, end), kept sorted.
 *
 * Backs per-process mapped_bytes: which bytes were mapped while memprobe
 * watched and are still mapped.  Removing a range that is only partly in
 * the set (memory mapped before capture began) removes only the overlap,
 * so the total can never go negative.  An operation costs O(log n) plus
 * the ranges it removes, however many ranges the process holds (up to
 * vm.max_map_count, 65530 by default): a sorted array while small, a
 * balanced tree once large.
 */
#ifndef MEMPROBE_RANGE_H
#define MEMPROBE_RANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct range {
	uint64_t start;
	uint64_t end; /* exclusive */
};

/* A plain list of ranges, in the order they were appended. */
struct range_list {
	struct range *r;
	size_t n;
	size_t cap;
	uint64_t total_bytes;
};

/* The changes of a set since the sink last stored it, for writing only
 * what changed (sink_mysql_ranges.c, table process_ranges): each entry is
 * (start, end), "the range starting at start now ends at end", or end = 0,
 * "no range starts at start any more".  Later entries win. */
struct range_log {
	struct range *e;
	size_t n;
	size_t cap;
	bool on;       /* changes are logged (a process's set, not a scratch set) */
	bool cleared;  /* every range went before e[0] (exit, exec) */
	bool overflow; /* a change could not be logged: store the whole set */
};

struct range_tree;

/* Up to array_max ranges, a sorted array (binary search, memmove: fastest
 * for the few hundred ranges of most processes); past it, a balanced tree
 * (range_tree.c) until the set is cleared. */
#define RANGE_ARRAY_MAX 1024

struct range_set {
	struct range *r; /* the sorted array, NULL once a tree */
	size_t n;
	size_t cap;
	uint64_t total_bytes; /* sum of (end - start) */
	struct range_tree *tree;
	size_t array_max; /* RANGE_ARRAY_MAX; tests lower it */
	struct range_log log;
};

void range_set_init(struct range_set *s);
void range_set_free(struct range_set *s);
void range_set_clear(struct range_set *s);

/* Add [start, end); merges with neighbours.  -ENOMEM on allocation failure. */
int range_add(struct range_set *s, uint64_t start, uint64_t end);

/* Remove [start, end); returns the bytes that were in the set.  If out is
 * not NULL, the removed pieces are appended to it in address order (for
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
