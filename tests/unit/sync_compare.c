/*
 * sync_compare.c - the compare layer of the sync module: resource ids,
 * tracking, normalisation, ignoreDifferences (JSON pointers, jq,
 * managedFields), Secret masking, leaf differences and the unified diff.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/buf.h"
#include "cairn/error.h"
#include "cairn/hash.h"
#include "cairn/sync.h"
#include "sync_tests.h"
#include "testutil.h"

/* JSON written with ' for " and ` for \" (keys such as k:{"name":"x"}). */
static json_t *J(const char *text)
{
	size_t n = strlen(text), k = 0;
	char *s = malloc(2 * n + 1);
	json_error_t err;
	json_t *v;

	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < n; i++) {
		if (text[i] == '\'')
			s[k++] = '"';
		else if (text[i] == '`')
			s[k++] = '\\', s[k++] = '"';
		else
			s[k++] = text[i];
	}
	s[k] = '\0';
	v = json_loads(s, 0, &err);
	ck_assert_msg(v != NULL, "bad test JSON at %d: %s: %s", err.position, err.text, s);
	free(s);
	return v;
}

static cairn_ignore *compile_ok(const char *rules)
{
	json_t *r = J(rules);
	cairn_ignore *ig = NULL;

	ck_assert_msg(cairn_ignore_compile(&ig, r, "application 'web'") == 0, "compile: %s",
	              cairn_error_last()->message);
	json_decref(r);
	return ig;
}

static cairn_diff *diff_ok(const json_t *wanted, const json_t *live, const cairn_ignore *ig)
{
	cairn_diff *d = NULL;

	ck_assert_msg(cairn_sync_diff(&d, wanted, live, ig) == 0, "diff: %s",
	              cairn_error_last()->message);
	return d;
}

/* The entry at `path`, or NULL. */
static const cairn_diff_entry *entry(const cairn_diff *d, const char *path)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->v[i].path, path) == 0)
			return &d->v[i];
	return NULL;
}

/* ---- ids and tracking ------------------------------------------------------ */

START_TEST(test_res_id)
{
	json_t *dep = J("{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'}}");
	json_t *ns = J("{'apiVersion':'v1','kind':'Namespace','metadata':{'name':'prod',"
	               "'namespace':'ignored'}}");
	json_t *nokind = J("{'apiVersion':'v1','metadata':{'name':'x'}}");
	cairn_res_id a, b;
	char s[1100];

	ck_assert_int_eq(cairn_res_id_of(&a, dep, "prod"), 0);
	ck_assert_str_eq(a.group, "apps");
	ck_assert_str_eq(a.kind, "Deployment");
	ck_assert_str_eq(a.ns, "prod");
	ck_assert_str_eq(a.name, "web");
	cairn_res_id_format(&a, s, sizeof(s));
	ck_assert_str_eq(s, "apps/Deployment/prod/web");

	ck_assert_int_eq(cairn_res_id_of(&b, ns, "prod"), 0);
	ck_assert_str_eq(b.group, "");
	ck_assert_str_eq(b.ns, "");
	cairn_res_id_format(&b, s, sizeof(s));
	ck_assert_str_eq(s, "/Namespace//prod");
	ck_assert_int_gt(cairn_res_id_cmp(&a, &b), 0); /* "apps" > "" */
	ck_assert_int_eq(cairn_res_id_cmp(&a, &a), 0);

	ck_assert_int_eq(cairn_res_id_of(&a, nokind, NULL), CAIRN_EINVAL);
	ck_assert_error_contains("has no kind");
	json_decref(dep);
	json_decref(ns);
	json_decref(nokind);
}
END_TEST

START_TEST(test_track_id)
{
	cairn_res_id dep = {"apps", "Deployment", "prod", "web"};
	cairn_res_id svc = {"", "Service", "prod", "web"};
	cairn_res_id crb = {"rbac.authorization.k8s.io", "ClusterRoleBinding", "", "admins"};
	char s[256];

	ck_assert_int_eq(cairn_track_id(s, sizeof(s), "shop", &dep), 0);
	ck_assert_str_eq(s, "shop:apps/Deployment:prod/web");
	ck_assert_int_eq(cairn_track_id(s, sizeof(s), "shop", &svc), 0);
	ck_assert_str_eq(s, "shop:/Service:prod/web");
	ck_assert_int_eq(cairn_track_id(s, sizeof(s), "shop", &crb), 0);
	ck_assert_str_eq(s, "shop:rbac.authorization.k8s.io/ClusterRoleBinding:/admins");
	ck_assert_int_eq(cairn_track_id(s, 10, "shop", &dep), CAIRN_ELIMIT);
	ck_assert_error_contains("longer than 9 bytes");
}
END_TEST

