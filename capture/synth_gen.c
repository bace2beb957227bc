/*
 * fleetgen.c - one simulated host's records (synth_gen.h).
 *
 * The mix below was measured on this project's machine (Debian 12, 2
 * cores, kernel 6.18, five build/test sessions sharing it) on 2026-12-07:
 *   memprobe-cat --source=bpf --duration-ms=55000 > cap.txt   (root)
 * over ~30 s of the machine's ordinary activity, then a compile of four of
 * this repository's C files (cc -O2) and a python3 run (json of 200k
 * objects), then ordinary activity again; bench/fleet/mix.py cap.txt
 * printed the figures (docs/SCALE-OUT.md, section 6; README "bench-fleet"):
 *   83340 records in 55.0 s = 1515 calls/s, 0 drops;
 *   mmap 69.16 %, brk 14.39 %, munmap 10.69 %, exit 3.35 %, exec 2.36 %,
 *   mremap 0.05 %; mmap failed 0.02 %; 24.0 % of mmaps anonymous;
 *   prot: file 0x1 54.3 %, anon 0x3 20.2 %, file 0x3 10.9 %, file 0x5
 *   10.8 %, anon 0x0 3.8 % (of all mmaps); a third of brk are queries;
 *   2801 processes, calls per process p50 27, p90 57, p99 128, max 4237;
 *   of the 1760 born and dead inside: lifetime p50 25 ms, p90 252 ms,
 *   p99 3.9 s, calls p50 31, p90 70; exits 50.7/s, execs 35.8/s (the rest
 *   are forks that exit without exec); 2.9 % of calls from a thread other
 *   than the leader; calls per 100 ms window over their mean: p10 0.11,
 *   p25 0.36, p50 0.88, p75 1.41, p90 2.06, p95 2.47, p99 3.70, max 4.83
 *   (the bursts).
 * Sizes: the length buckets below (share of mmaps whose length is at most
 * the bucket, in KiB), anonymous and file apart.  munmap and mremap act on
 * a mapping the process made (a capture's munmap of a pre-capture mapping
 * is not made up here), so their sizes follow the mmaps'.
 */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "synth_gen.h"

struct bucket {
	uint32_t kib;	 /* at most this long */
	uint32_t per10k; /* share, per 10000 */
};

/* anonymous mmap lengths (measured, per 10000; the 0.1 % of reservations
 * of terabytes is left out: PROT_NONE address space, not memory) */
static const struct bucket anon_len[] = {
    {4, 490},	  {8, 2920},   {16, 1790},  {32, 180},	  {64, 1780}, {128, 110},
    {256, 350},	  {512, 1450}, {1024, 340}, {2048, 250},  {4096, 80}, {8192, 10},
    {16384, 100}, {32768, 10}, {65536, 30}, {131072, 90},
};
/* file mmap lengths (measured, per 10000) */
static const struct bucket file_len[] = {
    {4, 3120},	{8, 680},    {16, 190},	  {32, 1240},  {64, 960},  {128, 700},
    {256, 370}, {512, 1210}, {1024, 460}, {2048, 970}, {4096, 70}, {8192, 30},
};
/* mremap new lengths (measured, per 10000; 41 of 43 grew) */
static const struct bucket mremap_len[] = {
    {256, 700}, {512, 2090}, {1024, 3720}, {2048, 2560}, {4096, 470}, {8192, 460},
};
/* calls of a live process besides exec and exit, per 10000 (measured
 * shares over the sum of the four; brk less the one every exec'd process
 * makes first, counted to mmap) */
#define MIX_MMAP	   7585
#define MIX_BRK		   1276
#define MIX_MUNMAP	   1134 /* the remaining 5: mremap */
#define MIX_ANON_PER10K	   2400 /* of mmaps */
#define MIX_FAILED_PER100K 20	/* of mmaps: -ENOMEM */
#define MIX_BRK_QUERY_PER3 1	/* of brk calls: addr 0 */
#define MIX_THREAD_PER1000 29	/* calls from a thread other than the leader */
#define MIX_FORK_PER1000   294	/* 1 - execs/exits: processes that exit without exec */
/* burst: calls per 100 ms window over the mean, quantiles (measured) */
static const double burst_q[][2] = {{0, 0},	  {0.10, 0.11}, {0.25, 0.36},
				    {0.50, 0.88}, {0.75, 1.41}, {0.90, 2.06},
				    {0.95, 2.47}, {0.99, 3.70}, {1, 4.83}};
