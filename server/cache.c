/*
 * cache.c - a small response cache for the read-heavy JSON routes.
 *
 * Rows only change when lector commits calls (processes rows are written
 * in the same transaction), and the SSE poller sees every such commit as a
 * new cid.  An entry is therefore fresh while no call was committed since
 * it was built (for up to CACHE_SAME_MS), and for --cache-ms after that in
 * any case: under live capture a REST answer is at most that much behind
 * (the event stream is the live channel).  --cache-ms 0 turns it off.
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
#include <time.h>

#include "server.h"

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
static __thread struct cache_capture *capture;

struct cache_capture {
	const char *key;
	uint64_t cid;
};

void cache_init(unsigned int cache_ms)
{
	fresh_ms = cache_ms;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static unsigned int slot_of(const char *key)
{
	unsigned int h = 2166136261u;

	for (; *key; key++)
		h = (h ^ (unsigned char)*key) * 16777619u;
	return h % CACHE_SLOTS;
}

static void body_put(struct body *b)
{
	if (b && atomic_fetch_sub(&b->ref, 1) == 1)
		free(b);
}

static int fresh(const struct entry *e, uint64_t cid, uint64_t t)
{
	return t - e->built_ms < fresh_ms || (e->cid == cid && t - e->built_ms < CACHE_SAME_MS);
}

/* Serve KEY from the cache (1) or arm the capture of the response the
 * handler is about to send (0). */
int cache_serve(struct mg_connection *conn, const char *key)
{
	static __thread struct cache_capture cap;
	uint64_t cid = sse_last_cid(), t = now_ms();
	struct entry *e;
	struct body *hit = NULL;

	capture = NULL;
	if (!fresh_ms || strlen(key) >= CACHE_KEY_BYTES)
		return 0;
	e = &slots[slot_of(key)];
	pthread_mutex_lock(&lock);
	if (e->body && !strcmp(e->key, key)) {
		int ok = fresh(e, cid, t);

		/* Stale by either rule, 100 ms or 5 s: one rebuilds, the
		 * others get the copy.  Counting the window from the build
		 * alone covered only the first rule, and every 5 s all
		 * connections of an idle database queried it at once. */
		if (!ok && t - e->built_ms < CACHE_SAME_MS + CACHE_STALE_MS) {
			if (e->refresh_ms && t - e->refresh_ms < CACHE_STALE_MS)
				ok = 1; /* someone else is rebuilding it */
			else
				e->refresh_ms = t; /* this request rebuilds it */
		}
		if (ok) {
			hit = e->body;
			atomic_fetch_add(&hit->ref, 1);
		}
	}
	pthread_mutex_unlock(&lock);
	if (hit) {
		http_send_text(conn, 200, "application/json", hit->data, hit->len_bytes);
		body_put(hit);
		return 1;
	}
	cap.key = key;
	cap.cid = cid;
	capture = &cap;
	return 0;
}

void cache_disarm(void)
{
	capture = NULL;
}

/* Called by http_send_text: keep a 200 JSON body for the armed key. */
void cache_store(int status, const char *body, size_t len_bytes)
{
	struct cache_capture *c = capture;
	struct body *b = NULL, *old;
	struct entry *e;

	capture = NULL;
	if (!c)
		return;
	e = &slots[slot_of(c->key)];
	if (status != 200 || len_bytes > CACHE_BODY_MAX_BYTES ||
	    !(b = malloc(sizeof(*b) + len_bytes))) {
		pthread_mutex_lock(&lock);
		e->refresh_ms = 0;
		pthread_mutex_unlock(&lock);
		return;
	}
	atomic_init(&b->ref, 1);
	b->len_bytes = len_bytes;
	memcpy(b->data, body, len_bytes);
	pthread_mutex_lock(&lock);
	e->refresh_ms = 0;
	old = e->body;
	strcpy(e->key, c->key);
	e->body = b;
	e->cid = c->cid;
	e->built_ms = now_ms();
	pthread_mutex_unlock(&lock);
	body_put(old);
}
