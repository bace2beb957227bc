/*
 * calls_part.h - the day partitions of calls (migration 021): adding the
 * days ahead, the fleet's retention rule (calls_retention), dropping the
 * days every host is done with.  Used by the retention thread (retain.c)
 * on its own connection.
 */
#ifndef MEMPROBE_CALLS_PART_H
#define MEMPROBE_CALLS_PART_H

#include <stdint.h>
#include <mysql.h>

#define CALLS_PART_DAY_NS     86400000000000ULL
#define CALLS_PART_AHEAD_DAYS 7 /* days that exist ahead of today */

/* Records this host's --retain-days (0: keeps its calls forever) in
 * calls_retention.  0 or -errno. */
int calls_part_register(MYSQL *db, unsigned int host_id, unsigned int retain_days, char *err,
			size_t errlen);
/* The fleet's rule: the largest retain_days of calls_retention, 0 when a
 * host keeps everything (or none is recorded).  0 or -errno. */
int calls_part_rule(MYSQL *db, unsigned int *days, char *err, size_t errlen);
/* Makes the days up to today + CALLS_PART_AHEAD_DAYS exist (REORGANIZE of
 * pmax).  *added: the days added (0 when they existed, or calls is not
 * partitioned).  0 or -errno. */
int calls_part_ahead(MYSQL *db, uint64_t now_ns, unsigned int *added, char *err, size_t errlen);
/* Drops every day partition whose rows are all older than cutoff_ns (its
 * bound <= cutoff_ns); pmax never, nor the last day.  *dropped: how many;
 * first/last: their names ("" when none); *kept_ns: the start of the
 * oldest day kept (older rows in it came in late, or before migration 021:
 * the first partition holds everything older), 0 when calls is not
 * partitioned.  0 or -errno. */
int calls_part_drop(MYSQL *db, uint64_t cutoff_ns, unsigned int *dropped, uint64_t *kept_ns,
		    char *first, char *last, size_t namelen, char *err, size_t errlen);
/* pYYYYMMDD of the UTC day that starts at day * CALLS_PART_DAY_NS. */
void calls_part_name(char *buf, size_t len, uint64_t day);

#endif
