/*
 * server.h - what the parts of memprobe-server share: settings, the
 * request and the reply every route handler gets and fills, and each
 * part's entry points.  Handlers are plain functions listed in routes.c's
 * route table (docs/ARCHITECTURE.md, "The server").
 */
#ifndef MEMPROBE_SERVER_H
#define MEMPROBE_SERVER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <civetweb.h>
#include <cjson/cJSON.h>

#include "cache.h"
#include "db.h"
#include "json.h"

#define TOKEN_MAX_BYTES	   256
#define ALLOW_HOST_MAX	   16
#define HOSTNAME_MAX_BYTES 253

struct server_opts {
	char listen_addr[46]; /* one address, as inet_ntop prints it */
	int listen_v6;
	int listen_loopback;
	unsigned int port;
	int expose;  /* non-loopback listen allowed */
	int no_auth; /* serve without a token (loopback only) */
	char token[TOKEN_MAX_BYTES + 1];
	char allow_host[ALLOW_HOST_MAX][HOSTNAME_MAX_BYTES + 1]; /* more Host: names */
	unsigned int n_allow_host;
	char tls_cert[512], tls_key[512]; /* PEM files; key may be in the cert file */
	char static_dir[512];
	unsigned int num_threads;
	unsigned int sse_max;	    /* must stay below num_threads */
	unsigned int sse_queue_len; /* messages per client before cut loose */
	unsigned int sse_poll_ms;
	unsigned int sse_heartbeat_ms;
	unsigned int sse_resume_max;	 /* deeper Last-Event-ID: a reset event */
	unsigned int cid_lease_expiry_s; /* a live cid lease older than this is ignored */
	unsigned int db_pool_size;
	unsigned int db_wait_ms; /* pool wait before a 503 */
	unsigned int cache_ms;	 /* REST answers at most this stale */
	unsigned int series_max_calls;
	unsigned int at_max_running; /* tt_states at once (timetravel.h) */
	unsigned int metrics_groups; /* group series per host in /metrics */
};

/* Sent with every response, CivetWeb's own (additional_header) and ours.
 * The dashboard is Vite's build: module scripts and style sheets from
 * files, no inline script or style element, so the policy needs neither. */
#define SECURITY_HEADER_LINES                                                                      \
	"X-Content-Type-Options: nosniff\r\n"                                                      \
	"Referrer-Policy: no-referrer\r\n"                                                         \
	"X-Frame-Options: DENY\r\n"                                                                \
	"Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; "       \
	"img-src 'self' data:; connect-src 'self'; font-src 'self'; manifest-src 'self'; "         \
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
#define SECURITY_HEADERS SECURITY_HEADER_LINES "\r\n"

/* What a handler answers: it fills this and never writes to the
 * connection; the dispatcher (routes.c) stores it in the cache when the
 * route is cached, sends it, and releases the body. */
struct reply {
	int status;   /* 0: none yet */
	int streamed; /* the handler wrote its own response (the event stream) */
	const char *ctype;
	const char *extra; /* more header lines, each ending in CRLF ("" for none) */
	const char *body;
	size_t len_bytes;
	void (*release)(void *owner); /* called once the body is sent (NULL: static) */
	void *owner;
};

/* One request: the connection, its parsed query, the pool, the reply
 * being built and, on a cache miss of a cached answer, the ticket its
 * body is stored under. */
struct req {
	struct mg_connection *conn;
	const struct mg_request_info *ri;
	const char *path_arg; /* rest of the path after a prefix route */
	struct db_pool *db;
	struct reply reply;
	struct cache_ticket cache;
};

/* Handlers return the status they set in r->reply. */
typedef int (*route_fn)(struct req *r);

/* opts.c: the option table, its defaults and the safety checks; 0 or
 * -EINVAL (message printed). */
void opts_defaults(struct server_opts *o);
int opts_parse(int argc, char **argv, struct server_opts *o, const char **config);

/* auth.c: who may ask (token, session cookie), Host and Origin checks and
 * the security headers, before any route or static file. */
int auth_init(const struct server_opts *o);
int auth_begin_request(struct mg_connection *conn);

/* tls.c: CivetWeb's ssl_certificate (certificate and key in one PEM) from
 * --tls-cert/--tls-key; call between mg_init_library and mg_start. */
int tls_prepare(const struct server_opts *o, char *pem_path, size_t cap);

/* routes.c: the route table and the dispatcher. */
void routes_register(struct mg_context *ctx, struct db_pool *db);

/* http.c: replies, and the one function that writes a response.  Each
 * reply_* sets r->reply (releasing a body set before) and returns the
 * status. */
int http_send(struct mg_connection *c, int status, const char *ctype, const char *extra,
	      const char *body, size_t len_bytes);
int reply_send(struct mg_connection *c, struct reply *rp);
int reply_text(struct req *r, int status, const char *ctype, const char *body, size_t len_bytes);
/* body is malloc'd; the reply frees it. */
int reply_owned(struct req *r, int status, const char *ctype, char *body, size_t len_bytes);
int reply_borrowed(struct req *r, int status, const char *ctype, const char *body, size_t len_bytes,
		   void (*release)(void *), void *owner);
int reply_json(struct req *r, int status, cJSON *body);
int reply_error(struct req *r, int status, const char *error, const char *param,
		const char *reason);
