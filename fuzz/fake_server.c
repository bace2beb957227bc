/*
 * fake_server.c - CivetWeb output calls and db_select() for http_fuzz.c
 * (see fake_server.h).  The harness binary defines these symbols, so the
 * server objects linked into it call them instead of libcivetweb's and
 * server/db.c's.
 */
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "fake_server.h"

struct fake_state fake;
atomic_int server_stopping = 1; /* SSE: no poller loop, no client loop */

void fake_reset(void)
{
	fake.out_len = 0;
	fake.out[0] = 0;
	fake.heads = 0;
	fake.selects = 0;
	memset(&fake.first, 0, sizeof(fake.first));
	fake.last_event_id = NULL;
	fake.n_hdrs = 0;
}

static void out_append(const char *buf, size_t len)
{
	if (!strncmp(buf, "HTTP/1.1 ", len < 9 ? len : 9) && len >= 9)
		fake.heads++;
	if (len > FAKE_OUT_BYTES - fake.out_len)
		len = FAKE_OUT_BYTES - fake.out_len;
	memcpy(fake.out + fake.out_len, buf, len);
	fake.out_len += len;
	fake.out[fake.out_len] = 0;
}

int mg_write(struct mg_connection *conn, const void *buf, size_t len)
{
	(void)conn;
	out_append(buf, len);
	return (int)len;
}

int mg_printf(struct mg_connection *conn, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	int n;

	(void)conn;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		out_append(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
	return n;
}

void mg_cry(const struct mg_connection *conn, const char *fmt, ...)
{
	(void)conn;
	(void)fmt;
}

const char *mg_get_header(const struct mg_connection *conn, const char *name)
{
	(void)conn;
	for (unsigned int i = 0; i < fake.n_hdrs; i++)
		if (!strcasecmp(name, fake.hdr_name[i]))
			return fake.hdr_value[i];
	return strcasecmp(name, "Last-Event-ID") ? NULL : fake.last_event_id;
}

/* The harness hands the request info itself over as the connection. */
const struct mg_request_info *mg_get_request_info(const struct mg_connection *conn)
{
	return (const struct mg_request_info *)conn;
}

const char *mg_get_response_code_text(const struct mg_connection *conn, int response_code)
{
	(void)conn;
	return response_code == 400 ? "Bad Request" : "Status";
}

/* The fake database never fails with a server error code (db/db_core.c). */
unsigned int db_error_code(void)
{
	return 0;
}

int db_select(struct db_pool *p, const char *sql, const struct db_param *ps, unsigned int n,
	      db_row_fn fn, void *arg, char *err, size_t errlen)
{
	(void)p;
	(void)fn;
	(void)arg;
	(void)err;
	(void)errlen;
	if (strstr(sql, "FROM cid_leases"))
		return 0; /* the watermark (server/watermark.c), read before the answer's own */
	if (fake.selects++ || n > FAKE_PARAMS_MAX)
		return 0;
	fake.first.sql = sql;
	fake.first.n = n;
	for (unsigned int i = 0; i < n; i++) {
		fake.first.p[i] = ps[i];
		if (ps[i].type == DBP_STR) {
			size_t len = ps[i].len_bytes < FAKE_STR_BYTES - 1 ? ps[i].len_bytes
									  : FAKE_STR_BYTES - 1;

			memcpy(fake.first.str[i], ps[i].str, len);
			fake.first.str[i][len] = 0;
			fake.first.p[i].str = fake.first.str[i];
		}
	}
	return 0;
}
