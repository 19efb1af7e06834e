/*
 * state_records.c - every record API: application status, operations,
 * history and its trimming, drift records, the dry-run cache and its
 * eviction, the key/value table; limits and error messages.
 */
#include <check.h>
#include <string.h>

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

START_TEST(test_app_status)
{
	cairn_state_app a = {.app = "guestbook",
	                     .env = "prod",
	                     .sync_status = "OutOfSync",
	                     .health = "Progressing",
	                     .revision = "abc123",
	                     .render_hash = "h1",
	                     .message = "waiting for rollout",
	                     .updated_at = 1700000000000000};
	cairn_state_app b = {
	        .app = "api", .env = "dev", .sync_status = "Synced", .health = "Healthy"};
	cairn_state_app *got = NULL, **list = NULL;
	size_t n = 99;
	cairn_usec before = cairn_time_now();

	ck_assert_int_eq(cairn_state_app_get(&got, st, "guestbook", "prod"), CAIRN_ENOTFOUND);
	ck_assert_error_contains("no status for application 'guestbook' in environment 'prod'");
	ck_assert_ptr_null(got);
	ck_assert_int_eq(cairn_state_app_list(&list, &n, st, NULL), 0);
	ck_assert_uint_eq(n, 0);

	ck_assert_int_eq(cairn_state_app_put(st, &a), 0);
	ck_assert_int_eq(cairn_state_app_put(st, &b), 0);
	ck_assert_int_eq(cairn_state_app_get(&got, st, "guestbook", "prod"), 0);
	ck_assert_str_eq(got->sync_status, "OutOfSync");
	ck_assert_str_eq(got->health, "Progressing");
	ck_assert_str_eq(got->revision, "abc123");
	ck_assert_str_eq(got->render_hash, "h1");
	ck_assert_str_eq(got->message, "waiting for rollout");
	ck_assert_int_eq(got->updated_at, 1700000000000000);
	ck_assert_int_eq(got->paused, 0);
	ck_assert_int_eq(got->pinned_history_id, 0);
	ck_assert_ptr_null(got->pinned_revision);
	cairn_state_app_free(got);

	/* Replace: rollback pin, updated_at defaulted to now. */
	a.sync_status = "Synced";
	a.paused = 1;
	a.pinned_history_id = 4;
	a.pinned_revision = "main";
	a.updated_at = 0;
	a.message = NULL;
	ck_assert_int_eq(cairn_state_app_put(st, &a), 0);
	ck_assert_int_eq(cairn_state_app_get(&got, st, "guestbook", "prod"), 0);
	ck_assert_str_eq(got->sync_status, "Synced");
	ck_assert_int_eq(got->paused, 1);
	ck_assert_int_eq(got->pinned_history_id, 4);
	ck_assert_str_eq(got->pinned_revision, "main");
	ck_assert_ptr_null(got->message);
	ck_assert_int_ge(got->updated_at, before);
	cairn_state_app_free(got);

	ck_assert_int_eq(cairn_state_app_list(&list, &n, st, NULL), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(list[0]->app, "api");
	ck_assert_str_eq(list[1]->app, "guestbook");
	cairn_state_app_list_free(list, n);
	ck_assert_int_eq(cairn_state_app_list(&list, &n, st, "dev"), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(list[0]->env, "dev");
	cairn_state_app_list_free(list, n);

	ck_assert_int_eq(cairn_state_app_delete(st, "api", "dev"), 0);
	ck_assert_int_eq(cairn_state_app_delete(st, "api", "dev"), CAIRN_ENOTFOUND);
	ck_assert_error_contains("no status for application 'api' in environment 'dev' in state "
	                         "database '");
}
END_TEST

START_TEST(test_app_status_invalid)
{
	cairn_state_app a = {.app = "x", .env = "e", .sync_status = "Synced"};
	char big[CAIRN_STATE_MESSAGE_MAX + 2];

	ck_assert_int_eq(cairn_state_app_put(st, &a), CAIRN_EINVAL);
	ck_assert_error_contains("health is missing");
	a.health = "Healthy";
	memset(big, 'm', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	a.message = big;
	ck_assert_int_eq(cairn_state_app_put(st, &a), CAIRN_EINVAL);
	ck_assert_error_contains("message is longer than 8192 bytes");
	big[CAIRN_STATE_MESSAGE_MAX] = '\0';
	ck_assert_int_eq(cairn_state_app_put(st, &a), 0);
}
END_TEST

START_TEST(test_operations)
{
	json_t *res =
	        json_pack("[{s:s, s:s}]", "object", "apps/Deployment/web", "action", "update");
	json_t *res2;
	cairn_state_op op = {.app = "guestbook",
	                     .env = "dev",
	                     .kind = "sync",
	                     .trigger_who = "alice",
	                     .trigger_what = "cli",
	                     .revision = "r1",
	                     .render_hash = "h1",
	                     .resources = res};
	cairn_state_op *got = NULL, **list = NULL;
	int64_t id1 = 0, id2 = 0;
	size_t n = 0;

	ck_assert_int_eq(cairn_state_op_start(&id1, st, &op), 0);
	ck_assert_int_gt(id1, 0);
	ck_assert_int_eq(cairn_state_op_get(&got, st, id1), 0);
	ck_assert_str_eq(got->phase, "Running");
	ck_assert_str_eq(got->kind, "sync");
	ck_assert_str_eq(got->trigger_who, "alice");
	ck_assert_str_eq(got->trigger_what, "cli");
	ck_assert_int_eq(got->attempt, 1);
	ck_assert_int_eq(got->finished_at, 0);
	ck_assert(json_equal(got->resources, res));
	cairn_state_op_free(got);

	res2 = json_pack("[{s:s, s:s, s:s}]", "object", "apps/Deployment/web", "action", "update",
	                 "result", "ok");
	ck_assert_int_eq(cairn_state_op_update(st, id1, "wave 1 of 2", NULL), 0);
	ck_assert_int_eq(cairn_state_op_finish(st, id1, "Succeeded", NULL, res2), 0);
	ck_assert_int_eq(cairn_state_op_get(&got, st, id1), 0);
	ck_assert_str_eq(got->phase, "Succeeded");
	ck_assert_str_eq(got->message, "wave 1 of 2");
	ck_assert(json_equal(got->resources, res2));
	ck_assert_int_ge(got->finished_at, got->started_at);
	cairn_state_op_free(got);

	/* A finished operation cannot be finished or updated again. */
	ck_assert_int_eq(cairn_state_op_finish(st, id1, "Failed", "x", NULL), CAIRN_EINVAL);
	ck_assert_error_contains("is not running (phase 'Succeeded') in state database '");
	ck_assert_int_eq(cairn_state_op_update(st, id1, "x", NULL), CAIRN_EINVAL);
	ck_assert_int_eq(cairn_state_op_finish(st, 4242, "Failed", "x", NULL), CAIRN_ENOTFOUND);
	ck_assert_error_contains("no operation 4242 in state database '");
	ck_assert_int_eq(cairn_state_op_finish(st, id1, "Running", NULL, NULL), CAIRN_EINVAL);
	ck_assert_error_contains(
	        "operation phase 'Running' is not one of Succeeded, Failed, Error");
	ck_assert_int_eq(cairn_state_op_get(&got, st, 4242), CAIRN_ENOTFOUND);

	/* A retry, and an operation of another app. */
	op.attempt = 2;
	op.resources = NULL;
	ck_assert_int_eq(cairn_state_op_start(&id2, st, &op), 0);
	ck_assert_int_eq(cairn_state_op_finish(st, id2, "Failed", "apply refused", NULL), 0);
	op.app = "other";
	op.kind = "prune";
	ck_assert_int_eq(cairn_state_op_start(&id1, st, &op), 0);

	ck_assert_int_eq(cairn_state_op_list(&list, &n, st, "guestbook", "dev", 0), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(list[0]->id, id2); /* newest first */
	ck_assert_int_eq(list[0]->attempt, 2);
	ck_assert_str_eq(list[0]->message, "apply refused");
	ck_assert_int_eq(json_array_size(list[0]->resources), 0);
	cairn_state_op_list_free(list, n);
	ck_assert_int_eq(cairn_state_op_list(&list, &n, st, NULL, NULL, 2), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(list[0]->app, "other");
	cairn_state_op_list_free(list, n);
	json_decref(res);
	json_decref(res2);
}
END_TEST

START_TEST(test_operations_invalid)
{
	cairn_state_op op = {.app = "a", .env = "e", .kind = "deploy"};
	int64_t id = 77;

	ck_assert_int_eq(cairn_state_op_start(&id, st, &op), CAIRN_EINVAL);
	ck_assert_error_contains("operation kind 'deploy' is not one of sync, rollback, prune");
	ck_assert_int_eq(id, 77);
	op.kind = NULL;
	ck_assert_int_eq(cairn_state_op_start(&id, st, &op), CAIRN_EINVAL);
	ck_assert_error_contains("operation kind is missing");
	op.kind = "rollback";
	op.env = NULL;
	ck_assert_int_eq(cairn_state_op_start(&id, st, &op), CAIRN_EINVAL);
	ck_assert_error_contains("env is missing");
	op.env = "e";
	op.attempt = -1;
	ck_assert_int_eq(cairn_state_op_start(&id, st, &op), CAIRN_EINVAL);
	ck_assert_error_contains("attempt -1 is negative");
	/* A JSON value JCS cannot encode (a string that is not UTF-8). */
	op.attempt = 1;
	op.resources = json_stringn_nocheck("\xff", 1);
	ck_assert_int_eq(cairn_state_op_start(&id, st, &op), CAIRN_EINVAL);
	ck_assert_error_contains("cannot store JSON");
	json_decref(op.resources);
	ck_assert_int_eq(id, 77);
}
END_TEST

static int64_t add_history(const char *rev, int limit, int64_t op_id)
{
	json_t *m = json_pack("[{s:s}]", "kind", rev);
	cairn_state_history h = {.app = "web",
	                         .env = "prod",
	                         .revision = rev,
	                         .render_hash = "rh",
	                         .manifests = m,
	                         .operation_id = op_id};
	int64_t id = 0;

	ck_assert_int_eq(cairn_state_history_add(&id, st, &h, limit), 0);
	json_decref(m);
	return id;
}

START_TEST(test_history_and_trim)
{
	cairn_state_op op = {.app = "web", .env = "prod", .kind = "sync"};
	cairn_state_history **list = NULL, *got = NULL;
	cairn_state_app pin = {.app = "web",
	                       .env = "prod",
	                       .sync_status = "Synced",
	                       .health = "Healthy",
	                       .paused = 1};
	int64_t op_id, ids[15];
	char rev[16];
	size_t n = 0;

	ck_assert_int_eq(cairn_state_op_start(&op_id, st, &op), 0);
	for (int i = 0; i < 12; i++) {
		snprintf(rev, sizeof(rev), "r%d", i);
		ids[i] = add_history(rev, 0, op_id);
	}
	/* Default limit 10: r0 and r1 are gone. */
	ck_assert_int_eq(cairn_state_history_list(&list, &n, st, "web", "prod"), 0);
	ck_assert_uint_eq(n, CAIRN_STATE_HISTORY_DEFAULT);
	ck_assert_str_eq(list[0]->revision, "r11");
	ck_assert_str_eq(list[9]->revision, "r2");
	ck_assert_ptr_null(list[0]->manifests);
	ck_assert_int_eq(list[0]->operation_id, op_id);
	cairn_state_history_list_free(list, n);
	ck_assert_int_eq(cairn_state_history_get(&got, st, ids[0]), CAIRN_ENOTFOUND);
	ck_assert_error_contains("no history entry");

	ck_assert_int_eq(cairn_state_history_get(&got, st, ids[5]), 0);
	ck_assert_str_eq(got->revision, "r5");
	ck_assert_str_eq(
	        json_string_value(json_object_get(json_array_get(got->manifests, 0), "kind")),
	        "r5");
	ck_assert_int_gt(got->deployed_at, 0);
	cairn_state_history_free(got);

	/* Pinned to r2 by a rollback: a limit of 3 keeps the newest 3 plus r2. */
	pin.pinned_history_id = ids[2];
	ck_assert_int_eq(cairn_state_app_put(st, &pin), 0);
	ids[12] = add_history("r12", 3, 0);
	ck_assert_int_eq(cairn_state_history_list(&list, &n, st, "web", "prod"), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(list[0]->revision, "r12");
	ck_assert_str_eq(list[2]->revision, "r10");
	ck_assert_str_eq(list[3]->revision, "r2");
	ck_assert_int_eq(list[0]->operation_id, 0);
	cairn_state_history_list_free(list, n);
}
END_TEST

START_TEST(test_history_invalid)
{
	cairn_state_history h = {.app = "web", .env = "prod", .revision = "r"};
	int64_t id = 0;

	ck_assert_int_eq(cairn_state_history_add(&id, st, &h, 0), CAIRN_EINVAL);
	ck_assert_error_contains("history entry has neither a manifest set nor its location");
	h.manifests_ref = "git:abc:apps/web";
	h.revision = NULL;
	ck_assert_int_eq(cairn_state_history_add(&id, st, &h, 0), CAIRN_EINVAL);
	ck_assert_error_contains("revision is missing");
	h.revision = "r";
	ck_assert_int_eq(cairn_state_history_add(&id, st, &h, 0), 0);
	ck_assert_int_gt(id, 0);
}
END_TEST

START_TEST(test_drift)
{
	json_t *paths =
	        json_pack("[{s:s, s:i, s:i}]", "path", "/spec/replicas", "old", 3, "new", 5);
	cairn_state_drift d = {.app = "web",
	                       .env = "prod",
	                       .group = "apps",
	                       .kind = "Deployment",
	                       .namespace_ = "shop",
	                       .name = "web",
	                       .paths = paths,
	                       .field_manager = "kubectl-scale",
	                       .mode = "correct",
	                       .changed_at = 1000000,
	                       .seen_at = 1150000};
	cairn_state_drift *got = NULL, **list = NULL;
	int64_t id = 0, id2 = 0;
	size_t n = 0;

	ck_assert_int_eq(cairn_state_drift_add(&id, st, &d), 0);
	ck_assert_int_eq(cairn_state_drift_get(&got, st, id), 0);
	ck_assert_str_eq(got->kind, "Deployment");
	ck_assert_str_eq(got->namespace_, "shop");
	ck_assert_str_eq(got->field_manager, "kubectl-scale");
	ck_assert(json_equal(got->paths, paths));
	ck_assert_int_eq(got->time_to_detect_us, 150000);
	ck_assert_int_eq(got->time_to_correct_us, -1);
	cairn_state_drift_free(got);

	ck_assert_int_eq(cairn_state_drift_corrected(st, id, 1400000), 0);
	ck_assert_int_eq(cairn_state_drift_get(&got, st, id), 0);
	ck_assert_int_eq(got->time_to_correct_us, 250000);
	cairn_state_drift_free(got);
	ck_assert_int_eq(cairn_state_drift_corrected(st, id, 0), CAIRN_EINVAL);
	ck_assert_error_contains("is already corrected in state database '");
	ck_assert_int_eq(cairn_state_drift_corrected(st, 999, 0), CAIRN_ENOTFOUND);
	ck_assert_error_contains("no drift 999");

	/* A cluster-scoped object, detect mode, unknown change time and manager. */
	d.group = "";
	d.kind = "Namespace";
	d.namespace_ = "";
	d.name = "shop";
	d.field_manager = NULL;
	d.mode = "detect";
	d.changed_at = 0;
	d.seen_at = 0;
	d.env = "dev";
	ck_assert_int_eq(cairn_state_drift_add(&id2, st, &d), 0);
	ck_assert_int_eq(cairn_state_drift_list(&list, &n, st, "web", NULL, 0), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(list[0]->id, id2);
	ck_assert_ptr_null(list[0]->field_manager);
	ck_assert_int_eq(list[0]->time_to_detect_us, -1);
	ck_assert_int_gt(list[0]->seen_at, 0);
	cairn_state_drift_list_free(list, n);
	ck_assert_int_eq(cairn_state_drift_list(&list, &n, st, NULL, "prod", 0), 0);
	ck_assert_uint_eq(n, 1);
	cairn_state_drift_list_free(list, n);

	d.mode = "fix";
	ck_assert_int_eq(cairn_state_drift_add(&id2, st, &d), CAIRN_EINVAL);
	ck_assert_error_contains("drift mode 'fix' is not one of detect, correct");
	d.mode = "detect";
	d.paths = NULL;
	ck_assert_int_eq(cairn_state_drift_add(&id2, st, &d), CAIRN_EINVAL);
	ck_assert_error_contains("drift paths must be a JSON array");
	json_decref(paths);
}
END_TEST

static json_t *predicted(int i, size_t pad)
{
	char *s = malloc(pad + 1);
	json_t *v;

	memset(s, 'p', pad);
	s[pad] = '\0';
	v = json_pack("{s:i, s:s}", "i", i, "pad", s);
	free(s);
	return v;
}

START_TEST(test_dryrun_cache)
{
	json_t *p = predicted(1, 10), *got = NULL;
	int64_t entries = -1, bytes = -1;
	char h[16];

	ck_assert_int_eq(cairn_state_dryrun_get(&got, st, "h1", "100"), CAIRN_ENOTFOUND);
	ck_assert_error_contains("no cached dry run for 'h1' at resourceVersion '100'");
	ck_assert_int_eq(cairn_state_dryrun_put(st, "h1", "100", p), 0);
	ck_assert_int_eq(cairn_state_dryrun_get(&got, st, "h1", "100"), 0);
	ck_assert(json_equal(got, p));
	json_decref(got);
	/* Another resourceVersion is another key. */
	ck_assert_int_eq(cairn_state_dryrun_get(&got, st, "h1", "101"), CAIRN_ENOTFOUND);
	ck_assert_int_eq(cairn_state_dryrun_stats(&entries, &bytes, st), 0);
	ck_assert_int_eq(entries, 1);
	ck_assert_int_eq(bytes, (int64_t)strlen("{\"i\":1,\"pad\":\"pppppppppp\"}"));
	json_decref(p);

	/* Entry bound 3: touching h0 keeps it, h1 (least recently used) goes. */
	ck_assert_int_eq(cairn_state_dryrun_limits(st, 3, 1 << 20), 0);
	for (int i = 0; i < 3; i++) {
		snprintf(h, sizeof(h), "h%d", i);
		p = predicted(i, 10);
		ck_assert_int_eq(cairn_state_dryrun_put(st, h, "1", p), 0);
		json_decref(p);
	}
	ck_assert_int_eq(cairn_state_dryrun_get(&got, st, "h0", "1"), 0);
	json_decref(got);
	p = predicted(3, 10);
	ck_assert_int_eq(cairn_state_dryrun_put(st, "h3", "1", p), 0);
	json_decref(p);
	ck_assert_int_eq(cairn_state_dryrun_stats(&entries, &bytes, st), 0);
	ck_assert_int_eq(entries, 3);
	ck_assert_int_eq(cairn_state_dryrun_get(&got, st, "h0", "1"), 0);
	json_decref(got);
	ck_assert_int_eq(cairn_state_dryrun_get(&got, st, "h1", "1"), CAIRN_ENOTFOUND);
	ck_assert_int_eq(cairn_state_dryrun_get(&got, st, "h2", "1"), 0);
	json_decref(got);

	/* Byte bound: two 400-byte entries do not fit in 1000 bytes with a third. */
	ck_assert_int_eq(cairn_state_dryrun_limits(st, 100, 1000), 0);
	for (int i = 0; i < 3; i++) {
		snprintf(h, sizeof(h), "b%d", i);
		p = predicted(i, 400);
		ck_assert_int_eq(cairn_state_dryrun_put(st, h, "1", p), 0);
		json_decref(p);
		ck_assert_int_eq(cairn_state_dryrun_stats(&entries, &bytes, st), 0);
		ck_assert_int_le(bytes, 1000);
	}
	ck_assert_int_eq(cairn_state_dryrun_get(&got, st, "b2", "1"), 0);
	json_decref(got);
	ck_assert_int_eq(cairn_state_dryrun_get(&got, st, "b0", "1"), CAIRN_ENOTFOUND);

	/* One entry larger than the whole bound is refused, not cached. */
	p = predicted(9, 2000);
	ck_assert_int_eq(cairn_state_dryrun_put(st, "big", "1", p), CAIRN_ELIMIT);
	ck_assert_error_contains("larger than the dry-run cache bound of 1000 bytes");
	json_decref(p);
	ck_assert_int_eq(cairn_state_dryrun_limits(st, 0, 10), CAIRN_EINVAL);
	ck_assert_error_contains("dry-run cache bounds must be at least 1");
}
END_TEST

/* A hit costs no write (no commit, no fsync) until a put or the 256th hit. */
START_TEST(test_dryrun_hits_do_not_write)
{
	json_t *p = predicted(1, 10), *got = NULL;
	int before;

	ck_assert_int_eq(cairn_state_dryrun_put(st, "h", "1", p), 0);
	json_decref(p);
	before = sqlite3_total_changes(st->db);
	for (int i = 0; i < STATE_TOUCH_MAX; i++) {
		ck_assert_int_eq(cairn_state_dryrun_get(&got, st, "h", "1"), 0);
		json_decref(got);
	}
	ck_assert_int_eq(sqlite3_total_changes(st->db), before);
	ck_assert_int_eq(cairn_state_dryrun_get(&got, st, "h", "1"), 0);
	json_decref(got);
	ck_assert_int_eq(sqlite3_total_changes(st->db), before + STATE_TOUCH_MAX);
}
END_TEST

START_TEST(test_dryrun_entry_max)
{
	json_t *p = predicted(1, CAIRN_STATE_DRYRUN_ENTRY_MAX);

	ck_assert_int_eq(cairn_state_dryrun_put(st, "h", "1", p), CAIRN_ELIMIT);
	ck_assert_error_contains("larger than the 4194304 bytes the dry-run cache keeps");
	json_decref(p);
	ck_assert_int_eq(cairn_state_dryrun_put(st, "h", "1", NULL), CAIRN_EINVAL);
	ck_assert_error_contains("predicted object is missing");
}
END_TEST

START_TEST(test_kv)
{
	char *v = NULL;
	char *big = malloc(CAIRN_STATE_KV_VALUE_MAX + 2);
	char key[CAIRN_STATE_KV_KEY_MAX + 2];

	ck_assert_int_eq(cairn_state_kv_get(&v, st, "leader"), CAIRN_ENOTFOUND);
	ck_assert_error_contains("no key 'leader' in state database '");
	ck_assert_int_eq(cairn_state_kv_set(st, "leader", "pod-a"), 0);
	ck_assert_int_eq(cairn_state_kv_set(st, "leader", "pod-b"), 0);
	ck_assert_int_eq(cairn_state_kv_get(&v, st, "leader"), 0);
	ck_assert_str_eq(v, "pod-b");
	free(v);
	ck_assert_int_eq(cairn_state_kv_delete(st, "leader"), 0);
	ck_assert_int_eq(cairn_state_kv_delete(st, "leader"), CAIRN_ENOTFOUND);

	memset(big, 'v', CAIRN_STATE_KV_VALUE_MAX + 1);
	big[CAIRN_STATE_KV_VALUE_MAX + 1] = '\0';
	ck_assert_int_eq(cairn_state_kv_set(st, "k", big), CAIRN_ELIMIT);
	ck_assert_error_contains("value of key 'k' is longer than 65536 bytes");
	big[CAIRN_STATE_KV_VALUE_MAX] = '\0';
	ck_assert_int_eq(cairn_state_kv_set(st, "k", big), 0);
	free(big);
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	ck_assert_int_eq(cairn_state_kv_set(st, key, "v"), CAIRN_EINVAL);
	ck_assert_error_contains("key is longer than 256 bytes");
	ck_assert_int_eq(cairn_state_kv_set(st, "k", NULL), CAIRN_EINVAL);
}
END_TEST

void state_records_tests(Suite *s)
{
	TCase *tc = tcase_create("records");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_app_status);
	tcase_add_test(tc, test_app_status_invalid);
	tcase_add_test(tc, test_operations);
	tcase_add_test(tc, test_operations_invalid);
	tcase_add_test(tc, test_history_and_trim);
	tcase_add_test(tc, test_history_invalid);
	tcase_add_test(tc, test_drift);
	tcase_add_test(tc, test_dryrun_cache);
	tcase_add_test(tc, test_dryrun_hits_do_not_write);
	tcase_add_test(tc, test_dryrun_entry_max);
	tcase_add_test(tc, test_kv);
	suite_add_tcase(s, tc);
}
