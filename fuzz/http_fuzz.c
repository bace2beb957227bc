/*
 * http_fuzz.c - libFuzzer harness of the server's parameter parsing: the
 * real handlers (/api/processes, /api/processes/{pid}, /api/top,
 * /api/calls, /api/events, /api/groups, /api/oom) over CivetWeb's query
 * decoding, with the connection and MariaDB faked (fake_server.c),
 * checked against an independent model of the documented parameter rules.
 *
 * Input: byte 0 % 8 picks the route (model_routes[], or, 7,
 * json_clean_utf8); the rest is "query\npath\nLast-Event-ID" (each cut
 * at the first NUL, as CivetWeb hands them over).  Byte 0 from 0xf0 up: who may ask instead
 * (auth_begin_request, see run_auth).
 *
 * Invariants: exactly one response; a refusal is a 400 whose body is JSON
 * with an "error"; a request is accepted iff the model accepts it (every
 * name known and given with a value, the first of two counting; numbers
 * all digits within the documented bounds; strings within their length
 * and character set); what
 * reaches the SQL parameters is exactly the value given (or the default);
 * json_clean_utf8 output is valid UTF-8 that fits its buffer and keeps
 * valid input unchanged.  Access: the server lets a request through, or
 * answers 303/401/403/421, exactly as the model of the documented rules
 * says; a refusal is one response with the security headers; a token URL's
 * redirect carries a session cookie and a Location without the token.
 */
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "fake_server.h"
#include "fuzz_util.h"
#include "http_model.h"

static void check_response(int accepted)
{
	const char *body = strstr(fake.out, "\r\n\r\n");
	cJSON *j;

	FUZZ_ASSERT(fake.heads == 1, "%u responses written: %s", fake.heads, fake.out);
	if (accepted)
		return;
	FUZZ_ASSERT(!strncmp(fake.out, "HTTP/1.1 400 ", 13), "refusal is not a 400: %.60s",
		    fake.out);
	FUZZ_ASSERT(body, "no end of head");
	j = cJSON_Parse(body + 4);
	FUZZ_ASSERT(j && cJSON_IsString(cJSON_GetObjectItem(j, "error")),
		    "400 body is not JSON with an error: %s", body + 4);
	cJSON_Delete(j);
}

/* The value the model expects in SQL parameter dbi, against what was bound. */
static void check_bound(const struct model *m, const struct pspec *s, int k)
{
	const struct db_param *p = &fake.first.p[s->dbi];

	if (s->kind == 'u')
		FUZZ_ASSERT(p->u64 == (m->present[k] ? m->u64[k] : s->def),
			    "%s: bound %llu, given %llu (present %d)", s->name,
			    (unsigned long long)p->u64, (unsigned long long)m->u64[k],
			    m->present[k]);
	else if (s->kind == 's')
		FUZZ_ASSERT(!strcmp(p->str, m->present[k] ? m->str[k] : ""),
			    "%s: bound '%s', given '%s'", s->name, p->str, m->str[k]);
	else if (s->kind == 'e' && s->values_as_str)
		FUZZ_ASSERT(!strcmp(p->str, m->present[k] ? s->values[m->u64[k]] : ""),
			    "%s: bound '%s'", s->name, p->str);
	else if (s->kind == 'e')
		FUZZ_ASSERT(p->u64 == (m->present[k] ? m->u64[k] : s->def), "%s: bound %llu",
			    s->name, (unsigned long long)p->u64);
}

