/*
 * ring-file-test.c - the ring reader (lector/source_ring.c) against ring
 * files written here: header refusals with their messages, delivery order,
 * a refused record staying for the next poll, -ESHUTDOWN once the
 * producer is gone (running = 0) and the ring is drained, and nothing
 * released before the caller's batch_end kept it.  Prints TAP.
 * Usage: ring-file-test DIR (a scratch directory).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source.h"

static int test_n;

static void tap(int ok, const char *what, const char *detail)
{
	printf("%sok %d - %s%s%s\n", ok ? "" : "not ", ++test_n, what, detail ? ": " : "",
	       detail ? detail : "");
}

/* A ring of 8 slots holding nrecs records (seq 0..), running as given. */
static int write_ring(const char *path, __u64 magic, __u32 abi, __u32 nrecs, __u32 running)
{
	static unsigned char buf[MEMPROBE_HDR_SIZE + 8 * MEMPROBE_RECORD_SIZE];
	struct memprobe_ring_hdr *h = (struct memprobe_ring_hdr *)buf;
	struct memprobe_record *r = (struct memprobe_record *)(buf + MEMPROBE_HDR_SIZE);
	FILE *f;
	__u32 i;

	memset(buf, 0, sizeof(buf));
	h->magic = magic;
	h->abi_version = abi;
	h->record_size = MEMPROBE_RECORD_SIZE;
	h->capacity = 8;
	h->data_offset = MEMPROBE_HDR_SIZE;
	h->session_id = 0xfeed;
	h->running = running;
	h->producer_pos = nrecs;
	h->seq_next = nrecs + 3;
	h->drops = 3;
	for (i = 0; i < nrecs; i++) {
		r[i].seq = i;
		r[i].call = MP_CALL_MMAP;
		r[i].pid = 4242;
	}
	f = fopen(path, "wb");
	if (!f || fwrite(buf, sizeof(buf), 1, f) != 1 || fclose(f))
		return -1;
	return 0;
}

struct seen {
	__u64 seqs[16];
	int n;
	int refuse_seq; /* -1: accept everything */
};

static int collect(const struct memprobe_record *rec, void *ctx)
{
	struct seen *s = ctx;

	if ((int)rec->seq == s->refuse_seq) {
		s->refuse_seq = -1; /* accept it next time */
		return 1;
	}
	if (s->n < 16)
		s->seqs[s->n++] = rec->seq;
	return 0;
}

static void test_refusals(const char *path)
{
	struct source_opts o = {.kind = SOURCE_RING, .ring_path = path};
	struct source *s = NULL;
	char err[256] = "";
	int rc;

	write_ring(path, 0x1234, MEMPROBE_ABI_VERSION, 0, 1);
	rc = source_open(&s, &o, err, sizeof(err));
	tap(rc == -EPROTO && strstr(err, "not a memprobe ring"), "bad magic is refused, said so",
	    err);
	write_ring(path, MEMPROBE_MAGIC, MEMPROBE_ABI_VERSION + 1, 0, 1);
	err[0] = 0;
	rc = source_open(&s, &o, err, sizeof(err));
	tap(rc == -EPROTO && strstr(err, "rebuild"),
	    "unknown ABI version is refused, says to rebuild", err);
	o.ring_path = "/nonexistent/memprobe";
	err[0] = 0;
	rc = source_open(&s, &o, err, sizeof(err));
	tap(rc == -ENOENT && strstr(err, "make load"), "missing ring file says to load the module",
	    err);
}

