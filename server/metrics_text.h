/*
 * metrics_text.h - what /metrics is written with (text format 0.0.4): a
 * growing buffer, label values escaped, family heads.  api_stats.c and
 * metrics_groups.c write into one buffer.
 */
#ifndef MEMPROBE_SERVER_METRICS_TEXT_H
#define MEMPROBE_SERVER_METRICS_TEXT_H

#include <stddef.h>

#include "db.h"

/* A growing text buffer; oom set once an allocation failed (the text is
 * then incomplete and must not be sent). */
struct sbuf {
	char *p;
	size_t len, cap;
	int oom;
};

void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A label value: any bytes, sent as valid UTF-8 with \\, \" and \n escaped. */
void sb_label(struct sbuf *b, const char *v, size_t len);
void sb_head(struct sbuf *b, const char *name, const char *type, const char *help);

/* The samples of one query, kept until it is complete (a failed query
 * writes nothing): per row a label set (in lab, NUL-terminated) and up to
 * MLINES_VALUES values, one per family. */
#define MLINES_VALUES 3
struct mlines {
	struct sbuf lab;
	size_t n;
	size_t *off;
	double (*val)[MLINES_VALUES];
};

/* A new row with these values; the caller then writes its labels into
 * m->lab and ends them with mlines_end.  -ENOMEM. */
int mlines_add(struct mlines *m, const double *val, int n_val);
int mlines_end(struct mlines *m);
/* Family NAME: HELP, TYPE, and one sample per row, its value col. */
void mlines_write(struct sbuf *b, const struct mlines *m, int col, const char *name,
		  const char *type, const char *help);
void mlines_free(struct mlines *m);

/* metrics_groups.c: the per-group gauges and the OOM kill counters, for
 * the hosts of hp (the host filter's two parameters); 0 or a db_select
 * error (err says what). */
int metrics_groups(struct sbuf *b, struct db_pool *db, const struct db_param *hp, char *err,
		   size_t errlen);

#endif
