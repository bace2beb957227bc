/*
 * commit-lock - what lector's commit lock costs per transaction.  The same
 * small transaction (one row inserted, COMMIT) runs on one connection with
 * no lock, with the named lock lector took before (GET_LOCK before,
 * RELEASE_LOCK after COMMIT) and with the row lock it takes now (SELECT ...
 * FOR UPDATE on the writers' commit_order row, released by COMMIT), in
 * alternating rounds so that load on the machine falls on all three alike.
 * One writer, so no lock ever waits: this is the price of taking it.
 *
 *   commit-lock --config=FILE [--rounds N] [--transactions N]
 * Prints key=value figures: the median over the rounds of microseconds per
 * transaction, and each lock's cost above no lock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <getopt.h>

#include "clock.h"
#include "db_core.h"
#include "sink.h"

enum lock_mode { LOCK_NONE, LOCK_NAMED, LOCK_ROW, LOCK_MODES };
static const char *const mode_name[LOCK_MODES] = {"no_lock", "get_lock", "row_lock"};

static double now_us(void)
{
	return mono_ns() / 1e3;
}

static int run(MYSQL *db, const char *sql)
{
	MYSQL_RES *res;

	if (mysql_query(db, sql)) {
		fprintf(stderr, "commit-lock: %s: %s\n", sql, mysql_error(db));
		return -1;
	}
	res = mysql_store_result(db);
	if (res)
		mysql_free_result(res);
	return 0;
}

/* Microseconds per transaction of n transactions in one mode, or < 0. */
static double round_us(MYSQL *db, enum lock_mode mode, const char *row_lock_sql, int n)
{
	double t0 = now_us();
	int rc = 0;

	for (int i = 0; i < n && rc == 0; i++) {
		if (mode == LOCK_NAMED)
			rc = run(db, "SELECT GET_LOCK('memprobe.commit', 20)");
		else if (mode == LOCK_ROW)
			rc = run(db, row_lock_sql);
		if (rc == 0)
			rc = run(db, "INSERT INTO bench_commit_lock (v) VALUES (1)");
		if (rc == 0 && mysql_commit(db))
			rc = -1;
		if (rc == 0 && mode == LOCK_NAMED)
			rc = run(db, "DO RELEASE_LOCK('memprobe.commit')");
	}
	return rc == 0 ? (now_us() - t0) / n : -1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"config", 1, 0, 'c'},
					     {"rounds", 1, 0, 'r'},
					     {"transactions", 1, 0, 'n'},
					     {"help", 0, 0, 'h'},
					     {0, 0, 0, 0}};
	struct lector_config cfg;
	char err[1024], row_lock_sql[256];
	int rounds = 15, n = 400, o, rc = 1;
	double *us[LOCK_MODES] = {0}, med[LOCK_MODES];
	MYSQL *db = NULL;

	config_defaults(&cfg);
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (o == 'c' && config_load_file(&cfg, optarg, err, sizeof(err)) < 0) {
			fprintf(stderr, "commit-lock: %s\n", err);
			return 2;
		} else if (o == 'r') {
			rounds = atoi(optarg);
		} else if (o == 'n') {
			n = atoi(optarg);
		} else if (o != 'c') {
			puts("usage: commit-lock --config=FILE [--rounds N] [--transactions N]");
			return o == 'h' ? 0 : 2;
		}
	}
	if (rounds < 1 || rounds > 1000 || n < 1 || n > 1000000) {
		fprintf(stderr, "commit-lock: --rounds 1..1000, --transactions 1..1000000\n");
		return 2;
	}
	config_load_env(&cfg);
	sink_mysql_lock_sql(cfg.db_name, row_lock_sql, sizeof(row_lock_sql));
	db = db_connect_config(&cfg, 5, 30, err, sizeof(err));
	if (!db) {
		fprintf(stderr, "commit-lock: %s\n", err);
		return 1;
	}
	for (int m = 0; m < LOCK_MODES; m++)
		us[m] = calloc(rounds, sizeof(double));
	if (!us[0] || !us[1] || !us[2] ||
	    run(db, "CREATE TABLE IF NOT EXISTS bench_commit_lock (id BIGINT UNSIGNED NOT NULL "
		    "AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL) ENGINE=InnoDB") ||
	    mysql_autocommit(db, 0))
		goto out;
	for (int r = 0; r < rounds; r++) /* the order of the modes turns each round */
		for (int k = 0; k < LOCK_MODES; k++) {
			int m = (k + r) % LOCK_MODES;

			us[m][r] = round_us(db, (enum lock_mode)m, row_lock_sql, n);
			if (us[m][r] < 0)
				goto out;
		}
	for (int m = 0; m < LOCK_MODES; m++) {
		qsort(us[m], rounds, sizeof(double), cmp_double);
		med[m] = us[m][rounds / 2];
	}
	printf("commit_lock_rounds=%d transactions_per_round=%d\n", rounds, n);
	for (int m = 0; m < LOCK_MODES; m++)
		printf("%s_us_per_transaction=%.1f\n", mode_name[m], med[m]);
	printf("get_lock_cost_us=%.1f row_lock_cost_us=%.1f\n", med[LOCK_NAMED] - med[LOCK_NONE],
	       med[LOCK_ROW] - med[LOCK_NONE]);
	rc = 0;
out:
	mysql_autocommit(db, 1);
	run(db, "DROP TABLE IF EXISTS bench_commit_lock");
	mysql_close(db);
	for (int m = 0; m < LOCK_MODES; m++)
		free(us[m]);
	return rc;
}
