/* sync_rollout.c - objects the rollout engine interprets (Argo Rollouts'
 * kinds) in a sync against a real cairn-sim: with interpret_rollouts they
 * are reported, not applied, diffed nor pruned; without it (`rollouts:
 * external`) they are applied like any object. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn/state.h"
#include "cairn/sync.h"
#include "sync_tests.h"
#include "testsim.h"
#include "testutil.h"

static test_sim sim;

static void sim_start(void)
{
	test_sim_start(&sim, "sync-rollout-sim", NULL, 0);
}

static void sim_stop(void)
{
	test_sim_stop(&sim, SIGTERM);
}

typedef struct world {
	cairn_kube_client *kube;
	cairn_state *st;
	char dir[64];
	cairn_sync_ctx ctx;
} world;

static void world_open(world *w)
{
	memset(w, 0, sizeof(*w));
	const char *tmp = getenv("TMPDIR");

	snprintf(w->dir, sizeof(w->dir), "%s/cairn-syncro-st-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(w->dir));
	ck_assert_int_eq(cairn_state_open(&w->st, w->dir, CAIRN_STATE_CREATE), 0);
	w->kube = test_sim_client(&sim, NULL, NULL);
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

/* A CRD of Argo Rollouts' group, so the cluster knows the kind (an
 * `external` environment has them; with `internal` it must not matter). */
static void install_crd(world *w, const char *plural, const char *kind)
{
	char name[128];
	json_t *o;

	snprintf(name, sizeof(name), "%s.argoproj.io", plural);
	o = json_pack("{s:s,s:s,s:{s:s},s:{s:s,s:s,s:{s:s,s:s},s:[{s:s,s:b,s:b,s:{s:{s:s,s:b}}}]}}",
	              "apiVersion", "apiextensions.k8s.io/v1", "kind", "CustomResourceDefinition",
	              "metadata", "name", name, "spec", "group", "argoproj.io", "scope",
	              "Namespaced", "names", "plural", plural, "kind", kind, "versions", "name",
	              "v1alpha1", "served", 1, "storage", 1, "schema", "openAPIV3Schema", "type",
	              "object", "x-kubernetes-preserve-unknown-fields", 1);
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(cairn_kube_apply(w->kube, o, 0, NULL), 0);
	json_decref(o);
}

static json_t *cm(const char *name)
{
	return json_pack("{s:s,s:s,s:{s:s},s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap",
	                 "metadata", "name", name, "data", "v", "1");
}

static json_t *rollout(const char *name)
{
	return json_pack("{s:s,s:s,s:{s:s},s:{s:i,s:{s:{s:s}},s:{s:{s:s},s:{s:[{s:s,s:s}]}},"
	                 "s:{s:{s:[{s:i}]}}}}",
	                 "apiVersion", "argoproj.io/v1alpha1", "kind", "Rollout", "metadata",
	                 "name", name, "spec", "replicas", 2, "selector", "matchLabels", "app",
	                 name, "template", "metadata", "labels", "app", name, "spec", "containers",
	                 "name", "c", "image", "img:1", "strategy", "canary", "steps", "setWeight",
	                 50);
}

/* An AnalysisTemplate; with a status (no Argo controller writes one here, and
 * a custom resource without status is Progressing, so a sync would wait). */
static json_t *analysis_template(const char *name)
{
	return json_pack("{s:s,s:s,s:{s:s},s:{s:[{s:s,s:{s:{s:s}}}]},s:{s:s}}", "apiVersion",
	                 "argoproj.io/v1alpha1", "kind", "AnalysisTemplate", "metadata", "name",
	                 name, "spec", "metrics", "name", "m", "provider", "web", "url",
	                 "http://127.0.0.1:1/", "status", "note", "static");
}

static void req_init(cairn_sync_request *r, const char *app, json_t *manifests, int interpret)
{
	memset(r, 0, sizeof(*r));
	r->app = app;
	r->env = "test";
	r->revision = "rev1";
	r->render_hash = "h1";
	r->dest_namespace = "default";
	r->manifests = manifests;
	r->prune = 1;
	r->interpret_rollouts = interpret;
}

