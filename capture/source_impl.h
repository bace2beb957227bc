/*
 * source_impl.h - what each capture source implements (private to sources).
 * A concrete source embeds struct source as its first member.
 */
#ifndef MEMPROBE_SOURCE_IMPL_H
#define MEMPROBE_SOURCE_IMPL_H

#include <stddef.h>
#include "source.h"

struct source_ops {
	int (*poll)(struct source *s, int timeout_ms, source_record_cb cb,
		    source_batch_end_cb batch_end, void *ctx);
	void (*stats)(const struct source *s, struct source_stats *st);
	void (*close)(struct source *s);
};

struct source {
	const struct source_ops *ops;
	char err[256]; /* why the last poll failed, when a sentence says more */
};

int source_ring_open(struct source **out, const struct source_opts *opts, char *err, size_t errlen);
int source_bpf_open(struct source **out, const struct source_opts *opts, char *err, size_t errlen);
int source_synth_open(struct source **out, const struct source_opts *opts, char *err,
		      size_t errlen);

#endif
