/*
 * sse.c - /api/events, server-sent events.
 *
 * One poller thread reads newly committed calls by cid (migration 010)
 * every sse_poll_ms and fans each batch out to per-client bounded queues
 * (with no client it only follows the newest cid); a client's own worker
 * thread writes its queue.  The poller never blocks on a client: a client
 * whose queue is full is cut loose (and counted), and its browser
 * reconnects with Last-Event-ID and catches up from the database, so
 * nothing is lost.  Per batch, "process" events (changed processes rows,
 * no id) go first and "call" events (id = cid) after: a client that
 * resumes from the last id it saw gets every later call and the process
 * rows those calls changed.  A resume deeper than --sse-resume-max ids
 * gets one "reset" event (with the live id) instead of a replay.  The
 * poller's own queries also tell /healthz whether the database answers.
 * The poller reads only up to the watermark (watermark.c): several lectors
 * commit at once, and a cid below it never appears later.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "host_id.h"
#include "rows.h"
#include "sse_batch.h"

#define BATCH_ROWS_MAX 2000

/* ?host= ?pid= ?name= of /api/events: empty/0 = any. */
struct sse_filter {
	char host[MP_HOST_ID_MAX + 1], name[17];
	uint64_t pid;
};

struct client {
	pthread_cond_t wake;
	struct msg **q;
	unsigned int head, count;
	int cut;
	struct client *prev, *next;
	struct sse_filter f;
};

static struct {
	pthread_mutex_t lock; /* list, queues; taken before nothing else */
	struct client *list;
	atomic_uint n;
	atomic_ullong last_cid; /* newest cid fanned out */
	pthread_t poller;
	int running;
	unsigned int batch_rows; /* calls + their processes fill at most half a client queue */
	struct db_pool *db;	 /* the poller's own connection */
	struct db_pool *catchup_db;
	const struct server_opts *o;
} hub = {.lock = PTHREAD_MUTEX_INITIALIZER};

static atomic_ullong cut_total, sent_total, reset_total;
/* CLOCK_MONOTONIC ms of the poller's last successful query (0: none yet),
 * and whether its latest one failed. */
static atomic_ullong poll_ok_ms;
static atomic_int poll_failing;

unsigned int sse_client_count(void)
{
	return atomic_load_explicit(&hub.n, memory_order_relaxed);
}
uint64_t sse_cut_total(void)
{
	return cut_total;
}
uint64_t sse_sent_total(void)
{
	return sent_total;
}
uint64_t sse_last_cid(void)
{
	return atomic_load_explicit(&hub.last_cid, memory_order_relaxed);
}
uint64_t sse_reset_total(void)
{
	return reset_total;
}

/* One event-stream connection, as its worker thread writes it. */
struct stream {
	struct mg_connection *conn;
	const struct sse_filter *f;
	uint64_t sent_upto;	/* calls up to this id were sent or filtered out */
	uint64_t last_write_ms; /* CLOCK_MONOTONIC; a heartbeat is due a period later */
};

static int filter_match(const struct sse_filter *f, const struct msg *m)
{
	return (!f->pid || f->pid == m->pid) && (!f->host[0] || !strcmp(f->host, m->host)) &&
	       (!f->name[0] || !strcmp(f->name, m->name));
}

/* 1 when M was queued for C or C was just cut loose: C must wake. */
static int client_push(struct client *c, struct msg *m)
{
	unsigned int cap = hub.o->sse_queue_len;

	if (!m || c->cut || !filter_match(&c->f, m))
		return 0;
	if (c->count == cap) {
		c->cut = 1;
		cut_total++;
		return 1;
	}
	atomic_fetch_add(&m->ref, 1);
	c->q[(c->head + c->count++) % cap] = m;
	return 1;
}

/* Only clients that got something are woken: a wake-up with nothing to
 * send must not be taken for a heartbeat period. */
