/*
 * api_stats.c - capture health: /api/stats (JSON), /metrics (Prometheus
 * text format 0.0.4) and /healthz.  Figures come from lector's
 * capture_stats rows plus this server's own SSE counters.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_id.h"
#include "metrics_text.h"
#include "rows.h"
#include "server.h"
#include "timetravel.h"

static const char stats_sql[] =
    "SELECT h.name, s.session, s.source, s.committed_seq, s.rows_committed, s.seen, s.drops,"
    " s.queued, s.spilled_total, s.lag_ms, s.rate_eps, UNIX_TIMESTAMP(s.updated_at),"
    " UNIX_TIMESTAMP(s.started_at), h.mem_total_bytes, h.swap_total_bytes,"
    " s.lost, s.lost_before, s.gap_before_ms, s.prev_session, s.skipped"
    " FROM capture_stats s JOIN hosts h ON h.host_id = s.host_id"
    " WHERE (? = '' OR h.name = ?) ORDER BY h.name, s.updated_at DESC LIMIT 100";
static const char oom_count_sql[] =
    "SELECT COUNT(*) FROM oom_kills o JOIN hosts h ON h.host_id = o.host_id"
    " WHERE (? = '' OR h.name = ?)";
static const char size_sql[] = "SELECT COALESCE(SUM(data_length + index_length), 0),"
			       " COALESCE(SUM(IF(table_name = 'calls', table_rows, 0)), 0)"
			       " FROM information_schema.tables WHERE table_schema = DATABASE()";

static int add_session(void *arg, char **c, unsigned long *len, unsigned int n)
{
	cJSON *o = cJSON_CreateObject();
	char hex[24];

	(void)n;
	json_add_bytes_str(o, "host", c[0], len[0]);
	snprintf(hex, sizeof(hex), "0x%llx", strtoull(c[1], NULL, 10));
	cJSON_AddStringToObject(o, "session", hex);
	json_add_bytes_str(o, "source", c[2], len[2]);
	cJSON_AddNumberToObject(o, "committed_seq", json_num(c[3]));
	cJSON_AddNumberToObject(o, "events_committed", json_num(c[4]));
	cJSON_AddNumberToObject(o, "events_seen", json_num(c[5]));
	cJSON_AddNumberToObject(o, "drops", json_num(c[6]));
	cJSON_AddNumberToObject(o, "queued", json_num(c[7]));
	cJSON_AddNumberToObject(o, "spilled_total", json_num(c[8]));
	cJSON_AddNumberToObject(o, "lag_ms", json_num(c[9]));
	cJSON_AddNumberToObject(o, "events_per_second", json_num(c[10]));
	cJSON_AddNumberToObject(o, "updated_at_s", json_num(c[11]));
	cJSON_AddNumberToObject(o, "started_at_s", json_num(c[12]));
	cJSON_AddNumberToObject(o, "mem_total_bytes", json_num(c[13]));
	cJSON_AddNumberToObject(o, "swap_total_bytes", json_num(c[14]));
	/* losses lector counts itself (docs/FAULTS.md) */
	cJSON_AddNumberToObject(o, "lost", json_num(c[15]));
	cJSON_AddNumberToObject(o, "lost_before", json_num(c[16]));
	cJSON_AddNumberToObject(o, "gap_before_ms", json_num(c[17]));
	snprintf(hex, sizeof(hex), "0x%llx", strtoull(c[18], NULL, 10));
	if (strcmp(hex, "0x0"))
		cJSON_AddStringToObject(o, "prev_session", hex);
	else
		cJSON_AddNullToObject(o, "prev_session");
	/* probe runs the producer skipped: an upper bound on events missing */
	cJSON_AddNumberToObject(o, "skipped", json_num(c[19]));
	cJSON_AddItemToArray(arg, o);
	return 0;
}

static void add_server(cJSON *o)
{
	cJSON *s = cJSON_AddObjectToObject(o, "server");

	cJSON_AddNumberToObject(s, "sse_clients", sse_client_count());
	cJSON_AddNumberToObject(s, "sse_clients_cut_total", (double)sse_cut_total());
	cJSON_AddNumberToObject(s, "sse_messages_total", (double)sse_sent_total());
	cJSON_AddNumberToObject(s, "sse_last_id", (double)sse_last_cid());
	cJSON_AddNumberToObject(s, "sse_resets_total", (double)sse_reset_total());
	cJSON_AddNumberToObject(s, "at_from_snapshot_total", (double)tt_from_snapshot_total());
	cJSON_AddNumberToObject(s, "at_from_checkpoints_total",
				(double)tt_from_checkpoints_total());
	/* cid leases (migration 020): streaming reads up to the watermark;
	 * live leases past --cid-lease-expiry-s are counted here (an alert) */
	if (watermark_last() == UINT64_MAX)
		cJSON_AddNullToObject(s, "cid_watermark");
	else
		cJSON_AddNumberToObject(s, "cid_watermark", (double)watermark_last());
	cJSON_AddNumberToObject(s, "cid_leases_expired", (double)watermark_expired_leases());
}

