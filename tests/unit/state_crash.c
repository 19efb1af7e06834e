/*
 * state_crash.c - what survives a kill -9, interrupted operations, and
 * concurrent writers. Fast tier: three kills at different points of a write
 * loop, two writer processes of 150 operations each, one 5 s busy wait.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cairn/error.h"
#include "cairn/state.h"
#include "state/state_private.h"
#include "state_tests.h"
#include "testutil.h"

static char dir[64];

static void setup(void)
{
	state_test_dir(dir, sizeof(dir));
}

static void teardown(void)
{
	state_test_rmdir(dir);
}

/* One report from the writer child: what it committed. */
struct report {
	char tag; /* S: operation started, H: history entry added, F: operation finished */
	int64_t id;
};

static void report(int fd, char tag, int64_t id)
{
	struct report r = {tag, id};

	if (write(fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
		_exit(3);
}

/*
 * The child: operations started, given a history entry and finished, one
 * after another; operation number `stuck_at` is never finished, the child
 * keeps adding history entries under it until it is killed.
 */
static void writer_child(const char *d, int fd, int stuck_at)
{
	cairn_state *st = NULL;
	cairn_state_op op = {.app = "web", .env = "prod", .kind = "sync", .trigger_what = "test"};
	json_t *m = json_pack("[{s:s, s:{s:s}}]", "kind", "ConfigMap", "data", "k",
	                      "some manifest text to make the row longer than a few bytes");
	int64_t id, hid;

	if (cairn_state_open(&st, d, CAIRN_STATE_CREATE) != 0)
		_exit(2);
	for (int i = 1;; i++) {
		cairn_state_history h = {
		        .app = "web", .env = "prod", .revision = "r", .manifests = m};

		if (cairn_state_op_start(&id, st, &op) != 0)
			_exit(4);
		report(fd, 'S', id);
		h.operation_id = id;
		do {
			if (cairn_state_history_add(&hid, st, &h, 100000) != 0)
				_exit(5);
			report(fd, 'H', hid);
		} while (i == stuck_at);
		if (cairn_state_op_finish(st, id, "Succeeded", NULL, NULL) != 0)
			_exit(6);
		report(fd, 'F', id);
	}
}

static int read_report(int fd, struct report *r)
{
	size_t got = 0;

	while (got < sizeof(*r)) {
		ssize_t n = read(fd, (char *)r + got, sizeof(*r) - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

/* Kill the writer `extra` history entries into its stuck operation, then
 * check what the next open finds. */
static void kill_and_check(const char *d, int stuck_at, int extra)
{
	int fds[2], status, nh = 0, after = 0, nf = 0;
	int64_t stuck_id = 0, finished[64], hist[4096];
	struct report r;
	cairn_state *st = NULL;
	cairn_state_op *op = NULL;
	cairn_state_history *h = NULL;
	pid_t pid;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		writer_child(d, fds[1], stuck_at);
	}
	close(fds[1]);
	while (read_report(fds[0], &r) == 0) {
		if (r.tag == 'F' && nf < 64)
			finished[nf++] = r.id;
		if (r.tag == 'H' && nh < 4096)
			hist[nh++] = r.id;
		if (r.tag == 'S' && nf == stuck_at - 1)
			stuck_id = r.id;
		if (stuck_id != 0 && r.tag == 'H' && ++after == extra)
			kill(pid, SIGKILL);
	}
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	ck_assert_int_eq(nf, stuck_at - 1);

	ck_assert_int_eq(cairn_state_open(&st, d, 0), 0);
	ck_assert_int_eq(cairn_state_interrupted(st), 1);
	ck_assert_int_eq(cairn_state_check(st), 0);
	for (int i = 0; i < nf; i++) {
		ck_assert_int_eq(cairn_state_op_get(&op, st, finished[i]), 0);
		ck_assert_str_eq(op->phase, "Succeeded");
		cairn_state_op_free(op);
	}
	for (int i = 0; i < nh; i++) {
		ck_assert_int_eq(cairn_state_history_get(&h, st, hist[i]), 0);
		ck_assert_int_eq(json_array_size(h->manifests), 1);
		cairn_state_history_free(h);
	}
	ck_assert_int_eq(cairn_state_op_get(&op, st, stuck_id), 0);
	ck_assert_str_eq(op->phase, "Error");
	ck_assert(strstr(op->message, "interrupted") != NULL);
	ck_assert_int_gt(op->finished_at, 0);
	cairn_state_op_free(op);
	cairn_state_close(st);
	/* The next open has nothing left to recover. */
	ck_assert_int_eq(cairn_state_open(&st, d, 0), 0);
	ck_assert_int_eq(cairn_state_interrupted(st), 0);
	cairn_state_close(st);
}

START_TEST(test_kill9_in_write_loop)
{
	static const int extra[] = {1, 7, 40};
	char d[128];

	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
		snprintf(d, sizeof(d), "%s/run%zu", dir, i);
		kill_and_check(d, 20 + (int)i * 5, extra[i]);
	}
}
END_TEST

/* A Running operation of a live process (this one) is left alone; one of a
 * process from another boot, or of a pid since reused, is recovered. */
START_TEST(test_recover_only_dead_owners)
{
	cairn_state *a = NULL, *b = NULL;
	cairn_state_op op = {.app = "web", .env = "prod", .kind = "sync"}, *got = NULL;
	int64_t live, old, reused;
	char *err = NULL, token[128], sql[256];

	ck_assert_int_eq(cairn_state_open(&a, dir, CAIRN_STATE_CREATE), 0);
	ck_assert_int_eq(cairn_state_op_start(&live, a, &op), 0);
	ck_assert_int_eq(cairn_state_op_start(&old, a, &op), 0);
	ck_assert_int_eq(
	        sqlite3_exec(
	                a->db,
	                "UPDATE operations SET owner = '00000000-0000-0000-0000-000000000000:1:1'"
	                " WHERE id = 2",
	                NULL, NULL, &err),
	        SQLITE_OK);
	ck_assert_int_eq(old, 2);
	/* Our pid, but a start time that is not ours: a reused pid, so dead. */
	ck_assert_int_eq(cairn_state_op_start(&reused, a, &op), 0);
	state__owner_token(token, sizeof(token), (long)getpid());
	ck_assert_ptr_nonnull(strrchr(token, ':'));
	snprintf(strrchr(token, ':'), 8, ":1");
	snprintf(sql, sizeof(sql), "UPDATE operations SET owner = '%s' WHERE id = %lld", token,
	         (long long)reused);
	ck_assert_int_eq(sqlite3_exec(a->db, sql, NULL, NULL, &err), SQLITE_OK);
	ck_assert_int_eq(cairn_state_open(&b, dir, 0), 0);
	ck_assert_int_eq(cairn_state_interrupted(b), 2);
	ck_assert_int_eq(cairn_state_op_get(&got, b, reused), 0);
	ck_assert_str_eq(got->phase, "Error");
	cairn_state_op_free(got);
	ck_assert_int_eq(cairn_state_op_get(&got, b, live), 0);
	ck_assert_str_eq(got->phase, "Running");
	cairn_state_op_free(got);
	ck_assert_int_eq(cairn_state_op_get(&got, b, old), 0);
	ck_assert_str_eq(got->phase, "Error");
	cairn_state_op_free(got);
	/* The live owner can still finish its operation. */
	ck_assert_int_eq(cairn_state_op_finish(a, live, "Succeeded", "done", NULL), 0);
	cairn_state_close(b);
	cairn_state_close(a);
}
END_TEST

#define WRITER_OPS 150

static void concurrent_child(const char *d, const char *app)
{
	cairn_state *st = NULL;
	cairn_state_op op = {.app = app, .env = "prod", .kind = "sync"};
	char val[32];
	int64_t id;

	if (cairn_state_open(&st, d, CAIRN_STATE_CREATE) != 0)
		goto fail;
	for (int i = 0; i < WRITER_OPS; i++) {
		snprintf(val, sizeof(val), "%d", i);
		if (cairn_state_op_start(&id, st, &op) != 0 ||
		    cairn_state_op_finish(st, id, "Succeeded", NULL, NULL) != 0 ||
		    cairn_state_kv_set(st, app, val) != 0)
			goto fail;
	}
	cairn_state_close(st);
	_exit(0);
fail:
	fprintf(stderr, "writer %s: %s\n", app, cairn_error_last()->message);
	_exit(1);
}

START_TEST(test_concurrent_writers)
{
	static const char *apps[] = {"one", "two"};
	cairn_state *st = NULL;
	cairn_state_op **ops = NULL;
	pid_t pids[2];
	size_t n = 0;
	char *v = NULL;
	int status;

	/* Created first, so that both writers start on a migrated file. */
	ck_assert_int_eq(cairn_state_open(&st, dir, CAIRN_STATE_CREATE), 0);
	cairn_state_close(st);
	for (int i = 0; i < 2; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0)
			concurrent_child(dir, apps[i]);
	}
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert(WIFEXITED(status));
		ck_assert_int_eq(WEXITSTATUS(status), 0);
	}
	ck_assert_int_eq(cairn_state_open(&st, dir, 0), 0);
	ck_assert_int_eq(cairn_state_check(st), 0);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(cairn_state_op_list(&ops, &n, st, apps[i], "prod", 0), 0);
		ck_assert_uint_eq(n, WRITER_OPS);
		for (size_t j = 0; j < n; j++)
			ck_assert_str_eq(ops[j]->phase, "Succeeded");
		cairn_state_op_list_free(ops, n);
		ck_assert_int_eq(cairn_state_kv_get(&v, st, apps[i]), 0);
		ck_assert_str_eq(v, "149");
		free(v);
	}
	cairn_state_close(st);
}
END_TEST

