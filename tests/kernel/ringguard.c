// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * ringguard - guest-test helper for who may use /proc/memprobe and for
 * what its waiters see when the module goes.  Owns three probes:
 *
 *   open       open the ring and say how it went (open=ok, open=EPERM, ...):
 *              run it under unshare -Ur or setpriv to test the access rule
 *   exec-map   an executable mapping of the ring (mmap PROT_EXEC, mprotect
 *              to PROT_EXEC) and a plain read-only one, each result printed
 *   waiters    park waiters on one open ring: two epoll instances (one
 *              EPOLLEXCLUSIVE), an aio poll and a forked child asleep in
 *              select() on the ring's exceptfds; print "ready child=PID",
 *              wait (bounded) for SIGUSR1, then close them one by one: the
 *              epoll fds, the aio context, the child (SIGUSR2 ends its
 *              select()), the ring.  The test unloads the
 *              module in between, so these closes touch whatever the module
 *              left behind.
 *
 * Prints key=value lines; exit 1 when a step failed, 2 on a usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "memprobe_abi.h"

#define HOLD_TIMEOUT_S	    120 /* the test signals far sooner; never hang */
#define CHILD_SELECT_TIMEOUT_S 120
#define CHILD_WAIT_MS	    10000

static const char *errno_name(int err)
{
	const char *name = strerrorname_np(err);

	return name ? name : "E?";
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: ringguard open\n"
		"       ringguard exec-map\n"
		"       ringguard waiters\n"
		"Probes %s (load the module first); see the comment at the top of\n"
		"tests/kernel/ringguard.c.  Prints key=value lines; exit 1 when a step\n"
		"failed, 2 on a usage error.\n",
		MEMPROBE_PROC_PATH);
}

static int cmd_open(void)
{
	int fd = open(MEMPROBE_PROC_PATH, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		printf("open=%s\n", errno_name(errno));
		return 1;
	}
	printf("open=ok\n");
	close(fd);
	return 0;
}

/* Each attempt printed; the verdict is the test's, not ours. */
static int cmd_exec_map(void)
{
	long page_bytes = sysconf(_SC_PAGESIZE);
	int fd = open(MEMPROBE_PROC_PATH, O_RDONLY | O_CLOEXEC);
	void *p;

	if (fd < 0) {
		printf("open=%s\n", errno_name(errno));
		return 1;
	}
	p = mmap(NULL, page_bytes, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
	printf("map_exec=%s\n", p == MAP_FAILED ? errno_name(errno) : "ok");
	if (p != MAP_FAILED)
		munmap(p, page_bytes);
	p = mmap(NULL, page_bytes, PROT_READ, MAP_SHARED, fd, 0);
	printf("map_read=%s\n", p == MAP_FAILED ? errno_name(errno) : "ok");
	if (p != MAP_FAILED) {
		printf("mprotect_exec=%s\n",
		       mprotect(p, page_bytes, PROT_READ | PROT_EXEC) ? errno_name(errno) : "ok");
		munmap(p, page_bytes);
	}
	close(fd);
	return 0;
}

static void on_sigusr2(int sig)
{
	(void)sig; /* only to make select() return EINTR */
}

/* The child: asleep in select() on the inherited ring fd until SIGUSR2.
 * With only exceptfds set, select() waits for EPOLLPRI alone, which the
 * ring never reports and no wakeup of the ring carries (not even the
 * HUP|ERR of a stop, or POLLFREE): its wait entry stays on the ring's wait
 * queue for as long as the call lasts, whatever the module does. */
static int child_select(int ring_fd)
{
	struct sigaction sa = {.sa_handler = on_sigusr2};
	struct timeval timeout = {.tv_sec = CHILD_SELECT_TIMEOUT_S};
	fd_set except;
	int rc;

	sigaction(SIGUSR2, &sa, NULL);
	FD_ZERO(&except);
	FD_SET(ring_fd, &except);
	rc = select(ring_fd + 1, NULL, NULL, &except, &timeout);
	printf("child_select=%s\n", rc < 0 ? errno_name(errno) : rc ? "ready" : "timeout");
	return rc < 0 && errno == EINTR ? 0 : 1;
}

static int epoll_watch(int ring_fd, uint32_t events)
{
	struct epoll_event ev = {.events = events};
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, ring_fd, &ev)) {
		printf("epoll_ctl=%s\n", errno_name(errno));
		close(ep);
		return -1;
	}
	return ep;
}

