/*
 * resolve_cgroup.c - a cgroup v2 id to its path below the cgroup2 mount,
 * and a path to the name people call it by (resolve.h).
 *
 * The id is the kernfs id of the cgroup's directory, which is also its
 * inode number.  The kernel turns it back into the directory through a
 * kernfs file handle (open_by_handle_at on the mount, handle type
 * FILEID_KERNFS, 8 bytes of id; needs CAP_DAC_READ_SEARCH), and
 * /proc/self/fd/N names it.  Without that capability (or a kernel that
 * refuses the handle) the mount is walked, bounded in directories and
 * depth, at most once every CGROUP_WALK_EVERY_MS, looking for all the
 * wanted ids at once (readdir's d_ino is the id).  A stale handle means
 * the cgroup is gone: ids are never reused while the machine runs, so
 * that answer is final.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "resolve.h"

#define FILEID_KERNFS	     0xfe
#define CGROUP_ROOT_ID	     1 /* the root cgroup's kernfs id */
#define CGROUP_WALK_EVERY_MS 10000
#define CGROUP_WALK_DIRS_MAX 100000
#define CGROUP_WALK_DEPTH    32
#define MOUNT_PATH_MAX	     4096

struct cgroup_fs {
	int mount_fd;		   /* -1: no cgroup2 mount */
	char mnt[MOUNT_PATH_MAX];  /* where it is mounted */
	char root[MOUNT_PATH_MAX]; /* the hierarchy's directory mounted there */
	bool no_handles;	   /* open_by_handle_at refused: walk */
	uint64_t last_walk_ns;
};

/* ---- the name of a path ---- */

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return n > 0;
}

/* s[0..n) is PREFIX + at least 12 hex [+ ".scope"]: the hex's start. */
static const char *prefixed_id(const char *s, size_t n, const char *prefix)
{
	size_t p = strlen(prefix), h;

	if (n < p || memcmp(s, prefix, p))
		return NULL;
	h = n - p;
	if (h > 6 && !memcmp(s + n - 6, ".scope", 6))
		h -= 6;
	return h >= 12 && all_hex(s + p, h) ? s + p : NULL;
}

/* A kubernetes pod uid after "pod" in s[0..n) (8-4-4-4-12, '-' or '_'),
 * written as "pod:<uid with ->"; false when there is none. */
static bool pod_uid(const char *s, size_t n, char *name, size_t name_size)
{
	for (const char *p = s; (p = memmem(p, n - (size_t)(p - s), "pod", 3)); p++) {
		const char *u = p + 3;
		size_t left = n - (size_t)(u - s), i;
		char uid[37];

		if (left < 36)
			return false;
		for (i = 0; i < 36; i++) {
			bool sep = i == 8 || i == 13 || i == 18 || i == 23;

			if (sep ? (u[i] != '-' && u[i] != '_') : !isxdigit((unsigned char)u[i]))
				break;
			uid[i] = sep ? '-' : u[i];
		}
		if (i == 36) {
			uid[36] = 0;
			snprintf(name, name_size, "pod:%s", uid);
			return true;
		}
	}
	return false;
}

/* A container id in one path element (prev: the element before it). */
static enum cgroup_kind container(const char *el, size_t n, const char *prev, size_t prev_n,
				  char *name, size_t name_size)
{
	static const struct {
		const char *prefix, *label;
		enum cgroup_kind kind;
	} rules[] = {
	    {"docker-", "docker", CGROUP_DOCKER},
	    {"libpod-conmon-", "podman", CGROUP_PODMAN},
	    {"libpod-", "podman", CGROUP_PODMAN},
	    {"cri-containerd-", "containerd", CGROUP_CONTAINERD},
	    {"nerdctl-", "containerd", CGROUP_CONTAINERD},
	};
	const char *hex;

	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		hex = prefixed_id(el, n, rules[i].prefix);
		if (hex) {
			snprintf(name, name_size, "%s:%.12s", rules[i].label, hex);
			return rules[i].kind;
		}
	}
	/* cgroupfs drivers: /docker/<64 hex>, containerd's /default/<64 hex> */
	if (n == 64 && all_hex(el, n) && prev) {
		if (prev_n == 6 && !memcmp(prev, "docker", 6)) {
			snprintf(name, name_size, "docker:%.12s", el);
			return CGROUP_DOCKER;
		}
		if (prev_n == 7 && !memcmp(prev, "default", 7)) {
			snprintf(name, name_size, "containerd:%.12s", el);
			return CGROUP_CONTAINERD;
		}
	}
	return 0;
}

