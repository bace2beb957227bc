/*
 * opts.c - memprobe-server's command line: the option table, --help, and
 * the checks that keep the defaults safe.  A listen address is one IPv4
 * address (or an IPv6 one, where CivetWeb was built with IPv6), parsed
 * with inet_pton, so nothing CivetWeb would read as a second port can get
 * through; a token is required unless --no-auth says otherwise on
 * loopback; a token file others can read is refused.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server.h"

#define TOKEN_MIN_BYTES	     16
#define TOKEN_FILE_MAX_BYTES 4096
/* RFC 6750's b64token, which every HTTP client sends unchanged. */
#define TOKEN_CHARSET "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~+/="

/* What the table's entries parse into; the token file and the config
 * file are read after the whole command line. */
struct opts_ctx {
	struct server_opts *o;
	const char *token_file, *config; /* point into argv */
};

static int parse_uint(const char *s, unsigned int min, unsigned int max, unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (!*s || *s == '-' || *end || errno || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* One address: dotted IPv4, or IPv6 with or without brackets.  Stored as
 * inet_ntop prints it, so listening_ports is built from a canonical
 * literal and nothing else. */
static int parse_listen(struct server_opts *o, const char *arg)
{
	char buf[INET6_ADDRSTRLEN + 2];
	unsigned char a[16];
	size_t n = strlen(arg);

	if (n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, arg, n + 1);
	if (buf[0] == '[' && n > 2 && buf[n - 1] == ']') {
		buf[n - 1] = 0;
		memmove(buf, buf + 1, n - 1);
	}
	if (inet_pton(AF_INET, buf, a) == 1 && !strcmp(buf, arg))
		o->listen_v6 = 0;
	else if (inet_pton(AF_INET6, buf, a) == 1)
		o->listen_v6 = 1;
	else
		return -EINVAL;
	inet_ntop(o->listen_v6 ? AF_INET6 : AF_INET, a, o->listen_addr, sizeof(o->listen_addr));
	o->listen_loopback = o->listen_v6 ? !strcmp(o->listen_addr, "::1") : a[0] == 127;
	return 0;
}

/* A host name or address a client may put in Host: (no port). */
static int add_allowed_host(struct server_opts *o, const char *name)
{
	size_t n = strlen(name);

	if (o->n_allow_host == ALLOW_HOST_MAX || n == 0 || n > HOSTNAME_MAX_BYTES ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != n)
		return -EINVAL;
	memcpy(o->allow_host[o->n_allow_host++], name, n + 1);
	return 0;
}

static int token_ok(const char *t, const char *from)
{
	size_t n = strlen(t);

	if (n < TOKEN_MIN_BYTES || n > TOKEN_MAX_BYTES || strspn(t, TOKEN_CHARSET) != n) {
		fprintf(stderr,
			"memprobe-server: the token in %s must be %d to %d characters of "
			"A-Z a-z 0-9 -._~+/= (make run and make install generate one)\n",
			from, TOKEN_MIN_BYTES, TOKEN_MAX_BYTES);
		return -EINVAL;
	}
	return 0;
}

/* The first line of PATH; the file must be a regular file others cannot
 * read or write: whoever can read it can read the API. */
static int read_token_file(struct server_opts *o, const char *path)
{
	char buf[TOKEN_FILE_MAX_BYTES + 1];
	struct stat st;
	ssize_t n = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), rc = -EINVAL;

	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "memprobe-server: cannot read the token file %s: %s\n", path,
			fd < 0 ? strerror(errno) : "not a regular file");
	} else if (st.st_mode & (S_IROTH | S_IWOTH)) {
		fprintf(stderr,
			"memprobe-server: the token file %s can be read or written by every user "
			"(mode %03o): chmod 600 %s (or 640 for a group of readers)\n",
			path, (unsigned int)(st.st_mode & 0777), path);
	} else if ((n = read(fd, buf, sizeof(buf))) < 0 || n > TOKEN_FILE_MAX_BYTES) {
		fprintf(stderr, "memprobe-server: the token file %s: %s\n", path,
			n < 0 ? strerror(errno) : "longer than 4 KiB: not a token file");
	} else {
		buf[n] = 0;
		buf[strcspn(buf, "\r\n")] = 0;
		if (strlen(buf) <= TOKEN_MAX_BYTES)
			memcpy(o->token, buf, strlen(buf) + 1);
		rc = token_ok(buf, path);
	}
	if (fd >= 0)
		close(fd);
	memset(buf, 0, sizeof(buf));
	return rc;
}

