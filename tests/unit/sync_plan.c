/*
 * sync_plan.c - the sync plan: Argo CD's kind order, phases and hooks,
 * waves, hook-delete-policy, sync options, prune (Prune=false, PruneLast,
 * mirrored waves, the rollout marker, the allowEmpty guard),
 * CreateNamespace and ApplyOutOfSyncOnly.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/sync.h"
#include "sync_tests.h"
#include "testutil.h"

/* JSON written with ' for " (test objects are easier to read that way). */
static json_t *J(const char *text)
{
	char *s = strdup(text);
	json_error_t err;
	json_t *v;

	ck_assert_ptr_nonnull(s);
	for (char *p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	v = json_loads(s, 0, &err);
	ck_assert_msg(v != NULL, "bad test JSON at %d: %s: %s", err.position, err.text, s);
	free(s);
	return v;
}

/* An object of `api`/`kind` named `name` in namespace "ns" with annotations `ann` (JSON). */
static json_t *obj(const char *api, const char *kind, const char *name, const char *ann)
{
	json_t *o = json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", api, "kind", kind,
	                      "metadata", "name", name, "namespace", "ns");

	ck_assert_ptr_nonnull(o);
	if (ann != NULL)
		json_object_set_new(json_object_get(o, "metadata"), "annotations", J(ann));
	return o;
}

/* A live object tracked to app "web" by the tracking annotation, plus `extra` annotations. */
static json_t *tracked(const char *api, const char *kind, const char *name, const char *extra)
{
	json_t *o = obj(api, kind, name, extra ? extra : "{}");
	json_t *ann = json_object_get(json_object_get(o, "metadata"), "annotations");
	const char *slash = strchr(api, '/');
	char id[512];

	snprintf(id, sizeof(id), "web:%.*s/%s:ns/%s", slash ? (int)(slash - api) : 0, api, kind,
	         name);
	json_object_set_new(ann, CAIRN_TRACKING_ANNOTATION, json_string(id));
	return o;
}

static cairn_plan_input input(json_t *desired, json_t *live)
{
	cairn_plan_input in;

	memset(&in, 0, sizeof(in));
	in.app = "web";
	in.track = CAIRN_TRACK_ANNOTATION;
	in.dest_namespace = "ns";
	in.desired = desired;
	in.live = live;
	in.prune = 1;
	return in;
}

static cairn_plan *plan_ok(const cairn_plan_input *in)
{
	cairn_plan *p = NULL;

	ck_assert_msg(cairn_sync_plan(&p, in) == 0, "plan: %s", cairn_error_last()->message);
	ck_assert_ptr_nonnull(p);
	return p;
}

/* The plan as "Phase/wave/action/Kind/name" lines joined by spaces. */
static char *describe(const cairn_plan *p)
{
	size_t cap = 64 + p->n * 128, len = 0;
	char *s = malloc(cap);

	ck_assert_ptr_nonnull(s);
	s[0] = '\0';
	for (size_t i = 0; i < p->n; i++)
		len += (size_t)snprintf(s + len, cap - len, "%s%s/%d/%s/%s/%s", i ? " " : "",
		                        cairn_sync_phase_name(p->v[i].phase), p->v[i].wave,
		                        cairn_sync_action_name(p->v[i].action), p->v[i].id.kind,
		                        p->v[i].id.name);
	return s;
}

#define ck_plan_is(p, want)                                                                        \
	do {                                                                                       \
		char *got_ = describe(p);                                                          \
		ck_assert_msg(strcmp(got_, (want)) == 0, "plan\n  got  %s\n  want %s", got_,       \
		              (want));                                                             \
		free(got_);                                                                        \
	} while (0)