START_TEST(test_track_owned)
{
	json_t *obj = J("{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web',"
	                "'namespace':'prod'}}");
	json_t *copy;
	cairn_res_id id;

	ck_assert_int_eq(cairn_res_id_of(&id, obj, NULL), 0);
	ck_assert_int_eq(cairn_track_owned(obj, "shop", CAIRN_TRACK_ANNOTATION), 0);
	ck_assert_int_eq(cairn_track_set(obj, "shop", &id, CAIRN_TRACK_ANNOTATION), 0);
	ck_assert_str_eq(json_string_value(json_object_get(
	                         json_object_get(json_object_get(obj, "metadata"), "annotations"),
	                         CAIRN_TRACKING_ANNOTATION)),
	                 "shop:apps/Deployment:prod/web");
	ck_assert_ptr_null(json_object_get(json_object_get(obj, "metadata"), "labels"));
	ck_assert_int_eq(cairn_track_owned(obj, "shop", CAIRN_TRACK_ANNOTATION), 1);
	ck_assert_int_eq(cairn_track_owned(obj, "shop", CAIRN_TRACK_ANNOTATION_LABEL), 1);
	ck_assert_int_eq(cairn_track_owned(obj, "shopping", CAIRN_TRACK_ANNOTATION), 0);
	ck_assert_int_eq(cairn_track_owned(obj, "shop", CAIRN_TRACK_LABEL), 0);

	/* kubectl get -o yaml | sed s/web/web2/ | kubectl apply: the id still
	 * names web, so the copy is not ours; nor is it in another namespace. */
	copy = json_deep_copy(obj);
	json_object_set_new(json_object_get(copy, "metadata"), "name", json_string("web2"));
	ck_assert_int_eq(cairn_track_owned(copy, "shop", CAIRN_TRACK_ANNOTATION), 0);
	json_object_set_new(json_object_get(copy, "metadata"), "name", json_string("web"));
	json_object_set_new(json_object_get(copy, "metadata"), "namespace", json_string("dev"));
	ck_assert_int_eq(cairn_track_owned(copy, "shop", CAIRN_TRACK_ANNOTATION), 0);
	json_object_set_new(copy, "apiVersion", json_string("extensions/v1beta1"));
	json_object_set_new(json_object_get(copy, "metadata"), "namespace", json_string("prod"));
	ck_assert_int_eq(cairn_track_owned(copy, "shop", CAIRN_TRACK_ANNOTATION), 0);
	json_decref(copy);

	/* A malformed id is not tracked. */
	copy = J("{'apiVersion':'v1','kind':'ConfigMap','metadata':{'name':'c','namespace':'p',"
	         "'annotations':{'argocd.argoproj.io/tracking-id':'shop:/ConfigMap:p/c:x'}}}");
	ck_assert_int_eq(cairn_track_owned(copy, "shop", CAIRN_TRACK_ANNOTATION), 0);
	json_decref(copy);
	json_decref(obj);
}
END_TEST

START_TEST(test_track_cluster_and_label)
{
	json_t *crb = J("{'apiVersion':'rbac.authorization.k8s.io/v1','kind':'ClusterRoleBinding',"
	                "'metadata':{'name':'admins'}}");
	json_t *cm = J("{'apiVersion':'v1','kind':'ConfigMap','metadata':{'name':'c',"
	               "'labels':{'app.kubernetes.io/instance':'shop'}}}");
	char longname[80];
	cairn_res_id id;
	const char *lbl;

	ck_assert_int_eq(cairn_res_id_of(&id, crb, "prod"), 0);
	ck_assert_int_eq(cairn_track_set(crb, "shop", &id, CAIRN_TRACK_ANNOTATION_LABEL), 0);
	ck_assert_str_eq(json_string_value(json_object_get(
	                         json_object_get(json_object_get(crb, "metadata"), "annotations"),
	                         CAIRN_TRACKING_ANNOTATION)),
	                 "shop:rbac.authorization.k8s.io/ClusterRoleBinding:/admins");
	ck_assert_int_eq(cairn_track_owned(crb, "shop", CAIRN_TRACK_ANNOTATION), 1);
	ck_assert_int_eq(cairn_track_owned(crb, "shop", CAIRN_TRACK_LABEL), 1);

	/* Label mode: the label alone decides (a copied label is believed). */
	ck_assert_int_eq(cairn_track_owned(cm, "shop", CAIRN_TRACK_LABEL), 1);
	ck_assert_int_eq(cairn_track_owned(cm, "shop", CAIRN_TRACK_ANNOTATION), 0);
	ck_assert_int_eq(cairn_track_owned(cm, "shop", CAIRN_TRACK_ANNOTATION_LABEL), 0);

	/* Names over 63 characters: refused in label mode, the label cut in
	 * annotation+label mode (and not ending in '-'). */
	memset(longname, 'a', 70);
	longname[62] = '-';
	longname[70] = '\0';
	ck_assert_int_eq(cairn_res_id_of(&id, cm, "prod"), 0);
	ck_assert_int_eq(cairn_track_set(cm, longname, &id, CAIRN_TRACK_LABEL), CAIRN_EINVAL);
	ck_assert_error_contains("longer than 63 characters");
	ck_assert_int_eq(cairn_track_set(cm, longname, &id, CAIRN_TRACK_ANNOTATION_LABEL), 0);
	lbl = json_string_value(json_object_get(
	        json_object_get(json_object_get(cm, "metadata"), "labels"), CAIRN_TRACKING_LABEL));
	ck_assert_uint_eq(strlen(lbl), 62);
	ck_assert_int_eq(cairn_track_owned(cm, longname, CAIRN_TRACK_ANNOTATION_LABEL), 1);
	json_decref(crb);
	json_decref(cm);
}
END_TEST

