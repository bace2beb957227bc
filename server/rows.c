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

const char proc_by_key_sql[] =
    "SELECT " PROC_COLUMNS PROC_FROM " WHERE h.name = ? AND p.pid = ? AND p.start_ns = ?";

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
	cJSON_AddNumberToObject(o, "memory_held_bytes", held);
	cJSON_AddNumberToObject(o, "net_bytes_raw", json_num(c[9]));
	cJSON_AddNumberToObject(o, "mapped_bytes", json_num(c[10]));
	cJSON_AddNumberToObject(o, "vm_size_bytes", json_num(c[11]));
	cJSON_AddNumberToObject(o, "requested_bytes", json_num(c[12]));
	if (denom > 0)
		cJSON_AddNumberToObject(o, "pct_of_system_vm", 100.0 * held / denom);
	else
		cJSON_AddNullToObject(o, "pct_of_system_vm");
	cJSON_AddNumberToObject(o, "pct_denominator_bytes", denom);
	cJSON_AddStringToObject(o, "pct_denominator", "MemTotal+SwapTotal of the process's host");
	cJSON_AddNumberToObject(o, "n_mmap", json_num(c[14]));
	cJSON_AddNumberToObject(o, "n_munmap", json_num(c[15]));
	cJSON_AddNumberToObject(o, "n_mremap", json_num(c[16]));
	cJSON_AddNumberToObject(o, "n_brk", json_num(c[17]));
	cJSON_AddNumberToObject(o, "n_failed", json_num(c[18]));
	rss_json(o, c + 19);
	json_add_int_raw(o, "rss_ts_ns", c[24]);
	pct_of_ram_json(o, json_num(c[19]), json_num(c[25]));
	group_json(o, c + 26, len + 26);
	return o;
}

void rss_json(cJSON *o, char **c)
{
	cJSON_AddNumberToObject(o, "rss_bytes", json_num(c[0]));
	cJSON_AddNumberToObject(o, "rss_anon_bytes", json_num(c[1]));
	cJSON_AddNumberToObject(o, "rss_file_bytes", json_num(c[2]));
	cJSON_AddNumberToObject(o, "rss_shmem_bytes", json_num(c[3]));
	cJSON_AddNumberToObject(o, "swap_bytes", json_num(c[4]));
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