/* The kind order of gitops-engine (Argo CD's documented "by kind" rule). */
static const char *const argo_kinds[] = {
        "Namespace",
        "NetworkPolicy",
        "ResourceQuota",
        "LimitRange",
        "PodSecurityPolicy",
        "PodDisruptionBudget",
        "ServiceAccount",
        "Secret",
        "SecretList",
        "ConfigMap",
        "StorageClass",
        "PersistentVolume",
        "PersistentVolumeClaim",
        "CustomResourceDefinition",
        "ClusterRole",
        "ClusterRoleList",
        "ClusterRoleBinding",
        "ClusterRoleBindingList",
        "Role",
        "RoleList",
        "RoleBinding",
        "RoleBindingList",
        "Service",
        "DaemonSet",
        "Pod",
        "ReplicationController",
        "ReplicaSet",
        "Deployment",
        "HorizontalPodAutoscaler",
        "StatefulSet",
        "Job",
        "CronJob",
        "IngressClass",
        "Ingress",
        "APIService",
};
#define NKINDS (sizeof(argo_kinds) / sizeof(argo_kinds[0]))

START_TEST(kind_order_is_argo_cds)
{
	json_t *desired = json_array(), *live = json_array();
	cairn_plan_input in;
	cairn_plan *p;

	/* given in reverse, with two custom kinds whose names (not kinds) decide */
	json_array_append_new(desired, obj("example.com/v1", "Alpha", "b", NULL));
	json_array_append_new(desired, obj("example.com/v1", "Widget", "a", NULL));
	for (size_t i = NKINDS; i-- > 0;)
		json_array_append_new(desired, obj("v1", argo_kinds[i], "x", NULL));
	in = input(desired, live);
	p = plan_ok(&in);
	ck_assert_uint_eq(p->n, NKINDS + 2);
	for (size_t i = 0; i < NKINDS; i++) {
		ck_assert_str_eq(p->v[i].id.kind, argo_kinds[i]);
		ck_assert_int_eq(p->v[i].kind_rank, (int)i);
		ck_assert_int_eq(p->v[i].action, CAIRN_ACT_CREATE);
		ck_assert_int_eq(p->v[i].phase, CAIRN_PHASE_SYNC);
	}
	ck_assert_str_eq(p->v[NKINDS].id.kind, "Widget");
	ck_assert_str_eq(p->v[NKINDS + 1].id.kind, "Alpha");
	ck_assert_int_eq(p->v[NKINDS].kind_rank, p->v[NKINDS + 1].kind_rank);
	cairn_plan_free(p);
	json_decref(desired);
	json_decref(live);
}
END_TEST

START_TEST(waves_order_before_kinds_and_names)
{
	json_t *desired = json_array(), *live = json_array();
	cairn_plan_input in;
	cairn_plan *p;

	json_array_append_new(desired, obj("v1", "ConfigMap", "b", NULL));
	json_array_append_new(desired, obj("v1", "ConfigMap", "a", NULL));
	json_array_append_new(desired, obj("apps/v1", "Deployment", "d",
	                                   "{'argocd.argoproj.io/sync-wave':'-5'}"));
	json_array_append_new(
	        desired, obj("v1", "Namespace", "late", "{'argocd.argoproj.io/sync-wave':'3'}"));
	json_array_append_new(desired,
	                      obj("v1", "Service", "s", "{'argocd.argoproj.io/sync-wave':'+2'}"));
	in = input(desired, live);
	p = plan_ok(&in);
	ck_plan_is(p, "Sync/-5/create/Deployment/d Sync/0/create/ConfigMap/a "
	              "Sync/0/create/ConfigMap/b Sync/2/create/Service/s "
	              "Sync/3/create/Namespace/late");
	ck_assert_int_eq(p->v[0].declared_wave, -5);
	cairn_plan_free(p);
	json_decref(desired);
	json_decref(live);
}
END_TEST

