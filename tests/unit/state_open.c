/*
 * state_open.c - opening the state database: creation, pragmas, schema
 * versions and migrations, refusals, transactions.
 */
#include <check.h>
#include <stdarg.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cairn/error.h"
#include "cairn/state.h"
#include "state/state_private.h"
#include "state_tests.h"
#include "testutil.h"

/* A synthetic next version (SYN) on top of the real ones (NREAL). */
#define NREAL CAIRN_STATE_SCHEMA_VERSION
#define SYN (NREAL + 1)
#define STR_(x) #x
#define STR(x) STR_(x)
#define CURRENT STR(CAIRN_STATE_SCHEMA_VERSION)

/* An expected message with numbers in it. */
__attribute__((format(printf, 1, 2))) static const char *msgf(const char *fmt, ...)
{
	static char buf[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return buf;
}

static char dir[64];
static char dbpath[128];

static void setup(void)
{
	state_test_dir(dir, sizeof(dir));
	snprintf(dbpath, sizeof(dbpath), "%s/state.db", dir);
}

static void teardown(void)
{
	state_test_rmdir(dir);
}

/* One integer from a pragma or query on a connection. */
static long long query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s = NULL;
	long long v;

	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* Write a file with raw SQL through SQLite, outside the module. */
static void raw_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

START_TEST(test_open_missing_without_create)
{
	cairn_state *st = (cairn_state *)1;

	ck_assert_int_eq(cairn_state_open(&st, dir, 0), CAIRN_ENOTFOUND);
	ck_assert_ptr_eq(st, (cairn_state *)1);
	ck_assert_error_contains("state database '");
	ck_assert_error_contains("/state.db' does not exist");
	ck_assert_int_eq(cairn_state_open(&st, "", CAIRN_STATE_CREATE), CAIRN_EINVAL);
	ck_assert_error_contains("state directory is empty");
}
END_TEST

START_TEST(test_open_creates_dir_and_schema)
{
	char sub[160];
	cairn_state *st = NULL;
	struct stat sb;
	sqlite3 *db = NULL;

	snprintf(sub, sizeof(sub), "%s/sub", dir);
	ck_assert_int_eq(cairn_state_open(&st, sub, CAIRN_STATE_CREATE), 0);
	ck_assert_int_eq(stat(sub, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0700);
	ck_assert_int_eq(cairn_state_schema_version(st), CAIRN_STATE_SCHEMA_VERSION);
	ck_assert_int_eq(cairn_state_interrupted(st), 0);
	ck_assert(strstr(cairn_state_path(st), "/sub/state.db") != NULL);
	/* The connection's own settings. */
	ck_assert_int_eq(query_int(st->db, "PRAGMA synchronous"), 2);
	ck_assert_int_eq(query_int(st->db, "PRAGMA foreign_keys"), 1);
	ck_assert_int_eq(cairn_state_check(st), 0);
	cairn_state_close(st);
	/* What another reader of the file sees. */
	snprintf(sub, sizeof(sub), "%s/sub/state.db", dir);
	ck_assert_int_eq(sqlite3_open(sub, &db), SQLITE_OK);
	ck_assert_int_eq(query_int(db, "PRAGMA user_version"), CAIRN_STATE_SCHEMA_VERSION);
	ck_assert_int_eq(query_int(db, "PRAGMA application_id"), CAIRN_STATE_APPLICATION_ID);
	ck_assert_int_eq(query_int(db,
	                           "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
	                           "name IN ('app_status', 'operations', 'history', 'drift', "
	                           "'dryrun_cache', 'kv')"),
	                 6);
	{
		sqlite3_stmt *s = NULL;

		ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL),
		                 SQLITE_OK);
		ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
		ck_assert_str_eq((const char *)sqlite3_column_text(s, 0), "wal");
		sqlite3_finalize(s);
	}
	sqlite3_close(db);
	cairn_state_close(NULL);
}
END_TEST

START_TEST(test_open_sync_normal)
{
	cairn_state *st = NULL;

	ck_assert_int_eq(cairn_state_open(&st, dir, CAIRN_STATE_CREATE | CAIRN_STATE_SYNC_NORMAL),
	                 0);
	ck_assert_int_eq(query_int(st->db, "PRAGMA synchronous"), 1);
	cairn_state_close(st);
}
END_TEST

