/*
 * range_types.h - the types a range set (range.h) is made of, and the two
 * helpers both of its forms use: the lowest layer, below the sorted array
 * (range.c) and the tree it switches to (range_tree.c).  range.c calls the
 * tree; the tree calls nothing of range.c.  Outside model/, use range.h.
 */
#ifndef MEMPROBE_RANGE_TYPES_H
#define MEMPROBE_RANGE_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

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

/* Append [a, b) to out (NULL: nothing).  Out of memory: the piece is
 * missed (the mremap target then lacks it). */
static inline void range_list_append(struct range_list *out, uint64_t a, uint64_t b)
{
	if (!out)
		return;
	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 8;
		struct range *r = realloc(out->r, cap * sizeof(*r));

		if (!r)
			return;
		out->r = r;
		out->cap = cap;
	}
	out->r[out->n++] = (struct range){a, b};
	out->total_bytes += b - a;
}

/* The range starting at start now ends at end (0: it is gone).  A change
 * that cannot be logged makes the log say "store the whole set". */
static inline void range_log_put(struct range_set *s, uint64_t start, uint64_t end)
{
	struct range_log *l = &s->log;

	if (!l->on || l->overflow)
		return;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct range *e = realloc(l->e, cap * sizeof(*e));

		if (!e) {
			l->overflow = true;
			return;
		}
		l->e = e;
		l->cap = cap;
	}
	l->e[l->n++] = (struct range){start, end};
}

#endif
