/*
 * retain-test.c - unit tests of retention's cutoff (lector/retain.h) and
 * of the retain_days bound (model/config.c): a horizon reaching back past
 * the epoch purges nothing (it must never wrap to a cutoff in the future,
 * which purged everything), the largest accepted value is the longest
 * horizon a signed 64-bit nanosecond count holds, and one day more is
 * refused with a sentence, from the flag and from the config file; and
 * the longest host_id the config takes (model/host_id.h); the checkpoint
 * options' bounds and the checkpoints' horizon against the calls'; the
 * db_host list of several servers.
 * Prints TAP.  Usage: retain-test SCRATCH_DIR
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "retain.h"

#define DAY CONFIG_NS_PER_DAY

static int n_test;

static void tap(int ok, const char *what, const char *detail)
{
	printf("%sok %d - %s%s%s\n", ok ? "" : "not ", ++n_test, what, detail ? ": " : "",
	       detail ? detail : "");
}

static void cutoff_tests(uint64_t now_ns)
{
	uint64_t edge_days = now_ns / DAY; /* today's day number since the epoch */
	char d[160];

	snprintf(d, sizeof(d), "%llu", (unsigned long long)retain_cutoff_ns(now_ns, 1));
	tap(retain_cutoff_ns(now_ns, 1) == now_ns - DAY, "1 day: the cutoff is exactly now - 1 day", d);
	tap(retain_cutoff_ns(now_ns, (unsigned int)edge_days) == now_ns % DAY,
	    "the longest horizon after the epoch (today's day number) ends on 1970-01-01", NULL);
	snprintf(d, sizeof(d), "%llu days: cutoff %llu (a wrapped u64 gives %llu, after now %llu)",
		 (unsigned long long)edge_days + 1,
		 (unsigned long long)retain_cutoff_ns(now_ns, (unsigned int)edge_days + 1),
		 (unsigned long long)(now_ns - (edge_days + 1) * DAY), (unsigned long long)now_ns);
	tap(retain_cutoff_ns(now_ns, (unsigned int)edge_days + 1) == 0,
	    "one day past the epoch saturates at 0 (nothing is older), never wraps", d);
	tap(retain_cutoff_ns(now_ns, 36500) == 0, "36500 days from today purges nothing", NULL);
	tap(retain_cutoff_ns(now_ns, CONFIG_RETAIN_DAYS_MAX) == 0,
	    "the largest accepted value (106751 days) from today purges nothing", NULL);
	tap(retain_cutoff_ns(UINT64_MAX, CONFIG_RETAIN_DAYS_MAX) ==
		UINT64_MAX - (uint64_t)CONFIG_RETAIN_DAYS_MAX * DAY,
	    "at the end of the clock the largest value is still exact", NULL);
	tap(retain_cutoff_ns(now_ns, UINT32_MAX) == 0,
	    "a horizon that overflows 64 bits saturates at 0 (no setting purges everything)", NULL);
}

static void parse_tests(const char *dir)
{
	const char *bad[] = {"106752", "4294967296", "99999999999999999999999", "-1", " 5", "", "7x"};
	unsigned int days = 7;
	char err[256] = "", path[4096], d[64];
	FILE *f;
	int rc;

	rc = config_parse_retain_days("106751", &days, err, sizeof(err));
	tap(rc == 0 && days == CONFIG_RETAIN_DAYS_MAX, "106751 days is accepted", err);
	rc = config_parse_retain_days("36500", &days, err, sizeof(err));
	tap(rc == 0 && days == 36500, "36500 days is accepted", err);
	rc = config_parse_retain_days("106752", &days, err, sizeof(err));
	tap(rc == -ERANGE && days == 36500 && strstr(err, "0 (keep everything) to 106751") &&
		strstr(err, "clock"),
	    "106752 days is refused with a sentence giving the range and why", err);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		rc = config_parse_retain_days(bad[i], &days, err, sizeof(err));
		snprintf(d, sizeof(d), "'%s' -> %d", bad[i], rc);
		tap(rc < 0 && days == 36500 && strstr(err, "retain_days takes"),
		    "a bad value is refused and changes nothing", d);
	}
	snprintf(path, sizeof(path), "%s/retain.conf", dir);
	f = fopen(path, "w");
	if (!f || fputs("# too long\nretain_days = 106752\n", f) < 0 || fclose(f)) {
		tap(0, "the scratch config file is written", path);
		return;
	}
	{
		struct lector_config c;

		config_defaults(&c);
		err[0] = 0;
		rc = config_load_file(&c, path, err, sizeof(err));
		tap(rc == -ERANGE && c.retain_days == 0 && strstr(err, "retain.conf:2: 106752 days") &&
			strstr(err, "to 106751"),
		    "retain_days = 106752 in a config file is refused with file, line and range", err);
	}
}

