/* SPDX-License-Identifier: GPL-2.0 */
/*
 * memprobe_mem.bpf.h - the record ABI 2 memory fields of the eBPF program
 * (bpf/memprobe.bpf.c includes it once, after its load-time constants
 * page_shift and nr_cpus): the mm's rss counters (rec_mem) and the dev/inode
 * of a file a mmap mapped (mmap_file).  What they mean is in
 * include/memprobe_abi.h.
 */
#ifndef MEMPROBE_MEM_BPF_H
#define MEMPROBE_MEM_BPF_H

/*
 * The mm's rss counters, CO-RE for both layouts (indices MM_FILEPAGES 0,
 * MM_ANONPAGES 1, MM_SWAPENTS 2, MM_SHMEMPAGES 3: the enum is anonymous,
 * so not relocatable, and unchanged since 4.x):
 *   up to 6.1   struct mm_rss_stat { atomic_long_t count[4]; } rss_stat;
 *   6.2 and up  struct percpu_counter rss_stat[4];
 * A percpu_counter's shared `count` lags the truth by the per-CPU deltas
 * not yet folded (each below the batch, 32 pages on small machines), and
 * /proc/PID/status prints the full sum (percpu_counter_sum) on the kernels
 * we run on, so we add the per-CPU parts too.  The part of CPU c lives at
 * counters + c's per-cpu offset.  The kernel's BTF does not tag `counters`
 * __percpu (bpf_per_cpu_ptr() refuses it) and kallsyms has no data symbols
 * here (no __per_cpu_offset ksym), so the offsets are learned once from a
 * per-CPU map of our own: offset(c) = address of c's element - the map's
 * __percpu base.  Cost: one read per possible CPU per record (four on
 * 6.2-6.4, where the counters' per-CPU parts are separate allocations).
 */
struct mm_rss_stat___atomic {
	atomic_long_t count[4];
};

struct mm_struct___atomic {
	struct mm_rss_stat___atomic rss_stat;
} __attribute__((preserve_access_index));

struct mm_struct___pcpu {
	struct percpu_counter rss_stat[4];
} __attribute__((preserve_access_index));

#define MP_MAX_CPUS 256 /* per-CPU parts beyond are not added (documented) */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} cpu_probe SEC(".maps");

__u64 cpu_off[MP_MAX_CPUS]; /* per-cpu offset of each CPU, once learned */
__u32 cpu_off_n;            /* CPUs learned: 0 until the first record */

/* A pointer's value as a number: the verifier refuses arithmetic between a
 * map (value) pointer and a number, but not copying the pointer's bytes. */
static __always_inline __u64 ptr_bits(void *p)
{
	__u64 bits = 0;

	bpf_probe_read_kernel(&bits, sizeof(bits), &p);
	return bits;
}

static __noinline int learn_cpu_offsets(void)
{
	__u64 base = 0, arr = ptr_bits(&cpu_probe); /* struct bpf_array */
	__u32 cpu, zero = 0;

	if (!arr || bpf_probe_read_kernel(&base, sizeof(base),
					  (void *)(arr + bpf_core_field_offset(struct bpf_array, pptrs))))
		return 0;
	for (cpu = 0; cpu < MP_MAX_CPUS && cpu < nr_cpus; cpu++) {
		void *p = bpf_map_lookup_percpu_elem(&cpu_probe, &zero, cpu);

		if (!p)
			break;
		cpu_off[cpu] = ptr_bits(p) - base;
	}
	/* Published after the offsets (x86 keeps store order; this keeps the
	 * compiler's).  CPUs racing here write the same values. */
	asm volatile("" ::: "memory");
	cpu_off_n = cpu;
	return 0;
}

/* Since 6.5 the four counters' per-CPU parts are one allocation
 * (percpu_counter_init_many): one 16-byte read per CPU instead of four. */
