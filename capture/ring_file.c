/*
 * ring_file.c - checks and the SIGBUS guard for ring files (ring_file.h).
 *
 * The guard's handler runs on the thread that touched the page, at any point
 * of the reader's code, so it only reads the guard table (atomics), maps a
 * page of zeros over the faulting one with the raw system call and sets a
 * flag.  Mapping zeros in place (rather than jumping out) lets the reader
 * finish its copy and find out with ring_guard_fault() where it can say so.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>

#include "ring_file.h"

bool ring_file_is_proc(int fd)
{
	struct statfs fs;

	return fstatfs(fd, &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC;
}

/* Reading a mapped page past the end of a file is SIGBUS; procfs reports
 * size 0, so only files on other filesystems are checked. */
int ring_file_check_size(int fd, uint64_t need_bytes, char *msg, size_t msglen)
{
	struct stat st;

	if (ring_file_is_proc(fd))
		return 0;
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size >= need_bytes)
		return 0;
	snprintf(msg, msglen,
		 "ring file is truncated (%lld bytes, a ring of this header needs %llu): "
		 "not a complete memprobe ring",
		 (long long)st.st_size, (unsigned long long)need_bytes);
	return -EPROTO;
}

int ring_file_holds(int fd, int guard, const char *path, uint64_t need_bytes, char *msg,
		    size_t msglen)
{
	struct stat st = {.st_size = -1};

	__atomic_signal_fence(__ATOMIC_SEQ_CST); /* the read is done, as the handler saw it */
	if (fstat(fd, &st) == 0 && (uint64_t)st.st_size >= need_bytes && !ring_guard_fault(guard))
		return 0;
	snprintf(msg, msglen,
		 "the ring file %s shrank while it was read (%lld bytes, %llu needed): what was "
		 "read before is kept; a ring file must not change while it is read",
		 path, (long long)st.st_size, (unsigned long long)need_bytes);
	return -EIO;
}

uint64_t ring_file_whole_recs(int fd, uint64_t start_bytes, uint64_t rec_bytes)
{
	struct stat st;

	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size <= start_bytes)
		return 0;
	return ((uint64_t)st.st_size - start_bytes) / rec_bytes;
}

static struct {
	_Atomic uintptr_t lo, hi; /* [lo, hi), lo 0: free */
	_Atomic uintptr_t fault; /* lowest address a SIGBUS hit, 0: none */
} guards[RING_GUARDS_MAX];

static struct sigaction prev_action; /* what handled SIGBUS before us */
static atomic_bool installed;
static uintptr_t page_mask;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	uintptr_t a = (uintptr_t)si->si_addr;
	int saved_errno = errno; /* the interrupted code's, kept across mmap */

	/* si_code > 0: the kernel's (a fault), not kill(2) */
	for (int i = 0; si->si_code > 0 && i < RING_GUARDS_MAX; i++) {
		uintptr_t lo = atomic_load(&guards[i].lo), hi = atomic_load(&guards[i].hi);

		if (lo && a >= lo && a < hi &&
		    syscall(SYS_mmap, a & ~page_mask, page_mask + 1, PROT_READ,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != -1) {
			uintptr_t low = atomic_load(&guards[i].fault);

			while ((!low || a < low) &&
			       !atomic_compare_exchange_weak(&guards[i].fault, &low, a))
				;
			errno = saved_errno;
			return;
		}
	}
	if (prev_action.sa_flags & SA_SIGINFO) {
		prev_action.sa_sigaction(sig, si, uc);
	} else if (prev_action.sa_handler == SIG_IGN) {
		/* ignored before the guard: a sent one stays ignored; a fault
		 * runs the access again, and the kernel ends a process whose
		 * fault signal is ignored, so take the default action */
		if (si->si_code > 0)
			signal(SIGBUS, SIG_DFL);
	} else if (prev_action.sa_handler != SIG_DFL) {
		prev_action.sa_handler(sig);
	} else {
		/* the default action: a fault runs the access again and takes it;
		 * a sent signal does not come again, so send it once more (blocked
		 * in this handler, it is delivered when the handler returns) */
		signal(SIGBUS, SIG_DFL);
		if (si->si_code <= 0)
			raise(SIGBUS);
	}
	errno = saved_errno;
}

static int install(void)
{
	struct sigaction sa = {.sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO};

	if (atomic_load(&installed))
		return 0;
	page_mask = (uintptr_t)sysconf(_SC_PAGESIZE) - 1;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, &prev_action) < 0)
		return -errno;
	atomic_store(&installed, true);
	return 0;
}

int ring_guard_add(const void *p, size_t len_bytes)
{
	uintptr_t free_lo = 0;
	int rc = install();

	if (rc < 0)
		return rc;
	for (int i = 0; i < RING_GUARDS_MAX; i++) {
		if (atomic_compare_exchange_strong(&guards[i].lo, &free_lo, (uintptr_t)p)) {
			atomic_store(&guards[i].fault, 0); /* hi is 0: no fault lands here yet */
			atomic_store(&guards[i].hi, (uintptr_t)p + len_bytes);
			return i;
		}
		free_lo = 0;
	}
	return -EMFILE;
}

const void *ring_guard_fault(int id)
{
	if (id < 0 || id >= RING_GUARDS_MAX)
		return NULL;
	return (const void *)atomic_load(&guards[id].fault);
}

void ring_guard_del(int id)
{
	if (id < 0 || id >= RING_GUARDS_MAX)
		return;
	atomic_store(&guards[id].hi, 0);
	atomic_store(&guards[id].lo, 0);
}
