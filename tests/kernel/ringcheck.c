// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * ringcheck - test oracle for the /proc/memprobe ring, used by the guest
 * test and the guest benchmark.  It speaks only through memprobe_abi.h, so
 * the record layout stays defined once.  Owns three checks:
 *
 *   hdr        map the header read-only and print its fields (key=value)
 *   overflow   on a ring that filled with no reader: prove the retained
 *              records are the oldest ones, contiguous, then consume them,
 *              make a few events and prove the seq gap equals the drop count
 *   consume-all  release every record written so far (drop a backlog)
 *   count      read a raw record stream (memprobe-cat --raw) on stdin and
 *              count records, seq gaps and records matching filters
 *   wrap       write a raw record stream (stdin) into a ring file with the
 *              real header layout and running = 0: a producer that is gone,
 *              for lector --source=ring --ring-path (host-side test)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "memprobe_abi.h"

#define load_acquire(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)

struct ring {
	int fd;
	size_t map_len_bytes;
	struct memprobe_ring_hdr *hdr;
	const struct memprobe_record *slots;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: ringcheck hdr\n"
		"       ringcheck overflow\n"
		"       ringcheck consume-all\n"
		"       ringcheck count [--comm NAME] [--thread-comm NAME] [--len BYTES] [--pid P] "
		"< RAW\n"
		"       ringcheck wrap [--session ID] OUT < RAW\n"
		"hdr/overflow map %s (load the module first); count reads\n"
		"'memprobe-cat --raw' output; wrap writes it to the ring file OUT\n"
		"(running=0: what a module leaves behind).  Prints key=value lines;\n"
		"exit 1 on a failed check, 2 on a usage or system error.\n",
		MEMPROBE_PROC_PATH);
}

/* Map the header, check it is a ring we understand, then map all slots. */
static int ring_open(struct ring *r)
{
	struct memprobe_ring_hdr *h;
	int ret = 0;

	r->fd = open(MEMPROBE_PROC_PATH, O_RDONLY);
	if (r->fd < 0) {
		ret = -errno;
		fprintf(stderr, "ringcheck: open %s: %s (module loaded?)\n", MEMPROBE_PROC_PATH,
			strerror(errno));
		return ret;
	}
	h = mmap(NULL, MEMPROBE_HDR_SIZE, PROT_READ, MAP_SHARED, r->fd, 0);
	if (h == MAP_FAILED) {
		ret = -errno;
		perror("ringcheck: mmap header");
		goto out;
	}
	if (h->magic != MEMPROBE_MAGIC || h->abi_version != MEMPROBE_ABI_VERSION ||
	    h->record_size != MEMPROBE_RECORD_SIZE) {
		fprintf(stderr, "ringcheck: unknown ring (magic %llx version %u size %u)\n",
			(unsigned long long)h->magic, h->abi_version, h->record_size);
		munmap(h, MEMPROBE_HDR_SIZE);
		ret = -EPROTO;
		goto out;
	}
	r->map_len_bytes = h->data_offset + h->capacity * MEMPROBE_RECORD_SIZE;
	munmap(h, MEMPROBE_HDR_SIZE);
	r->hdr = mmap(NULL, r->map_len_bytes, PROT_READ, MAP_SHARED, r->fd, 0);
	if (r->hdr == MAP_FAILED) {
		ret = -errno;
		perror("ringcheck: mmap ring");
		goto out;
	}
	r->slots = (const void *)((const char *)r->hdr + r->hdr->data_offset);
out:
	if (ret < 0)
		close(r->fd);
	return ret;
}

static const struct memprobe_record *ring_slot(const struct ring *r, __u64 pos)
{
	return &r->slots[pos & (r->hdr->capacity - 1)];
}

static int cmd_hdr(void)
{
	struct ring r;
	const struct memprobe_ring_hdr *h;
	int ret = ring_open(&r);

	if (ret < 0)
		return 2;
	h = r.hdr;
	printf("capacity=%llu\nproducer_pos=%llu\nconsumer_pos=%llu\ndrops=%llu\n"
	       "seq_next=%llu\nrunning=%u\nsession_id=%llu\nwakeup_interval_us=%u\n"
	       "skipped=%llu\n",
	       (unsigned long long)h->capacity, (unsigned long long)load_acquire(&h->producer_pos),
	       (unsigned long long)h->consumer_pos, (unsigned long long)h->drops,
	       (unsigned long long)h->seq_next, h->running, (unsigned long long)h->session_id,
	       h->wakeup_interval_us,
	       (unsigned long long)__atomic_load_n(&h->skipped, __ATOMIC_RELAXED));
	return 0;
}

