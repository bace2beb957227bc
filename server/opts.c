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

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: memprobe-server [options]\n"
	    "Serves memprobe's database: REST /api/*, SSE /api/events, /metrics, the dashboard.\n"
	    "Every request but /healthz needs the token: 'Authorization: Bearer TOKEN', or the\n"
	    "session cookie a browser gets by opening /?token=TOKEN once.\n"
	    "  --token-file FILE    the token (first line; 16-256 characters of A-Z a-z 0-9 "
	    "-._~+/=);\n"
	    "                       FILE must not be readable by other users (mode 600, or 640\n"
	    "                       for a group); else env MEMPROBE_SERVER_TOKEN\n"
	    "  --no-auth            serve without a token (a single-user machine, loopback only):\n"
	    "                       any local user can then read every process's calls\n"
	    "  --listen ADDR        one IP address to listen on (default 127.0.0.1); no names,\n"
	    "                       no lists, no port (that is --port)\n"
	    "  --port N             TCP port (default 8080; 0 = any free port)\n"
	    "  --expose             allow a non-loopback --listen\n"
	    "  --allow-host NAME    also answer to Host: NAME (a name a proxy or DNS gives this\n"
	    "                       server; up to 16); the listen address and, on loopback,\n"
	    "                       localhost are always allowed\n"
	    "  --tls-cert FILE      serve HTTPS with this PEM certificate (chain)\n"
	    "  --tls-key FILE       its private key (default: in the --tls-cert file)\n"
	    "  --config FILE        database settings, lector's format (db_host, db_socket, "
	    "db_port,\n"
	    "                       db_name, db_user, db_password); MEMPROBE_DB_* override it.\n"
	    "                       Use a read-only user (default user memprobe_reader).\n"
	    "  --static DIR         dashboard files (default: the installed copy, else\n"
	    "                       frontend/dist, else a placeholder)\n"
	    "  --threads N          HTTP worker threads (default 200)\n"
	    "  --sse-max N          event-stream clients (default 100, below --threads)\n"
	    "  --sse-queue N        messages queued per client before it is cut loose (default "
	    "4096)\n"
	    "  --sse-poll-ms N      database poll period for new calls (default 10)\n"
	    "  --sse-heartbeat-ms N heartbeat period (default 15000)\n"
	    "  --sse-resume-max N   a resume (Last-Event-ID) more than N ids behind gets a\n"
	    "                       'reset' event instead of a replay (default 20000)\n"
	    "  --db-pool N          database connections for requests (default 16)\n"
	    "  --db-wait-ms N       wait at most N ms for a free connection, then 503 with\n"
	    "                       Retry-After (default 1000)\n"
	    "  --series-max-calls N calls replayed for one process's memory over time\n"
	    "                       (default 200000; more: the series is marked truncated)\n"
	    "  --cache-ms N         REST answers may be up to N ms behind the database while\n"
	    "                       calls are being committed (default 100; 0 = no cache)\n"
	    "  --help               this text\n");
}

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

static const struct option long_opts[] = {{"listen", 1, 0, 'l'},
					  {"port", 1, 0, 'p'},
					  {"expose", 0, 0, 'e'},
					  {"token-file", 1, 0, 't'},
					  {"no-auth", 0, 0, 'n'},
					  {"allow-host", 1, 0, 'A'},
					  {"tls-cert", 1, 0, 'c' + 256},
					  {"tls-key", 1, 0, 'k' + 256},
					  {"config", 1, 0, 'c'},
					  {"static", 1, 0, 's'},
					  {"threads", 1, 0, 'T'},
					  {"sse-max", 1, 0, 'M'},
					  {"sse-queue", 1, 0, 'Q'},
					  {"sse-poll-ms", 1, 0, 'P'},
					  {"sse-heartbeat-ms", 1, 0, 'H'},
					  {"sse-resume-max", 1, 0, 'R'},
					  {"db-pool", 1, 0, 'D'},
					  {"db-wait-ms", 1, 0, 'W'},
					  {"cache-ms", 1, 0, 'C'},
					  {"series-max-calls", 1, 0, 'S'},
					  {"help", 0, 0, 'h'},
					  {0}};

static int copy_path(char *dst, size_t cap, const char *src)
{
	if (strlen(src) >= cap)
		return -ENAMETOOLONG;
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

/* One option; *token_file and *config point into argv. */
static int one_opt(int ch, struct server_opts *o, const char **token_file, const char **config)
{
	switch (ch) {
	case 'l':
		return parse_listen(o, optarg);
	case 'p':
		return parse_uint(optarg, 0, 65535, &o->port);
	case 'e':
		o->expose = 1;
		return 0;
	case 't':
		*token_file = optarg;
		return 0;
	case 'n':
		o->no_auth = 1;
		return 0;
	case 'A':
		return add_allowed_host(o, optarg);
	case 'c' + 256:
		return copy_path(o->tls_cert, sizeof(o->tls_cert), optarg);
	case 'k' + 256:
		return copy_path(o->tls_key, sizeof(o->tls_key), optarg);
	case 'c':
		*config = optarg;
		return 0;
	case 's':
		return copy_path(o->static_dir, sizeof(o->static_dir), optarg);
	case 'T':
		return parse_uint(optarg, 4, 4000, &o->num_threads);
	case 'M':
		return parse_uint(optarg, 0, 4000, &o->sse_max);
	case 'Q':
		return parse_uint(optarg, 16, 1000000, &o->sse_queue_len);
	case 'P':
		return parse_uint(optarg, 1, 10000, &o->sse_poll_ms);
	case 'H':
		return parse_uint(optarg, 100, 3600000, &o->sse_heartbeat_ms);
	case 'R':
		return parse_uint(optarg, 0, 100000000, &o->sse_resume_max);
	case 'D':
		return parse_uint(optarg, 1, 256, &o->db_pool_size);
	case 'W':
		return parse_uint(optarg, 10, 600000, &o->db_wait_ms);
	case 'C':
		return parse_uint(optarg, 0, 10000, &o->cache_ms);
	case 'S':
		return parse_uint(optarg, 10, 10000000, &o->series_max_calls);
	case 'h':
		usage(stdout);
		exit(0);
	default:
		usage(stderr);
		return -EINVAL;
	}
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

int opts_parse(int argc, char **argv, struct server_opts *o, const char **config)
{
	const char *token_file = NULL;
	int ch, idx = 0, rc = 0;

	while (rc == 0 && (ch = getopt_long(argc, argv, "", long_opts, &idx)) != -1) {
		rc = one_opt(ch, o, &token_file, config);
		if (rc && ch == 'l')
			fprintf(stderr,
				"memprobe-server: --listen takes one IP address, e.g. 127.0.0.1 or "
				"[::1], not '%s': no names, no lists, no port (use --port)\n",
				optarg);
		else if (rc && ch != '?')
			fprintf(stderr, "memprobe-server: bad value for --%s: '%s' (see --help)\n",
				long_opts[idx].name, optarg);
	}
	if (rc == 0 && optind < argc) {
		fprintf(stderr, "memprobe-server: unexpected argument '%s' (see --help)\n",
			argv[optind]);
		rc = -EINVAL;
	}
	if (rc == 0)
		rc = read_token(o, token_file);
	if (rc == 0)
		rc = check_safety(o);
	return rc;
}
