/* sync_run.c - running syncs against a real cairn-sim: create, update, no-op,
 * prune, waves, hooks, the empty-set guard, retry, rollback, kill -9. */
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cairn/state.h"
#include "cairn/sync.h"
#include "sync_tests.h"
#include "testsim.h"
#include "testutil.h"

static test_sim sim;

/* One cairn-sim for the TCase (unchecked fixture, in the parent). Jobs'
 * Pods whose image starts with cairn-test/fail fail; cairn-test/stuck never
 * pulls. */
static void sim_start(void)
{
	static const char *const args[] = {"--pod-ready-delay",
	                                   "100ms",
	                                   "--fail-rule",
	                                   "cairn-test/fail*=fail",
	                                   "--fail-rule",
	                                   "cairn-test/stuck*=imagepull",
	                                   NULL};

	test_sim_start(&sim, "sync-sim", args, 0);
}

static void sim_stop(void)
{
	test_sim_stop(&sim, SIGTERM);
}

static cairn_kube_client *sim_client(int max_retries)
{
	cairn_kube_client_opts o = {0};

	o.max_retries = max_retries;
	o.backoff_base_ms = 10;
	return test_sim_client(&sim, NULL, &o);
}

/* A test's world: a client, a state in a temp dir, a context. */
typedef struct world {
	cairn_kube_client *kube;
	cairn_state *st;
	char dir[64];
	cairn_sync_ctx ctx;
} world;

