// SPDX-License-Identifier: GPL-2.0
/*
 * memprobe.bpf.c - the eBPF capture source: every mmap, munmap, mremap and
 * brk of every process, with its result, plus exec and whole-process exit,
 * as struct memprobe_record (include/memprobe_abi.h) in a BPF ring buffer.
 *
 * Where the memory syscalls are caught (the attach mode) is chosen at load
 * time by user space (capture/source_bpf.c, set_autoload); each mode reads
 * the arguments from the task's saved user registers (regs->di, si, dx,
 * r10, r8, r9 are untouched by the syscall on x86_64) and fills the record
 * through the same emit_call():
 *   fexit (default)  a trampoline on each call's __x64_sys_* wrapper: runs
 *         for those calls only, nothing on other syscalls.
 *   tp    (fallback) syscalls:sys_exit_<call>: runs for those calls only,
 *         but enabling a syscall tracepoint puts every task on the kernel's
 *         syscall-tracepoint path (a tax on every syscall, no program run).
 *   regs  (last fallback) one BTF raw tracepoint on sys_exit: runs on every
 *         syscall of the system and returns early for the others.
 *   pair  sys_enter stores the arguments in a hash map keyed by tid,
 *         sys_exit looks them up.  Kept for comparison (bench/bpf): it costs
 *         a second program run and two hash operations per call.
 *   make bench-bpf measures them (program time per call, loop CPU time
 *   against untraced).
 *
 * Semantics that must match the stap ring:
 *   seq    one global counter, +1 for every event, including the ones the
 *          ring had no room for; so gaps in seq are exactly drops.  It is
 *          taken right after the reservation, so records of one thread are
 *          in seq order; across CPUs ring order may differ from seq order.
 *   drops  per-CPU counter (map "drops"), bumped when reserve fails.
 *   ts_ns  wall clock: bpf_ktime_get_tai_ns() - (TAI - REALTIME), the
 *          offset computed by user space at load.  TAI moves with
 *          settimeofday()/NTP steps like CLOCK_REALTIME does, which a
 *          boot-clock + offset would not; only a leap-second change of the
 *          TAI offset itself (rare) is not followed.
 *   memory the ABI v2 fields (rss_*, swap, cgroup_id, file_dev/ino): see
 *          rec_mem() and mmap_file() in memprobe_mem.bpf.h, and
 *          mp_oom_kill(); mem_fields = 0 leaves them 0, so bench/bpf
 *          measures their cost in one run.
 *   wakeup the consumer is not woken per record (BPF_RB_NO_WAKEUP: a wakeup
 *          per record cost 5.6x); only when the unread data crosses
 *          wakeup_bytes (a quarter of the ring), and it polls with a short
 *          timeout for the quiet case.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "memprobe_abi.h"

char LICENSE[] SEC("license") = "GPL";

/* x86_64 syscall numbers (asm/unistd_64.h). */
#define NR_MMAP   9
#define NR_MUNMAP 11
#define NR_BRK    12
#define NR_MREMAP 25
#define TS_COMPAT 0x0002 /* 32-bit syscall in progress: other numbering */
#define MAP_ANONYMOUS 0x20

/* Set by user space before load. */
const volatile __u64 tai_offset_ns;    /* CLOCK_TAI - CLOCK_REALTIME */
const volatile __u64 wakeup_bytes = 1 << 20; /* force a wakeup past this fill */
const volatile __u32 page_shift = 12;
const volatile __u32 nr_cpus = 1;      /* possible CPUs (libbpf_num_possible_cpus) */
const volatile __u8 mem_fields = 1;    /* 0: leave the ABI v2 fields 0 (bench) */

/* Read by user space through the mmapped .bss. */
__u64 seq_next;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20); /* resized by user space */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

struct call_args {
	__u64 nr;
	__u64 a[6];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct call_args);
} pending SEC(".maps");

/* Processes whose exit record was made: threads exiting together (exit_group)
 * can all see signal->live == 0 at sched_process_exit; the first one to
 * insert (pid, start_ns) here makes the record (the stap ring does the same). */
#define MP_EEXIST 17 /* errno's EEXIST (vmlinux.h has no errno macros) */

struct exit_key {
	__u32 pid;
	__u32 pad;
	__u64 start_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct exit_key);
	__type(value, __u8);
} recent_exits SEC(".maps");

