/*
 * source_bpf.c - the eBPF capture source (bpf/memprobe.bpf.c): loads and
 * attaches the program, consumes its BPF ring buffer into the callback.
 *
 * The ring is read directly (consumer page mapped read-write, producer page
 * and data mapped read-only, as the kernel lays them out) instead of through
 * libbpf's ring_buffer__consume(): libbpf advances the consumer position
 * right after each callback, and source.h promises two things it cannot:
 * a record whose callback refused it stays in the ring, and a record is
 * released (its space given back to the program) only after the caller
 * kept it.  So the consumer position moves every RELEASE_EVERY_RECS records
 * and at the end of a batch, each time after batch_end said so.
 *
 * Wakeups: the program wakes us only past a fill threshold (a quarter of the
 * ring), so a quiet system would never wake us; poll therefore sleeps in
 * slices of POLL_SLICE_MS and looks at the ring after each, which bounds the
 * delay of a lone record (contract: < 50 ms).
 *
 * Environment (for tests and benchmarks):
 *   MEMPROBE_BPF_RING_KIB  ring size when opts->ring_kib is 0 (default 16384)
 *   MEMPROBE_BPF_MODE      where the memory syscalls are caught (the attach
 *                          modes of bpf/memprobe.bpf.c):
 *                            unset  fexit; when it cannot load or attach,
 *                                   tp, then regs (one line on stderr says
 *                                   why and which)
 *                            fexit | tp | regs | pair  that mode or fail
 *                                   (tests, benchmarks: no substitution)
 *   MEMPROBE_BPF_FEXIT_MMAP_FUNC  attach the mmap fexit program to this
 *                          kernel function instead of __x64_sys_mmap
 *                          (tests/bpf: a missing one forces the fallback)
 *   MEMPROBE_BPF_DEBUG     set: print libbpf's messages (verifier log)
 *   MEMPROBE_BPF_MEM_FIELDS 0: leave the ABI v2 memory fields 0 (bench/bpf's
 *                          baseline for their cost)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* program_invocation_short_name */
#endif
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/timex.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "clock.h"
#include "source_impl.h"
#include "testpause.h"
#include "memprobe.skel.h"

#define POLL_SLICE_MS        10
#define DEFAULT_RING_KIB     16384 /* ~110k records: ~1 s of a busy system's
					 * calls while the reader is starved */
#define RELEASE_EVERY_RECS   1024  /* ~150 KiB: under 1% of the default ring */
#define MAX_BATCH_RECS       16384 /* return to the caller now and then in a flood */

/* Where the memory syscalls are caught (bpf/memprobe.bpf.c's top comment). */
enum bpf_attach {
	ATTACH_FEXIT, /* a trampoline on each memory syscall */
	ATTACH_TP,    /* syscalls:sys_exit_<call>, each memory syscall */
	ATTACH_REGS,  /* tp_btf/sys_exit, every syscall of the system */
	ATTACH_PAIR,  /* tp_btf/sys_enter + sys_exit through a hash map */
	ATTACH_MODES
};

static const char *const attach_names[ATTACH_MODES] = {
	[ATTACH_FEXIT] = "fexit",
	[ATTACH_TP] = "tp",
	[ATTACH_REGS] = "regs",
	[ATTACH_PAIR] = "pair",
};

/* What each fallback costs, for the line that announces it. */
static const char *const attach_cost[ATTACH_MODES] = {
	[ATTACH_TP] = "the syscalls:sys_exit_mmap/munmap/mremap/brk tracepoints (tp): the "
		      "program runs for the memory syscalls only, but the kernel's syscall "
		      "tracepoint path taxes every syscall",
	[ATTACH_REGS] = "the sys_exit tracepoint (regs), which runs the program on every "
			"syscall of every process",
};

struct source_bpf {
	struct source base;
	struct memprobe_bpf *skel;
	int epoll_fd;
	size_t page_bytes;
	size_t ring_bytes;      /* data area, a power of two */
	unsigned long *consumer_pos; /* our page, read-write */
	unsigned long *producer_pos; /* kernel's page, read-only */
	const unsigned char *data;   /* mapped twice back to back by the kernel */
	uint64_t session_id;
	uint64_t delivered;
	unsigned long released_pos; /* consumer position last stored */
	uint64_t released;	     /* records before it, since open */
	int ncpus;
	uint64_t skipped;	 /* recursion_misses summed, refreshed by bpf_poll */
	uint64_t skipped_at_ms; /* when, CLOCK_MONOTONIC */
	enum bpf_attach attach; /* the mode in use */
};