static void world_open(world *w, int max_retries)
{
	memset(w, 0, sizeof(*w));
	snprintf(w->dir, sizeof(w->dir), "/tmp/cairn-sync-st-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(w->dir));
	ck_assert_int_eq(cairn_state_open(&w->st, w->dir, CAIRN_STATE_CREATE), 0);
	w->kube = sim_client(max_retries);
	w->ctx.kube = w->kube;
	w->ctx.state = w->st;
	w->ctx.actor = "tester";
	w->ctx.wait_timeout_ms = 20000;
	w->ctx.poll_ms = 50;
}

static void world_close(world *w)
{
	char cmd[128];

	cairn_state_close(w->st);
	cairn_kube_client_free(w->kube);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", w->dir);
	ck_assert_int_eq(system(cmd), 0);
}

static json_t *cm(const char *name, const char *value, int wave)
{
	json_t *o = json_pack("{s:s,s:s,s:{s:s},s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap",
	                      "metadata", "name", name, "data", "v", value);
	char w[16];

	if (wave != 0) {
		snprintf(w, sizeof(w), "%d", wave);
		json_object_set_new(json_object_get(o, "metadata"), "annotations",
		                    json_pack("{s:s}", "argocd.argoproj.io/sync-wave", w));
	}
	return o;
}

/* The live ConfigMap `name` in default, or NULL when absent. */
static json_t *live_cm(world *w, const char *name)
{
	cairn_kube_mapping m;
	json_t *o = NULL;

	ck_assert_int_eq(cairn_kube_mapping_for(w->kube, "v1", "ConfigMap", &m), 0);
	if (cairn_kube_get(w->kube, &m, "default", name, &o) == CAIRN_ENOTFOUND)
		return NULL;
	ck_assert_ptr_nonnull(o);
	return o;
}

static long long rv_of(const json_t *o)
{
	return strtoll(json_string_value(
	                       json_object_get(json_object_get(o, "metadata"), "resourceVersion")),
	               NULL, 10);
}

static void req_init(cairn_sync_request *r, const char *app, json_t *manifests)
{
	memset(r, 0, sizeof(*r));
	r->app = app;
	r->env = "test";
	r->revision = "rev1";
	r->render_hash = "h1";
	r->dest_namespace = "default";
	r->manifests = manifests;
	r->prune = 1;
}

START_TEST(first_sync_creates_then_noop)
{
	world w;
	cairn_sync_request r;
	cairn_sync_outcome o;
	cairn_sync_result *cmp = NULL;
	cairn_state_op *op = NULL;
	cairn_state_history **hv = NULL;
	size_t hn = 0;
	json_t *set = json_pack("[o,o]", cm("s1-a", "1", 0), cm("s1-b", "2", 0));
	json_t *a, *b;
	long long rva, rvb;
	uint64_t before;

	world_open(&w, 0);
	req_init(&r, "s1", set);
	ck_assert_int_eq(cairn_sync_run(&o, &w.ctx, &r), 0);
	ck_assert_int_eq(o.succeeded, 1);
	ck_assert_int_eq(o.applied, 2);
	ck_assert_int_eq(o.attempts, 1);
	a = live_cm(&w, "s1-a");
	b = live_cm(&w, "s1-b");
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(json_string_value(json_object_get(
	                         json_object_get(json_object_get(a, "metadata"), "annotations"),
	                         CAIRN_TRACKING_ANNOTATION)),
	                 "s1:/ConfigMap:default/s1-a");
	rva = rv_of(a);
	rvb = rv_of(b);
	ck_assert_int_eq(cairn_state_op_get(&op, w.st, o.operation_id), 0);
	ck_assert_str_eq(op->phase, "Succeeded");
	ck_assert_str_eq(op->kind, "sync");
	ck_assert_str_eq(op->trigger_who, "tester");
	ck_assert_int_eq(json_array_size(op->resources), 2);
	ck_assert_str_eq(
	        json_string_value(json_object_get(json_array_get(op->resources, 0), "action")),
	        "create");
	ck_assert_int_eq(cairn_state_history_list(&hv, &hn, w.st, "s1", "test"), 0);
	ck_assert_int_eq(hn, 1);
	ck_assert_int_eq(hv[0]->id, o.history_id);
	ck_assert_str_eq(hv[0]->revision, "rev1");

	/* resync: GETs and one list only, nothing written, no dry run */
	before = cairn_kube_request_count(w.kube);
	ck_assert_int_eq(cairn_sync_compare_app(&cmp, &w.ctx, &r), 0);
	ck_assert_int_eq(cmp->synced, 1);
	ck_assert_int_eq(cmp->dry_runs, 0);
	ck_assert_int_eq(cmp->health.status, CAIRN_HEALTH_HEALTHY);
	ck_assert_uint_le(cairn_kube_request_count(w.kube) - before, 3);
	before = cairn_kube_request_count(w.kube);
	ck_assert_int_eq(cairn_sync_run(&o, &w.ctx, &r), 0);
	ck_assert_int_eq(o.applied, 0);
	ck_assert_uint_le(cairn_kube_request_count(w.kube) - before, 3);
	json_decref(a);
	json_decref(b);
	a = live_cm(&w, "s1-a");
	b = live_cm(&w, "s1-b");
	ck_assert_int_eq(rv_of(a), rva);
	ck_assert_int_eq(rv_of(b), rvb);
	json_decref(a);
	json_decref(b);
	cairn_sync_result_free(cmp);
	cairn_state_op_free(op);
	cairn_state_history_list_free(hv, hn);
	json_decref(set);
	world_close(&w);
}
END_TEST

START_TEST(change_updates_only_changed)
{
	world w;
	cairn_sync_request r;
	cairn_sync_outcome o;
	cairn_sync_result *cmp = NULL;
	json_t *set = json_pack("[o,o]", cm("s2-a", "1", 0), cm("s2-b", "2", 0));
	json_t *a, *b, *a2, *b2;

	world_open(&w, 0);
	req_init(&r, "s2", set);
	ck_assert_int_eq(cairn_sync_run(&o, &w.ctx, &r), 0);
	a = live_cm(&w, "s2-a");
	b = live_cm(&w, "s2-b");
	json_object_set_new(json_object_get(json_array_get(set, 1), "data"), "v",
	                    json_string("changed"));
	ck_assert_int_eq(cairn_sync_compare_app(&cmp, &w.ctx, &r), 0);
	ck_assert_int_eq(cmp->synced, 0);
	ck_assert_int_eq(cmp->v[0].synced, 1);
	ck_assert_int_eq(cmp->v[1].synced, 0);
	ck_assert_str_eq(cmp->v[1].diff->v[0].path, "/data/v");
	ck_assert_int_eq(cairn_sync_run(&o, &w.ctx, &r), 0);
	ck_assert_int_eq(o.applied, 1);
	a2 = live_cm(&w, "s2-a");
	b2 = live_cm(&w, "s2-b");
	ck_assert_int_eq(rv_of(a2), rv_of(a));
	ck_assert_int_gt(rv_of(b2), rv_of(b));
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(b2, "data"), "v")),
	                 "changed");
	json_decref(a);
	json_decref(b);
	json_decref(a2);
	json_decref(b2);
	cairn_sync_result_free(cmp);
	json_decref(set);
	world_close(&w);
}
END_TEST

/* The actions of the audit log under dir/audit, comma-separated, into out;
 * the objects of the first prune entry into objs. */