static void run_route(const struct route *rt, const char *query, const char *path,
		      const char *header)
{
	struct mg_request_info ri = {0};
	struct req r = {.conn = (struct mg_connection *)&ri, .ri = &ri, .path_arg = path};
	struct model m;
	int want, got;

	ri.query_string = query;
	want = model_accepts(rt, query, path, header, &m);
	fake.last_event_id = header;
	fake.selects = 0;
	rt->fn(&r);
	reply_send(r.conn, &r.reply); /* what the dispatcher does after a handler */
	got = rt->fn == api_events ? !strncmp(fake.out, "HTTP/1.1 200 OK", 15) : fake.selects > 0;
	FUZZ_ASSERT(got == want, "%s: server %s, model %s: query '%s' path '%s' header '%s'",
		    rt->name, got ? "accepted" : "refused", want ? "accepts" : "refuses", query,
		    path, header ? header : "(none)");
	check_response(got);
	if (!got || rt->fn == api_events)
		return;
	/* at=T answers from the time-travel queries (server/api_at.c), whose
	 * parameters differ from the list's: the model checks that the request
	 * is accepted; tests/ledger checks what it answers. */
	for (int k = 0; rt->spec[k].name; k++)
		if (!strcmp(rt->spec[k].name, "at") && m.present[k])
			return;
	for (int k = 0; rt->spec[k].name; k++)
		if (rt->spec[k].dbi >= 0)
			check_bound(&m, &rt->spec[k], k);
	if (rt->fn == api_processes)
		model_check_uid(&m, fake.first.p + 4);
	if (rt->fn == api_groups)
		model_check_uid(&m, fake.first.p + 2);
	if (rt->fn == api_process_one)
		FUZZ_ASSERT(fake.first.p[0].u64 == m.path_pid, "path pid bound %llu, given %llu",
			    (unsigned long long)fake.first.p[0].u64,
			    (unsigned long long)m.path_pid);
}

/* Cut the input into n NUL-terminated fields at the first n - 1 '\n';
 * the fields past the input's end are NULL. */
static void split(const uint8_t *data, size_t size, char *buf, char **f, int n)
{
	int k = 0;

	memcpy(buf, data, size);
	buf[size] = 0;
	f[0] = buf;
	for (int i = 1; i < n; i++)
		f[i] = NULL;
	for (size_t i = 0; i < size && k < n - 1; i++)
		if (buf[i] == '\n') {
			buf[i] = 0;
			f[++k] = buf + i + 1;
		}
}

static char session_cookie[256]; /* "memprobe_session=...", made at start */

static void set_header(const char *name, const char *value)
{
	if (value && fake.n_hdrs < FAKE_HEADERS_MAX) {
		fake.hdr_name[fake.n_hdrs] = name;
		fake.hdr_value[fake.n_hdrs++] = value;
	}
}

/* What a refusal or a redirect must look like. */
static void check_auth_reply(const struct auth_case *c, int status)
{
	const char *loc = strstr(fake.out, "\r\nLocation: ");
	char head[16];

	snprintf(head, sizeof(head), "HTTP/1.1 %d ", status);
	FUZZ_ASSERT(fake.heads == 1 && !strncmp(fake.out, head, strlen(head)),
		    "want one %d response: %.80s", status, fake.out);
	FUZZ_ASSERT(strstr(fake.out, "\r\nContent-Security-Policy: default-src 'none'; script-src "
				     "'self';") &&
			strstr(fake.out, "\r\nX-Content-Type-Options: nosniff\r\n"),
		    "no security headers: %.300s", fake.out);
	if (status == 401 && (!strncmp(c->path, "/api", 4) || !strncmp(c->path, "/metrics", 8)))
		FUZZ_ASSERT(strstr(fake.out, "\r\nWWW-Authenticate: Bearer"), "401 without Bearer");
	if (status != 303)
		return;
	FUZZ_ASSERT(strstr(fake.out, "\r\nSet-Cookie: memprobe_session=v1.") &&
			strstr(fake.out, "; HttpOnly; SameSite=Strict\r\n"),
		    "no session cookie: %.400s", fake.out);
	FUZZ_ASSERT(loc && loc[12] == '/', "no Location");
	for (const char *p = loc + 12; *p != '\r'; p++) {
		FUZZ_ASSERT(
		    strchr(
			"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-%=+~?&",
			*p),
		    "Location byte 0x%02x", (unsigned char)*p);
		FUZZ_ASSERT(!((p[-1] == '?' || p[-1] == '&') && !strncasecmp(p, "token=", 6)),
			    "the token parameter is left in Location: %.200s", loc);
	}
}

