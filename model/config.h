/*
 * config.h - lector settings: defaults, then the config file, then the
 * environment (MEMPROBE_DB_*), then command-line flags that are not
 * secrets.  Credentials never come from argv.
 */
#ifndef MEMPROBE_CONFIG_H
#define MEMPROBE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "host_id.h"

/* retain_days spans a horizon in nanoseconds (the calls' ts_ns clock); it
 * must fit a signed 64-bit count, as every ns duration here does:
 * INT64_MAX / NS_PER_DAY, about 292 years. */
#define CONFIG_NS_PER_DAY	  86400000000000ULL
#define CONFIG_RETAIN_DAYS_MAX	  106751

struct lector_config {
	char host_id[MP_HOST_ID_MAX + 1]; /* name of this machine in the database */
	char db_host[256]; /* "localhost" = unix socket */
	unsigned int db_port;
	char db_socket[512];
	char db_name[64];
	char db_user[64];
	char db_password[128];
	char spill_path[512];
	size_t mem_queue_max;  /* entries held in memory before spilling */
	size_t batch_max;      /* records per transaction */
	unsigned int ring_kib; /* bpf ring size */
	unsigned int retain_days; /* purge this host's data older than this; 0 = keep */
};

void config_defaults(struct lector_config *c);
/* Read "key = value" lines; '#' starts a comment.  Unknown keys are an
 * error (a typo must not silently keep a default). */
int config_load_file(struct lector_config *c, const char *path, char *err, size_t errlen);
void config_load_env(struct lector_config *c);
/* retain_days / --retain-days: 0..CONFIG_RETAIN_DAYS_MAX.  -EINVAL (not a
 * number) or -ERANGE, with a sentence saying the range in err. */
int config_parse_retain_days(const char *s, unsigned int *days, char *err, size_t errlen);

#endif