static void audit_actions(const char *dir, char *out, size_t size, char *objs, size_t osize)
{
	char path[128], line[65536];
	FILE *f;

	snprintf(path, sizeof(path), "%s/audit/audit.log", dir);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	out[0] = objs[0] = '\0';
	while (fgets(line, sizeof(line), f) != NULL) {
		json_t *e = json_loads(line, 0, NULL);
		const char *act = json_string_value(json_object_get(e, "action"));

		ck_assert_ptr_nonnull(act);
		ck_assert_str_eq(json_string_value(json_object_get(e, "actor")), "tester");
		snprintf(out + strlen(out), size - strlen(out), "%s%s", out[0] ? "," : "", act);
		if (strcmp(act, "prune") == 0 && objs[0] == '\0') {
			char *t = json_dumps(
			        json_object_get(json_object_get(e, "subject"), "objects"),
			        JSON_COMPACT);

			snprintf(objs, osize, "%s", t);
			free(t);
		}
		json_decref(e);
	}
	fclose(f);
}

START_TEST(prune_tracked_and_empty_guard)
{
	world w;
	cairn_sync_request r;
	cairn_sync_outcome o;
	json_t *set = json_pack("[o,o]", cm("s3-a", "1", 0), cm("s3-b", "2", 0));
	json_t *empty = json_array(), *x;
	cairn_audit_opts ao = CAIRN_AUDIT_OPTS_INIT;
	cairn_audit_signer *signer = NULL;
	cairn_audit *log = NULL;
	char adir[128], actions[1024], objs[1024];

	world_open(&w, 0);
	snprintf(adir, sizeof(adir), "%s/audit", w.dir);
	ck_assert_int_eq(cairn_audit_signer_generate(&signer, "test"), 0);
	ao.state_dir = adir;
	ao.writable = 1;
	ao.signer = signer;
	ck_assert_int_eq(cairn_audit_open(&log, &ao, NULL), 0);
	w.ctx.audit = log;
	req_init(&r, "s3", set);
	ck_assert_int_eq(cairn_sync_run(&o, &w.ctx, &r), 0);
	/* b leaves the set; with prune off it stays */
	json_array_remove(set, 1);
	r.prune = 0;
	ck_assert_int_eq(cairn_sync_run(&o, &w.ctx, &r), 0);
	ck_assert_int_eq(o.pruned, 0);
	x = live_cm(&w, "s3-b");
	ck_assert_ptr_nonnull(x);
	json_decref(x);
	r.prune = 1;
	ck_assert_int_eq(cairn_sync_run(&o, &w.ctx, &r), 0);
	ck_assert_int_eq(o.pruned, 1);
	x = live_cm(&w, "s3-b");
	/* background deletion of a ConfigMap: gone at once in the sim */
	ck_assert_ptr_null(x);
	x = live_cm(&w, "s3-a");
	ck_assert_ptr_nonnull(x);
	json_decref(x);
	/* an empty set would prune everything: refused without allowEmpty */
	r.manifests = empty;
	ck_assert_int_eq(cairn_sync_run(&o, &w.ctx, &r), CAIRN_EPERM);
	ck_assert_int_eq(o.attempts, 1);
	x = live_cm(&w, "s3-a");
	ck_assert_ptr_nonnull(x);
	json_decref(x);
	r.allow_empty = 1;
	ck_assert_int_eq(cairn_sync_run(&o, &w.ctx, &r), 0);
	ck_assert_ptr_null(live_cm(&w, "s3-a"));
	cairn_audit_close(log);
	cairn_audit_signer_free(signer);
	audit_actions(w.dir, actions, sizeof(actions), objs, sizeof(objs));
	ck_assert_str_eq(actions, "sync.started,sync.succeeded,sync.started,sync.succeeded,"
	                          "sync.started,prune,sync.succeeded,sync.started,sync.failed,"
	                          "sync.started,prune,sync.succeeded");
	ck_assert_str_eq(objs, "[\"/ConfigMap/default/s3-b\"]");
	json_decref(empty);
	json_decref(set);
	world_close(&w);
}
END_TEST