static bool debug_enabled;
/* libbpf's first warning of a load, e.g. "libbpf: prog 'mp_mmap': failed to
 * find kernel BTF type ID of '__x64_sys_mmap': -3" (what failed; the later
 * ones say the object failed): quoted when fexit falls back. */
static char libbpf_first_warn[256];

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN && !libbpf_first_warn[0]) {
		va_list copy;
		size_t n;

		va_copy(copy, ap);
		vsnprintf(libbpf_first_warn, sizeof(libbpf_first_warn), fmt, copy);
		va_end(copy);
		n = strlen(libbpf_first_warn);
		while (n && libbpf_first_warn[n - 1] == '\n')
			libbpf_first_warn[--n] = 0;
	}
	if (!debug_enabled)
		return 0; /* failures are summarised in our own error sentence */
	return vfprintf(stderr, fmt, ap);
}

static size_t ring_bytes_wanted(const struct source_opts *opts)
{
	const char *env = getenv("MEMPROBE_BPF_RING_KIB");
	size_t kib = opts->ring_kib, bytes = 4096;

	if (!kib && env)
		kib = strtoul(env, NULL, 10);
	if (!kib)
		kib = DEFAULT_RING_KIB;
	while (bytes < kib * 1024 && bytes < (1UL << 30))
		bytes <<= 1;
	return bytes;
}

/* CLOCK_TAI - CLOCK_REALTIME, exactly (whole seconds, from the kernel). */
static uint64_t tai_offset_ns(void)
{
	struct timex tx = { .modes = 0 };

	if (adjtimex(&tx) < 0)
		return 0;
	return (uint64_t)tx.tai * 1000000000ULL;
}

/* oom:mark_victim passes the victim's task (6.1 stable, current kernels);
 * older kernels pass only its pid, which the program cannot use: there the
 * program is not loaded and no oom_kill record is made. */
static bool oom_tracepoint_has_task(void)
{
	struct btf *btf = btf__load_vmlinux_btf();
	const struct btf_type *t = NULL;
	int id = btf ? btf__find_by_name_kind(btf, "btf_trace_mark_victim", BTF_KIND_TYPEDEF) : -1;
	bool ok = false;

	if (id > 0)
		t = btf__type_by_id(btf, btf__type_by_id(btf, id)->type); /* pointer */
	if (t && btf_is_ptr(t))
		t = btf__type_by_id(btf, t->type); /* the prototype */
	if (t && btf_is_func_proto(t) && btf_vlen(t) >= 2)
		ok = btf_is_ptr(btf__type_by_id(btf, btf_params(t)[1].type));
	btf__free(btf);
	return ok;
}

/* MEMPROBE_BPF_MODE: 0, or -EINVAL with a sentence in err.  *fallback: fexit
 * may give way to tp, then regs (the variable is unset). */
static int bpf_attach_wanted(enum bpf_attach *mode, bool *fallback, char *err, size_t errlen)
{
	const char *env = getenv("MEMPROBE_BPF_MODE");
	size_t i;

	*mode = ATTACH_FEXIT;
	*fallback = !env || !*env;
	if (*fallback)
		return 0;
	for (i = 0; i < ATTACH_MODES; i++)
		if (!strcmp(env, attach_names[i])) {
			*mode = i;
			return 0;
		}
	snprintf(err, errlen, "MEMPROBE_BPF_MODE=%s: use fexit, tp, regs or pair (or leave it unset)",
		 env);
	return -EINVAL;
}

