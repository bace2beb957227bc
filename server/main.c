/*
 * main.c - memprobe-server: options, the route table, start-up and clean
 * shutdown.  Every URL the server answers is in routes[] below; anything
 * else under /api is a JSON 404 and the rest is static files of the
 * dashboard (frontend/dist, or a placeholder page).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h" /* lector's loader: same file format and MEMPROBE_DB_* */
#include "server.h"

volatile int server_stopping;

static const struct route {
	const char *path;
	int prefix; /* path is a prefix; the rest is path_arg */
	route_fn fn;
	int cached; /* answers depend on committed calls only */
} routes[] = {
    {"/api/processes", 0, api_processes, 1},
    {"/api/processes/", 1, api_process_one, 1},
    {"/api/top", 0, api_top, 1},
    {"/api/calls", 0, api_calls, 1},
    {"/api/hosts", 0, api_hosts, 0},
    {"/api/stats", 0, api_stats, 0},
    {"/api/events", 0, api_events, 0},
    {"/metrics", 0, api_metrics, 0},
    {"/healthz", 0, api_healthz, 0},
};

static int dispatch(struct mg_connection *conn, void *db)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	const char *uri = ri->local_uri;
	struct req r = {.conn = conn, .ri = ri, .db = db, .path_arg = ""};
	char key[CACHE_KEY_BYTES]; /* the cache keeps a pointer until fn replies */

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		size_t n = strlen(routes[i].path);

		if (routes[i].prefix ? strncmp(uri, routes[i].path, n)
				     : strcmp(uri, routes[i].path))
			continue;
		if (strcmp(ri->request_method, "GET"))
			return http_send_error(conn, 405, "method not allowed", NULL,
					       "this API is read-only: use GET");
		r.path_arg = uri + (routes[i].prefix ? n : 0);
		cache_disarm();
		if (routes[i].cached) {
			int n = snprintf(key, sizeof(key), "%s?%s", uri,
					 ri->query_string ? ri->query_string : "");

			/* A key that does not fit is served uncached: a
			 * truncated one would share an entry with others. */
			if (n >= 0 && (size_t)n < sizeof(key) && cache_serve(conn, key))
				return 200;
		}
		return routes[i].fn(&r) > 0 ? 200 : 400;
	}
	return http_send_error(conn, 404, "not found", NULL,
			       "no such endpoint; see /api/hosts, /api/processes, /api/top, /api/calls, "
			       "/api/stats, /api/events, /metrics, /healthz");
}

static const char *g_token;

/* With a token configured every request needs "Authorization: Bearer
 * TOKEN"; compared in constant time. */
static int check_auth(struct mg_connection *conn)
{
	const char *h = mg_get_header(conn, "Authorization");
	size_t n = strlen(g_token);
	unsigned char diff = 0;

	if (!g_token[0])
		return 0;
	if (h && !strncmp(h, "Bearer ", 7) && strlen(h + 7) == n) {
		for (size_t i = 0; i < n; i++)
			diff |= (unsigned char)h[7 + i] ^ (unsigned char)g_token[i];
		if (!diff)
			return 0;
	}
	static const char body[] =
	    "{\"error\":\"unauthorized\",\"reason\":\"send Authorization: Bearer TOKEN\"}";

	mg_printf(conn,
		  "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer\r\n"
		  "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
		  sizeof(body) - 1, body);
	return 401;
}

