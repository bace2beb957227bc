/*
 * acct.c - fold records into per-process totals.
 *
 * Rules (README.md, "What the numbers mean"):
 *  - failed calls (ret < 0; brk: ret != addr) are counted but change no total;
 *  - mmap adds [ret, ret + len) and replaces whatever was there (MAP_FIXED);
 *  - munmap removes only what was mapped while watched, so memory mapped
 *    before capture never drives mapped_bytes below 0;
 *  - mremap moves the watched pieces of the old range, adds the growth;
 *  - brk: rec->len is the heap size after the call; the first heap size
 *    seen is a baseline (memory that existed before capture);
 *  - exec resets the image's memory, exit releases everything;
 *  - resident/swap (mem) and the cgroup come from the latest record, or
 *    from a newer reading of /proc (acct_set_mem); an exited process holds
 *    nothing; an oom_kill record carries its victim's and is no call;
 *  - a record whose start_ns differs from the known one is a new process
 *    (pid reuse); the old one is closed out as exited.
 * net_bytes is exactly the course formula: successful mmap lengths minus
 * successful munmap lengths (it can go below 0; it is shown clamped).
 * mremap and brk move mapped_bytes, which tracks what is really mapped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "acct.h"
#include "acct_impl.h"

#define PAGE_BYTES 4096ULL

static uint64_t page_up(uint64_t len)
{
	return (len + PAGE_BYTES - 1) & ~(PAGE_BYTES - 1);
}

bool acct_cap_mem_fields(struct memprobe_record *rec)
{
	__u64 *f[] = {&rec->rss_anon_bytes, &rec->rss_file_bytes, &rec->rss_shmem_bytes,
		      &rec->swap_bytes};
	bool capped = false;

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (*f[i] > ACCT_MEM_FIELD_MAX) {
			*f[i] = ACCT_MEM_FIELD_MAX;
			capped = true;
		}
	return capped;
}

int acct_new(struct acct **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void acct_log_ranges(struct acct *a, bool on)
{
	a->no_range_log = !on;
}

static struct acct_proc **slot_of(struct acct *a, uint32_t pid);

static void proc_free(struct acct_proc *p)
{
	range_set_free(&p->mapped);
	free(p);
}

void acct_free(struct acct *a)
{
	struct acct_proc *d, *next;

	if (!a)
		return;
	/* A process replaced by a reused pid waits, unhashed, on the dirty list. */
	for (d = a->dirty; d; d = next) {
		next = d->next_dirty;
		if (*slot_of(a, d->pid) != d)
			proc_free(d);
	}
	for (size_t b = 0; b < ACCT_BUCKETS; b++) {
		struct acct_proc *p = a->bucket[b], *n;

		for (; p; p = n) {
			n = p->next_hash;
			proc_free(p);
		}
	}
	free(a);
}

static struct acct_proc **slot_of(struct acct *a, uint32_t pid)
{
	struct acct_proc **pp = &a->bucket[pid & (ACCT_BUCKETS - 1)];

	while (*pp && (*pp)->pid != pid)
		pp = &(*pp)->next_hash;
	return pp;
}

static void mark_dirty(struct acct *a, struct acct_proc *p)
{
	if (!p->dirty) {
		p->dirty = true;
		p->next_dirty = a->dirty;
		a->dirty = p;
	}
}

static void release_all(struct acct_proc *p)
{
	range_set_clear(&p->mapped);
	p->net_bytes = 0;
	p->heap_bytes = p->heap_base_bytes = 0;
	p->heap_known = false;
}

/* The mm is gone: nothing resident, nothing in swap, known as of ts_ns. */
static void mem_gone(struct acct_proc *p, uint64_t ts_ns)
{
	memset(&p->mem, 0, sizeof(p->mem));
	p->mem.ts_ns = ts_ns;
}

/* Unlink p from the hash; it stays alive until acct_clean() if dirty. */
static void unhash(struct acct *a, struct acct_proc *p)
{
	struct acct_proc **pp = slot_of(a, p->pid);

	if (*pp == p) {
		*pp = p->next_hash;
		p->next_hash = NULL;
		a->live--;
	}
}

static struct acct_proc *lookup_or_create(struct acct *a, const struct memprobe_record *rec)
{
	struct acct_proc **pp = slot_of(a, rec->pid), *p = *pp;