/* Each bad value is refused with a message naming the value and the object. */
START_TEST(bad_wave_is_an_error_naming_the_object)
{
	static const char *const bad[] = {"abc", "1.5", "", " 1", "\t1", "2x", "99999999999", "-"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *desired = json_array(), *live = json_array();
		json_t *o = obj("apps/v1", "Deployment", "web", "{}");
		cairn_plan_input in;
		cairn_plan *p = NULL;
		char want[128];

		json_object_set_new(json_object_get(json_object_get(o, "metadata"), "annotations"),
		                    "argocd.argoproj.io/sync-wave", json_string(bad[i]));
		json_array_append_new(desired, o);
		in = input(desired, live);
		ck_assert_int_eq(cairn_sync_plan(&p, &in), CAIRN_EINVAL);
		ck_assert_ptr_null(p);
		snprintf(want, sizeof(want), "invalid sync-wave '%s' on apps/Deployment/ns/web",
		         bad[i]);
		ck_assert_error_contains(want);
		json_decref(desired);
		json_decref(live);
	}
}
END_TEST

START_TEST(hooks_phases_skip_and_delete_policies)
{
	json_t *desired = json_array(), *live = json_array();
	json_t *gen = obj("batch/v1", "Job", "x", "{'argocd.argoproj.io/hook':'PostSync'}");
	cairn_plan_input in;
	cairn_plan *p;

	json_object_del(json_object_get(gen, "metadata"), "name");
	json_object_set_new(json_object_get(gen, "metadata"), "generateName",
	                    json_string("notify-"));
	json_array_append_new(desired, gen);
	json_array_append_new(desired, obj("batch/v1", "Job", "migrate",
	                                   "{'argocd.argoproj.io/hook':'PreSync',"
	                                   "'argocd.argoproj.io/hook-delete-policy':"
	                                   "'HookSucceeded, HookFailed'}"));
	json_array_append_new(desired, obj("batch/v1", "Job", "both",
	                                   "{'argocd.argoproj.io/hook':'PreSync,PostSync'}"));
	json_array_append_new(desired, obj("batch/v1", "Job", "cleanup",
	                                   "{'argocd.argoproj.io/hook':'SyncFail'}"));
	json_array_append_new(desired, obj("v1", "Pod", "during",
	                                   "{'argocd.argoproj.io/hook':'Sync',"
	                                   "'argocd.argoproj.io/sync-wave':'1'}"));
	json_array_append_new(
	        desired, obj("v1", "ConfigMap", "never", "{'argocd.argoproj.io/hook':'Skip'}"));
	json_array_append_new(desired, obj("v1", "ConfigMap", "cfg", NULL));
	/* a live hook left by an earlier sync is the delete policy's, never pruned */
	json_array_append_new(live, tracked("batch/v1", "Job", "old-hook",
	                                    "{'argocd.argoproj.io/hook':'PreSync'}"));
	/* a skipped object is still desired: its live version is not pruned */
	json_array_append_new(live, tracked("v1", "ConfigMap", "never", NULL));
	in = input(desired, live);
	p = plan_ok(&in);
	ck_plan_is(p, "PreSync/0/hook/Job/both PreSync/0/hook/Job/migrate "
	              "Sync/0/create/ConfigMap/cfg Sync/1/hook/Pod/during "
	              "PostSync/0/hook/Job/both PostSync/0/hook/Job/notify- "
	              "SyncFail/0/hook/Job/cleanup");
	ck_assert_uint_eq(p->v[0].hook_delete, CAIRN_HOOK_DELETE_BEFORE_CREATION);
	ck_assert_uint_eq(p->v[1].hook_delete,
	                  CAIRN_HOOK_DELETE_SUCCEEDED | CAIRN_HOOK_DELETE_FAILED);
	ck_assert_uint_eq(p->v[2].hook_delete, 0);
	ck_assert_int_eq(p->v[5].generate_name, 1);
	ck_assert_int_eq(p->v[1].generate_name, 0);
	/* the generateName hook goes out as written: no name, no tracking id */
	ck_assert_ptr_null(json_object_get(json_object_get(p->v[5].desired, "metadata"), "name"));
	ck_assert_str_eq(json_string_value(json_object_get(
	                         json_object_get(json_object_get(p->v[1].desired, "metadata"),
	                                         "annotations"),
	                         CAIRN_TRACKING_ANNOTATION)),
	                 "web:batch/Job:ns/migrate");
	cairn_plan_free(p);
	json_decref(desired);
	json_decref(live);
}
END_TEST

