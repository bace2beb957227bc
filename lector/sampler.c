/*
 * sampler.c - resident and swapped memory of live processes from /proc
 * (sampler.h).
 *
 * A pass takes a snapshot of the live processes' keys (pid, start_ns) and
 * spreads their readings over three quarters of the interval: at a time t
 * into the pass, the share t / (3/4 interval) of them is due.  Ticks come
 * from the writer's loop (at least every 200 ms when idle, between
 * batches under load), so a pass ends within the interval plus a tick,
 * and the next one begins when the interval is over.  Each tick is bounded
 * in count and time, so a commit never waits long for it; a pass the
 * bounds make late is counted.  The key is looked up again before each
 * reading (the process may have exited and been freed since the
 * snapshot), and /proc/PID is checked to be the same process (start time)
 * before its status counts.  Nothing is locked while /proc is read: acct
 * is the writer's own.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "clock.h"
#include "procfs.h"
#include "sampler.h"

#define SAMPLER_PROCS_MAX	65536	/* keys of one pass */
#define SAMPLER_TICK_PROCS	256	/* readings per tick, at most */
#define SAMPLER_TICK_BUDGET_NS	5000000 /* a tick stops after this */
#define SAMPLER_LOG_EVERY_NS	(600 * 1000000000ULL)

struct sampler_key {
	uint32_t pid;
	uint64_t start_ns;
};

struct sampler {
	uint64_t interval_ns;
	struct sampler_key *keys; /* this pass's processes */
	size_t n, next, cap;
	uint64_t pass_start_ns; /* monotonic; 0: no pass yet */
	bool pass_late;
	uint64_t logged_ns;
	struct sampler_stats st;
};

int sampler_new(struct sampler **out, unsigned int interval_ms)
{
	*out = NULL;
	if (!interval_ms)
		return 0;
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	(*out)->interval_ns = interval_ms * 1000000ULL;
	(*out)->logged_ns = mono_ns();
	return 0;
}

void sampler_free(struct sampler *s)
{
	if (!s)
		return;
	free(s->keys);
	free(s);
}

static void add_key(uint32_t pid, uint64_t start_ns, void *arg)
{
	struct sampler *s = arg;

	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 256;
		struct sampler_key *more;

		if (cap > SAMPLER_PROCS_MAX || !(more = realloc(s->keys, cap * sizeof(*more)))) {
			s->st.not_sampled++;
			return;
		}
		s->keys = more;
		s->cap = cap;
	}
	s->keys[s->n++] = (struct sampler_key){pid, start_ns};
}

static void pass_begin(struct sampler *s, struct acct *a, uint64_t now_ns)
{
	s->n = s->next = 0;
	acct_each_live(a, add_key, s);
	s->pass_start_ns = now_ns;
	s->pass_late = false;
	s->st.rounds++;
	if (s->n > s->st.procs_max)
		s->st.procs_max = s->n;
}

/* How many keys of this pass should have been read by now. */
static size_t due(const struct sampler *s, uint64_t now_ns)
{
	uint64_t spread_ns = s->interval_ns / 4 * 3, t = now_ns - s->pass_start_ns;

	if (t >= spread_ns)
		return s->n;
	return (size_t)(((unsigned __int128)s->n * t + spread_ns - 1) / spread_ns);
}

static void read_one(struct sampler *s, struct acct *a, const struct sampler_key *k)
{
	struct acct_proc *p = acct_lookup(a, k->pid, k->start_ns);
	struct acct_mem m;
	int rc;

	if (!p)
		return; /* exited since the snapshot */
	rc = procfs_read_mem(k->pid, k->start_ns, &m);
	if (rc == 0) {
		m.ts_ns = wall_ns();
		acct_set_mem(a, p, &m);
		s->st.reads++;
	} else if (rc == -ENOENT) {
		s->st.gone++;
	} else if (rc == -ESRCH) {
		s->st.reused++;
	} else {
		s->st.failed++;
	}
}

void sampler_tick(struct sampler *s, struct acct *a)
{
	uint64_t t0, cpu0, now, until;
	size_t n_read = 0, target;

	if (!s)
		return;
	t0 = now = mono_ns();
	cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	if (s->next == s->n && (!s->pass_start_ns || now - s->pass_start_ns >= s->interval_ns))
		pass_begin(s, a, now);
	if (!s->pass_late && now - s->pass_start_ns >= s->interval_ns && s->next < s->n) {
		s->pass_late = true;
		s->st.late_rounds++;
	}
	target = due(s, now);
	until = t0 + SAMPLER_TICK_BUDGET_NS;
	while (s->next < target && n_read < SAMPLER_TICK_PROCS && now < until) {
		read_one(s, a, &s->keys[s->next++]);
		n_read++;
		now = mono_ns();
	}
	if (n_read && s->next == s->n && now - s->pass_start_ns > s->st.pass_max_ns)
		s->st.pass_max_ns = now - s->pass_start_ns;
	s->st.busy_ns += now - t0;
	if (now - t0 > s->st.tick_max_ns)
		s->st.tick_max_ns = now - t0;
	cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
	if (cpu0 > s->st.tick_max_cpu_ns)
		s->st.tick_max_cpu_ns = cpu0;
	if (now - s->logged_ns >= SAMPLER_LOG_EVERY_NS) {
		sampler_log(s, stderr);
		s->logged_ns = now;
	}
}

void sampler_get_stats(const struct sampler *s, struct sampler_stats *st)
{
	if (s)
		*st = s->st;
	else
		*st = (struct sampler_stats){0};
}

void sampler_log(const struct sampler *s, FILE *f)
{
	const struct sampler_stats *st;

	if (!s)
		return;
	st = &s->st;
	fprintf(f,
		"lector: rss sampler: %" PRIu64 " readings (%" PRIu64 " us per reading, "
		"longest tick %" PRIu64 " us, %" PRIu64 " us of CPU at most), %" PRIu64
		" gone, %" PRIu64 " pid reused, %" PRIu64
		" unreadable, %" PRIu64 " passes (%" PRIu64 " late, the longest %" PRIu64
		" ms), up to %" PRIu64
		" processes (%" PRIu64 " beyond the %d a pass holds)\n",
		st->reads, st->reads ? st->busy_ns / 1000 / st->reads : 0, st->tick_max_ns / 1000,
		st->tick_max_cpu_ns / 1000, st->gone, st->reused, st->failed, st->rounds,
		st->late_rounds, st->pass_max_ns / 1000000, st->procs_max, st->not_sampled,
		SAMPLER_PROCS_MAX);
}
