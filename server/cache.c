/*
 * cache.c - a small response cache for the read-heavy JSON routes.
 *
 * Rows only change when lector commits calls (processes rows are written
 * in the same transaction), and the SSE poller sees every such commit as a
 * new cid; main.c hands the poller's newest cid (sse_last_cid) to
 * cache_init as a callback, so this file calls nothing of the stream.  An
 * entry is therefore fresh while no call was committed since it was built
 * (for up to CACHE_SAME_MS), and for --cache-ms after that in any case:
 * under live capture a REST answer is at most that much behind (the event
 * stream is the live channel).  --cache-ms 0 turns it off.
 *
 * When an entry goes stale, one request rebuilds it while the others keep
 * getting the stale copy (for up to CACHE_STALE_MS per rebuild, and while
 * the entry is younger than CACHE_SAME_MS + CACHE_STALE_MS): without that,
 * every expiry sent all connections to MariaDB at once and p99 went to
 * seconds.
 *
 * Bodies are immutable and reference counted: a hit takes a reference
 * under the lock and writes outside it.  Copying the body under the one
 * lock made every hit wait for the holder, and under CPU contention (live
 * capture) a holder preempted mid-copy stalled all of them.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "cache.h"

#define CACHE_SLOTS	     512
#define CACHE_BODY_MAX_BYTES (256 * 1024)
#define CACHE_SAME_MS	     5000
#define CACHE_STALE_MS	     2000

struct body {
	atomic_int ref; /* the entry's, plus one per response being written */
	size_t len_bytes;
	char data[];
};

struct entry {
	char key[CACHE_KEY_BYTES];
	struct body *body;
	uint64_t cid;
	uint64_t built_ms;
	uint64_t refresh_ms; /* a request is rebuilding it since then (0: none) */
};

static struct entry slots[CACHE_SLOTS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned int fresh_ms;
static cache_newest_fn newest_cid;

void cache_init(unsigned int cache_ms, cache_newest_fn newest)
{
	fresh_ms = newest ? cache_ms : 0;
	newest_cid = newest;
}

static unsigned int slot_of(const char *key)
{
	unsigned int h = 2166136261u;

	for (; *key; key++)
		h = (h ^ (unsigned char)*key) * 16777619u;
	return h % CACHE_SLOTS;
}

void cache_release(void *owner)
{
	struct body *b = owner;

	if (b && atomic_fetch_sub(&b->ref, 1) == 1)
		free(b);
}

static int fresh(const struct entry *e, uint64_t cid, uint64_t t)
{
	return t - e->built_ms < fresh_ms || (e->cid == cid && t - e->built_ms < CACHE_SAME_MS);
}

/* Under the lock: the entry's body, referenced, when this request may
 * use it; NULL when this request is the one to rebuild it. */
static struct body *take_if_fresh(struct entry *e, uint64_t cid, uint64_t t)
{
	int ok = fresh(e, cid, t);

	/* Stale by either rule, 100 ms or 5 s: one rebuilds, the others get
	 * the copy.  Counting the window from the build alone covered only
	 * the first rule, and every 5 s all connections of an idle database
	 * queried it at once. */
	if (!ok && t - e->built_ms < CACHE_SAME_MS + CACHE_STALE_MS) {
		if (e->refresh_ms && t - e->refresh_ms < CACHE_STALE_MS)
			ok = 1; /* someone else is rebuilding it */
		else
			e->refresh_ms = t; /* this request rebuilds it */
	}
	if (!ok)
		return NULL;
	atomic_fetch_add(&e->body->ref, 1);
	return e->body;
}

int cache_lookup(const char *key, struct cache_ticket *t, const char **body, size_t *len_bytes,
		 void **owner)
{
	struct body *hit = NULL;
	struct entry *e;
	uint64_t now;

	t->armed = 0;
	if (!fresh_ms || strlen(key) >= CACHE_KEY_BYTES)
		return 0;
	t->cid = newest_cid();
	now = mono_ms();
	e = &slots[slot_of(key)];
	pthread_mutex_lock(&lock);
	if (e->body && !strcmp(e->key, key))
		hit = take_if_fresh(e, t->cid, now);
	pthread_mutex_unlock(&lock);
	if (hit) {
		*body = hit->data;
		*len_bytes = hit->len_bytes;
		*owner = hit;
		return 1;
	}
	strcpy(t->key, key);
	t->armed = 1;
	return 0;
}

void cache_store(struct cache_ticket *t, int status, const char *data, size_t len_bytes)
{
	struct body *b = NULL, *old;
	struct entry *e;

	if (!t->armed)
		return;
	t->armed = 0;
	e = &slots[slot_of(t->key)];
	if (status != 200 || len_bytes > CACHE_BODY_MAX_BYTES ||
	    !(b = malloc(sizeof(*b) + len_bytes))) {
		pthread_mutex_lock(&lock);
		e->refresh_ms = 0;
		pthread_mutex_unlock(&lock);
		return;
	}
	atomic_init(&b->ref, 1);
	b->len_bytes = len_bytes;
	memcpy(b->data, data, len_bytes);
	pthread_mutex_lock(&lock);
	e->refresh_ms = 0;
	old = e->body;
	strcpy(e->key, t->key);
	e->body = b;
	e->cid = t->cid;
	e->built_ms = mono_ms();
	pthread_mutex_unlock(&lock);
	cache_release(old);
}
