/*
 * ring_fuzz.c - libFuzzer harness of the ring reader (capture/source_ring.c,
 * mmap mode) against arbitrary ring files.
 *
 * Input: fewer than 192 bytes is the whole file (tiny, truncated rings);
 * otherwise the first 192 bytes are the header (struct memprobe_ring_hdr),
 * padded to the 4096-byte header page, and the rest are the record slots.
 * pad0[0] of the header, when not 0, makes the callback refuse the record
 * with that delivery number once (the refused-record path).  pad0[1..5]
 * change the file while it is read, as another process could:
 *   pad0[1]  when: 0 never; 1 between the reader's header mapping and its
 *            whole mapping (through --wrap=mmap); k >= 2 before poll k - 2
 *   pad0[2]  what: even, truncate the file to pad0[3] | pad0[4] << 8 bytes;
 *            odd, rewrite the header's capacity to 1 << (pad0[3] & 63) and
 *            its data offset to pad0[4] << (pad0[5] & 63)
 *
 * Invariants: the reader either refuses the ring (negative errno and a
 * message) or delivers exactly the slots consumer_pos, consumer_pos + 1,
 * ... of the header it was opened with, in order, each wholly inside the
 * file as it is at that moment and byte-identical to what was written,
 * never more than capacity of them; a refused record comes back first on
 * the next poll; a ring whose producer is gone (running 0) ends with an
 * error (-ESHUTDOWN or a corruption error), it never polls 0 forever; a
 * change to the file is at worst an error with a message, never a crash
 * (SIGBUS, SIGSEGV) or a record from outside the file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "source_impl.h"

#define HDR_IN_BYTES sizeof(struct memprobe_ring_hdr)
#define POLLS_MAX    8

struct expect {
	const uint8_t *file;
	size_t file_bytes; /* as written */
	size_t now_bytes;  /* as it is now (after a truncation) */
	int fd;
	struct memprobe_ring_hdr hdr;
	uint64_t next_pos; /* position the next delivered record must have */
	uint64_t delivered;
	uint64_t refuse_at; /* delivery number to refuse once (0: none) */
	uint8_t last[MEMPROBE_RECORD_SIZE];
	int maps;	/* mmap calls of the reader while it opens */
};

static struct expect *opening; /* set while source_ring_open runs */

/* pad0[1..5]: change the file (truncate it, or rewrite its geometry). */
static void change_file(struct expect *x)
{
	const __u8 *c = x->hdr.pad0;
	__u64 geometry[2] = {1ULL << (c[3] & 63), (__u64)c[4] << (c[5] & 63)};

	if (!(c[2] & 1)) {
		x->now_bytes = (size_t)(c[3] | c[4] << 8) < x->now_bytes ? (size_t)(c[3] | c[4] << 8)
									  : x->now_bytes;
		if (ftruncate(x->fd, (off_t)x->now_bytes) < 0)
			abort();
	} else if (x->now_bytes >= 32 && pwrite(x->fd, geometry, sizeof(geometry), 16) < 0) {
		abort();
	}
}

/* Linked with --wrap=mmap: the reader's second mapping of a ring (the
 * whole ring, after the header page was checked) meets the change first. */
void *__real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (opening && ++opening->maps == 2 && opening->hdr.pad0[1] == 1)
		change_file(opening);
	return __real_mmap(addr, len, prot, flags, fd, off);
}

static int on_record(const struct memprobe_record *rec, void *ctx)
{
	struct expect *x = ctx;
	uint64_t slot = x->next_pos & (x->hdr.capacity - 1);
	uint64_t off = MEMPROBE_HDR_SIZE + slot * MEMPROBE_RECORD_SIZE;

	FUZZ_ASSERT(x->delivered < x->hdr.capacity, "more records than slots (capacity %llu)",
		    (unsigned long long)x->hdr.capacity);
	FUZZ_ASSERT(off + MEMPROBE_RECORD_SIZE <= x->now_bytes,
		    "record at file offset %llu is past the end of a %zu-byte file",
		    (unsigned long long)off, x->now_bytes);
	FUZZ_ASSERT(!memcmp(rec, x->file + off, MEMPROBE_RECORD_SIZE),
		    "record of position %llu is not the bytes of its slot",
		    (unsigned long long)x->next_pos);
	if (x->refuse_at && x->delivered + 1 == x->refuse_at) {
		x->refuse_at = 0;
		memcpy(x->last, rec, sizeof(x->last));
		return 1;
	}
	x->next_pos++;
	x->delivered++;
	return 0;
}

static int write_file(int fd, const uint8_t *data, size_t size, uint8_t **file, size_t *file_bytes)
{
	size_t n = size < HDR_IN_BYTES ? size : MEMPROBE_HDR_SIZE + (size - HDR_IN_BYTES);
	uint8_t *buf = calloc(1, n ? n : 1);

	if (!buf)
		return -ENOMEM;
	if (size < HDR_IN_BYTES) {
		memcpy(buf, data, size);
	} else {
		memcpy(buf, data, HDR_IN_BYTES);
		memcpy(buf + MEMPROBE_HDR_SIZE, data + HDR_IN_BYTES, size - HDR_IN_BYTES);
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, n, 0) != (ssize_t)n) {
		free(buf);
		return -EIO;
	}
	*file = buf;
	*file_bytes = n;
	return 0;
}

static void poll_all(struct source *s, struct expect *x)
{
	int rc = 0, polls;

	for (polls = 0; polls < POLLS_MAX; polls++) {
		uint64_t before = x->delivered;

		if (x->hdr.pad0[1] == polls + 2)
			change_file(x);
		rc = s->ops->poll(s, 0, on_record, NULL, x);
		if (rc < 0)
			break;
		FUZZ_ASSERT((uint64_t)rc == x->delivered - before,
			    "poll said %d records, gave %llu", rc,
			    (unsigned long long)(x->delivered - before));
	}
	if (x->hdr.running == 0)
		FUZZ_ASSERT(rc < 0, "a stopped ring still polled %d after %d polls", rc, polls);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct source_opts opts = {.kind = SOURCE_RING};
	struct expect x = {0};
	struct source *s = NULL;
	char path[64], err[256] = "";
	uint8_t *file = NULL;
	int rc;

	if (fd < 0)
		fd = memfd_create("memprobe-ring-fuzz", MFD_CLOEXEC);
	if (fd < 0 || write_file(fd, data, size, &file, &x.file_bytes))
		abort();
	x.file = file;
	x.now_bytes = x.file_bytes;
	x.fd = fd;
	memcpy(&x.hdr, file, size < HDR_IN_BYTES ? size : HDR_IN_BYTES);
	x.next_pos = x.hdr.consumer_pos;
	x.refuse_at = x.hdr.pad0[0];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	opts.ring_path = path;
	opening = &x;
	rc = source_ring_open(&s, &opts, err, sizeof(err));
	opening = NULL;
	if (rc < 0) {
		FUZZ_ASSERT(err[0], "refused (%d) without a message", rc);
	} else {
		FUZZ_ASSERT(x.hdr.magic == MEMPROBE_MAGIC && x.hdr.capacity &&
				!(x.hdr.capacity & (x.hdr.capacity - 1)),
			    "accepted a ring with magic 0x%llx capacity %llu",
			    (unsigned long long)x.hdr.magic, (unsigned long long)x.hdr.capacity);
		poll_all(s, &x);
		s->ops->close(s);
	}
	free(file);
	return 0;
}