/* ---- normalisation and leaf differences ------------------------------------- */

/* The Deployment as the server stores it (what a server-side-apply dry run
 * answers): defaults filled in, server metadata set. */
#define DEP_SPEC                                                                                   \
	"'spec':{'replicas':2,'revisionHistoryLimit':10,'progressDeadlineSeconds':600,"            \
	"'selector':{'matchLabels':{'app':'web'}},"                                                \
	"'strategy':{'type':'RollingUpdate','rollingUpdate':{'maxSurge':'25%','maxUnavailable':"   \
	"'25%'}},"                                                                                 \
	"'template':{'metadata':{'labels':{'app':'web'}},'spec':{'restartPolicy':'Always',"        \
	"'containers':[{'name':'web','image':'nginx:1.25','imagePullPolicy':'IfNotPresent',"       \
	"'terminationMessagePath':'/dev/termination-log'}]}}}"

START_TEST(test_dry_run_shape_equal)
{
	json_t *wanted =
	        J("{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web',"
	          "'namespace':'prod','uid':'u1','resourceVersion':'11','generation':2,"
	          "'creationTimestamp':'2026-01-01T00:00:00Z','labels':{},"
	          "'managedFields':[{'manager':'cairn','operation':'Apply'}]}," DEP_SPEC "}");
	json_t *live = J("{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web',"
	                 "'namespace':'prod','uid':'u1','resourceVersion':'10','generation':1,"
	                 "'selfLink':'/apis/apps/v1/namespaces/prod/deployments/web',"
	                 "'annotations':{'deployment.kubernetes.io/revision':'3',"
	                 "'kubectl.kubernetes.io/last-applied-configuration':'{}'},"
	                 "'creationTimestamp':'2026-01-01T00:00:00Z'}," DEP_SPEC
	                 ",'status':{'replicas':2,'readyReplicas':1}}");
	/* What was written in git: no defaults. */
	json_t *raw = J("{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web',"
	                "'namespace':'prod'},'spec':{'replicas':2,'selector':{'matchLabels':{'app':"
	                "'web'}},'template':{'metadata':{'labels':{'app':'web'}},'spec':{"
	                "'containers':[{'name':'web','image':'nginx:1.25'}]}}}}");
	cairn_diff *d = diff_ok(wanted, live, NULL);
	const cairn_diff_entry *e;
	cairn_buf out = CAIRN_BUF_INIT(0);

	ck_assert_int_eq(d->equal, 1);
	ck_assert_int_eq(d->missing, 0);
	ck_assert_uint_eq(d->n, 0);
	ck_assert_ptr_null(json_object_get(d->live_norm, "status"));
	ck_assert_ptr_null(
	        json_object_get(json_object_get(d->live_norm, "metadata"), "annotations"));
	ck_assert_ptr_null(json_object_get(json_object_get(d->wanted_norm, "metadata"), "labels"));
	ck_assert_int_eq(cairn_diff_format(&out, d, 0), 0);
	ck_assert_uint_eq(out.len, 0);
	cairn_diff_free(d);

	/* Without the dry run the defaulted fields differ: the reason to dry-run. */
	d = diff_ok(raw, live, NULL);
	ck_assert_int_eq(d->equal, 0);
	e = entry(d, "/spec/progressDeadlineSeconds");
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(json_integer_value(e->live), 600);
	ck_assert_ptr_null(e->wanted);
	ck_assert_ptr_nonnull(entry(d, "/spec/template/spec/containers/0/imagePullPolicy"));
	ck_assert_ptr_null(entry(d, "/spec/replicas"));
	cairn_diff_free(d);

	/* 2 and 2.0 are the same number. */
	json_object_set_new(json_object_get(live, "spec"), "replicas", json_real(2.0));
	d = diff_ok(wanted, live, NULL);
	ck_assert_int_eq(d->equal, 1);
	cairn_diff_free(d);

	/* /spec/replicas is NOT ignored by default (Argo CD neither). */
	json_object_set_new(json_object_get(live, "spec"), "replicas", json_integer(5));
	d = diff_ok(wanted, live, NULL);
	ck_assert_uint_eq(d->n, 1);
	ck_assert_str_eq(d->v[0].path, "/spec/replicas");
	ck_assert_int_eq(json_integer_value(d->v[0].live), 5);
	ck_assert_int_eq(json_integer_value(d->v[0].wanted), 2);
	cairn_diff_free(d);

	d = diff_ok(wanted, NULL, NULL);
	ck_assert_int_eq(d->missing, 1);
	ck_assert_int_eq(d->equal, 0);
	ck_assert_ptr_null(d->live_norm);
	cairn_diff_free(d);
	cairn_buf_dispose(&out);
	json_decref(wanted);
	json_decref(live);
	json_decref(raw);
}
END_TEST

