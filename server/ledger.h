/*
 * ledger.h - one process's mappings as the API sends them (ledger.c):
 * the live rows of process_ranges, or the ranges of a replay through
 * model/ (an instant in the past), each with the attributes of the call
 * that made it (model/range_types.h).
 */
#ifndef MEMPROBE_SERVER_LEDGER_H
#define MEMPROBE_SERVER_LEDGER_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "db.h"
#include "range_types.h"

/* One mapping as JSON (docs/API.md, mappings): age against now_ns; path
 * NULL when the file's path is not known (or the range maps no file). */
cJSON *ledger_row_json(const struct range *r, const char *path, unsigned long path_len,
		       uint64_t now_ns);
/* Append r[0..n) to arr, with the paths of their files on host_id from
 * the files table (one query). */
int ledger_add_rows(struct db_pool *db, unsigned int host_id, const struct range *r, size_t n,
		    uint64_t now_ns, cJSON *arr, char *err, size_t errlen);
/* The ranges of a set in address order (malloc'd array, *n of them). */
struct range_set;
int ledger_ranges_of(const struct range_set *s, struct range **out, size_t *n);
/* Sorts for the ledger: by created_ns then start (age), by size then
 * start; desc reverses both keys. */
void ledger_sort(struct range *r, size_t n, int by_size, int desc);

#endif
