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

/* How a range got its place: the via column of table process_ranges
 * (migration 019), whose ENUM lists these names in this order (index =
 * code + 1).  The names live here only. */
#define MP_VIAS(X)                                                                                 \
	X(MP_VIA_UNKNOWN, 0, "unknown") /* stored before 019, or no call known */                  \
	X(MP_VIA_MMAP, 1, "mmap")                                                                  \
	X(MP_VIA_MREMAP, 2, "mremap") /* moved or grown by mremap */

#define MP_VIA_ENUM_(name, code, text) name = code,
enum mp_via { MP_VIAS(MP_VIA_ENUM_) MP_VIA_MAX = 2 };
#undef MP_VIA_ENUM_

static inline const char *mp_via_name(unsigned int via)
{
#define MP_VIA_NAME_(name, code, text) text,
	static const char *const names[] = {MP_VIAS(MP_VIA_NAME_)};
#undef MP_VIA_NAME_

	return via <= MP_VIA_MAX ? names[via] : "unknown";
}

/* The call that gave a range its place (README, "What the numbers mean"):
 * its time (ts_ns; 0 unknown), prot and flags (mmap's PROT_* and MAP_*),
 * the file it maps (st_dev encoding and inode, 0/0 anonymous) and the
 * file offset of the range's first byte, and how (enum mp_via).  A piece
 * cut from a range keeps its attributes, its offset grown by the cut. */
struct range_attr {
	uint64_t created_ns;
	uint64_t offset_bytes;
	uint64_t file_ino;
	uint32_t prot;
	uint32_t flags;
	uint32_t file_dev;
	uint8_t via;
};

struct range {
	uint64_t start;
	uint64_t end; /* exclusive */
	struct range_attr attr;
};

/* r with its bytes [a, b) only (inside r): the offset follows a. */
static inline struct range range_piece(const struct range *r, uint64_t a, uint64_t b)
{
	struct range p = *r;

	p.start = a;
	p.end = b;
	p.attr.offset_bytes += a - r->start;
	return p;
}

/* r starts where l ends and continues it: one call's bytes, same
 * attributes, the offset running on.  Only such neighbours merge: ranges
 * of different calls never do, however alike (two calls in the same ns
 * mapping a file's consecutive pages aside).  A range added without
 * attributes (range_add) has offset = start, so those merge as before. */
static inline bool range_continues(const struct range *l, const struct range *r)
{
	const struct range_attr *x = &l->attr, *y = &r->attr;

	return l->end == r->start && x->created_ns == y->created_ns && x->prot == y->prot &&
	       x->flags == y->flags && x->file_dev == y->file_dev && x->file_ino == y->file_ino &&
	       x->via == y->via && y->offset_bytes == x->offset_bytes + (l->end - l->start);
}

/* A plain list of ranges, in the order they were appended. */
struct range_list {
	struct range *r;
	size_t n;
	size_t cap;
	uint64_t total_bytes;
};

/* The changes of a set since the sink last stored it, for writing only
 * what changed (sink_mysql_ranges.c, table process_ranges): each entry is
 * a range, "the range starting at start is now this one" (end and
 * attributes), or end = 0, "no range starts at start any more".  Later
 * entries win. */
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

/* Append r to out (NULL: nothing).  Out of memory: the piece is missed
 * (the mremap target then lacks it). */
static inline void range_list_append(struct range_list *out, const struct range *r)
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
	out->r[out->n++] = *r;
	out->total_bytes += r->end - r->start;
}

/* The range starting at r->start is now r (r->end 0: it is gone).  A
 * change that cannot be logged makes the log say "store the whole set". */
static inline void range_log_put(struct range_set *s, const struct range *r)
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
	l->e[l->n++] = *r;
}

/* No range starts at start any more. */
static inline void range_log_gone(struct range_set *s, uint64_t start)
{
	range_log_put(s, &(struct range){.start = start});
}

#endif
