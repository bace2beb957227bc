/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * memprobe_abi.h - the one definition of a memprobe record and of the ring
 * that carries records from the kernel to user space.
 *
 * Included, unchanged, by three builds:
 *   - the SystemTap embedded C in tapset/ (kernel context, <linux/types.h>),
 *   - the eBPF program in bpf/ (vmlinux.h provides the __u64 family),
 *   - the reader and tools in lector/ (user space, <linux/types.h>).
 * Nothing else may describe the layout; every later stage speaks in these
 * records or in rows made from them.
 *
 * Any change to struct memprobe_record or struct memprobe_ring_hdr that moves
 * or resizes a field must bump MEMPROBE_ABI_VERSION.  Readers refuse a ring
 * whose magic, version or record size they do not know.
 */
#ifndef MEMPROBE_ABI_H
#define MEMPROBE_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#include <linux/ioctl.h>
#endif

#define MEMPROBE_MAGIC        0x45424f52504d454dULL /* "MEMPROBE" little endian */
#define MEMPROBE_ABI_VERSION  2
#define MEMPROBE_COMM_LEN     16
#define MEMPROBE_PROC_NAME    "memprobe"
#define MEMPROBE_PROC_PATH    "/proc/memprobe"

/*
 * What a record describes: the one list of calls.  X(ENUM, value, name);
 * the value is stored (the ring, and the calls.call ENUM's index in
 * migrations/), the name is what the API and the dashboard show
 * (frontend/vite-abi.js reads this list; tests/server checks that the
 * migrations' ENUM spells the same names in the same order).
 */
#define MEMPROBE_CALLS(X)                                                   \
	X(MP_CALL_MMAP,   1, "mmap")                                        \
	X(MP_CALL_MUNMAP, 2, "munmap")                                      \
	X(MP_CALL_MREMAP, 3, "mremap")                                      \
	X(MP_CALL_BRK,    4, "brk")                                         \
	X(MP_CALL_EXEC,   5, "exec") /* image replaced (sched_process_exec) */ \
	X(MP_CALL_EXIT,   6, "exit") /* last thread of the process exited */ \
	X(MP_CALL_OOM_KILL, 7, "oom_kill") /* chosen by the OOM killer (oom:mark_victim) */

enum memprobe_call {
#define MEMPROBE_CALL_ENUM(e, v, n) e = v,
	MEMPROBE_CALLS(MEMPROBE_CALL_ENUM)
#undef MEMPROBE_CALL_ENUM
	MP_CALL_MAX = 7,
};