static int cmd_consume_all(void)
{
	struct ring r;
	__u64 prod;

	if (ring_open(&r) < 0)
		return 2;
	prod = load_acquire(&r.hdr->producer_pos);
	if (ioctl(r.fd, MEMPROBE_IOC_CONSUME, &prod) < 0) {
		perror("ringcheck: MEMPROBE_IOC_CONSUME");
		return 2;
	}
	printf("consumed_to=%llu\n", (unsigned long long)prod);
	return 0;
}

/* Make a few events of our own so the producer has something to write. */
static void poke_events(int pairs)
{
	for (int i = 0; i < pairs; i++) {
		void *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p != MAP_FAILED)
			munmap(p, 4096);
	}
}

/* Wait (up to timeout_ms) until the producer has moved past pos. */
static int wait_producer_past(const struct ring *r, __u64 pos, int timeout_ms)
{
	struct timespec nap = {0, 10 * 1000 * 1000};

	for (int waited_ms = 0; waited_ms < timeout_ms; waited_ms += 10) {
		if (load_acquire(&r->hdr->producer_pos) > pos)
			return 0;
		poke_events(2);
		nanosleep(&nap, NULL);
	}
	return -ETIMEDOUT;
}

static int cmd_overflow(void)
{
	struct ring r;
	__u64 cap, prod, cons, drops_before, first, last, next_seq, drops_after;
	int contiguous = 1, ok;

	if (ring_open(&r) < 0)
		return 2;
	cap = r.hdr->capacity;
	prod = load_acquire(&r.hdr->producer_pos);
	cons = load_acquire(&r.hdr->consumer_pos);
	drops_before = load_acquire(&r.hdr->drops);
	first = ring_slot(&r, cons)->seq;
	last = first;
	for (__u64 p = cons; p < prod; p++) {
		__u64 s = ring_slot(&r, p)->seq;

		if (s != first + (p - cons))
			contiguous = 0;
		last = s;
	}
	printf("capacity=%llu\nretained=%llu\ndrops_before=%llu\nfirst_seq=%llu\n"
	       "last_seq=%llu\ncontiguous=%d\nfull=%d\n",
	       (unsigned long long)cap, (unsigned long long)(prod - cons),
	       (unsigned long long)drops_before, (unsigned long long)first,
	       (unsigned long long)last, contiguous, prod - cons == cap);

	/* Hand everything back, then the next record's seq shows the gap. */
	if (ioctl(r.fd, MEMPROBE_IOC_CONSUME, &prod) < 0) {
		perror("ringcheck: MEMPROBE_IOC_CONSUME");
		return 2;
	}
	if (wait_producer_past(&r, prod, 5000) < 0) {
		fprintf(stderr, "ringcheck: no new record within 5 s after consuming\n");
		return 1;
	}
	next_seq = ring_slot(&r, prod)->seq;
	drops_after = load_acquire(&r.hdr->drops);
	printf("next_seq=%llu\ngap=%llu\ndrops_after=%llu\n", (unsigned long long)next_seq,
	       (unsigned long long)(next_seq - last - 1), (unsigned long long)drops_after);
	ok = contiguous && prod - cons == cap && cons == 0 && first == 0 && drops_before > 0 &&
	     next_seq - last - 1 == drops_after;
	printf("overflow_ok=%d\n", ok);
	return ok ? 0 : 1;
}

struct count_filter {
	const char *comm;
	const char *thread_comm;
	__u64 len_bytes;
	__u32 pid;
};

static int comm_is(const char *field, const char *want)
{
	return want == NULL || strncmp(field, want, MEMPROBE_COMM_LEN) == 0;
}

static int cmd_count(const struct count_filter *f)
{
	struct memprobe_record rec;
	unsigned long long records = 0, gaps = 0, matched = 0, mmap_ok = 0, munmap_ok = 0;
	unsigned long long backwards = 0;
	int exit_seen = 0;
	__u64 next = 0;
	size_t n;

	while ((n = fread(&rec, 1, sizeof(rec), stdin)) == sizeof(rec)) {
		if (records > 0 && rec.seq > next)
			gaps += rec.seq - next;
		if (records > 0 && rec.seq < next)
			backwards++;
		next = rec.seq + 1;
		records++;
		if (!comm_is(rec.comm, f->comm) || !comm_is(rec.thread_comm, f->thread_comm))
			continue;
		if ((f->len_bytes && rec.len != f->len_bytes) || (f->pid && rec.pid != f->pid))
			continue;
		matched++;
		if (rec.call == MP_CALL_EXIT)
			exit_seen = 1;
		if (rec.call == MP_CALL_MMAP && rec.ret >= 0)
			mmap_ok++;
		if (rec.call == MP_CALL_MUNMAP && rec.ret == 0)
			munmap_ok++;
	}
	printf("records=%llu\nseq_gaps=%llu\nseq_backwards=%llu\nmatched=%llu\n"
	       "mmap_ok=%llu\nmunmap_ok=%llu\nexit_seen=%d\ntrailing_bytes=%zu\n",
	       records, gaps, backwards, matched, mmap_ok, munmap_ok, exit_seen, n);
	return n == 0 && backwards == 0 ? 0 : 1;
}