START_TEST(waves_in_order)
{
	world w;
	cairn_sync_request r;
	cairn_sync_outcome o;
	json_t *set = json_pack("[o,o,o]", cm("s4-two", "x", 2), cm("s4-zero", "x", 0),
	                        cm("s4-one", "x", 1));
	json_t *z, *one, *two;

	world_open(&w, 0);
	req_init(&r, "s4", set);
	ck_assert_int_eq(cairn_sync_run(&o, &w.ctx, &r), 0);
	z = live_cm(&w, "s4-zero");
	one = live_cm(&w, "s4-one");
	two = live_cm(&w, "s4-two");
	ck_assert_int_lt(rv_of(z), rv_of(one));
	ck_assert_int_lt(rv_of(one), rv_of(two));
	json_decref(z);
	json_decref(one);
	json_decref(two);
	json_decref(set);
	world_close(&w);
}
END_TEST

static json_t *hook_job(const char *name, const char *hook, const char *image)
{
	return json_pack("{s:s,s:s,s:{s:s,s:{s:s}},s:{s:i,s:{s:{s:s,s:[{s:s,s:s}]}}}}",
	                 "apiVersion", "batch/v1", "kind", "Job", "metadata", "name", name,
	                 "annotations", "argocd.argoproj.io/hook", hook, "spec", "backoffLimit", 0,
	                 "template", "spec", "restartPolicy", "Never", "containers", "name", "main",
	                 "image", image);
}

/*
 * The sim's Pods stay Pending in this build (its Job controller does not
 * run them to completion yet), so a thread plays the Job controller: it
 * waits for the hook Job and writes its final status through the API.
 */
typedef struct job_finish {
	const char *name;
	int complete;
} job_finish;

static void *finish_job(void *arg)
{
	const job_finish *fj = arg;
	cairn_kube_client *c = sim_client(0);
	char path[256], body[512];
	int n;

	snprintf(path, sizeof(path), "/apis/batch/v1/namespaces/default/jobs/%s", fj->name);
	for (int i = 0; i < 200; i++) {
		if (cairn_kube_request(c, "GET", path, NULL, NULL, 0, NULL) == 0)
			break;
		usleep(50000);
	}
	usleep(200000); /* the sync is now waiting for it */
	n = snprintf(body, sizeof(body),
	             "{\"status\":{\"%s\":1,\"conditions\":[{\"type\":\"%s\","
	             "\"status\":\"True\",\"reason\":\"%s\",\"message\":\"%s\"}]}}",
	             fj->complete ? "succeeded" : "failed", fj->complete ? "Complete" : "Failed",
	             fj->complete ? "Completed" : "BackoffLimitExceeded",
	             fj->complete ? "" : "Job has reached the specified backoff limit");
	snprintf(path + strlen(path), sizeof(path) - strlen(path), "/status");
	cairn_kube_request(c, "PATCH", path, "application/merge-patch+json", body, (size_t)n, NULL);
	cairn_kube_client_free(c);
	return NULL;
}

START_TEST(failing_presync_runs_syncfail)
{
	job_finish fj = {"s5-pre", 0};
	pthread_t t;
	world w;
	cairn_sync_request r;
	cairn_sync_outcome o;
	json_t *failhook = cm("s5-onfail", "x", 0), *x;
	json_t *set;

	json_object_set_new(json_object_get(failhook, "metadata"), "annotations",
	                    json_pack("{s:s}", "argocd.argoproj.io/hook", "SyncFail"));
	set = json_pack("[o,o,o]", hook_job("s5-pre", "PreSync", "cairn-test/fail:1"),
	                cm("s5-main", "x", 0), failhook);
	world_open(&w, 0);
	req_init(&r, "s5", set);
	ck_assert_int_eq(pthread_create(&t, NULL, finish_job, &fj), 0);
	ck_assert_int_eq(cairn_sync_run(&o, &w.ctx, &r), CAIRN_EIO);
	pthread_join(t, NULL);
	ck_assert_error_contains("'s5-pre' is Degraded");
	ck_assert_int_eq(o.succeeded, 0);
	x = live_cm(&w, "s5-main");
	ck_assert_ptr_null(x);
	x = live_cm(&w, "s5-onfail");
	ck_assert_ptr_nonnull(x);
	json_decref(x);
	ck_assert_int_eq(o.history_id, 0);
	json_decref(set);
	world_close(&w);
}
END_TEST