static int log_message(const struct mg_connection *conn, const char *message)
{
	(void)conn;
	fprintf(stderr, "memprobe-server: %s\n", message);
	return 1;
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: memprobe-server [options]\n"
	    "Serves memprobe's database: REST /api/*, SSE /api/events, /metrics, the dashboard.\n"
	    "  --listen ADDR        address to listen on (default 127.0.0.1)\n"
	    "  --port N             TCP port (default 8080; 0 = any free port)\n"
	    "  --expose             allow a non-loopback --listen; needs a token\n"
	    "  --token-file FILE    bearer token (or MEMPROBE_SERVER_TOKEN); required with "
	    "--expose\n"
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
	    "  --db-pool N          database connections for requests (default 16)\n"
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
	if (!*s || *end || errno || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int read_token(struct server_opts *o, const char *path)
{
	const char *env = getenv("MEMPROBE_SERVER_TOKEN");
	FILE *f;

	if (path) {
		f = fopen(path, "r");
		if (!f || !fgets(o->token, sizeof(o->token), f)) {
			fprintf(stderr, "memprobe-server: cannot read token from %s: %s\n", path,
				f ? "empty file" : strerror(errno));
			if (f)
				fclose(f);
			return -EINVAL;
		}
		fclose(f);
		o->token[strcspn(o->token, "\r\n")] = 0;
	} else if (env) {
		snprintf(o->token, sizeof(o->token), "%s", env);
	}
	if (o->token[0] && strlen(o->token) < 16) {
		fprintf(stderr, "memprobe-server: the token must be at least 16 characters\n");
		return -EINVAL;
	}
	return 0;
}

static int is_loopback(const char *a)
{
	return !strncmp(a, "127.", 4) || !strcmp(a, "localhost") || !strcmp(a, "[::1]");
}

/* Options, then the checks that keep the defaults safe. */
static int parse_opts(int argc, char **argv, struct server_opts *o, const char **config)
{
	static const struct option lo[] = {{"listen", 1, 0, 'l'},
					   {"port", 1, 0, 'p'},
					   {"expose", 0, 0, 'e'},
					   {"token-file", 1, 0, 't'},
					   {"config", 1, 0, 'c'},
					   {"static", 1, 0, 's'},
					   {"threads", 1, 0, 'T'},
					   {"sse-max", 1, 0, 'M'},
					   {"sse-queue", 1, 0, 'Q'},
					   {"sse-poll-ms", 1, 0, 'P'},
					   {"sse-heartbeat-ms", 1, 0, 'H'},
					   {"db-pool", 1, 0, 'D'},
					   {"cache-ms", 1, 0, 'C'},
					   {"series-max-calls", 1, 0, 'S'},
					   {"help", 0, 0, 'h'},
					   {0}};
	const char *token_file = NULL;
	int ch, idx = 0, rc = 0;

	while (rc == 0 && (ch = getopt_long(argc, argv, "", lo, &idx)) != -1) {
		switch (ch) {
		case 'l':
			snprintf(o->listen_addr, sizeof(o->listen_addr), "%s", optarg);
			break;
		case 'p':
			rc = parse_uint(optarg, 0, 65535, &o->port);
			break;
		case 'e':
			o->expose = 1;
			break;
		case 't':
			token_file = optarg;
			break;
		case 'c':
			*config = optarg;
			break;
		case 's':
			snprintf(o->static_dir, sizeof(o->static_dir), "%s", optarg);
			break;
		case 'T':
			rc = parse_uint(optarg, 4, 4000, &o->num_threads);
			break;
		case 'M':
			rc = parse_uint(optarg, 0, 4000, &o->sse_max);
			break;
		case 'Q':
			rc = parse_uint(optarg, 16, 1000000, &o->sse_queue_len);
			break;
		case 'P':
			rc = parse_uint(optarg, 1, 10000, &o->sse_poll_ms);
			break;
		case 'H':
			rc = parse_uint(optarg, 100, 3600000, &o->sse_heartbeat_ms);
			break;
		case 'D':
			rc = parse_uint(optarg, 1, 256, &o->db_pool_size);
			break;
		case 'C':
			rc = parse_uint(optarg, 0, 10000, &o->cache_ms);
			break;
		case 'S':
			rc = parse_uint(optarg, 10, 10000000, &o->series_max_calls);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
		if (rc)
			fprintf(stderr, "memprobe-server: bad value for --%s: '%s' (see --help)\n",
				lo[idx].name, optarg);
	}
	if (rc == 0 && optind < argc) {
		fprintf(stderr, "memprobe-server: unexpected argument '%s' (see --help)\n",
			argv[optind]);
		rc = -EINVAL;
	}
	if (rc == 0)
		rc = read_token(o, token_file);
	if (rc == 0 && !is_loopback(o->listen_addr) && !o->expose) {
		fprintf(stderr,
			"memprobe-server: --listen %s is not loopback: add --expose and a token\n",
			o->listen_addr);
		rc = -EINVAL;
	}
	if (rc == 0 && o->expose && !o->token[0]) {
		fprintf(stderr, "memprobe-server: --expose needs a bearer token: set "
				"MEMPROBE_SERVER_TOKEN or --token-file FILE (16+ characters)\n");
		rc = -EINVAL;
	}
	if (rc == 0 && o->sse_max + 8 > o->num_threads) {
		fprintf(stderr,
			"memprobe-server: --sse-max %u must stay at least 8 below --threads %u, "
			"or event streams would starve the REST API\n",
			o->sse_max, o->num_threads);
		rc = -EINVAL;
	}
	return rc;
}

static int load_db(const char *config, struct db_settings *s)
{
	struct lector_config c;
	char err[256];

	config_defaults(&c);
	snprintf(c.db_user, sizeof(c.db_user), "memprobe_reader");
	if (config && config_load_file(&c, config, err, sizeof(err)) < 0) {
		fprintf(stderr, "memprobe-server: %s\n", err);
		return -EINVAL;
	}
	config_load_env(&c);
	memset(s, 0, sizeof(*s));
	snprintf(s->host, sizeof(s->host), "%s", c.db_host);
	s->port = c.db_port;
	snprintf(s->socket, sizeof(s->socket), "%s", c.db_socket);
	snprintf(s->name, sizeof(s->name), "%s", c.db_name);
	snprintf(s->user, sizeof(s->user), "%s", c.db_user);
	snprintf(s->password, sizeof(s->password), "%s", c.db_password);
	memset(&c, 0, sizeof(c));
	return 0;
}

/* Installed (make install): BINDIR/../share/memprobe/www next to this
 * binary, wherever PREFIX or DESTDIR put it.  In the tree: no such dir. */
static int installed_www(char *dir, size_t len)
{
	char exe[400], www[PATH_MAX], idx[PATH_MAX + 16], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	struct stat st;

	if (n <= 0)
		return 0;
	exe[n] = 0;
	slash = strrchr(exe, '/');
	if (!slash)
		return 0;
	/* Canonical: CivetWeb refuses a document root with "..". */
	snprintf(slash, sizeof(exe) - (size_t)(slash - exe), "/../share/memprobe/www");
	if (!realpath(exe, www) || strlen(www) >= len)
		return 0;
	snprintf(idx, sizeof(idx), "%s/index.html", www);
	if (stat(idx, &st))
		return 0;
	snprintf(dir, len, "%s", www);
	return 1;
}

static void pick_static(struct server_opts *o)
{
	struct stat st;

	if (o->static_dir[0] || installed_www(o->static_dir, sizeof(o->static_dir)))
		return;
	if (stat("frontend/dist/index.html", &st) == 0)
		snprintf(o->static_dir, sizeof(o->static_dir), "frontend/dist");
	else
		snprintf(o->static_dir, sizeof(o->static_dir), "%s", MEMPROBE_PLACEHOLDER_DIR);
}

static struct mg_context *start_http(struct server_opts *o, struct db_pool *db)
{
	char ports[96], threads[16];
	struct mg_callbacks cb = {.begin_request = check_auth, .log_message = log_message};
	const char *opts[] = {"listening_ports",
			      ports,
			      "num_threads",
			      threads,
			      "document_root",
			      o->static_dir,
			      "enable_directory_listing",
			      "no",
			      "cgi_pattern",
			      "",
			      "ssi_pattern",
			      "",
			      "access_control_allow_origin",
			      "",
			      "request_timeout_ms",
			      "10000",
			      "keep_alive_timeout_ms",
			      "2000",
			      "enable_keep_alive",
			      "yes",
			      "tcp_nodelay",
			      "1",
			      "additional_header",
			      "X-Content-Type-Options: nosniff",
			      "hide_files_patterns",
			      "**/.*",
			      NULL};
	struct mg_context *ctx;

	snprintf(ports, sizeof(ports), "%s:%u", o->listen_addr, o->port);
	snprintf(threads, sizeof(threads), "%u", o->num_threads);
	g_token = o->token;
	ctx = mg_start(&cb, NULL, opts);
	if (!ctx) {
		fprintf(stderr,
			"memprobe-server: cannot listen on %s (port in use? see the log above)\n",
			ports);
		return NULL;
	}
	mg_set_request_handler(ctx, "/api", dispatch, db);
	mg_set_request_handler(ctx, "/metrics", dispatch, db);
	mg_set_request_handler(ctx, "/healthz", dispatch, db);
	return ctx;
}

int main(int argc, char **argv)
{
	struct server_opts o = {.listen_addr = "127.0.0.1",
				.port = 8080,
				.num_threads = 200,
				.sse_max = 100,
				.sse_queue_len = 4096,
				.sse_poll_ms = 10,
				.sse_heartbeat_ms = 15000,
				.db_pool_size = 16,
				.cache_ms = 100,
				.series_max_calls = 200000};
	struct db_pool *db = NULL, *poll_db = NULL;
	struct mg_context *ctx = NULL;
	struct mg_server_port sp[4];
	struct db_settings dbs;
	const char *config = NULL;
	sigset_t sigs;
	char err[512];
	int sig, rc;

	rc = parse_opts(argc, argv, &o, &config);
	if (rc == 0)
		rc = load_db(config, &dbs);
	if (rc == 0 && ((rc = db_pool_create(&db, &dbs, o.db_pool_size, err, sizeof(err))) < 0 ||
			(rc = db_pool_create(&poll_db, &dbs, 1, err, sizeof(err))) < 0))
		fprintf(
		    stderr,
		    "memprobe-server: %s\n(set MEMPROBE_DB_* or --config; is MariaDB running?)\n",
		    err);
	memset(&dbs, 0, sizeof(dbs));
	/* Signals go to sigwait below, never to a worker thread. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	cache_init(o.cache_ms);
	proc_series_set_max_calls(o.series_max_calls);
	if (rc == 0)
		rc = sse_start(db, poll_db, &o);
	if (rc == 0) {
		pick_static(&o);
		mg_init_library(0);
		ctx = start_http(&o, db);
		rc = ctx ? 0 : -EADDRINUSE;
	}
	if (rc == 0) {
		int n = mg_get_server_ports(ctx, 4, sp);

		printf("memprobe-server: listening on http://%s:%d/\n", o.listen_addr,
		       n > 0 ? sp[0].port : 0);
		fflush(stdout);
		sigwait(&sigs, &sig);
		fprintf(stderr, "memprobe-server: signal %d, shutting down\n", sig);
	}
	server_stopping = 1;
	sse_stop();
	if (ctx)
		mg_stop(ctx);
	db_pool_destroy(db);
	db_pool_destroy(poll_db);
	return rc == 0 ? 0 : 1;
}
