/*
 * queue.c - memory ring + spill file between capture and the writer.
 *
 * Invariant: when spill_len > 0, every entry in memory is older than every
 * entry in the file (new entries go to the file while it is not empty), so
 * taking from memory first, then from the file, keeps capture order.
 * The file holds raw struct qent; a torn last entry (crash mid-write) is
 * ignored on replay.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "queue.h"

#define COMPACT_AFTER	 (1u << 20) /* entries read from the file (~168 MiB) */
#define COMPACT_MAX_TAIL (1u << 16) /* copy at most this many unread entries */

struct queue {
	pthread_mutex_t lock;
	pthread_cond_t nonempty;
	struct qent *mem;
	size_t mem_cap, head, len;
	int spill_fd;
	uint64_t spill_rd, spill_wr; /* entry indexes in the file */
	uint64_t spilled_total;
	uint64_t lost_total;
	bool spill_full;
	bool last_from_spill;
	bool woken;
	char *path;
	int lock_fd; /* flock on PATH.lock: one lector per spill file */
};

static int rewrite_spill(struct queue *q, bool with_mem);

/* Two lectors sharing a spill file would replay each other's records:
 * refuse with -EBUSY. */
static int lock_spill(const char *spill_path)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s.lock", spill_path);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return -EBUSY;
	}
	return fd;
}

int queue_open(struct queue **out, size_t mem_cap, const char *spill_path)
{
	struct queue *q = calloc(1, sizeof(*q));
	struct stat st;

	if (!q)
		goto enomem;
	/* mem_cap 0: journal mode, every entry goes through the file */
	q->mem = calloc(mem_cap ? mem_cap : 1, sizeof(*q->mem));
	if (!q->mem)
		goto enomem;
	q->mem_cap = mem_cap;
	q->path = strdup(spill_path);
	if (!q->path)
		goto enomem;
	q->lock_fd = lock_spill(spill_path);
	if (q->lock_fd < 0) {
		int e = q->lock_fd;

		free(q->path);
		free(q->mem);
		free(q);
		return e;
	}
	q->spill_fd = open(spill_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (q->spill_fd < 0 || fstat(q->spill_fd, &st) < 0) {
		int e = errno;

		if (q->spill_fd >= 0)
			close(q->spill_fd);
		close(q->lock_fd);
		free(q->path);
		free(q->mem);
		free(q);
		return -e;
	}
	q->spill_wr = (uint64_t)st.st_size / sizeof(struct qent); /* replay a previous run's */
	if (st.st_size % sizeof(struct qent))
		fprintf(stderr,
			"lector: spill file %s ends with a torn entry (%zu bytes): ignored\n",
			spill_path, (size_t)st.st_size % sizeof(struct qent));
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->nonempty, NULL);
	*out = q;
	return 0;
enomem:
	if (q) {
		free(q->mem);
		free(q->path);
	}
	free(q);
	return -ENOMEM;
}

void queue_close(struct queue *q)
{
	if (!q)
		return;
	close(q->spill_fd);
	close(q->lock_fd);
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->nonempty);
	free(q->path);
	free(q->mem);
	free(q);
}

void queue_entry_fill(struct qent *e, uint64_t session, const struct memprobe_record *rec)
{
	e->session = session;
	e->rec = *rec;
	e->comm_len = strnlen(rec->comm, MEMPROBE_COMM_LEN);
	e->thread_comm_len = strnlen(rec->thread_comm, MEMPROBE_COMM_LEN);
}

bool queue_err_is_full(int rc)
{
	return rc == -ENOSPC || rc == -EDQUOT || rc == -EFBIG;
}

/* Append n entries to the spill file with one write.  A short write is a
 * full disk: the torn tail is cut off so a later replay never sees it. */
static int spill_append(struct queue *q, const struct qent *e, size_t n)
{
	off_t off = (off_t)(q->spill_wr * sizeof(*e));
	size_t len = n * sizeof(*e);
	ssize_t w = pwrite(q->spill_fd, e, len, off);

	if (w != (ssize_t)len) {
		int rc = w < 0 ? -errno : -ENOSPC;

		if (w > 0 && ftruncate(q->spill_fd, off) < 0)
			rc = -errno;
		return rc;
	}
	q->spill_wr += n;
	q->spilled_total += n;
	return 0;
}