START_TEST(unknown_hook_values_are_errors)
{
	json_t *desired = json_array(), *live = json_array();
	cairn_plan_input in;
	cairn_plan *p = NULL;

	json_array_append_new(desired, obj("batch/v1", "Job", "j",
	                                   "{'argocd.argoproj.io/hook':'PreSync,post-install'}"));
	in = input(desired, live);
	ck_assert_int_eq(cairn_sync_plan(&p, &in), CAIRN_EINVAL);
	ck_assert_error_contains("unknown hook 'post-install'");
	ck_assert_error_contains("batch/Job/ns/j");
	json_array_clear(desired);
	json_array_append_new(desired, obj("batch/v1", "Job", "j",
	                                   "{'argocd.argoproj.io/hook':'PreSync',"
	                                   "'argocd.argoproj.io/hook-delete-policy':'Always'}"));
	ck_assert_int_eq(cairn_sync_plan(&p, &in), CAIRN_EINVAL);
	ck_assert_error_contains("unknown hook-delete-policy 'Always' on batch/Job/ns/j");
	ck_assert_ptr_null(p);
	json_decref(desired);
	json_decref(live);
}
END_TEST

START_TEST(prune_candidates_and_options)
{
	json_t *desired = json_array(), *live = json_array(), *rs;
	cairn_plan_input in;
	cairn_plan *p;

	json_array_append_new(desired, obj("v1", "ConfigMap", "keep", NULL));
	json_array_append_new(live, tracked("v1", "ConfigMap", "keep", NULL));
	json_array_append_new(live, tracked("v1", "ConfigMap", "gone", NULL));
	json_array_append_new(live, tracked("v1", "Secret", "held",
	                                    "{'argocd.argoproj.io/sync-options':"
	                                    "'Validate=false, Prune=false'}"));
	json_array_append_new(live, obj("v1", "ConfigMap", "not-ours", "{}"));
	/* a copy whose tracking id names another object is not ours */
	json_array_append_new(live, tracked("v1", "ConfigMap", "keep", NULL));
	json_object_set_new(json_object_get(json_object_get(json_array_get(live, 4), "metadata"),
	                                    "annotations"),
	                    CAIRN_TRACKING_ANNOTATION, json_string("web:/ConfigMap:ns/keep"));
	json_object_set_new(json_object_get(json_array_get(live, 4), "metadata"), "name",
	                    json_string("copied"));
	rs = tracked("apps/v1", "ReplicaSet", "web-canary", NULL);
	json_object_set_new(json_object_get(rs, "metadata"), "labels",
	                    json_pack("{s:s}", CAIRN_ROLLOUT_MARKER, "canary"));
	json_array_append_new(live, rs);
	in = input(desired, live);
	p = plan_ok(&in);
	ck_plan_is(p, "Sync/0/prune-skip/Secret/held Sync/0/prune/ConfigMap/gone "
	              "Sync/0/update/ConfigMap/keep");
	ck_assert_int_eq(p->v[0].action, CAIRN_ACT_PRUNE_SKIP);
	ck_assert_uint_eq(p->v[0].options,
	                  CAIRN_SYNCOPT_PRUNE_FALSE | CAIRN_SYNCOPT_VALIDATE_FALSE);
	ck_assert_int_eq(p->v[1].action, CAIRN_ACT_PRUNE);
	ck_assert_ptr_null(p->v[1].desired);
	ck_assert_ptr_eq(p->v[1].live, json_array_get(live, 1));
	cairn_plan_free(p);

	/* prune disabled: reported, not done */
	in.prune = 0;
	p = plan_ok(&in);
	ck_assert_uint_eq(p->n, 3);
	ck_assert_int_eq(p->v[1].action, CAIRN_ACT_PRUNE_SKIP);
	cairn_plan_free(p);
	json_decref(desired);
	json_decref(live);
}
END_TEST