START_TEST(test_leaf_paths)
{
	json_t *live = J("{'apiVersion':'v1','kind':'ConfigMap','metadata':{'name':'c',"
	                 "'annotations':{'a/b~c':'1'}},'data':{'x':'1','y':'2'},"
	                 "'list':[1,2,3],'obj':{'k':'v'}}");
	json_t *wanted = J("{'apiVersion':'v1','kind':'ConfigMap','metadata':{'name':'c',"
	                   "'annotations':{'a/b~c':'2'}},'data':{'x':'1','z':'3'},"
	                   "'list':[1,5],'obj':'flat'}");
	cairn_diff *d = diff_ok(wanted, live, NULL);
	static const char *const paths[] = {
	        "/data/y", "/data/z", "/list/1", "/list/2", "/metadata/annotations/a~1b~0c",
	        "/obj"};

	ck_assert_uint_eq(d->n, 6);
	for (size_t i = 0; i < 6; i++)
		ck_assert_str_eq(d->v[i].path, paths[i]);
	ck_assert_ptr_null(d->v[0].wanted);
	ck_assert_ptr_null(d->v[1].live);
	ck_assert_int_eq(json_integer_value(d->v[3].live), 3);
	ck_assert_ptr_null(d->v[3].wanted);
	ck_assert(json_is_object(d->v[5].live));
	ck_assert_str_eq(json_string_value(d->v[5].wanted), "flat");
	cairn_diff_free(d);
	json_decref(live);
	json_decref(wanted);
}
END_TEST

/* ---- ignoreDifferences ------------------------------------------------------- */

static json_t *dep(int replicas, const char *extra_container)
{
	char text[2048];

	(void)snprintf(text, sizeof(text),
	               "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web',"
	               "'namespace':'prod','labels':{'team':'a'},'annotations':{'example.com/"
	               "note':'x'}},'spec':{'replicas':%d,'template':{'spec':{'containers':["
	               "{'name':'web','image':'nginx'}%s]}}}}",
	               replicas, extra_container);
	return J(text);
}

/* Whether `rules` makes dep(2) and dep(5 + istio sidecar + other labels)
 * compare equal; returns the number of differences left. */
static size_t diffs_left(const char *rules)
{
	json_t *w = dep(2, ""), *l = dep(5, ",{'name':'istio-proxy','image':'proxy'}");
	cairn_ignore *ig = compile_ok(rules);
	cairn_diff *d;
	size_t n;

	json_object_set_new(json_object_get(json_object_get(l, "metadata"), "labels"), "team",
	                    json_string("b"));
	json_object_set_new(json_object_get(json_object_get(l, "metadata"), "annotations"),
	                    "example.com/note", json_string("y"));
	d = diff_ok(w, l, ig);
	n = d->n;
	cairn_diff_free(d);
	cairn_ignore_free(ig);
	json_decref(w);
	json_decref(l);
	return n;
}

START_TEST(test_ignore_pointers)
{
	/* Four differences without rules: replicas, the sidecar, label, note. */
	ck_assert_uint_eq(diffs_left("[]"), 4);
	ck_assert_uint_eq(diffs_left("[{'group':'apps','kind':'Deployment','jsonPointers':["
	                             "'/spec/replicas','/metadata/annotations/example.com~1note',"
	                             "'/spec/template/spec/containers/1','/no/such/path']}]"),
	                  1);
	/* Group and kind are globs; name and namespace exact. */
	ck_assert_uint_eq(diffs_left("[{'group':'*','kind':'*','name':'web','jsonPointers':["
	                             "'/spec/replicas']}]"),
	                  3);
	ck_assert_uint_eq(diffs_left("[{'group':'apps','kind':'Deploy*','namespace':'prod',"
	                             "'jsonPointers':['/spec/replicas']}]"),
	                  3);
	ck_assert_uint_eq(diffs_left("[{'group':'apps','kind':'StatefulSet','jsonPointers':["
	                             "'/spec/replicas']}]"),
	                  4);
	ck_assert_uint_eq(diffs_left("[{'kind':'Deployment','jsonPointers':['/spec/replicas']}]"),
	                  4); /* group "" is the core group only */
	ck_assert_uint_eq(diffs_left("[{'group':'apps','kind':'Deployment','name':'other',"
	                             "'jsonPointers':['/spec/replicas']}]"),
	                  4);
	ck_assert_uint_eq(diffs_left("[{'group':'apps','kind':'Deployment','namespace':'dev',"
	                             "'jsonPointers':['/spec/replicas']}]"),
	                  4);
}
END_TEST

START_TEST(test_ignore_jq)
{
	ck_assert_uint_eq(
	        diffs_left("[{'group':'apps','kind':'Deployment','jqPathExpressions':["
	                   "'.spec.template.spec.containers[] | select(.name == `istio-proxy`)',"
	                   "'.metadata.labels.team']}]"),
	        2);
	/* An expression failing at run time (iterating over null) is skipped
	 * for that object, as Argo CD does; the others of the rule still apply. */
	ck_assert_uint_eq(diffs_left("[{'group':'apps','kind':'Deployment','jqPathExpressions':["
	                             "'.spec.template.spec.initContainers[] | .image',"
	                             "'.spec.replicas']}]"),
	                  3);
	/* Several elements of one list: deleted from the last, so indices hold. */
	{
		json_t *svc = J("{'apiVersion':'v1','kind':'Service','metadata':{'name':'s'},"
		                "'spec':{'ports':[{'port':53,'protocol':'UDP'},{'port':80,"
		                "'protocol':'TCP'},{'port':54,'protocol':'UDP'},{'port':81}]}}");
		json_t *n = NULL;
		cairn_ignore *ig = compile_ok("[{'kind':'Service','jqPathExpressions':["
		                              "'.spec.ports[] | select(.protocol == `UDP`)']}]");

		ck_assert_int_eq(cairn_sync_normalize(&n, svc, ig, NULL), 0);
		ck_assert_uint_eq(
		        json_array_size(json_object_get(json_object_get(n, "spec"), "ports")), 2);
		ck_assert_int_eq(
		        json_integer_value(json_object_get(
		                json_array_get(json_object_get(json_object_get(n, "spec"), "ports"),
		                               1),
		                "port")),
		        81);
		json_decref(n);
		json_decref(svc);
		cairn_ignore_free(ig);
	}
}
END_TEST