int queue_push_many(struct queue *q, const struct qent *e, size_t n)
{
	size_t room, k = 0;
	int rc = 0;

	if (n == 0)
		return 0;
	pthread_mutex_lock(&q->lock);
	if (q->spill_wr == q->spill_rd) { /* memory first while the file is empty */
		room = q->mem_cap - q->len;
		for (; k < n && k < room; k++)
			q->mem[(q->head + q->len++) % q->mem_cap] = e[k];
	}
	if (k < n)
		rc = spill_append(q, e + k, n - k);
	if (queue_err_is_full(rc))
		q->lost_total += n - k;
	q->spill_full = k < n && queue_err_is_full(rc);
	pthread_cond_signal(&q->nonempty);
	pthread_mutex_unlock(&q->lock);
	return rc;
}

static size_t same_session_prefix(const struct qent *out, size_t n)
{
	size_t k = 1;

	while (k < n && out[k].session == out[0].session)
		k++;
	return n ? k : 0;
}

static int peek_spill(struct queue *q, struct qent *out, size_t max)
{
	uint64_t avail = q->spill_wr - q->spill_rd;
	size_t n = avail < max ? (size_t)avail : max;
	ssize_t got =
	    pread(q->spill_fd, out, n * sizeof(*out), (off_t)(q->spill_rd * sizeof(*out)));

	if (got < 0)
		return -errno;
	/* The lengths are derived: a corrupt file must not choose how many
	 * bytes of comm the sinks read (fuzz/spill_fuzz.c found it). */
	for (size_t i = 0; i < (size_t)got / sizeof(*out); i++) {
		out[i].comm_len = strnlen(out[i].rec.comm, MEMPROBE_COMM_LEN);
		out[i].thread_comm_len = strnlen(out[i].rec.thread_comm, MEMPROBE_COMM_LEN);
	}
	q->last_from_spill = true;
	return (int)same_session_prefix(out, (size_t)got / sizeof(*out));
}

int queue_peek(struct queue *q, struct qent *out, size_t max, int timeout_ms)
{
	struct timespec until;
	size_t n = 0;
	int rc;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&q->lock);
	while (q->len == 0 && q->spill_wr == q->spill_rd && !q->woken)
		if (pthread_cond_timedwait(&q->nonempty, &q->lock, &until) == ETIMEDOUT)
			break;
	q->woken = false;
	if (q->len > 0) {
		for (; n < max && n < q->len; n++)
			out[n] = q->mem[(q->head + n) % q->mem_cap];
		q->last_from_spill = false;
		rc = (int)same_session_prefix(out, n);
	} else if (q->spill_wr > q->spill_rd) {
		rc = peek_spill(q, out, max);
	} else {
		rc = 0;
	}
	pthread_mutex_unlock(&q->lock);
	return rc;
}

void queue_pop(struct queue *q, size_t n)
{
	if (n == 0)
		return; /* nothing peeked (in journal mode mem_cap is 0) */
	pthread_mutex_lock(&q->lock);
	if (!q->last_from_spill) {
		q->head = (q->head + n) % q->mem_cap;
		q->len -= n;
	} else {
		q->spill_rd += n;
		if (q->spill_rd == q->spill_wr) { /* drained: start the file afresh */
			q->spill_rd = q->spill_wr = 0;
			if (ftruncate(q->spill_fd, 0) < 0)
				q->spill_rd = q->spill_wr = 0;
		} else if (q->spill_rd >= COMPACT_AFTER &&
			   q->spill_wr - q->spill_rd <= COMPACT_MAX_TAIL) {
			/* never drained (journal under steady load): drop the read part */
			rewrite_spill(q, false);
		}
	}
	pthread_mutex_unlock(&q->lock);
}

