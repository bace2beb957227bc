/*
 * range_tree.h - inside a range set (range.c): the tree it switches to
 * when it outgrows its sorted array, and what the two share.  Not for use
 * outside range.c and range_tree.c.
 */
#ifndef MEMPROBE_RANGE_TREE_H
#define MEMPROBE_RANGE_TREE_H

#include "range.h"

/* Move the set's ranges from its array into a new tree; -ENOMEM leaves it. */
int range_tree_from_array(struct range_set *s);
void range_tree_free(struct range_tree *t);
/* range_add, range_remove and range_set_each of a set in tree form. */
int range_tree_add(struct range_set *s, uint64_t start, uint64_t end);
int64_t range_tree_remove(struct range_set *s, uint64_t start, uint64_t end,
			  struct range_list *out);
int range_tree_each(const struct range_set *s, int (*fn)(void *arg, const struct range *r),
		    void *arg);

/* range.c: log a change of the set; append a removed piece. */
void range_log_put(struct range_set *s, uint64_t start, uint64_t end);
void range_list_append(struct range_list *out, uint64_t a, uint64_t b);

#endif