static void fan_out(struct batch *b)
{
	pthread_mutex_lock(&hub.lock);
	for (struct client *c = hub.list; c; c = c->next) {
		int wake = 0;

		for (size_t i = 0; b->procs && i < b->n_procs; i++)
			wake |= client_push(c, b->procs[i]);
		for (size_t i = 0; i < b->n_calls; i++)
			wake |= client_push(c, b->calls[i]);
		if (wake)
			pthread_cond_signal(&c->wake);
	}
	atomic_store_explicit(&hub.last_cid, b->last_cid, memory_order_relaxed);
	pthread_mutex_unlock(&hub.lock);
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static const char max_cid_sql[] = "SELECT COALESCE(MAX(cid), 0) FROM calls";

/* The live edge: the newest cid, capped by the watermark (watermark.c). */
static int read_edge(struct db_pool *db, uint64_t *edge, char *err, size_t errlen)
{
	uint64_t mark = 0;
	int rc = watermark_read(db, &mark, err, errlen);

	if (rc == 0)
		rc = db_select(db, max_cid_sql, NULL, 0, row_first_u64, edge, err, errlen);
	if (rc == 0 && *edge > mark)
		*edge = mark;
	return rc;
}

/* No client: nothing to read or format, only the live edge to follow (the
 * cache's freshness and a new client's starting point).  It moves only
 * while still nobody is registered: a client that registered meanwhile
 * started from the old edge and gets the calls after it from the next
 * batch. */
static int follow_edge(char *err, size_t errlen)
{
	uint64_t edge = 0;
	int rc = read_edge(hub.db, &edge, err, errlen);

	pthread_mutex_lock(&hub.lock);
	if (rc == 0 && !atomic_load(&hub.n) && edge > atomic_load(&hub.last_cid))
		atomic_store_explicit(&hub.last_cid, edge, memory_order_relaxed);
	pthread_mutex_unlock(&hub.lock);
	return rc;
}

/* One poll: 1 when a full batch was read (behind: poll again at once). */
static int poll_once(char *err, size_t errlen)
{
	struct batch *b = NULL;
	uint64_t mark = 0;
	int rc;

	if (!sse_client_count())
		return follow_edge(err, errlen);
	rc = watermark_read(hub.db, &mark, err, errlen);
	if (rc < 0)
		return rc;
	if (mark <= atomic_load(&hub.last_cid))
		return 0; /* nothing new that can be sent yet */
	rc = batch_fetch(hub.db, atomic_load(&hub.last_cid), mark, hub.batch_rows, &b, err, errlen);
	if (rc < 0)
		return rc;
	if (b->n_calls)
		fan_out(b);
	rc = b->n_calls == hub.batch_rows;
	batch_free(b);
	return rc;
}

static void *poller(void *arg)
{
	char err[256];
	int failing = 0;

	(void)arg;
	while (!server_stopping) {
		int rc = poll_once(err, sizeof(err));

		if (rc < 0) {
			atomic_store(&poll_failing, 1);
			if (!failing++)
				fprintf(stderr, "memprobe-server: SSE poller: %s (retrying)\n",
					err);
			sleep_ms(500);
			continue;
		}
		failing = 0;
		atomic_store(&poll_ok_ms, mono_ms());
		atomic_store(&poll_failing, 0);
		if (rc == 0)
			sleep_ms(hub.o->sse_poll_ms);
	}
	return NULL;
}

/* 1 when the poller's latest query worked and it ran within the last
 * max(2 s, 20 poll periods); *age_ms: since that query. */
int sse_db_healthy(uint64_t *age_ms)
{
	uint64_t ok = atomic_load(&poll_ok_ms), limit = 20ull * hub.o->sse_poll_ms;

	*age_ms = ok ? mono_ms() - ok : UINT64_MAX;
	return ok && !atomic_load(&poll_failing) && *age_ms <= (limit > 2000 ? limit : 2000);
}

int sse_start(struct db_pool *rest_db, struct db_pool *poll_db, const struct server_opts *o)
{
	uint64_t edge = 0;
	char err[256];
	int rc;

	hub.o = o;
	hub.batch_rows =
	    o->sse_queue_len / 4 < BATCH_ROWS_MAX ? o->sse_queue_len / 4 : BATCH_ROWS_MAX;
	hub.catchup_db = rest_db;
	hub.db = poll_db;
	watermark_init(o->cid_lease_expiry_s);
	/* Live from now; older calls are /api/calls' job (or Last-Event-ID's). */
	rc = read_edge(poll_db, &edge, err, sizeof(err));
	atomic_store(&hub.last_cid, edge);
	if (rc < 0) {
		fprintf(stderr, "memprobe-server: %s (is migration 010 applied? run lector once)\n",
			err);
		return rc;
	}
	atomic_store(&poll_ok_ms, mono_ms());
	rc = -pthread_create(&hub.poller, NULL, poller, NULL);
	hub.running = rc == 0;
	return rc;
}

void sse_stop(void)
{
	pthread_mutex_lock(&hub.lock);
	for (struct client *c = hub.list; c; c = c->next)
		pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&hub.lock);
	if (hub.running)
		pthread_join(hub.poller, NULL);
	hub.running = 0;
}

