/*
 * http_model.c - the parameter rules as a model (see http_model.h): a
 * query is names from the route's list, each with a non-empty value (a
 * name given twice: the first one counts, docs/API.md); values are URL-decoded ('+' is a space, %XX
 * a byte); a number is decimal digits only within its bounds; a string fits its buffer and its
 * character set and holds no NUL or control byte (when no set is given); an enum is one of its
 * names.  Then who may ask (model_auth): Host, the open /healthz, the token URL, the bearer
 * token, the session cookie and the same-origin rule, in the documented order.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>

#include "host_id.h"
#include "fuzz_util.h"
#include "memprobe_abi.h"
#include "http_model.h"

#define USER_SET  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"
#define PID_MAX	  4194304
#define GROUP_CAP 256 /* a group name: 255 bytes */

static const char *const state_v[] = {"all", "alive", "exited", NULL};
static const char *const sort_v[] = {"net",  "mapped",	  "vm",	 "requested", "pid",
				     "name", "last_seen", "rss", "swap",      NULL};
static const char *const group_sort_v[] = {"rss", "swap",      "vm",   "mapped",
					   "net", "processes", "name", NULL};
static const char *const order_v[] = {"desc", "asc", NULL};
static const char *const call_v[] = {
#define CALL_NAME(e, v, n) n,
    MEMPROBE_CALLS(CALL_NAME)
#undef CALL_NAME
	NULL};

#define U(n, lo, hi, d, i)                                                                         \
	{                                                                                          \
		.name = n, .kind = 'u', .min = lo, .max = hi, .def = d, .dbi = i                   \
	}
#define S(n, c, set, i)                                                                            \
	{                                                                                          \
		.name = n, .kind = 's', .cap = c, .charset = set, .dbi = i                         \
	}
#define E(n, v, d, str, i)                                                                         \
	{                                                                                          \
		.name = n, .kind = 'e', .values = v, .def = d, .values_as_str = str, .dbi = i      \
	}

static const struct pspec processes_spec[] = {S("host", MP_HOST_ID_MAX + 1, MP_HOST_ID_CHARSET, 0),
					      U("pid", 1, PID_MAX, 0, 2),
					      U("uid", 0, 4294967295u, 0, -1),
					      S("user", 33, USER_SET, -1),
					      S("name", 17, NULL, 6),
					      E("state", state_v, 0, 0, 8),
					      S("group", GROUP_CAP, NULL, 10),
					      E("sort", sort_v, 0, 0, -1),
					      E("order", order_v, 0, 0, -1),
					      U("limit", 1, 1000, 100, 12),
					      U("offset", 0, 1000000, 0, 13),
					      U("at", 1, INT64_MAX, 0, -1),
					      {0}};
/* state is alive unless given; name is a substring of the group name. */
static const struct pspec groups_spec[] = {S("host", MP_HOST_ID_MAX + 1, MP_HOST_ID_CHARSET, 0),
					   U("uid", 0, 4294967295u, 0, -1),
					   S("user", 33, USER_SET, -1),
					   E("state", state_v, 1, 0, 4),
					   S("group", GROUP_CAP, NULL, 6),
					   S("name", GROUP_CAP, NULL, 8),
					   E("sort", group_sort_v, 0, 0, -1),
					   E("order", order_v, 0, 0, -1),
					   U("limit", 1, 1000, 100, 10),
					   U("offset", 0, 1000000, 0, 11),
					   {0}};
static const struct pspec oom_spec[] = {S("host", MP_HOST_ID_MAX + 1, MP_HOST_ID_CHARSET, 0),
					U("pid", 1, PID_MAX, 0, 2),
					U("since_ns", 1, INT64_MAX, 0, 4),
					U("limit", 1, 1000, 100, 6),
					U("offset", 0, 1000000, 0, 7),
					{0}};
