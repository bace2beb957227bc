/*
 * sink_jsonl.c - --sink=jsonl: one JSON object per record on stdout, for
 * pipes, jq and debugging.  Names are escaped byte by byte: quotes,
 * backslashes and control bytes become escapes, bytes >= 0x80 are written
 * as \u00XX so the output is valid JSON whatever a process calls itself.
 * Each line carries the process's mapped_bytes after the call, as
 * calls.mapped_bytes does; checkpoints are the database's only.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink.h"

struct sink_jsonl {
	struct sink base;
	FILE *out;
	char host[MP_HOST_ID_MAX + 1];
};

static void put_json_str(FILE *f, const char *s, size_t len)
{
	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void put_record(struct sink_jsonl *j, const struct qent *e, const struct qext *x)
{
	const struct memprobe_record *r = &e->rec;
	FILE *f = j->out;

	fputs("{\"host\":", f);
	put_json_str(f, j->host, strlen(j->host));
	fprintf(f,
		",\"session\":%" PRIu64
		",\"seq\":%llu,\"ts_ns\":%llu,\"pid\":%u,\"tid\":%u,\"uid\":%u,"
		"\"start_ns\":%llu,\"comm\":",
		e->session, (unsigned long long)r->seq, (unsigned long long)r->ts_ns, r->pid,
		r->tid, r->uid, (unsigned long long)r->start_ns);
	put_json_str(f, r->comm, e->comm_len);
	fputs(",\"thread_comm\":", f);
	put_json_str(f, r->thread_comm, e->thread_comm_len);
	fprintf(f,
		",\"call\":\"%s\",\"addr\":%llu,\"len\":%llu,\"new_addr\":%llu,\"new_len\":%llu,"
		"\"offset\":%llu,\"prot\":%u,\"flags\":%u,\"fd\":%d,\"ret\":%lld,\"total_vm_"
		"bytes\":%llu",
		memprobe_call_name(r->call), (unsigned long long)r->addr,
		(unsigned long long)r->len, (unsigned long long)r->new_addr,
		(unsigned long long)r->new_len, (unsigned long long)r->offset, r->prot, r->mflags,
		r->fd, (long long)r->ret, (unsigned long long)r->total_vm_bytes);
	fprintf(f,
		",\"rss_anon_bytes\":%llu,\"rss_file_bytes\":%llu,\"rss_shmem_bytes\":%llu,"
		"\"swap_bytes\":%llu,\"cgroup_id\":%llu,\"file_dev\":%u,\"file_ino\":%llu,"
		"\"rec_flags\":%u,\"mapped_bytes\":%llu}\n",
		(unsigned long long)r->rss_anon_bytes, (unsigned long long)r->rss_file_bytes,
		(unsigned long long)r->rss_shmem_bytes, (unsigned long long)r->swap_bytes,
		(unsigned long long)r->cgroup_id, r->file_dev, (unsigned long long)r->file_ino,
		r->flags, (unsigned long long)x->mapped_bytes);
}

static int jsonl_commit(struct sink *s, const struct qent *e, size_t n,
			const struct batch_extra *x, struct acct_proc *dirty,
			const struct capture_stats *st)
{
	struct sink_jsonl *j = (struct sink_jsonl *)s;

	(void)dirty;
	(void)st;
	for (size_t i = 0; i < n; i++)
		put_record(j, &e[i], &x->ext[i]);
	if (fflush(j->out) == EOF)
		return -errno;
	return 0;
}

static int jsonl_committed_seq(struct sink *s, uint64_t session, uint64_t *seq)
{
	(void)s;
	(void)session;
	(void)seq;
	return 0;
}

static int jsonl_restore(struct sink *s, struct acct *a)
{
	(void)s;
	(void)a;
	return 0;
}

static void jsonl_close(struct sink *s)
{
	free(s);
}

static const struct sink_ops jsonl_ops = {
    .commit = jsonl_commit,
    .committed_seq = jsonl_committed_seq,
    .restore = jsonl_restore,
    .close = jsonl_close,
};

int sink_jsonl_open(struct sink **out, const struct lector_config *cfg, char *err, size_t errlen)
{
	struct sink_jsonl *j = calloc(1, sizeof(*j));

	if (!j) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	j->base.ops = &jsonl_ops;
	j->out = stdout;
	snprintf(j->host, sizeof(j->host), "%s", cfg->host_id);
	*out = &j->base;
	return 0;
}
