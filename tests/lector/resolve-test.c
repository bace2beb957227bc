/*
 * resolve-test.c - unit test of lector's names (lector/resolve.h), TAP:
 * the cgroup name rules on a table of real-looking paths, the parsing of
 * /proc/PID/maps lines, and file lookups against this process's own maps
 * (a mapped file, one with a newline and a backslash in its name, a
 * deleted one, one not mapped, a process that is gone, one mapped through
 * an overlayfs mount, as containers do: needs root).
 * Usage: resolve-test DIR (a directory on a regular file system).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "resolve.h"

static int n_test, n_fail;

static void ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++n_test);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	n_fail += !cond;
}

static const struct {
	const char *path;
	enum cgroup_kind kind;
	const char *name;
} names[] = {
    {"/", CGROUP_HOST, "host"},
    {NULL, CGROUP_UNKNOWN, "cgroup:4242"},
    {"/system.slice/nginx.service", CGROUP_SYSTEMD, "nginx.service"},
    {"/system.slice/dbus.socket", CGROUP_SYSTEMD, "dbus.socket"},
    {"/system.slice/home.mount", CGROUP_SYSTEMD, "home.mount"},
    {"/system.slice/dev-sda2.swap", CGROUP_SYSTEMD, "dev-sda2.swap"},
    {"/user.slice/user-1000.slice/user@1000.service/app.slice/app-org.gnome.Terminal.slice/"
     "vte-spawn-2b7e.scope",
     CGROUP_SYSTEMD, "vte-spawn-2b7e.scope"},
    {"/user.slice", CGROUP_SYSTEMD, "user.slice"},
    {"/system.slice/docker-4f1c2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f.scope",
     CGROUP_DOCKER, "docker:4f1c2a3b4c5d"},
    {"/docker/4f1c2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f", CGROUP_DOCKER,
     "docker:4f1c2a3b4c5d"},
    {"/docker/4f1c2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f/system.slice/"
     "cron.service",
     CGROUP_DOCKER, "docker:4f1c2a3b4c5d"},
    {"/machine.slice/libpod-9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b.scope/"
     "container",
     CGROUP_PODMAN, "podman:9a8b7c6d5e4f"},
    {"/machine.slice/libpod-conmon-9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b"
     ".scope",
     CGROUP_PODMAN, "podman:9a8b7c6d5e4f"},
    {"/system.slice/cri-containerd-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
     ".scope",
     CGROUP_CONTAINERD, "containerd:0123456789ab"},
    {"/default/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", CGROUP_CONTAINERD,
     "containerd:0123456789ab"},
    {"/kubepods.slice/kubepods-burstable.slice/"
     "kubepods-burstable-pod6f1e2d3c_4b5a_6978_8a9b_0c1d2e3f4a5b.slice/"
     "cri-containerd-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope",
     CGROUP_KUBERNETES, "pod:6f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"},
    {"/kubepods.slice/kubepods-pod6f1e2d3c_4b5a_6978_8a9b_0c1d2e3f4a5b.slice", CGROUP_KUBERNETES,
     "pod:6f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"},
    {"/kubepods/burstable/pod6f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b/"
     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
     CGROUP_KUBERNETES, "pod:6f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"},
    {"/kubepods/besteffort", CGROUP_CGROUP, "besteffort"},
    {"/memprobe-test-mem-123", CGROUP_CGROUP, "memprobe-test-mem-123"},
    {"/process_api/88e8e86ca9d3cfd77993e3d607dde070", CGROUP_CGROUP,
     "88e8e86ca9d3cfd77993e3d607dde070"},
    {"/system.slice/docker-shortid.scope", CGROUP_SYSTEMD, "docker-shortid.scope"},
    {"/a'b\";DROP--/x y", CGROUP_CGROUP, "x y"},
};

static void name_tests(void)
{
	char name[CGROUP_NAME_MAX + 1], longpath[600];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		enum cgroup_kind k = cgroup_name(names[i].path, 4242, name, sizeof(name));

		ok(k == names[i].kind && !strcmp(name, names[i].name),
		   "cgroup name of %s is %s (kind %d), got %s (kind %d)",
		   names[i].path ? names[i].path : "(unknown path)", names[i].name, names[i].kind,
		   name, k);
	}
	longpath[0] = '/';
	memset(longpath + 1, 'x', 400);
	longpath[401] = 0;
	cgroup_name(longpath, 1, name, sizeof(name));
	ok(strlen(name) == CGROUP_NAME_MAX, "a name longer than %d bytes is cut to %d (%zu)",
	   CGROUP_NAME_MAX, CGROUP_NAME_MAX, strlen(name));
}

static void maps_tests(void)
{
	struct maps_line ml;

	ok(maps_line_parse("7f1c2a000000-7f1c2a021000 r--p 00000000 fd:01 1835087                    "
			   "/usr/lib/x86_64-linux-gnu/libc.so.6",
			   &ml) == 0 &&
	       ml.start == 0x7f1c2a000000 && ml.end == 0x7f1c2a021000 && ml.major == 0xfd &&
	       ml.minor == 1 && ml.ino == 1835087 &&
	       !strcmp(ml.path, "/usr/lib/x86_64-linux-gnu/libc.so.6"),
	   "a maps line: range, device, inode and path");
	ok(maps_line_parse("7f00-8f00 rw-s 00001000 103:1a 12 /tmp/a b (deleted)", &ml) == 0 &&
	       ml.major == 0x103 && ml.minor == 0x1a && !strcmp(ml.path, "/tmp/a b (deleted)"),
	   "a maps line: a path with a space keeps it and ' (deleted)'");
	ok(maps_line_parse("7ffd1000-7ffd2000 rw-p 00000000 00:00 0 ", &ml) == 0 && ml.ino == 0 &&
	       !*ml.path,
	   "a maps line without a file: inode 0, no path");
	ok(maps_line_parse("garbage", &ml) < 0, "a line that is not a maps line is refused");
}

/* Map DIR/NAME (made here, one page) and look it up in our own maps. */
static void lookup(const char *dir, const char *name, int unlink_it, const char *label)
{
	char path[512], want_path[600];
	struct file_want w;
	struct stat st;
	void *p;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, 4096) < 0 || fstat(fd, &st) < 0) {
		ok(0, "%s: made %s", label, path);
		return;
	}
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (unlink_it)
		unlink(path);
	w = (struct file_want){.pid = (uint32_t)getpid(),
			       .dev = (uint32_t)makedev(major(st.st_dev), minor(st.st_dev)),
			       .ino = st.st_ino};
	file_paths(&w, 1, 1, 1000000000ULL);
	snprintf(want_path, sizeof(want_path), "%s%s", path, unlink_it ? " (deleted)" : "");
	ok(w.how == FILE_HOW_MAPS && w.path && !strcmp(w.path, want_path),
	   "%s: found in maps, the path is the file's (how %d)", label, w.how);
	free(w.path);
	munmap(p, 4096);
	w.path = NULL;
	file_paths(&w, 1, 1, 1000000000ULL);
	ok(w.how == FILE_HOW_NOT_IN_MAPS && !w.path, "%s: once unmapped: not_in_maps (how %d)",
	   label, w.how);
	if (!unlink_it)
		unlink(path);
}

