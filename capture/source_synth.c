/*
 * source_synth.c - the synthetic source (lector --source=synthetic,
 * memprobe-cat --source=synthetic): one simulated host's records, made by
 * synth_gen.c from the mix measured on this project's machine, at
 * --rate calls per second with the measured bursts, stamped with the wall
 * clock as they fall due.  Nothing is captured: the pids are not this
 * machine's (lector reads no /proc for them).  Delivery follows source.h:
 * batch_end before the records count as released.  seen = delivered,
 * drops 0; a session id of its own per open (the seed picks the records,
 * not the session).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "source_impl.h"
#include "synth_gen.h"

#define SYNTH_BATCH_MAX 4096 /* records per batch_end, as the other sources */

struct source_synth {
	struct source base;
	struct fleetgen *g;
	uint64_t session, delivered, released;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int synth_poll(struct source *s, int timeout_ms, source_record_cb cb,
		      source_batch_end_cb batch_end, void *ctx)
{
	struct source_synth *y = (struct source_synth *)s;
	uint64_t now = now_ns(), next = fleetgen_next_ts(y->g), n = 0;
	struct memprobe_record rec;
	int rc;

	if (next > now) { /* nothing due: sleep until it is, within the timeout */
		uint64_t wait = next - now;

		if (wait > (uint64_t)timeout_ms * 1000000ull)
			wait = (uint64_t)timeout_ms * 1000000ull;
		usleep((useconds_t)(wait / 1000));
		now = now_ns();
	}
	while (fleetgen_next_ts(y->g) <= now && n < SYNTH_BATCH_MAX) {
		fleetgen_next(y->g, &rec);
		y->delivered++;
		n++;
		rc = cb(&rec, ctx);
		if (rc)
			return rc < 0 ? rc : (int)n;
	}
	if (n && batch_end && (rc = batch_end(ctx)) < 0)
		return rc;
	y->released = y->delivered;
	return (int)n;
}

static void synth_stats(const struct source *s, struct source_stats *st)
{
	const struct source_synth *y = (const struct source_synth *)s;

	memset(st, 0, sizeof(*st));
	st->name = "synthetic";
	st->session_id = y->session;
	st->seen = y->delivered;
	st->delivered = y->delivered;
	st->released = y->released;
	st->running = true;
}

static void synth_close(struct source *s)
{
	struct source_synth *y = (struct source_synth *)s;

	fleetgen_free(y->g);
	free(y);
}

static const struct source_ops synth_ops = {
    .poll = synth_poll,
    .stats = synth_stats,
    .close = synth_close,
};

int source_synth_open(struct source **out, const struct source_opts *opts, char *err, size_t errlen)
{
	struct source_synth *y = calloc(1, sizeof(*y));
	uint64_t now = now_ns();
	double rate = opts->synth_rate > 0 ? opts->synth_rate : SYNTH_RATE_DEFAULT;

	if (y)
		y->g = fleetgen_new(opts->synth_seed, 0, now, rate);
	if (!y || !y->g) {
		free(y);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	y->base.ops = &synth_ops;
	/* a session of its own: the wall clock, mixed, never 0 */
	y->session = (now ^ ((uint64_t)getpid() << 32)) * 0x9e3779b97f4a7c15ull | 1;
	*out = &y->base;
	return 0;
}