static int bpf_configure(struct source_bpf *sb, const struct source_opts *opts)
{
	const char *mem = getenv("MEMPROBE_BPF_MEM_FIELDS");
	const char *mmap_func = getenv("MEMPROBE_BPF_FEXIT_MMAP_FUNC");
	struct memprobe_bpf *skel = sb->skel;
	bool fexit = sb->attach == ATTACH_FEXIT, tp = sb->attach == ATTACH_TP;
	bool pair = sb->attach == ATTACH_PAIR;
	int rc;

	sb->ring_bytes = ring_bytes_wanted(opts);
	skel->rodata->tai_offset_ns = tai_offset_ns();
	skel->rodata->wakeup_bytes = sb->ring_bytes / 4;
	skel->rodata->page_shift = __builtin_ctzl(sb->page_bytes);
	skel->rodata->nr_cpus = libbpf_num_possible_cpus() > 0 ? libbpf_num_possible_cpus() : 1;
	skel->rodata->mem_fields = !(mem && !strcmp(mem, "0"));
	bpf_program__set_autoload(skel->progs.mp_mmap, fexit);
	bpf_program__set_autoload(skel->progs.mp_munmap, fexit);
	bpf_program__set_autoload(skel->progs.mp_mremap, fexit);
	bpf_program__set_autoload(skel->progs.mp_brk, fexit);
	if (fexit && mmap_func && *mmap_func &&
	    (rc = bpf_program__set_attach_target(skel->progs.mp_mmap, 0, mmap_func)) < 0)
		return rc;
	bpf_program__set_autoload(skel->progs.mp_tp_mmap, tp);
	bpf_program__set_autoload(skel->progs.mp_tp_munmap, tp);
	bpf_program__set_autoload(skel->progs.mp_tp_mremap, tp);
	bpf_program__set_autoload(skel->progs.mp_tp_brk, tp);
	bpf_program__set_autoload(skel->progs.mp_exit_regs, sb->attach == ATTACH_REGS);
	bpf_program__set_autoload(skel->progs.mp_enter_pair, pair);
	bpf_program__set_autoload(skel->progs.mp_exit_pair, pair);
	bpf_program__set_autoload(skel->progs.mp_oom_kill, oom_tracepoint_has_task());
	return bpf_map__set_max_entries(skel->maps.events, sb->ring_bytes);
}

