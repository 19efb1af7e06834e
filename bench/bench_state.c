/*
 * bench_state.c - the state store's write rates, each beside the limit it
 * is measured against: raw SQLite single-row autocommit INSERTs into a WAL
 * database with the same synchronous setting (the physical limit of one
 * fsync'd commit). Informative figures:
 *   operations recorded/s (start + finish: two commits each), FULL and NORMAL;
 *   operations recorded/s with 100 per transaction (cairn_state_begin);
 *   dry-run cache hits/s.
 * Bounded: about a second per figure, in a temp dir under /tmp it removes.
 */
#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/state.h"
#include "cairn/util.h"

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static double per_sec(long n, cairn_usec t0)
{
	return (double)n * 1e6 / (double)(cairn_time_mono() - t0);
}

/* Raw SQLite: one-row autocommit INSERTs in WAL mode for about a second. */
static double raw_rate(const char *dir, const char *sync)
{
	char path[256], sql[128];
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	cairn_usec t0;
	long n = 0;

	snprintf(path, sizeof(path), "%s/raw-%s.db", dir, sync);
	snprintf(sql, sizeof(sql), "PRAGMA journal_mode = WAL; PRAGMA synchronous = %s", sync);
	if (sqlite3_open(path, &db) != SQLITE_OK || sqlite3_exec(db, sql, NULL, NULL, NULL) ||
	    sqlite3_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT)", NULL, NULL,
	                 NULL) ||
	    sqlite3_prepare_v2(db, "INSERT INTO t (a, b) VALUES ('web', 'prod')", -1, &s, NULL)) {
		fprintf(stderr, "raw sqlite: %s\n", sqlite3_errmsg(db));
		exit(1);
	}
	t0 = cairn_time_mono();
	do {
		for (int i = 0; i < 20; i++, n++) {
			sqlite3_step(s);
			sqlite3_reset(s);
		}
	} while (cairn_time_mono() - t0 < 1000000);
	double r = per_sec(n, t0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return r;
}

static void fail(const char *what)
{
	fprintf(stderr, "bench_state: %s: %s\n", what, cairn_error_last()->message);
	exit(1);
}

/* Operations (start + finish with a small resources array) per second. */
static double op_rate(const char *dir, int flags, int batch)
{
	cairn_state *st = NULL;
	json_t *res = json_pack("[{s:s, s:s, s:s}]", "object", "apps/Deployment/shop/web", "action",
	                        "update", "result", "ok");
	cairn_state_op op = {.app = "web",
	                     .env = "prod",
	                     .kind = "sync",
	                     .trigger_who = "cairnd",
	                     .trigger_what = "push",
	                     .revision = "0123456789abcdef",
	                     .render_hash = "sha256:abc"};
	cairn_usec t0;
	int64_t id;
	long n = 0;

	if (cairn_state_open(&st, dir, CAIRN_STATE_CREATE | flags) != 0)
		fail("open");
	t0 = cairn_time_mono();
	do {
		if (batch > 1 && cairn_state_begin(st) != 0)
			fail("begin");
		for (int i = 0; i < (batch > 1 ? batch : 10); i++, n++) {
			if (cairn_state_op_start(&id, st, &op) != 0 ||
			    cairn_state_op_finish(st, id, "Succeeded", NULL, res) != 0)
				fail("record");
		}
		if (batch > 1 && cairn_state_commit(st) != 0)
			fail("commit");
	} while (cairn_time_mono() - t0 < 1000000);
	double r = per_sec(n, t0);
	cairn_state_close(st);
	json_decref(res);
	return r;
}

static double dryrun_hit_rate(const char *dir)
{
	cairn_state *st = NULL;
	json_t *p = json_pack("{s:s, s:{s:s, s:s}, s:{s:i}}", "kind", "Deployment", "metadata",
	                      "name", "web", "namespace", "shop", "spec", "replicas", 3);
	json_t *got;
	char h[32];
	cairn_usec t0;
	long n = 0;

	if (cairn_state_open(&st, dir, CAIRN_STATE_CREATE) != 0 || cairn_state_begin(st) != 0)
		fail("open");
	for (int i = 0; i < 1000; i++) {
		snprintf(h, sizeof(h), "h%d", i);
		if (cairn_state_dryrun_put(st, h, "1", p) != 0)
			fail("dryrun put");
	}
	if (cairn_state_commit(st) != 0)
		fail("commit");
	t0 = cairn_time_mono();
	do {
		for (int i = 0; i < 100; i++, n++) {
			snprintf(h, sizeof(h), "h%ld", n % 1000);
			if (cairn_state_dryrun_get(&got, st, h, "1") != 0)
				fail("dryrun get");
			json_decref(got);
		}
	} while (cairn_time_mono() - t0 < 1000000);
	double r = per_sec(n, t0);
	cairn_state_close(st);
	json_decref(p);
	return r;
}

int main(void)
{
	char dir[] = "/tmp/cairn-bench-state-XXXXXX", sub[64];
	double raw_full, raw_normal;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	raw_full = raw_rate(dir, "FULL");
	raw_normal = raw_rate(dir, "NORMAL");
	snprintf(sub, sizeof(sub), "%s/full", dir);
	printf("%-48s %10.0f /s | raw SQLite commits %.0f /s (each op is 2 commits)\n",
	       "operations recorded, synchronous=FULL", op_rate(sub, 0, 1), raw_full);
	snprintf(sub, sizeof(sub), "%s/normal", dir);
	printf("%-48s %10.0f /s | raw SQLite commits %.0f /s\n",
	       "operations recorded, synchronous=NORMAL", op_rate(sub, CAIRN_STATE_SYNC_NORMAL, 1),
	       raw_normal);
	snprintf(sub, sizeof(sub), "%s/batch", dir);
	printf("%-48s %10.0f /s\n", "operations recorded, 100 per transaction, FULL",
	       op_rate(sub, 0, 100));
	snprintf(sub, sizeof(sub), "%s/dryrun", dir);
	printf("%-48s %10.0f /s\n", "dry-run cache hits (1,000 entries)", dryrun_hit_rate(sub));
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