/* Deletion in reverse wave order; PruneLast after the Sync phase's last wave. */
START_TEST(prune_waves_mirror_and_prune_last)
{
	json_t *desired = json_array(), *live = json_array();
	cairn_plan_input in;
	cairn_plan *p;

	json_array_append_new(desired, obj("apps/v1", "Deployment", "app",
	                                   "{'argocd.argoproj.io/sync-wave':'2'}"));
	json_array_append_new(desired, obj("batch/v1", "Job", "post",
	                                   "{'argocd.argoproj.io/hook':'PostSync',"
	                                   "'argocd.argoproj.io/sync-wave':'9'}"));
	json_array_append_new(live, tracked("v1", "ConfigMap", "w0", NULL));
	json_array_append_new(
	        live, tracked("v1", "ConfigMap", "w1", "{'argocd.argoproj.io/sync-wave':'1'}"));
	json_array_append_new(
	        live, tracked("v1", "ConfigMap", "w5", "{'argocd.argoproj.io/sync-wave':'5'}"));
	json_array_append_new(live,
	                      tracked("v1", "ConfigMap", "last",
	                              "{'argocd.argoproj.io/sync-options':'PruneLast=true'}"));
	in = input(desired, live);
	p = plan_ok(&in);
	/* distinct prune waves 0,1,5 swap to 5,1,0; the last Sync wave is then 5 */
	ck_plan_is(p, "Sync/0/prune/ConfigMap/w5 Sync/1/prune/ConfigMap/w1 "
	              "Sync/2/create/Deployment/app Sync/5/prune/ConfigMap/w0 "
	              "Sync/6/prune/ConfigMap/last PostSync/9/hook/Job/post");
	ck_assert_int_eq(p->v[0].declared_wave, 5);
	ck_assert_int_eq(p->v[4].prune_last, 1);
	ck_assert_uint_eq(p->v[4].options, CAIRN_SYNCOPT_PRUNE_LAST);
	cairn_plan_free(p);

	/* PruneLast for the whole app; all waves negative: the last wave counts as 0 */
	json_array_clear(desired);
	json_array_append_new(desired,
	                      obj("v1", "Service", "s", "{'argocd.argoproj.io/sync-wave':'-3'}"));
	json_array_remove(live, 2);
	json_array_remove(live, 1);
	in.prune_last = 1;
	p = plan_ok(&in);
	ck_plan_is(p, "Sync/-3/create/Service/s Sync/1/prune/ConfigMap/last "
	              "Sync/1/prune/ConfigMap/w0");
	cairn_plan_free(p);
	json_decref(desired);
	json_decref(live);
}
END_TEST

/* In the label mode the instance label decides what is the app's. */
START_TEST(prune_by_label_tracking)
{
	json_t *desired = json_array(), *live = json_array();
	json_t *mine = obj("v1", "ConfigMap", "mine", "{}"),
	       *other = obj("v1", "ConfigMap", "other", "{}");
	cairn_plan_input in;
	cairn_plan *p;

	json_object_set_new(json_object_get(mine, "metadata"), "labels",
	                    json_pack("{s:s}", CAIRN_TRACKING_LABEL, "web"));
	json_object_set_new(json_object_get(other, "metadata"), "labels",
	                    json_pack("{s:s}", CAIRN_TRACKING_LABEL, "webx"));
	json_array_append_new(live, mine);
	json_array_append_new(live, other);
	json_array_append_new(live, tracked("v1", "ConfigMap", "annotated-only", NULL));
	json_array_append_new(desired, obj("v1", "Service", "s", NULL));
	in = input(desired, live);
	in.track = CAIRN_TRACK_LABEL;
	p = plan_ok(&in);
	ck_plan_is(p, "Sync/0/prune/ConfigMap/mine Sync/0/create/Service/s");
	ck_assert_str_eq(
	        json_string_value(json_object_get(
	                json_object_get(json_object_get(p->v[1].desired, "metadata"), "labels"),
	                CAIRN_TRACKING_LABEL)),
	        "web");
	cairn_plan_free(p);
	json_decref(desired);
	json_decref(live);
}
END_TEST