static __always_inline void rss_pages_pcpu(struct mm_struct *mm, __s64 v[4])
{
	struct mm_struct___pcpu *m = (void *)mm;
	__u64 c[4];
	__u32 cpu, n;
	bool packed;
	int i;

	if (!cpu_off_n)
		learn_cpu_offsets();
	n = cpu_off_n;
	for (i = 0; i < 4; i++) {
		v[i] = m->rss_stat[i].count;
		c[i] = (__u64)m->rss_stat[i].counters;
	}
	packed = c[1] == c[0] + 4 && c[2] == c[0] + 8 && c[3] == c[0] + 12;
	for (cpu = 0; cpu < MP_MAX_CPUS && cpu < n; cpu++) {
		__s32 d[4] = {};

		if (packed) {
			bpf_probe_read_kernel(d, sizeof(d), (void *)(c[0] + cpu_off[cpu]));
		} else {
			for (i = 0; i < 4; i++)
				bpf_probe_read_kernel(&d[i], sizeof(d[i]),
						      (void *)(c[i] + cpu_off[cpu]));
		}
		for (i = 0; i < 4; i++)
			v[i] += d[i];
	}
}

/* ABI v2 memory fields of mm (0 without an mm), pages -> bytes. */
static __always_inline void rec_mem(struct memprobe_record *r, struct mm_struct *mm)
{
	__s64 v[4] = {};
	int i;

	/* A field test, not bpf_core_type_exists(struct mm_rss_stat): a type
	 * missing from vmlinux makes libbpf search the modules' BTF, which
	 * needs CAP_SYS_ADMIN (the lector unit has CAP_BPF + CAP_PERFMON). */
	if (mm && bpf_core_field_exists(struct mm_struct___atomic, rss_stat)) {
		struct mm_struct___atomic *m = (void *)mm;

		/* BPF_CORE_READ, not a plain load: 6.1's verifier cannot walk
		 * into the atomic_long_t typedef of an array element ("Type
		 * 'atomic_long_t' is not a struct") and refused the program. */
		for (i = 0; i < 4; i++)
			v[i] = BPF_CORE_READ(m, rss_stat.count[i].counter);
	} else if (mm) {
		rss_pages_pcpu(mm, v);
	}
	for (i = 0; i < 4; i++)
		v[i] = v[i] > 0 ? v[i] : 0; /* both kernels clamp at 0 for /proc */
	r->rss_file_bytes = (__u64)v[0] << page_shift;
	r->rss_anon_bytes = (__u64)v[1] << page_shift;
	r->swap_bytes = (__u64)v[2] << page_shift;
	r->rss_shmem_bytes = (__u64)v[3] << page_shift;
}

/* new_encode_dev(): the st_dev that stat(2) shows for a kernel dev_t. */
static __always_inline __u32 encode_dev(__u32 dev)
{
	__u32 major = dev >> 20, minor = dev & 0xfffff;

	return (minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12);
}

static long vma_file_cb(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	struct memprobe_record *r = data;
	struct file *f = vma->vm_file;

	if (f) {
		r->file_dev = encode_dev(f->f_inode->i_sb->s_dev);
		r->file_ino = f->f_inode->i_ino;
	}
	return 0;
}

/*
 * dev/inode of the file a successful mmap just mapped at addr.  The vma is
 * the truth (the fd may already be closed or reused by another thread, and
 * on overlayfs the vma maps the backing file); bpf_find_vma() finds it under
 * mmap_read_trylock, never waiting: if a writer holds the lock, the record
 * says so (MEMPROBE_REC_FILE_UNREAD) instead of guessing.  Only file mmaps
 * pay for it.  The callback writes into a stack copy: the verifier does not
 * let ring memory be a callback's context.
 */
static __always_inline void mmap_file(struct memprobe_record *r, struct task_struct *task,
				      __u64 addr)
{
	struct memprobe_record f = {};

	if (bpf_find_vma(task, addr, vma_file_cb, &f, 0) == -16 /* EBUSY */) {
		r->flags |= MEMPROBE_REC_FILE_UNREAD;
		return;
	}
	r->file_dev = f.file_dev;
	r->file_ino = f.file_ino;
}

#endif /* MEMPROBE_MEM_BPF_H */
