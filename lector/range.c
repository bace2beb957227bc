/*
 * range.c - sorted set of disjoint [start, end) ranges.
 *
 * Invariant: r[i].start < r[i].end <= r[i+1].start (adjacent ranges are
 * merged on add, so r[i].end < r[i+1].start after an add).  Processes
 * hold tens to a few thousand mappings, so a sorted array with binary
 * search and memmove beats a tree here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "range.h"

void range_set_init(struct range_set *s)
{
	memset(s, 0, sizeof(*s));
}

void range_set_free(struct range_set *s)
{
	free(s->r);
	range_set_init(s);
}

void range_set_clear(struct range_set *s)
{
	s->n = 0;
	s->total_bytes = 0;
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

int range_add(struct range_set *s, uint64_t start, uint64_t end)
{
	size_t i, j;
	int rc;

	if (start >= end)
		return 0;
	range_remove(s, start, end, NULL); /* overlap is replaced, not doubled */
	rc = reserve(s, s->n + 1);
	if (rc < 0)
		return rc;
	i = first_ending_after(s, start);
	/* merge with the left neighbour that ends exactly at start */
	if (i > 0 && s->r[i - 1].end == start) {
		i--;
		s->r[i].end = end;
	} else {
		memmove(&s->r[i + 1], &s->r[i], (s->n - i) * sizeof(*s->r));
		s->r[i] = (struct range){start, end};
		s->n++;
	}
	/* merge with the right neighbour that starts exactly at end */
	j = i + 1;
	if (j < s->n && s->r[j].start == s->r[i].end) {
		s->r[i].end = s->r[j].end;
		memmove(&s->r[j], &s->r[j + 1], (s->n - j - 1) * sizeof(*s->r));
		s->n--;
	}
	s->total_bytes += end - start;
	return 0;
}

static void append_piece(struct range_set *out, uint64_t a, uint64_t b)
{
	if (out && reserve(out, out->n + 1) == 0) {
		out->r[out->n++] = (struct range){a, b};
		out->total_bytes += b - a;
	}
}

int64_t range_remove(struct range_set *s, uint64_t start, uint64_t end, struct range_set *out)
{
	uint64_t removed = 0;
	size_t i;

	if (start >= end)
		return 0;
	i = first_ending_after(s, start);
	while (i < s->n && s->r[i].start < end) {
		struct range *c = &s->r[i];
		uint64_t a = c->start > start ? c->start : start;
		uint64_t b = c->end < end ? c->end : end;

		removed += b - a;
		append_piece(out, a, b);
		if (c->start < start && c->end > end) {
			/* split: keep both sides */
			if (reserve(s, s->n + 1) < 0)
				break; /* cannot split: leave as is, caller sees less removed */
			c = &s->r[i];
			memmove(&s->r[i + 1], &s->r[i], (s->n - i) * sizeof(*s->r));
			s->n++;
			s->r[i].end = start;
			s->r[i + 1].start = end;
			break;
		} else if (c->start < start) {
			c->end = start;
			i++;
		} else if (c->end > end) {
			c->start = end;
			break;
		} else {
			memmove(&s->r[i], &s->r[i + 1], (s->n - i - 1) * sizeof(*s->r));
			s->n--;
		}
	}
	s->total_bytes -= removed;
	return (int64_t)removed;
}

size_t range_set_blob_len(const struct range_set *s)
{
	return s->n * 16;
}

static void put_le64(unsigned char *p, uint64_t v)
{
	for (int k = 0; k < 8; k++)
		p[k] = (unsigned char)(v >> (8 * k));
}

static uint64_t get_le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int k = 7; k >= 0; k--)
		v = (v << 8) | p[k];
	return v;
}

void range_set_to_blob(const struct range_set *s, unsigned char *blob)
{
	for (size_t i = 0; i < s->n; i++) {
		put_le64(blob + 16 * i, s->r[i].start);
		put_le64(blob + 16 * i + 8, s->r[i].end);
	}
}

int range_set_from_blob(struct range_set *s, const unsigned char *blob, size_t len_bytes)
{
	int rc = 0;

	range_set_clear(s);
	if (len_bytes % 16)
		return -EINVAL;
	for (size_t i = 0; i < len_bytes / 16 && rc == 0; i++)
		rc = range_add(s, get_le64(blob + 16 * i), get_le64(blob + 16 * i + 8));
	return rc;
}