/* ?host=NAME (empty: every host) as the two parameters of a host filter. */
static int host_filter(struct req *r, char *host, size_t cap, struct db_param *p)
{
	static const char *const allowed[] = {"host", NULL};

	if (http_check_params(r, allowed) ||
	    param_str(r, "host", host, cap, MP_HOST_ID_CHARSET) < 0)
		return -EINVAL;
	p[0] = DB_STR(host);
	p[1] = DB_STR(host);
	return 0;
}

int api_stats(struct req *r)
{
	double size[2] = {0, 0};
	char err[256], host[MP_HOST_ID_MAX + 1];
	struct db_param hp[2];
	cJSON *o, *sessions = cJSON_CreateArray();
	uint64_t oom_kills = 0;
	int rc;

	if (host_filter(r, host, sizeof(host), hp)) {
		cJSON_Delete(sessions);
		return 400;
	}
	rc = db_select(r->db, stats_sql, hp, 2, add_session, sessions, err, sizeof(err));
	if (rc == 0)
		rc = db_select(r->db, size_sql, NULL, 0, row_two_nums, size, err, sizeof(err));
	if (rc == 0)
		rc = db_select(r->db, oom_count_sql, hp, 2, row_first_u64, &oom_kills, err,
			       sizeof(err));
	if (rc < 0) {
		cJSON_Delete(sessions);
		return reply_db_error(r, rc, err);
	}
	o = cJSON_CreateObject();
	/* The newest session per host comes first (ORDER BY updated_at). */
	cJSON_AddItemToObject(o, "sessions", sessions);
	cJSON_AddNumberToObject(o, "db_size_bytes", size[0]);
	cJSON_AddNumberToObject(o, "calls_rows_estimate", size[1]);
	cJSON_AddNumberToObject(o, "oom_kills", (double)oom_kills);
	add_server(o);
	return reply_json(r, 200, o);
}

static const char metric_proc_sql[] =
    "SELECT STRAIGHT_JOIN h.name, p.pid, p.start_ns, p.comm, p.net_bytes, p.mapped_bytes, "
    "p.vm_size_bytes"
    " FROM processes p JOIN hosts h ON h.host_id = p.host_id WHERE p.exited = 0"
    " AND (? = '' OR h.name = ?) ORDER BY p.net_bytes DESC, p.host_id, p.pid, p.start_ns LIMIT 500";

static int add_metric_proc(void *arg, char **c, unsigned long *len, unsigned int n)
{
	struct mlines *m = arg;
	double val[3] = {json_num(c[4]), json_num(c[5]), json_num(c[6])};

	(void)n;
	if (mlines_add(m, val, 3))
		return -ENOMEM;
	sb_printf(&m->lab, "host=\"");
	sb_label(&m->lab, c[0], len[0]);
	sb_printf(&m->lab, "\",pid=\"%s\",start_ns=\"%s\",name=\"", c[1], c[2]);
	sb_label(&m->lab, c[3], len[3]);
	sb_printf(&m->lab, "\"");
	return mlines_end(m);
}

static void metrics_procs(struct sbuf *b, struct mlines *m)
{
	static const char *const fam[3][2] = {
	    {"memprobe_process_memory_held_bytes",
	     "net bytes mapped (mmap - munmap), clamped at 0; alive processes, top 500"},
	    {"memprobe_process_mapped_bytes",
	     "bytes of watched mappings still mapped; alive processes, top 500"},
	    {"memprobe_process_vm_size_bytes",
	     "kernel total_vm at the last event; alive processes, top 500"},
	};

	for (int f = 0; f < 3; f++)
		mlines_write(b, m, f, fam[f][0], "gauge", fam[f][1]);
}

static void metrics_sessions(struct sbuf *b, cJSON *sessions)
{
	static const char *const fam[][4] = {
	    {"memprobe_events_committed_total", "counter", "events_committed",
	     "calls committed to the database"},
	    {"memprobe_events_seen_total", "counter", "events_seen",
	     "records the reader took from the source"},
	    {"memprobe_drops_total", "counter", "drops",
	     "records the producer dropped (ring full)"},
	    {"memprobe_skipped_total", "counter", "skipped",
	     "probe runs the tracer or the kernel skipped (upper bound on events missing)"},
	    {"memprobe_lost_total", "counter", "lost",
	     "records lector read but could not keep (spill disk full)"},
	    {"memprobe_lost_before_total", "counter", "lost_before",
	     "records of the previous session never committed (lector killed)"},
	    {"memprobe_capture_gap_before_seconds", "gauge", "gap_before_ms",
	     "no capture between the previous session and this one"},
	    {"memprobe_queued_events", "gauge", "queued", "records read but not yet committed"},
	    {"memprobe_capture_lag_seconds", "gauge", "lag_ms", "capture to commit lag"},
	    {"memprobe_capture_rate_events_per_second", "gauge", "events_per_second",
	     "recent commit rate"},
	};
	cJSON *s;

	for (size_t f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
		sb_head(b, fam[f][0], fam[f][1], fam[f][3]);
		cJSON_ArrayForEach(s, sessions)
		{
			const char *h = cJSON_GetObjectItem(s, "host")->valuestring;
			double v = cJSON_GetObjectItem(s, fam[f][2])->valuedouble;

			sb_printf(b, "%s{host=\"", fam[f][0]);
			sb_label(b, h, strlen(h));
			sb_printf(b, "\",session=\"%s\",source=\"",
				  cJSON_GetObjectItem(s, "session")->valuestring);
			h = cJSON_GetObjectItem(s, "source")->valuestring;
			sb_label(b, h, strlen(h));
			if (strstr(fam[f][0], "_seconds"))
				v /= 1000.0; /* from milliseconds */
			sb_printf(b, "\"} %.17g\n", v);
		}
	}
}