static int bpf_map_ring(struct source_bpf *sb)
{
	int fd = bpf_map__fd(sb->skel->maps.events);
	struct epoll_event ev = { .events = EPOLLIN };
	void *p;

	p = mmap(NULL, sb->page_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	sb->consumer_pos = p;
	sb->released_pos = *sb->consumer_pos;
	p = mmap(NULL, sb->page_bytes + 2 * sb->ring_bytes, PROT_READ, MAP_SHARED, fd,
		 sb->page_bytes);
	if (p == MAP_FAILED)
		return -errno;
	sb->producer_pos = p;
	sb->data = (const unsigned char *)p + sb->page_bytes;
	sb->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (sb->epoll_fd < 0 || epoll_ctl(sb->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	return 0;
}

static int bpf_load_error(int rc, char *err, size_t errlen)
{
	if (rc == -EPERM || rc == -EACCES)
		snprintf(err, errlen,
			 "loading the eBPF program was refused (%s): run as root (or with "
			 "CAP_BPF and CAP_PERFMON); under kernel lockdown=confidentiality eBPF "
			 "cannot read kernel memory: use the stap module source instead",
			 strerror(-rc));
	else
		snprintf(err, errlen,
			 "the kernel rejected the eBPF program (%s): rerun with "
			 "MEMPROBE_BPF_DEBUG=1 to see the verifier log, and report it",
			 strerror(-rc));
	return rc;
}

/* What a failed fexit or tp load or attach means, from the error libbpf
 * returned: -ESRCH when the function is not in the kernel's BTF
 * (libbpf_find_attach_btf_id), -ENOENT when tracefs has no such
 * tracepoint; from the kernel -ENOTSUPP (524, kernel-internal) or
 * -EOPNOTSUPP when it cannot make a trampoline, -EPERM when it refuses the
 * program before verifying it (what this project's 6.18 test host, locked
 * down from its configuration, answers root for any fentry/fexit program,
 * with no log saying why; its bpftool feature probe says "tracing is NOT
 * available" while tp_btf programs load). */
static const char *attach_failure(int rc)
{
	switch (-rc) {
	case ESRCH:
		return "ESRCH: the function is not in the kernel's BTF";
	case ENOENT:
		return "ENOENT: the function or tracepoint is missing";
	case 524: /* ENOTSUPP */
	case EOPNOTSUPP:
		return "EOPNOTSUPP: this kernel cannot make BPF trampolines";
	case EPERM:
		return "EPERM: the kernel refused it";
	default:
		return strerror(-rc);
	}
}

/* The tp programs are classic tracepoints: libbpf reads each one's id
 * from tracefs (/sys/kernel/tracing, or /sys/kernel/debug/tracing when that
 * exists).  systemd mounts tracefs at boot; a system without it (an init
 * that does not, a container) has the empty directory only, and tp would
 * fail with ENOENT and fall back to the regs programs, which run on every
 * system call.  So, as root, mount it where libbpf looks, and say so once;
 * if that is refused, the attach below fails and says why, as before. */
static void tracefs_ensure(void)
{
	if (!access("/sys/kernel/debug/tracing", F_OK) ||
	    !access("/sys/kernel/tracing/events", F_OK) || access("/sys/kernel/tracing", F_OK))
		return;
	if (!mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL))
		fprintf(stderr, "memprobe: tracefs was not mounted: mounted it at "
				"/sys/kernel/tracing (the tp programs find their tracepoints "
				"there)\n");
}

/* Open, configure, load and attach the object for sb->attach.  On failure
 * the object stays in sb->skel (bpf_close or the fallback frees it) and
 * *stage says which step failed. */
static int bpf_load_attach(struct source_bpf *sb, const struct source_opts *opts,
			   const char **stage, char *err, size_t errlen)
{
	bool own_mode = sb->attach == ATTACH_FEXIT || sb->attach == ATTACH_TP;
	int rc;

	*stage = "opening";
	libbpf_first_warn[0] = 0;
	sb->skel = memprobe_bpf__open();
	if (!sb->skel) {
		rc = -errno;
		snprintf(err, errlen, "opening the eBPF object failed (%s)", strerror(-rc));
		return rc;
	}
	*stage = "configuring";
	rc = bpf_configure(sb, opts);
	if (rc < 0) {
		snprintf(err, errlen,
			 "configuring the eBPF object failed (%s): the ring size %zu bytes must be "
			 "a power of two KiB; MEMPROBE_BPF_FEXIT_MMAP_FUNC a kernel function",
			 attach_failure(rc), sb->ring_bytes);
		return rc;
	}
	*stage = "loading";
	rc = memprobe_bpf__load(sb->skel);
	if (rc < 0 && own_mode && (geteuid() == 0 || (rc != -EPERM && rc != -EACCES))) {
		snprintf(err, errlen,
			 "loading the %s programs failed (%s): leave MEMPROBE_BPF_MODE unset to "
			 "fall back, or rerun with MEMPROBE_BPF_DEBUG=1 to see libbpf's and the "
			 "verifier's log",
			 attach_names[sb->attach], attach_failure(rc));
		return rc;
	}
	if (rc < 0)
		return bpf_load_error(rc, err, errlen);
	*stage = "attaching";
	if (sb->attach == ATTACH_TP)
		tracefs_ensure();
	rc = memprobe_bpf__attach(sb->skel);
	if (rc < 0)
		snprintf(err, errlen,
			 "attaching the eBPF programs (%s) failed (%s): the kernel needs BTF raw "
			 "tracepoints (Linux 5.5+)%s; or use the stap module source",
			 attach_names[sb->attach], attach_failure(rc),
			 sb->attach == ATTACH_FEXIT ? " and BPF trampolines" :
			 sb->attach == ATTACH_TP ? " and tracefs" : "");
	return rc;
}

/* The default: fexit, else tp, else regs.  Each failure is kept in why; one
 * line says them and what capture falls back to, here where it is decided
 * (the caller sees a working source). */
static int bpf_start_fallback(struct source_bpf *sb, const struct source_opts *opts, char *err,
			      size_t errlen)
{
	static const enum bpf_attach chain[] = { ATTACH_FEXIT, ATTACH_TP, ATTACH_REGS };
	char why[768] = "";
	const char *stage;
	size_t i, used;
	int rc = -EINVAL;

	for (i = 0; i < sizeof(chain) / sizeof(chain[0]); i++) {
		sb->attach = chain[i];
		rc = bpf_load_attach(sb, opts, &stage, err, errlen);
		if (rc == 0 || chain[i] == ATTACH_REGS)
			break;
		used = strlen(why);
		snprintf(why + used, sizeof(why) - used, "%s%s %s failed (%s%s%s%s)",
			 used ? "; " : "", stage, attach_names[chain[i]], attach_failure(rc),
			 libbpf_first_warn[0] ? ", \"" : "", libbpf_first_warn,
			 libbpf_first_warn[0] ? "\"" : "");
		memprobe_bpf__destroy(sb->skel);
		sb->skel = NULL;
	}
	if (rc == 0 && sb->attach != ATTACH_FEXIT)
		fprintf(stderr,
			"%s: eBPF: no fexit on the memory syscalls: %s; falling back to %s\n",
			program_invocation_short_name, why, attach_cost[sb->attach]);
	return rc;
}

static int bpf_start(struct source_bpf *sb, const struct source_opts *opts, char *err,
		     size_t errlen)
{
	const char *stage;
	bool fallback;
	int rc;

	rc = bpf_attach_wanted(&sb->attach, &fallback, err, errlen);
	if (rc < 0)
		return rc;
	if (fallback)
		rc = bpf_start_fallback(sb, opts, err, errlen);
	else
		rc = bpf_load_attach(sb, opts, &stage, err, errlen);
	if (rc < 0)
		return rc;
	rc = bpf_map_ring(sb);
	if (rc < 0)
		snprintf(err, errlen, "mapping the eBPF ring buffer failed (%s)", strerror(-rc));
	return rc;
}

/* Hand the ring up to cons back to the producer once the caller kept what
 * was delivered (source.h); if it could not, the next consume starts again
 * at released_pos.  The store pairs with the kernel's
 * smp_load_acquire(consumer_pos) before it reuses the space.  0 or -errno. */
static int bpf_release(struct source_bpf *sb, unsigned long cons, source_batch_end_cb batch_end,
		       void *ctx)
{
	int rc;

	if (cons == sb->released_pos)
		return 0;
	if (batch_end && (rc = batch_end(ctx)) != 0)
		return rc < 0 ? rc : -EIO;
	testpause_at("kept", sb->released);
	__atomic_store_n(sb->consumer_pos, cons, __ATOMIC_RELEASE);
	sb->released_pos = cons;
	sb->released = sb->delivered;
	testpause_at("released", sb->released);
	return 0;
}

/* Hand every committed record to cb, in ring order; release what was taken. */
static int bpf_consume(struct source_bpf *sb, source_record_cb cb, source_batch_end_cb batch_end,
		       void *ctx)
{
	unsigned long cons = sb->released_pos;
	unsigned long prod = __atomic_load_n(sb->producer_pos, __ATOMIC_ACQUIRE);
	unsigned long mask = sb->ring_bytes - 1;
	int n = 0, rc = 0, since_release = 0;

	while (cons < prod && rc == 0) {
		const __u32 *hdr = (const __u32 *)(sb->data + (cons & mask));
		__u32 len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
		__u32 rec_bytes = len & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);

		if (len & BPF_RINGBUF_BUSY_BIT)
			break; /* reserved, not yet committed: later records wait */
		if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
			if (rec_bytes != sizeof(struct memprobe_record)) {
				rc = -EPROTO;
				break;
			}
			if (cb((const struct memprobe_record *)(hdr + 2), ctx))
				break;
			sb->delivered++;
			n++;
			since_release++;
		}
		cons += (rec_bytes + BPF_RINGBUF_HDR_SZ + 7) & ~7UL;
		if (since_release >= RELEASE_EVERY_RECS) {
			rc = bpf_release(sb, cons, batch_end, ctx);
			since_release = 0;
		}
		if (cons == prod && n < MAX_BATCH_RECS)
			prod = __atomic_load_n(sb->producer_pos, __ATOMIC_ACQUIRE);
	}
	if (rc == 0)
		rc = bpf_release(sb, cons, batch_end, ctx);
	return rc < 0 ? rc : n;
}

