/*
 * fake_server.h - what http_fuzz.c puts in place of CivetWeb's connection
 * and of MariaDB: every byte a handler writes is kept, every db_select()
 * is recorded (SQL text and bound parameters) and answers no rows.  The
 * connection is its struct mg_request_info; request headers are set per
 * input.  The query-string and cookie parsing itself (mg_get_var,
 * mg_url_decode, mg_get_cookie) stays CivetWeb's.
 */
#ifndef MEMPROBE_FUZZ_FAKE_SERVER_H
#define MEMPROBE_FUZZ_FAKE_SERVER_H

#include "server.h"

#define FAKE_OUT_BYTES	 65536
#define FAKE_PARAMS_MAX	 16
#define FAKE_STR_BYTES	 512
#define FAKE_HEADERS_MAX 8

struct fake_select {
	const char *sql;
	unsigned int n;
	struct db_param p[FAKE_PARAMS_MAX];
	char str[FAKE_PARAMS_MAX][FAKE_STR_BYTES]; /* copies of string params */
};

struct fake_state {
	char out[FAKE_OUT_BYTES + 1]; /* everything written, NUL-terminated */
	size_t out_len;
	unsigned int heads;	   /* writes that start an HTTP response */
	unsigned int selects;	   /* db_select calls */
	struct fake_select first;  /* the first one, bound values copied */
	const char *last_event_id; /* the Last-Event-ID header (NULL: none) */
	const char *hdr_name[FAKE_HEADERS_MAX], *hdr_value[FAKE_HEADERS_MAX];
	unsigned int n_hdrs; /* other request headers */
};

extern struct fake_state fake;
void fake_reset(void);

#endif
