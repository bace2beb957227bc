/*
 * spill_fuzz.c - libFuzzer harness of the spill/journal replay of
 * lector/queue.c: a previous run's spill file with arbitrary bytes (torn,
 * corrupt, foreign).
 *
 * Input: byte 0 picks the memory capacity (bits 0-2; 0 is journal mode)
 * and the batch size (bits 3-6); the rest is the spill file.
 *
 * Invariants: replay delivers exactly the whole entries of the file, in
 * file order, byte-identical (session, record), a torn tail ignored; each
 * batch is one session; the lengths the sinks bind (comm_len,
 * thread_comm_len) are the real strnlen of the names, whatever the file
 * said; after the replay the queue works (a pushed record comes back).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "queue.h"

#define BATCH_MAX 16

static char spill_path[4096], spill_dir[4000];

static void scratch_remove(void)
{
	char lock[4200];

	snprintf(lock, sizeof(lock), "%s.lock", spill_path);
	unlink(spill_path);
	unlink(lock);
	rmdir(spill_dir);
}

static void scratch_init(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(spill_dir, sizeof(spill_dir), "%s/memprobe-spill-fuzz.XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(spill_dir))
		abort();
	snprintf(spill_path, sizeof(spill_path), "%s/spill", spill_dir);
	atexit(scratch_remove);
}

static void check_entry(const struct qent *got, const uint8_t *file, uint64_t idx)
{
	struct qent want;

	memcpy(&want, file + idx * sizeof(want), sizeof(want));
	FUZZ_ASSERT(got->session == want.session && !memcmp(&got->rec, &want.rec, sizeof(want.rec)),
		    "entry %llu is not the file's", (unsigned long long)idx);
	FUZZ_ASSERT(got->comm_len == strnlen(got->rec.comm, MEMPROBE_COMM_LEN),
		    "entry %llu: comm_len %lu, the name has %zu bytes", (unsigned long long)idx,
		    got->comm_len, strnlen(got->rec.comm, MEMPROBE_COMM_LEN));
	FUZZ_ASSERT(got->thread_comm_len == strnlen(got->rec.thread_comm, MEMPROBE_COMM_LEN),
		    "entry %llu: thread_comm_len %lu", (unsigned long long)idx,
		    got->thread_comm_len);
}

static uint64_t replay(struct queue *q, const uint8_t *file, uint64_t n_file, size_t batch)
{
	struct qent out[BATCH_MAX];
	uint64_t idx = 0;
	int n;

	while ((n = queue_peek(q, out, batch, 0)) > 0) {
		FUZZ_ASSERT((size_t)n <= batch, "peek gave %d > %zu", n, batch);
		for (int i = 0; i < n; i++) {
			FUZZ_ASSERT(idx < n_file, "more entries than the file holds (%llu)",
				    (unsigned long long)n_file);
			FUZZ_ASSERT(out[i].session == out[0].session, "a batch mixes sessions");
			check_entry(&out[i], file, idx++);
		}
		queue_pop(q, (size_t)n);
	}
	FUZZ_ASSERT(n == 0, "peek failed: %d", n);
	return idx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct memprobe_record rec = {.seq = 42, .pid = 7, .comm = "after"};
	struct qent out[1], one;
	struct queue *q;
	uint64_t n_file;
	size_t mem_cap, batch;
	int fd, rc;

	if (!spill_path[0])
		scratch_init();
	if (size < 1)
		return 0;
	mem_cap = data[0] & 7;
	batch = 1 + ((data[0] >> 3) & 15);
	fd = open(spill_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, data + 1, size - 1) != (ssize_t)(size - 1))
		abort();
	close(fd);
	n_file = (size - 1) / sizeof(struct qent);
	rc = queue_open(&q, mem_cap, spill_path);
	FUZZ_ASSERT(rc == 0, "queue_open: %d", rc);
	FUZZ_ASSERT(replay(q, data + 1, n_file, batch) == n_file, "replay lost entries");
	queue_entry_fill(&one, 99, &rec);
	rc = queue_push_many(q, &one, 1);
	FUZZ_ASSERT(rc == 0, "push after replay: %d", rc);
	rc = queue_peek(q, out, 1, 0);
	FUZZ_ASSERT(rc == 1 && out[0].rec.seq == 42 && out[0].comm_len == 5,
		    "the record pushed after replay did not come back (%d)", rc);
	queue_pop(q, 1);
	queue_close(q);
	return 0;
}