/* An aio poll request for POLLPRI on the ring (IOCB_CMD_POLL). */
static int aio_watch(int ring_fd, aio_context_t *ctx)
{
	struct iocb cb = {.aio_fildes = ring_fd, .aio_lio_opcode = IOCB_CMD_POLL,
			  .aio_buf = POLLPRI};
	struct iocb *cbs[1] = {&cb};

	if (syscall(SYS_io_setup, 1, ctx)) {
		printf("io_setup=%s\n", errno_name(errno));
		return -1;
	}
	if (syscall(SYS_io_submit, *ctx, 1, cbs) != 1) {
		printf("io_submit=%s\n", errno_name(errno));
		return -1;
	}
	return 0;
}

static int wait_child(pid_t pid)
{
	int status, i;

	for (i = 0; i < CHILD_WAIT_MS / 10; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	printf("child=hung\n");
	return 1;
}

/* SIGUSR1 (bounded wait), then every waiter goes away, one by one. */
static int waiters_release(int ring_fd, int ep, int ep_excl, aio_context_t ctx, pid_t child)
{
	struct timespec timeout = {.tv_sec = HOLD_TIMEOUT_S};
	struct epoll_event ev;
	struct io_event done;
	sigset_t set;
	int n, rc = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	if (sigtimedwait(&set, NULL, &timeout) != SIGUSR1) {
		printf("signal=timeout\n");
		rc = 1;
	}
	n = epoll_wait(ep, &ev, 1, 0);
	printf("epoll_events=%d mask=0x%x\n", n, n > 0 ? ev.events : 0);
	close(ep);
	close(ep_excl);
	n = syscall(SYS_io_getevents, ctx, 0, 1, &done, NULL);
	printf("aio_done=%d res=0x%llx\n", n, n > 0 ? (unsigned long long)done.res : 0ULL);
	syscall(SYS_io_destroy, ctx);
	kill(child, SIGUSR2);
	rc |= wait_child(child);
	close(ring_fd);
	printf("closed=all\n");
	return rc;
}

static int cmd_waiters(void)
{
	int ring_fd, ep, ep_excl;
	aio_context_t ctx = 0;
	sigset_t set;
	pid_t child;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL); /* before fork: the child inherits it */
	ring_fd = open(MEMPROBE_PROC_PATH, O_RDONLY | O_CLOEXEC);
	if (ring_fd < 0) {
		printf("open=%s\n", errno_name(errno));
		return 1;
	}
	/* The child first, so it holds no copy of the epoll fds below. */
	child = fork();
	if (child == 0)
		_exit(child_select(ring_fd));
	if (child < 0) {
		printf("fork=%s\n", errno_name(errno));
		return 1;
	}
	ep = epoll_watch(ring_fd, EPOLLIN);
	ep_excl = epoll_watch(ring_fd, EPOLLIN | EPOLLEXCLUSIVE);
	if (ep < 0 || ep_excl < 0 || aio_watch(ring_fd, &ctx)) {
		kill(child, SIGKILL);
		return 1;
	}
	printf("ready child=%d\n", (int)child);
	fflush(stdout);
	return waiters_release(ring_fd, ep, ep_excl, ctx, child);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && !strcmp(argv[1], "open"))
		return cmd_open();
	if (argc == 2 && !strcmp(argv[1], "exec-map"))
		return cmd_exec_map();
	if (argc == 2 && !strcmp(argv[1], "waiters"))
		return cmd_waiters();
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}
