/*
 * range.c - sorted set of disjoint [start, end) ranges, and the log of
 * their changes since the sink last stored them.
 *
 * Invariant: r[i].start < r[i].end <= r[i+1].start, and r[i+1] does not
 * continue r[i] (range_continues: a neighbour made by the same call is
 * merged on add; ranges of different calls stay apart even when they
 * touch: the ledger keeps each call's own).  Most processes hold tens to
 * a few hundred mappings, where a sorted array with binary search and
 * memmove beats any tree; a set that grows past array_max
 * ranges moves into a balanced tree (range_tree.c) and stays there until
 * cleared, so one call of a process holding 65k mappings never moves them
 * all.
 *
 * The log: every place (here and in range_tree.c) that changes a range's
 * start or end, or drops or makes one, logs the range as it is now (its
 * attributes with it) or (old start, 0).  So a stored copy keyed by start
 * (one row per range) becomes this set again by applying the log's last
 * entry per start: one row per range that changed, however many ranges
 * the process holds.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "range.h"
#include "range_tree.h"

void range_set_init(struct range_set *s)
{
	memset(s, 0, sizeof(*s));
	s->array_max = RANGE_ARRAY_MAX;
}

void range_set_free(struct range_set *s)
{
	free(s->r);
	range_tree_free(s->tree);
	free(s->log.e);
	range_set_init(s);
}

void range_set_clear(struct range_set *s)
{
	range_tree_free(s->tree); /* back to an (empty) array */
	s->tree = NULL;
	s->n = 0;
	s->total_bytes = 0;
	if (s->log.on) { /* whatever was logged before is moot: all of it goes */
		s->log.n = 0;
		s->log.cleared = true;
		s->log.overflow = false;
	}
}

void range_list_free(struct range_list *l)
{
	free(l->r);
	memset(l, 0, sizeof(*l));
}

