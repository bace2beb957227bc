/*
 * runstate.c - the SPILL.state file (see runstate.h).
 *
 * Why an mmaped file: the capture loop updates it after every poll, and a
 * store into a MAP_SHARED page costs nothing next to the poll itself; the
 * kernel keeps the page when the process is killed, so the last update
 * survives any kill.  A torn update (killed between two stores) can only
 * make read_count or the counters one batch stale: updated_ns is written
 * last, read_count before the records go to the queue, so what the next
 * run computes never undercounts a loss.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "runstate.h"

#define RUNSTATE_MAGIC 0x3154534e55524d4dULL /* "MMRUNST1" */

struct runstate {
	volatile struct runstate_rec *rec;
};

int runstate_open(struct runstate **out, const char *spill_path, struct runstate_rec *prev)
{
	char path[4096];
	struct runstate *rs = calloc(1, sizeof(*rs));
	void *m = MAP_FAILED;
	int fd, rc = 0;

	memset(prev, 0, sizeof(*prev));
	if (!rs)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s.state", spill_path);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, sizeof(struct runstate_rec)) < 0)
		rc = -errno;
	else
		m = mmap(NULL, sizeof(struct runstate_rec), PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			 0);
	if (rc == 0 && m == MAP_FAILED)
		rc = -errno;
	if (fd >= 0)
		close(fd);
	if (rc < 0) {
		free(rs);
		return rc;
	}
	rs->rec = m;
	if (rs->rec->magic == RUNSTATE_MAGIC)
		memcpy(prev, (const void *)rs->rec, sizeof(*prev));
	*out = rs;
	return 0;
}

void runstate_begin(struct runstate *rs, uint64_t session)
{
	uint64_t now = wall_ns();

	rs->rec->magic = 0; /* half written: not a previous run's state */
	rs->rec->session = session;
	rs->rec->read_count = 0;
	rs->rec->seen = rs->rec->drops = 0;
	rs->rec->started_ns = now;
	rs->rec->updated_ns = now;
	rs->rec->magic = RUNSTATE_MAGIC;
}

void runstate_update(struct runstate *rs, uint64_t read_count, uint64_t seen, uint64_t drops)
{
	rs->rec->read_count = read_count;
	rs->rec->seen = seen;
	rs->rec->drops = drops;
	rs->rec->updated_ns = wall_ns();
}

void runstate_close(struct runstate *rs)
{
	if (!rs)
		return;
	munmap((void *)rs->rec, sizeof(struct runstate_rec));
	free(rs);
}
