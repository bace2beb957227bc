/*
 * auth.c - who may ask, checked in CivetWeb's begin_request before any
 * route or static file, in this order:
 *   1. Host must be a name the server listens on, or one of --allow-host
 *      (else 421): a page that reached 127.0.0.1 through DNS rebinding
 *      still sends its own name.
 *   2. /healthz is open (no data, no query).
 *   3. GET of a page with ?token=TOKEN: the token is exchanged for a
 *      session cookie (HttpOnly, SameSite=Strict, Secure under TLS) and the
 *      browser is sent (303) to the same URL without it, so the token
 *      leaves the address bar and EventSource, which cannot send headers,
 *      carries the cookie.
 *   4. Authorization: Bearer TOKEN (scripts, Prometheus).
 *   5. The session cookie, and then Origin and Sec-Fetch-Site must say
 *      the request comes from the dashboard's own origin (else 403):
 *      another port of 127.0.0.1 is the same "site", so SameSite alone
 *      would let a local user's page ride on the cookie.
 *   6. Nothing of that: 401 (JSON under /api and /metrics, a short page
 *      that says what to open elsewhere).
 * /api/events refuses a foreign Origin in any case, --no-auth included.
 * Tokens and cookies are compared in constant time.
 *
 * The cookie is "v1.EXPIRY.NONCE.MAC", MAC = HMAC-SHA256 of "v1.EXPIRY.
 * NONCE" under a key derived from the token.  The server keeps nothing
 * per session, so there is no table to fill and nothing to bound: a
 * session costs no memory, outlives a restart of the server (an open
 * dashboard reconnects by itself), ends at its expiry
 * (SESSION_MAX_AGE_S), and every session ends when the token changes.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "server.h"

#define COOKIE_NAME	  "memprobe_session"
#define COOKIE_MAX_BYTES  160
#define SESSION_MAX_AGE_S (7 * 24 * 3600)
#define HOST_NAMES_MAX	  (ALLOW_HOST_MAX + 48)
#define MAC_BYTES	  32

static struct {
	int no_auth, tls;
	char token[TOKEN_MAX_BYTES + 1];
	size_t token_len;
	unsigned char key[MAC_BYTES]; /* cookie MAC key, from the token */
	char names[HOST_NAMES_MAX][HOSTNAME_MAX_BYTES + 1];
	unsigned int n_names;
} a;

static void add_name(const char *name)
{
	for (unsigned int i = 0; i < a.n_names; i++)
		if (!strcasecmp(a.names[i], name))
			return;
	if (a.n_names < HOST_NAMES_MAX && strlen(name) <= HOSTNAME_MAX_BYTES)
		snprintf(a.names[a.n_names++], sizeof(a.names[0]), "%s", name);
}

/* Listening on every address: every address this machine has, and its
 * host name, are names a client may rightly use. */
static void add_local_names(void)
{
	struct ifaddrs *ifs, *i;
	char buf[HOSTNAME_MAX_BYTES + 1];

	if (gethostname(buf, sizeof(buf)) == 0) {
		buf[sizeof(buf) - 1] = 0;
		add_name(buf);
	}
	if (getifaddrs(&ifs))
		return;
	for (i = ifs; i; i = i->ifa_next)
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
		    inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, buf,
			      sizeof(buf)))
			add_name(buf);
	freeifaddrs(ifs);
}

int auth_init(const struct server_opts *o)
{
	static const char label[] = "memprobe session cookie key v1";
	unsigned int len = 0;

	a.no_auth = o->no_auth;
	a.tls = o->tls_cert[0] != 0;
	a.token_len = strlen(o->token);
	memcpy(a.token, o->token, a.token_len + 1);
	if (!a.no_auth && !HMAC(EVP_sha256(), a.token, (int)a.token_len,
				(const unsigned char *)label, sizeof(label) - 1, a.key, &len))
		return -ENOMEM;
	add_name(o->listen_addr);
	if (o->listen_loopback) {
		add_name("localhost");
		add_name("127.0.0.1");
	}
	if (!strcmp(o->listen_addr, "0.0.0.0"))
		add_local_names();
	for (unsigned int i = 0; i < o->n_allow_host; i++)
		add_name(o->allow_host[i]);
	return 0;
}