static const struct pspec one_spec[] = {S("host", MP_HOST_ID_MAX + 1, MP_HOST_ID_CHARSET, 1),
					U("start_ns", 1, UINT64_MAX, 0, 3),
					U("points", 2, 5000, 500, -1),
					U("at", 1, INT64_MAX, 0, -1),
					{0}};
static const struct pspec top_spec[] = {S("host", MP_HOST_ID_MAX + 1, MP_HOST_ID_CHARSET, 0), {0}};
static const struct pspec calls_spec[] = {S("host", MP_HOST_ID_MAX + 1, MP_HOST_ID_CHARSET, 3),
					  U("pid", 1, PID_MAX, 0, 5),
					  E("call", call_v, 0, 1, 7),
					  U("since_ns", 1, INT64_MAX, 0, 9),
					  U("until_ns", 1, INT64_MAX, 0, 11),
					  U("before", 1, INT64_MAX, 0, 1),
					  U("limit", 1, 1000, 100, 13),
					  {0}};
static const struct pspec events_spec[] = {U("last_event_id", 0, INT64_MAX, 0, -1),
					   S("host", MP_HOST_ID_MAX + 1, MP_HOST_ID_CHARSET, -1),
					   U("pid", 1, PID_MAX, 0, -1),
					   S("name", 17, NULL, -1),
					   {0}};

const struct route model_routes[MODEL_ROUTES] = {
    {"/api/processes", api_processes, processes_spec},
    {"/api/processes/{pid}", api_process_one, one_spec},
    {"/api/top", api_top, top_spec},
    {"/api/calls", api_calls, calls_spec},
    {"/api/events", api_events, events_spec},
    {"/api/groups", api_groups, groups_spec},
    {"/api/oom", api_oom, oom_spec},
};

static int hexval(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

/* URL-decode raw[0, len) into out; returns the decoded length. */
static size_t url_decode(const char *raw, size_t len, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++, o++) {
		if (raw[i] == '%' && i + 2 < len + 0 && hexval(raw[i + 1]) >= 0 &&
		    hexval(raw[i + 2]) >= 0) {
			out[o] = (char)(hexval(raw[i + 1]) * 16 + hexval(raw[i + 2]));
			i += 2;
		} else {
			out[o] = raw[i] == '+' ? ' ' : raw[i];
		}
	}
	return o;
}

/* Decimal digits only, no overflow, within [min, max]. */
static int digits_u64(const char *s, size_t len, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return 0;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return v >= min && v <= max;
}

static int value_ok(const struct pspec *s, const char *v, size_t len, struct model *m, int k)
{
	size_t cap = s->kind == 's' ? s->cap : s->kind == 'u' ? 32 : 64;

	if (len == 0 || len > cap - 1 || memchr(v, 0, len))
		return 0;
	memcpy(m->str[k], v, len);
	m->str[k][len] = 0;
	if (s->kind == 'u')
		return digits_u64(v, len, s->min, s->max, &m->u64[k]);
	if (s->kind == 'e') {
		for (int i = 0; s->values[i]; i++)
			if (!strcmp(s->values[i], m->str[k]))
				return m->u64[k] = (uint64_t)i, 1;
		return 0;
	}
	for (size_t i = 0; i < len; i++)
		if (s->charset ? !strchr(s->charset, v[i]) : (unsigned char)v[i] < 0x20)
			return 0;
	return 1;
}

/* One "name=value" segment of the query. */
static int segment_ok(const struct pspec *spec, const char *seg, size_t len, struct model *m)
{
	const char *eq = memchr(seg, '=', len);
	char value[1024];
	size_t nlen;
	int k;

	if (!eq || eq == seg)
		return 0;
	nlen = (size_t)(eq - seg);
	for (k = 0; spec[k].name; k++)
		if (strlen(spec[k].name) == nlen && !memcmp(spec[k].name, seg, nlen))
			break;
	if (!spec[k].name || len - nlen - 1 > sizeof(value))
		return 0;
	if (m->present[k]) /* given twice: the first one counts (docs/API.md) */
		return 1;
	m->present[k] = 1;
	return value_ok(&spec[k], value, url_decode(eq + 1, len - nlen - 1, value), m, k);
}

