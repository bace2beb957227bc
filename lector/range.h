/*
 * range.h - a set of disjoint address ranges [start, end), kept sorted.
 *
 * Backs per-process mapped_bytes: which bytes were mapped while memprobe
 * watched and are still mapped.  Removing a range that is only partly in
 * the set (memory mapped before capture began) removes only the overlap,
 * so the total can never go negative.
 */
#ifndef MEMPROBE_RANGE_H
#define MEMPROBE_RANGE_H

#include <stddef.h>
#include <stdint.h>

struct range {
	uint64_t start;
	uint64_t end; /* exclusive */
};

struct range_set {
	struct range *r;
	size_t n;
	size_t cap;
	uint64_t total_bytes; /* sum of (end - start) */
};

void range_set_init(struct range_set *s);
void range_set_free(struct range_set *s);
void range_set_clear(struct range_set *s);

/* Add [start, end); merges with neighbours.  -ENOMEM on allocation failure. */
int range_add(struct range_set *s, uint64_t start, uint64_t end);

/* Remove [start, end); returns the bytes that were in the set.  If out is
 * not NULL, the removed pieces are appended to it (for mremap moves). */
int64_t range_remove(struct range_set *s, uint64_t start, uint64_t end, struct range_set *out);

/* Serialise as little-endian (start, end) u64 pairs; load the same. */
size_t range_set_blob_len(const struct range_set *s);
void range_set_to_blob(const struct range_set *s, unsigned char *blob);
int range_set_from_blob(struct range_set *s, const unsigned char *blob, size_t len_bytes);

#endif
