/*
 * source_ring.c - the /proc/memprobe ring written by the SystemTap module.
 *
 * Owns the reader half of the ring protocol in include/memprobe_abi.h:
 * validate the header, then either
 *   - mmap mode (default): map header + slots read-only, deliver the records
 *     between our position and smp_load_acquire(producer_pos) straight from
 *     the mapping, and every RELEASE_EVERY_RECS records and at the end, once
 *     the caller says it kept them (batch_end), hand the position back with
 *     MEMPROBE_IOC_CONSUME; or
 *   - read mode (opts->use_read): read() whole records (the kernel releases
 *     them as it copies), keeping any a callback refused for the next poll.
 * Stats come from the header page, which both modes map.
 *
 * Shutdown: the module sets running = 0 before /proc/memprobe goes away;
 * once that is seen and nothing is left, poll returns -ESHUTDOWN (a removed
 * proc entry reports POLLIN forever, so we never trust poll() alone).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/magic.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "source_impl.h"
#include "testpause.h"

#define READ_BATCH_RECS	   512
#define RELEASE_EVERY_RECS 4096 /* a sixteenth of the module's default ring */
#define RING_SLOTS_MAX	(1ULL << 32) /* more is a corrupt header, not a ring */

struct source_ring {
	struct source base;
	int fd;
	bool use_read;
	void *map; /* header (+ slots in mmap mode) */
	size_t map_bytes;
	const struct memprobe_ring_hdr *hdr;
	const struct memprobe_record *slots; /* mmap mode */
	uint64_t mask;
	uint64_t pos;		     /* mmap mode: next record to deliver */
	uint64_t released_pos;	     /* mmap mode: consumer position handed back */
	struct memprobe_record *buf; /* read mode: records read, not delivered */
	size_t buf_head, buf_tail;
	uint64_t delivered;
	uint64_t released; /* records handed back since open */
};