/* Program runs the kernel skipped (recursion on one CPU: a tracing program
 * fired inside itself), summed over our loaded programs.  One syscall per
 * program, so bpf_poll refreshes it at most every SKIPPED_REFRESH_MS, not on
 * every return (the capture loop polls thousands of times a second under a
 * flood). */
static uint64_t bpf_recursion_misses(const struct source_bpf *sb)
{
	struct bpf_program *prog;
	uint64_t sum = 0;

	bpf_object__for_each_program(prog, sb->skel->obj) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(prog);

		memset(&info, 0, sizeof(info));
		if (fd >= 0 && bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
			sum += info.recursion_misses;
	}
	return sum;
}

#define SKIPPED_REFRESH_MS 100

static void bpf_refresh_skipped(struct source_bpf *sb)
{
	uint64_t now_ms = mono_ms();

	if (sb->skipped_at_ms && now_ms - sb->skipped_at_ms < SKIPPED_REFRESH_MS)
		return;
	sb->skipped = bpf_recursion_misses(sb);
	sb->skipped_at_ms = now_ms;
}

static int bpf_poll(struct source *s, int timeout_ms, source_record_cb cb,
		    source_batch_end_cb batch_end, void *ctx)
{
	struct source_bpf *sb = (struct source_bpf *)s;
	struct epoll_event ev;
	int n, slice_ms, woke;

	n = bpf_consume(sb, cb, batch_end, ctx);
	while (n == 0 && timeout_ms != 0) {
		slice_ms = timeout_ms < 0 || timeout_ms > POLL_SLICE_MS ? POLL_SLICE_MS : timeout_ms;
		woke = epoll_wait(sb->epoll_fd, &ev, 1, slice_ms);
		if (woke < 0 && errno != EINTR)
			return -errno;
		n = bpf_consume(sb, cb, batch_end, ctx);
		if (woke < 0)
			break; /* EINTR: let the caller look at its signals */
		if (timeout_ms > 0)
			timeout_ms -= slice_ms;
	}
	bpf_refresh_skipped(sb);
	return n;
}

