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
 *
 * A ring file (--ring-path, a capture kept on disk) is not the kernel's: it
 * can be rewritten or truncated while it is read.  So capacity and data
 * offset come from one checked copy of the header, the whole mapping must
 * still show that header, the mappings are guarded against SIGBUS
 * (ring_file.h), and each record is copied out and checked against the
 * file's size before it is delivered.  A file has no producer to release
 * records to.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "ring_file.h"
#include "source_impl.h"
#include "testpause.h"

#define READ_BATCH_RECS	   512
#define RELEASE_EVERY_RECS 4096 /* a sixteenth of the module's default ring */
#define FILE_CHUNK_RECS	   64	/* ring file: records copied out per size check */
#define RING_SLOTS_MAX	(1ULL << 32) /* more is a corrupt header, not a ring */

struct source_ring {
	struct source base;
	int fd;
	bool use_read;
	bool file;  /* a ring file, not /proc/memprobe: it may change under us */
	int guard;  /* ring_guard_add() id of the mapping (files), else -1 */
	char *path; /* for messages */
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
		snprintf(msg, msglen, "%s is readable by root only: run as root", path);
		break;
	case EPERM:
		snprintf(msg, msglen,
			 "%s needs CAP_PERFMON or CAP_SYS_ADMIN in the host's initial user "
			 "namespace: run as root on the host, not in a user namespace or a "
			 "container without them",
			 path);
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

/* After a read: a ring file still holds need_bytes (ring_file.h); the
 * module's ring always does. */
static int ring_holds(struct source_ring *r, uint64_t need_bytes, char *msg, size_t msglen)
{
	return r->file ? ring_file_holds(r->fd, r->guard, r->path, need_bytes, msg, msglen) : 0;
}

/* Map [0, len_bytes) of the file in place of the current mapping. */
static int ring_map_range(struct source_ring *r, size_t len_bytes, char *msg, size_t msglen)
{
	void *m = mmap(NULL, len_bytes, PROT_READ, MAP_SHARED, r->fd, 0);
	int guard = -1, rc;

	if (m == MAP_FAILED) {
		rc = -errno;
		snprintf(msg, msglen, "cannot mmap the ring: %s", strerror(-rc));
		return rc;
	}
	if (r->file && (guard = ring_guard_add(m, len_bytes)) < 0) {
		snprintf(msg, msglen, "cannot guard the mapping of ring file %s: %s", r->path,
			 strerror(-guard));
		munmap(m, len_bytes);
		return guard;
	}
	ring_guard_del(r->guard);
	if (r->map)
		munmap(r->map, r->map_bytes);
	r->guard = guard;
	r->map = m;
	r->map_bytes = len_bytes;
	r->hdr = m;
	return 0;
}

/* The whole mapping shows the header that was checked (h), or the file
 * was rewritten in between. */
static int ring_same_hdr(struct source_ring *r, const struct memprobe_ring_hdr *h, char *msg,
			 size_t msglen)
{
	struct memprobe_ring_hdr now;
	int rc;

	memcpy(&now, r->hdr, sizeof(now));
	rc = ring_holds(r, MEMPROBE_HDR_SIZE, msg, msglen);
	if (rc)
		return rc;
	if (now.magic == h->magic && now.abi_version == h->abi_version &&
	    now.record_size == h->record_size && now.capacity == h->capacity &&
	    now.data_offset == h->data_offset && now.session_id == h->session_id)
		return 0;
	snprintf(msg, msglen,
		 "the ring changed while it was being opened (capacity %llu, then %llu; data "
		 "offset %llu, then %llu): a ring file must not be rewritten while it is read",
		 (unsigned long long)h->capacity, (unsigned long long)now.capacity,
		 (unsigned long long)h->data_offset, (unsigned long long)now.data_offset);
	return -EPROTO;
}

/* Map the header page and check a copy of it, then (mmap mode) map the
 * whole ring, as long as it still shows that header.  Capacity and data
 * offset are taken from the checked copy, never read again. */
static int ring_map(struct source_ring *r, char *msg, size_t msglen)
{
	size_t page_bytes = (size_t)sysconf(_SC_PAGESIZE), len_bytes;
	struct memprobe_ring_hdr h;
	int rc;

	rc = ring_file_check_size(r->fd, MEMPROBE_HDR_SIZE, msg, msglen);
	if (rc == 0)
		rc = ring_map_range(r, MEMPROBE_HDR_SIZE, msg, msglen);
	if (rc)
		return rc;
	memcpy(&h, r->hdr, sizeof(h));
	rc = ring_holds(r, MEMPROBE_HDR_SIZE, msg, msglen);
	if (rc == 0)
		rc = ring_check_hdr(&h, msg, msglen);
	if (rc || r->use_read)
		return rc;
	testpause_at("mapped", 0);
	len_bytes = MEMPROBE_HDR_SIZE + h.capacity * MEMPROBE_RECORD_SIZE;
	rc = ring_file_check_size(r->fd, len_bytes, msg, msglen);
	if (rc == 0)
		rc = ring_map_range(r, (len_bytes + page_bytes - 1) & ~(page_bytes - 1), msg, msglen);
	if (rc == 0)
		rc = ring_same_hdr(r, &h, msg, msglen);
	if (rc)
		return rc;
	r->slots = (const struct memprobe_record *)((const char *)r->map + MEMPROBE_HDR_SIZE);
	r->mask = h.capacity - 1;
	r->pos = load_acquire_u64(&r->hdr->consumer_pos);
	r->released_pos = r->pos;
	return 0;
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
	/* After the module is gone the ioctl fails (EIO): nothing to release
	 * to; a ring file has no producer at all. */
	if (!r->file && ioctl(r->fd, MEMPROBE_IOC_CONSUME, &release) < 0 && ring_running(r))
		return -errno;
	r->released += release - r->released_pos;
	r->released_pos = release;
	testpause_at("released", r->released);
	return 0;
}

/* A ring file: copy the records from pos on (up to FILE_CHUNK_RECS, not
 * past prod nor the ring's end) out of the mapping, then keep those the
 * file still holds whole: a truncation meanwhile made the rest zeros.
 * Returns how many, or -EIO with the sentence in base.err when none. */
static int ring_copy_out(struct source_ring *r, uint64_t prod, struct memprobe_record *buf)
{
	uint64_t slot = r->pos & r->mask, n = prod - r->pos, start_bytes, held;
	const char *from = (const char *)&r->slots[slot], *fault;
	int rc;

	n = n < FILE_CHUNK_RECS ? n : FILE_CHUNK_RECS;
	n = n < r->mask + 1 - slot ? n : r->mask + 1 - slot;
	memcpy(buf, from, n * sizeof(*buf));
	start_bytes = MEMPROBE_HDR_SIZE + slot * MEMPROBE_RECORD_SIZE;
	held = ring_file_whole_recs(r->fd, start_bytes, MEMPROBE_RECORD_SIZE);
	fault = ring_guard_fault(r->guard);
	if (fault && fault < from + held * MEMPROBE_RECORD_SIZE) /* a page went (and came back?) */
		held = fault > from ? (uint64_t)(fault - from) / MEMPROBE_RECORD_SIZE : 0;
	if (held)
		return (int)(held < n ? held : n);
	rc = ring_holds(r, start_bytes + MEMPROBE_RECORD_SIZE, r->base.err, sizeof(r->base.err));
	if (rc == 0)
		snprintf(r->base.err, sizeof(r->base.err),
			 "the ring file %s changed while it was read: a ring file must not change "
			 "while it is read", r->path);
	return rc ? rc : -EIO;
}

/* mmap mode: deliver [pos, producer_pos), releasing as it goes.  Records of
 * a ring file go through a copy (ring_copy_out), the module's straight
 * from the mapping. */
static int ring_deliver_mapped(struct source_ring *r, source_record_cb cb,
			       source_batch_end_cb batch_end, void *ctx)
{
	uint64_t prod = load_acquire_u64(&r->hdr->producer_pos);
	int n = 0, head = 0, got = 0;
	int rc = ring_holds(r, MEMPROBE_HDR_SIZE, r->base.err, sizeof(r->base.err));
	struct memprobe_record chunk[FILE_CHUNK_RECS];

	/* The producer is never behind us nor more than a ring ahead: anything
	 * else is a corrupt header, and reading on would loop over the slots. */
	if (rc == 0 && (prod < r->pos || prod - r->pos > r->mask + 1))
		return -EPROTO;
	while (r->pos < prod && rc == 0) {
		const struct memprobe_record *rec = &r->slots[r->pos & r->mask];

		if (r->file && head == got) {
			head = 0;
			got = ring_copy_out(r, prod, chunk);
			if (got < 0) {
				rc = got;
				break;
			}
		}
		if (r->file)
			rec = &chunk[head++];
		if (cb(rec, ctx))
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

static int ring_poll_once(struct source_ring *r, int timeout_ms, source_record_cb cb,
			  source_batch_end_cb batch_end, void *ctx)
{
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

static int ring_poll(struct source *s, int timeout_ms, source_record_cb cb,
		     source_batch_end_cb batch_end, void *ctx)
{
	struct source_ring *r = (struct source_ring *)s;
	int rc;

	r->base.err[0] = 0;
	rc = ring_poll_once(r, timeout_ms, cb, batch_end, ctx);
	/* a header page gone from a ring file reads as zeros: "stopped" or
	 * "corrupt" then mean that it shrank */
	if (rc == -ESHUTDOWN || rc == -EPROTO) {
		int lost = ring_holds(r, MEMPROBE_HDR_SIZE, r->base.err, sizeof(r->base.err));

		rc = lost ? lost : rc;
	}
	return rc;
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

	ring_guard_del(r->guard);
	if (r->map)
		munmap(r->map, r->map_bytes);
	if (r->fd >= 0)
		close(r->fd);
	free(r->buf);
	free(r->path);
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
	r->guard = -1;
	r->path = strdup(path);
	r->fd = open(path, O_RDONLY | O_CLOEXEC | (r->use_read ? O_NONBLOCK : 0));
	if (r->fd < 0 || !r->path) {
		rc = ring_open_error(r->fd < 0 ? errno : ENOMEM, path, err, errlen);
		goto fail;
	}
	r->file = !ring_file_is_proc(r->fd);
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
