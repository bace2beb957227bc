/*
 * procfs.h - what lector reads of a process in /proc (procfs.c): whether
 * a pid is still the process that started at start_ns, and its resident
 * and swapped memory as /proc/PID/status prints it.
 */
#ifndef MEMPROBE_PROCFS_H
#define MEMPROBE_PROCFS_H

#include <stdint.h>

#include "acct.h"

/* PID's start time, ns since boot, at the resolution of /proc/PID/stat
 * (clock ticks): 0, -ENOENT gone, -EIO not read or not parsed. */
int procfs_start_ns(uint32_t pid, uint64_t *start_ns);

/* 1: /proc/PID is the process that started at start_ns (ns since boot,
 * as records carry it; /proc/PID/stat has clock ticks: equal within two
 * ticks); 0: gone, or the pid is another process's now; -EIO: stat could
 * not be read or parsed (cannot tell). */
int procfs_same_process(uint32_t pid, uint64_t start_ns);

/* PID's RssAnon, RssFile, RssShmem and VmSwap in bytes (m->ts_ns is the
 * caller's), read only if PID is still the process of start_ns (stat and
 * status are read through one /proc/PID directory, so both describe one
 * process even if the pid is reused meanwhile).  0; -ENOENT: gone, or it
 * holds no memory any more (a zombie); -ESRCH: the pid is another
 * process's; -EIO: unreadable or not parsed. */
int procfs_read_mem(uint32_t pid, uint64_t start_ns, struct acct_mem *m);

#endif