#define BURST_WINDOW_NS 100000000ull
/* calls an exec'd process makes between exec and exit: quantiles, set so
 * that exits come out at the measured 3.35 % of calls with the daemons'
 * share below (p50 31, p90 70 were measured for processes born and dead
 * inside the capture, exec and exit counted; the tail to 4237) */
static const double budget_q[][2] = {{0, 3},	{0.25, 12},  {0.5, 24},	   {0.75, 38},
				     {0.9, 60}, {0.99, 150}, {0.999, 600}, {1, 4200}};
/* Long-lived processes take this share of calls (the capture's busiest
 * were short-lived: bash, cc1, awk, cat, sed, pkg-config, sleep, as;
 * node and mariadb the long-lived ones); per 1000. */
#define DAEMON_SHARE_PER1000 150
#define N_DAEMONS	     12
#define N_SLOTS		     6 /* short-lived processes alive at once */
#define DAEMON_MAPS_MAX	     1000

static const char *const daemon_comm[N_DAEMONS] = {
    "node",    "mariadbd", "systemd-journal", "sshd",	      "containerd", "dockerd",
    "kubelet", "nginx",	   "postgres",	      "redis-server", "python3",    "java"};
static const char *const short_comm[] = {
    "bash",	  "bash",  "bash", "cc1",  "cc1", "awk",  "awk", "cat",	    "cat", "sed",
    "pkg-config", "sleep", "as",   "grep", "cut", "make", "ld",	 "python3", "git", "sh"};
static const char *const thread_comm[] = {"gmain",	     "gdbus",	   "worker",
					  "libuv-worker",    "node",	   "ib_pg_flush_co",
					  "tokio-runtime-w", "GC Thread#0"};
#define N_SHORT_COMM  (sizeof(short_comm) / sizeof(short_comm[0]))
#define N_THREAD_COMM (sizeof(thread_comm) / sizeof(thread_comm[0]))

struct gmap {
	uint64_t addr, len;
	bool anon;
};

struct gproc {
	bool live, seen, daemon;
	uint32_t pid, uid;
	uint64_t start_ns, cgroup_id, base_vm;
	const char *comm;
	uint64_t budget; /* calls left before exit (short-lived) */
	uint64_t next_addr, brk_start, heap, heap_base;
	bool heap_known, fresh_exec;
	struct gmap *m;
	size_t n, cap;
	uint64_t mapped, anon_mapped; /* sum of the live mappings */
};

struct fleetgen {
	uint64_t rng, seq, t_ns, epoch_ns, boot_ns; /* boot_ns: wall time of boot */
	double rate, burst_mean, mult;
	uint64_t window; /* the burst window mult was drawn for */
	uint32_t last_pid;
	unsigned int host;
	struct gproc d[N_DAEMONS], s[N_SLOTS];
	struct fleetgen_totals tot;
};