	if (p && p->start_ns == rec->start_ns)
		return p;
	if (p) { /* pid reused: the old process is gone, its exit was missed */
		p->exited = true;
		release_all(p);
		p->vm_size_bytes = 0;
		mem_gone(p, rec->ts_ns);
		mark_dirty(a, p);
		unhash(a, p);
		if (!p->dirty)
			proc_free(p);
		pp = slot_of(a, rec->pid);
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->pid = rec->pid;
	p->start_ns = rec->start_ns;
	p->first_seen_ns = rec->ts_ns;
	range_set_init(&p->mapped);
	if (!a->no_range_log)
		range_log_start(&p->mapped); /* the sink stores what changes */
	p->next_hash = *pp;
	*pp = p;
	a->live++;
	return p;
}

/* The ledger's range of a successful mmap: the call as it was made.  Each
 * range keeps the attributes of the call that gave it its place (range.h;
 * apply_munmap and apply_mremap keep them). */
static void apply_mmap(struct acct_proc *p, const struct memprobe_record *r)
{
	uint64_t start = (uint64_t)r->ret;
	const struct range_attr attr = {.created_ns = r->ts_ns,
					.offset_bytes = r->offset,
					.file_ino = r->file_ino,
					.prot = r->prot,
					.flags = r->mflags,
					.file_dev = r->file_dev,
					.via = MP_VIA_MMAP};

	p->count[ACCT_N_MMAP]++;
	if (r->ret < 0) {
		p->count[ACCT_N_FAILED]++;
		return;
	}
	/* in u64: a corrupt length wraps instead of overflowing (UB) */
	p->net_bytes = (int64_t)((uint64_t)p->net_bytes + r->len);
	p->requested_bytes += r->len;
	range_add_attr(&p->mapped, start, start + page_up(r->len), &attr);
}

/* Cuts the ranges it meets; the pieces left keep their attributes. */
static void apply_munmap(struct acct_proc *p, const struct memprobe_record *r)
{
	p->count[ACCT_N_MUNMAP]++;
	if (r->ret != 0) {
		p->count[ACCT_N_FAILED]++;
		return;
	}
	p->net_bytes = (int64_t)((uint64_t)p->net_bytes - r->len);
	range_remove(&p->mapped, r->addr, r->addr + page_up(r->len), NULL);
}

#define MP_MREMAP_DONTUNMAP 4

/* The grown tail [at, at + len) of an mremap: it continues the last piece
 * moved (the kernel grows that mapping), or, when the ledger knew nothing
 * of the old range (mapped before capture), it is made by the mremap
 * (prot, flags and file unknown: 0). */
static void add_grown_tail(struct acct_proc *p, const struct memprobe_record *r,
			   const struct range_list *moved, uint64_t new_start, uint64_t at,
			   uint64_t len)
{
	struct range_attr attr = {.created_ns = r->ts_ns, .via = MP_VIA_MREMAP};

	if (moved->n) {
		const struct range *last = &moved->r[moved->n - 1];

		attr = last->attr;
		attr.via = MP_VIA_MREMAP;
		attr.offset_bytes += at - (new_start + (last->start - r->addr));
	}
	range_add_attr(&p->mapped, at, at + len, &attr);
}

/* Moves the ledger's pieces of the old range (attributes kept, offsets as
 * the kernel keeps them, via = mremap), cut to the new size; the growth is
 * add_grown_tail's.  MREMAP_DONTUNMAP leaves the old range as it was. */
static void apply_mremap(struct acct_proc *p, const struct memprobe_record *r)
{
	uint64_t old_start = r->addr, old_len = page_up(r->len);
	uint64_t new_start = (uint64_t)r->ret, new_len = page_up(r->new_len);
	struct range_list moved = {0};

	p->count[ACCT_N_MREMAP]++;
	if (r->ret < 0) {
		p->count[ACCT_N_FAILED]++;
		return;
	}
	range_remove(&p->mapped, old_start, old_start + old_len, &moved);
	if (r->mflags & MP_MREMAP_DONTUNMAP) /* the old range stays mapped */
		for (size_t i = 0; i < moved.n; i++)
			range_add_attr(&p->mapped, moved.r[i].start, moved.r[i].end,
				       &moved.r[i].attr);
	range_remove(&p->mapped, new_start, new_start + new_len, NULL); /* MREMAP_FIXED target */
	for (size_t i = 0; i < moved.n; i++) {
		uint64_t a = moved.r[i].start - old_start, b = moved.r[i].end - old_start;
		struct range_attr attr = moved.r[i].attr;

		if (a >= new_len)
			continue;
		attr.via = MP_VIA_MREMAP;
		range_add_attr(&p->mapped, new_start + a, new_start + (b < new_len ? b : new_len),
			       &attr);
	}
	if (new_len > old_len)
		add_grown_tail(p, r, &moved, new_start, new_start + old_len, new_len - old_len);
	range_list_free(&moved);
}

static void apply_brk(struct acct_proc *p, const struct memprobe_record *r)
{
	p->count[ACCT_N_BRK]++;
	if (r->addr != 0 && (uint64_t)r->ret != r->addr)
		p->count[ACCT_N_FAILED]++;
	if (!p->heap_known) {
		p->heap_known = true;
		p->heap_base_bytes = p->heap_bytes = r->len;
		return;
	}
	p->heap_bytes = r->len;
	if (p->heap_bytes < p->heap_base_bytes) /* pre-capture heap released */
		p->heap_base_bytes = p->heap_bytes;
}

/* What the record says p holds, unless /proc was read after it. */
static void apply_mem(struct acct_proc *p, const struct memprobe_record *r)
{
	if (r->cgroup_id)
		p->cgroup_id = r->cgroup_id;
	if (r->ts_ns < p->mem.ts_ns)
		return;
	p->mem.rss_anon_bytes = r->rss_anon_bytes;
	p->mem.rss_file_bytes = r->rss_file_bytes;
	p->mem.rss_shmem_bytes = r->rss_shmem_bytes;
	p->mem.swap_bytes = r->swap_bytes;
	p->mem.ts_ns = r->ts_ns;
}

struct acct_proc *acct_apply(struct acct *a, const struct memprobe_record *rec)
{
	struct acct_proc *p = lookup_or_create(a, rec);