static void compile_fails(const char *rules, const char *msg1, const char *msg2)
{
	json_t *r = J(rules);
	cairn_ignore *ig = (cairn_ignore *)0x1;

	ck_assert_int_eq(cairn_ignore_compile(&ig, r, "application 'web'"), CAIRN_EINVAL);
	ck_assert_ptr_eq(ig, (cairn_ignore *)0x1);
	ck_assert_error_contains(msg1);
	ck_assert_error_contains(msg2);
	ck_assert_error_contains("application 'web'");
	json_decref(r);
}

START_TEST(test_ignore_errors)
{
	compile_fails("[{'kind':'ConfigMap'},{'kind':'Deployment','jqPathExpressions':['.a',"
	              "'.spec | ]']}]",
	              "jq expression '.spec | ]' does not compile",
	              "ignoreDifferences[1].jqPathExpressions[1]");
	/* Text that would close path( ... ) early is refused, not spliced. */
	compile_fails("[{'kind':'Deployment','jqPathExpressions':['.a) | (.b']}]",
	              "jq expression '.a) | (.b' does not compile",
	              "ignoreDifferences[0].jqPathExpressions[0]");
	compile_fails("[{'kind':'Deployment'},{'kind':'X','jsonPointers':['/ok','spec/replicas']}]",
	              "'spec/replicas' is not a JSON pointer",
	              "ignoreDifferences[1].jsonPointers[1]");
	compile_fails("[{'kind':'X','jsonPointers':['/a~2b']}]", "'/a~2b' is not a JSON pointer",
	              "ignoreDifferences[0]");
	compile_fails("[{'kind':'X','jsonPointer':['/a']}]", "unknown field 'jsonPointer'",
	              "ignoreDifferences[0]");
	compile_fails("[{'group':'apps','jsonPointers':['/a']}]", "has no kind",
	              "ignoreDifferences[0]");
	compile_fails("[{'kind':'X','managedFieldsManagers':'hpa'}]", "is not a list",
	              "ignoreDifferences[0].managedFieldsManagers");
	compile_fails("{'kind':'X'}", "is not a list", "ignoreDifferences");
	/* libjq 1.6 leaks on these, so they never reach it. */
	compile_fails("[{'kind':'X','jqPathExpressions':['.a | `abc']}]", "unterminated string",
	              "ignoreDifferences[0].jqPathExpressions[0]");
	/* libjq's message, on one line and without its "jq: error: " prefix. */
	compile_fails("[{'kind':'X','jqPathExpressions':['.a | nosuchfn']}]",
	              "): nosuchfn/0 is not defined at <top-level>, line 1",
	              "jqPathExpressions[0]");
	ck_assert_ptr_null(strstr(cairn_error_last()->message, "jq: error"));
	ck_assert_ptr_null(strchr(cairn_error_last()->message, '\n'));
}
END_TEST

/* ---- managedFieldsManagers ------------------------------------------------------- */

#define MF_LIVE                                                                                    \
	"{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web','namespace':'prod'," \
	"'finalizers':['keep','istio/cleanup'],'managedFields':["                                  \
	"{'manager':'kubectl-client-side-apply','operation':'Update','fieldsType':'FieldsV1',"     \
	"'fieldsV1':{'f:spec':{'f:template':{'f:spec':{'f:containers':{'k:{`name`:`app`}':{"       \
	"'.':{},'f:image':{},'f:name':{}}}}}}}},"                                                  \
	"{'manager':'hpa','operation':'Update','fieldsType':'FieldsV1','fieldsV1':{'f:spec':{"     \
	"'f:replicas':{}}}},"                                                                      \
	"{'manager':'istio','operation':'Update','fieldsType':'FieldsV1','fieldsV1':{"             \
	"'f:metadata':{'f:finalizers':{'v:`istio/cleanup`':{}}},"                                  \
	"'f:spec':{'f:template':{'f:spec':{'f:containers':{'k:{`name`:`istio-proxy`}':{'.':{},"    \
	"'f:image':{},'f:name':{}}}}}}}}]},"                                                       \
	"'spec':{'replicas':5,'template':{'spec':{'containers':[{'name':'app','image':'app:2'},"   \
	"{'name':'istio-proxy','image':'proxy:1'}]}}}}"

static size_t mf_diffs(const char *rules, const char *image)
{
	json_t *live = J(MF_LIVE);
	char text[512];
	json_t *wanted;
	cairn_ignore *ig = compile_ok(rules);
	cairn_diff *d;
	size_t n;

	(void)snprintf(text, sizeof(text),
	               "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web',"
	               "'namespace':'prod','finalizers':['keep']},'spec':{'replicas':2,"
	               "'template':{'spec':{'containers':[{'name':'app','image':'%s'}]}}}}",
	               image);
	wanted = J(text);
	d = diff_ok(wanted, live, ig);
	n = d->n;
	cairn_diff_free(d);
	cairn_ignore_free(ig);
	json_decref(wanted);
	json_decref(live);
	return n;
}

