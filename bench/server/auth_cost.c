/*
 * auth_cost.c - what server/auth.c's check costs per request, in ns: the
 * real auth_begin_request (Host, bearer token, session cookie and its
 * HMAC, origin) on a request as wrk and a browser send it, with CivetWeb's
 * connection replaced by its request info (as fuzz/fake_server.c does).
 * Printed beside the server's CPU time per request (bench/server/run), it
 * bounds auth's share of a request more tightly than req/s can on a
 * shared machine.
 *
 *   auth-cost [N]   N checks per case (default 1000000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "server.h"

/* The request headers of the case being timed. */
static const char *hdr_name[6], *hdr_value[6];
static int n_hdrs;

const char *mg_get_header(const struct mg_connection *conn, const char *name)
{
	(void)conn;
	for (int i = 0; i < n_hdrs; i++)
		if (!strcasecmp(name, hdr_name[i]))
			return hdr_value[i];
	return NULL;
}

const struct mg_request_info *mg_get_request_info(const struct mg_connection *conn)
{
	return (const struct mg_request_info *)conn;
}

/* What auth.c needs besides: the refusal paths write through these (the
 * timed cases are all let through; the setup's token URL is a 303). */
static char out[4096];

int http_send(struct mg_connection *c, int status, const char *ctype, const char *extra,
	      const char *body, size_t len_bytes)
{
	(void)c;
	snprintf(out, sizeof(out), "%d %s %s %.*s", status, ctype, extra, (int)len_bytes, body);
	return status;
}

void json_clean_utf8(char *dst, size_t cap, const char *src, size_t len)
{
	snprintf(dst, cap, "%.*s", (int)len, src);
}

static void set(int i, const char *name, const char *value)
{
	hdr_name[i] = name;
	hdr_value[i] = value;
	n_hdrs = i + 1;
}

/* ns per auth_begin_request of RI with the headers set; -1 if refused. */
static double time_case(struct mg_request_info *ri, long n)
{
	double t0 = (double)mono_ns();
	int rc = 0;

	for (long i = 0; i < n; i++)
		rc |= auth_begin_request((struct mg_connection *)ri);
	return rc ? -1 : ((double)mono_ns() - t0) / n;
}

int main(int argc, char **argv)
{
	static struct server_opts o = {.listen_addr = "127.0.0.1",
				       .listen_loopback = 1,
				       .token = "bench-token-0123456789-abcdefghijklmnopqrstuv"};
	struct mg_request_info ri = {
	    .request_method = "GET", .local_uri = "/api/processes", .query_string = "limit=100"};
	struct mg_request_info page = {.request_method = "GET",
				       .local_uri = "/",
				       .query_string = "token=bench-token-0123456789-"
						       "abcdefghijklmnopqrstuv"};
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	char bearer[TOKEN_MAX_BYTES + 8], cookie[256], *v;
	double t_bearer, t_cookie, t_open;

	if (n < 1 || auth_init(&o))
		return 2;
	snprintf(bearer, sizeof(bearer), "Bearer %s", o.token);
	set(0, "Host", "127.0.0.1:8080");
	if (auth_begin_request((struct mg_connection *)&page) != 303 ||
	    !(v = strstr(out, "Set-Cookie: ")))
		return 2;
	snprintf(cookie, sizeof(cookie), "%.*s", (int)strcspn(v + 12, ";"), v + 12);
	set(1, "Authorization", bearer);
	t_bearer = time_case(&ri, n);
	set(1, "Cookie", cookie);
	set(2, "Sec-Fetch-Site", "same-origin");
	t_cookie = time_case(&ri, n);
	o.no_auth = 1;
	auth_init(&o);
	set(0, "Host", "127.0.0.1:8080");
	t_open = time_case(&ri, n);
	printf("auth check per request (%ld each, ns): bearer token %.0f, session cookie "
	       "(HMAC-SHA256) "
	       "%.0f, --no-auth (Host only) %.0f\n",
	       n, t_bearer, t_cookie, t_open);
	return t_bearer < 0 || t_cookie < 0 || t_open < 0;
}