START_TEST(passing_presync_then_sync)
{
	world w;
	cairn_sync_request r;
	cairn_sync_outcome o;
	json_t *set = json_pack("[o,o]", hook_job("s6-pre", "PreSync", "cairn-test/ok:1"),
	                        cm("s6-main", "x", 0));
	json_t *x;
	job_finish fj = {"s6-pre", 1};
	pthread_t t;

	world_open(&w, 0);
	req_init(&r, "s6", set);
	ck_assert_int_eq(pthread_create(&t, NULL, finish_job, &fj), 0);
	ck_assert_int_eq(cairn_sync_run(&o, &w.ctx, &r), 0);
	pthread_join(t, NULL);
	ck_assert_int_eq(o.hooks, 1);
	x = live_cm(&w, "s6-main");
	ck_assert_ptr_nonnull(x);
	json_decref(x);
	json_decref(set);
	world_close(&w);
}
END_TEST

/* Turn the sim's faults off after a delay, from another client. */
static void *clear_faults(void *arg)
{
	cairn_kube_client *c = arg;

	usleep(500000);
	cairn_kube_request(c, "DELETE", "/admin/faults", NULL, NULL, 0, NULL);
	return NULL;
}

START_TEST(retry_after_api_faults)
{
	world w;
	cairn_sync_request r;
	cairn_sync_outcome o;
	cairn_state_op **ops = NULL;
	size_t n = 0;
	json_t *set = json_pack("[o]", cm("s7-a", "1", 0)), *x;
	const char *faults = "{\"error_rate\":{\"patch\":1},\"error_status\":500,"
	                     "\"resource\":\"configmaps\"}";
	cairn_kube_client *admin;
	pthread_t t;

	world_open(&w, 0);
	admin = sim_client(0);
	/* discovery first, so that the faults meet the sync's first write */
	x = live_cm(&w, "s7-a");
	ck_assert_ptr_null(x);
	ck_assert_int_eq(cairn_kube_request(admin, "PUT", "/admin/faults", "application/json",
	                                    faults, strlen(faults), NULL),
	                 0);
	req_init(&r, "s7", set);
	r.retry_limit = 3;
	r.backoff_ms = 1000;
	ck_assert_int_eq(pthread_create(&t, NULL, clear_faults, admin), 0);
	ck_assert_int_eq(cairn_sync_run(&o, &w.ctx, &r), 0);
	pthread_join(t, NULL);
	ck_assert_int_eq(o.attempts, 2);
	x = live_cm(&w, "s7-a");
	ck_assert_ptr_nonnull(x);
	json_decref(x);
	ck_assert_int_eq(cairn_state_op_list(&ops, &n, w.st, "s7", "test", 0), 0);
	ck_assert_int_eq(n, 2);
	ck_assert_str_eq(ops[0]->phase, "Succeeded");
	ck_assert_int_eq(ops[0]->attempt, 2);
	ck_assert_str_eq(ops[1]->phase, "Failed");
	ck_assert_int_eq(ops[1]->attempt, 1);
	ck_assert_ptr_nonnull(strstr(ops[1]->message, "object 0 of app 's7': dry run: PATCH"));
	cairn_state_op_list_free(ops, n);
	cairn_kube_client_free(admin);
	json_decref(set);
	world_close(&w);
}
END_TEST

START_TEST(rollback_pins)
{
	world w;
	cairn_sync_request r;
	cairn_sync_outcome o;
	cairn_state_app *st = NULL;
	cairn_state_op *op = NULL;
	json_t *v1 = json_pack("[o]", cm("s8-a", "one", 0));
	json_t *v2 = json_pack("[o]", cm("s8-a", "two", 0)), *x;
	int64_t h1;

	world_open(&w, 0);
	req_init(&r, "s8", v1);
	ck_assert_int_eq(cairn_sync_run(&o, &w.ctx, &r), 0);
	h1 = o.history_id;
	r.manifests = v2;
	r.revision = "rev2";
	ck_assert_int_eq(cairn_sync_run(&o, &w.ctx, &r), 0);
	ck_assert_int_eq(cairn_sync_rollback(&o, &w.ctx, &r, h1, "rev2"), 0);
	x = live_cm(&w, "s8-a");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(x, "data"), "v")),
	                 "one");
	json_decref(x);
	ck_assert_int_eq(cairn_state_app_get(&st, w.st, "s8", "test"), 0);
	ck_assert_int_eq(st->paused, 1);
	ck_assert_int_eq(st->pinned_history_id, h1);
	ck_assert_str_eq(st->pinned_revision, "rev2");
	ck_assert_str_eq(st->revision, "rev1");
	ck_assert_int_eq(cairn_state_op_get(&op, w.st, o.operation_id), 0);
	ck_assert_str_eq(op->kind, "rollback");
	/* an entry of another app is refused */
	ck_assert_int_eq(cairn_sync_rollback(&o, &w.ctx,
	                                     &(cairn_sync_request){.app = "other", .env = "test"},
	                                     h1, NULL),
	                 CAIRN_EINVAL);
	ck_assert_error_contains("is not a stored deployment of 'other'");
	cairn_state_op_free(op);
	cairn_state_app_free(st);
	json_decref(v1);
	json_decref(v2);
	world_close(&w);
}
END_TEST