START_TEST(test_ignore_managers)
{
	/* finalizers/1, replicas, containers/1. */
	ck_assert_uint_eq(mf_diffs("[]", "app:2"), 3);
	ck_assert_uint_eq(
	        mf_diffs("[{'group':'apps','kind':'Deployment','managedFieldsManagers':['hpa']}]",
	                 "app:2"),
	        2);
	ck_assert_uint_eq(mf_diffs("[{'group':'apps','kind':'Deployment','managedFieldsManagers':["
	                           "'hpa','istio']}]",
	                           "app:2"),
	                  0);
	/* A field owned by a manager not listed still counts. */
	ck_assert_uint_eq(mf_diffs("[{'group':'apps','kind':'Deployment','managedFieldsManagers':["
	                           "'hpa','istio']}]",
	                           "app:3"),
	                  1);
	/* Listing the owner of the app container removes it from both sides. */
	ck_assert_uint_eq(mf_diffs("[{'group':'apps','kind':'Deployment','managedFieldsManagers':["
	                           "'hpa','istio','kubectl-client-side-apply']}]",
	                           "app:3"),
	                  0);
}
END_TEST

START_TEST(test_managers_normalize)
{
	json_t *live = J(MF_LIVE), *n = NULL, *c;
	cairn_ignore *ig = compile_ok("[{'group':'apps','kind':'Deployment',"
	                              "'managedFieldsManagers':['istio']}]");

	/* The live object's own managedFields are read before they are dropped. */
	ck_assert_int_eq(cairn_sync_normalize(&n, live, ig, NULL), 0);
	c = json_object_get(
	        json_object_get(json_object_get(json_object_get(n, "spec"), "template"), "spec"),
	        "containers");
	ck_assert_uint_eq(json_array_size(c), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(c, 0), "name")), "app");
	c = json_object_get(json_object_get(n, "metadata"), "finalizers");
	ck_assert_uint_eq(json_array_size(c), 1);
	ck_assert_str_eq(json_string_value(json_array_get(c, 0)), "keep");
	ck_assert_ptr_null(json_object_get(json_object_get(n, "metadata"), "managedFields"));
	ck_assert_int_eq(
	        json_integer_value(json_object_get(json_object_get(n, "spec"), "replicas")), 5);
	json_decref(n);
	json_decref(live);
	cairn_ignore_free(ig);
}
END_TEST

/* ---- Secrets ------------------------------------------------------------------ */

/* Fail if any of the secret strings, or their base64, is in `text`. */
static void assert_no_secret(const char *text, const char *const *secrets, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char b64[256];
		cairn_base64_encode(b64, (const uint8_t *)secrets[i], strlen(secrets[i]));
		ck_assert_msg(strstr(text, secrets[i]) == NULL, "'%s' leaked in: %s", secrets[i],
		              text);
		ck_assert_msg(strstr(text, b64) == NULL, "'%s' (base64) leaked in: %s", b64, text);
	}
}

static void assert_json_no_secret(const json_t *v, const char *const *secrets, size_t n)
{
	char *s;

	if (v == NULL)
		return;
	s = json_dumps(v, JSON_ENCODE_ANY);
	ck_assert_ptr_nonnull(s);
	assert_no_secret(s, secrets, n);
	free(s);
}