/*
 * One event.  192 bytes, no implicit padding, naturally aligned fields.
 * ABI version 2: version 1 (144 bytes) ended at thread_comm, had no memory
 * fields, and its file_dev was a reserved 0.
 *
 * Identity:
 *   seq       per capture session, +1 for every event the probe saw,
 *             including events dropped because the ring was full; so a gap
 *             in seq is exactly a drop.  Starts at 0.
 *   ts_ns     wall clock (CLOCK_REALTIME) when the call returned, ns.
 *   start_ns  the thread-group leader's start time, ns since boot
 *             (task->group_leader->start_boottime): with pid it keys a
 *             process, since pids are reused.
 *   pid/tid   thread group id / calling thread id (as the kernel sees them
 *             in the initial pid namespace).
 *   uid       real uid of the calling thread.
 *   comm      the thread-group leader's comm (the process name).
 *   thread_comm the calling thread's comm (may differ: pthread_setname_np).
 *             Both NUL-padded, may contain any byte but NUL.
 *
 * Arguments, by call (unused fields are 0, fd is -1 when unused):
 *   MMAP    addr, len, prot, mflags, fd, offset (bytes)
 *   MUNMAP  addr, len
 *   MREMAP  addr = old_address, len = old_size, new_len = new_size,
 *           mflags = MREMAP_* flags, new_addr = new_address argument
 *   BRK     addr = requested break, new_addr = mm->start_brk,
 *           len = heap bytes after the call (resulting break - start_brk)
 *   EXEC    comm is the new image's name
 *   EXIT    ret = exit code (as in task->exit_code), total_vm_bytes = 0
 *   OOM_KILL  the victim the OOM killer chose, not the task that ran out
 *           of memory: pid, tid, uid, start_ns, comm, thread_comm,
 *           cgroup_id and all the memory fields are the victim's, read as
 *           it is marked (before its memory is reaped).  ret = 0; the
 *           argument fields are 0, fd -1.  One record per victim.
 *
 * Result:
 *   ret     the syscall's return value: an address, 0, or -errno.
 *           brk returns the resulting break, never -errno: brk succeeded
 *           iff ret == addr (or addr == 0, a query).
 *   total_vm_bytes  the process's mm->total_vm after the call, in bytes
 *           (what /proc/PID/status calls VmSize).
 *
 * Memory held (version 2), in every record but EXIT (0 there: the mm is
 * gone), read from the process's mm counters after the call, the sources
 * of /proc/PID/status:
 *   rss_anon_bytes   MM_ANONPAGES  x page size  (RssAnon)
 *   rss_file_bytes   MM_FILEPAGES  x page size  (RssFile)
 *   rss_shmem_bytes  MM_SHMEMPAGES x page size  (RssShmem)
 *   swap_bytes       MM_SWAPENTS   x page size  (VmSwap): swap entries,
 *                    stored as bytes like the others.
 *   Resident = anon + file + shmem (VmRSS).  Each is what the kernel's
 *   counter says at that moment, exactly as /proc/PID/status would print
 *   it then: the sum of the per-CPU parts where the counter is a
 *   percpu_counter (6.2 and later; the eBPF source adds the parts of the
 *   first 256 possible CPUs), the atomic counter before (where a thread's
 *   own not yet folded page counts are invisible to both).
 *   A kernel that prints only the shared part of a percpu_counter
 *   (percpu_counter_read_positive) can differ from ours by at most its
 *   batch per CPU.
 *
 * Who (version 2):
 *   cgroup_id  the task's cgroup in the cgroup v2 (unified) hierarchy: the
 *              kernfs id, which is the inode number of the cgroup's
 *              directory under the cgroup2 mount (1 = the root).  On a
 *              host with v1 controllers mounted beside it, still the
 *              unified hierarchy's cgroup.
 *
 * Mapped file (version 2), MMAP of a file only, else 0:
 *   file_dev   the device of the file the new mapping maps (its
 *              vm_file's inode's i_sb->s_dev), encoded as the kernel
 *              encodes st_dev for stat(2) (new_encode_dev: minor low 8
 *              bits | major << 8 | minor high bits << 12), which equals
 *              glibc's makedev(major, minor) for every kernel device.
 *              Where stat() reports another device than the superblock
 *              (btrfs subvolumes, overlayfs), this is the superblock's.
 *   file_ino   that inode's number (st_ino).
 *   flags      MEMPROBE_REC_FILE_UNREAD: a successful MMAP that maps a
 *              file whose dev/ino could not be read without waiting
 *              (another thread held the mm's lock for writing), so
 *              file_dev/file_ino are 0.  Other bits are 0.
 */
#define MEMPROBE_REC_FILE_UNREAD 0x0001

struct memprobe_record {
	__u64 seq;
	__u64 ts_ns;
	__u64 start_ns;
	__u32 pid;
	__u32 tid;
	__u32 uid;
	__u16 call;     /* enum memprobe_call */
	__u16 flags;    /* MEMPROBE_REC_* */
	__u64 addr;
	__u64 len;
	__u64 new_addr;
	__u64 new_len;
	__u64 offset;
	__s64 ret;
	__u64 total_vm_bytes;
	__u32 prot;
	__u32 mflags;
	__s32 fd;
	__u32 file_dev; /* new_encode_dev(), as st_dev (version 1: reserved) */
	char  comm[MEMPROBE_COMM_LEN];
	char  thread_comm[MEMPROBE_COMM_LEN];
	/* version 2 */
	__u64 rss_anon_bytes;
	__u64 rss_file_bytes;
	__u64 rss_shmem_bytes;
	__u64 swap_bytes;
	__u64 cgroup_id;
	__u64 file_ino;
};

#define MEMPROBE_RECORD_SIZE 192