static void metrics_server(struct sbuf *b, double db_size_bytes)
{
	sb_head(b, "memprobe_db_size_bytes", "gauge", "data and index size of the memprobe schema");
	sb_printf(b, "memprobe_db_size_bytes %.0f\n", db_size_bytes);
	sb_head(b, "memprobe_server_sse_clients", "gauge", "server-sent event clients attached");
	sb_printf(b, "memprobe_server_sse_clients %u\n", sse_client_count());
	sb_head(b, "memprobe_server_sse_clients_cut_total", "counter",
		"SSE clients disconnected because they fell behind");
	sb_printf(b, "memprobe_server_sse_clients_cut_total %llu\n",
		  (unsigned long long)sse_cut_total());
	sb_head(b, "memprobe_server_sse_messages_total", "counter",
		"SSE messages written to clients");
	sb_printf(b, "memprobe_server_sse_messages_total %llu\n",
		  (unsigned long long)sse_sent_total());
	sb_head(b, "memprobe_server_sse_resets_total", "counter",
		"SSE resumes too deep to replay, answered with a reset event");
	sb_printf(b, "memprobe_server_sse_resets_total %llu\n",
		  (unsigned long long)sse_reset_total());
	sb_head(b, "memprobe_server_at_processes_total", "counter",
		"processes whose state at a past instant was computed, by where it started from");
	sb_printf(b, "memprobe_server_at_processes_total{from=\"snapshot\"} %llu\n",
		  (unsigned long long)tt_from_snapshot_total());
	sb_printf(b, "memprobe_server_at_processes_total{from=\"checkpoints\"} %llu\n",
		  (unsigned long long)tt_from_checkpoints_total());
	sb_head(
	    b, "memprobe_server_cid_leases_expired", "gauge",
	    "lectors' live cid leases older than --cid-lease-expiry-s (an alert: streaming waits)");
	sb_printf(b, "memprobe_server_cid_leases_expired %llu\n",
		  (unsigned long long)watermark_expired_leases());
}

int api_metrics(struct req *r)
{
	struct mlines m = {0};
	struct sbuf b = {0};
	double size[2] = {0, 0};
	cJSON *sessions = cJSON_CreateArray();
	char err[256], host[MP_HOST_ID_MAX + 1];
	struct db_param hp[2];
	int rc;

	if (host_filter(r, host, sizeof(host), hp)) {
		cJSON_Delete(sessions);
		return 400;
	}
	rc = db_select(r->db, stats_sql, hp, 2, add_session, sessions, err, sizeof(err));
	if (rc == 0)
		rc = db_select(r->db, size_sql, NULL, 0, row_two_nums, size, err, sizeof(err));
	if (rc == 0)
		rc =
		    db_select(r->db, metric_proc_sql, hp, 2, add_metric_proc, &m, err, sizeof(err));
	if (rc < 0) {
		rc = reply_db_error(r, rc, err);
		goto out;
	}
	metrics_sessions(&b, sessions);
	metrics_procs(&b, &m);
	rc = metrics_groups(&b, r->db, hp, err, sizeof(err));
	if (rc < 0) {
		rc = reply_db_error(r, rc, err);
		goto out;
	}
	metrics_server(&b, size[0]);
	if (b.oom)
		rc = reply_error(r, 500, "out of memory", NULL, NULL);
	else {
		rc = reply_owned(r, 200, "text/plain; version=0.0.4; charset=utf-8", b.p, b.len);
		b.p = NULL; /* the reply frees it once sent */
	}
out:
	cJSON_Delete(sessions);
	mlines_free(&m);
	free(b.p);
	return rc;
}

/* No query and no pooled connection: the event poller's own queries
 * (sse.c) say whether the database answers, so /healthz stays quick when
 * slow requests hold every pooled connection. */
int api_healthz(struct req *r)
{
	static const char *const allowed[] = {NULL};
	uint64_t age_ms;
	cJSON *o;

	if (http_check_params(r, allowed))
		return 400;
	if (!sse_db_healthy(&age_ms))
		return reply_error(r, 503, "unhealthy", NULL,
				   "database not reachable (the server's own poll of new calls "
				   "fails or stalls)");
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "status", "ok");
	cJSON_AddNumberToObject(o, "sse_clients", sse_client_count());
	cJSON_AddNumberToObject(o, "db_checked_ms_ago", (double)age_ms);
	return reply_json(r, 200, o);
}
