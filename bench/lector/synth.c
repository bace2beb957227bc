/*
 * synth.c - synthetic records that look like a real capture (synth.h).
 *
 * Process names are the leader comms a desktop or server shows in
 * /proc/PID/comm (15 bytes at most, spaces and slashes included), thread
 * names those of their worker threads; about one call in three comes from a
 * thread whose name differs from its leader's.  Calls per process follow a
 * 1/rank law (a few busy processes, a long tail), as captures show.
 */
#include <stdlib.h>
#include <string.h>

#include "synth.h"

static const char *const leader_names[] = {
    "systemd",	       "systemd-journal", "systemd-udevd",   "systemd-logind", "dbus-daemon",
    "NetworkManager",  "polkitd",	  "rsyslogd",	     "cron",	       "sshd",
    "bash",	       "zsh",		  "sh",		     "tmux: server",   "vim",
    "python3",	       "node",		  "java",	     "mariadbd",       "postgres",
    "nginx",	       "php-fpm8.2",	  "redis-server",    "memcached",      "containerd",
    "dockerd",	       "containerd-shim", "runc",	     "kubelet",	       "gnome-shell",
    "Xwayland",	       "pipewire",	  "wireplumber",     "firefox-esr",    "Web Content",
    "Isolated Web Co", "WebExtensions",	  "chrome",	     "code",	       "gopls",
    "clangd",	       "cc1",		  "ld",		     "make",	       "gcc",
    "git",	       "cargo",		  "rustc",	     "go",	       "sed",
    "grep",	       "awk",		  "cat",	     "ls",	       "perl",
    "ruby",	       "apt",		  "dpkg",	     "snapd",	       "lector",
};
static const char *const thread_names[] = {
    "gmain",	       "gdbus",		  "pool-spawner",    "worker",	       "Chrome_IOThread",
    "ThreadPoolForeg", "GC Thread#0",	  "C2 CompilerThre", "tokio-runtime-w", "ib_pg_flush_co",
    "DOM Worker",      "JS Watchdog",	  "Timer",	     "IPC I/O Child",  "libuv-worker",
    "rayon-worker",    "jemalloc_bg_thd", "dconf worker",    "pw-data-loop",   "StreamTrans #1",
};
#define N_LEADERS (sizeof(leader_names) / sizeof(leader_names[0]))
#define N_THREADS (sizeof(thread_names) / sizeof(thread_names[0]))

struct synth_proc {
	uint32_t pid, uid, n_threads;
	uint64_t start_ns, cgroup_id, next_addr, total_vm_bytes, rss_anon_bytes, brk;
	uint64_t last_addr, last_len; /* the newest mapping, unmapped next */
	const char *comm;
	const char *thread[4];
};

struct synth {
	uint64_t rng, seq, ts_ns;
	unsigned int n;
	double *cum; /* cumulative 1/rank weights */
	struct synth_proc *p;
};

static uint64_t rnd(struct synth *s)
{
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return s->rng;
}

static unsigned int rnd_below(struct synth *s, unsigned int n)
{
	return (unsigned int)(rnd(s) % n);
}

struct synth *synth_new(unsigned int procs, uint64_t seed)
{
	static const uint32_t uids[] = {0, 0, 1000, 1000, 1000, 33, 999, 106};
	struct synth *s = calloc(1, sizeof(*s));
	double sum = 0;

	if (!s || procs == 0 || procs > 100000)
		return free(s), NULL;
	s->rng = seed | 1;
	s->n = procs;
	s->ts_ns = 1796601600000000000ull; /* 2026-12-07 00:00 UTC */
	s->cum = calloc(procs, sizeof(*s->cum));
	s->p = calloc(procs, sizeof(*s->p));
	if (!s->cum || !s->p)
		return synth_free(s), NULL;
	for (unsigned int i = 0; i < procs; i++) {
		struct synth_proc *p = &s->p[i];

		p->pid = 300 + rnd_below(s, 4194000);
		p->uid = uids[rnd_below(s, sizeof(uids) / sizeof(uids[0]))];
		p->start_ns = 1000000000ull * (1 + rnd_below(s, 86400)) + rnd_below(s, 1000000000);
		p->comm = leader_names[rnd_below(s, N_LEADERS)];
		p->n_threads = 1 + (rnd_below(s, 3) ? 0 : 1 + rnd_below(s, 3));
		p->thread[0] = p->comm;
		for (unsigned int t = 1; t < p->n_threads; t++)
			p->thread[t] = thread_names[rnd_below(s, N_THREADS)];
		p->cgroup_id = 4000 + rnd_below(s, 60);
		p->next_addr = 0x7f0000000000ull + ((uint64_t)rnd_below(s, 1 << 20) << 20);
		p->total_vm_bytes = (64ull + rnd_below(s, 4096)) << 20;
		p->rss_anon_bytes = p->total_vm_bytes / 8;
		p->brk = 0x55d000000000ull + ((uint64_t)rnd_below(s, 1 << 16) << 12);
		sum += 1.0 / (i + 1);
		s->cum[i] = sum;
	}
	for (unsigned int i = 0; i < procs; i++)
		s->cum[i] /= sum;
	return s;
}

void synth_free(struct synth *s)
{
	if (!s)
		return;
	free(s->cum);
	free(s->p);
	free(s);
}

static struct synth_proc *pick(struct synth *s)
{
	double x = (double)(rnd(s) >> 11) / (double)(1ull << 53);
	unsigned int lo = 0, hi = s->n - 1;

	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;

