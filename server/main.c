/*
 * main.c - memprobe-server: start-up and clean shutdown (options: opts.c;
 * who may ask: auth.c, run before any route; every URL it answers:
 * routes.c).
 */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h" /* lector's loader: same file format and MEMPROBE_DB_* */
#include "server.h"
#include "timetravel.h"

atomic_int server_stopping;

static int log_message(const struct mg_connection *conn, const char *message)
{
	(void)conn;
	fprintf(stderr, "memprobe-server: %s\n", message);
	return 1;
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

static void log_start(const struct server_opts *o, const struct mg_server_port *sp, int n)
{
	int v6 = o->listen_v6;

	if (o->no_auth)
		fprintf(stderr,
			"memprobe-server: WARNING: --no-auth: every local user can read every "
			"process's memory calls and addresses through this server\n");
	if (o->expose && !o->tls_cert[0])
		fprintf(stderr,
			"memprobe-server: WARNING: --expose without TLS: the token, the session "
			"cookie and every answer cross the network in clear text; anyone on the "
			"path can read them and reuse the token. Add --tls-cert/--tls-key\n");
	/* Last: whoever waits for this line has the warnings already. */
	printf("memprobe-server: listening on %s://%s%s%s:%d/\n", o->tls_cert[0] ? "https" : "http",
	       v6 ? "[" : "", o->listen_addr, v6 ? "]" : "", n > 0 ? sp[0].port : 0);
	fflush(stdout);
}

static struct mg_context *start_http(struct server_opts *o, struct db_pool *db)
{
	char ports[96], threads[16], pem[64] = "";
	struct mg_callbacks cb = {.begin_request = auth_begin_request, .log_message = log_message};
	const char *opts[40] = {"listening_ports",
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
				SECURITY_HEADER_LINES,
				"hide_files_patterns",
				"**/.*"};
	size_t n = 26;
	struct mg_context *ctx;

	mg_init_library(o->tls_cert[0] ? MG_FEATURES_TLS : 0);
	if (o->tls_cert[0]) {
		if (tls_prepare(o, pem, sizeof(pem)))
			return NULL;
		opts[n++] = "ssl_certificate";
		opts[n++] = pem;
		opts[n++] = "ssl_certificate_chain";
		opts[n++] = pem;
		opts[n++] = "ssl_protocol_version"; /* TLS 1.2 and later */
		opts[n++] = "4";
	}
	opts[n] = NULL;
	/* One literal address from inet_pton and one number: nothing in it
	 * can read as a second port. */
	snprintf(ports, sizeof(ports), o->listen_v6 ? "[%s]:%u%s" : "%s:%u%s", o->listen_addr,
		 o->port, o->tls_cert[0] ? "s" : "");
	snprintf(threads, sizeof(threads), "%u", o->num_threads);
	ctx = mg_start(&cb, NULL, opts);
	if (!ctx) {
		fprintf(stderr,
			"memprobe-server: cannot listen on %s (port in use? see the log above)\n",
			ports);
		return NULL;
	}
	routes_register(ctx, db);
	return ctx;
}

/* Before the pools and threads: what this build of CivetWeb cannot do. */
static int check_build(const struct server_opts *o)
{
	if (o->listen_v6 && !mg_check_feature(8)) {
		fprintf(stderr, "memprobe-server: this CivetWeb was built without IPv6: --listen "
				"an IPv4 address (or put a proxy in front)\n");
		return -ENOTSUP;
	}
	if (o->tls_cert[0] && !mg_check_feature(MG_FEATURES_TLS)) {
		fprintf(stderr, "memprobe-server: this CivetWeb was built without TLS\n");
		return -ENOTSUP;
	}
	return auth_init(o);
}

/* A JSON answer is built in a buffer that doubles as it grows: a page
 * of 100 processes needs 128 KiB, where glibc's default maps (and unmaps,
 * flushing every CPU's TLB) each time, and a heap top above 128 KiB free
 * is given back and asked again per request.  Keep both in the heap: at
 * most 2 MiB kept per malloc arena. */
static void malloc_tune(void)
{
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	mallopt(M_TRIM_THRESHOLD, 2 << 20);
}

int main(int argc, char **argv)
{
	struct server_opts o;
	struct db_pool *db = NULL, *poll_db = NULL;
	struct mg_context *ctx = NULL;
	struct mg_server_port sp[4];
	struct db_settings dbs;
	const char *config = NULL;
	sigset_t sigs;
	char err[512];
	int sig, rc;

	malloc_tune();
	opts_defaults(&o);
	rc = opts_parse(argc, argv, &o, &config);
	if (rc == 0)
		rc = check_build(&o);
	memset(o.token, 0, sizeof(o.token)); /* auth.c keeps its own copy */
	if (rc == 0)
		rc = load_db(config, &dbs);
	if (rc == 0 &&
	    ((rc = db_pool_create(&db, &dbs, o.db_pool_size, o.db_wait_ms, err, sizeof(err))) < 0 ||
	     (rc = db_pool_create(&poll_db, &dbs, 1, 5000, err, sizeof(err))) < 0))
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
	cache_init(o.cache_ms, sse_last_cid); /* fresh while no newer cid */
	proc_series_init(o.series_max_calls, o.db_pool_size / 4);
	tt_init(o.at_max_running);
	metrics_groups_init(o.metrics_groups);
	if (rc == 0)
		rc = sse_start(db, poll_db, &o);
	if (rc == 0) {
		pick_static(&o);
		ctx = start_http(&o, db);
		rc = ctx ? 0 : -EADDRINUSE;
	}
	if (rc == 0) {
		log_start(&o, sp, mg_get_server_ports(ctx, 4, sp));
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