static int read_token(struct server_opts *o, const char *path)
{
	const char *env = getenv("MEMPROBE_SERVER_TOKEN");

	if (path)
		return read_token_file(o, path);
	if (env && *env) {
		if (token_ok(env, "MEMPROBE_SERVER_TOKEN"))
			return -EINVAL;
		memcpy(o->token, env, strlen(env) + 1);
	}
	return 0;
}

static int set_listen(struct opts_ctx *c, const char *arg)
{
	return parse_listen(c->o, arg);
}
static int set_allow_host(struct opts_ctx *c, const char *arg)
{
	return add_allowed_host(c->o, arg);
}
static int set_token_file(struct opts_ctx *c, const char *arg)
{
	c->token_file = arg;
	return 0;
}
static int set_config(struct opts_ctx *c, const char *arg)
{
	c->config = arg;
	return 0;
}

/* How an option stores its value: a flag sets an int to 1, a number is
 * checked against [min, max], a path is copied into a buffer, the rest
 * have their own parser. */
enum opt_kind { OPT_FLAG, OPT_UINT, OPT_PATH, OPT_FN, OPT_HELP };

struct opt_spec {
	const char *name;
	const char *arg; /* the value's name in --help; NULL: takes none */
	enum opt_kind kind;
	size_t field; /* offsetof(struct server_opts, ...) for FLAG, UINT, PATH */
	size_t cap;   /* PATH: the buffer's size */
	unsigned int min, max;
	int (*set)(struct opts_ctx *c, const char *arg); /* FN */
	const char *help;				 /* lines of --help, '\n' between them */
};

#define FIELD(f) offsetof(struct server_opts, f)
#define FLAG(n, f, h)                                                                              \
	{                                                                                          \
		n, NULL, OPT_FLAG, FIELD(f), 0, 0, 0, NULL, h                                      \
	}
#define UINT(n, f, lo, hi, h)                                                                      \
	{                                                                                          \
		n, "N", OPT_UINT, FIELD(f), 0, lo, hi, NULL, h                                     \
	}
#define PATH(n, a, f, h)                                                                           \
	{                                                                                          \
		n, a, OPT_PATH, FIELD(f), sizeof(((struct server_opts *)0)->f), 0, 0, NULL, h      \
	}
#define FN(n, a, fn, h)                                                                            \
	{                                                                                          \
		n, a, OPT_FN, 0, 0, 0, 0, fn, h                                                    \
	}