	if (!p)
		return NULL;
	p->last_seen_ns = rec->ts_ns;
	p->uid = rec->uid;
	memcpy(p->comm, rec->comm, MEMPROBE_COMM_LEN);
	p->comm[MEMPROBE_COMM_LEN] = 0;
	p->vm_size_bytes = rec->total_vm_bytes;
	apply_mem(p, rec);
	switch (rec->call) {
	case MP_CALL_MMAP:
		apply_mmap(p, rec);
		break;
	case MP_CALL_MUNMAP:
		apply_munmap(p, rec);
		break;
	case MP_CALL_MREMAP:
		apply_mremap(p, rec);
		break;
	case MP_CALL_BRK:
		apply_brk(p, rec);
		break;
	case MP_CALL_EXEC:
		release_all(p);
		break;
	case MP_CALL_EXIT:
		release_all(p);
		p->exited = true;
		p->vm_size_bytes = 0;
		mem_gone(p, rec->ts_ns);
		break;
	default: /* MP_CALL_OOM_KILL: the victim's memory, taken above */
		break;
	}
	mark_dirty(a, p);
	return p;
}

struct acct_proc *acct_lookup(struct acct *a, uint32_t pid, uint64_t start_ns)
{
	struct acct_proc *p = *slot_of(a, pid);

	return p && p->start_ns == start_ns && !p->exited ? p : NULL;
}

/* A reading equal to what is stored rewrites the row only this often, so
 * that idle processes cost the database nothing between restatements
 * (rss_ts_ns then says when they were last restated). */
#define ACCT_MEM_RESTATE_NS (60 * 1000000000ULL)

static bool mem_same(const struct acct_mem *x, const struct acct_mem *y)
{
	return x->rss_anon_bytes == y->rss_anon_bytes && x->rss_file_bytes == y->rss_file_bytes &&
	       x->rss_shmem_bytes == y->rss_shmem_bytes && x->swap_bytes == y->swap_bytes;
}

bool acct_set_mem(struct acct *a, struct acct_proc *p, const struct acct_mem *m)
{
	if (p->exited || m->ts_ns <= p->mem.ts_ns)
		return false;
	if (mem_same(m, &p->mem) && m->ts_ns - p->mem.ts_ns < ACCT_MEM_RESTATE_NS)
		return false;
	p->mem = *m;
	mark_dirty(a, p);
	return true;
}

void acct_each_live(struct acct *a, void (*fn)(uint32_t pid, uint64_t start_ns, void *arg),
		    void *arg)
{
	for (size_t b = 0; b < ACCT_BUCKETS; b++)
		for (struct acct_proc *p = a->bucket[b]; p; p = p->next_hash)
			if (!p->exited)
				fn(p->pid, p->start_ns, arg);
}

size_t acct_held_count(const struct acct *a)
{
	return a->live;
}

uint64_t acct_mapped_bytes(const struct acct_proc *p)
{
	return p->mapped.total_bytes + (p->heap_bytes - p->heap_base_bytes);
}

uint64_t acct_net_bytes_shown(const struct acct_proc *p)
{
	return p->net_bytes > 0 ? (uint64_t)p->net_bytes : 0;
}

struct acct_proc *acct_dirty_list(struct acct *a)
{
	return a->dirty;
}

void acct_clean(struct acct *a)
{
	struct acct_proc *p = a->dirty, *n;

	for (; p; p = n) {
		n = p->next_dirty;
		p->dirty = false;
		p->next_dirty = NULL;
		range_log_reset(&p->mapped); /* stored */
		if (p->exited) {
			unhash(a, p);
			proc_free(p);
		}
	}
	a->dirty = NULL;
}

int acct_restore(struct acct *a, const struct acct_proc *src)
{
	struct acct_proc **pp = slot_of(a, src->pid), *p;

	if (*pp)
		return -EEXIST;
	p = malloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	*p = *src;
	p->dirty = false;
	p->next_dirty = NULL;
	p->next_hash = NULL;
	if (!a->no_range_log)
		range_log_start(&p->mapped); /* what was loaded is stored already */
	*pp = p;
	a->live++;
	return 0;
}

int acct_close_dead(struct acct *a, bool (*alive)(uint32_t pid, uint64_t start_ns))
{
	int n = 0;

	for (size_t b = 0; b < ACCT_BUCKETS; b++)
		for (struct acct_proc *p = a->bucket[b]; p; p = p->next_hash) {
			if (p->exited || alive(p->pid, p->start_ns))
				continue;
			release_all(p);
			p->exited = true;
			p->vm_size_bytes = 0;
			mem_gone(p, p->mem.ts_ns);
			mark_dirty(a, p);
			n++;
		}
	return n;
}
