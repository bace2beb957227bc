/*
 * ring_file.h - a ring file (--ring-path: a capture kept on disk, not
 * /proc/memprobe) is nobody's but the filesystem's: another process may
 * rewrite or truncate it while the reader maps it.
 *
 * A read of a mapped page past the end of a file is SIGBUS, so the
 * mappings of a ring file are guarded: a SIGBUS inside a guarded range
 * turns that page into zeros and notes where; any other SIGBUS goes
 * to the handler that was there before (or the default action).  The
 * reader copies what it reads out of the mapping and then asks
 * ring_file_holds(); the rest of the last page past the end reads as zeros
 * without a signal, so that also checks the file's size after the copy.
 */
#ifndef MEMPROBE_RING_FILE_H
#define MEMPROBE_RING_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* fd is /proc/memprobe (the module's ring), not a ring file. */
bool ring_file_is_proc(int fd);
/* A ring file holds need_bytes (the module's ring always does): 0, or
 * -EPROTO with a sentence.  Before mapping. */
int ring_file_check_size(int fd, uint64_t need_bytes, char *msg, size_t msglen);
/* After a read out of a guarded mapping: the file still holds need_bytes
 * and no page vanished under the read.  0, or -EIO with a sentence naming
 * path. */
int ring_file_holds(int fd, int guard, const char *path, uint64_t need_bytes, char *msg,
		    size_t msglen);
/* Whole records of rec_bytes the file holds from start_bytes on, now. */
uint64_t ring_file_whole_recs(int fd, uint64_t start_bytes, uint64_t rec_bytes);

#define RING_GUARDS_MAX 8

/* Guard [p, p + len_bytes); installs the handler the first time.  Returns
 * the guard's id, or -EMFILE when RING_GUARDS_MAX are in use, -errno. */
int ring_guard_add(const void *p, size_t len_bytes);
/* The lowest address of the guard where a SIGBUS was turned into zeros
 * since it was added (what was read below it is the file's), or NULL. */
const void *ring_guard_fault(int id);
/* Before the range is unmapped; id < 0 is fine. */
void ring_guard_del(int id);

#endif /* MEMPROBE_RING_FILE_H */
