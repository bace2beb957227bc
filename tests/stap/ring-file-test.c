/*
 * ring-file-test.c - the ring reader (capture/source_ring.c) against ring
 * files written here: header refusals with their messages, delivery order,
 * a refused record staying for the next poll, -ESHUTDOWN once the
 * producer is gone (running = 0) and the ring is drained, nothing
 * released before the caller's batch_end kept it, and a file truncated
 * while it is read: a clear error, never a record from past its end, never
 * SIGBUS (those run in a child, so a crash is a failed test).  Prints TAP.
 * Usage: ring-file-test DIR (a scratch directory).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "ring_file.h"
#include "source.h"

static int test_n;

static void tap(int ok, const char *what, const char *detail)
{
	printf("%sok %d - %s%s%s\n", ok ? "" : "not ", ++test_n, what, detail ? ": " : "",
	       detail ? detail : "");
}

#define SLOTS_MAX 64

/* A ring of cap slots (at most SLOTS_MAX) holding nrecs records (seq 0..),
 * running as given. */
static int write_ring_cap(const char *path, __u64 magic, __u32 abi, __u32 cap, __u32 nrecs,
			  __u32 running)
{
	static unsigned char buf[MEMPROBE_HDR_SIZE + SLOTS_MAX * MEMPROBE_RECORD_SIZE];
	struct memprobe_ring_hdr *h = (struct memprobe_ring_hdr *)buf;
	struct memprobe_record *r = (struct memprobe_record *)(buf + MEMPROBE_HDR_SIZE);
	size_t len_bytes = MEMPROBE_HDR_SIZE + (size_t)cap * MEMPROBE_RECORD_SIZE;
	FILE *f;
	__u32 i;

	memset(buf, 0, sizeof(buf));
	h->magic = magic;
	h->abi_version = abi;
	h->record_size = MEMPROBE_RECORD_SIZE;
	h->capacity = cap;
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
	if (!f || fwrite(buf, len_bytes, 1, f) != 1 || fclose(f))
		return -1;
	return 0;
}

static int write_ring(const char *path, __u64 magic, __u32 abi, __u32 nrecs, __u32 running)
{
	return write_ring_cap(path, magic, abi, 8, nrecs, running);
}