START_TEST(test_secret_masked)
{
	static const char *const secrets[] = {"hunter2-XYZ", "other-pass-QQQ", "same-user"};
	char b64[64], b64u[64], text[1024];
	json_t *wanted = J("{'apiVersion':'v1','kind':'Secret','type':'Opaque','metadata':{"
	                   "'name':'db','namespace':'prod'},'stringData':{'password':'hunter2-XYZ',"
	                   "'user':'same-user'}}");
	json_t *live, *n = NULL;
	cairn_diff *d;
	cairn_buf out = CAIRN_BUF_INIT(0);
	const cairn_diff_entry *e;

	cairn_base64_encode(b64, (const uint8_t *)"other-pass-QQQ", 14);
	cairn_base64_encode(b64u, (const uint8_t *)"same-user", 9);
	(void)snprintf(text, sizeof(text),
	               "{'apiVersion':'v1','kind':'Secret','type':'Opaque','metadata':{'name':'db',"
	               "'namespace':'prod','resourceVersion':'4','annotations':{"
	               "'kubectl.kubernetes.io/last-applied-configuration':'hunter2-XYZ'}},"
	               "'data':{'password':'%s','user':'%s'}}",
	               b64, b64u);
	live = J(text);
	d = diff_ok(wanted, live, NULL);
	ck_assert_int_eq(d->equal, 0);
	ck_assert_uint_eq(d->n, 1);
	e = entry(d, "/data/password");
	ck_assert_ptr_nonnull(e);
	/* Different values: different runs of '+', as Argo CD shows them. */
	ck_assert_str_eq(json_string_value(e->wanted), "++++++++");
	ck_assert_str_eq(json_string_value(e->live), "++++++++++++");
	ck_assert_str_eq(
	        json_string_value(json_object_get(json_object_get(d->live_norm, "data"), "user")),
	        CAIRN_SECRET_MASK);
	ck_assert_ptr_null(json_object_get(d->wanted_norm, "stringData"));
	ck_assert_int_eq(cairn_diff_format(&out, d, 1), 0);
	ck_assert_ptr_nonnull(strstr(out.ptr, "password: ++++++++++++"));
	assert_no_secret(out.ptr, secrets, 3);
	assert_json_no_secret(d->live_norm, secrets, 3);
	assert_json_no_secret(d->wanted_norm, secrets, 3);
	for (size_t i = 0; i < d->n; i++) {
		assert_json_no_secret(d->v[i].live, secrets, 3);
		assert_json_no_secret(d->v[i].wanted, secrets, 3);
	}
	cairn_diff_free(d);

	/* A missing Secret shows masked values too. */
	cairn_buf_reset(&out);
	d = diff_ok(wanted, NULL, NULL);
	ck_assert_int_eq(cairn_diff_format(&out, d, 0), 0);
	ck_assert_ptr_nonnull(strstr(out.ptr, "+  password: ++++++++\n"));
	assert_no_secret(out.ptr, secrets, 3);
	cairn_diff_free(d);

	/* stringData folded into data as the API server does: equal values
	 * compare equal (by hash), whatever side spelled them how. */
	json_object_set_new(json_object_get(wanted, "stringData"), "password",
	                    json_string("other-pass-QQQ"));
	d = diff_ok(wanted, live, NULL);
	ck_assert_int_eq(d->equal, 1);
	cairn_diff_free(d);

	/* A rule that removes kind must not unmask anything. */
	{
		cairn_ignore *ig = compile_ok("[{'kind':'Secret','jsonPointers':['/kind']}]");
		d = diff_ok(wanted, live, ig);
		cairn_buf_reset(&out);
		ck_assert_int_eq(cairn_diff_format(&out, d, 0), 0);
		assert_no_secret(out.ptr ? out.ptr : "", secrets, 3);
		assert_json_no_secret(d->wanted_norm, secrets, 3);
		cairn_diff_free(d);
		ck_assert_int_eq(cairn_sync_normalize(&n, wanted, ig, NULL), 0);
		assert_json_no_secret(n, secrets, 3);
		json_decref(n);
		cairn_ignore_free(ig);
	}

	ck_assert_int_eq(cairn_sync_normalize(&n, live, NULL, NULL), 0);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(n, "data"), "password")),
	                 CAIRN_SECRET_MASK);
	assert_json_no_secret(n, secrets, 3);
	json_decref(n);
	cairn_buf_dispose(&out);
	json_decref(wanted);
	json_decref(live);
}
END_TEST

/* ---- unified diff ---------------------------------------------------------------- */

START_TEST(test_format_unified)
{
	json_t *live = J("{'apiVersion':'v1','kind':'ConfigMap','metadata':{'name':'cfg',"
	                 "'namespace':'prod','resourceVersion':'7'},'data':{'a':'1','b':'2',"
	                 "'c':'3','d':'4','e':'5','f':'6','g':'7','h':'8'}}");
	json_t *wanted = J("{'apiVersion':'v1','kind':'ConfigMap','metadata':{'name':'cfg',"
	                   "'namespace':'prod'},'data':{'a':'1','b':'20','c':'3','d':'4','e':'5',"
	                   "'f':'6','g':'7','i':'9'}}");
	/* Written by hand from the two objects' YAML (keys sorted as kubectl
	 * kustomize prints them): one hunk, since the two changes are only five
	 * lines apart, with three lines of context around it. */
	static const char expected[] = "\n"
	                               "===== /ConfigMap prod/cfg ======\n"
	                               "--- live\n"
	                               "+++ desired\n"
	                               "@@ -1,13 +1,13 @@\n"
	                               " apiVersion: v1\n"
	                               " data:\n"
	                               "   a: \"1\"\n"
	                               "-  b: \"2\"\n"
	                               "+  b: \"20\"\n"
	                               "   c: \"3\"\n"
	                               "   d: \"4\"\n"
	                               "   e: \"5\"\n"
	                               "   f: \"6\"\n"
	                               "   g: \"7\"\n"
	                               "-  h: \"8\"\n"
	                               "+  i: \"9\"\n"
	                               " kind: ConfigMap\n"
	                               " metadata:\n"
	                               "   name: cfg\n";
	cairn_diff *d = diff_ok(wanted, live, NULL);
	cairn_buf out = CAIRN_BUF_INIT(0);

	ck_assert_uint_eq(d->n, 3);
	ck_assert_str_eq(d->v[0].path, "/data/b");
	ck_assert_str_eq(d->v[1].path, "/data/h");
	ck_assert_str_eq(d->v[2].path, "/data/i");
	ck_assert_int_eq(cairn_diff_format(&out, d, 0), 0);
	ck_assert_str_eq(out.ptr, expected);
	cairn_buf_reset(&out);
	ck_assert_int_eq(cairn_diff_format(&out, d, 1), 0);
	ck_assert_ptr_nonnull(strstr(out.ptr, "\033[31m-  b: \"2\"\033[0m\n"));
	ck_assert_ptr_nonnull(strstr(out.ptr, "\033[32m+  b: \"20\"\033[0m\n"));
	ck_assert_ptr_nonnull(strstr(out.ptr, "\033[36m@@ -1,13 +1,13 @@\033[0m\n"));
	cairn_diff_free(d);
	cairn_buf_dispose(&out);
	json_decref(live);
	json_decref(wanted);
}
END_TEST

