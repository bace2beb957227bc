/*
 * cache.h - a small cache of response bodies, keyed "path?query"; what
 * "fresh" means is in cache.c.  It knows nothing of requests or of the
 * event stream: the newest committed cid comes from the callback given
 * to cache_init.
 */
#ifndef MEMPROBE_SERVER_CACHE_H
#define MEMPROBE_SERVER_CACHE_H

#include <stddef.h>
#include <stdint.h>

/* Keys longer than this are not cached. */
#define CACHE_KEY_BYTES 320

/* The newest committed cid (0 before the first is known). */
typedef uint64_t (*cache_newest_fn)(void);

/* A miss the caller promised to fill: the key and the cid the answer
 * will be built from (armed = 0: nothing to store). */
struct cache_ticket {
	int armed;
	uint64_t cid;
	char key[CACHE_KEY_BYTES];
};

/* cache_ms 0: no cache. */
void cache_init(unsigned int cache_ms, cache_newest_fn newest);
/* 1: a fresh body for KEY, referenced until cache_release(*owner).
 * 0: build the answer; if t is armed, hand it to cache_store. */
int cache_lookup(const char *key, struct cache_ticket *t, const char **body, size_t *len_bytes,
		 void **owner);
void cache_release(void *owner);
/* Keep a 200 body under t's key; any other status ends the rebuild. */
void cache_store(struct cache_ticket *t, int status, const char *body, size_t len_bytes);

#endif
