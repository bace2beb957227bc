/*
 * check-records - checks a capture of a known-calls run against what the
 * workload wrote down (workload.h), exactly, field by field, in order.
 *
 *   check-records [--no-file] [--drops N] EXPECT RAW
 *   check-records --count PID CALL RAW     (count=N: PID's CALL records)
 *
 * RAW is what `memprobe-cat --raw` (or any source) wrote: 192-byte records;
 * "-" reads stdin.  Capture must have run during the whole workload.
 * --drops N: the producer's drop count for the capture; the seq values in RAW
 * must then have exactly N holes (default 0: none).
 * --no-file: file_dev/file_ino are not compared (RAW was rebuilt from
 * database rows, which do not store them yet).
 * Prints TAP lines (numbered from 1) and a "# " diff for every mismatch;
 * exits 1 when any check failed, 2 on bad usage or unreadable input.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

struct field {
	const char *name;
	size_t off, size;
	int is_str;
};

#define F(n)   { #n, offsetof(struct memprobe_record, n), sizeof(((struct memprobe_record *)0)->n), 0 }
#define FS(n)  { #n, offsetof(struct memprobe_record, n), MEMPROBE_COMM_LEN, 1 }

/* Everything but seq, ts_ns and start_ns (checked across records). */
static const struct field fields[] = {
	F(pid), F(tid), F(uid), F(call), F(flags), F(addr), F(len), F(new_addr), F(new_len),
	F(offset), F(ret), F(total_vm_bytes), F(prot), F(mflags), F(fd), F(file_dev),
	F(file_ino), FS(comm), FS(thread_comm),
};

static int tap_n, tap_failed, tap_quiet;
static int skip_file; /* --no-file: RAW was rebuilt from rows without file_dev/file_ino */

