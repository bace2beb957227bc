/*
 * sse_swarm.c - many server-sent-event clients in one epoll loop, for
 * bench/server/run: a Python client cannot parse 100k events/s, so the
 * latency it measured would be its own backlog.
 *
 *   sse-swarm PORT N      connect N clients to /api/events, print "ready
 *                         HELD", then read; a line "LAST_ID" on stdin says
 *                         which call id every client must reach.  Prints
 *                         held/closed/complete clients, calls per client
 *                         (min/max) and send-to-receive latency p50/p99/max
 *                         from each call's ts_ns (set by the inserter).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF_BYTES (256 * 1024)
#define LAT_MAX	  (4 * 1024 * 1024)

struct cl {
	int fd, status, closed;
	size_t len;
	uint64_t calls, last_id;
	char *buf;
};

static double *lat_ms;
static size_t n_lat;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Consume complete events ("...\n\n") from the client's buffer. */
static void parse(struct cl *c, uint64_t t)
{
	char *p = c->buf, *end;

	if (!c->status) {
		char *h = strstr(c->buf, "\r\n\r\n");

		if (!h)
			return;
		c->status = atoi(c->buf + 9);
		p = h + 4;
	}
	while ((end = strstr(p, "\n\n"))) {
		*end = 0;
		if (!strncmp(p, "id: ", 4) && strstr(p, "event: call")) {
			char *ts = strstr(p, "\"ts_ns\":");

			c->last_id = strtoull(p + 4, NULL, 10);
			c->calls++;
			if (ts && n_lat < LAT_MAX)
				lat_ms[n_lat++] = ((double)t - strtod(ts + 8, NULL)) / 1e6;
		}
		p = end + 2;
	}
	c->len -= p - c->buf;
	memmove(c->buf, p, c->len);
	c->buf[c->len] = 0;
}

/* Take what one client sent; a closed or failed connection leaves the loop. */
static void client_read(int ep, struct cl *c)
{
	ssize_t r = read(c->fd, c->buf + c->len, BUF_BYTES - c->len);

	if (r <= 0) {
		c->closed = 1;
		epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
		return;
	}
	c->len += r;
	c->buf[c->len] = 0;
	parse(c, now_ns());
}

/* The request every client sends: Host and, with a token file, the token. */
static char req[512];
static size_t req_len;

static int make_request(int port, const char *token_file)
{
	char tok[300] = "";
	FILE *f = token_file ? fopen(token_file, "r") : NULL;

	if (token_file && (!f || !fgets(tok, sizeof(tok), f))) {
		fprintf(stderr, "sse-swarm: cannot read the token from %s\n", token_file);
		if (f)
			fclose(f);
		return -1;
	}
	if (f)
		fclose(f);
	tok[strcspn(tok, "\r\n")] = 0;
	req_len = (size_t)snprintf(req, sizeof(req),
				   "GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s%s%s\r\n", port,
				   tok[0] ? "Authorization: Bearer " : "", tok, tok[0] ? "\r\n" : "");
	return 0;
}

static int connect_one(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    write(fd, req, req_len) != (ssize_t)req_len) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void report(struct cl *cs, int n, uint64_t want)
{
	uint64_t mn = UINT64_MAX, mx = 0;
	int held = 0, closed = 0, complete = 0;

	for (int i = 0; i < n; i++) {
		held += cs[i].status == 200;
		closed += cs[i].closed;
		complete += cs[i].status == 200 && !cs[i].closed && cs[i].last_id >= want;
		mn = cs[i].calls < mn ? cs[i].calls : mn;
		mx = cs[i].calls > mx ? cs[i].calls : mx;
	}
	qsort(lat_ms, n_lat, sizeof(*lat_ms), cmp_d);
	printf("held %d closed %d complete %d calls_min %llu calls_max %llu lat_p50_ms %.2f "
	       "lat_p99_ms %.2f "
	       "lat_max_ms %.2f\n",
	       held, closed, complete, (unsigned long long)mn, (unsigned long long)mx,
	       n_lat ? lat_ms[n_lat / 2] : -1, n_lat ? lat_ms[(size_t)(n_lat * 0.99)] : -1,
	       n_lat ? lat_ms[n_lat - 1] : -1);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	int port, n, ep = epoll_create1(0), held = 0;
	uint64_t want = UINT64_MAX;
	struct epoll_event ev = {.events = EPOLLIN}, evs[256];
	struct cl *cs;

	if (argc < 3 || argc > 4 || (port = atoi(argv[1])) <= 0 || (n = atoi(argv[2])) <= 0) {
		fprintf(stderr, "usage: sse-swarm PORT N [TOKEN_FILE]  (then write the last call id "
				"to stdin)\n");
		return 2;
	}
	if (make_request(port, argc == 4 ? argv[3] : NULL))
		return 2;
	cs = calloc(n, sizeof(*cs));
	lat_ms = malloc(LAT_MAX * sizeof(*lat_ms));
	ev.data.u64 = (uint64_t)n; /* stdin */
	epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev);
	for (int i = 0; i < n; i++) {
		cs[i].buf = malloc(BUF_BYTES + 1);
		cs[i].fd = connect_one(port);
		if (cs[i].fd < 0) {
			cs[i].closed = 1;
			continue;
		}
		ev.data.u64 = (uint64_t)i;
		epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev);
	}
	for (uint64_t t0 = now_ns(); held < n && now_ns() - t0 < 5000000000ull;) {
		int k = epoll_wait(ep, evs, 256, 100);

		for (int j = 0; j < k; j++)
			if (evs[j].data.u64 != (uint64_t)n) /* n: stdin, read later */
				client_read(ep, &cs[evs[j].data.u64]);
		held = 0;
		for (int i = 0; i < n; i++)
			held += cs[i].status != 0 || cs[i].closed;
	}
	held = 0;
	for (int i = 0; i < n; i++)
		held += cs[i].status == 200;
	printf("ready %d\n", held);
	fflush(stdout);
	for (uint64_t deadline = UINT64_MAX;;) {
		int k = epoll_wait(ep, evs, 256, 100), done = 1;

		for (int j = 0; j < k; j++) {
			if (evs[j].data.u64 == (uint64_t)n) {
				char line[64];
				ssize_t r = read(0, line, sizeof(line) - 1);

				line[r > 0 ? r : 0] = 0;
				want = strtoull(line, NULL, 10);
				deadline = now_ns() + 30000000000ull;
				epoll_ctl(ep, EPOLL_CTL_DEL, 0, NULL);
				continue;
			}
			client_read(ep, &cs[evs[j].data.u64]);
		}
		for (int i = 0; i < n; i++)
			done &= cs[i].closed || cs[i].status != 200 || cs[i].last_id >= want;
		if ((want != UINT64_MAX && done) || now_ns() > deadline)
			break;
	}
	report(cs, n, want);
	return 0;
}