START_TEST(test_format_hunks)
{
	/* Changes at the first and the last data key of sixteen: two hunks. */
	json_t *live = J("{'apiVersion':'v1','kind':'ConfigMap','metadata':{'name':'c'},'data':{"
	                 "'k01':'x','k02':'x','k03':'x','k04':'x','k05':'x','k06':'x','k07':'x',"
	                 "'k08':'x','k09':'x','k10':'x','k11':'x','k12':'x','k13':'x','k14':'x',"
	                 "'k15':'x','k16':'x'}}");
	json_t *wanted = json_deep_copy(live);
	static const char expected[] = "\n"
	                               "===== /ConfigMap /c ======\n"
	                               "--- live\n"
	                               "+++ desired\n"
	                               "@@ -1,6 +1,6 @@\n"
	                               " apiVersion: v1\n"
	                               " data:\n"
	                               "-  k01: x\n"
	                               "+  k01: \"y\"\n"
	                               "   k02: x\n"
	                               "   k03: x\n"
	                               "   k04: x\n"
	                               "@@ -15,7 +15,6 @@\n"
	                               "   k13: x\n"
	                               "   k14: x\n"
	                               "   k15: x\n"
	                               "-  k16: x\n"
	                               " kind: ConfigMap\n"
	                               " metadata:\n"
	                               "   name: c\n";
	cairn_diff *d;
	cairn_buf out = CAIRN_BUF_INIT(0);

	json_object_set_new(json_object_get(wanted, "data"), "k01", json_string("y"));
	json_object_del(json_object_get(wanted, "data"), "k16");
	d = diff_ok(wanted, live, NULL);
	ck_assert_int_eq(cairn_diff_format(&out, d, 0), 0);
	ck_assert_str_eq(out.ptr, expected);
	cairn_diff_free(d);

	/* A missing object: every line added, "-0,0" as diff -u prints it. */
	cairn_buf_reset(&out);
	json_object_clear(json_object_get(wanted, "data"));
	d = diff_ok(wanted, NULL, NULL);
	ck_assert_int_eq(cairn_diff_format(&out, d, 0), 0);
	ck_assert_str_eq(out.ptr, "\n===== /ConfigMap /c ======\n--- live\n+++ desired\n"
	                          "@@ -0,0 +1,5 @@\n+apiVersion: v1\n+data: {}\n+kind: ConfigMap\n"
	                          "+metadata:\n+  name: c\n");
	cairn_diff_free(d);
	cairn_buf_dispose(&out);
	json_decref(live);
	json_decref(wanted);
}
END_TEST

/* ---- jq from several threads ------------------------------------------------------ */

struct jq_thread {
	const cairn_ignore *ig;
	int bad;
};

static void *jq_worker(void *arg)
{
	struct jq_thread *t = arg;
	json_t *w = dep(2, ""), *l = dep(2, ",{'name':'istio-proxy','image':'proxy'}");

	for (int i = 0; i < 100; i++) {
		cairn_diff *d = NULL;
		if (cairn_sync_diff(&d, w, l, t->ig) != 0 || !d->equal)
			t->bad++;
		cairn_diff_free(d);
	}
	json_decref(w);
	json_decref(l);
	return NULL;
}

START_TEST(test_jq_threads)
{
	cairn_ignore *ig = compile_ok("[{'group':'apps','kind':'Deployment','jqPathExpressions':["
	                              "'.spec.template.spec.containers[] | "
	                              "select(.name | startswith(`istio`))']}]");
	pthread_t th[4];
	struct jq_thread t[4];

	for (int i = 0; i < 4; i++) {
		t[i].ig = ig;
		t[i].bad = 0;
		ck_assert_int_eq(pthread_create(&th[i], NULL, jq_worker, &t[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(t[i].bad, 0);
	}
	cairn_ignore_free(ig);
}
END_TEST

void sync_compare_tests(Suite *s)
{
	TCase *tc = tcase_create("compare");

	tcase_add_test(tc, test_res_id);
	tcase_add_test(tc, test_track_id);
	tcase_add_test(tc, test_track_owned);
	tcase_add_test(tc, test_track_cluster_and_label);
	tcase_add_test(tc, test_dry_run_shape_equal);
	tcase_add_test(tc, test_leaf_paths);
	tcase_add_test(tc, test_ignore_pointers);
	tcase_add_test(tc, test_ignore_jq);
	tcase_add_test(tc, test_ignore_errors);
	tcase_add_test(tc, test_ignore_managers);
	tcase_add_test(tc, test_managers_normalize);
	tcase_add_test(tc, test_secret_masked);
	tcase_add_test(tc, test_format_unified);
	tcase_add_test(tc, test_format_hunks);
	tcase_add_test(tc, test_jq_threads);
	suite_add_tcase(s, tc);
}