static void tap(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tap(int ok, const char *fmt, ...)
{
	va_list ap;

	tap_failed |= !ok;
	if (tap_quiet)
		return;
	printf("%sok %d - ", ok ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static struct memprobe_record *load(const char *path, size_t *n_out)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	size_t cap = 4096, n = 0, got = 0, extra;
	struct memprobe_record *v = malloc(cap * sizeof(*v));

	if (!f || !v) {
		fprintf(stderr, "check-records: cannot read %s: %s\n", path, strerror(errno));
		exit(2);
	}
	while ((got = fread(v + n, sizeof(*v), cap - n, f)) > 0) {
		n += got;
		if (n == cap && !(v = realloc(v, (cap *= 2) * sizeof(*v))))
			exit(2);
	}
	extra = fread(&got, 1, 1, f); /* a trailing partial record? */
	*n_out = n;
	tap(!extra && !ferror(f), "%s holds whole %zu-byte records (%zu)", path, sizeof(*v), n);
	if (f != stdin)
		fclose(f);
	return v;
}

static void print_str(const char *label, const char *s)
{
	int i;

	printf("%s\"", label);
	for (i = 0; i < MEMPROBE_COMM_LEN && s[i]; i++)
		printf(s[i] == '"' || s[i] == '\\' ? "\\%c" : (s[i] < 32 ? "\\x%02x" : "%c"),
		       (unsigned char)s[i]);
	printf("\"");
}

static unsigned long long field_val(const struct memprobe_record *r, const struct field *f)
{
	unsigned long long v = 0;

	memcpy(&v, (const char *)r + f->off, f->size);
	if (f->size == 4 && (v & 0x80000000ULL) && !strcmp(f->name, "fd"))
		v |= 0xffffffff00000000ULL;
	return v;
}

/* Compare one record; print a diff line per differing field. */
static int compare(int i, const struct memprobe_record *e, const struct memprobe_record *g)
{
	const struct field *f;
	int bad = 0;

	for (f = fields; f < fields + sizeof(fields) / sizeof(fields[0]); f++) {
		if (skip_file && !strncmp(f->name, "file_", 5))
			continue;
		if (!memcmp((const char *)e + f->off, (const char *)g + f->off, f->size))
			continue;
		bad = 1;
		printf("#   record %d field %s: expected ", i, f->name);
		if (f->is_str) {
			print_str("", (const char *)e + f->off);
			print_str(" got ", (const char *)g + f->off);
		} else {
			printf("%lld (0x%llx) got %lld (0x%llx)", (long long)field_val(e, f),
			       field_val(e, f), (long long)field_val(g, f), field_val(g, f));
		}
		putchar('\n');
	}
	return !bad;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void check_seq_holes(const struct memprobe_record *v, size_t n, unsigned long long drops)
{
	uint64_t *s = malloc((n + 1) * sizeof(*s));
	unsigned long long holes = 0, dups = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s[i] = v[i].seq;
	qsort(s, n, sizeof(*s), cmp_u64);
	for (i = 1; i < n; i++) {
		if (s[i] == s[i - 1])
			dups++;
		else
			holes += s[i] - s[i - 1] - 1;
	}
	tap(dups == 0 && holes == drops,
	    "capture's seq values are distinct and have exactly as many holes as drops "
	    "(holes %llu, duplicates %llu, drops %llu)", holes, dups, drops);
	free(s);
}

static void describe(const struct memprobe_record *e, char *buf, size_t len)
{
	snprintf(buf, len, "%s by tid %u addr=0x%llx len=%llu -> %lld",
		 memprobe_call_name(e->call), e->tid, (unsigned long long)e->addr,
		 (unsigned long long)e->len, (long long)e->ret);
}

/* Identity that no field-by-field compare sees: order, time, start time. */
static void check_identity(const struct memprobe_record *h, const struct memprobe_record **got,
			   size_t n)
{
	uint64_t tick_ns = h->len ? 1000000000ULL / h->len : 10000000ULL;
	uint64_t start_ns = h->new_len * tick_ns, end_ns = h->new_addr + 1000000000ULL;
	int seq_ok = 1, ts_ok = 1, start_ok = 1;
	size_t i;

	for (i = 0; i < n; i++) {
		if (i && got[i]->seq <= got[i - 1]->seq)
			seq_ok = 0;
		if (got[i]->ts_ns < h->ts_ns || got[i]->ts_ns > end_ns ||
		    (i && got[i]->ts_ns < got[i - 1]->ts_ns))
			ts_ok = 0;
		if (got[i]->start_ns != got[0]->start_ns)
			start_ok = 0;
	}
	tap(seq_ok, "seq strictly increases over pid %u's records", h->pid);
	tap(ts_ok, "ts_ns is wall clock within the run and never goes back (first %llu, run %llu..%llu)",
	    n ? (unsigned long long)got[0]->ts_ns : 0ULL, (unsigned long long)h->ts_ns,
	    (unsigned long long)h->new_addr);
	if (n && (got[0]->start_ns + 2 * tick_ns < start_ns || got[0]->start_ns > start_ns + 2 * tick_ns))
		start_ok = 0;
	tap(start_ok, "start_ns is the same in every record and is the process start time "
	    "(got %llu ns, /proc says %llu ns +- 2 ticks)",
	    n ? (unsigned long long)got[0]->start_ns : 0ULL, (unsigned long long)start_ns);
}

static void check_calls(const struct memprobe_record *exp, size_t n_exp,
			const struct memprobe_record *v, size_t n)
{
	const struct memprobe_record *h = &exp[0];
	const struct memprobe_record **got = calloc(n + 1, sizeof(*got));
	size_t i, begin = n, k = 0, before = 0, after = 0;
	char what[160];

	for (i = 0; i < n; i++) {
		if (v[i].pid != h->pid)
			continue;
		if (begin == n && v[i].call == MP_CALL_MMAP && v[i].addr == WL_MARKER_ADDR &&
		    v[i].len == 0)
			begin = i;
		if (begin == n)
			before++;
		else if (k < n_exp)
			got[k++] = &v[i];
		else
			after++;
	}
	tap(begin < n, "begin marker of pid %u found (%zu earlier records of the pid skipped)",
	    h->pid, before);
	for (i = 0; i < n_exp; i++) {
		describe(&exp[i + 1], what, sizeof(what));
		if (i < k)
			tap(compare(i + 1, &exp[i + 1], got[i]), "record %zu: %s matches", i + 1, what);
		else
			tap(0, "record %zu: %s was captured (missing)", i + 1, what);
	}
	tap(after == 0 && k == n_exp, "pid %u has exactly %zu records from the marker on (extra %zu)",
	    h->pid, n_exp, after);
	check_identity(h, got, k);
	free(got);
}

int main(int argc, char **argv)
{
	unsigned long long drops = 0;
	struct memprobe_record *exp, *v;
	size_t n_exp, n;
	int a = 1;

	if (argc > 1 && !strcmp(argv[1], "--help")) {
		printf("usage: check-records [--no-file] [--drops N] EXPECT RAW\n"
		       "       check-records --count PID CALL RAW\n"
		       "Checks a raw capture (RAW, '-' = stdin) of a known-calls run against\n"
		       "the expectation file it wrote (EXPECT); prints TAP.  --count prints\n"
		       "how many CALL (mmap, exit, ...) records PID has in RAW.  --no-file:\n"
		       "RAW holds no file_dev/file_ino (rebuilt from database rows).\n");
		return 0;
	}
	if (argc == 5 && !strcmp(argv[1], "--count")) {
		/* --count PID CALL RAW: how many CALL records PID has in RAW. */
		unsigned long pid = strtoul(argv[2], NULL, 10), count = 0;
		size_t i;

		tap_quiet = 1;
		v = load(argv[4], &n);
		for (i = 0; i < n; i++)
			count += v[i].pid == pid && !strcmp(memprobe_call_name(v[i].call), argv[3]);
		printf("count=%lu\n", count);
		free(v);
		return tap_failed;
	}
	if (argc > 1 && !strcmp(argv[1], "--no-file")) {
		skip_file = 1;
		a = 2;
	}
	if (argc > a + 1 && !strcmp(argv[a], "--drops")) {
		drops = strtoull(argv[a + 1], NULL, 10);
		a += 2;
	}
	if (argc - a != 2) {
		fprintf(stderr, "usage: check-records [--no-file] [--drops N] EXPECT RAW (try --help)\n");
		return 2;
	}
	exp = load(argv[a], &n_exp);
	if (n_exp < 2 || exp[0].call != WL_CALL_HEADER || exp[0].tid != n_exp - 1) {
		fprintf(stderr, "check-records: %s is not a known-calls expectation file\n", argv[a]);
		return 2;
	}
	v = load(argv[a + 1], &n);
	check_seq_holes(v, n, drops);
	check_calls(exp, n_exp - 1, v, n);
	printf("1..%d\n", tap_n);
	free(exp);
	free(v);
	return tap_failed;
}
