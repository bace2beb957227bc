/*
 * resolve.h - names for the ids records carry: a cgroup id becomes the
 * cgroup's path and a display name (resolve_cgroup.c), a mapped file's
 * (dev, inode) becomes its path (resolve_file.c).  resolve.c runs both in
 * the writer thread over each batch it takes, remembers what it did
 * (bounded caches), and holds the new rows for the sink's cgroups and
 * files tables until the sink has written them (right after each commit).
 * Each id is looked up once; a file not found is tried again when another
 * process maps it, a few times at most.  Reading /proc is bounded per
 * batch in count and time, so a commit is never held up for long.
 */
#ifndef MEMPROBE_RESOLVE_H
#define MEMPROBE_RESOLVE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "queue.h"

#define CGROUP_NAME_MAX 255 /* bytes of cgroups.name */
/* The caches forget everything this often: an id met again is looked up
 * and written again, so a row's resolved_ns is at most this much older
 * than the last time lector met its id (retention relies on it:
 * lector/retain.c), and a reused inode number gets its new path. */
#define RESOLVE_FORGET_NS (3600 * 1000000000ULL)

/* The cgroups.kind ENUM of migration 017, in its order (the index is
 * what the sink binds). */
enum cgroup_kind {
	CGROUP_HOST = 1,
	CGROUP_SYSTEMD,
	CGROUP_DOCKER,
	CGROUP_PODMAN,
	CGROUP_CONTAINERD,
	CGROUP_KUBERNETES,
	CGROUP_CGROUP,
	CGROUP_UNKNOWN,
};

/* The files.how ENUM of migration 017, in its order. */
enum file_how {
	FILE_HOW_MAPS = 1, /* found in /proc/PID/maps (exact bytes: map_files) */
	FILE_HOW_GONE,	   /* the process was gone before lector looked */
	FILE_HOW_NOT_IN_MAPS, /* the process no longer mapped it */
	FILE_HOW_UNREADABLE,  /* its maps could not be read */
};

struct cgroup_row {
	uint64_t id;
	char *path; /* below the cgroup2 mount, "/" for the root; NULL: unknown */
	char name[CGROUP_NAME_MAX + 1];
	enum cgroup_kind kind;
	uint64_t resolved_ns; /* wall clock */
};

struct file_row {
	uint32_t dev; /* st_dev encoding, as the record */
	uint64_t ino;
	char *path; /* NULL: not found, how says why */
	enum file_how how;
	uint64_t resolved_ns;
};

/* Rows found since the sink last wrote them. */
struct names_batch {
	const struct cgroup_row *cgroups;
	size_t n_cgroups;
	const struct file_row *files;
	size_t n_files;
};

struct resolver;

int resolve_new(struct resolver **out);
/* Logs the counters once more, then frees. */
void resolve_free(struct resolver *r);
/* Look up the new ids of e[0..n) (bounded in count and time). */
void resolve_batch(struct resolver *r, const struct qent *e, size_t n);
/* The rows waiting for the sink; resolve_written() once they are stored. */
void resolve_pending(const struct resolver *r, struct names_batch *nb);
void resolve_written(struct resolver *r);
struct sink;
/* Hand the waiting rows to the sink (put_names); kept when it fails. */
int resolve_store(struct resolver *r, struct sink *s);
/* One line of counters: found / not found, by how, for files and cgroups. */
void resolve_log(const struct resolver *r, FILE *f);

/* resolve_cgroup.c.  The display name and kind of a cgroup path (NULL:
 * unknown): the rules are the README's ("Cgroups and files"); name gets
 * at most CGROUP_NAME_MAX bytes and a NUL. */
enum cgroup_kind cgroup_name(const char *path, uint64_t id, char *name, size_t name_size);

struct cgroup_fs;
/* Find the cgroup2 mount (/proc/self/mountinfo); NULL fields when none. */
int cgroup_fs_open(struct cgroup_fs **out);
void cgroup_fs_close(struct cgroup_fs *fs);
/* Paths of ids[0..n) into paths[] (malloc'd, NULL when not found), and
 * for each 0 (answered: found or gone) or -EAGAIN (ask again later). */
void cgroup_fs_paths(struct cgroup_fs *fs, const uint64_t *ids, size_t n, char **paths,
		     int *status);

/* resolve_file.c.  One line of /proc/PID/maps: 0 and its fields (path:
 * where the name starts in line, "" for none), or -EINVAL. */
struct maps_line {
	uint64_t start, end;
	unsigned int major, minor;
	uint64_t ino;
	const char *path;
};
int maps_line_parse(const char *line, struct maps_line *ml);

/* A file wanted from a process's maps; addr: where the mmap put it. */
struct file_want {
	uint32_t pid, dev;
	uint64_t ino, addr;
	char *path;	   /* out: malloc'd when found */
	enum file_how how; /* out: 0 when not answered (no time left) */
};
/* Resolve w[0..n), sorted by pid, how 0: each pid's maps is read once.
 * Stops after pids_max processes or budget_ns, leaving the rest how 0. */
void file_paths(struct file_want *w, size_t n, size_t pids_max, uint64_t budget_ns);

#endif