static uint64_t rnd(struct fleetgen *g)
{
	/* splitmix64: any seed, including 0 */
	uint64_t z = (g->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t below(struct fleetgen *g, uint32_t n)
{
	return (uint32_t)(rnd(g) % n);
}

static double unit(struct fleetgen *g)
{
	return (double)(rnd(g) >> 11) / (double)(1ull << 53);
}

/* x in [0, 1] through a quantile table, linear between its points */
static double quantile(const double (*q)[2], size_t n, double x)
{
	for (size_t i = 1; i < n; i++)
		if (x <= q[i][0])
			return q[i - 1][1] + (q[i][1] - q[i - 1][1]) * (x - q[i - 1][0]) /
						 (q[i][0] - q[i - 1][0]);
	return q[n - 1][1];
}
#define QUANTILE(t, x) quantile(t, sizeof(t) / sizeof(t[0]), x)

/* a page-aligned length inside a bucket drawn by share */
static uint64_t draw_len(struct fleetgen *g, const struct bucket *b, size_t n)
{
	uint32_t total = 0, x, lo = 0;

	for (size_t i = 0; i < n; i++)
		total += b[i].per10k;
	x = below(g, total);
	for (size_t i = 0; i < n; i++) {
		if (x < b[i].per10k) {
			uint64_t pages_lo = lo / 4, pages_hi = b[i].kib / 4;

			return (pages_lo + 1 + below(g, (uint32_t)(pages_hi - pages_lo))) << 12;
		}
		x -= b[i].per10k;
		lo = b[i].kib;
	}
	return 4096;
}
#define DRAW_LEN(g, t) draw_len(g, t, sizeof(t) / sizeof(t[0]))

static void proc_begin(struct fleetgen *g, struct gproc *p, bool daemon, const char *comm)
{
	p->live = true;
	p->seen = false;
	p->daemon = daemon;
	p->comm = comm;
	p->n = 0;
	p->mapped = p->anon_mapped = 0;
	p->heap = p->heap_base = 0;
	p->heap_known = false;
	p->fresh_exec = false;
	p->uid = below(g, 5) ? 0 : 1000;
	p->cgroup_id = 2000 + below(g, 40);
	p->next_addr = 0x7f0000000000ull + ((uint64_t)below(g, 1u << 24) << 16);
	p->brk_start = 0x550000000000ull + ((uint64_t)below(g, 1u << 24) << 12);
	p->base_vm = daemon ? (64ull + below(g, 2048)) << 20 : (2ull + below(g, 16)) << 20;
}

static uint32_t new_pid(struct fleetgen *g)
{
	g->last_pid += 1 + below(g, 3);
	if (g->last_pid >= 4194304)
		g->last_pid = 300 + below(g, 100);
	return g->last_pid;
}

static double burst_mean(void)
{
	double sum = 0;
	int n = 100000;

	for (int i = 0; i < n; i++)
		sum += QUANTILE(burst_q, (i + 0.5) / n);
	return sum / n;
}

struct fleetgen *fleetgen_new(uint64_t seed, unsigned int host, uint64_t epoch_ns, double rate_eps)
{
	struct fleetgen *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->rng = seed * 0x100000001b3ull ^ (host + 1) * 0x9e3779b97f4a7c15ull;
	g->host = host;
	g->epoch_ns = g->t_ns = epoch_ns;
	g->rate = rate_eps > 0 ? rate_eps : 1;
	g->burst_mean = burst_mean();
	g->window = UINT64_MAX;
	g->boot_ns = epoch_ns - (1 + (uint64_t)below(g, 30 * 86400)) * 1000000000ull;
	g->last_pid = 1000 + below(g, 100000);
	g->tot.hash = 0xcbf29ce484222325ull;
	for (unsigned int i = 0; i < N_DAEMONS; i++) {
		struct gproc *p = &g->d[i];

		proc_begin(g, p, true, daemon_comm[i]);
		p->pid = 200 + i * 37 + below(g, 30);
		p->start_ns = (1 + (uint64_t)below(g, 600)) * 1000000000ull + below(g, 1000000000);
	}
	/* the first gap */
	g->t_ns += 1;
	return g;
}

void fleetgen_free(struct fleetgen *g)
{
	if (!g)
		return;
	for (unsigned int i = 0; i < N_DAEMONS; i++)
		free(g->d[i].m);
	for (unsigned int i = 0; i < N_SLOTS; i++)
		free(g->s[i].m);
	free(g);
}

uint64_t fleetgen_next_ts(const struct fleetgen *g)
{
	return g->t_ns;
}

/* The clock after this record: exponential gaps at rate x the window's
 * burst multiplier; a window drawn at 0 is skipped. */
static void advance(struct fleetgen *g)
{
	for (;;) {
		uint64_t w = (g->t_ns - g->epoch_ns) / BURST_WINDOW_NS, gap, end;
		double u;

		if (w != g->window) {
			g->window = w;
			g->mult = QUANTILE(burst_q, unit(g)) / g->burst_mean;
		}
		end = g->epoch_ns + (w + 1) * BURST_WINDOW_NS;
		if (g->mult < 0.01) {
			g->t_ns = end;
			continue;
		}
		u = unit(g);
		gap = (uint64_t)(-log(1.0 - u) / (g->rate * g->mult) * 1e9) + 1;
		if (g->t_ns + gap < end) {
			g->t_ns += gap;
			return;
		}
		g->t_ns = end; /* memoryless: draw again in the next window */
	}
}

static void map_add(struct gproc *p, uint64_t addr, uint64_t len, bool anon)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct gmap *m = realloc(p->m, cap * sizeof(*m));

		if (!m)
			abort(); /* a bench tool: no memory is fatal */
		p->m = m;
		p->cap = cap;
	}
	p->m[p->n++] = (struct gmap){addr, len, anon};
	p->mapped += len;
	if (anon)
		p->anon_mapped += len;
}

static struct gmap map_take(struct gproc *p, size_t i)
{
	struct gmap m = p->m[i];

