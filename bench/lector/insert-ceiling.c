/*
 * insert-ceiling - the raw insert rate of a MariaDB for lector's calls rows:
 * synthetic records committed through lector's own MySQL sink (same bulk
 * statement, same batch size, one transaction per batch) with no capture and
 * no accounting.  The ceiling lector's end-to-end rate is compared against.
 *
 *   insert-ceiling --config=FILE [--records N] [--batch N]
 * Prints key=value figures.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "sink.h"

static double now_s(void)
{
	return mono_ns() / 1e9;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"config", 1, 0, 'c'},
					     {"records", 1, 0, 'n'},
					     {"batch", 1, 0, 'b'},
					     {"help", 0, 0, 'h'},
					     {0, 0, 0, 0}};
	struct lector_config cfg;
	struct capture_stats cs = {.session = 424242, .source = "ceiling", .current = true};
	unsigned long long n = 1000000, done = 0;
	struct sink *s = NULL;
	struct qent *b;
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
		} else if (o != 'c') {
			puts("usage: insert-ceiling --config=FILE [--records N] [--batch N]");
			return o == 'h' ? 0 : 2;
		}
	}
	config_load_env(&cfg);
	snprintf(cfg.host_id, sizeof(cfg.host_id), "insert-ceiling");
	b = calloc(cfg.batch_max, sizeof(*b));
	if (!b || sink_mysql_open(&s, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "insert-ceiling: %s\n", b ? err : "out of memory");
		return 1;
	}
	t0 = now_s();
	while (done < n) {
		size_t k = n - done < cfg.batch_max ? (size_t)(n - done) : cfg.batch_max;

		for (size_t i = 0; i < k; i++) { /* what an mmap-flood record looks like */
			struct memprobe_record *r = &b[i].rec;

			memset(&b[i], 0, sizeof(b[i]));
			b[i].session = cs.session;
			r->seq = done + i;
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
			b[i].comm_len = b[i].thread_comm_len = 10;
		}
		rc = s->ops->commit(s, b, k, NULL, &cs);
		if (rc < 0) {
			fprintf(stderr, "insert-ceiling: %s\n", s->err);
			return 1;
		}
		done += k;
	}
	printf("ceiling_rows=%llu ceiling_s=%.3f ceiling_rows_per_s=%.0f\n", n, now_s() - t0,
	       n / (now_s() - t0));
	s->ops->close(s);
	free(b);
	return 0;
}
