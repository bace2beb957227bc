/*
 * workload.h - the expectation file that known-calls writes and
 * check-records reads: the one shared description of what the known-calls
 * workload did, used by the host eBPF test and the guest stap test alike.
 *
 * Format: a sequence of struct memprobe_record (include/memprobe_abi.h),
 * 192 bytes each (ABI 2), native endianness.
 *   [0]    header, call == WL_CALL_HEADER:
 *            pid, uid      the workload process and its real uid
 *            tid           number of expected records that follow
 *            ts_ns         CLOCK_REALTIME just before the first call (marker)
 *            new_addr      CLOCK_REALTIME just before exit_group
 *            new_len       process start time, clock ticks since boot
 *                          (/proc/self/stat field 22)
 *            len           clock ticks per second (sysconf(_SC_CLK_TCK))
 *            comm          the process name (PR_GET_NAME of the leader)
 *   [1..n] the expected records, in the order the calls were made, with
 *          every field filled as the capture must fill it, except seq, ts_ns
 *          and start_ns (0 here; checked against the header instead).
 *
 * The first expected record is the begin marker: a mmap with addr ==
 * WL_MARKER_ADDR and len 0 that fails with -EINVAL.  The checker ignores the
 * process's records before it (exec, the dynamic loader's mappings).
 */
#ifndef MEMPROBE_WORKLOAD_H
#define MEMPROBE_WORKLOAD_H

#include <stdint.h>
#include "memprobe_abi.h"

#define WL_CALL_HEADER  0
#define WL_MARKER_ADDR  0x4d454d50000ULL /* "MEMP", page aligned */
#define WL_MAX_RECORDS  64

#endif