/* Byte 1: bit 0 sends the session cookie the server made, bit 1 is TLS,
 * bit 2 makes it a HEAD; then "path\nquery\nHost\nAuthorization\n
 * Cookie\nOrigin\nSec-Fetch-Site", a missing field an absent header. */
static void run_auth(const uint8_t *data, size_t size)
{
	struct mg_request_info ri = {0};
	struct auth_case c = {0};
	char *buf = malloc(size + 1), *f[7];
	uint8_t flags = size ? data[0] : 0;
	int want, got;

	split(data + (size > 0), size - (size > 0), buf, f, 7);
	c.method = ri.request_method = flags & 4 ? "HEAD" : "GET";
	c.path = ri.local_uri = f[0];
	c.query = ri.query_string = f[1];
	c.is_ssl = ri.is_ssl = (flags & 2) != 0;
	c.host = f[2];
	c.authorization = f[3];
	c.cookie_signed = flags & 1;
	c.cookie = c.cookie_signed ? session_cookie : f[4];
	c.origin = f[5];
	c.fetch_site = f[6];
	set_header("Host", c.host);
	set_header("Authorization", c.authorization);
	set_header("Cookie", c.cookie);
	set_header("Origin", c.origin);
	set_header("Sec-Fetch-Site", c.fetch_site);
	want = model_auth(&c);
	got = auth_begin_request((struct mg_connection *)&ri);
	FUZZ_ASSERT(got == want,
		    "auth: server %d, model %d: %s %s?%s Host '%s' Authorization '%s' "
		    "Cookie '%s' Origin '%s' Sec-Fetch-Site '%s'",
		    got, want, c.method, c.path, c.query ? c.query : "", c.host ? c.host : "-",
		    c.authorization ? c.authorization : "-", c.cookie ? c.cookie : "-",
		    c.origin ? c.origin : "-", c.fetch_site ? c.fetch_site : "-");
	if (got)
		check_auth_reply(&c, got);
	else
		FUZZ_ASSERT(fake.heads == 0, "a request let through was answered: %.80s", fake.out);
	free(buf);
}

/* The server of the model (http_model.h), and a session cookie from it. */
static void auth_start(void)
{
	static struct server_opts o = {.listen_addr = "127.0.0.1",
				       .listen_loopback = 1,
				       .token = MODEL_TOKEN,
				       .n_allow_host = 1};
	struct mg_request_info ri = {
	    .request_method = "GET", .local_uri = "/", .query_string = "token=" MODEL_TOKEN};
	const char *v;

	snprintf(o.allow_host[0], sizeof(o.allow_host[0]), "%s", MODEL_ALLOW_HOST);
	if (auth_init(&o))
		abort();
	fake_reset();
	set_header("Host", "127.0.0.1");
	if (auth_begin_request((struct mg_connection *)&ri) != 303 ||
	    !(v = strstr(fake.out, "Set-Cookie: ")))
		abort();
	snprintf(session_cookie, sizeof(session_cookie), "%.*s", (int)strcspn(v + 12, ";"), v + 12);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int started;
	static struct server_opts o = {.sse_max = 4, .sse_queue_len = 64, .sse_heartbeat_ms = 1000};
	char *buf, *f[3];

	if (!started) {
		started = 1;
		if (sse_start(NULL, NULL, &o))
			abort();
		auth_start();
	}
	if (size < 1 || size > 8192)
		return 0;
	if (data[0] >= 0xf0) {
		fake_reset();
		run_auth(data + 1, size - 1);
		return 0;
	}
	if (data[0] % (MODEL_ROUTES + 1) == MODEL_ROUTES) {
		model_check_clean_utf8(data + 1, size - 1);
		return 0;
	}
	buf = malloc(size);
	split(data + 1, size - 1, buf, f, 3);
	fake_reset();
	run_route(&model_routes[data[0] % (MODEL_ROUTES + 1)], f[0][0] || f[1] ? f[0] : NULL,
		  f[1] ? f[1] : "1", f[2]);
	free(buf);
	return 0;
}