/* Registration and the capacity check are one step under the lock. */
static struct client *client_register(uint64_t *hw, const struct sse_filter *f)
{
	struct client *c;

	pthread_mutex_lock(&hub.lock);
	if (atomic_load(&hub.n) >= hub.o->sse_max) {
		pthread_mutex_unlock(&hub.lock);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c && !(c->q = calloc(hub.o->sse_queue_len, sizeof(*c->q)))) {
		free(c);
		c = NULL;
	}
	if (c) {
		pthread_condattr_t a;

		pthread_condattr_init(&a);
		pthread_condattr_setclock(&a, CLOCK_MONOTONIC); /* deadlines from mono_ms() */
		pthread_cond_init(&c->wake, &a);
		pthread_condattr_destroy(&a);
		c->f = *f;
		c->next = hub.list;
		if (hub.list)
			hub.list->prev = c;
		hub.list = c;
		atomic_fetch_add_explicit(&hub.n, 1, memory_order_relaxed);
		*hw = atomic_load(&hub.last_cid);
	}
	pthread_mutex_unlock(&hub.lock);
	return c;
}

static void client_unregister(struct client *c)
{
	pthread_mutex_lock(&hub.lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		hub.list = c->next;
	if (c->next)
		c->next->prev = c->prev;
	atomic_fetch_sub_explicit(&hub.n, 1, memory_order_relaxed);
	while (c->count) {
		msg_put(c->q[c->head]);
		c->head = (c->head + 1) % hub.o->sse_queue_len;
		c->count--;
	}
	pthread_mutex_unlock(&hub.lock);
	pthread_cond_destroy(&c->wake);
	free(c->q);
	free(c);
}

static int stream_write(struct stream *s, const char *data, size_t len)
{
	if (mg_write(s->conn, data, len) <= 0)
		return -EPIPE;
	s->last_write_ms = mono_ms();
	return 0;
}

/* A heartbeat only when nothing was written for a whole period. */
static int heartbeat_if_due(struct stream *s)
{
	if (mono_ms() - s->last_write_ms < hub.o->sse_heartbeat_ms)
		return 0;
	return stream_write(s, ": heartbeat\n\n", 13);
}

static int send_msg(struct stream *s, struct msg *m)
{
	int rc;

	if (m->cid && m->cid <= s->sent_upto && m->data[0] == 'i')
		return 0; /* a call the catch-up already sent */
	if (!filter_match(s->f, m))
		return 0;
	rc = stream_write(s, m->data, m->len);
	if (rc < 0)
		return rc;
	sent_total++;
	if (m->data[0] == 'i')
		s->sent_upto = m->cid;
	return 0;
}

/* Resume: every call in (sent_upto, hw] from the database, in pages.  The
 * cursor moves past every row read, whether the filter keeps it or not:
 * moving it only past the calls sent re-read the same rows forever when
 * the newest one did not match. */
static int catch_up(struct stream *s, uint64_t hw)
{
	uint64_t cursor = s->sent_upto;
	char err[256];

	while (cursor < hw && !server_stopping) {
		struct batch *b = NULL;
		int rc =
		    batch_fetch(hub.catchup_db, cursor, hw, hub.batch_rows, &b, err, sizeof(err));

		if (rc < 0) {
			mg_cry(s->conn, "SSE catch-up: %s", err);
			return rc;
		}
		for (size_t i = 0; b->procs && i < b->n_procs && rc == 0; i++)
			rc = b->procs[i] ? send_msg(s, b->procs[i]) : 0;
		for (size_t i = 0; i < b->n_calls && rc == 0; i++)
			rc = send_msg(s, b->calls[i]);
		cursor = b->n_calls ? b->last_cid : hw;
		batch_free(b);
		if (rc == 0)
			rc = heartbeat_if_due(s); /* a long catch-up the filter mostly drops */
		if (rc < 0)
			return rc;
	}
	if (s->sent_upto < cursor)
		s->sent_upto = cursor;
	return 0;
}

/* A resume too deep to replay: one "reset" event whose id is the live
 * edge (a reconnect resumes from there), then live events. */
static int send_reset(struct stream *s, uint64_t hw)
{
	char ev[320];
	int n = snprintf(
	    ev, sizeof(ev),
	    "id: %llu\nevent: reset\ndata: {\"reason\":\"resume too deep: more than %u "
	    "ids behind; reload through the REST API\",\"last_event_id\":%llu,"
	    "\"live_from\":%llu,\"max_resume\":%u}\n\n",
	    (unsigned long long)hw, hub.o->sse_resume_max, (unsigned long long)s->sent_upto,
	    (unsigned long long)hw, hub.o->sse_resume_max);

	reset_total++;
	s->sent_upto = hw;
	return stream_write(s, ev, (size_t)n);
}

/* Wait for messages or the heartbeat deadline; write outside the lock. */
static int client_loop(struct stream *s, struct client *c)
{
	struct msg *batch[256];
	unsigned int cap = hub.o->sse_queue_len;
	int rc = 0;

	while (!server_stopping && rc == 0) {
		uint64_t due_ms = s->last_write_ms + hub.o->sse_heartbeat_ms;
		struct timespec dl = {(time_t)(due_ms / 1000), (long)(due_ms % 1000) * 1000000L};
		unsigned int n = 0;
		int cut;

		pthread_mutex_lock(&hub.lock);
		if (!c->count && !c->cut && !server_stopping)
			pthread_cond_timedwait(&c->wake, &hub.lock, &dl);
		while (c->count && n < 256) {
			batch[n++] = c->q[c->head];
			c->head = (c->head + 1) % cap;
			c->count--;
		}
		cut = c->cut && !c->count;
		pthread_mutex_unlock(&hub.lock);
		for (unsigned int i = 0; i < n; i++) {
			if (rc == 0)
				rc = send_msg(s, batch[i]);
			msg_put(batch[i]);
		}
		if (cut)
			return -ENOBUFS;
		if (rc == 0)
			rc = heartbeat_if_due(s);
	}
	return rc;
}

static int parse_last_id(struct req *r, uint64_t *id)
{
	const char *h = mg_get_header(r->conn, "Last-Event-ID");
	char *end;

	if (param_u64(r, "last_event_id", 0, INT64_MAX, 0, id))
		return -EINVAL;
	if (!h || !*h)
		return 0;
	errno = 0;
	*id = strtoull(h, &end, 10);
	if (*h < '0' || *h > '9' || *end || errno || *id > INT64_MAX) {
		reply_error(r, 400, "bad header", "Last-Event-ID",
			    "must be the decimal id of an event this server sent");
		return -EINVAL;
	}
	return 0;
}

int api_events(struct req *r)
{
	static const char *const allowed[] = {"last_event_id", "host", "pid", "name", NULL};
	uint64_t last_id = 0, hw = 0;
	struct sse_filter f;
	struct stream s = {.conn = r->conn, .f = &f};
	struct client *c;
	char msg[160];
	int rc;

	if (http_check_params(r, allowed) || parse_last_id(r, &last_id) ||
	    param_str(r, "host", f.host, sizeof(f.host), MP_HOST_ID_CHARSET) < 0 ||
	    param_u64(r, "pid", 1, 4194304, 0, &f.pid) ||
	    param_str(r, "name", f.name, sizeof(f.name), NULL) < 0)
		return 400;
	c = client_register(&hw, &f);
	if (!c) {
		snprintf(msg, sizeof(msg),
			 "server-sent event capacity reached (%u clients); retry later or raise "
			 "--sse-max",
			 hub.o->sse_max);
		return reply_error(r, 503, "too many event clients", NULL, msg);
	}
	mg_printf(r->conn,
		  "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
		  "Cache-Control: no-store\r\nX-Accel-Buffering: no\r\n" SECURITY_HEADERS
		  "Connection: close\r\n\r\nretry: 1000\n: live from id %llu\n\n",
		  (unsigned long long)hw);
	s.last_write_ms = mono_ms();
	s.sent_upto = last_id && last_id < hw ? last_id : hw;
	if (hw - s.sent_upto > hub.o->sse_resume_max)
		rc = send_reset(&s, hw);
	else
		rc = s.sent_upto < hw ? catch_up(&s, hw) : 0;
	if (rc == 0)
		rc = client_loop(&s, c);
	client_unregister(c);
	return reply_streamed(r);
}
