/*
 * rows.c - one calls row and one processes row as the API's JSON objects
 * (rows.h), shared by the REST handlers and the event stream, and the
 * row callbacks of one-row answers (counts, sums).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "rows.h"

static void add_hex(cJSON *o, const char *key, const char *dec)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%llx", strtoull(dec, NULL, 10));
	cJSON_AddStringToObject(o, key, buf);
}

/* One calls row (CALLS_COLUMNS order).  Addresses and the session id are
 * strings: JSON numbers lose precision above 2^53. */
cJSON *calls_row_json(char **c, unsigned long *len)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "id", strtod(c[0], NULL));
	json_add_bytes_str(o, "host", c[1], len[1]);
	add_hex(o, "session", c[2]);
	cJSON_AddNumberToObject(o, "seq", strtod(c[3], NULL));
	json_add_int_raw(o, "ts_ns", c[4]);
	cJSON_AddNumberToObject(o, "pid", strtod(c[5], NULL));
	cJSON_AddNumberToObject(o, "tid", strtod(c[6], NULL));
	cJSON_AddNumberToObject(o, "uid", strtod(c[7], NULL));
	cJSON_AddStringToObject(o, "start_ns", c[8]);
	json_add_bytes_str(o, "name", c[9], len[9]);
	json_add_bytes_str(o, "thread_name", c[10], len[10]);
	cJSON_AddStringToObject(o, "call", c[11]);
	add_hex(o, "addr", c[12]);
	cJSON_AddNumberToObject(o, "len_bytes", strtod(c[13], NULL));
	add_hex(o, "new_addr", c[14]);
	cJSON_AddNumberToObject(o, "new_len_bytes", strtod(c[15], NULL));
	cJSON_AddNumberToObject(o, "offset_bytes", strtod(c[16], NULL));
	cJSON_AddNumberToObject(o, "prot", strtod(c[17], NULL));
	cJSON_AddNumberToObject(o, "flags", strtod(c[18], NULL));
	cJSON_AddNumberToObject(o, "fd", strtod(c[19], NULL));
	if (c[20][0] == '-') {
		cJSON_AddNumberToObject(o, "error", -strtod(c[20], NULL));
		cJSON_AddBoolToObject(o, "ok", 0);
	} else {
		/* brk never returns -errno: a refused brk returns the old break,
		 * which differs from the requested one (addr 0 is a query). */
		int refused_brk = !strcmp(c[11], "brk") && strtoull(c[12], NULL, 10) != 0 &&
				  strcmp(c[12], c[20]) != 0;

		add_hex(o, "result", c[20]);
		cJSON_AddBoolToObject(o, "ok", !refused_brk);
	}
	cJSON_AddNumberToObject(o, "vm_size_bytes", strtod(c[21], NULL));
	return o;
}

/* One processes row (PROC_COLUMNS order) as a JSON object. */
cJSON *proc_row_json(char **c, unsigned long *len)
{
	cJSON *o = cJSON_CreateObject();
	double held = json_num(c[8]), denom = json_num(c[13]);

	json_add_bytes_str(o, "host", c[0], len[0]);
	cJSON_AddNumberToObject(o, "pid", json_num(c[1]));
	cJSON_AddStringToObject(o, "start_ns", c[2]);
	cJSON_AddNumberToObject(o, "uid", json_num(c[3]));
	json_add_bytes_str(o, "name", c[4], len[4]);
	json_add_int_raw(o, "first_seen_ns", c[5]);
	json_add_int_raw(o, "last_seen_ns", c[6]);
	cJSON_AddStringToObject(o, "state", c[7][0] == '1' ? "exited" : "alive");
	json_add_num(o, "memory_held_bytes", c[8]);
	json_add_num(o, "net_bytes_raw", c[9]);
	json_add_num(o, "mapped_bytes", c[10]);
	json_add_num(o, "vm_size_bytes", c[11]);
	json_add_num(o, "requested_bytes", c[12]);
	if (denom > 0)
		cJSON_AddNumberToObject(o, "pct_of_system_vm", 100.0 * held / denom);
	else
		cJSON_AddNullToObject(o, "pct_of_system_vm");
	json_add_num(o, "pct_denominator_bytes", c[13]);
	cJSON_AddStringToObject(o, "pct_denominator", "MemTotal+SwapTotal of the process's host");
	json_add_num(o, "n_mmap", c[14]);
	json_add_num(o, "n_munmap", c[15]);
	json_add_num(o, "n_mremap", c[16]);
	json_add_num(o, "n_brk", c[17]);
	json_add_num(o, "n_failed", c[18]);
	rss_json(o, c + 19);
	json_add_int_raw(o, "rss_ts_ns", c[24]);
	pct_of_ram_json(o, json_num(c[19]), json_num(c[25]));
	group_json(o, c + 26, len + 26);
	return o;
}

void rss_json(cJSON *o, char **c)
{
	json_add_num(o, "rss_bytes", c[0]);
	json_add_num(o, "rss_anon_bytes", c[1]);
	json_add_num(o, "rss_file_bytes", c[2]);
	json_add_num(o, "rss_shmem_bytes", c[3]);
	json_add_num(o, "swap_bytes", c[4]);
}

void pct_of_ram_json(cJSON *o, double rss_bytes, double mem_total_bytes)
{
	if (mem_total_bytes > 0)
		cJSON_AddNumberToObject(o, "pct_of_ram", 100.0 * rss_bytes / mem_total_bytes);
	else
		cJSON_AddNullToObject(o, "pct_of_ram");
}

/* The cgroup id is a string: 64 bits do not fit a JSON number exactly.
 * A NULL path (not resolved, or id 0) comes as "" (db_core.c), which no
 * cgroup has (the root is "/"). */
void group_json(cJSON *o, char **c, unsigned long *len)
{
	cJSON_AddStringToObject(o, "cgroup_id", c[0][0] ? c[0] : "0");
	if (len[1])
		json_add_bytes_str(o, "cgroup", c[1], len[1]);
	else
		cJSON_AddNullToObject(o, "cgroup");
	json_add_bytes_str(o, "group", c[2], len[2]);
	json_add_bytes_str(o, "group_kind", c[3], len[3]);
}

int row_first_u64(void *arg, char **c, unsigned long *len, unsigned int n)
{
	(void)len;
	(void)n;
	*(uint64_t *)arg = strtoull(c[0], NULL, 10);
	return 1;
}

int row_two_nums(void *arg, char **c, unsigned long *len, unsigned int n)
{
	(void)len;
	(void)n;
	((double *)arg)[0] = json_num(c[0]);
	((double *)arg)[1] = json_num(c[1]);
	return 1;
}
