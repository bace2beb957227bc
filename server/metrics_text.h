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

/* metrics_groups.c: the per-group gauges and the OOM kill counters, for
 * the hosts of hp (the host filter's two parameters); 0 or a db_select
 * error (err says what). */
int metrics_groups(struct sbuf *b, struct db_pool *db, const struct db_param *hp, char *err,
		   size_t errlen);

#endif
