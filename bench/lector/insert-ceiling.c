/*
 * insert-ceiling - the raw insert rate of a MariaDB for lector's calls rows:
 * synthetic records committed through lector's own MySQL sink (same bulk
 * statement, same batch size, one transaction per batch) with no capture and
 * no accounting.  The ceiling lector's end-to-end rate is compared against.
 *
 *   insert-ceiling --config=FILE [--records N] [--batch N] [--procs N]
 *                  [--checkpoint-calls N]
 *   insert-ceiling --dump=FILE --host-id=N [--records N] --procs N
 * --procs N: records of N processes that look like a real capture
 * (synth.c) instead of one mmap-flood process; --dump writes those rows for
 * LOAD DATA instead of inserting them (the same rows: same seed).
 * --checkpoint-calls N: fold each batch into the accounting as lector's
 * writer does (lector/checkpoint.c: calls.mapped_bytes, checkpoints every N
 * calls of a process and at its first, 0 = none) and commit its processes,
 * ranges and checkpoints with it: what checkpoints cost against 0
 * (bench/lector/checkpoints).
 * Prints key=value figures, with the CPU this process used (utime + stime
 * of /proc/self/stat, as the bench reads mariadbd's).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "sink.h"
#include "synth.h"

#define SESSION 424242

static double now_s(void)
{
	return mono_ns() / 1e9;
}

/* utime + stime of this process, in seconds (fields 14 and 15). */
static double cpu_s(void)
{
	unsigned long long ut = 0, st = 0;
	char buf[1024], *p;
	FILE *f = fopen("/proc/self/stat", "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')'); /* comm may hold spaces */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
			 &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* What an mmap-flood record looks like (one process, mmap/munmap pairs). */
static void flood_record(struct qent *e, unsigned long long seq, size_t i)
{
	struct memprobe_record *r = &e->rec;

	memset(e, 0, sizeof(*e));
	e->session = SESSION;
	r->seq = seq;
	r->ts_ns = (uint64_t)(now_s() * 1e9);
	r->pid = r->tid = 4242;
	r->call = (i & 1) ? MP_CALL_MUNMAP : MP_CALL_MMAP;
	r->addr = 0x7f0000000000ULL + (i << 12);
	r->len = 69632;
	r->ret = (i & 1) ? 0 : (int64_t)r->addr;
	r->fd = -1;
	r->total_vm_bytes = 1 << 30;
	strcpy(r->comm, "mmap-flood");
	strcpy(r->thread_comm, "mmap-flood");
	e->comm_len = e->thread_comm_len = 10;
}

static int dump(const char *path, unsigned int host_id, unsigned long long n, struct synth *sy)
{
	FILE *f = fopen(path, "w");
	struct qent e;

	if (!f || !sy) {
		fprintf(stderr, "insert-ceiling: %s: %s\n", path, f ? "--procs needed" : strerror(errno));
		return 1;
	}
	for (unsigned long long i = 0; i < n; i++) {
		synth_next(sy, SESSION, &e);
		synth_tsv(f, host_id, &e);
	}
	if (fclose(f)) {
		fprintf(stderr, "insert-ceiling: %s: %s\n", path, strerror(errno));
		return 1;
	}
	printf("columns=%s\n", SYNTH_TSV_COLUMNS);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"config", 1, 0, 'c'},
					     {"records", 1, 0, 'n'},
					     {"batch", 1, 0, 'b'},
					     {"procs", 1, 0, 'p'},
					     {"dump", 1, 0, 'd'},
					     {"host-id", 1, 0, 'H'},
					     {"checkpoint-calls", 1, 0, 'k'},
					     {"help", 0, 0, 'h'},
					     {0, 0, 0, 0}};
	struct lector_config cfg;
	struct capture_stats cs = {.session = SESSION, .source = "ceiling", .current = true};
	unsigned long long n = 1000000, done = 0;
	unsigned int procs = 0, host_id = 0;
	const char *dump_path = NULL;
	struct synth *sy = NULL;
	double cpu0;
	struct sink *s = NULL;
	struct qent *b;
	struct batch_extra x = {0};
	struct qext *ext;
	struct ckpt_policy pol = {.every_calls = 0, .every_ns = 60 * 1000000000ULL};
	struct ckpt_list ckpts = {0};
	struct acct *acct = NULL;
	bool with_acct = false;
	unsigned long long n_ckpt = 0;
	char err[1024];
	double t0;
	int o, rc;

	config_defaults(&cfg);
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (o == 'c' && config_load_file(&cfg, optarg, err, sizeof(err)) < 0) {
			fprintf(stderr, "insert-ceiling: %s\n", err);
			return 2;
		} else if (o == 'n') {
			n = strtoull(optarg, NULL, 10);
		} else if (o == 'b') {
			cfg.batch_max = strtoull(optarg, NULL, 10);
		} else if (o == 'p') {
			procs = (unsigned int)strtoul(optarg, NULL, 10);
		} else if (o == 'd') {
			dump_path = optarg;
		} else if (o == 'H') {
			host_id = (unsigned int)strtoul(optarg, NULL, 10);
		} else if (o == 'k') {
			pol.every_calls = (unsigned int)strtoul(optarg, NULL, 10);
			with_acct = true;
		} else if (o != 'c') {
			puts("usage: insert-ceiling --config=FILE [--records N] [--batch N] [--procs N]\n"
			     "                      [--checkpoint-calls N]\n"
			     "       insert-ceiling --dump=FILE --host-id=N --procs N [--records N]");
			return o == 'h' ? 0 : 2;
		}
	}
	if (procs && !(sy = synth_new(procs, 17))) {
		fprintf(stderr, "insert-ceiling: --procs: 1..100000\n");
		return 2;
	}
	if (dump_path)
		return dump(dump_path, host_id, n, sy);
	config_load_env(&cfg);
	snprintf(cfg.host_id, sizeof(cfg.host_id), "insert-ceiling");
	b = calloc(cfg.batch_max, sizeof(*b));
	x.ext = ext = calloc(cfg.batch_max, sizeof(*ext)); /* mapped_bytes 0 without accounting */
	if (with_acct && (acct_new(&acct) < 0 || ckpt_list_init(&ckpts, cfg.batch_max, &pol) < 0))
		b = NULL;
	if (!b || !ext || sink_mysql_open(&s, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "insert-ceiling: %s\n", b ? err : "out of memory");
		return 1;
	}
	t0 = now_s();
	cpu0 = cpu_s();
	while (done < n) {
		size_t k = n - done < cfg.batch_max ? (size_t)(n - done) : cfg.batch_max;

		for (size_t i = 0; i < k; i++) {
			if (sy)
				synth_next(sy, SESSION, &b[i]);
			else
				flood_record(&b[i], done + i, i);
		}
		ckpts.n = 0;
		for (size_t i = 0; acct && i < k; i++) /* the writer's take_batch */
			ckpt_apply(acct, &b[i], &ext[i], &ckpts, &pol);
		x.ckpt = ckpts.row;
		x.n_ckpt = ckpts.n;
		rc = s->ops->commit(s, b, k, &x, acct ? acct_dirty_list(acct) : NULL, &cs);
		if (rc < 0) {
			fprintf(stderr, "insert-ceiling: %s\n", s->err);
			return 1;
		}
		if (acct)
			acct_clean(acct);
		n_ckpt += ckpts.n;
		done += k;
	}
	{
		double dt = now_s() - t0, cpu = cpu_s() - cpu0;

		printf("ceiling_rows=%llu ceiling_s=%.3f ceiling_rows_per_s=%.0f "
		       "ceiling_cpu_s=%.2f%s",
		       n, dt, n / dt, cpu, acct ? "" : "\n");
		if (acct)
			printf(" checkpoints=%llu\n", n_ckpt);
	}
	s->ops->close(s);
	free(b);
	free(ext);
	ckpt_list_free(&ckpts);
	acct_free(acct);
	synth_free(sy);
	return 0;
}