START_TEST(kill_during_sync_is_interrupted)
{
	world w;
	cairn_state_op **ops = NULL;
	cairn_state *st2 = NULL;
	size_t n = 0;
	pid_t child;

	world_open(&w, 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		/* a Job hook that never completes keeps the sync waiting */
		cairn_state *st = NULL;
		cairn_sync_request r;
		cairn_sync_ctx ctx = w.ctx;
		json_t *set = json_pack("[o]", hook_job("s9-pre", "PreSync", "cairn-test/stuck:1"));

		if (cairn_state_open(&st, w.dir, 0) < 0)
			_exit(2);
		ctx.state = st;
		ctx.kube = sim_client(0);
		req_init(&r, "s9", set);
		cairn_sync_run(NULL, &ctx, &r);
		_exit(3);
	}
	/* wait until the hook's creation is committed */
	for (int i = 0; i < 200; i++) {
		usleep(50000);
		cairn_state_op_list_free(ops, n);
		ops = NULL;
		ck_assert_int_eq(cairn_state_op_list(&ops, &n, w.st, "s9", "test", 0), 0);
		if (n == 1 && json_array_size(ops[0]->resources) == 1)
			break;
	}
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(ops[0]->phase, "Running");
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	cairn_state_op_list_free(ops, n);
	ck_assert_int_eq(cairn_state_open(&st2, w.dir, 0), 0);
	ck_assert_int_eq(cairn_state_interrupted(st2), 1);
	ck_assert_int_eq(cairn_state_op_list(&ops, &n, st2, "s9", "test", 0), 0);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(ops[0]->phase, "Error");
	ck_assert_ptr_nonnull(strstr(ops[0]->message, "interrupted"));
	/* what was committed before the kill survived */
	ck_assert_int_eq(json_array_size(ops[0]->resources), 1);
	cairn_state_op_list_free(ops, n);
	cairn_state_close(st2);
	world_close(&w);
}
END_TEST

START_TEST(create_namespace_once)
{
	world w;
	cairn_sync_request r;
	cairn_sync_outcome o;
	cairn_kube_mapping m;
	json_t *set = json_pack("[o]", cm("s10-a", "1", 0)), *ns = NULL, *x = NULL;

	world_open(&w, 0);
	req_init(&r, "s10", set);
	r.dest_namespace = "s10-ns";
	r.create_namespace = 1;
	ck_assert_int_eq(cairn_sync_run(&o, &w.ctx, &r), 0);
	ck_assert_int_eq(o.applied, 2);
	ck_assert_int_eq(cairn_kube_mapping_for(w.kube, "v1", "Namespace", &m), 0);
	ck_assert_int_eq(cairn_kube_get(w.kube, &m, NULL, "s10-ns", &ns), 0);
	ck_assert_int_eq(cairn_kube_mapping_for(w.kube, "v1", "ConfigMap", &m), 0);
	ck_assert_int_eq(cairn_kube_get(w.kube, &m, "s10-ns", "s10-a", &x), 0);
	/* the namespace exists now: a resync creates nothing */
	ck_assert_int_eq(cairn_sync_run(&o, &w.ctx, &r), 0);
	ck_assert_int_eq(o.applied, 0);
	json_decref(ns);
	json_decref(x);
	json_decref(set);
	world_close(&w);
}
END_TEST

void sync_run_tests(Suite *s)
{
	TCase *tc = tcase_create("run");

	tcase_add_unchecked_fixture(tc, sim_start, sim_stop);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, first_sync_creates_then_noop);
	tcase_add_test(tc, change_updates_only_changed);
	tcase_add_test(tc, prune_tracked_and_empty_guard);
	tcase_add_test(tc, waves_in_order);
	tcase_add_test(tc, failing_presync_runs_syncfail);
	tcase_add_test(tc, passing_presync_then_sync);
	tcase_add_test(tc, retry_after_api_faults);
	tcase_add_test(tc, rollback_pins);
	tcase_add_test(tc, kill_during_sync_is_interrupted);
	tcase_add_test(tc, create_namespace_once);
	suite_add_tcase(s, tc);
}
