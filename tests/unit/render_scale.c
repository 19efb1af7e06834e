/*
 * render_scale.c - the renderer's indexed paths (duplicate ids, name
 * references, patch targets, output order) over sets of a few hundred
 * objects, where a wrong hash or a stale index would show: duplicates found
 * however far apart, ids that differ only by group, namespace or kind kept
 * apart, every reference resolved to its own object, ambiguity refused.
 */
#include <sys/stat.h>
#include <unistd.h>

#include "cairn/error.h"
#include "cairn/render.h"
#include "render_tests.h"

#define N 300

static char tmp[64];

static void put(const char *rel, const char *text)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	if (strchr(rel, '/') != NULL) {
		char d[256];
		snprintf(d, sizeof(d), "%s", p);
		*strrchr(d, '/') = '\0';
		mkdir(d, 0755);
	}
	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* N ConfigMaps conf0..conf{N-1} (namespace `ns` unless NULL) in file rel. */
static void put_configmaps(const char *rel, const char *ns)
{
	size_t cap = (size_t)N * 128, len = 0;
	char *text = malloc(cap);

	ck_assert_ptr_nonnull(text);
	for (int i = 0; i < N; i++)
		len += (size_t)snprintf(
		        text + len, cap - len,
		        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: conf%d\n"
		        "%s%s%sdata: {k: v%d}\n---\n",
		        i, ns ? "  namespace: " : "", ns ? ns : "", ns ? "\n" : "", i);
	put(rel, text);
	free(text);
}

static void setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/cairn-scale-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	ck_assert_int_eq(system(cmd), 0);
}

/* Render `dir`: the objects on success (caller frees), NULL with rc set. */
static json_t *render(const char *dir, int *rc)
{
	cairn_tree *t = NULL;
	json_t *objs = NULL;

	ck_assert_int_eq(cairn_tree_open_dir(&t, tmp), 0);
	*rc = cairn_render_kustomize(&objs, t, dir);
	cairn_tree_free(t);
	return objs;
}

/* The string at a slash-separated path (digits index lists), or NULL. */
static const char *at_path(const json_t *o, const char *path)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *tok = strtok_r(buf, "/", &save); tok; tok = strtok_r(NULL, "/", &save))
		o = json_is_array(o) ? json_array_get(o, (size_t)atoi(tok))
		                     : json_object_get(o, tok);
	return json_string_value(o);
}

static const char *str_at(const json_t *o, const char *a, const char *b)
{
	return json_string_value(json_object_get(json_object_get(o, a), b));
}

START_TEST(duplicate_far_apart_refused)
{
	int rc;

	put_configmaps("many.yaml", NULL);
	put("last.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: conf7\n");
	put("kustomization.yaml", "resources: [many.yaml, last.yaml]\n");
	ck_assert_ptr_null(render("", &rc));
	ck_assert_int_eq(rc, CAIRN_EINVAL);
	ck_assert_error_contains("duplicate object ConfigMap 'conf7', in kustomization.yaml");
}
END_TEST

