/*
 * render_refuse.c - what the native renderer must refuse, each with the
 * error code and a message naming the field or path and the file.
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

static void setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/cairn-refuse-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	put("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n");
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	ck_assert_int_eq(system(cmd), 0);
}

/* Render `dir` of the temp tree and expect error `code`. */
static void expect(const char *dir, int code)
{
	cairn_tree *t = NULL;
	json_t *objs = NULL;

	ck_assert_int_eq(cairn_tree_open_dir(&t, tmp), 0);
	ck_assert_int_eq(cairn_render_kustomize(&objs, t, dir), code);
	ck_assert_ptr_null(objs);
	cairn_tree_free(t);
}

START_TEST(unsupported_field_named)
{
	put("kustomization.yaml", "resources: [cm.yaml]\nreplacements:\n- path: r.yaml\n");
	expect("", CAIRN_EUNSUPPORTED);
	ck_assert_error_contains("field 'replacements'");
	ck_assert_error_contains("kustomization.yaml");
}
END_TEST

START_TEST(helm_charts_refused)
{
	put("kustomization.yml", "helmCharts:\n- name: g\n  repo: https://example.com\n");
	expect("", CAIRN_EUNSUPPORTED);
	ck_assert_error_contains("'helmCharts'");
	ck_assert_error_contains("kustomization.yml");
}
END_TEST

/* A Component is rendered only through a parent's `components`, and a
 * parent's `components` must name Components. */
START_TEST(component_misplaced_refused)
{
	put("Kustomization", "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n");
	expect("", CAIRN_EINVAL);
	ck_assert_error_contains("a Component can only be listed in 'components'");
	put("p/kustomization.yaml", "resources: [../cm.yaml]\ncomponents: [../q]\n");
	put("q/kustomization.yaml", "resources: [../cm.yaml]\n");
	expect("p", CAIRN_EINVAL);
	ck_assert_error_contains("a component must have kind Component, in q/kustomization.yaml");
}
END_TEST

START_TEST(remote_resource_refused)
{
	put("kustomization.yaml", "resources:\n- https://example.com/x.yaml\n");
	expect("", CAIRN_EUNSUPPORTED);
	ck_assert_error_contains("remote resource 'https://example.com/x.yaml'");
}
END_TEST

START_TEST(escape_refused)
{
	put("o/kustomization.yaml", "resources:\n- ../../etc/passwd\n");
	expect("o", CAIRN_EPERM);
	ck_assert_error_contains("'../../etc/passwd'");
	put("o/kustomization.yaml", "resources:\n- /etc/passwd\n");
	expect("o", CAIRN_EPERM);
	ck_assert_error_contains("absolute path '/etc/passwd'");
}
END_TEST

START_TEST(symlink_escape_refused)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/out.yaml", tmp);
	ck_assert_int_eq(symlink("/etc/hostname", p), 0);
	put("kustomization.yaml", "resources: [out.yaml]\n");
	expect("", CAIRN_EPERM);
	ck_assert_error_contains("out.yaml");
}
END_TEST

START_TEST(cycle_refused)
{
	put("a/kustomization.yaml", "resources: [../b]\n");
	put("b/kustomization.yaml", "resources: [../a]\n");
	expect("a", CAIRN_EINVAL);
	ck_assert_error_contains("cycle of kustomizations through 'a'");
}
END_TEST

START_TEST(duplicate_refused)
{
	put("kustomization.yaml", "resources: [cm.yaml, cm.yaml]\n");
	expect("", CAIRN_EINVAL);
	ck_assert_error_contains("duplicate object ConfigMap 'c'");
}
END_TEST

START_TEST(missing_kustomization)
{
	put("d/x.yaml", "a: 1\n");
	expect("d", CAIRN_ENOTFOUND);
	ck_assert_error_contains("no kustomization file in directory 'd'");
}
END_TEST

START_TEST(namespace_rbac_refused)
{
	put("rb.yaml", "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\n"
	               "metadata: {name: rb}\nsubjects:\n- {kind: ServiceAccount, name: x}\n"
	               "roleRef: {kind: Role, name: r, apiGroup: rbac.authorization.k8s.io}\n");
	put("kustomization.yaml", "resources: [rb.yaml]\nnamespace: prod\n");
	expect("", CAIRN_EUNSUPPORTED);
	ck_assert_error_contains("RoleBinding ('rb')");
}
END_TEST

START_TEST(image_field_refused)
{
	put("kustomization.yaml", "resources: [cm.yaml]\nimages:\n- name: a\n  tagSuffix: x\n");
	expect("", CAIRN_EUNSUPPORTED);
	ck_assert_error_contains("images[0].tagSuffix");
}
END_TEST

START_TEST(label_fields_refused)
{
	put("kustomization.yaml", "resources: [cm.yaml]\nlabels:\n- pairs: {a: b}\n  fields:\n"
	                          "  - path: spec/x\n");
	expect("", CAIRN_EUNSUPPORTED);
	ck_assert_error_contains("labels[0].fields");
}
END_TEST

START_TEST(bad_values)
{
	put("kustomization.yaml", "resources: [cm.yaml]\ncommonLabels: {a: 1}\n");
	expect("", CAIRN_EINVAL);
	ck_assert_error_contains("value of 'a' is not a string");
	put("kustomization.yaml", "resources: [cm.yaml]\nreplicas:\n- name: x\n  count: '3'\n");
	expect("", CAIRN_EINVAL);
	ck_assert_error_contains("replicas[0]");
}
END_TEST

void render_refuse_tests(Suite *s)
{
	TCase *tc = tcase_create("refuse");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, unsupported_field_named);
	tcase_add_test(tc, helm_charts_refused);
	tcase_add_test(tc, component_misplaced_refused);
	tcase_add_test(tc, remote_resource_refused);
	tcase_add_test(tc, escape_refused);
	tcase_add_test(tc, symlink_escape_refused);
	tcase_add_test(tc, cycle_refused);
	tcase_add_test(tc, duplicate_refused);
	tcase_add_test(tc, missing_kustomization);
	tcase_add_test(tc, namespace_rbac_refused);
	tcase_add_test(tc, image_field_refused);
	tcase_add_test(tc, label_fields_refused);
	tcase_add_test(tc, bad_values);
	suite_add_tcase(s, tc);
}