static void bpf_stats(const struct source *s, struct source_stats *st)
{
	const struct source_bpf *sb = (const struct source_bpf *)s;
	__u64 per_cpu[sb->ncpus];
	__u32 zero = 0;
	int i;

	memset(st, 0, sizeof(*st));
	st->name = "bpf";
	st->attach = attach_names[sb->attach];
	st->session_id = sb->session_id;
	st->delivered = sb->delivered;
	st->released = sb->released;
	st->running = true;
	st->seen = __atomic_load_n(&sb->skel->bss->seq_next, __ATOMIC_ACQUIRE);
	if (bpf_map_lookup_elem(bpf_map__fd(sb->skel->maps.drops), &zero, per_cpu) == 0)
		for (i = 0; i < sb->ncpus; i++)
			st->drops += per_cpu[i];
	st->skipped = sb->skipped; /* at most SKIPPED_REFRESH_MS old */
}

static void bpf_close(struct source *s)
{
	struct source_bpf *sb = (struct source_bpf *)s;

	if (sb->epoll_fd >= 0)
		close(sb->epoll_fd);
	if (sb->producer_pos)
		munmap(sb->producer_pos, sb->page_bytes + 2 * sb->ring_bytes);
	if (sb->consumer_pos)
		munmap(sb->consumer_pos, sb->page_bytes);
	memprobe_bpf__destroy(sb->skel);
	free(sb);
}

static const struct source_ops bpf_ops = {
	.poll = bpf_poll,
	.stats = bpf_stats,
	.close = bpf_close,
};

int source_bpf_open(struct source **out, const struct source_opts *opts, char *err,
		    size_t errlen)
{
	struct source_bpf *sb;
	int rc;

	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		snprintf(err, errlen,
			 "/sys/kernel/btf/vmlinux is missing: this kernel has no BTF "
			 "(CONFIG_DEBUG_INFO_BTF=y), so the eBPF source cannot run; use the stap "
			 "module source (--source=ring) instead");
		return -ENOENT;
	}
	sb = calloc(1, sizeof(*sb));
	if (!sb)
		return -ENOMEM;
	sb->base.ops = &bpf_ops;
	sb->epoll_fd = -1;
	sb->page_bytes = sysconf(_SC_PAGESIZE);
	sb->ncpus = libbpf_num_possible_cpus();
	debug_enabled = getenv("MEMPROBE_BPF_DEBUG") != NULL;
	libbpf_set_print(libbpf_print);
	if (getrandom(&sb->session_id, sizeof(sb->session_id), 0) != sizeof(sb->session_id))
		sb->session_id = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	if (sb->ncpus <= 0) {
		rc = sb->ncpus < 0 ? sb->ncpus : -EINVAL;
		snprintf(err, errlen, "cannot count the possible CPUs (%s)", strerror(-rc));
	} else {
		rc = bpf_start(sb, opts, err, errlen);
	}
	if (rc < 0) {
		bpf_close(&sb->base);
		return rc;
	}
	*out = &sb->base;
	return 0;
}
