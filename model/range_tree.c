/*
 * range_tree.c - the balanced tree behind a range set that outgrew its
 * sorted array (range.c switches over at s->array_max ranges), so that a
 * process holding tens of thousands of mappings costs O(log n) per call,
 * not a memmove of all of them.
 *
 * A treap keyed by start: a binary search tree by start, a heap by random
 * priority, so it stays balanced (expected depth O(log n)) whatever order
 * the calls come in; the priorities are seeded from the clock, so a process
 * cannot arrange its calls to unbalance it.  Nodes live in one pool per set
 * and refer to each other by index: no allocation per range, and a pool
 * that grows by realloc leaves indices valid (no pointer into it is kept
 * across an allocation).  Splitting the tree at an address and merging two
 * trees whose keys do not interleave are the only structural operations.
 * Like the array, every change of a range is logged (range_log_put).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "range_tree.h"

#define NIL 0u

struct range_node {
	struct range r;	      /* keyed by r.start */
	uint32_t left, right; /* free nodes chain through left */
	uint32_t prio;
};

struct range_tree {
	struct range_node *node; /* node[0] is "none" */
	uint32_t cap, used, free_list, root;
	uint32_t seed;
};

/* Node i of the set's pool (not kept across node_new: the pool may move). */
static struct range_node *nd(const struct range_set *s, uint32_t i)
{
	return &s->tree->node[i];
}

static uint32_t next_prio(struct range_set *s)
{
	uint32_t x = s->tree->seed; /* xorshift32 */

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return s->tree->seed = x;
}

/* A new node (NIL when out of memory); may move the pool. */
static uint32_t node_new(struct range_set *s, const struct range *r)
{
	uint32_t i = s->tree->free_list;

	if (i) {
		s->tree->free_list = nd(s, i)->left;
	} else {
		if (s->tree->used + 1 >= s->tree->cap) {
			uint32_t cap = s->tree->cap ? 2 * s->tree->cap : 8;
			struct range_node *nn =
			    cap > s->tree->cap ? realloc(s->tree->node, cap * sizeof(*nn)) : NULL;

			if (!nn)
				return NIL;
			s->tree->node = nn;
			s->tree->cap = cap;
		}
		i = ++s->tree->used;
	}
	*nd(s, i) = (struct range_node){*r, NIL, NIL, next_prio(s)};
	return i;
}

static void node_free(struct range_set *s, uint32_t i)
{
	nd(s, i)->left = s->tree->free_list;
	s->tree->free_list = i;
}

/* Split tree t: *l gets the ranges starting below key, *r the others. */
static void split(struct range_set *s, uint32_t t, uint64_t key, uint32_t *l, uint32_t *r)
{
	if (!t) {
		*l = *r = NIL;
	} else if (nd(s, t)->r.start < key) {
		split(s, nd(s, t)->right, key, &nd(s, t)->right, r);
		*l = t;
	} else {
		split(s, nd(s, t)->left, key, l, &nd(s, t)->left);
		*r = t;
	}
}

/* Join two trees, every start in a below every start in b. */
static uint32_t merge(struct range_set *s, uint32_t a, uint32_t b)
{
	uint32_t t;

	if (!a || !b)
		return a ? a : b;
	if (nd(s, a)->prio > nd(s, b)->prio) {
		t = merge(s, nd(s, a)->right, b);
		nd(s, a)->right = t;
		return a;
	}
	t = merge(s, a, nd(s, b)->left);
	nd(s, b)->left = t;
	return b;
}

static uint32_t first_of(const struct range_set *s, uint32_t t)
{
	while (t && nd(s, t)->left)
		t = nd(s, t)->left;
	return t;
}

static uint32_t last_of(const struct range_set *s, uint32_t t)
{
	while (t && nd(s, t)->right)
		t = nd(s, t)->right;
	return t;
}

/* Tree t without its first node (the caller frees or reuses it). */
static uint32_t drop_first(struct range_set *s, uint32_t t)
{
	uint32_t l = nd(s, t)->left;

	if (!l)
		return nd(s, t)->right;
	nd(s, t)->left = drop_first(s, l);
	return t;
}

/* Tree t without its last node. */
static uint32_t drop_last(struct range_set *s, uint32_t t)
{
	uint32_t r = nd(s, t)->right;

	if (!r)
		return nd(s, t)->left;
	nd(s, t)->right = drop_last(s, r);
	return t;
}

/* Free every node of t, in address order, as removed whole. */
static uint64_t drop_all(struct range_set *s, uint32_t t, struct range_list *out)
{
	uint64_t bytes;
	uint32_t right;

	if (!t)
		return 0;
	bytes = drop_all(s, nd(s, t)->left, out);
	range_list_append(out, &nd(s, t)->r);
	range_log_gone(s, nd(s, t)->r.start);
	bytes += nd(s, t)->r.end - nd(s, t)->r.start;
	right = nd(s, t)->right;
	node_free(s, t);
	s->n--;
	return bytes + drop_all(s, right, out);
}

/* One range holds [start, end) strictly inside: cut it in two. */
static int64_t cut_hole(struct range_set *s, uint32_t a, uint32_t b, uint64_t start, uint64_t end,
			struct range_list *out)
{
	uint32_t last = last_of(s, a), x;
	const struct range right = range_piece(&nd(s, last)->r, end, nd(s, last)->r.end);
	const struct range hole = range_piece(&nd(s, last)->r, start, end);