/* Host: NAME or NAME:PORT (an IPv6 literal in brackets); 1 if NAME is ours. */
static int host_ok(const char *h)
{
	char name[HOSTNAME_MAX_BYTES + 3];
	size_t n;

	if (!h || (h[0] == '[' && !strchr(h, ']')))
		return 0;
	n = h[0] == '[' ? strcspn(h, "]") + 1 : strcspn(h, ":");
	if (n >= sizeof(name) || (h[n] && (h[n] != ':' || !h[n + 1] ||
					   strspn(h + n + 1, "0123456789") != strlen(h + n + 1))))
		return 0;
	memcpy(name, h, n);
	name[n] = 0;
	if (name[0] == '[') { /* "[::1]" is listed as "::1" */
		memmove(name, name + 1, n);
		name[n - 2] = 0;
	}
	for (unsigned int i = 0; i < a.n_names; i++)
		if (!strcasecmp(a.names[i], name))
			return 1;
	return 0;
}

static int token_equal(const char *t)
{
	size_t n = t ? strlen(t) : 0;

	return n == a.token_len && CRYPTO_memcmp(t, a.token, n) == 0;
}

static void cookie_mac(const char *msg, size_t len, char hex[2 * MAC_BYTES + 1])
{
	unsigned char mac[MAC_BYTES];
	unsigned int n = 0;

	if (!HMAC(EVP_sha256(), a.key, MAC_BYTES, (const unsigned char *)msg, len, mac, &n))
		memset(mac, 0, sizeof(mac));
	for (unsigned int i = 0; i < MAC_BYTES; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
}

/* 1 when the request's session cookie is one we signed and not expired. */
static int cookie_ok(struct mg_connection *conn)
{
	const char *hdr = mg_get_header(conn, "Cookie");
	char v[COOKIE_MAX_BYTES], want[2 * MAC_BYTES + 1], *mac;
	unsigned long long expiry;
	int n = hdr ? mg_get_cookie(hdr, COOKIE_NAME, v, sizeof(v)) : -1;

	if (n <= 0 || strncmp(v, "v1.", 3) || !(mac = strrchr(v, '.')) ||
	    strlen(mac + 1) != 2 * MAC_BYTES)
		return 0;
	cookie_mac(v, (size_t)(mac - v), want);
	if (CRYPTO_memcmp(want, mac + 1, 2 * MAC_BYTES))
		return 0;
	expiry = strtoull(v + 3, NULL, 10);
	return expiry > (unsigned long long)time(NULL);
}

static int make_cookie(char *out, size_t cap)
{
	unsigned char nonce[16];
	char msg[64], mac[2 * MAC_BYTES + 1];
	int n;

	if (getrandom(nonce, sizeof(nonce), 0) != (ssize_t)sizeof(nonce))
		return -EIO;
	n = snprintf(msg, sizeof(msg), "v1.%llu.",
		     (unsigned long long)time(NULL) + SESSION_MAX_AGE_S);
	for (size_t i = 0; i < sizeof(nonce); i++)
		n += snprintf(msg + n, sizeof(msg) - (size_t)n, "%02x", nonce[i]);
	cookie_mac(msg, (size_t)n, mac);
	snprintf(out, cap, "%s.%s", msg, mac);
	return 0;
}

/* Origin and Sec-Fetch-Site, when the browser sends them, name our own
 * origin: SCHEME://HOST as this request's Host header has it. */
static int same_origin(struct mg_connection *conn, const struct mg_request_info *ri)
{
	const char *origin = mg_get_header(conn, "Origin");
	const char *site = mg_get_header(conn, "Sec-Fetch-Site");
	const char *host = mg_get_header(conn, "Host");
	size_t sl = ri->is_ssl ? 8 : 7;

	if (site && strcmp(site, "same-origin") && strcmp(site, "none"))
		return 0;
	if (!origin)
		return 1;
	return !strncasecmp(origin, ri->is_ssl ? "https://" : "http://", sl) &&
	       !strcasecmp(origin + sl, host);
}

static int is_api(const char *uri)
{
	return !strncmp(uri, "/api", 4) || !strncmp(uri, "/metrics", 8);
}

static int refuse_json(struct mg_connection *conn, int status, const char *extra, const char *error,
		       const char *reason)
{
	cJSON *o = cJSON_CreateObject();
	char *s;

	cJSON_AddStringToObject(o, "error", error);
	cJSON_AddStringToObject(o, "reason", reason);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (s)
		http_send(conn, status, "application/json", extra, s, strlen(s));
	free(s);
	return status;
}

static int reply_misdirected(struct mg_connection *conn)
{
	const char *h = mg_get_header(conn, "Host");
	char clean[120], reason[300];

	json_clean_utf8(clean, sizeof(clean), h ? h : "", h ? strnlen(h, 100) : 0);
	if (h)
		snprintf(reason, sizeof(reason),
			 "Host '%s' is not a name this server answers to; if it should be, add "
			 "--allow-host NAME to the server's options",
			 clean);
	else
		snprintf(reason, sizeof(reason), "a Host header is required");
	return refuse_json(conn, 421, "", "misdirected request", reason);
}

static int reply_forbidden(struct mg_connection *conn)
{
	return refuse_json(conn, 403, "", "forbidden",
			   "a request from another origin (Origin, Sec-Fetch-Site) is refused: "
			   "open the dashboard itself");
}

static const char login_page[] =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<title>memprobe: token needed</title></head><body>\n"
    "<h1>memprobe needs its token</h1>\n"
    "<p>Open the dashboard through the address <code>make run</code> printed, the one that "
    "ends in <code>?token=&hellip;</code>: this browser then keeps a session cookie.</p>\n"
    "<p>The token is in <code>var/api-token</code> (make run) or "
    "<code>/etc/memprobe/api-token</code> (installed), readable by those allowed to see "
    "every process's memory calls. Scripts send <code>Authorization: Bearer TOKEN</code>.</p>\n"
    "</body></html>\n";

static int reply_unauthorized(struct mg_connection *conn, const char *uri)
{
	if (!is_api(uri))
		return http_send(conn, 401, "text/html; charset=utf-8", "", login_page,
				 sizeof(login_page) - 1);
	return refuse_json(conn, 401, "WWW-Authenticate: Bearer realm=\"memprobe\"\r\n",
			   "unauthorized",
			   "send Authorization: Bearer TOKEN (the token is in var/api-token after "
			   "make run, /etc/memprobe/api-token when installed), or open the "
			   "dashboard through its token URL");
}

#define SAFE_PATH  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-"
#define SAFE_QUERY SAFE_PATH "%=+~"

/* The URL without its token: the path (plain characters, else "/") and
 * every other name=value of the query made of plain characters.  Names
 * are compared as CivetWeb's mg_get_var finds them: ignoring case. */
static void clean_location(const struct mg_request_info *ri, char *out, size_t cap)
{
	const char *uri = ri->local_uri, *q = ri->query_string;
	size_t n = 0;
	char sep = '?';

	if (!uri || uri[0] != '/' || strspn(uri, SAFE_PATH) != strlen(uri) ||
	    strlen(uri) >= cap / 2)
		uri = "/";
	n = (size_t)snprintf(out, cap, "%s", uri);
	while (q && *q) {
		size_t len = strcspn(q, "&");

		if (len && strncasecmp(q, "token=", 6) && strspn(q, SAFE_QUERY) >= len &&
		    n + len + 2 < cap) {
			out[n++] = sep;
			memcpy(out + n, q, len);
			n += len;
			out[n] = 0;
			sep = '&';
		}
		q += len + (q[len] == '&');
	}
}

static int reply_session(struct mg_connection *conn, const struct mg_request_info *ri)
{
	char cookie[COOKIE_MAX_BYTES], loc[600], head[1024];

	if (make_cookie(cookie, sizeof(cookie)))
		return refuse_json(conn, 500, "", "no randomness", "getrandom failed");
	clean_location(ri, loc, sizeof(loc));
	snprintf(head, sizeof(head),
		 "Location: %s\r\nSet-Cookie: " COOKIE_NAME "=%s; Path=/; Max-Age=%d; HttpOnly; "
		 "SameSite=Strict%s\r\n",
		 loc, cookie, SESSION_MAX_AGE_S, a.tls ? "; Secure" : "");
	return http_send(conn, 303, "text/plain; charset=utf-8", head, "", 0);
}

int auth_begin_request(struct mg_connection *conn)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	const char *uri = ri->local_uri ? ri->local_uri : "";
	const char *authz;
	char tok[TOKEN_MAX_BYTES + 2];
	int n;

	if (!host_ok(mg_get_header(conn, "Host")))
		return reply_misdirected(conn);
	if (!strcmp(uri, "/healthz"))
		return 0;
	if (!strcmp(uri, "/api/events") && !same_origin(conn, ri))
		return reply_forbidden(conn);
	if (a.no_auth)
		return 0;
	if (!is_api(uri) && !strcmp(ri->request_method, "GET") && ri->query_string &&
	    (n = mg_get_var(ri->query_string, strlen(ri->query_string), "token", tok,
			    sizeof(tok))) >= 0)
		return (size_t)n == strlen(tok) && token_equal(tok) ? reply_session(conn, ri)
								    : reply_unauthorized(conn, uri);
	authz = mg_get_header(conn, "Authorization");
	if (authz)
		return !strncasecmp(authz, "Bearer ", 7) && token_equal(authz + 7)
			   ? 0
			   : reply_unauthorized(conn, uri);
	if (!cookie_ok(conn))
		return reply_unauthorized(conn, uri);
	return same_origin(conn, ri) ? 0 : reply_forbidden(conn);
}