/* host_id = a name of len_bytes characters from MP_HOST_ID_CHARSET, in a
 * config file: the return of config_load_file, and the name kept. */
static int load_host_id(const char *dir, size_t len_bytes, struct lector_config *c)
{
	char path[4096], name[MP_HOST_ID_MAX + 2], err[256];
	FILE *f;

	for (size_t i = 0; i < len_bytes; i++)
		name[i] = MP_HOST_ID_CHARSET[i % (sizeof(MP_HOST_ID_CHARSET) - 1)];
	name[len_bytes] = 0;
	snprintf(path, sizeof(path), "%s/host.conf", dir);
	f = fopen(path, "w");
	if (!f || fprintf(f, "host_id = %s\n", name) < 0 || fclose(f))
		return -EIO;
	config_defaults(c);
	return config_load_file(c, path, err, sizeof(err));
}

/* lector's host_id holds what the server's ?host= and the hosts table
 * take (model/host_id.h): MP_HOST_ID_MAX characters, not one more. */
static void host_id_tests(const char *dir)
{
	struct lector_config c;
	char d[64];
	int rc = load_host_id(dir, MP_HOST_ID_MAX, &c);

	snprintf(d, sizeof(d), "rc %d, kept %zu", rc, strlen(c.host_id));
	tap(rc == 0 && strlen(c.host_id) == MP_HOST_ID_MAX,
	    "a host_id of MP_HOST_ID_MAX (64) characters is kept whole", d);
	rc = load_host_id(dir, MP_HOST_ID_MAX + 1, &c);
	snprintf(d, sizeof(d), "rc %d", rc);
	tap(rc < 0, "a host_id of 65 characters is refused", d);
}

/* The checkpoint horizon (config_settle): not given, 90 days but never
 * shorter than the calls' horizon, and kept while the calls are; given,
 * refused when shorter than the calls' (0 keeps them: allowed). */
static void checkpoint_days_tests(void)
{
	const struct {
		unsigned int retain, ckpt;
		bool given;
		int rc;
		unsigned int want;
		const char *what;
	} t[] = {
	    {0, 0, false, 0, 0, "calls kept (retain_days 0): checkpoints kept too"},
	    {7, 0, false, 0, 90, "retain_days 7: checkpoints 90 days"},
	    {200, 0, false, 0, 200, "retain_days 200: checkpoints 200 days, never fewer than the calls"},
	    {30, 30, true, 0, 30, "30 and 30 are accepted"},
	    {30, 0, true, 0, 0, "retain_checkpoint_days 0 keeps them, whatever retain_days"},
	    {0, 30, true, 0, 30, "checkpoints purged while calls are kept, when asked for"},
	    {30, 29, true, -EINVAL, 29, "29 days of checkpoints against 30 of calls is refused"},
	};
	char err[512], d[600];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct lector_config c;
		int rc;

		config_defaults(&c);
		c.retain_days = t[i].retain;
		c.retain_checkpoint_days = t[i].ckpt;
		c.retain_checkpoint_days_given = t[i].given;
		err[0] = 0;
		rc = config_settle(&c, err, sizeof(err));
		snprintf(d, sizeof(d), "rc %d, %u days; %s", rc, c.retain_checkpoint_days, err);
		tap(rc == t[i].rc && c.retain_checkpoint_days == t[i].want &&
			(rc == 0 || strstr(err, "give at least 30, or 0 to keep them")),
		    t[i].what, d);
	}
}