static int query_ok(const struct pspec *spec, const char *q, struct model *m)
{
	size_t len = q ? strlen(q) : 0;

	while (len) {
		const char *amp = memchr(q, '&', len);
		size_t n = amp ? (size_t)(amp - q) : len;

		if (!segment_ok(spec, q, n, m))
			return 0;
		if (!amp)
			break;
		len -= n + 1;
		q = amp + 1;
	}
	return 1;
}

static int find(const struct pspec *spec, const char *name)
{
	int k = 0;

	while (strcmp(spec[k].name, name))
		k++;
	return k;
}

static int route_rules_ok(const struct route *rt, const char *path, const char *hdr,
			  struct model *m)
{
	const struct pspec *s = rt->spec;
	struct passwd *pw;
	uint64_t v;

	if (rt->fn == api_process_one)
		return digits_u64(path, strlen(path), 1, PID_MAX, &m->path_pid);
	if (rt->fn == api_calls) {
		int a = find(s, "since_ns"), b = find(s, "until_ns");

		return !(m->present[a] && m->present[b] && m->u64[b] <= m->u64[a]);
	}
	if (rt->fn == api_events)
		return !hdr || !*hdr || digits_u64(hdr, strlen(hdr), 0, INT64_MAX, &v);
	if (rt->fn == api_processes || rt->fn == api_groups) {
		int u = find(s, "uid"), n = find(s, "user");

		m->uid = m->present[u] ? (int64_t)m->u64[u] : -1;
		if (m->present[u] || !m->present[n])
			return 1;
		pw = getpwnam(m->str[n]);
		if (pw)
			m->uid = pw->pw_uid;
		return pw != NULL;
	}
	return 1;
}

int model_accepts(const struct route *rt, const char *query, const char *path,
		  const char *last_event_id, struct model *m)
{
	memset(m, 0, sizeof(*m));
	return query_ok(rt->spec, query, m) && route_rules_ok(rt, path, last_event_id, m);
}

/* p: the two SQL parameters of the uid filter. */
void model_check_uid(const struct model *m, const struct db_param *p)
{
	FUZZ_ASSERT(p[0].i64 == m->uid && p[1].u64 == (m->uid < 0 ? 0 : (uint64_t)m->uid),
		    "uid bound %lld/%llu, given %lld", (long long)p[0].i64,
		    (unsigned long long)p[1].u64, (long long)m->uid);
}

/* Strict UTF-8 (Unicode table 3-7): no overlongs, surrogates, > U+10FFFF. */
static size_t utf8_valid_prefix(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t need = c < 0x80		       ? 0
			      : c >= 0xc2 && c <= 0xdf ? 1
			      : c >= 0xe0 && c <= 0xef ? 2
			      : c >= 0xf0 && c <= 0xf4 ? 3
						       : 9;
		unsigned char lo = 0x80, hi = 0xbf;

		if (need == 9 || i + need >= len + (need == 0))
			return need == 0 ? len : i;
		if (c == 0xe0)
			lo = 0xa0;
		if (c == 0xed)
			hi = 0x9f;
		if (c == 0xf0)
			lo = 0x90;
		if (c == 0xf4)
			hi = 0x8f;
		if (need && (s[i + 1] < lo || s[i + 1] > hi))
			return i;
		for (size_t k = 2; k <= need; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
		i += need + 1;
	}
	return i;
}

