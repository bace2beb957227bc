/*
 * rows.h - the row formats the API sends: one calls row and one processes
 * row as JSON objects, with the column lists their SELECTs must name, in
 * that order.  The REST handlers (api_calls.c, api_proc.c) and the event
 * stream (sse_batch.c) format rows here and nowhere else, so a row reads
 * the same on both channels (docs/API.md).
 */
#ifndef MEMPROBE_SERVER_ROWS_H
#define MEMPROBE_SERVER_ROWS_H

#include <cjson/cJSON.h>

/* The columns calls_row_json() reads, in its order.  All SQL text is
 * string literals: nothing is built at run time, so no request can see
 * (or prepare) a statement half written by another. */
#define CALLS_COLUMNS                                                                              \
	"c.cid, h.name, c.session, c.seq, c.ts_ns, c.pid, c.tid, c.uid, c.start_ns, c.comm, "      \
	"c.thread_comm, c.syscall, c.addr, c.len_bytes, c.new_addr, c.new_len_bytes, "             \
	"c.offset_bytes, c.prot, c.flags, c.fd, c.result, c.total_vm_bytes"

/* The columns proc_row_json() reads, in its order (p: processes,
 * h: hosts). */
#define PROC_COLUMNS                                                                               \
	"h.name, p.pid, p.start_ns, p.uid, p.comm, p.first_seen_ns, p.last_seen_ns, "              \
	"p.exited, p.net_bytes, p.net_bytes_raw, p.mapped_bytes, p.vm_size_bytes, "                \
	"p.requested_bytes, h.mem_total_bytes + h.swap_total_bytes, p.n_mmap, p.n_munmap, "        \
	"p.n_mremap, p.n_brk, p.n_failed"

/* One process by its key: host name, pid, start_ns. */
extern const char proc_by_key_sql[];

cJSON *calls_row_json(char **col, unsigned long *len);
cJSON *proc_row_json(char **col, unsigned long *len);

/* db_select row callbacks for one-row answers: the first column as a
 * uint64_t (arg: uint64_t *), the first two as numbers (arg: double[2]). */
int row_first_u64(void *arg, char **col, unsigned long *len, unsigned int ncols);
int row_two_nums(void *arg, char **col, unsigned long *len, unsigned int ncols);

#endif