static uint64_t load_acquire_u64(const __u64 *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static bool ring_running(const struct source_ring *r)
{
	return __atomic_load_n(&r->hdr->running, __ATOMIC_ACQUIRE) != 0;
}

static int ring_open_error(int err, const char *path, char *msg, size_t msglen)
{
	switch (err) {
	case ENOENT:
		snprintf(msg, msglen,
			 "%s does not exist: the memprobe module is not loaded "
			 "(make load), or use --source=bpf",
			 path);
		break;
	case EBUSY:
		snprintf(msg, msglen,
			 "%s is already open by another reader (one at a time): "
			 "stop it first (lector or memprobe-cat)",
			 path);
		break;
	case EACCES:
	case EPERM:
		snprintf(msg, msglen, "%s is readable by root only: run as root", path);
		break;
	default:
		snprintf(msg, msglen, "cannot open %s: %s", path, strerror(err));
	}
	return -err;
}

/* Refuse a ring this reader does not understand, saying why. */
static int ring_check_hdr(const struct memprobe_ring_hdr *h, char *msg, size_t msglen)
{
	if (h->magic != MEMPROBE_MAGIC) {
		snprintf(msg, msglen, "not a memprobe ring (magic 0x%llx, expected 0x%llx)",
			 (unsigned long long)h->magic, (unsigned long long)MEMPROBE_MAGIC);
		return -EPROTO;
	}
	if (h->abi_version != MEMPROBE_ABI_VERSION || h->record_size != MEMPROBE_RECORD_SIZE) {
		snprintf(msg, msglen,
			 "ring ABI version %u / record size %u, this reader knows "
			 "version %u / %u bytes: rebuild memprobe-cat/lector and the module "
			 "from the same tree",
			 h->abi_version, h->record_size, MEMPROBE_ABI_VERSION,
			 MEMPROBE_RECORD_SIZE);
		return -EPROTO;
	}
	if (h->capacity == 0 || (h->capacity & (h->capacity - 1)) || h->capacity > RING_SLOTS_MAX ||
	    h->data_offset != MEMPROBE_HDR_SIZE) {
		snprintf(msg, msglen, "corrupt ring header (capacity %llu, data offset %llu)",
			 (unsigned long long)h->capacity, (unsigned long long)h->data_offset);
		return -EPROTO;
	}
	return 0;
}

/* A ring file (a capture kept on disk, not /proc/memprobe) must hold what
 * its header says: reading a mapped page past the end of a file is SIGBUS.
 * procfs reports size 0, so only files on other filesystems are checked. */
static int ring_check_size(int fd, uint64_t need_bytes, char *msg, size_t msglen)
{
	struct statfs fs;
	struct stat st;

	if (fstatfs(fd, &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC)
		return 0;
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size >= need_bytes)
		return 0;
	snprintf(msg, msglen,
		 "ring file is truncated (%lld bytes, a ring of this header needs %llu): "
		 "not a complete memprobe ring",
		 (long long)st.st_size, (unsigned long long)need_bytes);
	return -EPROTO;
}

/* Map the header page, validate it, then (mmap mode) map the whole ring. */
static int ring_map(struct source_ring *r, char *msg, size_t msglen)
{
	long page_bytes = sysconf(_SC_PAGESIZE);
	size_t len_bytes;
	void *m;
	int rc;

	rc = ring_check_size(r->fd, MEMPROBE_HDR_SIZE, msg, msglen);
	if (rc)
		return rc;
	m = mmap(NULL, MEMPROBE_HDR_SIZE, PROT_READ, MAP_SHARED, r->fd, 0);
	if (m == MAP_FAILED)
		goto map_failed;
	r->map = m;
	r->map_bytes = MEMPROBE_HDR_SIZE;
	r->hdr = m;
	rc = ring_check_hdr(r->hdr, msg, msglen);
	if (rc || r->use_read)
		return rc;
	testpause_at("mapped", 0);
	len_bytes = MEMPROBE_HDR_SIZE + r->hdr->capacity * MEMPROBE_RECORD_SIZE;
	rc = ring_check_size(r->fd, len_bytes, msg, msglen);
	if (rc)
		return rc;
	len_bytes = (len_bytes + page_bytes - 1) & ~(size_t)(page_bytes - 1);
	m = mmap(NULL, len_bytes, PROT_READ, MAP_SHARED, r->fd, 0);
	if (m == MAP_FAILED)
		goto map_failed;
	munmap(r->map, r->map_bytes);
	r->map = m;
	r->map_bytes = len_bytes;
	r->hdr = m;
	r->slots = (const struct memprobe_record *)((const char *)m + r->hdr->data_offset);
	r->mask = r->hdr->capacity - 1;
	r->pos = load_acquire_u64(&r->hdr->consumer_pos);
	r->released_pos = r->pos;
	return 0;
map_failed:
	rc = -errno;
	snprintf(msg, msglen, "cannot mmap the ring: %s", strerror(errno));
	return rc;
}

/* mmap mode: hand [released_pos, pos) back to the producer, once the
 * caller kept it (source.h); if it could not, those records come again.
 * 0 or -errno. */
static int ring_release(struct source_ring *r, source_batch_end_cb batch_end, void *ctx)
{
	__u64 release = r->pos;
	int rc = 0;

	if (release == r->released_pos)
		return 0;
	if (batch_end && (rc = batch_end(ctx)) != 0) {
		r->pos = r->released_pos;
		return rc < 0 ? rc : -EIO;
	}
	testpause_at("kept", r->released);
	/* After the module is gone the ioctl fails (EIO): nothing to release to. */
	if (ioctl(r->fd, MEMPROBE_IOC_CONSUME, &release) < 0 && ring_running(r))
		return -errno;
	r->released += release - r->released_pos;
	r->released_pos = release;
	testpause_at("released", r->released);
	return 0;
}

/* mmap mode: deliver [pos, producer_pos), releasing as it goes. */
static int ring_deliver_mapped(struct source_ring *r, source_record_cb cb,
			       source_batch_end_cb batch_end, void *ctx)
{
	uint64_t prod = load_acquire_u64(&r->hdr->producer_pos);
	int n = 0, rc = 0;

	/* The producer is never behind us nor more than a ring ahead: anything
	 * else is a corrupt header, and reading on would loop over the slots. */
	if (prod < r->pos || prod - r->pos > r->mask + 1)
		return -EPROTO;
	while (r->pos < prod && rc == 0) {
		if (cb(&r->slots[r->pos & r->mask], ctx))
			break;
		r->pos++;
		r->delivered++;
		n++;
		if (r->pos - r->released_pos >= RELEASE_EVERY_RECS)
			rc = ring_release(r, batch_end, ctx);
	}
	if (rc == 0)
		rc = ring_release(r, batch_end, ctx);
	return rc < 0 ? rc : n;
}

/* read mode: fill the buffer if empty, deliver from it. */
static int ring_deliver_read(struct source_ring *r, source_record_cb cb, void *ctx)
{
	int n = 0;

	if (r->buf_head == r->buf_tail) {
		ssize_t got = read(r->fd, r->buf, READ_BATCH_RECS * sizeof(*r->buf));

		if (got < 0)
			return (errno == EAGAIN || errno == EINTR) ? 0
								   : (ring_running(r) ? -errno : 0);
		if (got % MEMPROBE_RECORD_SIZE)
			return -EPROTO; /* the kernel returns whole records only */
		r->buf_head = 0;
		r->buf_tail = (size_t)got / MEMPROBE_RECORD_SIZE;
		r->released += r->buf_tail; /* the kernel releases what it copies */
	}
	while (r->buf_head < r->buf_tail) {
		if (cb(&r->buf[r->buf_head], ctx))
			break;
		r->buf_head++;
		n++;
	}
	r->delivered += n;
	return n;
}

static bool ring_has_data(const struct source_ring *r)
{
	if (r->use_read)
		return r->buf_head != r->buf_tail ||
		       load_acquire_u64(&r->hdr->producer_pos) != r->hdr->consumer_pos;
	return load_acquire_u64(&r->hdr->producer_pos) != r->pos;
}

static int ring_deliver(struct source_ring *r, source_record_cb cb,
			source_batch_end_cb batch_end, void *ctx)
{
	return r->use_read ? ring_deliver_read(r, cb, ctx)
			   : ring_deliver_mapped(r, cb, batch_end, ctx);
}

static int ring_poll(struct source *s, int timeout_ms, source_record_cb cb,
		     source_batch_end_cb batch_end, void *ctx)
{
	struct source_ring *r = (struct source_ring *)s;
	struct pollfd pfd = {.fd = r->fd, .events = POLLIN};
	int rc;

	if (ring_has_data(r))
		return ring_deliver(r, cb, batch_end, ctx);
	/* Read running before the final emptiness check: the module clears it
	 * only after its last commit, so running == 0 and empty means done. */
	if (!ring_running(r))
		return ring_has_data(r) ? ring_deliver(r, cb, batch_end, ctx) : -ESHUTDOWN;
	rc = poll(&pfd, 1, timeout_ms);
	if (rc < 0)
		return errno == EINTR ? 0 : -errno;
	if (ring_has_data(r))
		return ring_deliver(r, cb, batch_end, ctx);
	return ring_running(r) ? 0 : -ESHUTDOWN;
}

static void ring_stats(const struct source *s, struct source_stats *st)
{
	const struct source_ring *r = (const struct source_ring *)s;

	memset(st, 0, sizeof(*st));
	st->name = "stap";
	st->session_id = r->hdr->session_id;
	st->drops = __atomic_load_n(&r->hdr->drops, __ATOMIC_RELAXED);
	st->seen = __atomic_load_n(&r->hdr->seq_next, __ATOMIC_RELAXED);
	/* 0 from producers older than the field (it was padding) */
	st->skipped = __atomic_load_n(&r->hdr->skipped, __ATOMIC_RELAXED);
	st->delivered = r->delivered;
	st->released = r->released;
	st->running = ring_running(r);
}

static void ring_close(struct source *s)
{
	struct source_ring *r = (struct source_ring *)s;

	if (r->map)
		munmap(r->map, r->map_bytes);
	if (r->fd >= 0)
		close(r->fd);
	free(r->buf);
	free(r);
}

static const struct source_ops ring_ops = {
    .poll = ring_poll,
    .stats = ring_stats,
    .close = ring_close,
};

int source_ring_open(struct source **out, const struct source_opts *opts, char *err, size_t errlen)
{
	const char *path = opts->ring_path ? opts->ring_path : MEMPROBE_PROC_PATH;
	struct source_ring *r;
	int rc;

	r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r->base.ops = &ring_ops;
	r->use_read = opts->use_read;
	r->fd = open(path, O_RDONLY | O_CLOEXEC | (r->use_read ? O_NONBLOCK : 0));
	if (r->fd < 0) {
		rc = ring_open_error(errno, path, err, errlen);
		goto fail;
	}
	rc = ring_map(r, err, errlen);
	if (rc)
		goto fail;
	if (r->use_read) {
		r->buf = calloc(READ_BATCH_RECS, sizeof(*r->buf));
		if (!r->buf) {
			snprintf(err, errlen, "out of memory");
			rc = -ENOMEM;
			goto fail;
		}
	}
	*out = &r->base;
	return 0;
fail:
	ring_close(&r->base);
	return rc;
}