	x = node_new(s, &right);
	if (!x) { /* cannot split: left as is, nothing removed */
		s->tree->root = merge(s, a, b);
		return 0;
	}
	nd(s, last)->r.end = start;
	range_log_put(s, &nd(s, last)->r);
	range_log_put(s, &nd(s, x)->r);
	range_list_append(out, &hole);
	s->n++;
	s->total_bytes -= end - start;
	s->tree->root = merge(s, merge(s, a, x), b);
	return (int64_t)(end - start);
}

/* 1 when some range overlaps [start, end): the one starting last below
 * end is the only candidate.  A descent that changes nothing. */
static int overlaps(const struct range_set *s, uint64_t start, uint64_t end)
{
	uint32_t t = s->tree->root, best = NIL;

	while (t) {
		if (nd(s, t)->r.start < end) {
			best = t;
			t = nd(s, t)->right;
		} else {
			t = nd(s, t)->left;
		}
	}
	return best && nd(s, best)->r.end > start;
}

int64_t range_tree_remove(struct range_set *s, uint64_t start, uint64_t end, struct range_list *out)
{
	uint32_t a, b, m, c, last, tail;
	uint64_t removed = 0;

	/* most mmaps find nothing there to replace: no split, no merge */
	if (start >= end || !overlaps(s, start, end))
		return 0;
	split(s, s->tree->root, start, &a, &b); /* a: ranges starting below start */
	last = last_of(s, a);
	if (last && nd(s, last)->r.end > end)
		return cut_hole(s, a, b, start, end, out);
	if (last && nd(s, last)->r.end > start) { /* its tail goes */
		const struct range gone = range_piece(&nd(s, last)->r, start, nd(s, last)->r.end);

		removed += gone.end - start;
		range_list_append(out, &gone);
		nd(s, last)->r.end = start;
		range_log_put(s, &nd(s, last)->r);
	}
	split(s, b, end, &m, &c); /* m: ranges starting inside [start, end) */
	tail = last_of(s, m);
	if (tail && nd(s, tail)->r.end > end) /* it outlives end: keep [end, its end) */
		m = drop_last(s, m);
	else
		tail = NIL;
	removed += drop_all(s, m, out);
	if (tail) {
		const struct range gone = range_piece(&nd(s, tail)->r, nd(s, tail)->r.start, end);

		removed += end - gone.start;
		range_list_append(out, &gone);
		range_log_gone(s, gone.start);
		nd(s, tail)->r = range_piece(&nd(s, tail)->r, end, nd(s, tail)->r.end);
		nd(s, tail)->left = nd(s, tail)->right = NIL;
		range_log_put(s, &nd(s, tail)->r);
		c = merge(s, tail, c);
	}
	s->tree->root = merge(s, a, c);
	s->total_bytes -= removed;
	return (int64_t)removed;
}

int range_tree_add(struct range_set *s, const struct range *nr)
{
	uint32_t a, b, x, l, r, t;

	if (nr->start >= nr->end)
		return 0;
	range_tree_remove(s, nr->start, nr->end, NULL); /* overlap is replaced, not doubled */
	x = node_new(s, nr);
	if (!x)
		return -ENOMEM;
	split(s, s->tree->root, nr->start, &a, &b);
	l = last_of(s, a);
	r = first_of(s, b);
	if (l && range_continues(&nd(s, l)->r, nr)) { /* the left neighbour grows */
		node_free(s, x);
		t = l;
		nd(s, t)->r.end = nr->end;
	} else {
		t = x;
		a = merge(s, a, x);
		s->n++;
	}
	if (r && range_continues(&nd(s, t)->r, &nd(s, r)->r)) { /* and swallows the right one */
		range_log_gone(s, nd(s, r)->r.start);
		nd(s, t)->r.end = nd(s, r)->r.end;
		b = drop_first(s, b);
		node_free(s, r);
		s->n--;
	}
	range_log_put(s, &nd(s, t)->r);
	s->tree->root = merge(s, a, b);
	s->total_bytes += nr->end - nr->start;
	return 0;
}

static int each(const struct range_set *s, uint32_t t, int (*fn)(void *arg, const struct range *r),
		void *arg)
{
	int rc;

	if (!t)
		return 0;
	rc = each(s, nd(s, t)->left, fn, arg);
	if (rc == 0)
		rc = fn(arg, &nd(s, t)->r);
	return rc ? rc : each(s, nd(s, t)->right, fn, arg);
}

int range_tree_each(const struct range_set *s, int (*fn)(void *arg, const struct range *r),
		    void *arg)
{
	return each(s, s->tree->root, fn, arg);
}

/* Build the tree from the set's sorted array (each range appended after the
 * last: O(n log n)); the array is freed.  -ENOMEM leaves the set as it was. */
int range_tree_from_array(struct range_set *s)
{
	struct timespec ts;
	uint32_t root = NIL;

	s->tree = calloc(1, sizeof(*s->tree));
	if (!s->tree)
		return -ENOMEM;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	s->tree->seed = ((uint32_t)ts.tv_nsec ^ (uint32_t)(uintptr_t)s ^ 0x9e3779b9u) | 1;
	for (size_t i = 0; i < s->n; i++) {
		uint32_t x = node_new(s, &s->r[i]);

		if (!x) {
			range_tree_free(s->tree);
			s->tree = NULL;
			return -ENOMEM;
		}
		root = merge(s, root, x);
	}
	s->tree->root = root;
	free(s->r);
	s->r = NULL;
	s->cap = 0;
	return 0;
}

void range_tree_free(struct range_tree *t)
{
	if (t)
		free(t->node);
	free(t);
}
