/*
 * resolve_file.c - a mapped file's (dev, inode) to its path, from the
 * maps of a process that mapped it (resolve.h).
 *
 * /proc/PID/maps prints each mapping's device as hex major:minor and its
 * inode, both of the inode the mapping holds, then the path as d_path()
 * makes it, " (deleted)" included.  The record's file_dev is the same
 * superblock device in st_dev encoding (include/memprobe_abi.h).  maps
 * escapes a newline in a name as \012 and leaves a backslash as it is, so
 * a path with a backslash is ambiguous there: for it, the link
 * /proc/PID/map_files/START-END (readable by root) gives the exact bytes.
 * A process that already exited has no maps (gone); one that unmapped the
 * file no longer shows it (not_in_maps).
 *
 * Overlayfs (containers) maps the file of the layer below, whose device
 * the record carries, but maps shows the overlay's device and inode: the
 * line at the record's address with the same inode number is that
 * mapping (overlayfs keeps the layer's inode numbers when the layers
 * share one file system).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "resolve.h"

#define MAPS_LINES_MAX 262144 /* far above vm.max_map_count's default */
#define CLOCK_EVERY_LINES 64  /* lines read between looks at the clock */
#define PATH_BYTES_MAX 4096

static unsigned int dev_major(uint32_t dev)
{
	return (dev >> 8) & 0xfff;
}

static unsigned int dev_minor(uint32_t dev)
{
	return (dev & 0xff) | ((dev >> 12) & 0xfff00);
}

int maps_line_parse(const char *line, struct maps_line *ml)
{
	int at = 0;

	if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %*s %*x %x:%x %" SCNu64 "%n", &ml->start,
		   &ml->end, &ml->major, &ml->minor, &ml->ino, &at) != 5 ||
	    !at)
		return -EINVAL;
	ml->path = line + at;
	while (*ml->path == ' ')
		ml->path++;
	return 0;
}

/* The exact bytes of a mapping's path (map_files), or a copy of the
 * maps text when that link cannot be read. */
static char *exact_path(uint32_t pid, const struct maps_line *ml)
{
	char link[96], buf[PATH_BYTES_MAX + 1];
	ssize_t len;

	if (!strchr(ml->path, '\\'))
		return strndup(ml->path, PATH_BYTES_MAX);
	snprintf(link, sizeof(link), "/proc/%u/map_files/%" PRIx64 "-%" PRIx64, pid, ml->start,
		 ml->end);
	len = readlink(link, buf, sizeof(buf) - 1);
	if (len <= 0)
		return strndup(ml->path, PATH_BYTES_MAX);
	buf[len] = 0;
	return strdup(buf);
}

/* One process's maps against w[0..n) (all of that pid), until deadline
 * (mono ns): past it, what was not found stays unanswered (how 0). */
static void one_pid(struct file_want *w, size_t n, uint64_t deadline_ns)
{
	char path[64], *line = NULL;
	size_t cap = 0, lines = 0, left = n;
	struct maps_line ml;
	bool late = false;
	ssize_t len;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/maps", w[0].pid);
	f = fopen(path, "re");
	if (!f) {
		enum file_how how =
		    errno == ENOENT || errno == ESRCH ? FILE_HOW_GONE : FILE_HOW_UNREADABLE;

		for (size_t i = 0; i < n; i++)
			w[i].how = how;
		return;
	}
	while (left && lines < MAPS_LINES_MAX && (len = getline(&line, &cap, f)) > 0) {
		if (++lines % CLOCK_EVERY_LINES == 0 && mono_ns() > deadline_ns) {
			late = true;
			break;
		}
		if (line[len - 1] == '\n')
			line[len - 1] = 0;
		if (maps_line_parse(line, &ml) < 0 || !ml.ino || !*ml.path)
			continue;
		for (size_t i = 0; i < n; i++) {
			bool same_dev = dev_major(w[i].dev) == ml.major &&
					dev_minor(w[i].dev) == ml.minor;
			bool at_addr = w[i].addr >= ml.start && w[i].addr < ml.end;

			if (w[i].path || w[i].ino != ml.ino || (!same_dev && !at_addr))
				continue;
			w[i].path = exact_path(w[i].pid, &ml);
			w[i].how = FILE_HOW_MAPS;
			left--;
		}
	}
	free(line);
	fclose(f);
	if (late)
		return;
	for (size_t i = 0; i < n; i++)
		if (!w[i].path) /* an exited process's maps is empty */
			w[i].how = lines ? FILE_HOW_NOT_IN_MAPS : FILE_HOW_GONE;
}

void file_paths(struct file_want *w, size_t n, size_t pids_max, uint64_t budget_ns)
{
	uint64_t deadline_ns = mono_ns() + budget_ns;
	size_t i = 0, pids = 0;

	while (i < n && pids < pids_max && mono_ns() < deadline_ns) {
		size_t j = i + 1;

		while (j < n && w[j].pid == w[i].pid)
			j++;
		one_pid(w + i, j - i, deadline_ns);
		pids++;
		i = j;
	}
}
