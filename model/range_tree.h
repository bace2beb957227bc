/*
 * range_tree.h - inside a range set (range.c): the tree it switches to
 * when it outgrows its sorted array.  It sits below the set: it knows
 * range_types.h only, and range.c calls it, never the other way round.
 * Not for use outside range.c and range_tree.c.
 */
#ifndef MEMPROBE_RANGE_TREE_H
#define MEMPROBE_RANGE_TREE_H

#include "range_types.h"

/* Move the set's ranges from its array into a new tree; -ENOMEM leaves it. */
int range_tree_from_array(struct range_set *s);
void range_tree_free(struct range_tree *t);
/* range_add, range_remove and range_set_each of a set in tree form. */
int range_tree_add(struct range_set *s, const struct range *r);
int64_t range_tree_remove(struct range_set *s, uint64_t start, uint64_t end,
			  struct range_list *out);
int range_tree_each(const struct range_set *s, int (*fn)(void *arg, const struct range *r),
		    void *arg);

#endif