static void file_tests(const char *dir)
{
	struct file_want w = {.pid = 0x3fffffff, .dev = 0x801, .ino = 12};

	lookup(dir, "plain-file", 0, "a mapped file");
	lookup(dir, "with\nnewline and \\012 backslash", 0,
	       "a name with a newline and a backslash (exact through map_files)");
	lookup(dir, "deleted-file", 1, "a deleted file");
	file_paths(&w, 1, 1, 1000000000ULL);
	ok(w.how == FILE_HOW_GONE && !w.path, "a process that is gone: gone (how %d)", w.how);
	w.how = 0;
	file_paths(&w, 1, 0, 1000000000ULL);
	ok(w.how == 0, "with no process to read allowed nothing is answered");
	file_paths(&w, 1, 1, 0);
	ok(w.how == 0, "with no time left nothing is answered");
}

/* A file mapped through an overlay: the record carries the layer's device
 * (the mapped file's superblock), maps shows the overlay's. */
static void overlay_tests(const char *dir)
{
	char lower[512], upper[512], work[512], merged[512], opts[2048], file[600], lfile[600];
	struct file_want w;
	struct stat st;
	void *p = MAP_FAILED;
	int fd;

	snprintf(lower, sizeof(lower), "%s/ovl-lower", dir);
	snprintf(upper, sizeof(upper), "%s/ovl-upper", dir);
	snprintf(work, sizeof(work), "%s/ovl-work", dir);
	snprintf(merged, sizeof(merged), "%s/ovl-merged", dir);
	snprintf(lfile, sizeof(lfile), "%s/lib.so", lower);
	snprintf(file, sizeof(file), "%s/lib.so", merged);
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work);
	mkdir(lower, 0700), mkdir(upper, 0700), mkdir(work, 0700), mkdir(merged, 0700);
	fd = open(lfile, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, 4096) < 0 || close(fd) < 0 || stat(lfile, &st) < 0 ||
	    mount("overlay", merged, "overlay", 0, opts) < 0) {
		ok(0, "an overlay mount over %s (root needed)", lower);
		return;
	}
	fd = open(file, O_RDONLY);
	if (fd >= 0)
		p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	if (fd >= 0)
		close(fd);
	w = (struct file_want){.pid = (uint32_t)getpid(),
			       .dev = (uint32_t)makedev(major(st.st_dev), minor(st.st_dev)),
			       .ino = st.st_ino,
			       .addr = (uint64_t)(uintptr_t)p + 100};
	file_paths(&w, 1, 1, 1000000000ULL);
	ok(p != MAP_FAILED && w.how == FILE_HOW_MAPS && w.path && !strcmp(w.path, file),
	   "a file mapped through an overlay: found at the mmap's address, the overlay's path (how "
	   "%d, %s)",
	   w.how, w.path ? w.path : "none");
	free(w.path);
	w.path = NULL;
	w.how = 0;
	w.addr = 0x1000;
	file_paths(&w, 1, 1, 1000000000ULL);
	ok(w.how == FILE_HOW_NOT_IN_MAPS,
	   "... but not by its inode number alone, elsewhere than the mmap's address (how %d)",
	   w.how);
	if (p != MAP_FAILED)
		munmap(p, 4096);
	umount(merged);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: resolve-test DIR\n");
		return 2;
	}
	name_tests();
	maps_tests();
	file_tests(argv[1]);
	overlay_tests(argv[1]);
	printf("1..%d\n", n_test);
	return n_fail ? 1 : 0;
}
