/*
 * config.h - lector settings: defaults, then the config file, then the
 * environment (MEMPROBE_DB_*), then command-line flags that are not
 * secrets.  Credentials never come from argv.
 */
#ifndef MEMPROBE_CONFIG_H
#define MEMPROBE_CONFIG_H

#include <stdbool.h>
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
	/* "localhost" = unix socket; or several servers "a[:port],b[:port]"
	 * (config_db_hosts), tried in order at each connect */
	char db_host[256];
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
	/* checkpoints (lector/checkpoint.h): every this many calls of a
	 * process (0: none), and at its first call after this many seconds */
	unsigned int checkpoint_calls;
	unsigned int checkpoint_secs;
	/* snapshots of every live process (lector/checkpoint.h): when the
	 * host made this many calls per live process since the last (0: none) */
	unsigned int snapshot_calls;
	/* purge checkpoints (and exited processes) older than this; 0 = keep.
	 * Not given: config_settle() makes it CONFIG_RETAIN_CKPT_DAYS, at
	 * least retain_days, 0 when retain_days is 0 (calls are kept). */
	unsigned int retain_checkpoint_days;
	bool retain_checkpoint_days_given;
};

#define CONFIG_CHECKPOINT_CALLS	    16
#define CONFIG_CHECKPOINT_CALLS_MAX 1000000
#define CONFIG_SNAPSHOT_CALLS	    16
#define CONFIG_CHECKPOINT_SECS	    60
#define CONFIG_CHECKPOINT_SECS_MAX  86400
#define CONFIG_RETAIN_CKPT_DAYS	    90

/* One entry of db_host: a name or address, and its port (db_port when
 * the entry names none).  An IPv6 address with a port: "[::1]:3306". */
#define CONFIG_DB_HOSTS_MAX 8
struct config_db_host {
	char host[256];
	unsigned int port;
};

/* Split db_host "a[:port],b[:port],..." (spaces around entries ignored)
 * into out[0..max): the number of entries, at least 1 ("" is one entry:
 * the library's default host), or -EINVAL with a sentence in err (NULL:
 * none) for an empty entry, a bad port or more than max entries. */
int config_db_hosts(const char *list, unsigned int default_port, struct config_db_host *out,
		    unsigned int max, char *err, size_t errlen);

void config_defaults(struct lector_config *c);
/* Read "key = value" lines; '#' starts a comment.  Unknown keys are an
 * error (a typo must not silently keep a default). */
int config_load_file(struct lector_config *c, const char *path, char *err, size_t errlen);
void config_load_env(struct lector_config *c);
/* retain_days / --retain-days: 0..CONFIG_RETAIN_DAYS_MAX.  -EINVAL (not a
 * number) or -ERANGE, with a sentence saying the range in err. */
int config_parse_retain_days(const char *s, unsigned int *days, char *err, size_t errlen);
/* checkpoint_calls, checkpoint_secs, retain_checkpoint_days (key as in the
 * config file) = s: 0, or -EINVAL / -ERANGE with a sentence giving the
 * bounds in err.  -ENOENT: not one of these keys. */
int config_parse_checkpoint(struct lector_config *c, const char *key, const char *s, char *err,
			    size_t errlen);
/* After every source is read: the checkpoint horizon when none was given,
 * and its bound against retain_days (checkpoints outlive the calls).
 * -EINVAL with a sentence in err. */
int config_settle(struct lector_config *c, char *err, size_t errlen);

#endif