/* Entry i of the spill file into *e: 0, or -errno (-EIO when short). */
static int spill_entry(struct queue *q, uint64_t i, struct qent *e)
{
	ssize_t got = pread(q->spill_fd, e, sizeof(*e), (off_t)(i * sizeof(*e)));

	return got < 0 ? -errno : got == (ssize_t)sizeof(*e) ? 0 : -EIO;
}

/* Entries are appended in order, so a session's entries are one block and
 * the newest session's block is the file's tail: a binary search for its
 * first entry (O(log n) reads). */
int queue_spilled_span(struct queue *q, uint64_t *session, uint64_t *first_seq, uint64_t *last_seq)
{
	struct qent e;
	uint64_t lo, hi;
	int rc = 0;

	pthread_mutex_lock(&q->lock);
	if (q->spill_wr <= q->spill_rd)
		goto out;
	rc = spill_entry(q, q->spill_wr - 1, &e);
	if (rc < 0)
		goto out;
	*session = e.session;
	*last_seq = e.rec.seq;
	lo = q->spill_rd;
	hi = q->spill_wr - 1; /* the first entry of the block is in [lo, hi] */
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;

		rc = spill_entry(q, mid, &e);
		if (rc < 0)
			goto out;
		if (e.session == *session)
			hi = mid;
		else
			lo = mid + 1;
	}
	rc = spill_entry(q, lo, &e);
	if (rc == 0) {
		*first_seq = e.rec.seq;
		rc = 1;
	}
out:
	pthread_mutex_unlock(&q->lock);
	return rc;
}

void queue_get_stats(struct queue *q, struct queue_stats *st)
{
	pthread_mutex_lock(&q->lock);
	st->mem_len = q->len;
	st->spill_len = q->spill_wr - q->spill_rd;
	st->spilled_total = q->spilled_total;
	st->lost_total = q->lost_total;
	st->spill_full = q->spill_full;
	pthread_mutex_unlock(&q->lock);
}

void queue_wake(struct queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->woken = true;
	pthread_cond_broadcast(&q->nonempty);
	pthread_mutex_unlock(&q->lock);
}

/* Copy n entries of the old spill file, from entry index rd, to fd. */
static int copy_spill(struct queue *q, int fd, uint64_t rd, uint64_t n, off_t *off)
{
	struct qent buf[256];

	while (n) {
		size_t k = n < 256 ? (size_t)n : 256;
		ssize_t got = pread(q->spill_fd, buf, k * sizeof(*buf), (off_t)(rd * sizeof(*buf)));

		if (got != (ssize_t)(k * sizeof(*buf)) || pwrite(fd, buf, (size_t)got, *off) != got)
			return -EIO;
		*off += got;
		rd += k;
		n -= k;
	}
	return 0;
}

/* Rewrite the spill file as [memory entries if with_mem] + the unread part
 * of the file, atomically (rename).  Caller holds the lock. */
static int rewrite_spill(struct queue *q, bool with_mem)
{
	char tmp[4096];
	off_t off = 0;
	int fd, rc = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", q->path);
	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	/* memory is older than the file: it goes first */
	for (size_t i = 0; with_mem && i < q->len && rc == 0; i++, off += sizeof(struct qent))
		if (pwrite(fd, &q->mem[(q->head + i) % q->mem_cap], sizeof(struct qent), off) !=
		    (ssize_t)sizeof(struct qent))
			rc = -EIO;
	if (rc == 0)
		rc = copy_spill(q, fd, q->spill_rd, q->spill_wr - q->spill_rd, &off);
	if (rc == 0 && rename(tmp, q->path) < 0)
		rc = -errno;
	if (rc < 0) {
		close(fd);
		unlink(tmp);
		return rc;
	}
	close(q->spill_fd);
	q->spill_fd = fd;
	q->spill_wr = (uint64_t)off / sizeof(struct qent);
	q->spill_rd = 0;
	if (with_mem)
		q->head = q->len = 0;
	return 0;
}

int queue_spill_all(struct queue *q)
{
	int rc = 0;

	pthread_mutex_lock(&q->lock);
	if (q->len)
		rc = rewrite_spill(q, true);
	pthread_mutex_unlock(&q->lock);
	return rc;
}