		if (s->cum[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return &s->p[lo];
}

/* A successful mmap: anonymous (most), or a file's pages. */
static void synth_mmap(struct synth *s, struct synth_proc *p, struct memprobe_record *r)
{
	bool file = rnd_below(s, 4) == 0;

	r->call = MP_CALL_MMAP;
	r->len = file ? (uint64_t)(1 + rnd_below(s, 512)) << 12 : (uint64_t)(1 + rnd_below(s, 64)) << 16;
	r->addr = 0;
	r->prot = file ? (rnd_below(s, 2) ? 1 : 5) : 3;
	r->mflags = file ? 0x02 : 0x22; /* MAP_PRIVATE (| MAP_ANONYMOUS) */
	r->fd = file ? 3 + (int32_t)rnd_below(s, 40) : -1;
	if (file) {
		r->offset = (uint64_t)rnd_below(s, 64) << 12;
		r->file_dev = 0x00800001 + rnd_below(s, 3);
		r->file_ino = 100000 + rnd_below(s, 500000);
	}
	p->next_addr -= r->len;
	r->ret = (int64_t)p->next_addr;
	p->last_addr = p->next_addr;
	p->last_len = r->len;
	p->total_vm_bytes += r->len;
}

void synth_next(struct synth *s, uint64_t session, struct qent *e)
{
	struct memprobe_record *r = &e->rec;
	struct synth_proc *p = pick(s);
	unsigned int t = rnd_below(s, p->n_threads), kind = rnd_below(s, 100);

	memset(e, 0, sizeof(*e));
	e->session = session;
	r->seq = s->seq++;
	s->ts_ns += 200 + rnd_below(s, 3000);
	r->ts_ns = s->ts_ns;
	r->pid = p->pid;
	r->tid = t ? p->pid + t : p->pid;
	r->uid = p->uid;
	r->start_ns = p->start_ns;
	strncpy(r->comm, p->comm, sizeof(r->comm) - 1);
	strncpy(r->thread_comm, p->thread[t], sizeof(r->thread_comm) - 1);
	e->comm_len = strlen(r->comm);
	e->thread_comm_len = strlen(r->thread_comm);
	r->fd = -1;
	if (kind < 46 || !p->last_len) {
		synth_mmap(s, p, r);
	} else if (kind < 90) {
		r->call = MP_CALL_MUNMAP;
		r->addr = p->last_addr;
		r->len = p->last_len;
		p->total_vm_bytes -= p->last_len;
		p->last_len = 0;
	} else if (kind < 97) {
		r->call = MP_CALL_BRK;
		r->addr = p->brk + ((uint64_t)(1 + rnd_below(s, 32)) << 12);
		r->ret = (int64_t)r->addr;
		p->total_vm_bytes += r->addr - p->brk;
		p->brk = r->addr;
	} else if (kind < 99) {
		r->call = MP_CALL_MREMAP;
		r->addr = p->last_addr;
		r->len = p->last_len;
		r->new_len = p->last_len * 2;
		r->new_addr = p->last_addr - p->last_len * 2;
		r->mflags = 1; /* MREMAP_MAYMOVE */
		r->ret = (int64_t)r->new_addr;
		p->total_vm_bytes += p->last_len;
		p->last_addr = r->new_addr;
		p->last_len = r->new_len;
	} else {
		r->call = MP_CALL_MMAP; /* a failed one: ENOMEM */
		r->len = 1ull << 40;
		r->prot = 3;
		r->mflags = 0x22;
		r->ret = -12;
	}
	r->total_vm_bytes = p->total_vm_bytes;
	r->rss_anon_bytes = p->rss_anon_bytes + ((uint64_t)rnd_below(s, 256) << 12);
	r->rss_file_bytes = 24ull << 20;
	r->rss_shmem_bytes = rnd_below(s, 8) ? 0 : 1ull << 20;
	r->cgroup_id = p->cgroup_id;
}

static void tsv_bytes(FILE *f, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (b[i] == '\t' || b[i] == '\n' || b[i] == '\\')
			fputc('\\', f);
		fputc(b[i], f);
	}
}

/* LOAD DATA reads every field as a string: the ENUM gets its name. */
static const char *const call_names[] = {
    "",
#define CALL_NAME(e, v, n) n,
    MEMPROBE_CALLS(CALL_NAME)
#undef CALL_NAME
};

void synth_tsv(FILE *f, unsigned int host_id, const struct qent *e)
{
	const struct memprobe_record *r = &e->rec;

	fprintf(f, "%u\t%llu\t%llu\t%llu\t%u\t%u\t%u\t%llu\t", host_id,
		(unsigned long long)e->session, (unsigned long long)r->seq,
		(unsigned long long)r->ts_ns, r->pid, r->tid, r->uid,
		(unsigned long long)r->start_ns);
	tsv_bytes(f, r->comm, e->comm_len);
	fputc('\t', f);
	tsv_bytes(f, r->thread_comm, e->thread_comm_len);
	fprintf(f, "\t%s\t%llu\t%llu\t%llu\t%llu\t%llu\t%u\t%u\t%d\t%lld\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%u\t%llu\t%u\n",
		call_names[r->call], (unsigned long long)r->addr, (unsigned long long)r->len,
		(unsigned long long)r->new_addr, (unsigned long long)r->new_len,
		(unsigned long long)r->offset, r->prot, r->mflags, r->fd, (long long)r->ret,
		(unsigned long long)r->total_vm_bytes, (unsigned long long)r->rss_anon_bytes,
		(unsigned long long)r->rss_file_bytes, (unsigned long long)r->rss_shmem_bytes,
		(unsigned long long)r->swap_bytes, (unsigned long long)r->cgroup_id, r->file_dev,
		(unsigned long long)r->file_ino, r->flags);
}
