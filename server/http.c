/*
 * http.c - replies: what a handler answers (struct reply in server.h),
 * JSON bodies and errors, a page of a list (reply_list), and http_send,
 * the one function that writes a response head and body to the
 * connection.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rows.h"
#include "server.h"

static const char common_headers[] = "Cache-Control: no-store\r\n" SECURITY_HEADERS;
static const char oom_body[] = "{\"error\":\"out of memory\"}";

/* Head and body leave in one write when they fit 8 KiB: two small writes
 * meet delayed ACKs (tcp_nodelay is set as well). */
int http_send(struct mg_connection *c, int status, const char *ctype, const char *extra,
	      const char *body, size_t len_bytes)
{
	char *buf = malloc(8192);
	int n =
	    buf ? snprintf(buf, 8192,
			   "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s%s\r\n",
			   status, mg_get_response_code_text(c, status), ctype, len_bytes,
			   common_headers, extra)
		: -1;

	if (n > 0 && (size_t)n + len_bytes <= 8192) {
		memcpy(buf + n, body, len_bytes);
		mg_write(c, buf, n + len_bytes);
	} else {
		if (n > 0 && n < 8192)
			mg_write(c, buf, n);
		mg_write(c, body, len_bytes);
	}
	free(buf);
	return status;
}

static void reply_release(struct reply *rp)
{
	if (rp->release)
		rp->release(rp->owner);
	rp->release = NULL;
	rp->owner = NULL;
}

int reply_send(struct mg_connection *c, struct reply *rp)
{
	int status = rp->status;

	if (status && !rp->streamed)
		http_send(c, status, rp->ctype, rp->extra ? rp->extra : "", rp->body,
			  rp->len_bytes);
	reply_release(rp);
	return status;
}

int reply_borrowed(struct req *r, int status, const char *ctype, const char *body, size_t len_bytes,
		   void (*release)(void *), void *owner)
{
	struct reply *rp = &r->reply;

	reply_release(rp);
	*rp = (struct reply){.status = status,
			     .ctype = ctype,
			     .extra = "",
			     .body = body,
			     .len_bytes = len_bytes,
			     .release = release,
			     .owner = owner};
	return status;
}

int reply_text(struct req *r, int status, const char *ctype, const char *body, size_t len_bytes)
{
	return reply_borrowed(r, status, ctype, body, len_bytes, NULL, NULL);
}

int reply_owned(struct req *r, int status, const char *ctype, char *body, size_t len_bytes)
{
	return reply_borrowed(r, status, ctype, body, len_bytes, free, body);
}

int reply_streamed(struct req *r)
{
	reply_text(r, 200, "text/event-stream", "", 0);
	r->reply.streamed = 1;
	return 200;
}

int reply_json(struct req *r, int status, cJSON *body)
{
	char *s = cJSON_PrintUnformatted(body);

	cJSON_Delete(body);
	if (!s)
		return reply_text(r, 500, "application/json", oom_body, sizeof(oom_body) - 1);
	return reply_owned(r, status, "application/json", s, strlen(s));
}

int reply_error(struct req *r, int status, const char *error, const char *param, const char *reason)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "error", error);
	if (param)
		cJSON_AddStringToObject(o, "parameter", param);
	if (reason)
		cJSON_AddStringToObject(o, "reason", reason);
	return reply_json(r, status, o);
}

int reply_db_error(struct req *r, int rc, const char *what)
{
	char reason[320];

	if (rc != -ETIMEDOUT && rc != -EBUSY) {
		mg_cry(r->conn, "database: %s", what);
		reply_error(r, 503, "database unavailable", NULL,
			    "the server could not query MariaDB; check that it runs and see "
			    "the server log");
		return -EIO;
	}
	/* Busy, not broken: the client may simply ask again a little later. */
	snprintf(reason, sizeof(reason), "%s; retry after the Retry-After seconds", what);
	reply_error(r, 503, "server busy", NULL, reason);
	if (r->reply.status == 503)
		r->reply.extra = "Retry-After: 1\r\n";
	return rc;
}

int reply_list(struct req *r, const struct list_page *pg)
{
	cJSON *rows = cJSON_CreateArray(), *o;
	uint64_t total = 0;
	char err[256];
	int rc = db_select(r->db, pg->rows_sql, pg->p, pg->n_filter + 2, pg->add_row, rows, err,
			   sizeof(err));

	if (rc == 0)
		rc = db_select(r->db, pg->count_sql, pg->p, pg->n_count, row_first_u64, &total, err,
			       sizeof(err));
	if (rc < 0) {
		cJSON_Delete(rows);
		return reply_db_error(r, rc, err);
	}
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "total", (double)total);
	cJSON_AddNumberToObject(o, "limit", (double)pg->limit);
	cJSON_AddNumberToObject(o, "offset", (double)pg->offset);
	if (pg->sort) {
		cJSON_AddStringToObject(o, "sort", pg->sort);
		cJSON_AddStringToObject(o, "order", pg->order);
	}
	cJSON_AddItemToObject(o, pg->key, rows);
	return reply_json(r, 200, o);
}
