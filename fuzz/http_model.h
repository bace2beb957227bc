/*
 * http_model.h - an independent model of the server's documented
 * parameter rules (docs/API.md), written from the rules, not from
 * server/params.c, for http_fuzz.c to compare the real handlers against.
 */
#ifndef MEMPROBE_FUZZ_HTTP_MODEL_H
#define MEMPROBE_FUZZ_HTTP_MODEL_H

#include <stdint.h>

#include "server.h"

#define MODEL_PARAMS_MAX 16

struct pspec {
	const char *name;
	char kind;		   /* 'u' number, 's' string, 'e' one of values */
	uint64_t min, max;	   /* 'u' */
	uint64_t def;		   /* 'u', 'e': the value when absent */
	size_t cap;		   /* 's': the value has at most cap - 1 bytes */
	const char *charset;	   /* 's': allowed bytes (NULL: no control bytes) */
	const char *const *values; /* 'e' */
	int values_as_str;	   /* 'e': bound as its name, not its index */
	int dbi;		   /* SQL parameter carrying it (-1: none) */
};

struct route {
	const char *name;
	route_fn fn;
	const struct pspec *spec;
};

struct model {
	int present[MODEL_PARAMS_MAX];
	uint64_t u64[MODEL_PARAMS_MAX];
	char str[MODEL_PARAMS_MAX][260];
	uint64_t path_pid;
	int64_t uid; /* -1: no uid= and no user= */
};

#define MODEL_ROUTES 7
extern const struct route model_routes[MODEL_ROUTES];

/* 1 when the documented rules accept the request; fills m. */
int model_accepts(const struct route *rt, const char *query, const char *path,
		  const char *last_event_id, struct model *m);
/* p: the two SQL parameters of the uid filter. */
void model_check_uid(const struct model *m, const struct db_param *p);
void model_check_clean_utf8(const uint8_t *data, size_t size);

/* One request as the access rules see it (docs/API.md, Security). */
struct auth_case {
	const char *method, *path, *query; /* path: as decoded; query raw (NULL: none) */
	const char *host, *authorization, *cookie, *origin, *fetch_site; /* NULL: absent */
	int is_ssl;
	int cookie_signed; /* the Cookie header holds a session cookie the server made */
};

/* The server the model describes: listens on 127.0.0.1, --allow-host
 * MODEL_ALLOW_HOST, token MODEL_TOKEN. */
#define MODEL_TOKEN	 "fuzz-token-0123456789abcdef"
#define MODEL_ALLOW_HOST "mp.example"

/* The documented answer: 0 (the request goes on to its route or file), or
 * 303 (token URL: session cookie), 401, 403 or 421. */
int model_auth(const struct auth_case *c);

#endif