/*
 * The ring behind /proc/memprobe.
 *
 * The file maps as one read-only area:
 *   [0, MEMPROBE_HDR_SIZE)                     struct memprobe_ring_hdr
 *   [data_offset, data_offset + capacity * record_size)   record slots
 * Slot of position p is (p & (capacity - 1)); capacity is a power of two.
 *
 * Positions only grow (64-bit, never wrap in practice).
 *
 * Who writes what:
 *   producer_pos, drops, seq_next   the kernel producer, under its lock.
 *   skipped                         the producer, under its lock, when
 *                                   it changes: probe runs the tracer
 *                                   skipped (SystemTap's skipped_count():
 *                                   reentrancy, low stack).  Each may have
 *                                   been an event we record or not, so it is
 *                                   an upper bound on events missing; they
 *                                   got no seq, so seq gaps do not show them.
 *                                   Added without an ABI bump (it was pad):
 *                                   older producers leave it 0.
 *   consumer_pos                    the kernel, on behalf of the reader:
 *                                   read() advances it, or the reader
 *                                   calls MEMPROBE_IOC_CONSUME with the
 *                                   position it has finished with.
 *   running                         1 while the module captures; 0 when it
 *                                   is being removed (reader must stop).
 *
 * Ordering:
 *   producer: write slot, then smp_store_release(&producer_pos, p + 1).
 *   reader:   p = smp_load_acquire(&producer_pos), then read slots < p,
 *             then hand back consumer position (ioctl / read()).
 *   producer: c = smp_load_acquire(&consumer_pos) before reusing a slot;
 *             if p - c == capacity the event is dropped and counted,
 *             an unread slot is never overwritten.
 */
#define MEMPROBE_HDR_SIZE 4096

struct memprobe_ring_hdr {
	__u64 magic;          /* MEMPROBE_MAGIC */
	__u32 abi_version;    /* MEMPROBE_ABI_VERSION */
	__u32 record_size;    /* sizeof(struct memprobe_record) */
	__u64 capacity;       /* slots, a power of two */
	__u64 data_offset;    /* bytes from the start of the mapping */
	__u64 session_id;     /* random per load */
	__u64 load_ts_ns;     /* CLOCK_REALTIME when the ring was created */
	__u32 running;        /* 1 capturing, 0 going away */
	__u32 wakeup_interval_us; /* deferred-wakeup period of the producer */
	__u8  pad0[64 - 56];

	/* producer cache line */
	__u64 producer_pos;   /* records committed, ever */
	__u64 drops;          /* events not stored: ring full */
	__u64 seq_next;       /* events seen, ever (= producer_pos + drops) */
	__u64 skipped;        /* probe runs skipped by the tracer (upper bound) */
	__u8  pad1[64 - 32];

	/* consumer cache line */
	__u64 consumer_pos;   /* records released by the reader */
	__u8  pad2[64 - 8];
};

/* Release records up to (not including) position *arg.  EINVAL when the
 * position is behind the current consumer position or ahead of the
 * producer. */
#define MEMPROBE_IOC_CONSUME _IOW('m', 1, __u64)

#ifdef __cplusplus
#define MEMPROBE_STATIC_ASSERT static_assert
#else
#define MEMPROBE_STATIC_ASSERT _Static_assert
#endif
MEMPROBE_STATIC_ASSERT(sizeof(struct memprobe_record) == MEMPROBE_RECORD_SIZE,
		       "memprobe_record layout changed: bump MEMPROBE_ABI_VERSION");
MEMPROBE_STATIC_ASSERT(sizeof(struct memprobe_ring_hdr) == 192,
		       "memprobe_ring_hdr layout changed: bump MEMPROBE_ABI_VERSION");

/* A call's name (MEMPROBE_CALLS), "?" for a value outside the list. */
static inline const char *memprobe_call_name(unsigned int call)
{
	switch (call) {
#define MEMPROBE_CALL_CASE(e, v, n) case e: return n;
	MEMPROBE_CALLS(MEMPROBE_CALL_CASE)
#undef MEMPROBE_CALL_CASE
	default: return "?";
	}
}

#endif /* MEMPROBE_ABI_H */
