/*
 * acct.h - per-process memory accounting (README.md, "What the numbers mean").
 *
 * A process is keyed by (pid, start_ns) within one host: pids are reused.
 * acct_apply() folds one record into its process and marks it dirty; the
 * sink writes dirty processes in the same transaction as the calls that
 * changed them, then calls acct_clean().
 */
#ifndef MEMPROBE_ACCT_H
#define MEMPROBE_ACCT_H

#include <stdbool.h>
#include <stdint.h>

#include "memprobe_abi.h"
#include "range.h"

enum acct_count {
	ACCT_N_MMAP,
	ACCT_N_MUNMAP,
	ACCT_N_MREMAP,
	ACCT_N_BRK,
	ACCT_N_FAILED,
	ACCT_N_MAX
};

/* A process's resident and swapped memory (/proc/PID/status RssAnon,
 * RssFile, RssShmem, VmSwap, in bytes) and when it was read: from a
 * record (its ts_ns) or from /proc (lector/sampler.c, the wall clock of
 * the reading).  ts_ns 0: never read. */
struct acct_mem {
	uint64_t rss_anon_bytes;
	uint64_t rss_file_bytes;
	uint64_t rss_shmem_bytes;
	uint64_t swap_bytes;
	uint64_t ts_ns;
};

struct acct_proc {
	uint32_t pid;
	uint32_t uid;
	uint64_t start_ns;
	char comm[MEMPROBE_COMM_LEN + 1];
	uint64_t first_seen_ns;
	uint64_t last_seen_ns;
	bool exited;
	int64_t net_bytes;	  /* course formula, may go below 0 */
	struct range_set mapped;  /* ranges mapped while watched */
	uint64_t heap_bytes;	  /* brk: heap size after the last call */
	uint64_t heap_base_bytes; /* heap already there when first seen */
	bool heap_known;
	uint64_t vm_size_bytes;	  /* kernel total_vm at the last event */
	uint64_t requested_bytes; /* sum of successful mmap lengths */
	uint64_t count[ACCT_N_MAX];
	struct acct_mem mem; /* resident and swap as last known */
	uint64_t cgroup_id;  /* of its latest record (0: none seen) */
	bool dirty;
	struct acct_proc *next_hash;
	struct acct_proc *next_dirty;
	/* lector's checkpoints (lector/checkpoint.c): calls since the last
	 * one, whether there is one, and its ts_ns */
	uint32_t ckpt_calls;
	bool ckpt_taken;
	uint64_t ckpt_ts_ns;
};

struct acct;

int acct_new(struct acct **out);
void acct_free(struct acct *a);
/* Log each process's range changes for the sink (range.h), on by default;
 * off where nothing stores them (a replay that only reads totals). */
void acct_log_ranges(struct acct *a, bool on);

/* No machine addresses more than 2^52 bytes (the physical address limit
 * of x86-64 and arm64): a record's memory field above it is corrupt (a
 * damaged or crafted ring file), and sums of such fields would overflow
 * the 64-bit columns (processes.rss_bytes).  Caps them at it; returns
 * whether anything was capped. */
#define ACCT_MEM_FIELD_MAX (1ULL << 52)
bool acct_cap_mem_fields(struct memprobe_record *rec);

/* Apply one record.  Returns the process it touched (marked dirty) or NULL
 * on allocation failure. */
struct acct_proc *acct_apply(struct acct *a, const struct memprobe_record *rec);

/* The live process (pid, start_ns), or NULL. */
struct acct_proc *acct_lookup(struct acct *a, uint32_t pid, uint64_t start_ns);
/* A reading of p's memory newer than what it holds replaces it and marks
 * p dirty; an older one is ignored, and so is one with the same values
 * unless what p holds is a minute old.  Returns whether it was taken. */
bool acct_set_mem(struct acct *a, struct acct_proc *p, const struct acct_mem *m);
/* Calls fn(pid, start_ns, arg) for each live process (not exited). */
void acct_each_live(struct acct *a, void (*fn)(uint32_t pid, uint64_t start_ns, void *arg),
		    void *arg);

/* How many processes acct holds (live, and exited ones not yet dropped). */
size_t acct_held_count(const struct acct *a);
/* mapped_bytes: watched ranges + watched heap growth. */
uint64_t acct_mapped_bytes(const struct acct_proc *p);
/* net_bytes as shown: clamped at 0. */
uint64_t acct_net_bytes_shown(const struct acct_proc *p);

/* Dirty processes since the last acct_clean(), newest first. */
struct acct_proc *acct_dirty_list(struct acct *a);
/* Forget the dirty set and the changes of their ranges (stored now);
 * processes that exited are freed. */
void acct_clean(struct acct *a);

/* Insert a process loaded from storage (resume after restart).  The proc is
 * copied; ranges are taken over, and their changes logged from now on (a
 * log already marked overflow makes the next commit store them whole). */
int acct_restore(struct acct *a, const struct acct_proc *p);

/* Close out restored processes that ended while lector was not running
 * (their exit record was never seen); returns how many. */
int acct_close_dead(struct acct *a, bool (*alive)(uint32_t pid, uint64_t start_ns));

#endif
