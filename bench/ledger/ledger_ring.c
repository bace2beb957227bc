/*
 * ledger-ring - a ring file (the /proc/memprobe layout, producer gone:
 * running = 0) of synthetic calls for the ledger benchmark (bench/ledger/
 * run): lector --source=ring --ring-path=FILE drains it through its own
 * accounting and sink, so calls, checkpoints, process_ranges and
 * calls.mapped_bytes are exactly what lector writes.
 *
 *   ledger-ring --out FILE --records N [--procs 1000] [--holder 50000]
 *               [--session ID] [--seed N]
 *
 * Processes: --procs of them.  The first, "map-holder" (pid 4242), makes
 * mmap, mmap, mmap, mmap, munmap (of a random live mapping of its own)
 * over and over, spread evenly over the whole stream, so that it ends
 * holding --holder separate one-page mappings made at every moment of the
 * capture; it never exits.  The others get a 1/rank share of the rest (a
 * few busy processes, a long tail, as captures show), each keeping at most
 * 64 live mappings: mmap (anonymous, or a file's pages), munmap of a live
 * one, brk, mremap (a live one doubled and moved), a failed mmap; about a
 * quarter exit (an exit record) in the second half of the stream.
 * Timestamps start at 2026-12-07 00:00 UTC, 1-180 us apart (about 30 min
 * for 20M calls).  Deterministic for a seed.  The file is sparse: capacity
 * is the next power of two, only N records are written.  Progress on
 * stderr every 2M records; key=value figures on stdout at the end.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "memprobe_abi.h"

#define PG	     4096ULL
#define LIVE_MAX     64
#define HOLDER_PID   4242
#define TS_BASE_NS   ((uint64_t)1796601600000000000ULL)
#define PROGRESS_REC 2000000ULL

struct proc {
	uint32_t pid, uid;
	uint64_t start_ns, cgroup_id, next_addr, brk, live_bytes, vm_base_bytes, end_rec;
	const char *comm;
	bool exited;
	unsigned int n_live;
	uint64_t live_addr[LIVE_MAX], live_len[LIVE_MAX];
};

struct gen {
	uint64_t rng, ts_ns, seq;
	unsigned int n;
	double *cum;
	struct proc *p;
	/* the holder */
	uint64_t *h_addr;
	size_t h_live, h_cap, h_next;
	uint64_t h_every, h_calls;
};

static const char *const names[] = {
    "systemd", "dbus-daemon", "sshd",	    "bash",	   "python3", "node",	  "java",
    "mariadbd", "postgres",   "nginx",	    "redis-server", "containerd", "kubelet", "firefox-esr",
    "Web Content", "chrome",  "code",	    "gopls",	   "cc1",     "rustc",	  "go",
};
#define N_NAMES (sizeof(names) / sizeof(names[0]))

static uint64_t rnd(struct gen *g)
{
	g->rng ^= g->rng << 13;
	g->rng ^= g->rng >> 7;
	g->rng ^= g->rng << 17;
	return g->rng;
}

static unsigned int below(struct gen *g, unsigned int n)
{
	return (unsigned int)(rnd(g) % n);
}

static void proc_init(struct gen *g, unsigned int i, uint64_t records)
{
	static const uint32_t uids[] = {0, 0, 1000, 1000, 1000, 33, 999, 106};
	struct proc *p = &g->p[i];

	p->pid = i == 0 ? HOLDER_PID : 10000 + i * 37;
	p->uid = uids[below(g, 8)];
	p->start_ns = TS_BASE_NS - (1 + below(g, 86400)) * 1000000000ULL;
	p->comm = i == 0 ? "map-holder" : names[below(g, N_NAMES)];
	p->cgroup_id = 4000 + i % 60;
	p->next_addr = 0x7f0000000000ULL - ((uint64_t)i << 36);
	p->brk = 0x550000000000ULL + ((uint64_t)i << 32);
	p->vm_base_bytes = (16ULL + below(g, 256)) << 20;
	p->end_rec = below(g, 4) == 0 ? records / 2 + rnd(g) % (records / 2 + 1) : UINT64_MAX;
}

