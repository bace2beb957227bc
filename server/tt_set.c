/*
 * tt_set.c - what the files of time travel share below them (tt_set.h):
 * a stored call as the record lector folded, a process found in a set by
 * its key, a process's comm.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tt_set.h"

static uint16_t call_of(const char *name)
{
	for (uint16_t i = 1; i <= MP_CALL_MAX; i++)
		if (!strcmp(name, memprobe_call_name(i)))
			return i;
	return 0;
}

void record_of_call(char **c, unsigned long *len, struct memprobe_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->ts_ns = tt_u64(c[0]);
	rec->call = call_of(c[1]);
	rec->addr = tt_u64(c[2]);
	rec->len = tt_u64(c[3]);
	rec->new_addr = tt_u64(c[4]);
	rec->new_len = tt_u64(c[5]);
	rec->mflags = (uint32_t)tt_u64(c[6]);
	rec->ret = strtoll(c[7], NULL, 10);
	rec->total_vm_bytes = tt_u64(c[8]);
	rec->uid = (uint32_t)tt_u64(c[9]);
	memcpy(rec->comm, c[10], len[10] < MEMPROBE_COMM_LEN ? len[10] : MEMPROBE_COMM_LEN);
	rec->prot = (uint32_t)tt_u64(c[11]);
	rec->offset = tt_u64(c[12]);
	rec->fd = (int32_t)strtol(c[13], NULL, 10);
	rec->file_dev = (uint32_t)tt_u64(c[14]);
	rec->file_ino = tt_u64(c[15]);
	rec->rss_anon_bytes = tt_u64(c[16]);
	rec->rss_file_bytes = tt_u64(c[17]);
	rec->rss_shmem_bytes = tt_u64(c[18]);
	rec->swap_bytes = tt_u64(c[19]);
	rec->cgroup_id = tt_u64(c[20]);
}

/* The process (host_id, pid, start_ns) in the set (in that order, query 1's). */
struct tt_proc *tt_find_proc(struct tt_set *s, uint64_t host_id, uint64_t pid,
				 uint64_t start_ns)
{
	size_t a = 0, b = s->n;

	while (a < b) {
		size_t m = a + (b - a) / 2;
		const struct tt_proc *p = &s->p[m];
		int c = p->host_id != host_id ? (p->host_id < host_id ? -1 : 1)
			: p->pid != pid	       ? (p->pid < pid ? -1 : 1)
			: p->start_ns != start_ns ? (p->start_ns < start_ns ? -1 : 1)
						  : 0;

		if (!c)
			return &s->p[m];
		if (c < 0)
			a = m + 1;
		else
			b = m;
	}
	return NULL;
}

void tt_set_comm(struct tt_proc *p, const char *s, unsigned long n)
{
	p->comm_len = n < MEMPROBE_COMM_LEN ? n : MEMPROBE_COMM_LEN;
	memcpy(p->comm, s, p->comm_len);
	p->comm[p->comm_len] = 0;
}
