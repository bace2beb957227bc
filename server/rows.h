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

/* The group of a row x (a process, an OOM kill) that has host_id and
 * cgroup_id: its cgroups row g, joined by GROUP_JOIN(x).  cgroup_id 0
 * (not known: a row from before the record carried it) is the group
 * "unknown"; an id lector has not named (yet) is "cgroup:<id>".  The
 * name is compared as bytes (VARBINARY): exact and case-sensitive. */
#define GROUP_JOIN(x)                                                                              \
	" LEFT JOIN cgroups g ON g.host_id = " x ".host_id AND g.cgroup_id = " x ".cgroup_id"
#define GROUP_PATH(x) "IF(" x ".cgroup_id = 0, NULL, g.path)"
#define GROUP_NAME(x)                                                                              \
	"IF(" x ".cgroup_id = 0, 'unknown', COALESCE(g.name, CONCAT('cgroup:', " x ".cgroup_id)))"
#define GROUP_KIND(x) "IF(" x ".cgroup_id = 0, 'unknown', COALESCE(g.kind, 'unknown'))"
/* cgroup_id, path, name, kind: the columns group_json() reads. */
#define GROUP_COLUMNS(x) x ".cgroup_id, " GROUP_PATH(x) ", " GROUP_NAME(x) ", " GROUP_KIND(x)

/* The tables PROC_COLUMNS reads (p: processes, h: hosts, g: cgroups). */
#define PROC_FROM	" FROM processes p JOIN hosts h ON h.host_id = p.host_id" GROUP_JOIN("p")
#define PROC_GROUP_NAME GROUP_NAME("p")

/* The columns proc_row_json() reads, in its order (PROC_FROM). */
#define PROC_COLUMNS                                                                               \
	"h.name, p.pid, p.start_ns, p.uid, p.comm, p.first_seen_ns, p.last_seen_ns, "              \
	"p.exited, p.net_bytes, p.net_bytes_raw, p.mapped_bytes, p.vm_size_bytes, "                \
	"p.requested_bytes, h.mem_total_bytes + h.swap_total_bytes, p.n_mmap, p.n_munmap, "        \
	"p.n_mremap, p.n_brk, p.n_failed, p.rss_bytes, p.rss_anon_bytes, p.rss_file_bytes, "       \
	"p.rss_shmem_bytes, p.swap_bytes, p.rss_ts_ns, h.mem_total_bytes, " GROUP_COLUMNS("p")

cJSON *calls_row_json(char **col, unsigned long *len);
cJSON *proc_row_json(char **col, unsigned long *len);
/* GROUP_COLUMNS at col[0..3] into o: cgroup_id (decimal string), cgroup
 * (path or null), group, group_kind. */
void group_json(cJSON *o, char **col, unsigned long *len);
/* rss_bytes, rss_anon/file/shmem_bytes, swap_bytes from col[0..4]. */
void rss_json(cJSON *o, char **col);
/* pct_of_ram: 100 x rss / mem_total (null when mem_total is 0). */
void pct_of_ram_json(cJSON *o, double rss_bytes, double mem_total_bytes);

/* db_select row callbacks for one-row answers: the first column as a
 * uint64_t (arg: uint64_t *), the first two as numbers (arg: double[2]). */
int row_first_u64(void *arg, char **col, unsigned long *len, unsigned int ncols);
int row_two_nums(void *arg, char **col, unsigned long *len, unsigned int ncols);

#endif