START_TEST(allow_empty_guard)
{
	json_t *desired = json_array(), *live = json_array();
	cairn_plan_input in;
	cairn_plan *p = NULL;

	json_array_append_new(live, tracked("v1", "ConfigMap", "a", NULL));
	json_array_append_new(live, tracked("apps/v1", "Deployment", "b", NULL));
	/* a render of nothing but hooks is as empty as no render at all */
	json_array_append_new(desired,
	                      obj("batch/v1", "Job", "j", "{'argocd.argoproj.io/hook':'PreSync'}"));
	in = input(desired, live);
	ck_assert_int_eq(cairn_sync_plan(&p, &in), CAIRN_EPERM);
	ck_assert_ptr_null(p);
	ck_assert_error_contains(
	        "refusing to prune all 2 objects of application 'web': the desired set is empty");
	ck_assert_error_contains("allowEmpty");

	in.allow_empty = 1;
	p = plan_ok(&in);
	ck_plan_is(p, "PreSync/0/hook/Job/j Sync/0/prune/ConfigMap/a Sync/0/prune/Deployment/b");
	cairn_plan_free(p);

	/* without prune nothing would be deleted: no refusal */
	in.allow_empty = 0;
	in.prune = 0;
	p = plan_ok(&in);
	ck_assert_uint_eq(p->n, 3);
	ck_assert_int_eq(p->v[1].action, CAIRN_ACT_PRUNE_SKIP);
	cairn_plan_free(p);
	json_decref(desired);
	json_decref(live);
}
END_TEST

START_TEST(create_namespace_only_when_missing)
{
	json_t *desired = json_array(), *live = json_array();
	cairn_plan_input in;
	cairn_plan *p;

	json_array_append_new(desired, obj("batch/v1", "Job", "pre",
	                                   "{'argocd.argoproj.io/hook':'PreSync',"
	                                   "'argocd.argoproj.io/sync-wave':'-2'}"));
	json_array_append_new(desired, obj("v1", "ConfigMap", "c", NULL));
	in = input(desired, live);
	in.create_namespace = 1;
	p = plan_ok(&in);
	ck_plan_is(p, "PreSync/-2/create/Namespace/ns PreSync/-2/hook/Job/pre "
	              "Sync/0/create/ConfigMap/c");
	ck_assert_str_eq(p->v[0].id.ns, "");
	ck_assert_str_eq(json_string_value(json_object_get(
	                         json_object_get(p->v[0].desired, "metadata"), "name")),
	                 "ns");
	cairn_plan_free(p);

	json_array_append_new(live, J("{'apiVersion':'v1','kind':'Namespace',"
	                              "'metadata':{'name':'ns'}}"));
	p = plan_ok(&in);
	ck_plan_is(p, "PreSync/-2/hook/Job/pre Sync/0/create/ConfigMap/c");
	cairn_plan_free(p);

	in.dest_namespace = "";
	ck_assert_int_eq(cairn_sync_plan(&p, &in), CAIRN_EINVAL);
	ck_assert_error_contains("CreateNamespace=true needs a destination namespace");
	json_decref(desired);
	json_decref(live);
}
END_TEST