/* 1 when the object of `kind` named `name` exists in namespace default. */
static int live(world *w, const char *kind, const char *name)
{
	cairn_kube_mapping m;
	json_t *o = NULL;
	int rc;

	ck_assert_int_eq(cairn_kube_mapping_for(w->kube, "argoproj.io/v1alpha1", kind, &m), 0);
	rc = cairn_kube_get(w->kube, &m, "default", name, &o);
	json_decref(o);
	if (rc == CAIRN_ENOTFOUND)
		return 0;
	ck_assert_int_eq(rc, 0);
	return 1;
}

static const cairn_sync_res *find_res(const cairn_sync_result *r, const char *kind,
                                      const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->v[i].id.kind, kind) == 0 && strcmp(r->v[i].id.name, name) == 0)
			return &r->v[i];
	return NULL;
}

/* Internal: the Rollout and its AnalysisTemplate are handed over, even
 * on a cluster without Argo Rollouts' kinds (no REST mapping is asked for);
 * the rest of the set is applied and the app is Synced. */
START_TEST(internal_hands_over_without_crd)
{
	world w;
	cairn_sync_request r;
	cairn_sync_outcome o;
	cairn_sync_result *cmp = NULL;
	const cairn_sync_res *ro, *at, *c;
	json_t *set = json_pack("[o,o,o]", cm("ri-cm"), rollout("ri-web"),
	                        analysis_template("ri-errors"));

	world_open(&w);
	req_init(&r, "ri", set, 1);
	ck_assert_int_eq(cairn_sync_compare_app(&cmp, &w.ctx, &r), 0);
	ro = find_res(cmp, "Rollout", "ri-web");
	at = find_res(cmp, "AnalysisTemplate", "ri-errors");
	c = find_res(cmp, "ConfigMap", "ri-cm");
	ck_assert_ptr_nonnull(ro);
	ck_assert_ptr_nonnull(at);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(ro->rollout, 1);
	ck_assert_int_eq(at->rollout, 1);
	ck_assert_int_eq(c->rollout, 0);
	ck_assert_int_eq(ro->synced, 1);
	ck_assert_ptr_null(ro->diff);
	ck_assert_ptr_null(ro->live);
	ck_assert_str_eq(ro->id.group, "argoproj.io");
	/* the namespace the object would have been applied in is filled in */
	ck_assert_str_eq(ro->id.ns, "default");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(ro->object, "metadata"),
	                                                   "namespace")),
	                 "default");
	ck_assert_int_eq(c->synced, 0); /* not created yet */
	ck_assert_int_eq(cmp->synced, 0);
	cairn_sync_result_free(cmp);
	cmp = NULL;

	ck_assert_int_eq(cairn_sync_run(&o, &w.ctx, &r), 0);
	ck_assert_int_eq(o.applied, 1);
	ck_assert_int_eq(cairn_sync_compare_app(&cmp, &w.ctx, &r), 0);
	ck_assert_int_eq(cmp->synced, 1);
	ck_assert_int_eq(cmp->health.status, CAIRN_HEALTH_HEALTHY);
	cairn_sync_result_free(cmp);
	json_decref(set);
	world_close(&w);
}
END_TEST

/* Without interpret_rollouts the same set on a cluster without the kind
 * fails on the Rollout's mapping: the flag is what hands it over. */
START_TEST(external_without_crd_fails)
{
	world w;
	cairn_sync_request r;
	cairn_sync_result *cmp = NULL;
	json_t *set = json_pack("[o,o]", cm("rx-cm"), rollout("rx-web"));

	world_open(&w);
	req_init(&r, "rx", set, 0);
	ck_assert_int_lt(cairn_sync_compare_app(&cmp, &w.ctx, &r), 0);
	ck_assert_error_contains("Rollout");
	ck_assert_ptr_null(cmp);
	json_decref(set);
	world_close(&w);
}
END_TEST

/* External: applied, diffed and later pruned like any object; switching the
 * environment to internal leaves the applied object alone (not pruned, not
 * OutOfSync), and an internal sync never creates a Rollout even where the
 * cluster knows the kind. (An AnalysisTemplate goes out externally: a live
 * Rollout would wait for a controller this cluster does not run.) */