#include "memprobe_mem.bpf.h"

static __always_inline void count_drop(void)
{
	__u32 zero = 0;
	__u64 *d = bpf_map_lookup_elem(&drops, &zero);

	__sync_fetch_and_add(&seq_next, 1);
	if (d)
		*d += 1;
}

/* Reserve a record and fill what every record carries about the current
 * task; NULL = dropped. */
static __always_inline struct memprobe_record *rec_begin(struct task_struct *task, __u16 call)
{
	struct task_struct *leader = task->group_leader;
	struct memprobe_record *r;
	__u64 id;

	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count_drop();
		return NULL;
	}
	/* Every byte is written (ring memory is not zeroed); no memset, the
	 * argument fields are overwritten by the caller anyway. */
	r->seq = __sync_fetch_and_add(&seq_next, 1);
	r->ts_ns = bpf_ktime_get_tai_ns() - tai_offset_ns;
	r->start_ns = leader->start_boottime;
	id = bpf_get_current_pid_tgid();
	r->pid = id >> 32;
	r->tid = (__u32)id;
	r->uid = (__u32)bpf_get_current_uid_gid();
	r->call = call;
	r->flags = 0;
	r->addr = 0;
	r->len = 0;
	r->new_addr = 0;
	r->new_len = 0;
	r->offset = 0;
	r->ret = 0;
	r->total_vm_bytes = 0;
	r->prot = 0;
	r->mflags = 0;
	r->fd = -1;
	r->file_dev = 0;
	r->file_ino = 0;
	r->rss_anon_bytes = 0;
	r->rss_file_bytes = 0;
	r->rss_shmem_bytes = 0;
	r->swap_bytes = 0;
	r->cgroup_id = mem_fields ? bpf_get_current_cgroup_id() : 0;
	/* Plain loads through the BTF pointers, not bpf_probe_read_kernel() /
	 * bpf_get_current_comm(): a third of the program's cost.  comm is
	 * NUL-padded by the kernel (strscpy_pad in __set_task_comm). */
	__builtin_memcpy(r->comm, leader->comm, sizeof(r->comm));
	__builtin_memcpy(r->thread_comm, task->comm, sizeof(r->thread_comm));
	return r;
}

/* Wake the reader only as the unread data crosses wakeup_bytes (within a
 * window of a few records, since CPUs race past it together), not on every
 * record above it: when the reader is busy or held, a forced wakeup per
 * record (an irq_work each) would make the flood far costlier.  A crossing
 * missed by racing CPUs is caught by the reader's short poll timeout. */
#define WAKEUP_WINDOW_BYTES (16 * (sizeof(struct memprobe_record) + 8))

static __always_inline void rec_commit(struct memprobe_record *r)
{
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	__u64 flags = BPF_RB_NO_WAKEUP;

	if (avail >= wakeup_bytes && avail < wakeup_bytes + WAKEUP_WINDOW_BYTES)
		flags = BPF_RB_FORCE_WAKEUP;
	bpf_ringbuf_submit(r, flags);
}

static __always_inline __u64 total_vm_bytes(struct mm_struct *mm)
{
	return mm ? mm->total_vm << page_shift : 0;
}

/* The call's own fields, from its arguments a[] (the order of the syscall's
 * parameters) and result. */
static __always_inline void fill_mmap(struct memprobe_record *r, const __u64 *a)
{
	r->addr = a[0];
	r->len = a[1];
	r->prot = a[2];
	r->mflags = a[3];
	r->fd = (__s32)a[4];
	r->offset = a[5];
}

static __always_inline void fill_munmap(struct memprobe_record *r, const __u64 *a)
{
	r->addr = a[0];
	r->len = a[1];
}

static __always_inline void fill_mremap(struct memprobe_record *r, const __u64 *a)
{
	r->addr = a[0];
	r->len = a[1];
	r->new_len = a[2];
	r->mflags = a[3];
	r->new_addr = a[4];
}

static __always_inline void fill_brk(struct memprobe_record *r, const __u64 *a,
				     struct mm_struct *mm)
{
	r->addr = a[0];
	if (mm) {
		r->new_addr = mm->start_brk;
		r->len = mm->brk - mm->start_brk;
	}
}

/* One recorded call: nr is a constant in every fexit program (the switch
 * folds away there); the regs and pair programs pass the syscall number. */
