/*
 * render_patch.c - the patch transformers' errors (each with its code and a
 * message naming what is wrong and the file), and a few results that the
 * parity fixtures do not pin down.
 */
#include <sys/stat.h>
#include <unistd.h>

#include "cairn/render.h"
#include "render_tests.h"

static char tmp[64];

static void put(const char *rel, const char *text)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/cairn-patch-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	put("d.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
	              "spec:\n  replicas: 1\n  template:\n    spec:\n      containers:\n"
	              "      - name: app\n        image: a\n");
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	ck_assert_int_eq(system(cmd), 0);
}

/* Render the temp tree with a kustomization of `resources: [d.yaml]` plus
 * `rest`; returns the code, *out the objects on success. */
static int render(json_t **out, const char *rest)
{
	char k[4096];
	cairn_tree *t = NULL;
	json_t *objs = NULL;
	int rc;

	snprintf(k, sizeof(k), "resources: [d.yaml]\n%s", rest);
	put("kustomization.yaml", k);
	ck_assert_int_eq(cairn_tree_open_dir(&t, tmp), 0);
	rc = cairn_render_kustomize(&objs, t, "");
	cairn_tree_free(t);
	if (out)
		*out = objs;
	else
		json_decref(objs);
	if (rc != 0)
		ck_assert_ptr_null(objs);
	return rc;
}

#define JSON_PATCH(ops) "patches:\n- target: {kind: Deployment}\n  patch: |-\n" ops

START_TEST(unknown_op)
{
	ck_assert_int_eq(render(NULL, JSON_PATCH("    - {op: frob, path: /spec/x}\n")),
	                 CAIRN_EINVAL);
	ck_assert_error_contains("unknown operation 'frob'");
	ck_assert_error_contains("JSON patch operation 1");
	ck_assert_error_contains("Deployment 'web'");
	ck_assert_error_contains("kustomization.yaml");
}
END_TEST

START_TEST(pointer_to_nothing)
{
	ck_assert_int_eq(
	        render(NULL, JSON_PATCH("    - {op: replace, path: /spec/nope, value: 1}\n")),
	        CAIRN_ENOTFOUND);
	ck_assert_error_contains("path '/spec/nope' does not exist");
	ck_assert_int_eq(render(NULL, JSON_PATCH("    - {op: add, path: /spec/a/b, value: 1}\n")),
	                 CAIRN_EINVAL);
	ck_assert_error_contains("path '/spec/a/b' has no parent");
	ck_assert_int_eq(render(NULL, JSON_PATCH("    - {op: remove, path: /spec/replicas}\n"
	                                         "    - {op: remove, path: /spec/replicas}\n")),
	                 CAIRN_ENOTFOUND);
	ck_assert_error_contains("JSON patch operation 2");
	/* an index past the end of a list is nothing too */
	ck_assert_int_eq(render(NULL, JSON_PATCH("    - {op: remove, path: "
	                                         "/spec/template/spec/containers/1}\n")),
	                 CAIRN_ENOTFOUND);
	ck_assert_int_eq(render(NULL, JSON_PATCH("    - {op: test, path: /spec/replicas, "
	                                         "value: 2}\n")),
	                 CAIRN_EINVAL);
	ck_assert_error_contains("test of '/spec/replicas' failed");
}
END_TEST

START_TEST(smp_matching_nothing)
{
	ck_assert_int_eq(render(NULL, "patches:\n- patch: |-\n    apiVersion: apps/v1\n"
	                              "    kind: Deployment\n    metadata: {name: other}\n"),
	                 CAIRN_ENOTFOUND);
	ck_assert_error_contains("no resource matches strategic merge patch Deployment 'other'");
	ck_assert_error_contains("kustomization.yaml");
	/* the group is part of the match: extensions/v1beta1 is not apps/v1 */
	ck_assert_int_eq(render(NULL, "patches:\n- patch: |-\n    apiVersion: extensions/v1beta1\n"
	                              "    kind: Deployment\n    metadata: {name: web}\n"),
	                 CAIRN_ENOTFOUND);
	/* with a target, matching nothing is fine, as in kustomize */
	ck_assert_int_eq(render(NULL, "patches:\n- target: {kind: Nothing}\n  patch: |-\n"
	                              "    - {op: remove, path: /x}\n"),
	                 0);
}
END_TEST

START_TEST(smp_matching_several)
{
	put("d.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: a}\n---\n"
	              "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: b}\n");
	ck_assert_int_eq(render(NULL, "patches:\n- patch: |-\n    apiVersion: v1\n"
	                              "    kind: ConfigMap\n    metadata: {name: c}\n"),
	                 CAIRN_EINVAL);
	ck_assert_error_contains("strategic merge patch ConfigMap 'c' matches 2 objects");
	/* naming the namespace picks one */
	ck_assert_int_eq(render(NULL,
	                        "patches:\n- patch: |-\n    apiVersion: v1\n"
	                        "    kind: ConfigMap\n    metadata: {name: c, namespace: b}\n"),
	                 0);
}
END_TEST