START_TEST(external_applies_internal_leaves_alone)
{
	world w;
	cairn_sync_request r;
	cairn_sync_outcome o;
	cairn_sync_result *cmp = NULL;
	const cairn_sync_res *at;
	json_t *set = json_pack("[o,o]", cm("re-cm"), analysis_template("re-errors"));
	json_t *only_cm = json_pack("[o]", cm("re-cm"));
	json_t *with_rollout = json_pack("[o,o]", cm("re-cm"), rollout("re-web"));

	world_open(&w);
	install_crd(&w, "analysistemplates", "AnalysisTemplate");
	install_crd(&w, "rollouts", "Rollout");
	req_init(&r, "re", set, 0);
	ck_assert_msg(cairn_sync_run(&o, &w.ctx, &r) == 0, "%s", o.message);
	ck_assert_int_eq(o.applied, 2);
	ck_assert_int_eq(live(&w, "AnalysisTemplate", "re-errors"), 1);
	ck_assert_int_eq(cairn_sync_compare_app(&cmp, &w.ctx, &r), 0);
	at = find_res(cmp, "AnalysisTemplate", "re-errors");
	ck_assert_ptr_nonnull(at);
	ck_assert_int_eq(at->rollout, 0);
	ck_assert_ptr_nonnull(at->diff);
	ck_assert_ptr_nonnull(at->live);
	ck_assert_int_eq(cmp->synced, 1);
	cairn_sync_result_free(cmp);
	cmp = NULL;

	/* internal now: the template is gone from git, yet not pruned */
	req_init(&r, "re", only_cm, 1);
	ck_assert_int_eq(cairn_sync_compare_app(&cmp, &w.ctx, &r), 0);
	ck_assert_ptr_null(find_res(cmp, "AnalysisTemplate", "re-errors"));
	ck_assert_int_eq(cmp->synced, 1);
	cairn_sync_result_free(cmp);
	cmp = NULL;
	ck_assert_msg(cairn_sync_run(&o, &w.ctx, &r) == 0, "%s", o.message);
	ck_assert_int_eq(o.pruned, 0);
	ck_assert_int_eq(live(&w, "AnalysisTemplate", "re-errors"), 1);

	/* a Rollout is handed over, not created, though the kind exists */
	req_init(&r, "re", with_rollout, 1);
	ck_assert_msg(cairn_sync_run(&o, &w.ctx, &r) == 0, "%s", o.message);
	ck_assert_int_eq(o.applied, 0);
	ck_assert_int_eq(live(&w, "Rollout", "re-web"), 0);

	/* external again with the template gone from git: pruned like any object */
	req_init(&r, "re", only_cm, 0);
	ck_assert_msg(cairn_sync_run(&o, &w.ctx, &r) == 0, "%s", o.message);
	ck_assert_int_eq(o.pruned, 1);
	ck_assert_int_eq(live(&w, "AnalysisTemplate", "re-errors"), 0);
	json_decref(set);
	json_decref(only_cm);
	json_decref(with_rollout);
	world_close(&w);
}
END_TEST

static json_t *service(const char *name, const char *app)
{
	return json_pack("{s:s,s:s,s:{s:s},s:{s:{s:s},s:[{s:i}]}}", "apiVersion", "v1", "kind",
	                 "Service", "metadata", "name", name, "spec", "selector", "app", app,
	                 "ports", "port", 80);
}

/* As the rollout engine points a Service: its whole selector plus the hash,
 * applied as field manager cairn-rollout. */
static void rollout_points(world *w, const char *name, const char *app, const char *hash)
{
	char path[256], *body;
	json_t *o = json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:{s:s,s:s}}}", "apiVersion", "v1", "kind",
	                      "Service", "metadata", "name", name, "namespace", "default", "spec",
	                      "selector", "app", app, "rollouts-pod-template-hash", hash);

	snprintf(path, sizeof(path),
	         "/api/v1/namespaces/default/services/%s?fieldManager=cairn-rollout&force=true",
	         name);
	body = json_dumps(o, JSON_COMPACT);
	ck_assert_int_eq(cairn_kube_request(w->kube, "PATCH", path, "application/apply-patch+yaml",
	                                    body, strlen(body), NULL),
	                 0);
	free(body);
	json_decref(o);
}