START_TEST(test_open_refuses_not_sqlite)
{
	cairn_state *st = NULL;
	int fd = open(dbpath, O_WRONLY | O_CREAT, 0600);

	ck_assert_int_ge(fd, 0);
	for (int i = 0; i < 64; i++)
		ck_assert_int_eq(write(fd, "this is not a database, ", 24), 24);
	close(fd);
	ck_assert_int_eq(cairn_state_open(&st, dir, 0), CAIRN_ECORRUPT);
	ck_assert_error_contains("is not an SQLite database");
	ck_assert_error_contains(dbpath);
}
END_TEST

START_TEST(test_open_refuses_foreign_database)
{
	cairn_state *st = NULL;

	raw_exec(dbpath, "PRAGMA application_id = 5; CREATE TABLE t (x)");
	ck_assert_int_eq(cairn_state_open(&st, dir, 0), CAIRN_ECORRUPT);
	ck_assert_error_contains("is not a cairn state database (application_id 0x5)");
	ck_assert_error_contains(dbpath);
}
END_TEST

START_TEST(test_open_refuses_unversioned_database)
{
	cairn_state *st = NULL;
	sqlite3 *db = NULL;

	raw_exec(dbpath, "CREATE TABLE notes (x)");
	ck_assert_int_eq(cairn_state_open(&st, dir, CAIRN_STATE_CREATE), CAIRN_ECORRUPT);
	ck_assert_error_contains("is not a cairn state database (it has tables but no schema "
	                         "version)");
	/* Nothing of ours was added to it. */
	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM sqlite_master"), 1);
	sqlite3_close(db);
}
END_TEST

START_TEST(test_open_refuses_newer_schema)
{
	cairn_state *st = NULL;

	ck_assert_int_eq(cairn_state_open(&st, dir, CAIRN_STATE_CREATE), 0);
	cairn_state_close(st);
	raw_exec(dbpath, "PRAGMA user_version = 7");
	st = NULL;
	ck_assert_int_eq(cairn_state_open(&st, dir, 0), CAIRN_EUNSUPPORTED);
	ck_assert_ptr_null(st);
	ck_assert_error_contains("has schema version 7, newer than the version " CURRENT
	                         " this cairn knows");
	ck_assert_error_contains(dbpath);
	ck_assert_int_eq(cairn_state_open(&st, dir, CAIRN_STATE_READONLY), CAIRN_EUNSUPPORTED);
}
END_TEST

static const char v2_sql[] = "CREATE TABLE rollout_test (app TEXT PRIMARY KEY, step INTEGER);"
                             "INSERT INTO rollout_test SELECT app, 0 FROM app_status;";
static const char v2_bad_sql[] =
        "CREATE TABLE half_done (x); INSERT INTO no_such_table VALUES (1);";

static void migrations_plus(struct state_migration *m, const char *sql)
{
	size_t n;
	const struct state_migration *real = state__migrations(&n);

	ck_assert_uint_eq(n, NREAL);
	for (size_t i = 0; i < n; i++)
		m[i] = real[i];
	m[NREAL].version = SYN;
	m[NREAL].sql = sql;
}

START_TEST(test_migration_v1_to_v2)
{
	struct state_migration m[SYN];
	cairn_state *st = NULL;
	cairn_state_app a = {
	        .app = "guestbook", .env = "dev", .sync_status = "Synced", .health = "Healthy"};
	cairn_state_app *got = NULL;

	ck_assert_int_eq(cairn_state_open(&st, dir, CAIRN_STATE_CREATE), 0);
	ck_assert_int_eq(cairn_state_app_put(st, &a), 0);
	cairn_state_close(st);

	/* A v1 file opened by code that knows v2: migrated, data kept. */
	migrations_plus(m, v2_sql);
	ck_assert_int_eq(state__open_with(&st, dir, 0, m, SYN), 0);
	ck_assert_int_eq(cairn_state_schema_version(st), SYN);
	ck_assert_int_eq(query_int(st->db, "SELECT count(*) FROM rollout_test WHERE app = "
	                                   "'guestbook'"),
	                 1);
	ck_assert_int_eq(cairn_state_app_get(&got, st, "guestbook", "dev"), 0);
	ck_assert_str_eq(got->health, "Healthy");
	cairn_state_app_free(got);
	cairn_state_close(st);

	/* Opening again runs nothing twice (the INSERT would fail on the key). */
	ck_assert_int_eq(state__open_with(&st, dir, 0, m, SYN), 0);
	ck_assert_int_eq(query_int(st->db, "PRAGMA user_version"), SYN);
	cairn_state_close(st);

	/* The v1 code now refuses the v2 file. */
	ck_assert_int_eq(cairn_state_open(&st, dir, 0), CAIRN_EUNSUPPORTED);
	ck_assert_error_contains(
	        msgf("has schema version %d, newer than the version %d", SYN, NREAL));
}
END_TEST