static bool systemd_unit(const char *el, size_t n)
{
	static const char *const types[] = {".service", ".scope", ".slice",
					    ".socket",	".mount", ".swap"};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t t = strlen(types[i]);

		if (n > t && !memcmp(el + n - t, types[i], t))
			return true;
	}
	return false;
}

enum cgroup_kind cgroup_name(const char *path, uint64_t id, char *name, size_t name_size)
{
	const char *el, *prev = NULL, *last = NULL;
	size_t n, prev_n = 0, last_n = 0;
	enum cgroup_kind kind;

	if (!path || path[0] != '/') {
		snprintf(name, name_size, "cgroup:%" PRIu64, id);
		return CGROUP_UNKNOWN;
	}
	if (!strcmp(path, "/")) {
		snprintf(name, name_size, "host");
		return CGROUP_HOST;
	}
	if (strstr(path, "/kubepods")) {
		for (el = path + 1; *el; el += n + (el[n] == '/')) {
			n = strcspn(el, "/");
			if (pod_uid(el, n, name, name_size))
				return CGROUP_KUBERNETES;
		}
	}
	for (el = path + 1; *el; el += n + (el[n] == '/')) {
		n = strcspn(el, "/");
		kind = container(el, n, prev, prev_n, name, name_size);
		if (kind)
			return kind; /* the outermost container */
		prev = el, prev_n = n;
		if (n)
			last = el, last_n = n;
	}
	if (!last) {
		snprintf(name, name_size, "cgroup:%" PRIu64, id);
		return CGROUP_UNKNOWN;
	}
	snprintf(name, name_size, "%.*s", (int)(last_n < CGROUP_NAME_MAX ? last_n : CGROUP_NAME_MAX),
		 last);
	return systemd_unit(last, last_n) ? CGROUP_SYSTEMD : CGROUP_CGROUP;
}

/* ---- where the hierarchy is ---- */

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = 0;
}

/* The first cgroup2 mount of /proc/self/mountinfo: its root and point. */
static bool find_mount(struct cgroup_fs *fs)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL, *root, *point, *sep, *save;
	size_t cap = 0;
	bool found = false;

	if (!f)
		return false;
	while (!found && getline(&line, &cap, f) > 0) {
		sep = strstr(line, " - cgroup2 ");
		if (!sep)
			continue;
		*sep = 0;
		strtok_r(line, " ", &save); /* mount id */
		strtok_r(NULL, " ", &save); /* parent id */
		strtok_r(NULL, " ", &save); /* major:minor */
		root = strtok_r(NULL, " ", &save);
		point = strtok_r(NULL, " ", &save);
		if (!root || !point || strlen(root) >= MOUNT_PATH_MAX ||
		    strlen(point) >= MOUNT_PATH_MAX)
			continue;
		unescape(root);
		unescape(point);
		snprintf(fs->root, sizeof(fs->root), "%s", root);
		snprintf(fs->mnt, sizeof(fs->mnt), "%s", point);
		found = true;
	}
	free(line);
	fclose(f);
	return found;
}

int cgroup_fs_open(struct cgroup_fs **out)
{
	struct cgroup_fs *fs = calloc(1, sizeof(*fs));

	if (!fs)
		return -ENOMEM;
	fs->mount_fd = -1;
	if (find_mount(fs))
		fs->mount_fd = open(fs->mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fs->mount_fd < 0)
		fprintf(stderr, "lector: no cgroup2 file system is mounted: cgroups other than the "
				"root are stored without a path\n");
	*out = fs;
	return 0;
}

void cgroup_fs_close(struct cgroup_fs *fs)
{
	if (!fs)
		return;
	if (fs->mount_fd >= 0)
		close(fs->mount_fd);
	free(fs);
}

/* mounted path -> the path in the hierarchy (root prepended), malloc'd. */
static char *hierarchy_path(const struct cgroup_fs *fs, const char *mounted)
{
	size_t m = strlen(fs->mnt);
	const char *rest;
	char *out;

	if (!strcmp(fs->mnt, "/"))
		m = 0;
	if (strncmp(mounted, fs->mnt, m) || (mounted[m] && mounted[m] != '/'))
		return NULL; /* not below the mount as we see it */
	rest = mounted + m;
	if (!strcmp(fs->root, "/"))
		return strdup(*rest ? rest : "/");
	if (asprintf(&out, "%s%s", fs->root, rest) < 0)
		return NULL;
	return out;
}

/* Through a kernfs file handle: 0 (path set, or NULL: gone), -EPERM (no
 * handles here), -EAGAIN. */