START_TEST(apply_out_of_sync_only_and_options)
{
	json_t *desired = json_array(), *live = json_array();
	cairn_diff same, changed, missing;
	const cairn_diff *diffs[4];
	cairn_plan_input in;
	cairn_plan *p;

	memset(&same, 0, sizeof(same));
	memset(&changed, 0, sizeof(changed));
	memset(&missing, 0, sizeof(missing));
	same.equal = 1;
	missing.missing = 1;
	json_array_append_new(desired, obj("v1", "ConfigMap", "same",
	                                   "{'argocd.argoproj.io/sync-options':"
	                                   "'ServerSideApply=true,Replace=true,Bogus=1'}"));
	json_array_append_new(desired, obj("v1", "ConfigMap", "changed", NULL));
	json_array_append_new(desired, obj("v1", "ConfigMap", "missing", NULL));
	json_array_append_new(desired, obj("v1", "ConfigMap", "unknown", NULL));
	json_array_append_new(live, tracked("v1", "ConfigMap", "same", NULL));
	json_array_append_new(live, tracked("v1", "ConfigMap", "changed", NULL));
	diffs[0] = &same;
	diffs[1] = &changed;
	diffs[2] = &missing;
	diffs[3] = NULL;
	in = input(desired, live);
	in.diffs = diffs;
	p = plan_ok(&in);
	ck_plan_is(p, "Sync/0/update/ConfigMap/changed Sync/0/create/ConfigMap/missing "
	              "Sync/0/update/ConfigMap/same Sync/0/create/ConfigMap/unknown");
	ck_assert_uint_eq(p->v[2].options, CAIRN_SYNCOPT_SSA | CAIRN_SYNCOPT_REPLACE);
	cairn_plan_free(p);
	in.apply_out_of_sync_only = 1;
	p = plan_ok(&in);
	ck_plan_is(p, "Sync/0/update/ConfigMap/changed Sync/0/create/ConfigMap/missing "
	              "Sync/0/none/ConfigMap/same Sync/0/create/ConfigMap/unknown");
	ck_assert_ptr_nonnull(p->v[2].live);
	cairn_plan_free(p);
	json_decref(desired);
	json_decref(live);
}
END_TEST

START_TEST(duplicates_and_bad_input)
{
	json_t *desired = json_array(), *live = json_array();
	cairn_plan_input in;
	cairn_plan *p = NULL;

	json_array_append_new(desired, obj("v1", "ConfigMap", "c", NULL));
	json_array_append_new(desired, obj("v1", "ConfigMap", "c", NULL));
	in = input(desired, live);
	ck_assert_int_eq(cairn_sync_plan(&p, &in), CAIRN_EINVAL);
	ck_assert_error_contains("duplicate desired object /ConfigMap/ns/c in application 'web'");
	json_array_clear(desired);
	json_array_append_new(desired, J("{'apiVersion':'v1','kind':'ConfigMap','metadata':{}}"));
	ck_assert_int_eq(cairn_sync_plan(&p, &in), CAIRN_EINVAL);
	ck_assert_error_contains("ConfigMap object has no metadata.name");
	ck_assert_ptr_null(p);
	ck_assert_str_eq(cairn_sync_phase_name(CAIRN_PHASE_SYNCFAIL), "SyncFail");
	ck_assert_str_eq(cairn_sync_action_name(CAIRN_ACT_PRUNE_SKIP), "prune-skip");
	json_decref(desired);
	json_decref(live);
}
END_TEST

void sync_plan_tests(Suite *s)
{
	TCase *tc = tcase_create("plan");

	tcase_add_test(tc, kind_order_is_argo_cds);
	tcase_add_test(tc, waves_order_before_kinds_and_names);
	tcase_add_test(tc, bad_wave_is_an_error_naming_the_object);
	tcase_add_test(tc, hooks_phases_skip_and_delete_policies);
	tcase_add_test(tc, unknown_hook_values_are_errors);
	tcase_add_test(tc, prune_candidates_and_options);
	tcase_add_test(tc, prune_waves_mirror_and_prune_last);
	tcase_add_test(tc, prune_by_label_tracking);
	tcase_add_test(tc, allow_empty_guard);
	tcase_add_test(tc, create_namespace_only_when_missing);
	tcase_add_test(tc, apply_out_of_sync_only_and_options);
	tcase_add_test(tc, duplicates_and_bad_input);
	suite_add_tcase(s, tc);
}