START_TEST(test_migration_failure_rolls_back)
{
	struct state_migration m[SYN];
	cairn_state *st = NULL;

	ck_assert_int_eq(cairn_state_open(&st, dir, CAIRN_STATE_CREATE), 0);
	cairn_state_close(st);
	st = NULL;
	migrations_plus(m, v2_bad_sql);
	ck_assert_int_eq(state__open_with(&st, dir, 0, m, SYN), CAIRN_ERROR);
	ck_assert_ptr_null(st);
	ck_assert_error_contains(
	        msgf("migrating to schema version %d: cannot migrate the schema in "
	             "state database '",
	             SYN));
	ck_assert_error_contains("no such table: no_such_table");
	/* Nothing of the failed step stayed. */
	ck_assert_int_eq(cairn_state_open(&st, dir, 0), 0);
	ck_assert_int_eq(cairn_state_schema_version(st), NREAL);
	ck_assert_int_eq(query_int(st->db, "SELECT count(*) FROM sqlite_master WHERE name = "
	                                   "'half_done'"),
	                 0);
	cairn_state_close(st);
	/* Versions must count up from 1 without gaps. */
	m[NREAL].version = SYN + 1;
	ck_assert_int_eq(state__open_with(&st, dir, 0, m, SYN), CAIRN_EINVAL);
	ck_assert_error_contains(msgf("state migration %d has version %d", NREAL, SYN + 1));
}
END_TEST

START_TEST(test_readonly)
{
	struct state_migration m[SYN];
	cairn_state *st = NULL;
	cairn_state_app a = {.app = "a", .env = "e", .sync_status = "Synced", .health = "Healthy"};
	int64_t id;
	cairn_state_op op = {.app = "a", .env = "e", .kind = "sync"};

	ck_assert_int_eq(cairn_state_open(&st, dir, CAIRN_STATE_READONLY), CAIRN_ENOTFOUND);
	ck_assert_int_eq(cairn_state_open(&st, dir, CAIRN_STATE_CREATE), 0);
	cairn_state_close(st);
	ck_assert_int_eq(cairn_state_open(&st, dir, CAIRN_STATE_READONLY), 0);
	ck_assert_int_eq(cairn_state_app_put(st, &a), CAIRN_EPERM);
	ck_assert_error_contains("is open read-only");
	ck_assert_int_eq(cairn_state_op_start(&id, st, &op), CAIRN_EPERM);
	ck_assert_int_eq(cairn_state_kv_set(st, "k", "v"), CAIRN_EPERM);
	ck_assert_error_contains("cannot set a key in state database '");
	ck_assert_error_contains("readonly");
	ck_assert_int_eq(cairn_state_begin(st), CAIRN_EPERM);
	cairn_state_close(st);
	/* A read-only open cannot migrate. */
	migrations_plus(m, v2_sql);
	ck_assert_int_eq(state__open_with(&st, dir, CAIRN_STATE_READONLY, m, SYN), CAIRN_EINVAL);
	ck_assert_error_contains(
	        msgf("has schema version %d and needs migrating to %d", NREAL, SYN));
}
END_TEST

