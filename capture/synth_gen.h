/*
 * synth_gen.h - the records of one simulated host (synth_gen.c), for the
 * synthetic capture source (source_synth.c: lector --source=synthetic) and
 * the simulated fleet (bench/fleet/fleet.c): the call mix, sizes, process
 * lifetimes and bursts measured on this project's machine (the table and
 * how it was measured are in synth_gen.c).
 * Every record is one a real capture could deliver and lector's accounting
 * accepts: a munmap or mremap names a mapping the process made, processes
 * begin (exec, or a fork's first call) and end (exit).  Deterministic: the
 * same seed, host index and epoch give the same records; only how they are
 * batched depends on the wall clock.  The generator keeps its own totals
 * (struct fleetgen_totals) so a test can hold the database to them.
 */
#ifndef MEMPROBE_SYNTH_GEN_H
#define MEMPROBE_SYNTH_GEN_H

#include <stdint.h>

#include "memprobe_abi.h"

struct fleetgen;

/* What the generator made, for the processes table's per-host sums. */
struct fleetgen_totals {
	uint64_t calls[8];    /* by enum memprobe_call */
	uint64_t failed;      /* mmap returning -ENOMEM */
	uint64_t procs;	      /* distinct (pid, start_ns) */
	uint64_t exited;      /* of them, with an exit record */
	uint64_t live_mapped; /* live processes: sum of acct's mapped_bytes */
	uint64_t hash;	      /* FNV-1a of every record made, in order */
};

/* One host: host (0, 1, ...) and seed pick its stream; epoch_ns is the
 * wall time of its first record; rate_eps its mean calls per second
 * (bursts around it, as measured).  NULL: no memory. */
struct fleetgen *fleetgen_new(uint64_t seed, unsigned int host, uint64_t epoch_ns, double rate_eps);
void fleetgen_free(struct fleetgen *g);
/* ts_ns of the record fleetgen_next would make now. */
uint64_t fleetgen_next_ts(const struct fleetgen *g);
/* The next record (seq from 0) into r. */
void fleetgen_next(struct fleetgen *g, struct memprobe_record *r);
void fleetgen_totals(const struct fleetgen *g, struct fleetgen_totals *t);

#endif
