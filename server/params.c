/*
 * params.c - validated query parameters.  Every parameter goes through one
 * of the param_* helpers: a bad value gets a 400 naming the parameter and
 * why, never a guess.
 */
#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

#define PARAM_MAX_BYTES 256

static int bad_param(struct req *r, const char *name, const char *reason)
{
	char safe[64];

	json_clean_utf8(safe, sizeof(safe), name, strlen(name));
	reply_error(r, 400, "bad parameter", safe, reason);
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

/* user=NAME is resolved on the server's host (the uid column is numeric);
 * uid= (already in *uid, UINT64_MAX when absent) takes precedence when
 * both are given. */
int param_user(struct req *r, uint64_t *uid)
{
	char name[33], buf[1024];
	struct passwd pw, *res = NULL;
	int rc = param_str(r, "user", name, sizeof(name),
			   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");

	if (rc <= 0 || *uid != UINT64_MAX)
		return rc < 0 ? rc : 0;
	if (getpwnam_r(name, &pw, buf, sizeof(buf), &res) || !res) {
		reply_error(r, 400, "bad parameter", "user",
			    "no such user on the server's host; use uid= for other hosts");
		return -EINVAL;
	}
	*uid = res->pw_uid;
	return 0;
}
