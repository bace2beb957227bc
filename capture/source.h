/*
 * source.h - capture sources: where records come from.
 *
 * A source yields struct memprobe_record (include/memprobe_abi.h) in batches.
 * Two kinds capture: the /proc/memprobe ring written by the SystemTap module
 * (source_ring.c) and the eBPF program (source_bpf.c); a third makes up a
 * simulated host's records (source_synth.c, for fleets and benchmarks).  Everything after a
 * source (accounting, sinks, memprobe-cat) is source-agnostic.
 *
 * Delivery contract: source_poll() passes each available record to the
 * callback, in ring order.  Records are released to the producer (their
 * slots may be reused, a reader opened later starts after them) only once
 * the caller has kept them: before each release, at the end of a batch and
 * every few thousand records inside a long one, the source calls batch_end,
 * which returns 0 once every record delivered so far is kept (lector: in
 * the journal or the queue).  So a kill at any point re-delivers, at
 * worst, what was kept and not yet released; it never loses a released
 * record.  batch_end NULL releases at once.  A batch_end error releases
 * nothing and ends the poll with that error; the records delivered since
 * the last release come again at the next poll.  A callback returning
 * non-zero stops the batch; that record and the rest stay in the ring.
 * (The ring's read() mode is the exception: the kernel releases what it
 * copies.  Only memprobe-cat --read uses it.)
 */
#ifndef MEMPROBE_SOURCE_H
#define MEMPROBE_SOURCE_H

#include <stdbool.h>
#include <stdint.h>
#include "memprobe_abi.h"

enum source_kind {
	SOURCE_AUTO = 0, /* ring if /proc/memprobe exists, else bpf */
	SOURCE_RING,
	SOURCE_BPF,
	SOURCE_SYNTHETIC, /* source_synth.c: a simulated host, nothing captured */
};

#define SYNTH_RATE_DEFAULT 1515 /* calls/s: the measured rate (synth_gen.c) */

struct source_opts {
	enum source_kind kind;
	const char *ring_path;  /* default MEMPROBE_PROC_PATH */
	bool use_read;          /* ring: read() instead of mmap */
	uint32_t ring_kib;      /* bpf: ring size, 0 = default */
	double synth_rate;      /* synthetic: calls/s, 0 = SYNTH_RATE_DEFAULT */
	uint64_t synth_seed;    /* synthetic: which records */
};

struct source_stats {
	const char *name;       /* "stap", "bpf" or "synthetic" (capture_stats.source) */
	const char *attach;     /* bpf: where calls are caught, "fexit", "tp",
				 * "regs" or "pair" (capture/source_bpf.c); else NULL */
	uint64_t session_id;
	uint64_t drops;         /* events the producer could not store */
	uint64_t seen;          /* events the producer saw (delivered + dropped) */
	uint64_t skipped;       /* probe runs the tracer/kernel skipped: an upper
				 * bound on events missing, not in seen */
	uint64_t delivered;     /* records passed to callbacks by this source */
	uint64_t released;      /* ...and handed back to the producer since */
	bool running;           /* false once the producer is going away */
};

struct source;

typedef int (*source_record_cb)(const struct memprobe_record *rec, void *ctx);
/* 0: everything delivered so far is kept; -errno: keep nothing released. */
typedef int (*source_batch_end_cb)(void *ctx);

/* Open a source.  On failure returns -errno and writes a human sentence saying
 * what is wrong and what to do into err (size errlen). */
int source_open(struct source **out, const struct source_opts *opts,
		char *err, size_t errlen);

/* Wait up to timeout_ms for records, deliver what is there.  Returns the number
 * of records delivered (0 on timeout), or -errno.  -ESHUTDOWN when the producer
 * is gone (module unloaded). */
int source_poll(struct source *s, int timeout_ms, source_record_cb cb,
		source_batch_end_cb batch_end, void *ctx);

void source_get_stats(const struct source *s, struct source_stats *st);

/* After a poll failed: a sentence saying what happened and what to do, or
 * NULL when strerror() of the error says it all. */
const char *source_error(const struct source *s);

void source_close(struct source *s);

enum source_kind source_kind_parse(const char *name); /* -1 when unknown */

#endif
