/*
 * source.c - pick a capture source and dispatch to it.
 *
 * The ring (stap module) is preferred when /proc/memprobe exists: it is the
 * primary path.  Otherwise the eBPF program, where the kernel allows it.
 * Each kind lives in its own file; this file only chooses.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "source.h"
#include "source_impl.h"

enum source_kind source_kind_parse(const char *name)
{
	if (!strcmp(name, "auto"))
		return SOURCE_AUTO;
	if (!strcmp(name, "ring") || !strcmp(name, "stap"))
		return SOURCE_RING;
	if (!strcmp(name, "bpf") || !strcmp(name, "ebpf"))
		return SOURCE_BPF;
	if (!strcmp(name, "synthetic"))
		return SOURCE_SYNTHETIC;
	return (enum source_kind) - 1;
}

int source_open(struct source **out, const struct source_opts *opts, char *err, size_t errlen)
{
	const char *path = opts->ring_path ? opts->ring_path : MEMPROBE_PROC_PATH;
	int rc;

	switch (opts->kind) {
	case SOURCE_RING:
		return source_ring_open(out, opts, err, errlen);
	case SOURCE_BPF:
		return source_bpf_open(out, opts, err, errlen);
	case SOURCE_SYNTHETIC:
		return source_synth_open(out, opts, err, errlen);
	case SOURCE_AUTO:
		/* When the module is loaded the user wants the ring: a busy or
		 * foreign ring is an error to report, not a reason to capture the
		 * same calls a second way behind their back.  Only a ring that
		 * vanished between the check and the open falls through. */
		if (access(path, F_OK) == 0) {
			rc = source_ring_open(out, opts, err, errlen);
			if (rc != -ENOENT)
				return rc;
		}
		return source_bpf_open(out, opts, err, errlen);
	}
	snprintf(err, errlen, "unknown source kind %d", (int)opts->kind);
	return -EINVAL;
}

int source_poll(struct source *s, int timeout_ms, source_record_cb cb,
		source_batch_end_cb batch_end, void *ctx)
{
	return s->ops->poll(s, timeout_ms, cb, batch_end, ctx);
}

void source_get_stats(const struct source *s, struct source_stats *st)
{
	s->ops->stats(s, st);
}

const char *source_error(const struct source *s)
{
	return s->err[0] ? s->err : NULL;
}

void source_close(struct source *s)
{
	if (s)
		s->ops->close(s);
}
