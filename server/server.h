/*
 * server.h - what the parts of memprobe-server share: settings, the
 * request context handed to every route handler, and each part's entry
 * points.  Handlers are plain functions listed in main.c's route table.
 */
#ifndef MEMPROBE_SERVER_H
#define MEMPROBE_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <civetweb.h>
#include <cjson/cJSON.h>

#include "db.h"

struct server_opts {
	char listen_addr[64];
	unsigned int port;
	int expose;	 /* non-loopback listen allowed */
	char token[128]; /* bearer token; required with expose */
	char static_dir[512];
	unsigned int num_threads;
	unsigned int sse_max;	    /* must stay below num_threads */
	unsigned int sse_queue_len; /* messages per client before cut loose */
	unsigned int sse_poll_ms;
	unsigned int sse_heartbeat_ms;
	unsigned int db_pool_size;
	unsigned int cache_ms; /* REST answers at most this stale */
	unsigned int series_max_calls;
};

/* One request: the connection, its parsed query, and the pool. */
struct req {
	struct mg_connection *conn;
	const struct mg_request_info *ri;
	const char *path_arg; /* rest of the path after a prefix route */
	struct db_pool *db;
};

typedef int (*route_fn)(struct req *r);

/* http.c: responses and validated parameters.  The param_* helpers send
 * the 400 themselves and return -EINVAL, so a handler just returns. */
int http_send_json(struct mg_connection *c, int status, cJSON *body);
int http_send_error(struct mg_connection *c, int status, const char *error, const char *param,
		    const char *reason);
int http_send_text(struct mg_connection *c, int status, const char *ctype, const char *body,
		   size_t len_bytes);
int http_check_params(struct req *r, const char *const *allowed);
int param_u64(struct req *r, const char *name, uint64_t min, uint64_t max, uint64_t def,
	      uint64_t *out);
int param_str(struct req *r, const char *name, char *out, size_t cap, const char *charset);
int param_enum(struct req *r, const char *name, const char *const *values, int def, int *out);
int http_db_error(struct req *r, const char *what);
cJSON *json_add_bytes_str(cJSON *obj, const char *key, const char *bytes, size_t len);
cJSON *json_int_raw(const char *digits);
void json_add_int_raw(cJSON *obj, const char *key, const char *digits);
void json_clean_utf8(char *dst, size_t cap, const char *src, size_t len);

/* cache.c: keys are "path?query"; longer ones are not cached. */
#define CACHE_KEY_BYTES 320
void cache_init(unsigned int cache_ms);
int cache_serve(struct mg_connection *conn, const char *key);
void cache_disarm(void);
void cache_store(int status, const char *body, size_t len_bytes);
/* api_proc.c */
int api_processes(struct req *r);
int api_process_one(struct req *r);
int api_top(struct req *r);
cJSON *proc_row_json(char **col, unsigned long *len);
extern const char proc_by_key_sql[];
/* proc_series.c */
void proc_series_set_max_calls(unsigned int max_calls);
int proc_series_add(struct db_pool *db, cJSON *proc, const char *host, uint64_t points, char *err,
		    size_t errlen);
/* api_calls.c */
int api_calls(struct req *r);
cJSON *calls_row_json(char **col, unsigned long *len);
extern const char calls_columns[];
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

extern volatile int server_stopping;

#endif