static __always_inline int emit_call(__u64 nr, const __u64 *a, long ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct mm_struct *mm = task->mm;
	struct memprobe_record *r;

	switch (nr) {
	case NR_MMAP:
		if (!(r = rec_begin(task, MP_CALL_MMAP)))
			return 0;
		fill_mmap(r, a);
		break;
	case NR_MUNMAP:
		if (!(r = rec_begin(task, MP_CALL_MUNMAP)))
			return 0;
		fill_munmap(r, a);
		break;
	case NR_MREMAP:
		if (!(r = rec_begin(task, MP_CALL_MREMAP)))
			return 0;
		fill_mremap(r, a);
		break;
	case NR_BRK:
		if (!(r = rec_begin(task, MP_CALL_BRK)))
			return 0;
		fill_brk(r, a, mm);
		break;
	default:
		return 0;
	}
	r->ret = ret;
	r->total_vm_bytes = total_vm_bytes(mm);
	if (mem_fields) {
		rec_mem(r, mm);
		if (nr == NR_MMAP && !(ret < 0 && ret > -4096) && !(a[3] & MAP_ANONYMOUS))
			mmap_file(r, task, ret);
	}
	rec_commit(r);
	return 0;
}

/* The user registers a syscall was made with: arguments in the x86_64
 * syscall order (rdi, rsi, rdx, r10, r8, r9; the kernel does not change
 * them). */
static __always_inline void user_args(const struct pt_regs *regs, __u64 *a)
{
	a[0] = regs->di;
	a[1] = regs->si;
	a[2] = regs->dx;
	a[3] = regs->r10;
	a[4] = regs->r8;
	a[5] = regs->r9;
}

/*
 * fexit (default): a BPF trampoline on each memory syscall's x86_64 entry
 * wrapper, run only for those calls.  The wrapper's one argument is the
 * user registers (the same pt_regs sys_exit sees), the result is its
 * return value.  32-bit (ia32) calls enter through __ia32_sys_* and are not
 * recorded, as with regs' compat check.  x32 calls (CONFIG_X86_X32_ABI,
 * off in the kernels we run on) share these wrappers and would be recorded,
 * which regs, matching the syscall number, does not do.
 */