/* Read a whole raw stream into *recs (malloc'd); count in *n. */
static int read_raw(struct memprobe_record **recs, size_t *n)
{
	size_t cap = 256, got = 0;

	*n = 0;
	*recs = malloc(cap * sizeof(**recs));
	while (*recs && (got = fread(*recs + *n, 1, sizeof(**recs), stdin)) == sizeof(**recs)) {
		if (++*n == cap) {
			struct memprobe_record *more = realloc(*recs, 2 * cap * sizeof(**recs));

			if (!more) {
				fprintf(stderr, "ringcheck wrap: out of memory\n");
				return -ENOMEM; /* caller frees *recs */
			}
			*recs = more;
			cap *= 2;
		}
	}
	if (!*recs || got != 0 || ferror(stdin)) {
		fprintf(stderr, "ringcheck wrap: %s\n",
			*recs && got ? "trailing partial record on stdin" : "cannot read stdin");
		return -EINVAL;
	}
	return 0;
}

/* The ring a module leaves behind: header, then the records in slots
 * 0..n-1 of a power-of-two ring, producer_pos = n, nothing consumed, and
 * seq_next/drops as the records' seq numbers say. */
static int cmd_wrap(const char *out, __u64 session_id)
{
	struct memprobe_ring_hdr h = {0};
	struct memprobe_record *recs = NULL;
	char page[MEMPROBE_HDR_SIZE] = {0};
	size_t n, cap = 1;
	FILE *f = NULL;
	int ret;

	ret = read_raw(&recs, &n);
	if (ret)
		goto out;
	while (cap < n)
		cap *= 2;
	h.magic = MEMPROBE_MAGIC;
	h.abi_version = MEMPROBE_ABI_VERSION;
	h.record_size = sizeof(struct memprobe_record);
	h.capacity = cap;
	h.data_offset = MEMPROBE_HDR_SIZE;
	h.session_id = session_id;
	h.load_ts_ns = n ? recs[0].ts_ns : 0;
	h.running = 0;
	h.producer_pos = n;
	h.seq_next = n ? recs[n - 1].seq + 1 : 0;
	h.drops = h.seq_next - n;
	memcpy(page, &h, sizeof(h));
	f = fopen(out, "wb");
	if (!f || fwrite(page, 1, sizeof(page), f) != sizeof(page) ||
	    fwrite(recs, sizeof(*recs), n, f) != n || fflush(f) ||
	    ftruncate(fileno(f), sizeof(page) + cap * sizeof(*recs))) {
		ret = -errno;
		fprintf(stderr, "ringcheck wrap: cannot write %s: %s\n", out, strerror(errno));
		goto out;
	}
out:
	if (f && fclose(f) && !ret) {
		ret = -errno;
		fprintf(stderr, "ringcheck wrap: cannot write %s: %s\n", out, strerror(errno));
	}
	if (!ret)
		printf("records=%zu\ncapacity=%zu\nseq_next=%llu\ndrops=%llu\n", n, cap,
		       (unsigned long long)h.seq_next, (unsigned long long)h.drops);
	free(recs);
	return ret ? 2 : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"comm", required_argument, NULL, 'c'},
	    {"thread-comm", required_argument, NULL, 't'},
	    {"len", required_argument, NULL, 'l'},
	    {"pid", required_argument, NULL, 'p'},
	    {"session", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct count_filter f = {0};
	__u64 session_id = 0x6b65726e656cULL; /* "kernel" */
	const char *cmd;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			f.comm = optarg;
			break;
		case 't':
			f.thread_comm = optarg;
			break;
		case 'l':
			f.len_bytes = strtoull(optarg, NULL, 0);
			break;
		case 'p':
			f.pid = strtoul(optarg, NULL, 0);
			break;
		case 's':
			session_id = strtoull(optarg, NULL, 0);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind];
	if (strcmp(cmd, "hdr") == 0)
		return cmd_hdr();
	if (strcmp(cmd, "overflow") == 0)
		return cmd_overflow();
	if (strcmp(cmd, "consume-all") == 0)
		return cmd_consume_all();
	if (strcmp(cmd, "count") == 0)
		return cmd_count(&f);
	if (strcmp(cmd, "wrap") == 0 && optind + 1 < argc)
		return cmd_wrap(argv[optind + 1], session_id);
	fprintf(stderr,
		"ringcheck: unknown command '%s' (hdr, overflow, consume-all, count, wrap OUT)\n",
		cmd);
	return 2;
}
