// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * empty-exit OBJECT [--ready-file F] - loads and attaches every program of
 * OBJECT (bench/bpf/empty_exit.bpf.c), creates F once attached, and holds
 * them until SIGINT or SIGTERM.  With --prog-stats, prints
 *   prog NAME runs=N run_time_ns=T
 * at the end, as tests/bpf/mp-bpf-probe does (kernel.bpf_stats_enabled=1).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void print_prog_stats(struct bpf_object *obj)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, obj)
	{
		struct bpf_prog_info info = {0};
		__u32 len = sizeof(info);

		if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) == 0)
			fprintf(stderr, "prog %s runs=%llu run_time_ns=%llu\n", info.name,
				(unsigned long long)info.run_cnt,
				(unsigned long long)info.run_time_ns);
	}
}

int main(int argc, char **argv)
{
	const char *ready = NULL;
	struct bpf_object *obj;
	struct bpf_program *prog;
	int i, prog_stats = 0, rc = 1;

	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--ready-file") && i + 1 < argc)
			ready = argv[++i];
		else if (!strcmp(argv[i], "--prog-stats"))
			prog_stats = 1;
		else
			argc = 0;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: empty-exit OBJECT [--ready-file F] [--prog-stats]\n");
		return 2;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj) != 0) {
		fprintf(stderr, "empty-exit: cannot load %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	bpf_object__for_each_program(prog, obj)
	{
		if (!bpf_program__attach(prog)) {
			fprintf(stderr, "empty-exit: cannot attach %s: %s\n",
				bpf_program__name(prog), strerror(errno));
			goto out;
		}
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (ready)
		close(open(ready, O_WRONLY | O_CREAT | O_TRUNC, 0644));
	while (!stop)
		pause();
	if (prog_stats)
		print_prog_stats(obj);
	rc = 0;
out:
	bpf_object__close(obj);
	return rc;
}