static struct proc *pick(struct gen *g)
{
	for (;;) {
		double x = (double)(rnd(g) >> 11) / (double)(1ULL << 53);
		unsigned int lo = 1, hi = g->n - 1;

		while (lo < hi) {
			unsigned int mid = (lo + hi) / 2;

			if (g->cum[mid] < x)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (!g->p[lo].exited)
			return &g->p[lo];
	}
}

static void rec_head(struct gen *g, struct proc *p, struct memprobe_record *r)
{
	memset(r, 0, sizeof(*r));
	r->seq = g->seq++;
	g->ts_ns += 1000 + (uint64_t)below(g, 180) * 1000;
	r->ts_ns = g->ts_ns;
	r->start_ns = p->start_ns;
	r->pid = r->tid = p->pid;
	r->uid = p->uid;
	r->fd = -1;
	strncpy(r->comm, p->comm, sizeof(r->comm) - 1);
	strncpy(r->thread_comm, p->comm, sizeof(r->thread_comm) - 1);
	r->cgroup_id = p->cgroup_id;
}

static void rec_tail(struct proc *p, struct memprobe_record *r)
{
	r->total_vm_bytes = p->vm_base_bytes + p->live_bytes + (p->brk & 0xffffffffULL);
	r->rss_anon_bytes = (p->live_bytes / 4) & ~(PG - 1);
	r->rss_file_bytes = 8ULL << 20;
}

/* The holder: mmap x4, munmap of a random live one. */
static void holder_call(struct gen *g, struct memprobe_record *r)
{
	struct proc *p = &g->p[0];

	rec_head(g, p, r);
	if (g->h_calls++ % 5 == 4 && g->h_live) {
		size_t k = rnd(g) % g->h_live;

		r->call = MP_CALL_MUNMAP;
		r->addr = g->h_addr[k];
		r->len = PG;
		g->h_addr[k] = g->h_addr[--g->h_live];
		p->live_bytes -= PG;
	} else {
		r->call = MP_CALL_MMAP;
		r->len = PG;
		r->prot = PROT_READ | PROT_WRITE;
		r->mflags = MAP_PRIVATE | MAP_ANONYMOUS;
		p->next_addr -= 2 * PG; /* a gap page: separate ranges */
		r->ret = (int64_t)p->next_addr;
		if (g->h_live < g->h_cap)
			g->h_addr[g->h_live++] = p->next_addr;
		p->live_bytes += PG;
	}
	rec_tail(p, r);
}

static void other_mmap(struct gen *g, struct proc *p, struct memprobe_record *r)
{
	bool file = below(g, 4) == 0;

	r->call = MP_CALL_MMAP;
	r->len = file ? (1ULL + below(g, 512)) * PG : (1ULL + below(g, 64)) << 16;
	r->prot = file ? (below(g, 2) ? PROT_READ : PROT_READ | PROT_EXEC) : PROT_READ | PROT_WRITE;
	r->mflags = file ? MAP_PRIVATE : MAP_PRIVATE | MAP_ANONYMOUS;
	if (file) {
		r->fd = 3 + (int32_t)below(g, 40);
		r->offset = (uint64_t)below(g, 64) * PG;
		r->file_dev = 0x00800001 + below(g, 3);
		r->file_ino = 100000 + below(g, 500000);
	}
	p->next_addr -= r->len + PG;
	r->ret = (int64_t)p->next_addr;
	p->live_addr[p->n_live] = p->next_addr;
	p->live_len[p->n_live++] = r->len;
	p->live_bytes += r->len;
}

static void other_call(struct gen *g, uint64_t i, uint64_t records, struct memprobe_record *r)
{
	struct proc *p = pick(g);
	unsigned int kind = below(g, 100);

	rec_head(g, p, r);
	if (i >= p->end_rec) {
		r->call = MP_CALL_EXIT;
		p->exited = true;
		return; /* an exit record holds no memory fields */
	}
	(void)records;
	if (p->n_live == 0 || (kind < 45 && p->n_live < LIVE_MAX)) {
		other_mmap(g, p, r);
	} else if (kind < 85) {
		unsigned int k = below(g, p->n_live);

		r->call = MP_CALL_MUNMAP;
		r->addr = p->live_addr[k];
		r->len = p->live_len[k];
		p->live_bytes -= r->len;
		p->n_live--;
		p->live_addr[k] = p->live_addr[p->n_live];
		p->live_len[k] = p->live_len[p->n_live];
	} else if (kind < 93) {
		r->call = MP_CALL_BRK;
		r->addr = p->brk + (1ULL + below(g, 32)) * PG;
		r->ret = (int64_t)r->addr;
		p->brk = r->addr;
	} else if (kind < 98) {
		unsigned int k = below(g, p->n_live);

		r->call = MP_CALL_MREMAP;
		r->addr = p->live_addr[k];
		r->len = p->live_len[k];
		r->new_len = 2 * r->len;
		r->mflags = 1; /* MREMAP_MAYMOVE */
		p->next_addr -= r->new_len + PG;
		r->new_addr = p->next_addr;
		r->ret = (int64_t)p->next_addr;
		p->live_bytes += r->len;
		p->live_addr[k] = p->next_addr;
		p->live_len[k] = r->new_len;
	} else {
		r->call = MP_CALL_MMAP; /* refused: ENOMEM */
		r->len = 1ULL << 40;
		r->prot = PROT_READ | PROT_WRITE;
		r->mflags = MAP_PRIVATE | MAP_ANONYMOUS;
		r->ret = -ENOMEM;
	}
	rec_tail(p, r);
}

static int usage(void)
{
	fputs("usage: ledger-ring --out FILE --records N [--procs 1000] [--holder 50000]\n"
	      "                   [--session ID] [--seed N]\n",
	      stderr);
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"out", 1, 0, 'o'},	   {"records", 1, 0, 'n'}, {"procs", 1, 0, 'p'}, {"holder", 1, 0, 'H'},
	    {"session", 1, 0, 's'}, {"seed", 1, 0, 'S'},    {0, 0, 0, 0}};
	uint64_t records = 0, holder = 50000, session = 0x1ed9e5, seed = 16, cap = 8;
	unsigned int procs = 1000;
	const char *out = NULL;
	struct memprobe_ring_hdr *h;
	struct memprobe_record *slots;
	struct gen g = {0};
	size_t bytes;
	double sum = 0;
	void *map;
	int o, fd;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'o')
			out = optarg;
		else if (o == 'n')
			records = strtoull(optarg, NULL, 0);
		else if (o == 'p')
			procs = (unsigned int)strtoul(optarg, NULL, 0);
		else if (o == 'H')
			holder = strtoull(optarg, NULL, 0);
		else if (o == 's')
			session = strtoull(optarg, NULL, 0);
		else if (o == 'S')
			seed = strtoull(optarg, NULL, 0);
		else
			return usage();
	}
	if (!out || records < 1000 || records > (1ULL << 31) || procs < 2 || procs > 100000 ||
	    holder * 5 / 3 > records / 2)
		return usage();
	while (cap < records)
		cap *= 2;
	bytes = MEMPROBE_HDR_SIZE + cap * MEMPROBE_RECORD_SIZE;
	fd = open(out, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)bytes) < 0) {
		fprintf(stderr, "ledger-ring: %s: %s\n", out, strerror(errno));
		return 1;
	}
	map = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		fprintf(stderr, "ledger-ring: mmap %s: %s\n", out, strerror(errno));
		return 1;
	}
	h = map;
	slots = (struct memprobe_record *)((char *)map + MEMPROBE_HDR_SIZE);

	g.rng = seed | 1;
	g.ts_ns = TS_BASE_NS;
	g.n = procs;
	g.p = calloc(procs, sizeof(*g.p));
	g.cum = calloc(procs, sizeof(*g.cum));
	g.h_cap = holder;
	g.h_addr = calloc(holder + 1, sizeof(*g.h_addr));
	if (!g.p || !g.cum || !g.h_addr)
		return fputs("ledger-ring: out of memory\n", stderr), 1;
	for (unsigned int i = 0; i < procs; i++) {
		proc_init(&g, i, records);
		sum += i ? 1.0 / i : 0;
		g.cum[i] = sum;
	}
	for (unsigned int i = 0; i < procs; i++)
		g.cum[i] /= sum;
	/* the holder's 5/3 x holder calls spread evenly over the stream */
	g.h_every = holder ? records / (holder * 5 / 3 + 1) : 0;

	for (uint64_t i = 0; i < records; i++) {
		if (g.h_every && i % g.h_every == 0 && g.h_live < holder)
			holder_call(&g, &slots[i]);
		else
			other_call(&g, i, records, &slots[i]);
		if ((i + 1) % PROGRESS_REC == 0)
			fprintf(stderr, "ledger-ring: %" PRIu64 " of %" PRIu64 " records written\n", i + 1,
				records);
	}
	h->magic = MEMPROBE_MAGIC;
	h->abi_version = MEMPROBE_ABI_VERSION;
	h->record_size = MEMPROBE_RECORD_SIZE;
	h->capacity = cap;
	h->data_offset = MEMPROBE_HDR_SIZE;
	h->session_id = session;
	h->load_ts_ns = TS_BASE_NS;
	h->running = 0;
	h->producer_pos = records;
	h->seq_next = records;
	if (munmap(map, bytes) < 0 || close(fd) < 0) {
		fprintf(stderr, "ledger-ring: %s: %s\n", out, strerror(errno));
		return 1;
	}
	printf("records=%" PRIu64 " procs=%u holder_pid=%d holder_live=%zu first_ts_ns=%" PRIu64
	       " last_ts_ns=%" PRIu64 " file_bytes=%zu\n",
	       records, procs, HOLDER_PID, g.h_live, TS_BASE_NS, g.ts_ns, bytes);
	return 0;
}