static void test_delivery(const char *path)
{
	struct source_opts o = {.kind = SOURCE_RING, .ring_path = path};
	struct seen seen = {.refuse_seq = 2};
	struct source_stats st;
	struct source *s = NULL;
	char err[256] = "", detail[128];
	int rc1, rc2, rc3;

	write_ring(path, MEMPROBE_MAGIC, MEMPROBE_ABI_VERSION, 5, 0);
	if (source_open(&s, &o, err, sizeof(err))) {
		tap(0, "a valid ring file opens", err);
		return;
	}
	rc1 = source_poll(s, 10, collect, NULL, &seen); /* 0, 1, then 2 is refused */
	rc2 = source_poll(s, 10, collect, NULL, &seen); /* 2, 3, 4 */
	rc3 = source_poll(s, 10, collect, NULL, &seen);
	snprintf(detail, sizeof(detail),
		 "polls returned %d %d %d, seqs %d: %llu %llu %llu %llu %llu", rc1, rc2, rc3,
		 seen.n, (unsigned long long)seen.seqs[0], (unsigned long long)seen.seqs[1],
		 (unsigned long long)seen.seqs[2], (unsigned long long)seen.seqs[3],
		 (unsigned long long)seen.seqs[4]);
	tap(rc1 == 2 && rc2 == 3, "a refused record stays and comes first in the next poll",
	    detail);
	tap(seen.n == 5 && seen.seqs[0] == 0 && seen.seqs[2] == 2 && seen.seqs[4] == 4,
	    "records arrive once each, in ring order", detail);
	tap(rc3 == -ESHUTDOWN, "producer gone (running = 0) and drained: -ESHUTDOWN", detail);
	source_get_stats(s, &st);
	snprintf(detail, sizeof(detail), "drops %llu seen %llu delivered %llu running %d",
		 (unsigned long long)st.drops, (unsigned long long)st.seen,
		 (unsigned long long)st.delivered, st.running);
	tap(st.drops == 3 && st.seen == 8 && st.delivered == 5 && !st.running &&
		st.session_id == 0xfeed,
	    "stats come from the header (drops, seen, session) plus what was delivered", detail);
	source_close(s);
}

struct keep {
	struct seen seen;
	int calls, fail_first;
	int delivered_at_keep; /* records the caller held when asked to keep */
};

static int keep_collect(const struct memprobe_record *rec, void *ctx)
{
	return collect(rec, &((struct keep *)ctx)->seen);
}

static int keep_batch(void *ctx)
{
	struct keep *k = ctx;

	k->calls++;
	k->delivered_at_keep = k->seen.n;
	return k->fail_first && k->calls == 1 ? -EIO : 0;
}

/* Released (stats) only once batch_end said the records are kept; a failed
 * keep releases nothing, and the records come again. */
static void test_keep_before_release(const char *path)
{
	struct source_opts o = {.kind = SOURCE_RING, .ring_path = path};
	struct keep k = {.seen = {.refuse_seq = -1}, .fail_first = 1};
	struct source_stats st1, st2;
	struct source *s = NULL;
	char err[256] = "", detail[160];
	int rc1, rc2;

	write_ring(path, MEMPROBE_MAGIC, MEMPROBE_ABI_VERSION, 5, 0);
	if (source_open(&s, &o, err, sizeof(err))) {
		tap(0, "a valid ring file opens", err);
		return;
	}
	rc1 = source_poll(s, 10, keep_collect, keep_batch, &k);
	source_get_stats(s, &st1);
	snprintf(detail, sizeof(detail), "poll %d, batch_end called %d times with %d delivered, "
		 "released %llu", rc1, k.calls, k.delivered_at_keep, (unsigned long long)st1.released);
	tap(rc1 == -EIO && k.calls == 1 && k.delivered_at_keep == 5 && st1.released == 0,
	    "a failed batch_end releases nothing and ends the poll with its error", detail);
	rc2 = source_poll(s, 10, keep_collect, keep_batch, &k);
	source_get_stats(s, &st2);
	snprintf(detail, sizeof(detail), "poll %d, seqs %d (6th: %llu), keep saw %d, released %llu",
		 rc2, k.seen.n, (unsigned long long)k.seen.seqs[5], k.delivered_at_keep,
		 (unsigned long long)st2.released);
	tap(rc2 == 5 && k.seen.n == 10 && k.seen.seqs[5] == 0 && k.delivered_at_keep == 10 &&
		st2.released == 5,
	    "the records come again and are released after batch_end kept them", detail);
	source_close(s);
}

int main(int argc, char **argv)
{
	char path[4096];

	if (argc != 2) {
		fprintf(stderr, "usage: ring-file-test SCRATCH_DIR\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/ring.bin", argv[1]);
	test_refusals(path);
	test_delivery(path);
	test_keep_before_release(path);
	return 0;
}