START_TEST(bad_target_regex)
{
	ck_assert_int_eq(render(NULL, "patches:\n- target: {name: 'w(eb'}\n  patch: |-\n"
	                              "    - {op: remove, path: /x}\n"),
	                 CAIRN_EINVAL);
	ck_assert_error_contains("target name 'w(eb' is not a valid regular expression");
	ck_assert_error_contains("kustomization.yaml");
	ck_assert_int_eq(render(NULL, "patches:\n- target: {labelSelector: 'a in x'}\n"
	                              "  patch: |-\n    - {op: remove, path: /x}\n"),
	                 CAIRN_EINVAL);
	ck_assert_error_contains("bad selector 'a in x'");
}
END_TEST

START_TEST(malformed_entries)
{
	ck_assert_int_eq(render(NULL, "patches:\n- patch: |-\n    - {op: remove, path: /x}\n"),
	                 CAIRN_EINVAL);
	ck_assert_error_contains("a JSON patch needs a target");
	ck_assert_int_eq(render(NULL, "patches:\n- target: {kind: Deployment}\n"), CAIRN_EINVAL);
	ck_assert_error_contains("exactly one of 'path' and 'patch'");
	ck_assert_int_eq(render(NULL, "patches:\n- path: missing.yaml\n"), CAIRN_ENOTFOUND);
	ck_assert_error_contains("patch 'missing.yaml'");
	ck_assert_int_eq(render(NULL, "patches:\n- path: ../../etc/passwd\n"), CAIRN_EPERM);
	ck_assert_error_contains("leaves the root");
	ck_assert_int_eq(render(NULL, "patches:\n- path: p.yaml\n  options: "
	                              "{allowNameChange: true}\n"),
	                 CAIRN_EUNSUPPORTED);
	ck_assert_error_contains("patch option 'allowNameChange'");
	ck_assert_int_eq(render(NULL, "patchesJson6902:\n- patch: '[]'\n"), CAIRN_EINVAL);
	ck_assert_error_contains("patchesJson6902[0] has no target");
	ck_assert_int_eq(render(NULL, "patches:\n- patch: |-\n    apiVersion: apps/v1\n"
	                              "    kind: Deployment\n    metadata: {name: web}\n"
	                              "    $setElementOrder/x: []\n"),
	                 CAIRN_EUNSUPPORTED);
	ck_assert_error_contains("directive '$setElementOrder/x'");
	put("d.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
	              "  containers: [{image: nameless}]\n");
	ck_assert_int_eq(render(NULL, "patches:\n- patch: |-\n    apiVersion: v1\n    kind: Pod\n"
	                              "    metadata: {name: p}\n    spec:\n"
	                              "      containers: [{name: a, image: b}]\n"),
	                 CAIRN_EUNSUPPORTED);
	ck_assert_error_contains("patching Pod 'p' (kustomization.yaml): list 'containers' has an "
	                         "element without merge key 'name'");
}
END_TEST

/* A Deployment's first container after the patch `rest`. */
static json_t *first_container(json_t *objs)
{
	json_t *d = json_array_get(objs, 0);
	json_t *spec =
	        json_object_get(json_object_get(json_object_get(d, "spec"), "template"), "spec");
	return json_array_get(json_object_get(spec, "containers"), 0);
}

START_TEST(smp_results)
{
	json_t *objs = NULL, *c;

	/* new list elements by merge key come first, in the patch's order */
	ck_assert_int_eq(render(&objs, "patches:\n- patch: |-\n    apiVersion: apps/v1\n"
	                               "    kind: Deployment\n    metadata: {name: web}\n"
	                               "    spec:\n      replicas: null\n      template:\n"
	                               "        spec:\n          containers:\n"
	                               "          - {name: side, image: s}\n"
	                               "          - {name: app, args: [x]}\n"),
	                 0);
	c = first_container(objs);
	ck_assert_str_eq(json_string_value(json_object_get(c, "name")), "side");
	ck_assert_ptr_null(
	        json_object_get(json_object_get(json_array_get(objs, 0), "spec"), "replicas"));
	json_decref(objs);
	/* the patch merged into its counterpart keeps the other fields */
	ck_assert_int_eq(render(&objs,
	                        "patches:\n- target: {name: w.*}\n  patch: |-\n"
	                        "    apiVersion: apps/v1\n    kind: Deployment\n"
	                        "    metadata: {name: renamed-by-nothing}\n"
	                        "    spec:\n      template:\n        spec:\n"
	                        "          containers:\n          - {name: app, args: [x]}\n"),
	                 0);
	c = first_container(objs);
	ck_assert_str_eq(json_string_value(json_object_get(c, "image")), "a");
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(c, "args"), 0)), "x");
	ck_assert_str_eq(json_string_value(json_object_get(
	                         json_object_get(json_array_get(objs, 0), "metadata"), "name")),
	                 "web");
	json_decref(objs);
}
END_TEST

void render_patch_tests(Suite *s)
{
	TCase *tc = tcase_create("patch");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, unknown_op);
	tcase_add_test(tc, pointer_to_nothing);
	tcase_add_test(tc, smp_matching_nothing);
	tcase_add_test(tc, smp_matching_several);
	tcase_add_test(tc, bad_target_regex);
	tcase_add_test(tc, malformed_entries);
	tcase_add_test(tc, smp_results);
	suite_add_tcase(s, tc);
}