/* checkpoint_calls, checkpoint_secs: defaults and bounds, from the file. */
static void checkpoint_parse_tests(const char *dir)
{
	struct lector_config c;
	char err[512] = "", path[4096];
	FILE *f;
	int rc;

	config_defaults(&c);
	tap(c.checkpoint_calls == 16 && c.checkpoint_secs == 60,
	    "checkpoints by default: every 16 calls, 60 s", NULL);
	rc = config_parse_checkpoint(&c, "checkpoint_calls", "0", err, sizeof(err));
	tap(rc == 0 && c.checkpoint_calls == 0, "checkpoint_calls 0 (off) is accepted", err);
	rc = config_parse_checkpoint(&c, "checkpoint_calls", "1000001", err, sizeof(err));
	tap(rc == -ERANGE && c.checkpoint_calls == 0 && strstr(err, "1 to 1000000"),
	    "checkpoint_calls 1000001 is refused with the bounds", err);
	rc = config_parse_checkpoint(&c, "checkpoint_secs", "86400", err, sizeof(err));
	tap(rc == 0 && c.checkpoint_secs == 86400, "checkpoint_secs 86400 is accepted", err);
	snprintf(path, sizeof(path), "%s/ckpt.conf", dir);
	f = fopen(path, "w");
	if (!f || fputs("checkpoint_calls = 8\nretain_checkpoint_days = 12\ncheckpoint_secs = x\n", f) < 0 ||
	    fclose(f)) {
		tap(0, "the scratch config file is written", path);
		return;
	}
	config_defaults(&c);
	rc = config_load_file(&c, path, err, sizeof(err));
	tap(rc == -EINVAL && c.checkpoint_calls == 8 && c.retain_checkpoint_days == 12 &&
		c.retain_checkpoint_days_given && strstr(err, "ckpt.conf:3: 'x' is not a number: checkpoint_secs"),
	    "config file: checkpoint keys are read, a bad value is refused with file and line", err);
}

/* db_host: one server or several, "a[:port],b[:port]" (the failover list). */
static void db_hosts_tests(const char *dir)
{
	struct config_db_host h[CONFIG_DB_HOSTS_MAX];
	struct lector_config c;
	char err[512] = "", path[4096];
	FILE *f;
	int n;

	n = config_db_hosts("localhost", 3306, h, CONFIG_DB_HOSTS_MAX, err, sizeof(err));
	tap(n == 1 && !strcmp(h[0].host, "localhost") && h[0].port == 3306,
	    "db_host: one name, db_port's port", err);
	n = config_db_hosts("127.0.0.2:3310, 127.0.0.3 ,db.example:4000,[::1]:3307,::1", 3306, h,
			    CONFIG_DB_HOSTS_MAX, err, sizeof(err));
	tap(n == 5 && !strcmp(h[0].host, "127.0.0.2") && h[0].port == 3310 &&
		!strcmp(h[1].host, "127.0.0.3") && h[1].port == 3306 &&
		!strcmp(h[2].host, "db.example") && h[2].port == 4000 &&
		!strcmp(h[3].host, "::1") && h[3].port == 3307 && !strcmp(h[4].host, "::1") &&
		h[4].port == 3306,
	    "db_host: a list, in order, spaces trimmed, ports where given, [IPv6]:port", err);
	n = config_db_hosts("", 3306, h, CONFIG_DB_HOSTS_MAX, err, sizeof(err));
	tap(n == 1 && !h[0].host[0], "db_host \"\": one entry, the library's default host", err);
	const char *bad[] = {"a,,b", "a:0", "a:65536", "a:33o6",
			     "a:",   ",a",  "[::1]x",  "a,b,c,d,e,f,g,h,i"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char what[128];

		err[0] = 0;
		n = config_db_hosts(bad[i], 3306, h, CONFIG_DB_HOSTS_MAX, err, sizeof(err));
		snprintf(what, sizeof(what), "db_host '%s' is refused with a sentence", bad[i]);
		tap(n == -EINVAL && strstr(err, "db_host"), what, err);
	}
	snprintf(path, sizeof(path), "%s/hosts.conf", dir);
	f = fopen(path, "w");
	if (!f || fputs("db_host = a:1,b:2\ndb_host = a:1,,b\n", f) < 0 || fclose(f)) {
		tap(0, "the scratch config file is written", path);
		return;
	}
	config_defaults(&c);
	n = config_load_file(&c, path, err, sizeof(err));
	tap(n == -EINVAL && !strcmp(c.db_host, "a:1,b:2") &&
		strstr(err, "hosts.conf:2: db_host entry '' is not host[:port]"),
	    "config file: a db_host list is kept, a bad one refused with file, line and why", err);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: retain-test SCRATCH_DIR\n");
		return 2;
	}
	cutoff_tests(wall_ns());
	parse_tests(argv[1]);
	host_id_tests(argv[1]);
	checkpoint_days_tests();
	checkpoint_parse_tests(argv[1]);
	db_hosts_tests(argv[1]);
	return 0;
}
