/*
 * config.c - parse the lector config file and MEMPROBE_DB_* variables.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

_Static_assert(CONFIG_RETAIN_DAYS_MAX * CONFIG_NS_PER_DAY <= INT64_MAX &&
		   (CONFIG_RETAIN_DAYS_MAX + 1) * CONFIG_NS_PER_DAY > INT64_MAX,
	       "CONFIG_RETAIN_DAYS_MAX is the longest horizon an int64 of ns holds");

#define STRINGIFY_(x) #x
#define STRINGIFY(x)  STRINGIFY_(x)
/* Said for a bad retain_days, from the file or the flag. */
#define RETAIN_DAYS_RANGE                                                                   \
	"takes a number of days from 0 (keep everything) to " STRINGIFY(                    \
	    CONFIG_RETAIN_DAYS_MAX) "; a longer horizon is more than the 64-bit nanosecond " \
				    "clock of the calls can span (about 292 years)"

int config_parse_retain_days(const char *s, unsigned int *days, char *err, size_t errlen)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (!isdigit((unsigned char)*s) || *end) { /* strtoull would take " -1" */
		snprintf(err, errlen, "'%s' is not a number: retain_days " RETAIN_DAYS_RANGE, s);
		return -EINVAL;
	}
	if (errno == ERANGE || v > CONFIG_RETAIN_DAYS_MAX) {
		snprintf(err, errlen, "%s days is too long: retain_days " RETAIN_DAYS_RANGE, s);
		return -ERANGE;
	}
	*days = (unsigned int)v;
	return 0;
}

/* The keys of config_parse_checkpoint: bounds, and the sentence a bad
 * value gets. */
static const struct {
	const char *key;
	size_t off;
	unsigned int min, max;
	const char *range;
} ckpt_keys[] = {
    {"checkpoint_calls", offsetof(struct lector_config, checkpoint_calls), 0,
     CONFIG_CHECKPOINT_CALLS_MAX,
     "takes 0 (no checkpoints) or the calls of a process between two of its "
     "checkpoints, 1 to " STRINGIFY(CONFIG_CHECKPOINT_CALLS_MAX)},
    {"checkpoint_secs", offsetof(struct lector_config, checkpoint_secs), 1,
     CONFIG_CHECKPOINT_SECS_MAX,
     "takes the seconds after which a process's next call is a checkpoint, 1 to " STRINGIFY(
	 CONFIG_CHECKPOINT_SECS_MAX) " (a day)"},
    {"snapshot_calls", offsetof(struct lector_config, snapshot_calls), 0,
     CONFIG_CHECKPOINT_CALLS_MAX,
     "takes 0 (no snapshots) or the calls per live process between two snapshots of the "
     "host, 1 to " STRINGIFY(CONFIG_CHECKPOINT_CALLS_MAX)},
    {"retain_checkpoint_days", offsetof(struct lector_config, retain_checkpoint_days), 0,
     CONFIG_RETAIN_DAYS_MAX,
     "takes a number of days from 0 (keep checkpoints) to " STRINGIFY(CONFIG_RETAIN_DAYS_MAX)},
};

int config_parse_checkpoint(struct lector_config *c, const char *key, const char *s, char *err,
			    size_t errlen)
{
	char *end;
	unsigned long long v;

	for (size_t i = 0; i < sizeof(ckpt_keys) / sizeof(ckpt_keys[0]); i++) {
		if (strcmp(key, ckpt_keys[i].key))
			continue;
		errno = 0;
		v = strtoull(s, &end, 10);
		if (!isdigit((unsigned char)*s) || *end) {
			snprintf(err, errlen, "'%s' is not a number: %s %s", s, key,
				 ckpt_keys[i].range);
			return -EINVAL;
		}
		if (errno == ERANGE || v < ckpt_keys[i].min || v > ckpt_keys[i].max) {
			snprintf(err, errlen, "%s is out of range: %s %s", s, key,
				 ckpt_keys[i].range);
			return -ERANGE;
		}
		*(unsigned int *)((char *)c + ckpt_keys[i].off) = (unsigned int)v;
		if (!strcmp(key, "retain_checkpoint_days"))
			c->retain_checkpoint_days_given = true;
		return 0;
	}
	return -ENOENT;
}

