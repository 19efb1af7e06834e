/*
 * state_rollout.c - the rollout state machines and their events: upsert,
 * the operator's request (never written by put, taken atomically), timers,
 * deletion with events, trimming, limits, and the v1 -> v2 migration.
 */
#include <check.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cairn/error.h"
#include "cairn/state.h"
#include "state/state_private.h"
#include "state_tests.h"
#include "testutil.h"

static char dir[64];
static cairn_state *st;

static void setup(void)
{
	state_test_dir(dir, sizeof(dir));
	ck_assert_int_eq(cairn_state_open(&st, dir, CAIRN_STATE_CREATE), 0);
}

static void teardown(void)
{
	cairn_state_close(st);
	st = NULL;
	state_test_rmdir(dir);
}

static cairn_state_rollout canary(const char *app, const char *env)
{
	cairn_state_rollout r = {.app = app,
	                         .env = env,
	                         .name = "web",
	                         .namespace_ = "shop",
	                         .strategy = "canary",
	                         .phase = "Progressing",
	                         .revision = "1a2b3c4",
	                         .stable_hash = "5d8f9",
	                         .canary_hash = "7c4b2",
	                         .step = 1,
	                         .weight = 20,
	                         .message = "analysis running",
	                         .started_at = 1700000000000000,
	                         .updated_at = 1700000001000000,
	                         .next_at = 1700000010000000};
	return r;
}

START_TEST(test_put_get_upsert)
{
	cairn_state_rollout r = canary("guestbook", "prod");
	cairn_state_rollout *got = NULL;
	json_t *status = json_pack("{s:i, s:[{s:i},{s:s}]}", "step", 1, "steps", "setWeight", 20,
	                           "pause", "");
	int64_t id1 = 0, id2 = 0;

	ck_assert_int_eq(cairn_state_rollout_get(&got, st, "guestbook", "prod", "web"),
	                 CAIRN_ENOTFOUND);
	ck_assert_error_contains(
	        "no rollout 'web' of application 'guestbook' in environment 'prod'");
	ck_assert_ptr_null(got);

	r.status = status;
	ck_assert_int_eq(cairn_state_rollout_put(&id1, st, &r), 0);
	ck_assert_int_gt(id1, 0);
	ck_assert_int_eq(cairn_state_rollout_get(&got, st, "guestbook", "prod", "web"), 0);
	ck_assert_int_eq(got->id, id1);
	ck_assert_str_eq(got->app, "guestbook");
	ck_assert_str_eq(got->env, "prod");
	ck_assert_str_eq(got->name, "web");
	ck_assert_str_eq(got->namespace_, "shop");
	ck_assert_str_eq(got->strategy, "canary");
	ck_assert_str_eq(got->phase, "Progressing");
	ck_assert_str_eq(got->revision, "1a2b3c4");
	ck_assert_str_eq(got->stable_hash, "5d8f9");
	ck_assert_str_eq(got->canary_hash, "7c4b2");
	ck_assert_int_eq(got->step, 1);
	ck_assert_int_eq(got->weight, 20);
	ck_assert_str_eq(got->message, "analysis running");
	ck_assert_ptr_null(got->request);
	ck_assert_ptr_null(got->failed_revision);
	ck_assert_ptr_null(got->failed_reason);
	ck_assert_int_eq(got->started_at, 1700000000000000);
	ck_assert_int_eq(got->updated_at, 1700000001000000);
	ck_assert_int_eq(got->next_at, 1700000010000000);
	ck_assert(json_equal(got->status, status));
	cairn_state_rollout_free(got);

	/* Upsert: same row id, every column replaced, unset ones back to NULL/0. */
	r.phase = "Degraded";
	r.canary_hash = NULL;
	r.weight = 0;
	r.step = -1;
	r.message = NULL;
	r.status = NULL;
	r.next_at = 0;
	r.updated_at = 0;
	r.failed_revision = "1a2b3c4";
	r.failed_reason = "analysis 'errors' failed";
	ck_assert_int_eq(cairn_state_rollout_put(&id2, st, &r), 0);
	ck_assert_int_eq(id2, id1);
	ck_assert_int_eq(cairn_state_rollout_get(&got, st, "guestbook", "prod", "web"), 0);
	ck_assert_int_eq(got->id, id1);
	ck_assert_str_eq(got->phase, "Degraded");
	ck_assert_ptr_null(got->canary_hash);
	ck_assert_ptr_null(got->message);
	ck_assert_ptr_null(got->status);
	ck_assert_int_eq(got->step, -1);
	ck_assert_int_eq(got->weight, 0);
	ck_assert_int_eq(got->next_at, 0);
	ck_assert_int_gt(got->updated_at, 1700000001000000);
	ck_assert_str_eq(got->failed_revision, "1a2b3c4");
	ck_assert_str_eq(got->failed_reason, "analysis 'errors' failed");
	cairn_state_rollout_free(got);

	/* env NULL is the unbound environment "". */
	r.env = NULL;
	ck_assert_int_eq(cairn_state_rollout_put(&id2, st, &r), 0);
	ck_assert_int_ne(id2, id1);
	ck_assert_int_eq(cairn_state_rollout_get(&got, st, "guestbook", "", "web"), 0);
	ck_assert_str_eq(got->env, "");
	cairn_state_rollout_free(got);
	ck_assert_int_eq(cairn_state_rollout_put(NULL, st, &r), 0);
	json_decref(status);
}
END_TEST