static int by_handle(struct cgroup_fs *fs, uint64_t id, char **path)
{
	union {
		struct file_handle fh;
		char bytes[sizeof(struct file_handle) + sizeof(uint64_t)];
	} h;
	char link[64], target[MOUNT_PATH_MAX + 1];
	ssize_t len;
	int fd;

	h.fh.handle_bytes = sizeof(id);
	h.fh.handle_type = FILEID_KERNFS;
	memcpy(h.fh.f_handle, &id, sizeof(id));
	fd = open_by_handle_at(fs->mount_fd, &h.fh, O_RDONLY | O_PATH | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ESTALE || errno == ENOENT)
			return 0; /* removed: *path stays NULL */
		if (errno == EPERM || errno == EOPNOTSUPP || errno == EINVAL || errno == ENOSYS)
			return -EPERM;
		return -EAGAIN;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	len = readlink(link, target, sizeof(target) - 1);
	close(fd);
	if (len < 0)
		return -EAGAIN;
	target[len] = 0;
	*path = hierarchy_path(fs, target);
	return 0;
}

/* ---- the bounded walk ---- */

struct walk {
	const uint64_t *ids;
	char **paths;
	int *status;
	size_t n, left;
	size_t dirs;
	bool truncated;
	char buf[MOUNT_PATH_MAX];
};

static void walk_dir(struct cgroup_fs *fs, struct walk *w, size_t len, int depth)
{
	DIR *d;
	struct dirent *de;

	if (depth > CGROUP_WALK_DEPTH || w->dirs >= CGROUP_WALK_DIRS_MAX) {
		w->truncated = true;
		return;
	}
	w->dirs++;
	d = opendir(w->buf);
	if (!d)
		return; /* removed meanwhile */
	while (w->left && (de = readdir(d))) {
		size_t nl = strlen(de->d_name);

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if (len + 1 + nl >= sizeof(w->buf)) {
			w->truncated = true;
			continue;
		}
		w->buf[len] = '/';
		memcpy(w->buf + len + 1, de->d_name, nl + 1);
		for (size_t i = 0; i < w->n; i++) {
			if (w->status[i] == -EAGAIN && w->ids[i] == de->d_ino) {
				w->paths[i] = hierarchy_path(fs, w->buf);
				w->status[i] = 0;
				w->left--;
			}
		}
		walk_dir(fs, w, len + 1 + nl, depth + 1);
		w->buf[len] = 0;
	}
	closedir(d);
}

/* The ids still -EAGAIN in status: found, gone (a full walk did not meet
 * them) or, when walked less than CGROUP_WALK_EVERY_MS ago, left -EAGAIN. */
static void by_walk(struct cgroup_fs *fs, const uint64_t *ids, size_t n, char **paths, int *status)
{
	struct walk w = {.ids = ids, .paths = paths, .status = status, .n = n};
	static bool said;

	for (size_t i = 0; i < n; i++)
		w.left += status[i] == -EAGAIN;
	if (!w.left || mono_ns() - fs->last_walk_ns < CGROUP_WALK_EVERY_MS * 1000000ULL)
		return;
	fs->last_walk_ns = mono_ns();
	snprintf(w.buf, sizeof(w.buf), "%s", strcmp(fs->mnt, "/") ? fs->mnt : "");
	walk_dir(fs, &w, strlen(w.buf), 0);
	if (w.truncated && !said) {
		fprintf(stderr,
			"lector: the cgroup2 hierarchy under %s is larger than the %d directories "
			"(or %d levels) lector walks: cgroups past that are stored without a path\n",
			fs->mnt, CGROUP_WALK_DIRS_MAX, CGROUP_WALK_DEPTH);
		said = true;
	}
	for (size_t i = 0; i < n; i++)
		if (status[i] == -EAGAIN)
			status[i] = 0; /* not there: gone, or past the bound */
}

void cgroup_fs_paths(struct cgroup_fs *fs, const uint64_t *ids, size_t n, char **paths,
		     int *status)
{
	bool walk = false;

	for (size_t i = 0; i < n; i++) {
		paths[i] = NULL;
		status[i] = 0;
		if (ids[i] == CGROUP_ROOT_ID) {
			paths[i] = strdup("/");
			continue;
		}
		if (fs->mount_fd < 0)
			continue; /* no mount: unknown */
		if (!fs->no_handles) {
			status[i] = by_handle(fs, ids[i], &paths[i]);
			if (status[i] != -EPERM)
				continue;
			fs->no_handles = true;
			fprintf(stderr, "lector: the kernel refused a cgroup file handle (lector "
					"needs CAP_DAC_READ_SEARCH): walking the cgroup2 mount instead, "
					"at most every %d s\n",
				CGROUP_WALK_EVERY_MS / 1000);
		}
		status[i] = -EAGAIN;
		walk = true;
	}
	if (walk)
		by_walk(fs, ids, n, paths, status);
}
