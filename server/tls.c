/*
 * tls.c - HTTPS through CivetWeb's own OpenSSL support.
 *
 * CivetWeb 1.15 takes one PEM (ssl_certificate) holding the certificate
 * chain and the private key.  --tls-cert and --tls-key are copied into an
 * anonymous memory file (memfd) whose /proc/self/fd path is handed over:
 * the key is never written to disk again, and the files may keep the
 * usual separate layout.
 *
 * Debian's libcivetweb loads libssl.so by that name at run time (so TLS
 * needs the libssl-dev package) and looks up SSL_get_peer_certificate,
 * which OpenSSL 3 no longer exports (it became a macro for
 * SSL_get1_peer_certificate).  CivetWeb treats the lookup as optional and
 * then calls the NULL pointer on every TLS connection: the server dies at
 * the first HTTPS request.  civetweb_fix_tls() fills that one slot of
 * CivetWeb's function table with SSL_get1_peer_certificate (the same
 * function under its OpenSSL 3 name), after checking the table looks as
 * expected; if it does not, TLS is refused with a message rather than
 * risked.  tests/server checks HTTPS end to end.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server.h"

#define PEM_MAX_BYTES (1 << 20)
#define SEGS_MAX      16

struct seg {
	uintptr_t lo, hi;
	int writable;
};

struct lib_segs {
	struct seg s[SEGS_MAX];
	int n;
};

static int find_civetweb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct lib_segs *ls = arg;

	(void)size;
	if (!info->dlpi_name || !strstr(info->dlpi_name, "libcivetweb.so"))
		return 0;
	for (int k = 0; k < info->dlpi_phnum && ls->n < SEGS_MAX; k++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[k];

		if (ph->p_type == PT_LOAD)
			ls->s[ls->n++] = (struct seg){info->dlpi_addr + ph->p_vaddr,
						      info->dlpi_addr + ph->p_vaddr + ph->p_memsz,
						      (ph->p_flags & PF_W) != 0};
	}
	return 1;
}

/* The NUL-terminated string NAME in a read-only segment (not as the tail
 * of a longer name). */
static const char *find_name(const struct lib_segs *ls, const char *name)
{
	size_t len = strlen(name) + 1;

	for (int k = 0; k < ls->n; k++) {
		const char *lo = (const char *)ls->s[k].lo, *p = lo;
		size_t size = ls->s[k].hi - ls->s[k].lo;

		if (ls->s[k].writable)
			continue;
		while ((p = memmem(p, size - (size_t)(p - lo), name, len))) {
			if (p == lo || p[-1] == 0)
				return p;
			p++;
		}
	}
	return NULL;
}

/* CivetWeb's table entries are {const char *name; int flags; void *ptr}. */
static int civetweb_fix_tls(void)
{
	struct lib_segs ls = {0};
	const char *name;
	void *ssl, *fn;

	dl_iterate_phdr(find_civetweb, &ls);
	name = find_name(&ls, "SSL_get_peer_certificate");
	ssl = dlopen("libssl.so", RTLD_NOW | RTLD_NOLOAD);
	fn = ssl ? dlsym(ssl, "SSL_get1_peer_certificate") : NULL;
	for (int k = 0; name && fn && k < ls.n; k++) {
		if (!ls.s[k].writable)
			continue;
		for (uintptr_t p = (ls.s[k].lo + 7) & ~(uintptr_t)7; p + 24 <= ls.s[k].hi; p += 8) {
			void **slot = (void **)(p + 16);

			if (*(const char **)p != name)
				continue;
			if (!*slot)
				*slot = fn;
			return 0;
		}
	}
	fprintf(stderr, "memprobe-server: CivetWeb's TLS support does not look as expected "
			"(its OpenSSL function table): HTTPS refused; put a TLS proxy in front\n");
	return -ENOTSUP;
}

/* Append FILE to fd; the key file must not be readable by other users. */
static int copy_pem(int fd, const char *path, int secret)
{
	char *buf = malloc(PEM_MAX_BYTES);
	int in = open(path, O_RDONLY | O_CLOEXEC), rc = -EINVAL;
	struct stat st;
	ssize_t n = -1;

	if (!buf || in < 0 || fstat(in, &st))
		fprintf(stderr, "memprobe-server: cannot read %s: %s\n", path, strerror(errno));
	else if (secret && (st.st_mode & S_IROTH))
		fprintf(stderr,
			"memprobe-server: the TLS key %s is readable by every user: chmod 600 %s\n",
			path, path);
	else if ((n = read(in, buf, PEM_MAX_BYTES)) <= 0 || n == PEM_MAX_BYTES)
		fprintf(stderr, "memprobe-server: %s: %s\n", path,
			n < 0	 ? strerror(errno)
			: n == 0 ? "empty"
				 : "larger than 1 MiB");
	else if (write(fd, buf, (size_t)n) == n && write(fd, "\n", 1) == 1)
		rc = 0;
	if (in >= 0)
		close(in);
	if (buf)
		memset(buf, 0, PEM_MAX_BYTES);
	free(buf);
	return rc;
}

/* Call after mg_init_library(MG_FEATURES_TLS), before mg_start.  PEM_PATH
 * gets the path CivetWeb reads (valid while the process lives). */
int tls_prepare(const struct server_opts *o, char *pem_path, size_t cap)
{
	int fd, rc;

	if (!mg_check_feature(MG_FEATURES_TLS) || !dlopen("libssl.so", RTLD_NOW | RTLD_NOLOAD)) {
		fprintf(stderr, "memprobe-server: HTTPS needs OpenSSL's libssl.so, which CivetWeb "
				"loads by that name: apt-get install libssl-dev\n");
		return -ENOTSUP;
	}
	rc = civetweb_fix_tls();
	if (rc)
		return rc;
	fd = memfd_create("memprobe-tls", MFD_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "memprobe-server: memfd_create: %s\n", strerror(errno));
		return -errno;
	}
	/* The key may be in the certificate file (no --tls-key). */
	rc = copy_pem(fd, o->tls_cert, !o->tls_key[0]);
	if (rc == 0 && o->tls_key[0])
		rc = copy_pem(fd, o->tls_key, 1);
	if (rc) {
		close(fd);
		return rc;
	}
	snprintf(pem_path, cap, "/proc/self/fd/%d", fd);
	return 0;
}