void model_check_clean_utf8(const uint8_t *data, size_t size)
{
	size_t cap, len, src_len;
	char *dst;

	if (size < 1)
		return;
	cap = 1 + data[0] % 200;
	dst = malloc(cap);
	json_clean_utf8(dst, cap, (const char *)data + 1, size - 1);
	len = strlen(dst);
	FUZZ_ASSERT(len < cap, "output of %zu bytes in a %zu-byte buffer", len, cap);
	FUZZ_ASSERT(utf8_valid_prefix((const unsigned char *)dst, len) == len,
		    "output is not valid UTF-8 at byte %zu",
		    utf8_valid_prefix((const unsigned char *)dst, len));
	src_len = strnlen((const char *)data + 1, size - 1);
	if (utf8_valid_prefix(data + 1, src_len) == src_len && src_len + 5 <= cap)
		FUZZ_ASSERT(len == src_len && !memcmp(dst, data + 1, len),
			    "valid UTF-8 was changed");
	free(dst);
}

/* Host: NAME, NAME:PORT or [IPV6](:PORT), PORT one or more digits. */
static int model_host_ok(const char *h)
{
	static const char *const names[] = {"127.0.0.1", "localhost", MODEL_ALLOW_HOST, NULL};
	char name[300];
	const char *end, *port;
	size_t n;

	if (!h)
		return 0;
	if (h[0] == '[') {
		end = strchr(h, ']');
		if (!end)
			return 0;
		n = (size_t)(end - h - 1);
		port = end + 1;
		h++;
	} else {
		port = strchr(h, ':');
		n = port ? (size_t)(port - h) : strlen(h);
		port = port ? port : h + n;
	}
	if (n >= sizeof(name))
		return 0;
	if (*port &&
	    (*port != ':' || !port[1] || strspn(port + 1, "0123456789") != strlen(port + 1)))
		return 0;
	memcpy(name, h, n);
	name[n] = 0;
	for (int i = 0; names[i]; i++)
		if (!strcasecmp(names[i], name))
			return 1;
	return 0;
}

/* Sec-Fetch-Site, if sent, is same-origin or none; Origin, if sent, is
 * SCHEME://HOST of this very request. */
static int model_same_origin(const struct auth_case *c)
{
	char own[400];

	if (c->fetch_site && strcmp(c->fetch_site, "same-origin") && strcmp(c->fetch_site, "none"))
		return 0;
	if (!c->origin)
		return 1;
	snprintf(own, sizeof(own), "%s://%s", c->is_ssl ? "https" : "http", c->host);
	return !strcasecmp(own, c->origin);
}

/* The first token= of the query (name compared ignoring case, as
 * CivetWeb's mg_get_var does), decoded: 1 if present and short enough
 * to be read, *exact when it is the token itself. */
static int model_token_param(const char *q, int *exact)
{
	char value[1024];

	for (const char *seg = q; seg && *seg;) {
		size_t len = strcspn(seg, "&");

		if (len >= 6 && !strncasecmp(seg, "token=", 6)) {
			size_t n = len - 6 < sizeof(value) ? url_decode(seg + 6, len - 6, value)
							   : sizeof(value);

			if (n > 257) /* the server reads at most 257 bytes: not a token */
				return 0;
			*exact = n == strlen(MODEL_TOKEN) && !memcmp(value, MODEL_TOKEN, n);
			return 1;
		}
		seg += len + (seg[len] == '&');
	}
	return 0;
}

int model_auth(const struct auth_case *c)
{
	int api = !strncmp(c->path, "/api", 4) || !strncmp(c->path, "/metrics", 8), exact = 0;

	if (!model_host_ok(c->host))
		return 421;
	if (!strcmp(c->path, "/healthz"))
		return 0;
	if (!strcmp(c->path, "/api/events") && !model_same_origin(c))
		return 403;
	if (!api && !strcmp(c->method, "GET") && model_token_param(c->query, &exact))
		return exact ? 303 : 401;
	if (c->authorization)
		return !strncasecmp(c->authorization, "Bearer ", 7) &&
			       !strcmp(c->authorization + 7, MODEL_TOKEN)
			   ? 0
			   : 401;
	if (!c->cookie_signed)
		return 401;
	return model_same_origin(c) ? 0 : 403;
}
