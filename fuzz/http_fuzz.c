/*
 * http_fuzz.c - libFuzzer harness of the server's parameter parsing: the
 * real handlers (/api/processes, /api/processes/{pid}, /api/top,
 * /api/calls, /api/events) over CivetWeb's query decoding, with the
 * connection and MariaDB faked (fake_server.c), checked against an
 * independent model of the documented parameter rules.
 *
 * Input: byte 0 picks the route (or, 5, json_clean_utf8); the rest is
 * "query\npath\nLast-Event-ID" (each cut at the first NUL, as CivetWeb
 * hands them over).
 *
 * Invariants: exactly one response; a refusal is a 400 whose body is JSON
 * with an "error"; a request is accepted iff the model accepts it (every
 * name known and given with a value, the first of two counting; numbers
 * all digits within the documented bounds; strings within their length
 * and character set); what
 * reaches the SQL parameters is exactly the value given (or the default);
 * json_clean_utf8 output is valid UTF-8 that fits its buffer and keeps
 * valid input unchanged.
 */
#include <pwd.h>
#include <string.h>

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
	got = rt->fn == api_events ? !strncmp(fake.out, "HTTP/1.1 200 OK", 15) : fake.selects > 0;
	FUZZ_ASSERT(got == want, "%s: server %s, model %s: query '%s' path '%s' header '%s'",
		    rt->name, got ? "accepted" : "refused", want ? "accepts" : "refuses", query,
		    path, header ? header : "(none)");
	check_response(got);
	if (!got || rt->fn == api_events)
		return;
	for (int k = 0; rt->spec[k].name; k++)
		if (rt->spec[k].dbi >= 0)
			check_bound(&m, &rt->spec[k], k);
	if (rt->fn == api_processes)
		model_check_uid(&m, fake.first.p);
	if (rt->fn == api_process_one)
		FUZZ_ASSERT(fake.first.p[0].u64 == m.path_pid, "path pid bound %llu, given %llu",
			    (unsigned long long)fake.first.p[0].u64,
			    (unsigned long long)m.path_pid);
}

/* Cut the input into three NUL-terminated fields at the first two '\n'. */
static void split(const uint8_t *data, size_t size, char *buf, char **f)
{
	int k = 0;

	memcpy(buf, data, size);
	buf[size] = 0;
	f[0] = buf;
	f[1] = f[2] = NULL;
	for (size_t i = 0; i < size && k < 2; i++)
		if (buf[i] == '\n') {
			buf[i] = 0;
			f[++k] = buf + i + 1;
		}
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
	}
	if (size < 1 || size > 8192)
		return 0;
	if (data[0] % 6 == 5) {
		model_check_clean_utf8(data + 1, size - 1);
		return 0;
	}
	buf = malloc(size);
	split(data + 1, size - 1, buf, f);
	fake_reset();
	run_route(&model_routes[data[0] % 6], f[0][0] || f[1] ? f[0] : NULL, f[1] ? f[1] : "1",
		  f[2]);
	free(buf);
	return 0;
}