struct seen {
	__u64 seqs[SLOTS_MAX];
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
	if (s->n < SLOTS_MAX)
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

struct shrink {
	struct seen seen;
	const char *path;
	int at;		 /* refuse record `at` once and truncate the file then */
	off_t cut_bytes; /* to this size */
	int cut_done;
};

/* The reader may have copied records ahead of the one it delivers, so the
 * file is truncated while the reader stands at a refused record: its next
 * poll reads again from there. */
static int shrink_collect(const struct memprobe_record *rec, void *ctx)
{
	struct shrink *k = ctx;

	if (k->seen.n == k->at && !k->cut_done) {
		k->cut_done = 1;
		if (truncate(k->path, k->cut_bytes) < 0)
			perror("truncate");
		return 1;
	}
	return collect(rec, &k->seen);
}

/* In a child: poll a ring of 64 slots holding 60 records, truncating the
 * file at record `at`; write "n first_bad rc message" to fd. */
static void shrink_child(struct shrink *k, int fd)
{
	struct source_opts o = {.kind = SOURCE_RING, .ring_path = k->path};
	struct source *s = NULL;
	char err[256] = "", out[512];
	int rc = 0, bad = -1, len;

	if (source_open(&s, &o, err, sizeof(err)) == 0) {
		for (int i = 0; i < 10 && rc >= 0; i++)
			rc = source_poll(s, 10, shrink_collect, NULL, k);
		snprintf(err, sizeof(err), "%s", source_error(s) ? source_error(s) : "no message");
		source_close(s);
	}
	for (int i = 0; i < k->seen.n && bad < 0; i++)
		if (k->seen.seqs[i] != (__u64)i)
			bad = i;
	len = snprintf(out, sizeof(out), "%d %d %d %s", k->seen.n, bad, rc, err);
	if (write(fd, out, (size_t)len) != len)
		_exit(3);
	_exit(0);
}

/* Truncated to cut_bytes at record `at`: want exactly want_n records, all
 * intact, then an error that says the file shrank, and no crash. */
static void test_shrink(const char *path, int at, off_t cut_bytes, int want_n, const char *what)
{
	struct shrink k = {.seen = {.refuse_seq = -1}, .path = path, .at = at, .cut_bytes = cut_bytes};
	char buf[512] = "", detail[600];
	int p[2], status = 0, n = -1, bad = -1, rc = 0, off = 0;
	ssize_t got;
	pid_t pid;

	write_ring_cap(path, MEMPROBE_MAGIC, MEMPROBE_ABI_VERSION, 64, 60, 0);
	if (pipe(p) < 0 || (pid = fork()) < 0) {
		tap(0, what, "pipe/fork failed");
		return;
	}
	if (pid == 0) {
		close(p[0]);
		shrink_child(&k, p[1]);
	}
	close(p[1]);
	got = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	waitpid(pid, &status, 0);
	if (WIFSIGNALED(status)) {
		snprintf(detail, sizeof(detail), "the reader was killed by signal %d (%s)",
			 WTERMSIG(status), strsignal(WTERMSIG(status)));
		tap(0, what, detail);
		return;
	}
	buf[got > 0 ? got : 0] = 0;
	sscanf(buf, "%d %d %d %n", &n, &bad, &rc, &off);
	snprintf(detail, sizeof(detail), "%d records (want %d), first wrong at %d, poll %d: %s", n,
		 want_n, bad, rc, buf + off);
	tap(n == want_n && bad < 0 && rc < 0 && rc != -ESHUTDOWN && strstr(buf + off, "shrank"),
	    what, detail);
}

/* The guard takes only the kernel's SIGBUS of a guarded page: one sent by
 * kill(2) or raise() keeps its default action (the process ends) while a
 * guard is installed. */
static void test_guard_leaves_sent_sigbus(void)
{
	const char *what = "a SIGBUS sent with kill while a ring guard is installed still ends the process";
	int status = 0;
	pid_t pid = fork();

	if (pid < 0) {
		tap(0, what, "fork failed");
		return;
	}
	if (pid == 0) {
		void *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		/* the default action before the guard (a sanitizer's own handler
		 * would report the signal and exit instead) */
		signal(SIGBUS, SIG_DFL);
		if (p == MAP_FAILED || ring_guard_add(p, 4096) < 0)
			_exit(3);
		raise(SIGBUS);
		_exit(0); /* the signal was swallowed */
	}
	waitpid(pid, &status, 0);
	tap(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS, what,
	    WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : WEXITSTATUS(status) == 0
									? "the process went on: the signal was lost"
									: "setup failed");
}

/* A fault outside every guard ends the process even where SIGBUS was
 * ignored before the guard (as the kernel ends it without a handler): the
 * access runs again after the handler, so returning would spin forever.
 * Runs in a fresh image (this program re-executed), so the guard's handler
 * is installed over the ignored action; alarm() bounds a spinning child. */
static int ignored_fault_child(const char *path)
{
	FILE *f;
	void *g;
	volatile const char *p;

	signal(SIGBUS, SIG_IGN);
	alarm(3);
	f = fopen(path, "r");
	g = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!f || g == MAP_FAILED || ring_guard_add(g, 4096) < 0)
		return 3;
	p = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fileno(f), 0);
	if (p == MAP_FAILED || truncate(path, 0) < 0)
		return 3;
	(void)p[4096]; /* past the file's end now: a fault */
	return 0;
}

static void test_guard_fault_with_sigbus_ignored(const char *self, const char *path)
{
	const char *what = "a SIGBUS fault outside the guards ends the process where SIGBUS was ignored";
	int status = 0;
	pid_t pid;

	write_ring_cap(path, MEMPROBE_MAGIC, MEMPROBE_ABI_VERSION, 64, 0, 0);
	pid = fork();
	if (pid < 0) {
		tap(0, what, "fork failed");
		return;
	}
	if (pid == 0) {
		execl(self, self, "--ignored-fault", path, (char *)NULL);
		_exit(4);
	}
	waitpid(pid, &status, 0);
	tap(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS, what,
	    WIFSIGNALED(status) ? strsignal(WTERMSIG(status))
				: "exited: the fault was not taken, or setup failed");
}

int main(int argc, char **argv)
{
	char path[4096];

	if (argc == 3 && !strcmp(argv[1], "--ignored-fault"))
		return ignored_fault_child(argv[2]);
	if (argc != 2) {
		fprintf(stderr, "usage: ring-file-test SCRATCH_DIR\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/ring.bin", argv[1]);
	test_refusals(path);
	test_delivery(path);
	test_keep_before_release(path);
	/* the slots start at 4096; the page 4096..8191 holds the whole records
	 * 0..4096 / MEMPROBE_RECORD_SIZE - 1 */
	test_shrink(path, 5, MEMPROBE_HDR_SIZE + 20 * MEMPROBE_RECORD_SIZE + 72, 20,
		    "truncated mid-page while read: the 20 whole records, then a clear error");
	test_shrink(path, 5, MEMPROBE_HDR_SIZE + 4096, 4096 / MEMPROBE_RECORD_SIZE,
		    "truncated on a page boundary while read: the page's whole records, then "
		    "a clear error (no SIGBUS)");
	test_shrink(path, 5, 0, 5, "truncated to nothing (header gone): a clear error, no SIGBUS");
	test_guard_leaves_sent_sigbus();
	test_guard_fault_with_sigbus_ignored("/proc/self/exe", path);
	return 0;
}