	p->m[i] = p->m[--p->n];
	p->mapped -= m.len;
	if (m.anon)
		p->anon_mapped -= m.len;
	return m;
}

/* acct's mapped_bytes of p: its mappings + heap grown past the first brk
 * seen (model/acct.c, acct_mapped_bytes) */
static uint64_t acct_mapped(const struct gproc *p)
{
	return p->mapped + (p->heap_known ? p->heap - p->heap_base : 0);
}

static void do_mmap(struct fleetgen *g, struct gproc *p, struct memprobe_record *r)
{
	bool anon = below(g, 10000) < MIX_ANON_PER10K;
	uint32_t x;

	r->call = MP_CALL_MMAP;
	r->len = anon ? DRAW_LEN(g, anon_len) : DRAW_LEN(g, file_len);
	x = below(g, 1000);
	if (anon) {
		r->prot = x < 840 ? 3 : 0;
		r->mflags = r->prot ? 0x22 : 0x4022; /* PRIVATE|ANONYMOUS (|NORESERVE) */
	} else {
		r->prot = x < 710 ? 1 : x < 855 ? 3 : 5;
		r->mflags = 0x802; /* PRIVATE|DENYWRITE, as ld.so maps libraries */
		r->fd = 3 + (int32_t)below(g, 8);
		r->offset = (uint64_t)below(g, 64) << 12;
		r->file_dev = 0x801 + below(g, 2);
		r->file_ino = 130000 + (g->host * 7919 + below(g, 400)) % 500000;
	}
	if (below(g, 100000) < MIX_FAILED_PER100K) {
		r->len = 1ull << 40; /* more than the machine has: -ENOMEM */
		r->ret = -12;
		r->file_dev = 0;
		r->file_ino = 0;
		g->tot.failed++;
		return;
	}
	p->next_addr -= r->len;
	r->ret = (int64_t)p->next_addr;
	map_add(p, p->next_addr, r->len, anon);
}

static void do_munmap(struct fleetgen *g, struct gproc *p, struct memprobe_record *r)
{
	struct gmap m = map_take(p, below(g, (uint32_t)p->n));

	r->call = MP_CALL_MUNMAP;
	r->addr = m.addr;
	r->len = m.len;
	r->ret = 0;
}

/* grow an anonymous mapping, moved (MREMAP_MAYMOVE): 0 when there is none */
static int do_mremap(struct fleetgen *g, struct gproc *p, struct memprobe_record *r)
{
	size_t i, k = below(g, (uint32_t)p->n);
	struct gmap m;
	uint64_t len;

	for (i = 0; i < p->n && !p->m[(k + i) % p->n].anon; i++)
		;
	if (i == p->n)
		return 0;
	m = map_take(p, (k + i) % p->n);
	len = DRAW_LEN(g, mremap_len);
	if (len <= m.len)
		len = m.len * 2;
	r->call = MP_CALL_MREMAP;
	r->addr = m.addr;
	r->len = m.len;
	r->new_len = len;
	r->mflags = 1; /* MREMAP_MAYMOVE */
	p->next_addr -= len;
	r->ret = (int64_t)p->next_addr;
	map_add(p, p->next_addr, len, true);
	return 1;
}

static void do_brk(struct fleetgen *g, struct gproc *p, struct memprobe_record *r)
{
	uint64_t step = 33ull << 12; /* glibc's default 132 KiB top pad */

	r->call = MP_CALL_BRK;
	r->new_addr = p->brk_start;
	if (p->fresh_exec || below(g, 3) < MIX_BRK_QUERY_PER3) {
		r->addr = 0; /* a query */
	} else {
		if (p->heap >= step && below(g, 5) == 0)
			p->heap -= step;
		else
			p->heap += step * (1 + (below(g, 8) == 0 ? below(g, 16) : 0));
		r->addr = p->brk_start + p->heap;
	}
	r->ret = (int64_t)(p->brk_start + p->heap);
	r->len = p->heap;
	if (!p->heap_known) {
		p->heap_known = true;
		p->heap_base = p->heap;
	} else if (p->heap < p->heap_base) {
		p->heap_base = p->heap;
	}
}