/* Threads, one handle each (the documented model): all writes land. */
struct thread_arg {
	const char *dir;
	char app[16];
	int rc;
};

static void *thread_writer(void *p)
{
	struct thread_arg *a = p;
	cairn_state *st = NULL;
	cairn_state_op op = {.app = a->app, .env = "prod", .kind = "sync"};
	json_t *pred = json_pack("{s:s}", "app", a->app), *got = NULL;
	int64_t id;

	a->rc = cairn_state_open(&st, a->dir, 0);
	for (int i = 0; a->rc == 0 && i < 50; i++) {
		a->rc = cairn_state_op_start(&id, st, &op);
		if (a->rc == 0)
			a->rc = cairn_state_op_finish(st, id, "Succeeded", NULL, NULL);
		if (a->rc == 0)
			a->rc = cairn_state_dryrun_put(st, a->app, "1", pred);
		if (a->rc == 0)
			a->rc = cairn_state_dryrun_get(&got, st, a->app, "1");
		json_decref(got);
		got = NULL;
	}
	cairn_state_close(st);
	json_decref(pred);
	return NULL;
}

START_TEST(test_threads_one_handle_each)
{
	struct thread_arg args[4];
	pthread_t th[4];
	cairn_state *st = NULL;
	cairn_state_op **ops = NULL;
	size_t n = 0;
	int64_t entries, bytes;

	ck_assert_int_eq(cairn_state_open(&st, dir, CAIRN_STATE_CREATE), 0);
	cairn_state_close(st);
	for (int i = 0; i < 4; i++) {
		args[i].dir = dir;
		snprintf(args[i].app, sizeof(args[i].app), "t%d", i);
		args[i].rc = -100;
		ck_assert_int_eq(pthread_create(&th[i], NULL, thread_writer, &args[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
		ck_assert_int_eq(args[i].rc, 0);
	}
	ck_assert_int_eq(cairn_state_open(&st, dir, 0), 0);
	ck_assert_int_eq(cairn_state_op_list(&ops, &n, st, NULL, "prod", 0), 0);
	ck_assert_uint_eq(n, 200);
	cairn_state_op_list_free(ops, n);
	ck_assert_int_eq(cairn_state_dryrun_stats(&entries, &bytes, st), 0);
	ck_assert_int_eq(entries, 4);
	ck_assert_int_eq(cairn_state_check(st), 0);
	cairn_state_close(st);
}
END_TEST

/* A writer waits the busy timeout for another, then fails naming the file. */
START_TEST(test_busy_timeout)
{
	cairn_state *a = NULL, *b = NULL;
	cairn_usec t0;

	ck_assert_int_eq(cairn_state_open(&a, dir, CAIRN_STATE_CREATE), 0);
	ck_assert_int_eq(cairn_state_open(&b, dir, 0), 0);
	ck_assert_int_eq(cairn_state_begin(a), 0);
	t0 = cairn_time_mono();
	ck_assert_int_eq(cairn_state_kv_set(b, "k", "v"), CAIRN_EBUSY);
	ck_assert_int_ge(cairn_time_mono() - t0, (CAIRN_STATE_BUSY_TIMEOUT_MS - 500) * 1000LL);
	ck_assert_error_contains("cannot set a key in state database '");
	ck_assert_error_contains("/state.db': database is locked");
	ck_assert_int_eq(cairn_state_commit(a), 0);
	ck_assert_int_eq(cairn_state_kv_set(b, "k", "v"), 0);
	cairn_state_close(a);
	cairn_state_close(b);
}
END_TEST

void state_crash_tests(Suite *s)
{
	TCase *tc = tcase_create("crash");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_kill9_in_write_loop);
	tcase_add_test(tc, test_recover_only_dead_owners);
	tcase_add_test(tc, test_concurrent_writers);
	tcase_add_test(tc, test_threads_one_handle_each);
	tcase_add_test(tc, test_busy_timeout);
	suite_add_tcase(s, tc);
}