/* Every option, in --help order. */
static const struct opt_spec opt_table[] = {
    FN("token-file", "FILE", set_token_file,
       "the token (first line; 16-256 characters of A-Z a-z 0-9 -._~+/=);\n"
       "FILE must not be readable by other users (mode 600, or 640\n"
       "for a group); else env MEMPROBE_SERVER_TOKEN"),
    FLAG("no-auth", no_auth,
	 "serve without a token (a single-user machine, loopback only):\n"
	 "any local user can then read every process's calls"),
    FN("listen", "ADDR", set_listen,
       "one IP address to listen on (default 127.0.0.1); no names,\n"
       "no lists, no port (that is --port)"),
    UINT("port", port, 0, 65535, "TCP port (default 8080; 0 = any free port)"),
    FLAG("expose", expose, "allow a non-loopback --listen"),
    FN("allow-host", "NAME", set_allow_host,
       "also answer to Host: NAME (a name a proxy or DNS gives this\n"
       "server; up to 16); the listen address and, on loopback,\n"
       "localhost are always allowed"),
    PATH("tls-cert", "FILE", tls_cert, "serve HTTPS with this PEM certificate (chain)"),
    PATH("tls-key", "FILE", tls_key, "its private key (default: in the --tls-cert file)"),
    FN("config", "FILE", set_config,
       "database settings, lector's format (db_host, db_socket, db_port,\n"
       "db_name, db_user, db_password); MEMPROBE_DB_* override it.\n"
       "Use a read-only user (default user memprobe_reader)."),
    PATH("static", "DIR", static_dir,
	 "dashboard files (default: the installed copy, else\n"
	 "frontend/dist, else a placeholder)"),
    UINT("threads", num_threads, 4, 4000, "HTTP worker threads (default 200)"),
    UINT("sse-max", sse_max, 0, 4000, "event-stream clients (default 100, below --threads)"),
    UINT("sse-queue", sse_queue_len, 16, 1000000,
	 "messages queued per client before it is cut loose (default 4096)"),
    UINT("sse-poll-ms", sse_poll_ms, 1, 10000, "database poll period for new calls (default 10)"),
    UINT("sse-heartbeat-ms", sse_heartbeat_ms, 100, 3600000, "heartbeat period (default 15000)"),
    UINT("sse-resume-max", sse_resume_max, 0, 100000000,
	 "a resume (Last-Event-ID) more than N ids behind gets a\n"
	 "'reset' event instead of a replay (default 20000)"),
    UINT("cid-lease-expiry-s", cid_lease_expiry_s, 101, 86400,
	 "count a lector's cid lease live for longer than this in\n"
	 "/api/stats and /metrics (an alert: streaming waits for it\n"
	 "until a lector fences it after 100 s; default 120)"),
    UINT("db-pool", db_pool_size, 1, 256, "database connections for requests (default 16)"),
    UINT("db-wait-ms", db_wait_ms, 10, 600000,
	 "wait at most N ms for a free connection, then 503 with\n"
	 "Retry-After (default 1000)"),
    UINT("series-max-calls", series_max_calls, 10, 10000000,
	 "calls replayed for one process's memory over time\n"
	 "(default 200000; more: the series is marked truncated)"),
    UINT("at-max-running", at_max_running, 2, 256,
	 "instants computed at once (?at=, /api/diff: two each,\n"
	 "/mappings?at=); more: 503 with Retry-After (default 4)"),
    UINT("cache-ms", cache_ms, 0, 10000,
	 "REST answers may be up to N ms behind the database while\n"
	 "calls are being committed (default 100; 0 = no cache)"),
    UINT("metrics-groups", metrics_groups, 0, 500,
	 "/metrics gives per-group series for the N groups of each\n"
	 "host with the most resident bytes (default 20; 0 = none)"),
    {"help", NULL, OPT_HELP, 0, 0, 0, 0, NULL, "this text"},
};
#define N_OPTS (sizeof(opt_table) / sizeof(opt_table[0]))

void opts_defaults(struct server_opts *o)
{
	*o = (struct server_opts){.listen_addr = "127.0.0.1",
				  .listen_loopback = 1,
				  .port = 8080,
				  .num_threads = 200,
				  .sse_max = 100,
				  .sse_queue_len = 4096,
				  .sse_poll_ms = 10,
				  .sse_heartbeat_ms = 15000,
				  .sse_resume_max = 20000,
				  .cid_lease_expiry_s = 120,
				  .db_pool_size = 16,
				  .db_wait_ms = 1000,
				  .cache_ms = 100,
				  .series_max_calls = 200000,
				  .at_max_running = 4,
				  .metrics_groups = 20};
}

static void usage(FILE *f)
{
	fputs("usage: memprobe-server [options]\n"
	      "Serves memprobe's database: REST /api/*, SSE /api/events, /metrics, the dashboard.\n"
	      "Every request but /healthz needs the token: 'Authorization: Bearer TOKEN', or the\n"
	      "session cookie a browser gets by opening /?token=TOKEN once.\n",
	      f);
	for (size_t i = 0; i < N_OPTS; i++) {
		const struct opt_spec *s = &opt_table[i];
		char head[32];

		snprintf(head, sizeof(head), "--%s%s%s", s->name, s->arg ? " " : "",
			 s->arg ? s->arg : "");
		fprintf(f, "  %-20s ", head);
		for (const char *p = s->help; *p;) {
			size_t n = strcspn(p, "\n");

			fprintf(f, "%.*s\n", (int)n, p);
			p += n;
			if (*p && *++p)
				fprintf(f, "%23s", "");
		}
	}
}