START_TEST(test_transactions)
{
	cairn_state *st = NULL;
	char *v = NULL;

	ck_assert_int_eq(cairn_state_open(&st, dir, CAIRN_STATE_CREATE), 0);
	ck_assert_int_eq(cairn_state_commit(st), CAIRN_EINVAL);
	ck_assert_error_contains("no transaction is open on state database '");
	ck_assert_int_eq(cairn_state_rollback(st), 0);

	ck_assert_int_eq(cairn_state_begin(st), 0);
	ck_assert_int_eq(cairn_state_begin(st), CAIRN_EINVAL);
	ck_assert_error_contains("a transaction is already open");
	ck_assert_int_eq(cairn_state_kv_set(st, "dropped", "1"), 0);
	ck_assert_int_eq(cairn_state_rollback(st), 0);
	ck_assert_int_eq(cairn_state_kv_get(&v, st, "dropped"), CAIRN_ENOTFOUND);

	ck_assert_int_eq(cairn_state_begin(st), 0);
	ck_assert_int_eq(cairn_state_kv_set(st, "kept", "1"), 0);
	ck_assert_int_eq(cairn_state_commit(st), 0);
	ck_assert_int_eq(cairn_state_kv_get(&v, st, "kept"), 0);
	ck_assert_str_eq(v, "1");
	free(v);
	/* Closing with a transaction open drops it. */
	ck_assert_int_eq(cairn_state_begin(st), 0);
	ck_assert_int_eq(cairn_state_kv_set(st, "lost", "1"), 0);
	cairn_state_close(st);
	ck_assert_int_eq(cairn_state_open(&st, dir, 0), 0);
	ck_assert_int_eq(cairn_state_kv_get(&v, st, "lost"), CAIRN_ENOTFOUND);
	cairn_state_close(st);
}
END_TEST

/* A history add inside a caller's transaction joins it (savepoint), and
 * its failure undoes only its own part. */
START_TEST(test_nested_unit_failure)
{
	cairn_state *st = NULL;
	cairn_state_history bad = {
	        .app = "a", .env = "e", .revision = "r", .manifests_ref = "x", .operation_id = 999};
	char *v = NULL;
	int64_t id = 0;

	ck_assert_int_eq(cairn_state_open(&st, dir, CAIRN_STATE_CREATE), 0);
	ck_assert_int_eq(cairn_state_begin(st), 0);
	ck_assert_int_eq(cairn_state_kv_set(st, "before", "1"), 0);
	ck_assert_int_eq(cairn_state_history_add(&id, st, &bad, 0), CAIRN_EINVAL);
	ck_assert_error_contains("names operation 999, which is not in state database");
	ck_assert_int_eq(cairn_state_commit(st), 0);
	ck_assert_int_eq(cairn_state_kv_get(&v, st, "before"), 0);
	free(v);
	ck_assert_int_eq(query_int(st->db, "SELECT count(*) FROM history"), 0);
	cairn_state_close(st);
}
END_TEST

START_TEST(test_statement_cache)
{
	cairn_state *st = NULL;
	char *v = NULL;
	size_t n;

	ck_assert_int_eq(cairn_state_open(&st, dir, CAIRN_STATE_CREATE), 0);
	ck_assert_int_eq(cairn_state_kv_set(st, "k", "1"), 0);
	n = st->nstmts;
	for (int i = 0; i < 100; i++) {
		ck_assert_int_eq(cairn_state_kv_set(st, "k", "2"), 0);
		ck_assert_int_eq(cairn_state_kv_get(&v, st, "k"), 0);
		free(v);
	}
	/* One more statement (the get), however many calls. */
	ck_assert_uint_eq(st->nstmts, n + 1);
	cairn_state_close(st);
}
END_TEST

void state_open_tests(Suite *s)
{
	TCase *tc = tcase_create("open");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_open_missing_without_create);
	tcase_add_test(tc, test_open_creates_dir_and_schema);
	tcase_add_test(tc, test_open_sync_normal);
	tcase_add_test(tc, test_open_refuses_not_sqlite);
	tcase_add_test(tc, test_open_refuses_foreign_database);
	tcase_add_test(tc, test_open_refuses_unversioned_database);
	tcase_add_test(tc, test_open_refuses_newer_schema);
	tcase_add_test(tc, test_migration_v1_to_v2);
	tcase_add_test(tc, test_migration_failure_rolls_back);
	tcase_add_test(tc, test_readonly);
	tcase_add_test(tc, test_transactions);
	tcase_add_test(tc, test_nested_unit_failure);
	tcase_add_test(tc, test_statement_cache);
	suite_add_tcase(s, tc);
}