static const char *selector_key(const json_t *obj, const char *key)
{
	return json_string_value(
	        json_object_get(json_object_get(json_object_get(obj, "spec"), "selector"), key));
}

/*
 * A Service whose live selector carries the rollout engine's
 * rollouts-pod-template-hash: sync compares, predicts and applies git's
 * selector with that key (spec.selector is an atomic map on an API server:
 * git's selector alone would replace it and drop the key), so the app is
 * Synced and a sync keeps the key. A Service without the key live is
 * applied as git says; drift never reports the key.
 */
START_TEST(service_keeps_rollout_hash)
{
	world w;
	cairn_sync_request r;
	cairn_sync_outcome o;
	cairn_sync_result *cmp = NULL;
	const cairn_sync_res *sv;
	json_t *set = json_pack("[o,o]", service("rh-svc", "rh"), rollout("rh-web"));
	json_t *paths = NULL, *older = NULL;

	world_open(&w);
	req_init(&r, "rh", set, 1);
	ck_assert_msg(cairn_sync_run(&o, &w.ctx, &r) == 0, "%s", o.message);
	ck_assert_int_eq(cairn_sync_compare_app(&cmp, &w.ctx, &r), 0);
	sv = find_res(cmp, "Service", "rh-svc");
	ck_assert_ptr_nonnull(sv);
	ck_assert_ptr_null(selector_key(sv->object, "rollouts-pod-template-hash"));
	cairn_sync_result_free(cmp);
	cmp = NULL;

	rollout_points(&w, "rh-svc", "rh", "h1aaaaaaaa");
	ck_assert_int_eq(cairn_sync_compare_app(&cmp, &w.ctx, &r), 0);
	sv = find_res(cmp, "Service", "rh-svc");
	ck_assert_str_eq(selector_key(sv->object, "rollouts-pod-template-hash"), "h1aaaaaaaa");
	ck_assert_str_eq(selector_key(sv->object, "app"), "rh");
	ck_assert_int_eq(sv->synced, 1);
	ck_assert_int_eq(cmp->synced, 1);
	/* the engine moves on: the Service compared with what the watcher kept
	 * (the older hash) drifts in no path */
	older = json_deep_copy(sv->object);
	cairn_sync_result_free(cmp);
	cmp = NULL;
	rollout_points(&w, "rh-svc", "rh", "h2bbbbbbbb");
	ck_assert_int_eq(cairn_sync_compare_app(&cmp, &w.ctx, &r), 0);
	sv = find_res(cmp, "Service", "rh-svc");
	ck_assert_int_eq(cairn_drift_compare(&paths, NULL, older, older, sv->live, NULL), 0);
	ck_assert_int_eq(json_array_size(paths), 0);
	cairn_sync_result_free(cmp);
	cmp = NULL;

	r.apply_all = 1; /* apply every object, the Service included */
	ck_assert_msg(cairn_sync_run(&o, &w.ctx, &r) == 0, "%s", o.message);
	ck_assert_int_eq(cairn_sync_compare_app(&cmp, &w.ctx, &r), 0);
	sv = find_res(cmp, "Service", "rh-svc");
	ck_assert_str_eq(selector_key(sv->live, "rollouts-pod-template-hash"), "h2bbbbbbbb");
	ck_assert_str_eq(selector_key(sv->live, "app"), "rh");
	ck_assert_int_eq(cmp->synced, 1);
	cairn_sync_result_free(cmp);
	json_decref(paths);
	json_decref(older);
	json_decref(set);
	world_close(&w);
}
END_TEST

void sync_rollout_tests(Suite *s)
{
	TCase *tc = tcase_create("rollout");

	tcase_add_unchecked_fixture(tc, sim_start, sim_stop);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, internal_hands_over_without_crd);
	tcase_add_test(tc, external_without_crd_fails);
	tcase_add_test(tc, external_applies_internal_leaves_alone);
	tcase_add_test(tc, service_keeps_rollout_hash);
	suite_add_tcase(s, tc);
}