#define MP_FEXIT(name, nr)                                            \
	SEC("fexit/__x64_sys_" #name)                                 \
	int BPF_PROG(mp_##name, const struct pt_regs *regs, long ret) \
	{                                                             \
		__u64 a[6];                                           \
                                                                      \
		user_args(regs, a);                                   \
		return emit_call(nr, a, ret);                         \
	}

MP_FEXIT(mmap, NR_MMAP)
MP_FEXIT(munmap, NR_MUNMAP)
MP_FEXIT(mremap, NR_MREMAP)
MP_FEXIT(brk, NR_BRK)

/*
 * tp (fexit's first fallback): the per-syscall tracepoints
 * syscalls:sys_exit_<call>, run only for those calls; the arguments are the
 * task's saved user registers (bpf_task_pt_regs), the result the
 * tracepoint's.  The kernel skips compat (ia32) calls on these tracepoints.
 */
#define MP_TP(name, nr)                                                           \
	SEC("tracepoint/syscalls/sys_exit_" #name)                                \
	int mp_tp_##name(struct trace_event_raw_sys_exit *ctx)                    \
	{                                                                         \
		struct task_struct *task = bpf_get_current_task_btf();            \
		__u64 a[6];                                                       \
                                                                                  \
		user_args((const struct pt_regs *)bpf_task_pt_regs(task), a);     \
		return emit_call(nr, a, ctx->ret);                                \
	}

MP_TP(mmap, NR_MMAP)
MP_TP(munmap, NR_MUNMAP)
MP_TP(mremap, NR_MREMAP)
MP_TP(brk, NR_BRK)

static __always_inline bool is_traced_nr(__u64 nr)
{
	return nr == NR_MMAP || nr == NR_MUNMAP || nr == NR_MREMAP || nr == NR_BRK;
}

static __always_inline bool in_compat_syscall(void)
{
	struct task_struct *task = bpf_get_current_task_btf();

	return task->thread_info.status & TS_COMPAT;
}

/* regs: arguments straight from the saved user registers at exit. */
SEC("tp_btf/sys_exit")
int BPF_PROG(mp_exit_regs, struct pt_regs *regs, long ret)
{
	__u64 nr = regs->orig_ax;
	__u64 a[6];

	if (!is_traced_nr(nr) || in_compat_syscall())
		return 0;
	user_args(regs, a);
	return emit_call(nr, a, ret);
}

/* pair: remember the arguments at entry... */
SEC("tp_btf/sys_enter")
int BPF_PROG(mp_enter_pair, struct pt_regs *regs, long id)
{
	struct call_args args;
	__u32 tid;

	if (!is_traced_nr(id) || in_compat_syscall())
		return 0;
	tid = (__u32)bpf_get_current_pid_tgid();
	args.nr = id;
	user_args(regs, args.a);
	bpf_map_update_elem(&pending, &tid, &args, BPF_ANY);
	return 0;
}

/* ...and pair them with the result at exit. */
SEC("tp_btf/sys_exit")
int BPF_PROG(mp_exit_pair, struct pt_regs *regs, long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct call_args *args;

	if (!is_traced_nr(regs->orig_ax))
		return 0;
	args = bpf_map_lookup_elem(&pending, &tid);
	if (!args)
		return 0;
	emit_call(args->nr, args->a, ret);
	bpf_map_delete_elem(&pending, &tid);
	return 0;
}

/* The image was replaced: comm and mm are the new ones already. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(mp_exec, struct task_struct *p)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct memprobe_record *r = rec_begin(task, MP_CALL_EXEC);

	if (!r)
		return 0;
	r->total_vm_bytes = total_vm_bytes(task->mm);
	if (mem_fields)
		rec_mem(r, task->mm);
	rec_commit(r);
	return 0;
}

/* A thread exits; only the last one of the group makes a record.  signal->live
 * was decremented before this tracepoint (do_exit), and exit_mm() already ran,
 * so total_vm is 0 as the ABI says. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(mp_exit, struct task_struct *p)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct exit_key key = {
		.pid = bpf_get_current_pid_tgid() >> 32,
		.start_ns = task->group_leader->start_boottime,
	};
	struct memprobe_record *r;
	__u8 one = 1;

	if (task->signal->live.counter != 0)
		return 0;
	/* -EEXIST: another thread of the group made the record.  Any other
	 * failure must not lose the exit (an LRU map can fail to find a free
	 * node under contention, a bucket can be busy with a program preempted
	 * on this CPU): then record it anyway; a second exit record of a
	 * process is harmless to readers (lector's accounting ignores it). */
	if (bpf_map_update_elem(&recent_exits, &key, &one, BPF_NOEXIST) == -MP_EEXIST)
		return 0;
	r = rec_begin(task, MP_CALL_EXIT);
	if (!r)
		return 0;
	r->ret = task->exit_code;
	rec_commit(r);
	return 0;
}

/*
 * The OOM killer marked a victim (oom:mark_victim, under task_lock(victim),
 * so victim->mm is stable).  current is whoever ran out of memory; the
 * record is the victim's: identity, cgroup (its css_set's default-hierarchy
 * cgroup, the kernfs id bpf_get_current_cgroup_id() would give for it) and
 * counters at the kill.  The tracepoint's (task, uid) prototype is the
 * one in 6.1's stable updates and current kernels.
 */
SEC("tp_btf/mark_victim")
int BPF_PROG(mp_oom_kill, struct task_struct *victim, uid_t uid)
{
	struct task_struct *leader = victim->group_leader;
	struct memprobe_record *r;

	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count_drop();
		return 0;
	}
	__builtin_memset(r, 0, sizeof(*r));
	r->seq = __sync_fetch_and_add(&seq_next, 1);
	r->ts_ns = bpf_ktime_get_tai_ns() - tai_offset_ns;
	r->start_ns = leader->start_boottime;
	r->pid = victim->tgid;
	r->tid = victim->pid;
	r->uid = uid;
	r->call = MP_CALL_OOM_KILL;
	r->fd = -1;
	__builtin_memcpy(r->comm, leader->comm, sizeof(r->comm));
	__builtin_memcpy(r->thread_comm, victim->comm, sizeof(r->thread_comm));
	r->total_vm_bytes = total_vm_bytes(victim->mm);
	rec_mem(r, victim->mm);
	r->cgroup_id = BPF_CORE_READ(victim, cgroups, dfl_cgrp, kn, id);
	rec_commit(r);
	return 0;
}