START_TEST(test_list)
{
	cairn_state_rollout r = canary("b-app", "prod");
	cairn_state_rollout **v = NULL;
	size_t n = 99;

	ck_assert_int_eq(cairn_state_rollout_list(&v, &n, st, NULL, NULL), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(v);
	ck_assert_int_eq(cairn_state_rollout_put(NULL, st, &r), 0);
	r.env = "dev";
	ck_assert_int_eq(cairn_state_rollout_put(NULL, st, &r), 0);
	r.app = "a-app";
	r.name = "zz";
	r.strategy = "blueGreen";
	ck_assert_int_eq(cairn_state_rollout_put(NULL, st, &r), 0);
	r.name = "aa";
	ck_assert_int_eq(cairn_state_rollout_put(NULL, st, &r), 0);

	ck_assert_int_eq(cairn_state_rollout_list(&v, &n, st, NULL, NULL), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(v[0]->app, "a-app");
	ck_assert_str_eq(v[0]->name, "aa");
	ck_assert_str_eq(v[0]->strategy, "blueGreen");
	ck_assert_str_eq(v[1]->name, "zz");
	ck_assert_str_eq(v[2]->env, "dev");
	ck_assert_str_eq(v[3]->env, "prod");
	cairn_state_rollout_list_free(v, n);

	ck_assert_int_eq(cairn_state_rollout_list(&v, &n, st, "b-app", NULL), 0);
	ck_assert_uint_eq(n, 2);
	cairn_state_rollout_list_free(v, n);
	ck_assert_int_eq(cairn_state_rollout_list(&v, &n, st, NULL, "dev"), 0);
	ck_assert_uint_eq(n, 3);
	cairn_state_rollout_list_free(v, n);
	ck_assert_int_eq(cairn_state_rollout_list(&v, &n, st, "b-app", "prod"), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(v[0]->strategy, "canary");
	cairn_state_rollout_list_free(v, n);
	ck_assert_int_eq(cairn_state_rollout_list(&v, &n, st, "nope", NULL), 0);
	ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(test_refusals)
{
	cairn_state_rollout r = canary("guestbook", "prod");
	char longname[CAIRN_STATE_NAME_MAX + 2];
	static char longmsg[CAIRN_STATE_MESSAGE_MAX + 2];
	cairn_state *ro = NULL;
	char *req = NULL;
	int64_t id = 0;

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	memset(longmsg, 'm', sizeof(longmsg) - 1);
	longmsg[sizeof(longmsg) - 1] = '\0';

	r.app = NULL;
	ck_assert_int_eq(cairn_state_rollout_put(&id, st, &r), CAIRN_EINVAL);
	ck_assert_error_contains("rollout app is missing");
	r.app = "guestbook";
	r.name = NULL;
	ck_assert_int_eq(cairn_state_rollout_put(&id, st, &r), CAIRN_EINVAL);
	ck_assert_error_contains("rollout name is missing");
	r.name = "web";
	r.strategy = NULL;
	ck_assert_int_eq(cairn_state_rollout_put(&id, st, &r), CAIRN_EINVAL);
	ck_assert_error_contains("rollout strategy is missing");
	r.strategy = "linear";
	ck_assert_int_eq(cairn_state_rollout_put(&id, st, &r), CAIRN_EINVAL);
	ck_assert_error_contains("rollout strategy 'linear' is not one of canary, blueGreen");
	r.strategy = "canary";
	r.phase = NULL;
	ck_assert_int_eq(cairn_state_rollout_put(&id, st, &r), CAIRN_EINVAL);
	ck_assert_error_contains("rollout phase is missing");
	r.phase = "Paused";
	r.weight = 101;
	ck_assert_int_eq(cairn_state_rollout_put(&id, st, &r), CAIRN_EINVAL);
	ck_assert_error_contains("rollout weight 101 is not between 0 and 100");
	r.weight = 50;
	r.step = -2;
	ck_assert_int_eq(cairn_state_rollout_put(&id, st, &r), CAIRN_EINVAL);
	ck_assert_error_contains("rollout step -2 is below -1");
	r.step = 0;
	r.canary_hash = longname;
	ck_assert_int_eq(cairn_state_rollout_put(&id, st, &r), CAIRN_EINVAL);
	ck_assert_error_contains("rollout canary hash is longer than 1024 bytes");
	r.canary_hash = "c";
	r.failed_reason = longmsg;
	ck_assert_int_eq(cairn_state_rollout_put(&id, st, &r), CAIRN_EINVAL);
	ck_assert_error_contains("rollout failed reason is longer than 8192 bytes");
	r.failed_reason = NULL;
	/* Exactly at the limits is fine. */
	longname[CAIRN_STATE_NAME_MAX] = '\0';
	r.name = longname;
	longmsg[CAIRN_STATE_MESSAGE_MAX] = '\0';
	r.message = longmsg;
	ck_assert_int_eq(cairn_state_rollout_put(&id, st, &r), 0);
	ck_assert_int_eq(id, 1);
	r.name = "web";
	r.message = NULL;
	ck_assert_int_eq(cairn_state_rollout_put(&id, st, &r), 0);

	/* Nothing is written through a read-only handle. */
	ck_assert_int_eq(cairn_state_open(&ro, dir, CAIRN_STATE_READONLY), 0);
	ck_assert_int_eq(cairn_state_rollout_put(&id, ro, &r), CAIRN_EPERM);
	ck_assert_error_contains("is open read-only");
	ck_assert_int_eq(cairn_state_rollout_request(ro, "guestbook", "prod", "web", "abort"),
	                 CAIRN_EPERM);
	ck_assert_int_eq(cairn_state_rollout_take_request(&req, ro, "guestbook", "prod", "web"),
	                 CAIRN_EPERM);
	ck_assert_int_eq(cairn_state_rollout_delete(ro, "guestbook", "prod", "web"), CAIRN_EPERM);
	ck_assert_int_eq(cairn_state_rollout_event_add(&id, ro, 1, "step", NULL, 0), CAIRN_EPERM);
	cairn_state_close(ro);
}
END_TEST

START_TEST(test_request)
{
	static const char *const names[] = {"promote", "promote-full", "pause",
	                                    "resume",  "abort",        "retry"};
	cairn_state_rollout r = canary("guestbook", "prod");
	cairn_state_rollout *got = NULL;
	char *req = (char *)"unset";

	ck_assert_int_eq(cairn_state_rollout_request(st, "guestbook", "prod", "web", "abort"),
	                 CAIRN_ENOTFOUND);
	ck_assert_error_contains("no rollout 'web' of application 'guestbook'");
	ck_assert_int_eq(cairn_state_rollout_take_request(&req, st, "guestbook", "prod", "web"),
	                 CAIRN_ENOTFOUND);
	ck_assert_str_eq(req, "unset");
	ck_assert_int_eq(cairn_state_rollout_put(NULL, st, &r), 0);

	ck_assert_int_eq(cairn_state_rollout_request(st, "guestbook", "prod", "web", "rollback"),
	                 CAIRN_EINVAL);
	ck_assert_error_contains("rollout request 'rollback' is not one of promote, promote-full, "
	                         "pause, resume, abort, retry");
	ck_assert_int_eq(cairn_state_rollout_request(st, "guestbook", "prod", "web", "Promote"),
	                 CAIRN_EINVAL);
	ck_assert_int_eq(cairn_state_rollout_take_request(&req, st, "guestbook", "prod", "web"), 0);
	ck_assert_ptr_null(req);

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		ck_assert_int_eq(
		        cairn_state_rollout_request(st, "guestbook", "prod", "web", names[i]), 0);
		ck_assert_int_eq(
		        cairn_state_rollout_take_request(&req, st, "guestbook", "prod", "web"), 0);
		ck_assert_str_eq(req, names[i]);
		free(req);
		ck_assert_int_eq(
		        cairn_state_rollout_take_request(&req, st, "guestbook", "prod", "web"), 0);
		ck_assert_ptr_null(req);
	}

	/* A put (the engine writing a step) keeps a pending request; a new one replaces it. */
	ck_assert_int_eq(cairn_state_rollout_request(st, "guestbook", "prod", "web", "pause"), 0);
	ck_assert_int_eq(cairn_state_rollout_request(st, "guestbook", "prod", "web", "promote"), 0);
	r.weight = 50;
	ck_assert_int_eq(cairn_state_rollout_put(NULL, st, &r), 0);
	ck_assert_int_eq(cairn_state_rollout_get(&got, st, "guestbook", "prod", "web"), 0);
	ck_assert_str_eq(got->request, "promote");
	ck_assert_int_eq(got->weight, 50);
	cairn_state_rollout_free(got);

	/* NULL clears it. */
	ck_assert_int_eq(cairn_state_rollout_request(st, "guestbook", "prod", "web", NULL), 0);
	ck_assert_int_eq(cairn_state_rollout_take_request(&req, st, "guestbook", "prod", "web"), 0);
	ck_assert_ptr_null(req);

	/* Taken inside a transaction that rolls back: the request is still there. */
	ck_assert_int_eq(cairn_state_rollout_request(st, "guestbook", "prod", "web", "retry"), 0);
	ck_assert_int_eq(cairn_state_begin(st), 0);
	ck_assert_int_eq(cairn_state_rollout_take_request(&req, st, "guestbook", "prod", "web"), 0);
	ck_assert_str_eq(req, "retry");
	free(req);
	ck_assert_int_eq(cairn_state_rollback(st), 0);
	ck_assert_int_eq(cairn_state_rollout_take_request(&req, st, "guestbook", "prod", "web"), 0);
	ck_assert_str_eq(req, "retry");
	free(req);
}
END_TEST

/* Child of test_take_is_atomic: exit 1 when it took the request, 0 when none, 2 on error. */
static int take_in_child(void)
{
	cairn_state *c = NULL;
	char *req = NULL;
	int rc;

	if (cairn_state_open(&c, dir, 0) != 0)
		return 2;
	rc = cairn_state_rollout_take_request(&req, c, "guestbook", "prod", "web");
	cairn_state_close(c);
	if (rc != 0)
		return 2;
	rc = req != NULL && strcmp(req, "promote") == 0 ? 1 : 0;
	free(req);
	return rc;
}

START_TEST(test_take_is_atomic)
{
	cairn_state_rollout r = canary("guestbook", "prod");
	enum {
		ROUNDS = 10,
		PROCS = 4
	};

	ck_assert_int_eq(cairn_state_rollout_put(NULL, st, &r), 0);
	for (int round = 0; round < ROUNDS; round++) {
		pid_t pids[PROCS];
		int taken = 0, status;

		ck_assert_int_eq(
		        cairn_state_rollout_request(st, "guestbook", "prod", "web", "promote"), 0);
		for (int i = 0; i < PROCS; i++) {
			pids[i] = fork();
			ck_assert_int_ge(pids[i], 0);
			if (pids[i] == 0)
				_exit(take_in_child());
		}
		for (int i = 0; i < PROCS; i++) {
			ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
			ck_assert(WIFEXITED(status));
			ck_assert_int_lt(WEXITSTATUS(status), 2);
			taken += WEXITSTATUS(status);
		}
		ck_assert_int_eq(taken, 1);
	}
}
END_TEST

START_TEST(test_due)
{
	cairn_state_rollout r = canary("a", "prod");
	cairn_state_rollout **v = NULL;
	size_t n = 0;

	r.next_at = 3000;
	ck_assert_int_eq(cairn_state_rollout_put(NULL, st, &r), 0);
	r.app = "b";
	r.next_at = 1000;
	ck_assert_int_eq(cairn_state_rollout_put(NULL, st, &r), 0);
	r.app = "c";
	r.next_at = 0; /* waits for a change only */
	ck_assert_int_eq(cairn_state_rollout_put(NULL, st, &r), 0);
	r.app = "d";
	r.next_at = 9000;
	ck_assert_int_eq(cairn_state_rollout_put(NULL, st, &r), 0);

	ck_assert_int_eq(cairn_state_rollout_due(&v, &n, st, 999), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(cairn_state_rollout_due(&v, &n, st, 3000), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(v[0]->app, "b");
	ck_assert_str_eq(v[1]->app, "a");
	cairn_state_rollout_list_free(v, n);

	/* A pending request makes a rollout due now, even one without a timer. */
	ck_assert_int_eq(cairn_state_rollout_request(st, "c", "prod", "web", "promote"), 0);
	ck_assert_int_eq(cairn_state_rollout_due(&v, &n, st, 2000), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(v[0]->app, "b");
	ck_assert_str_eq(v[1]->app, "c");
	ck_assert_str_eq(v[1]->request, "promote");
	cairn_state_rollout_list_free(v, n);
}
END_TEST

START_TEST(test_events)
{
	cairn_state_rollout r = canary("guestbook", "prod");
	cairn_state_rollout_event **ev = NULL;
	json_t *m = json_pack("{s:s, s:f, s:s, s:s}", "metric", "errors", "value", 0.02, "phase",
	                      "Successful", "query", "sum(rate(errors[1m]))");
	json_t *arr = json_array();
	int64_t rid = 0, e1 = 0, e2 = 0, e3 = 0;
	size_t n = 0;

	ck_assert_int_eq(cairn_state_rollout_put(&rid, st, &r), 0);
	ck_assert_int_eq(cairn_state_rollout_event_add(&e1, st, rid, "step", NULL, 1000), 0);
	ck_assert_int_eq(cairn_state_rollout_event_add(&e2, st, rid, "measurement", m, 2000), 0);
	ck_assert_int_eq(cairn_state_rollout_event_add(&e3, st, rid, "promote", NULL, 0), 0);
	ck_assert_int_lt(e1, e2);
	ck_assert_int_lt(e2, e3);

	ck_assert_int_eq(cairn_state_rollout_events(&ev, &n, st, rid, 0, 0), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(ev[0]->kind, "step");
	ck_assert_int_eq(ev[0]->at, 1000);
	ck_assert_int_eq(ev[0]->rollout_id, rid);
	ck_assert(json_is_object(ev[0]->data));
	ck_assert_uint_eq(json_object_size(ev[0]->data), 0);
	ck_assert(json_equal(ev[1]->data, m));
	ck_assert_int_gt(ev[2]->at, 2000);
	cairn_state_rollout_event_list_free(ev, n);

	ck_assert_int_eq(cairn_state_rollout_events(&ev, &n, st, rid, e1, 1), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(ev[0]->id, e2);
	cairn_state_rollout_event_list_free(ev, n);
	ck_assert_int_eq(cairn_state_rollout_events(&ev, &n, st, rid, e3, 0), 0);
	ck_assert_uint_eq(n, 0);

	ck_assert_int_eq(cairn_state_rollout_event_add(&e1, st, rid, "step", arr, 0), CAIRN_EINVAL);
	ck_assert_error_contains("rollout event data must be a JSON object");
	ck_assert_int_eq(cairn_state_rollout_event_add(&e1, st, rid, NULL, NULL, 0), CAIRN_EINVAL);
	ck_assert_error_contains("rollout event kind is missing");
	ck_assert_int_eq(cairn_state_rollout_event_add(&e1, st, rid + 100, "step", NULL, 0),
	                 CAIRN_ENOTFOUND);
	ck_assert_error_contains("no rollout");

	/* Deleting the rollout deletes its events. */
	ck_assert_int_eq(cairn_state_rollout_delete(st, "guestbook", "prod", "web"), 0);
	ck_assert_int_eq(cairn_state_rollout_delete(st, "guestbook", "prod", "web"),
	                 CAIRN_ENOTFOUND);
	ck_assert_error_contains("no rollout 'web' of application 'guestbook'");
	ck_assert_int_eq(cairn_state_rollout_events(&ev, &n, st, rid, 0, 0), 0);
	ck_assert_uint_eq(n, 0);
	json_decref(m);
	json_decref(arr);
}
END_TEST

START_TEST(test_events_trimmed)
{
	cairn_state_rollout r = canary("guestbook", "prod");
	cairn_state_rollout_event **ev = NULL;
	int64_t rid = 0, other = 0, id = 0, first_kept = 0;
	size_t n = 0;

	ck_assert_int_eq(cairn_state_rollout_put(&rid, st, &r), 0);
	r.name = "api";
	ck_assert_int_eq(cairn_state_rollout_put(&other, st, &r), 0);
	ck_assert_int_eq(cairn_state_rollout_event_add(&id, st, other, "step", NULL, 0), 0);
	ck_assert_int_eq(cairn_state_begin(st), 0);
	for (int i = 0; i < 1005; i++) {
		json_t *d = json_pack("{s:i}", "i", i);

		ck_assert_int_eq(cairn_state_rollout_event_add(&id, st, rid, "weight", d, 0), 0);
		if (i == 5)
			first_kept = id;
		json_decref(d);
	}
	ck_assert_int_eq(cairn_state_commit(st), 0);
	ck_assert_int_eq(cairn_state_rollout_events(&ev, &n, st, rid, 0, 0), 0);
	ck_assert_uint_eq(n, 1000);
	ck_assert_int_eq(ev[0]->id, first_kept);
	ck_assert_int_eq(json_integer_value(json_object_get(ev[0]->data, "i")), 5);
	ck_assert_int_eq(json_integer_value(json_object_get(ev[999]->data, "i")), 1004);
	cairn_state_rollout_event_list_free(ev, n);
	/* The other rollout's log is its own. */
	ck_assert_int_eq(cairn_state_rollout_events(&ev, &n, st, other, 0, 0), 0);
	ck_assert_uint_eq(n, 1);
	cairn_state_rollout_event_list_free(ev, n);
}
END_TEST

/* A database written by the version 1 code is migrated to version 2 on open. */
START_TEST(test_migrate_v1)
{
	size_t nm;
	const struct state_migration *m = state__migrations(&nm);
	cairn_state *v1 = NULL;
	cairn_state_app a = {
	        .app = "guestbook", .env = "prod", .sync_status = "Synced", .health = "Healthy"};
	cairn_state_app *got = NULL;
	cairn_state_rollout r = canary("guestbook", "prod");
	cairn_state_rollout **v = NULL;
	size_t n = 9;
	int64_t id = 0;

	cairn_state_close(st);
	st = NULL;
	state_test_rmdir(dir);
	ck_assert_int_ge(nm, 2);
	ck_assert_int_eq(state__open_with(&v1, dir, CAIRN_STATE_CREATE, m, 1), 0);
	ck_assert_int_eq(cairn_state_schema_version(v1), 1);
	ck_assert_int_eq(cairn_state_app_put(v1, &a), 0);
	cairn_state_close(v1);

	/* A read-only open refuses to use it as it is. */
	ck_assert_int_eq(cairn_state_open(&st, dir, CAIRN_STATE_READONLY), CAIRN_EINVAL);
	ck_assert_error_contains("has schema version 1 and needs migrating to 2");

	ck_assert_int_eq(cairn_state_open(&st, dir, 0), 0);
	ck_assert_int_eq(cairn_state_schema_version(st), 2);
	ck_assert_int_eq(cairn_state_app_get(&got, st, "guestbook", "prod"), 0);
	ck_assert_str_eq(got->health, "Healthy");
	cairn_state_app_free(got);
	ck_assert_int_eq(cairn_state_rollout_list(&v, &n, st, NULL, NULL), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(cairn_state_rollout_put(&id, st, &r), 0);
	ck_assert_int_eq(cairn_state_rollout_event_add(&id, st, id, "step", NULL, 0), 0);
	ck_assert_int_eq(cairn_state_check(st), 0);
}
END_TEST

void state_rollout_tests(Suite *s)
{
	TCase *tc = tcase_create("rollout");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_put_get_upsert);
	tcase_add_test(tc, test_list);
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_request);
	tcase_add_test(tc, test_take_is_atomic);
	tcase_add_test(tc, test_due);
	tcase_add_test(tc, test_events);
	tcase_add_test(tc, test_events_trimmed);
	tcase_add_test(tc, test_migrate_v1);
	suite_add_tcase(s, tc);
}