/* First index whose end > addr (the first range that could overlap addr). */
static size_t first_ending_after(const struct range_set *s, uint64_t addr)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->r[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int reserve(struct range_set *s, size_t want)
{
	struct range *nr;
	size_t cap;

	if (want <= s->cap)
		return 0;
	cap = s->cap ? s->cap * 2 : 8;
	while (cap < want)
		cap *= 2;
	nr = realloc(s->r, cap * sizeof(*nr));
	if (!nr)
		return -ENOMEM;
	s->r = nr;
	s->cap = cap;
	return 0;
}

static int array_add(struct range_set *s, const struct range *nr)
{
	size_t i, j;
	int rc = reserve(s, s->n + 1);

	if (rc < 0)
		return rc;
	i = first_ending_after(s, nr->start);
	/* merge with the left neighbour it continues */
	if (i > 0 && range_continues(&s->r[i - 1], nr)) {
		i--;
		s->r[i].end = nr->end;
	} else {
		memmove(&s->r[i + 1], &s->r[i], (s->n - i) * sizeof(*s->r));
		s->r[i] = *nr;
		s->n++;
	}
	/* merge with the right neighbour that continues it */
	j = i + 1;
	if (j < s->n && range_continues(&s->r[i], &s->r[j])) {
		range_log_gone(s, s->r[j].start);
		s->r[i].end = s->r[j].end;
		memmove(&s->r[j], &s->r[j + 1], (s->n - j - 1) * sizeof(*s->r));
		s->n--;
	}
	range_log_put(s, &s->r[i]);
	s->total_bytes += nr->end - nr->start;
	return 0;
}

int range_add_attr(struct range_set *s, uint64_t start, uint64_t end, const struct range_attr *attr)
{
	size_t max = s->array_max ? s->array_max : RANGE_ARRAY_MAX;
	const struct range nr = {start, end, *attr};
	int rc;

	if (start >= end)
		return 0;
	if (s->tree)
		return range_tree_add(s, &nr);
	range_remove(s, start, end, NULL); /* overlap is replaced, not doubled */
	rc = array_add(s, &nr);
	if (rc == 0 && s->n > max)
		range_tree_from_array(s); /* out of memory: stays an array, still right */
	return rc;
}

int range_add(struct range_set *s, uint64_t start, uint64_t end)
{
	return range_add_attr(s, start, end, &(struct range_attr){.offset_bytes = start});
}

/* Cut [start, end) out of the middle of r[i]: two ranges remain. */
static int split(struct range_set *s, size_t i, uint64_t start, uint64_t end)
{
	if (reserve(s, s->n + 1) < 0)
		return -ENOMEM;
	memmove(&s->r[i + 1], &s->r[i], (s->n - i) * sizeof(*s->r));
	s->n++;
	s->r[i + 1] = range_piece(&s->r[i], end, s->r[i].end);
	s->r[i].end = start;
	range_log_put(s, &s->r[i]);
	range_log_put(s, &s->r[i + 1]);
	return 0;
}

int64_t range_remove(struct range_set *s, uint64_t start, uint64_t end, struct range_list *out)
{
	uint64_t removed = 0;
	size_t i;

	if (start >= end)
		return 0;
	if (s->tree)
		return range_tree_remove(s, start, end, out);
	i = first_ending_after(s, start);
	while (i < s->n && s->r[i].start < end) {
		struct range *c = &s->r[i];
		uint64_t a = c->start > start ? c->start : start;
		uint64_t b = c->end < end ? c->end : end;
		const struct range cut = range_piece(c, a, b);

		if (c->start < start && c->end > end) {
			if (split(s, i, start, end) < 0)
				break; /* cannot split: left as is, not counted removed */
		} else if (c->start < start) {
			c->end = start;
			range_log_put(s, c);
			i++;
		} else if (c->end > end) {
			range_log_gone(s, c->start);
			*c = range_piece(c, end, c->end);
			range_log_put(s, c);
		} else {
			range_log_gone(s, c->start);
			memmove(&s->r[i], &s->r[i + 1], (s->n - i - 1) * sizeof(*s->r));
			s->n--;
		}
		removed += b - a;
		range_list_append(out, &cut);
		if (b == end)
			break;
	}
	s->total_bytes -= removed;
	return (int64_t)removed;
}

int range_set_each(const struct range_set *s, int (*fn)(void *arg, const struct range *r),
		   void *arg)
{
	int rc = 0;

	if (s->tree)
		return range_tree_each(s, fn, arg);
	for (size_t i = 0; i < s->n && rc == 0; i++)
		rc = fn(arg, &s->r[i]);
	return rc;
}

void range_log_start(struct range_set *s)
{
	s->log.on = true;
}

void range_log_reset(struct range_set *s)
{
	s->log.n = 0;
	s->log.cleared = false;
	s->log.overflow = false;
}

struct log_sorted {
	struct range e;
	size_t order;
};

static int by_start_then_order(const void *x, const void *y)
{
	const struct log_sorted *a = x, *b = y;

	if (a->e.start != b->e.start)
		return a->e.start < b->e.start ? -1 : 1;
	return a->order < b->order ? -1 : a->order > b->order;
}

size_t range_log_compact(struct range_set *s)
{
	struct range_log *l = &s->log;
	struct log_sorted *t;
	size_t k = 0;

	if (l->n < 2 || l->overflow)
		return l->n;
	t = malloc(l->n * sizeof(*t));
	if (!t) {
		l->overflow = true; /* the whole set will be stored instead */
		return l->n;
	}
	for (size_t i = 0; i < l->n; i++)
		t[i] = (struct log_sorted){l->e[i], i};
	qsort(t, l->n, sizeof(*t), by_start_then_order);
	for (size_t i = 0; i < l->n; i++)
		if (i + 1 == l->n || t[i + 1].e.start != t[i].e.start)
			l->e[k++] = t[i].e; /* the last change of each start */
	free(t);
	l->n = k;
	return k;
}
