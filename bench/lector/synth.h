/*
 * synth.h - synthetic calls records that look like a real capture, for the
 * ingest benchmarks (insert-ceiling, bench/lector/variants): several
 * hundred processes with the names real machines give them, threads named
 * apart from their leader, a skewed share of calls per process, file-backed
 * and anonymous mmaps, munmap, brk, some mremap, memory fields and cgroups
 * set as ABI 2 records carry them.  Deterministic: the same seed gives the
 * same rows, so the sink and LOAD DATA store exactly the same ones.
 */
#ifndef MEMPROBE_BENCH_SYNTH_H
#define MEMPROBE_BENCH_SYNTH_H

#include <stdint.h>
#include <stdio.h>

#include "queue.h"

struct synth;

/* procs: how many processes (1..100000); seed: any. */
struct synth *synth_new(unsigned int procs, uint64_t seed);
void synth_free(struct synth *s);
/* The next record of session into e (seq counts from 0). */
void synth_next(struct synth *s, uint64_t session, struct qent *e);
/* e as one line of LOAD DATA's default format (tab separated, in the
 * column order of SYNTH_TSV_COLUMNS), host_id first. */
void synth_tsv(FILE *f, unsigned int host_id, const struct qent *e);
#define SYNTH_TSV_COLUMNS                                                                          \
	"host_id, session, seq, ts_ns, pid, tid, uid, start_ns, comm, thread_comm, syscall, "      \
	"addr, len_bytes, new_addr, new_len_bytes, offset_bytes, prot, flags, fd, result, "        \
	"total_vm_bytes, rss_anon_bytes, rss_file_bytes, rss_shmem_bytes, swap_bytes, "            \
	"cgroup_id, file_dev, file_ino, rec_flags"

#endif
