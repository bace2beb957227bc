/*
 * routes.c - every URL the server answers, in one table, and the
 * dispatcher: it finds the route, serves a cached answer when there is a
 * fresh one, runs the handler, stores its reply in the cache when the
 * route is cached, and sends it.  Handlers never write to the connection
 * themselves (but the event stream, which streams).  Anything else under
 * /api is a JSON 404; the rest is static files of the dashboard
 * (frontend/dist, or a placeholder page), which CivetWeb serves.
 */
#include <stdio.h>
#include <string.h>

#include "server.h"

static const struct route {
	const char *path;
	int prefix; /* path is a prefix; the rest is path_arg */
	route_fn fn;
	int cached; /* answers depend on committed calls only */
} routes[] = {
    {"/api/hosts", 0, api_hosts, 0},
    {"/api/processes", 0, api_processes, 1},
    /* PID, PID/mappings (api_mappings.c); caches by its parsed values */
    {"/api/processes/", 1, api_process_one, 0},
    {"/api/diff", 0, api_diff, 1},
    {"/api/top", 0, api_top, 1},
    {"/api/groups", 0, api_groups, 1},
    {"/api/oom", 0, api_oom, 1},
    {"/api/oom/forensics", 0, api_oom_forensics, 1},
    {"/api/calls", 0, api_calls, 1},
    {"/api/stats", 0, api_stats, 0},
    {"/api/events", 0, api_events, 0},
    {"/metrics", 0, api_metrics, 0},
    {"/healthz", 0, api_healthz, 0},
};
#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))

/* The URL prefixes CivetWeb hands to dispatch(). */
static const char *const handled[] = {"/api", "/metrics", "/healthz"};

/* The 404's list of endpoints, from the table (set once at start). */
static char not_found_reason[320];

static const struct route *find_route(const char *uri)
{
	for (size_t i = 0; i < N_ROUTES; i++) {
		size_t n = strlen(routes[i].path);

		if (routes[i].prefix ? !strncmp(uri, routes[i].path, n)
				     : !strcmp(uri, routes[i].path))
			return &routes[i];
	}
	return NULL;
}

/* A cached route: 1 when a fresh answer was put in r->reply; 0 when the
 * handler must build it (r->cache then says where to store it).  A key
 * that does not fit is served uncached: a truncated one would share an
 * entry with others. */
static int from_cache(struct req *r)
{
	char key[CACHE_KEY_BYTES];
	const char *body;
	size_t len_bytes;
	void *owner;
	int n = snprintf(key, sizeof(key), "%s?%s", r->ri->local_uri,
			 r->ri->query_string ? r->ri->query_string : "");

	if (n < 0 || (size_t)n >= sizeof(key) ||
	    !cache_lookup(key, &r->cache, &body, &len_bytes, &owner))
		return 0;
	reply_borrowed(r, 200, "application/json", body, len_bytes, cache_release, owner);
	return 1;
}

static int dispatch(struct mg_connection *conn, void *db)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	struct req r = {.conn = conn, .ri = ri, .db = db, .path_arg = ""};
	const struct route *rt = find_route(ri->local_uri);

	if (!rt)
		reply_error(&r, 404, "not found", NULL, not_found_reason);
	else if (strcmp(ri->request_method, "GET"))
		reply_error(&r, 405, "method not allowed", NULL, "this API is read-only: use GET");
	else if (!rt->cached || !from_cache(&r)) {
		r.path_arg = ri->local_uri + (rt->prefix ? strlen(rt->path) : 0);
		rt->fn(&r);
		if (!r.reply.status) /* CivetWeb would take a 0 for "not handled" */
			reply_error(&r, 500, "internal error", NULL, "the handler gave no answer");
		cache_store(&r.cache, r.reply.status, r.reply.body, r.reply.len_bytes);
	}
	return reply_send(conn, &r.reply);
}

void routes_register(struct mg_context *ctx, struct db_pool *db)
{
	size_t len =
	    (size_t)snprintf(not_found_reason, sizeof(not_found_reason), "no such endpoint; see");

	for (size_t i = 0; i < N_ROUTES; i++)
		if (!routes[i].prefix && len < sizeof(not_found_reason))
			len +=
			    (size_t)snprintf(not_found_reason + len, sizeof(not_found_reason) - len,
					     "%s %s", i ? "," : "", routes[i].path);
	for (size_t i = 0; i < sizeof(handled) / sizeof(handled[0]); i++)
		mg_set_request_handler(ctx, handled[i], dispatch, db);
}