static void call_of(struct fleetgen *g, struct gproc *p, struct memprobe_record *r)
{
	uint32_t x = below(g, 10000);

	if (p->fresh_exec || (x >= MIX_MMAP && x < MIX_MMAP + MIX_BRK)) {
		do_brk(g, p, r);
		p->fresh_exec = false;
	} else if (x >= MIX_MMAP + MIX_BRK && x < MIX_MMAP + MIX_BRK + MIX_MUNMAP && p->n) {
		do_munmap(g, p, r);
	} else if (x >= MIX_MMAP + MIX_BRK + MIX_MUNMAP && p->n && do_mremap(g, p, r)) {
		;
	} else if (p->daemon && p->n >= DAEMON_MAPS_MAX) {
		do_munmap(g, p, r); /* a long-lived process holds what it needs */
	} else {
		do_mmap(g, p, r);
	}
}

static void hash_rec(struct fleetgen *g, const struct memprobe_record *r)
{
	const unsigned char *b = (const unsigned char *)r;

	for (size_t i = 0; i < sizeof(*r); i++)
		g->tot.hash = (g->tot.hash ^ b[i]) * 0x100000001b3ull;
}

void fleetgen_next(struct fleetgen *g, struct memprobe_record *r)
{
	struct gproc *p;
	bool daemon = below(g, 1000) < DAEMON_SHARE_PER1000;

	memset(r, 0, sizeof(*r));
	r->seq = g->seq++;
	r->ts_ns = g->t_ns;
	r->fd = -1;
	if (daemon) {
		double x = unit(g) * 3.103211, c = 0; /* 1/rank weights: sum of 1/1..1/12 */
		unsigned int i = 0;

		while (i < N_DAEMONS - 1 && (c += 1.0 / (i + 1)) < x)
			i++;
		p = &g->d[i];
	} else {
		p = &g->s[below(g, N_SLOTS)];
	}
	if (!p->live) { /* a new process: exec'd, or a fork that exits without exec */
		bool fork = below(g, 1000) < MIX_FORK_PER1000;

		proc_begin(g, p, false, fork ? "bash" : short_comm[below(g, N_SHORT_COMM)]);
		p->pid = new_pid(g);
		p->start_ns = g->t_ns - g->boot_ns - below(g, 200000);
		p->budget = fork ? below(g, 6) : (uint64_t)QUANTILE(budget_q, unit(g));
		if (!fork) {
			r->call = MP_CALL_EXEC;
			p->fresh_exec = true; /* ld.so asks the break first */
		}
	}
	r->pid = p->pid;
	r->tid = p->pid;
	r->uid = p->uid;
	r->start_ns = p->start_ns;
	strncpy(r->comm, p->comm, sizeof(r->comm) - 1);
	strncpy(r->thread_comm, p->comm, sizeof(r->thread_comm) - 1);
	if (!p->seen) {
		p->seen = true;
		g->tot.procs++;
	}
	if (r->call == MP_CALL_EXEC) {
		r->total_vm_bytes = p->base_vm;
	} else if (!p->daemon && p->budget == 0) {
		r->call = MP_CALL_EXIT;
		p->live = false;
		g->tot.exited++;
	} else {
		if (!p->daemon)
			p->budget--;
		if (below(g, 1000) < MIX_THREAD_PER1000) {
			uint32_t t = below(g, N_THREAD_COMM);

			r->tid = p->pid + 1 + t;
			memset(r->thread_comm, 0, sizeof(r->thread_comm));
			strncpy(r->thread_comm, thread_comm[t], sizeof(r->thread_comm) - 1);
		}
		call_of(g, p, r);
	}
	if (r->call != MP_CALL_EXIT) {
		r->total_vm_bytes = p->base_vm + p->mapped + p->heap;
		r->rss_anon_bytes = (p->anon_mapped / 2 + p->heap + (p->base_vm >> 3)) & ~4095ull;
		r->rss_file_bytes =
		    ((p->mapped - p->anon_mapped) / 3 + (p->base_vm >> 4)) & ~4095ull;
		r->cgroup_id = p->cgroup_id;
	}
	g->tot.calls[r->call & 7]++;
	hash_rec(g, r);
	advance(g);
}

void fleetgen_totals(const struct fleetgen *g, struct fleetgen_totals *t)
{
	*t = g->tot;
	t->live_mapped = 0;
	for (unsigned int i = 0; i < N_DAEMONS; i++)
		if (g->d[i].seen)
			t->live_mapped += acct_mapped(&g->d[i]);
	for (unsigned int i = 0; i < N_SLOTS; i++)
		if (g->s[i].live && g->s[i].seen)
			t->live_mapped += acct_mapped(&g->s[i]);
}