int config_settle(struct lector_config *c, char *err, size_t errlen)
{
	if (!c->retain_checkpoint_days_given) {
		c->retain_checkpoint_days = !c->retain_days ? 0
					    : c->retain_days > CONFIG_RETAIN_CKPT_DAYS
						? c->retain_days
						: CONFIG_RETAIN_CKPT_DAYS;
		return 0;
	}
	if (c->retain_days && c->retain_checkpoint_days &&
	    c->retain_checkpoint_days < c->retain_days) {
		snprintf(err, errlen,
			 "retain_checkpoint_days = %u (--retain-checkpoint-days) is shorter than "
			 "retain_days = %u (--retain-days): checkpoints are the history that outlives "
			 "the calls; give at least %u, or 0 to keep them",
			 c->retain_checkpoint_days, c->retain_days, c->retain_days);
		return -EINVAL;
	}
	return 0;
}

/* "host", "host:port", "[v6]" or "[v6]:port" (len bytes of e) -> h. */
static int db_host_entry(const char *e, size_t len, unsigned int default_port,
			 struct config_db_host *h)
{
	const char *colon = memchr(e, ':', len), *end = e + len, *name = e;
	size_t name_len = len;
	unsigned long v = 0;

	h->port = default_port;
	if (len && e[0] == '[') { /* [IPv6]:port */
		const char *rb = memchr(e, ']', len);

		if (!rb)
			return -EINVAL;
		name = e + 1, name_len = (size_t)(rb - e - 1);
		colon = rb + 1 < end ? rb + 1 : NULL;
		if (colon && *colon != ':')
			return -EINVAL;
	} else if (colon && memchr(colon + 1, ':', (size_t)(end - colon - 1))) {
		colon = NULL; /* a bare IPv6 address: no port */
	} else if (colon) {
		name_len = (size_t)(colon - e);
	}
	if (colon) {
		if (colon + 1 == end || end - colon - 1 > 5)
			return -EINVAL;
		for (const char *p = colon + 1; p < end; p++) {
			if (!isdigit((unsigned char)*p))
				return -EINVAL;
			v = v * 10 + (unsigned long)(*p - '0');
		}
		if (v == 0 || v > 65535)
			return -EINVAL;
		h->port = (unsigned int)v;
	}
	if (!name_len || name_len >= sizeof(h->host))
		return -EINVAL;
	memcpy(h->host, name, name_len);
	h->host[name_len] = 0;
	return 0;
}

int config_db_hosts(const char *list, unsigned int default_port, struct config_db_host *out,
		    unsigned int max, char *err, size_t errlen)
{
	unsigned int n = 0;
	const char *p = list;

	if (!*list && max) { /* the library's default: localhost */
		out[0] = (struct config_db_host){.port = default_port};
		return 1;
	}
	for (;;) {
		const char *comma = strchr(p, ','), *e = p;
		const char *end = comma ? comma : p + strlen(p);

		while (e < end && isspace((unsigned char)*e))
			e++;
		while (end > e && isspace((unsigned char)end[-1]))
			end--;
		if (n == max) {
			if (err)
				snprintf(err, errlen, "db_host lists more than %u servers", max);
			return -EINVAL;
		}
		if (db_host_entry(e, (size_t)(end - e), default_port, &out[n]) < 0) {
			if (err)
				snprintf(err, errlen,
					 "db_host entry '%.*s' is not host[:port] (a name or an "
					 "address, a port 1-65535; several separated by commas)",
					 (int)(end - e), e);
			return -EINVAL;
		}
		n++;
		if (!comma)
			return (int)n;
		p = comma + 1;
	}
}