/* A failed db_select (rc < 0): 503, with Retry-After when the pool was
 * busy (-ETIMEDOUT) rather than the database down; returns rc. */
int reply_db_error(struct req *r, int rc, const char *what);
/* The handler writes the response itself (the event stream). */
int reply_streamed(struct req *r);

/* A page of a list: rows_sql with p[0 .. n_filter) (the filters) then
 * limit and offset, count_sql with the first n_count of them (the rows
 * matching the filters), answered as {total, limit, offset, sort, order
 * (when sort is set), KEY: [what add_row made of each row]}. */
struct list_page {
	const char *rows_sql, *count_sql;
	const struct db_param *p;
	unsigned int n_filter, n_count;
	uint64_t limit, offset;
	db_row_fn add_row; /* arg: the cJSON array */
	const char *key, *sort, *order;
};
int reply_list(struct req *r, const struct list_page *pg);

/* params.c: validated query parameters.  A bad one sets a 400 reply
 * naming it and why, and the helper returns -EINVAL, so a handler just
 * returns. */
int http_check_params(struct req *r, const char *const *allowed);
int param_u64(struct req *r, const char *name, uint64_t min, uint64_t max, uint64_t def,
	      uint64_t *out);
int param_str(struct req *r, const char *name, char *out, size_t cap, const char *charset);
int param_enum(struct req *r, const char *name, const char *const *values, int def, int *out);
/* user=NAME as a uid into *uid, unless *uid is set already (uid=). */
int param_user(struct req *r, uint64_t *uid);

/* A group name (cgroups.name) is at most this long: the bound of group=. */
#define GROUP_NAME_MAX_BYTES 255

/* api_proc.c */
int api_processes(struct req *r);
int api_process_one(struct req *r);
int api_top(struct req *r);
/* proc_series.c */
/* max_calls: calls replayed at most per request; max_running: replays at
 * once (more: -EBUSY, so heavy requests cannot take every connection). */
void proc_series_init(unsigned int max_calls, unsigned int max_running);
/* One process's calls with ts_ns <= until_ns (UINT64_MAX: all) replayed
 * from its first through model/acct.c, at most --series-max-calls of
 * them; fn (NULL: none) sees the process after each call.  On success
 * out->acct holds the state (out->proc, NULL when no call; the caller
 * acct_free()s it). */
struct acct;
struct acct_proc;
struct memprobe_record;
typedef int (*replay_fn)(void *arg, const struct memprobe_record *rec, const struct acct_proc *p);
struct replay_result {
	struct acct *acct;
	struct acct_proc *proc;
	uint64_t calls; /* the process's calls up to until_ns */
	size_t replayed;
};
int proc_replay(struct db_pool *db, const char *host, uint64_t pid, uint64_t start_ns,
		uint64_t until_ns, replay_fn fn, void *arg, struct replay_result *out, char *err,
		size_t errlen);
/* The series of proc's calls with ts_ns <= until_ns (UINT64_MAX: all). */
int proc_series_add(struct db_pool *db, cJSON *proc, const char *host, uint64_t points,
		    uint64_t until_ns, char *err, size_t errlen);
/* --series-max-calls: calls one request replays or folds at most. */
unsigned int series_max_calls(void);
/* api_at.c: /api/processes?at=T is api_processes_at (timetravel.h) */
int api_diff(struct req *r);
/* api_mappings.c */
int api_mappings(struct req *r);
int api_oom_forensics(struct req *r);
/* api_groups.c */
int api_groups(struct req *r);
/* metrics_groups.c: at most N group series per host in /metrics. */
void metrics_groups_init(unsigned int max_per_host);
/* api_oom.c */
int api_oom(struct req *r);
/* One /api/oom row into the array arg; oom_one_sql: one kill by host
 * name, session, seq (its host_id and calls cid follow the row's). */
int oom_row_add(void *arg, char **col, unsigned long *len, unsigned int ncols);
extern const char oom_one_sql[];
#define OOM_COL_HOST_ID 18
#define OOM_COL_CID	19
/* api_calls.c */
int api_calls(struct req *r);
/* api_hosts.c */
int api_hosts(struct req *r);
/* api_stats.c */
int api_stats(struct req *r);
int api_metrics(struct req *r);
int api_healthz(struct req *r);
/* sse.c */
int sse_start(struct db_pool *rest_db, struct db_pool *poll_db, const struct server_opts *o);
void sse_stop(void);
int api_events(struct req *r);
unsigned int sse_client_count(void);
uint64_t sse_cut_total(void);
uint64_t sse_sent_total(void);
uint64_t sse_last_cid(void);
uint64_t sse_reset_total(void);
int sse_db_healthy(uint64_t *age_ms);

/* watermark.c: calls with cid <= *mark never gain a row below them later
 * (cid leases, migration 020); UINT64_MAX: no cap.  init: before threads. */
void watermark_init(unsigned int expiry_seconds);
int watermark_read(struct db_pool *db, uint64_t *mark, char *err, size_t errlen);
uint64_t watermark_expired_leases(void); /* live leases ignored, last read */
uint64_t watermark_last(void);

/* Set once by main() at shutdown; the SSE poller and client loops stop. */
extern atomic_int server_stopping;

#endif