/* Same names, told apart by namespace, kind or API group only. */
START_TEST(ids_differing_in_one_part_kept)
{
	json_t *objs;
	int rc;

	put_configmaps("a.yaml", "a");
	put_configmaps("b.yaml", "b");
	put("other.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: conf1\n---\n"
	                  "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n---\n"
	                  "apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata:\n"
	                  "  name: d\n");
	put("kustomization.yaml", "resources: [a.yaml, b.yaml, other.yaml]\n");
	objs = render("", &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(json_array_size(objs), 2 * N + 3);
	json_decref(objs);
	/* apps/v1 and apps/v1beta1 are one group: a duplicate */
	put("other.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n---\n"
	                  "apiVersion: apps/v1beta1\nkind: Deployment\nmetadata:\n  name: d\n");
	ck_assert_ptr_null(render("", &rc));
	ck_assert_int_eq(rc, CAIRN_EINVAL);
	ck_assert_error_contains("duplicate object Deployment 'd'");
}
END_TEST

/* A nested kustomization's objects, then a file duplicating one of them;
 * and a component adding one its parent already has. */
START_TEST(duplicate_across_levels_refused)
{
	int rc;

	put_configmaps("base/cm.yaml", NULL);
	put("base/kustomization.yaml", "resources: [cm.yaml]\n");
	put("dup.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: conf299\n");
	put("kustomization.yaml", "resources: [base, dup.yaml]\n");
	ck_assert_ptr_null(render("", &rc));
	ck_assert_int_eq(rc, CAIRN_EINVAL);
	ck_assert_error_contains("duplicate object ConfigMap 'conf299'");
	put("comp/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1alpha1\n"
	                               "kind: Component\nresources: [../dup.yaml]\n");
	put("kustomization.yaml", "resources: [base]\ncomponents: [comp]\n");
	ck_assert_ptr_null(render("", &rc));
	ck_assert_int_eq(rc, CAIRN_EINVAL);
	ck_assert_error_contains(
	        "duplicate object ConfigMap 'conf299', in comp/kustomization.yaml");
}
END_TEST

/* Each of N Deployments refers to its own ConfigMap, which a prefix
 * renames; the output is in kustomize's order (ConfigMaps, then
 * Deployments, each by name). */
START_TEST(references_resolved_each_to_its_own)
{
	size_t cap = (size_t)N * 256, len = 0;
	char *text = malloc(cap);
	json_t *objs;
	int rc;

	ck_assert_ptr_nonnull(text);
	for (int i = 0; i < N; i++)
		len += (size_t)snprintf(text + len, cap - len,
		                        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
		                        "  name: app%d\nspec:\n  template:\n    spec:\n"
		                        "      containers:\n      - name: c\n        envFrom:\n"
		                        "        - configMapRef: {name: conf%d}\n---\n",
		                        i, (i * 7) % N);
	put("base/d.yaml", text);
	free(text);
	put_configmaps("base/cm.yaml", NULL);
	put("base/kustomization.yaml", "resources: [d.yaml, cm.yaml]\n");
	put("kustomization.yaml", "resources: [base]\nnamePrefix: p-\n");
	objs = render("", &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(json_array_size(objs), 2 * N);
	for (size_t i = 0; i < json_array_size(objs); i++) {
		const json_t *o = json_array_get(objs, i);
		const char *kind = json_string_value(json_object_get(o, "kind"));
		const char *name = str_at(o, "metadata", "name");
		char want[64];
		int k;
		ck_assert_str_eq(kind, i < N ? "ConfigMap" : "Deployment");
		if (i > 0 && i != N)
			ck_assert_int_lt(
			        strcmp(str_at(json_array_get(objs, i - 1), "metadata", "name"),
			               name),
			        0);
		if (i < N)
			continue;
		ck_assert_int_eq(sscanf(name, "p-app%d", &k), 1);
		snprintf(want, sizeof(want), "p-conf%d", (k * 7) % N);
		ck_assert_str_eq(at_path(o, "spec/template/spec/containers/0/envFrom/0/"
		                            "configMapRef/name"),
		                 want);
	}
	json_decref(objs);
}
END_TEST

/* Two bases rename their own ConfigMap 'shared'; a Deployment naming
 * 'shared' cannot tell which one it means. */
START_TEST(ambiguous_reference_refused)
{
	int rc;

	put("a/kustomization.yaml", "resources: [../cm.yaml]\nnamePrefix: a-\n");
	put("b/kustomization.yaml", "resources: [../cm.yaml]\nnamePrefix: b-\n");
	put("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\n");
	put("d.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n"
	              "  template:\n    spec:\n      containers:\n      - name: c\n"
	              "        envFrom:\n        - configMapRef: {name: shared}\n");
	put("kustomization.yaml", "resources: [a, b, d.yaml]\n");
	ck_assert_ptr_null(render("", &rc));
	ck_assert_int_eq(rc, CAIRN_EINVAL);
	ck_assert_error_contains("ConfigMap name 'shared' refers to several objects");
}
END_TEST

/* A patch without target finds its one object among many, by the name
 * it had before a prefix; one naming nothing is refused. */
START_TEST(patch_finds_its_object)
{
	json_t *objs, *o;
	int rc;

	put_configmaps("base/cm.yaml", NULL);
	put("base/kustomization.yaml", "resources: [cm.yaml]\nnamePrefix: p-\n");
	put("patch.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: conf150\n"
	                  "data: {k: patched}\n");
	put("kustomization.yaml", "resources: [base]\npatches:\n- path: patch.yaml\n");
	objs = render("", &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(json_array_size(objs), N);
	for (size_t i = 0; i < json_array_size(objs); i++) {
		char want[32];
		int k;
		o = json_array_get(objs, i);
		ck_assert_int_eq(sscanf(str_at(o, "metadata", "name"), "p-conf%d", &k), 1);
		snprintf(want, sizeof(want), "v%d", k);
		ck_assert_str_eq(str_at(o, "data", "k"), k == 150 ? "patched" : want);
	}
	json_decref(objs);
	put("patch.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: conf150\n");
	ck_assert_ptr_null(render("", &rc));
	ck_assert_int_eq(rc, CAIRN_ENOTFOUND);
	ck_assert_error_contains("no resource matches strategic merge patch Secret 'conf150'");
}
END_TEST

/* Patches of one list after a deletion (positions shift) and after a
 * JSON patch that changes a kind: each later SMP still finds its object. */
START_TEST(patch_after_delete_and_json_patch)
{
	json_t *objs;
	int rc, seen = 0;

	put_configmaps("cm.yaml", NULL);
	put("kustomization.yaml",
	    "resources: [cm.yaml]\npatches:\n"
	    "- patch: '{apiVersion: v1, kind: ConfigMap, metadata: {name: conf1}, data: {k: p1}}'\n"
	    "- patch: '{apiVersion: v1, kind: ConfigMap, metadata: {name: conf2}, "
	    "$patch: delete}'\n"
	    "- patch: '{apiVersion: v1, kind: ConfigMap, metadata: {name: conf3}, data: {k: p3}}'\n"
	    "- target: {name: conf5}\n"
	    "  patch: '[{op: replace, path: /kind, value: Secret}]'\n"
	    "- patch: '{apiVersion: v1, kind: Secret, metadata: {name: conf5}, data: {k: p5}}'\n");
	objs = render("", &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(json_array_size(objs), N - 1);
	for (size_t i = 0; i < json_array_size(objs); i++) {
		const json_t *o = json_array_get(objs, i);
		const char *name = str_at(o, "metadata", "name"), *k = str_at(o, "data", "k");
		ck_assert_str_ne(name, "conf2");
		if (strcmp(name, "conf1") == 0 || strcmp(name, "conf3") == 0 ||
		    strcmp(name, "conf5") == 0) {
			ck_assert_int_eq(k[0], 'p');
			ck_assert_str_eq(k + 1, name + 4);
			seen++;
		} else {
			ck_assert_int_eq(k[0], 'v');
		}
	}
	ck_assert_int_eq(seen, 3);
	json_decref(objs);
}
END_TEST

void render_scale_tests(Suite *s)
{
	TCase *tc = tcase_create("scale");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, duplicate_far_apart_refused);
	tcase_add_test(tc, ids_differing_in_one_part_kept);
	tcase_add_test(tc, duplicate_across_levels_refused);
	tcase_add_test(tc, references_resolved_each_to_its_own);
	tcase_add_test(tc, ambiguous_reference_refused);
	tcase_add_test(tc, patch_finds_its_object);
	tcase_add_test(tc, patch_after_delete_and_json_patch);
	suite_add_tcase(s, tc);
}