void config_defaults(struct lector_config *c)
{
	memset(c, 0, sizeof(*c));
	if (gethostname(c->host_id, sizeof(c->host_id) - 1) < 0)
		strcpy(c->host_id, "localhost");
	strcpy(c->db_host, "localhost");
	c->db_port = 3306;
	strcpy(c->db_name, "memprobe");
	strcpy(c->db_user, "memprobe_writer");
	c->mem_queue_max = 262144;
	c->batch_max = 10000; /* bench/lector: 2000 -> 10000 cut per-batch round trips, +~15% */
	c->ring_kib = 16384; /* 4 MiB dropped under a 650k ev/s burst + DB stall */
	c->checkpoint_calls = CONFIG_CHECKPOINT_CALLS;
	c->checkpoint_secs = CONFIG_CHECKPOINT_SECS;
	c->snapshot_calls = CONFIG_SNAPSHOT_CALLS;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

static int set_key(struct lector_config *c, const char *key, const char *val)
{
	struct {
		const char *key;
		size_t off;
		size_t cap;
		int numeric;
	} keys[] = {
	    {"host_id", offsetof(struct lector_config, host_id), sizeof(c->host_id), 0},
	    {"db_host", offsetof(struct lector_config, db_host), sizeof(c->db_host), 0},
	    {"db_socket", offsetof(struct lector_config, db_socket), sizeof(c->db_socket), 0},
	    {"db_name", offsetof(struct lector_config, db_name), sizeof(c->db_name), 0},
	    {"db_user", offsetof(struct lector_config, db_user), sizeof(c->db_user), 0},
	    {"db_password", offsetof(struct lector_config, db_password), sizeof(c->db_password), 0},
	    {"spill_path", offsetof(struct lector_config, spill_path), sizeof(c->spill_path), 0},
	};
	struct config_db_host hosts[CONFIG_DB_HOSTS_MAX];
	char *end;
	unsigned long long v;
	int rc;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(key, keys[i].key))
			continue;
		if (strlen(val) >= keys[i].cap)
			return -ENAMETOOLONG;
		if (!strcmp(key, "db_host") &&
		    config_db_hosts(val, c->db_port, hosts, CONFIG_DB_HOSTS_MAX, NULL, 0) < 0)
			return -EINVAL;
		strcpy((char *)c + keys[i].off, val);
		return 0;
	}
	if (!strcmp(key, "retain_days"))
		return config_parse_retain_days(val, &c->retain_days, NULL, 0);
	rc = config_parse_checkpoint(c, key, val, NULL, 0);
	if (rc != -ENOENT)
		return rc;
	if (strcmp(key, "db_port") && strcmp(key, "mem_queue_max") && strcmp(key, "batch_max") &&
	    strcmp(key, "ring_kib"))
		return -ENOENT;
	errno = 0;
	v = strtoull(val, &end, 10);
	if (errno || end == val || *end)
		return -EINVAL;
	if (!strcmp(key, "db_port") && v > 0 && v < 65536)
		c->db_port = (unsigned int)v;
	else if (!strcmp(key, "mem_queue_max") && v > 0)
		c->mem_queue_max = (size_t)v;
	else if (!strcmp(key, "batch_max") && v > 0 && v <= 100000)
		c->batch_max = (size_t)v;
	else if (!strcmp(key, "ring_kib"))
		c->ring_kib = (unsigned int)v;
	else
		return -EINVAL;
	return 0;
}

int config_load_file(struct lector_config *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	int lineno = 0, rc = 0;

	if (!f) {
		rc = -errno;
		snprintf(err, errlen,
			 "cannot open config %s: %s (pass --config=FILE; make run writes "
			 "var/lector.conf)",
			 path, strerror(-rc));
		return rc;
	}
	while (fgets(line, sizeof(line), f)) {
		char *s = trim(line), *eq;

		lineno++;
		if (!*s || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%d: expected 'key = value'", path, lineno);
			rc = -EINVAL;
			break;
		}
		*eq = 0;
		rc = set_key(c, trim(s), trim(eq + 1));
		if (rc < 0 && !strcmp(trim(s), "retain_days")) {
			char why[256];

			config_parse_retain_days(trim(eq + 1), &(unsigned int){0}, why, sizeof(why));
			snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
			break;
		}
		if (rc == -EINVAL && !strcmp(trim(s), "db_host")) {
			struct config_db_host hosts[CONFIG_DB_HOSTS_MAX];
			char why[256];

			config_db_hosts(trim(eq + 1), 0, hosts, CONFIG_DB_HOSTS_MAX, why, sizeof(why));
			snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
			break;
		}
		if (rc < 0 && rc != -ENOENT) {
			struct lector_config scratch;
			char why[256];

			if (config_parse_checkpoint(&scratch, trim(s), trim(eq + 1), why,
						    sizeof(why)) != -ENOENT) {
				snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
				break;
			}
		}
		if (rc < 0) {
			snprintf(err, errlen, "%s:%d: %s '%s'", path, lineno,
				 rc == -ENOENT ? "unknown key" : "bad value for", trim(s));
			break;
		}
	}
	fclose(f);
	return rc;
}

void config_load_env(struct lector_config *c)
{
	const char *names[][2] = {
	    {"MEMPROBE_DB_HOST", "db_host"},	 {"MEMPROBE_DB_PORT", "db_port"},
	    {"MEMPROBE_DB_SOCKET", "db_socket"}, {"MEMPROBE_DB_NAME", "db_name"},
	    {"MEMPROBE_DB_USER", "db_user"},	 {"MEMPROBE_DB_PASSWORD", "db_password"},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *v = getenv(names[i][0]);

		if (v && *v)
			set_key(c, names[i][1], v);
	}
}
