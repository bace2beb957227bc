/*
 * http.c - JSON responses, JSON errors, and validated query parameters.
 * Every parameter goes through one of the param_* helpers: a bad value
 * gets a 400 naming the parameter and why, never a guess.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

#define PARAM_MAX_BYTES 256

static const char common_headers[] = "Cache-Control: no-store\r\n" SECURITY_HEADERS;

/* Head and body leave in one write when they fit 8 KiB: two small writes
 * meet delayed ACKs (tcp_nodelay is set as well). */
int http_send_full(struct mg_connection *c, int status, const char *ctype, const char *extra,
		   const char *body, size_t len_bytes)
{
	char *buf = malloc(8192);

	cache_store(status, body, len_bytes);
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

int http_send_text(struct mg_connection *c, int status, const char *ctype, const char *body,
		   size_t len_bytes)
{
	return http_send_full(c, status, ctype, "", body, len_bytes);
}

int http_send_json(struct mg_connection *c, int status, cJSON *body)
{
	char *s = cJSON_PrintUnformatted(body);

	cJSON_Delete(body);
	if (!s)
		return http_send_text(c, 500, "application/json", "{\"error\":\"out of memory\"}",
				      25);
	http_send_text(c, status, "application/json", s, strlen(s));
	free(s);
	return status;
}

int http_send_error(struct mg_connection *c, int status, const char *error, const char *param,
		    const char *reason)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "error", error);
	if (param)
		cJSON_AddStringToObject(o, "parameter", param);
	if (reason)
		cJSON_AddStringToObject(o, "reason", reason);
	return http_send_json(c, status, o);
}

static int bad_param(struct req *r, const char *name, const char *reason)
{
	char safe[64];

	json_clean_utf8(safe, sizeof(safe), name, strlen(name));
	http_send_error(r->conn, 400, "bad parameter", safe, reason);
	return -EINVAL;
}

/* Every name in the query string must be one the route knows, with a
 * value: a typo ("limt=5") or a bare "limit" must not silently fall back
 * to a default.  Names are compared undecoded, as mg_get_var() finds them:
 * "%6cimit" is not "limit".  A name given twice: the first one counts
 * (docs/API.md). */
int http_check_params(struct req *r, const char *const *allowed)
{
	const char *q = r->ri->query_string;
	char name[PARAM_MAX_BYTES];

	while (q && *q) {
		size_t n = strcspn(q, "=&");
		int known = 0;

		if (n == 0 || n >= sizeof(name))
			return bad_param(r, n ? "(too long)" : "(empty)", "malformed query string");
		memcpy(name, q, n);
		name[n] = 0;
		for (const char *const *a = allowed; *a; a++)
			known |= !strcmp(*a, name);
		if (!known)
			return bad_param(r, name, "unknown parameter for this endpoint");
		if (q[n] != '=')
			return bad_param(r, name, "needs a value (name=value)");
		q += n;
		q += strcspn(q, "&");
		if (*q == '&')
			q++;
	}
	return 0;
}

/* 1 found, 0 absent, -EINVAL after a 400. */
static int get_raw(struct req *r, const char *name, char *out, size_t cap)
{
	const char *q = r->ri->query_string;
	int n;

	if (!q)
		return 0;
	n = mg_get_var(q, strlen(q), name, out, cap);
	if (n == -1)
		return 0;
	if (n < 0)
		return bad_param(r, name, "value too long");
	if (n == 0)
		return bad_param(r, name, "empty value");
	if ((size_t)n != strlen(out)) /* %00: the rest would be cut off unseen */
		return bad_param(r, name, "contains a NUL byte");
	return 1;
}

int param_u64(struct req *r, const char *name, uint64_t min, uint64_t max, uint64_t def,
	      uint64_t *out)
{
	char buf[32], reason[96];
	unsigned long long v;
	char *end;
	int rc = get_raw(r, name, buf, sizeof(buf));

	*out = def;
	if (rc <= 0)
		return rc;
	errno = 0;
	v = strtoull(buf, &end, 10);
	snprintf(reason, sizeof(reason), "must be an integer from %llu to %llu",
		 (unsigned long long)min, (unsigned long long)max);
	if (!isdigit((unsigned char)buf[0]) || *end || errno || v < min || v > max)
		return bad_param(r, name, reason);
	*out = v;
	return 0;
}

/* A free-text value limited to cap-1 bytes of the given character set
 * (NULL: any printable byte).  Returns 1 when present. */
