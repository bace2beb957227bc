/*
 * retain.h - retention: a background thread with its own MariaDB
 * connection that deletes this host's calls, exited processes and capture
 * sessions older than --retain-days, in small batches, so ingest never
 * waits for it.
 */
#ifndef MEMPROBE_RETAIN_H
#define MEMPROBE_RETAIN_H

#include "config.h"

struct retain;

/* Starts the thread when cfg->retain_days > 0 (*out stays NULL
 * otherwise).  The thread connects (and reconnects) by itself. */
int retain_start(struct retain **out, const struct lector_config *cfg);
/* --retain-days=N: 0..36500; prints the error itself. */
int retain_parse_days(const char *s, unsigned int *days);
/* Stops the thread (at most one batch later) and frees it; NULL is fine. */
void retain_stop(struct retain *r);

#endif