static int copy_path(char *dst, size_t cap, const char *src)
{
	if (strlen(src) >= cap)
		return -ENAMETOOLONG;
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

/* The combinations that would make the defaults unsafe, refused. */
static int check_safety(const struct server_opts *o)
{
	const char *why = NULL;

	if (!o->listen_loopback && !o->expose)
		why = "--listen of a non-loopback address needs --expose (see the manual's "
		      "safety section)";
	else if (o->no_auth && o->token[0])
		why = "--no-auth and a token were both given: choose one";
	else if (o->no_auth && o->expose)
		why = "--no-auth is for loopback only: it cannot go with --expose";
	else if (!o->no_auth && !o->token[0])
		why = "a token is needed: --token-file FILE (make run writes var/api-token, make "
		      "install /etc/memprobe/api-token) or MEMPROBE_SERVER_TOKEN; --no-auth only "
		      "on a single-user machine";
	else if (o->tls_key[0] && !o->tls_cert[0])
		why = "--tls-key needs --tls-cert";
	else if (o->sse_max + 8 > o->num_threads)
		why = "--sse-max must stay at least 8 below --threads, or event streams would "
		      "starve the REST API";
	if (why)
		fprintf(stderr, "memprobe-server: %s\n", why);
	return why ? -EINVAL : 0;
}

/* One option's value into its place. */
static int store(const struct opt_spec *s, struct opts_ctx *c, const char *arg)
{
	char *field = (char *)c->o + s->field;

	switch (s->kind) {
	case OPT_FLAG:
		*(int *)field = 1;
		return 0;
	case OPT_UINT:
		return parse_uint(arg, s->min, s->max, (unsigned int *)field);
	case OPT_PATH:
		return copy_path(field, s->cap, arg);
	case OPT_FN:
		return s->set(c, arg);
	case OPT_HELP:
		usage(stdout);
		exit(0);
	}
	return -EINVAL;
}

/* The command line through the table: getopt_long's val is 256 + the
 * table index. */
static int parse_argv(int argc, char **argv, struct opts_ctx *c)
{
	struct option lo[N_OPTS + 1] = {{0}};
	int ch, rc = 0;

	for (size_t i = 0; i < N_OPTS; i++)
		lo[i] = (struct option){opt_table[i].name, opt_table[i].arg ? 1 : 0, NULL,
					256 + (int)i};
	while (rc == 0 && (ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		const struct opt_spec *s = ch >= 256 ? &opt_table[ch - 256] : NULL;

		if (!s) {
			usage(stderr);
			return -EINVAL;
		}
		rc = store(s, c, optarg);
		if (rc && s->set == set_listen)
			fprintf(stderr,
				"memprobe-server: --listen takes one IP address, e.g. 127.0.0.1 or "
				"[::1], not '%s': no names, no lists, no port (use --port)\n",
				optarg);
		else if (rc)
			fprintf(stderr, "memprobe-server: bad value for --%s: '%s' (see --help)\n",
				s->name, optarg);
	}
	if (rc == 0 && optind < argc) {
		fprintf(stderr, "memprobe-server: unexpected argument '%s' (see --help)\n",
			argv[optind]);
		rc = -EINVAL;
	}
	return rc;
}

/* Parsing, then the token, then the safety checks: each apart. */
int opts_parse(int argc, char **argv, struct server_opts *o, const char **config)
{
	struct opts_ctx c = {.o = o};
	int rc = parse_argv(argc, argv, &c);

	if (rc == 0)
		rc = read_token(o, c.token_file);
	if (rc == 0)
		rc = check_safety(o);
	*config = c.config;
	return rc;
}