int param_str(struct req *r, const char *name, char *out, size_t cap, const char *charset)
{
	int rc = get_raw(r, name, out, cap);

	if (rc <= 0) {
		out[0] = 0;
		return rc;
	}
	for (const char *p = out; *p; p++) {
		if (charset ? !strchr(charset, *p) : (unsigned char)*p < 0x20)
			return bad_param(r, name,
					 charset ? "contains a character that is not allowed"
						 : "contains a control character");
	}
	return 1;
}

int param_enum(struct req *r, const char *name, const char *const *values, int def, int *out)
{
	char buf[64], reason[256] = "must be one of:";
	int rc = get_raw(r, name, buf, sizeof(buf));

	*out = def;
	if (rc <= 0)
		return rc;
	for (int i = 0; values[i]; i++) {
		if (!strcmp(values[i], buf)) {
			*out = i;
			return 0;
		}
	}
	for (int i = 0; values[i]; i++) {
		strncat(reason, " ", sizeof(reason) - strlen(reason) - 1);
		strncat(reason, values[i], sizeof(reason) - strlen(reason) - 1);
	}
	return bad_param(r, name, reason);
}

int http_db_error(struct req *r, int rc, const char *what)
{
	cJSON *o = cJSON_CreateObject();
	char reason[320], *s;

	if (rc != -ETIMEDOUT && rc != -EBUSY) {
		mg_cry(r->conn, "database: %s", what);
		http_send_error(r->conn, 503, "database unavailable", NULL,
				"the server could not query MariaDB; check that it runs and see "
				"the server log");
		cJSON_Delete(o);
		return -EIO;
	}
	/* Busy, not broken: the client may simply ask again a little later. */
	snprintf(reason, sizeof(reason), "%s; retry after the Retry-After seconds", what);
	cJSON_AddStringToObject(o, "error", "server busy");
	cJSON_AddStringToObject(o, "reason", reason);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (s)
		http_send_full(r->conn, 503, "application/json", "Retry-After: 1\r\n", s,
			       strlen(s));
	else
		http_send_text(r->conn, 500, "application/json", "{\"error\":\"out of memory\"}",
			       25);
	free(s);
	return rc;
}

/* comm is any bytes but NUL: keep valid UTF-8, replace each other byte
 * with U+FFFD so the JSON stays valid (cJSON escapes control characters). */
void json_clean_utf8(char *dst, size_t cap, const char *src, size_t len)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t o = 0, i = 0;

	while (i < len && o + 4 < cap) {
		unsigned char ch = s[i];
		size_t need = ch < 0x80			 ? 0
			      : ch >= 0xc2 && ch <= 0xdf ? 1
			      : ch >= 0xe0 && ch <= 0xef ? 2
			      : ch >= 0xf0 && ch <= 0xf4 ? 3
							 : 9;
		/* The second byte's range rules out overlong forms, surrogates
		 * and code points above U+10FFFF (Unicode table 3-7). */
		unsigned char lo = ch == 0xe0 ? 0xa0 : ch == 0xf0 ? 0x90 : 0x80;
		unsigned char hi = ch == 0xed ? 0x9f : ch == 0xf4 ? 0x8f : 0xbf;
		size_t k;

		for (k = 1; need != 9 && k <= need && i + k < len; k++)
			if ((s[i + k] & 0xc0) != 0x80 ||
			    (k == 1 && (s[i + 1] < lo || s[i + 1] > hi)))
				break;
		if (need == 9 || k <= need) {
			memcpy(dst + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(dst + o, s + i, need + 1);
		o += need + 1;
		i += need + 1;
	}
	dst[o] = 0;
}

cJSON *json_add_bytes_str(cJSON *obj, const char *key, const char *bytes, size_t len)
{
	char clean[200];

	json_clean_utf8(clean, sizeof(clean), bytes, len);
	return cJSON_AddStringToObject(obj, key, clean);
}

/* Nanosecond timestamps (~1.8e18) do not fit a double: emit the decimal
 * digits the database gave, as an exact JSON number. */
cJSON *json_int_raw(const char *digits)
{
	const char *p = digits + (digits[0] == '-');

	if (!*p || strspn(p, "0123456789") != strlen(p))
		return cJSON_CreateNull();
	return cJSON_CreateRaw(digits);
}

void json_add_int_raw(cJSON *obj, const char *key, const char *digits)
{
	cJSON_AddItemToObject(obj, key, json_int_raw(digits));
}
