/* core_validate.c - schema findings, the file walk, List flattening and the
 * places of findings, on fixtures under tests/unit/data/validate and the
 * Kubernetes v1.28 documents read in place. */
#include <jansson.h>

#include "cairn/error.h"
#include "cairn/schema.h"
#include "cairn/validate.h"
#include "testutil.h"

/* The finding whose pointer is `pointer`, or NULL. */
static const cairn_finding *find_ptr(const cairn_validation *v, size_t doc, const char *pointer)
{
	for (size_t i = 0; i < v->count; i++)
		if (v->findings[i].document == doc && v->findings[i].pointer &&
		    strcmp(v->findings[i].pointer, pointer) == 0)
			return &v->findings[i];
	return NULL;
}

static void assert_finding(const cairn_validation *v, size_t doc, const char *pointer,
                           const char *needle)
{
	const cairn_finding *f = find_ptr(v, doc, pointer);

	ck_assert_msg(f != NULL, "no finding at '%s' in document %zu", pointer, doc);
	ck_assert_msg(strstr(f->message, needle) != NULL, "finding at '%s' says '%s', not '%s'",
	              pointer, f->message, needle);
}

static void validate_fixture(cairn_validation *v, const char *rel, const cairn_validate_opts *opts)
{
	char path[4096];
	const char *paths[1] = {test_data_path(path, sizeof(path), rel)};

	cairn_validation_init(v);
	ck_assert_int_eq(cairn_validate_paths(v, paths, 1, opts), 0);
}

static cairn_schema_set *load_set(const char *dir)
{
	cairn_schema_set *set = NULL;
	int rc = cairn_schema_set_load(&set, dir);

	ck_assert_msg(rc == 0, "loading schemas from %s: %s", dir, cairn_error_last()->message);
	return set;
}

START_TEST(test_walk_tree)
{
	cairn_validation v;

	validate_fixture(&v, "validate/tree", NULL);
	/* a.yaml, sub/broken.yml, sub/c.json: not the .txt, not .hidden/ */
	ck_assert_uint_eq(v.files, 3);
	ck_assert_uint_eq(v.objects, 3);
	ck_assert_uint_eq(v.count, 2);
	ck_assert_ptr_nonnull(strstr(v.findings[0].file, "tree/sub/broken.yml"));
	ck_assert_ptr_null(v.findings[0].pointer);
	ck_assert_int_gt(v.findings[0].line, 0);
	ck_assert_int_gt(v.findings[0].column, 0);
	ck_assert_ptr_nonnull(strstr(v.findings[1].file, "tree/sub/c.json"));
	ck_assert_str_eq(v.findings[1].pointer, "/metadata/name");
	ck_assert_ptr_nonnull(
	        strstr(v.findings[1].message, "'Not_Valid' is not valid for a Namespace"));
	ck_assert_int_eq(v.findings[1].line, 1);
	ck_assert_uint_eq(v.errors, 2);
	cairn_validation_dispose(&v);
}
END_TEST

START_TEST(test_missing_path)
{
	cairn_validation v;
	const char *paths[1] = {"/nonexistent/cairn-test.yaml"};

	cairn_validation_init(&v);
	ck_assert_int_eq(cairn_validate_paths(&v, paths, 1, NULL), 0);
	ck_assert_uint_eq(v.count, 1);
	ck_assert_int_eq(v.findings[0].line, 0);
	ck_assert_ptr_nonnull(strstr(v.findings[0].message, "No such file"));
	cairn_validation_dispose(&v);
}
END_TEST

START_TEST(test_list_flattening)
{
	cairn_validation v;

	validate_fixture(&v, "validate/list.yaml", NULL);
	ck_assert_uint_eq(v.objects, 2);
	ck_assert_uint_eq(v.count, 1);
	assert_finding(&v, 0, "/items/1/metadata/name", "'Bad_Name' is not valid for a ConfigMap");
	/* "    name: Bad_Name" is line 11 */
	ck_assert_int_eq(v.findings[0].line, 11);
	cairn_validation_dispose(&v);
}
END_TEST

START_TEST(test_bytes_and_yaml_error)
{
	static const char good[] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n";
	static const char bad[] = "apiVersion: v1\nkind: [\n";
	cairn_validation v;

	cairn_validation_init(&v);
	ck_assert_int_eq(cairn_validate_bytes(&v, good, sizeof(good) - 1, "good.yaml", NULL), 0);
	ck_assert_uint_eq(v.count, 0);
	ck_assert_int_eq(cairn_validate_bytes(&v, bad, sizeof(bad) - 1, "bad.yaml", NULL), 0);
	ck_assert_uint_eq(v.files, 2);
	ck_assert_uint_eq(v.objects, 1);
	ck_assert_uint_eq(v.count, 1);
	ck_assert_str_eq(v.findings[0].file, "bad.yaml");
	ck_assert_int_ge(v.findings[0].line, 2);
	cairn_validation_dispose(&v);
}
END_TEST

START_TEST(test_text_and_json_output)
{
	static const char doc[] = "apiVersion: v1\nkind: Service\nmetadata:\n  name: 9x\n";
	cairn_buf out = CAIRN_BUF_INIT(0);
	cairn_validation v;
	json_t *j = NULL, *f;

	cairn_validation_init(&v);
	ck_assert_int_eq(cairn_validate_bytes(&v, doc, sizeof(doc) - 1, "s.yaml", NULL), 0);
	ck_assert_int_eq(cairn_validation_write_text(&out, &v), 0);
	ck_assert_msg(strncmp(out.ptr, "s.yaml:4:", 9) == 0, "text was '%s'", out.ptr);
	ck_assert_ptr_nonnull(strstr(out.ptr, ": metadata.name '9x' is not valid for a Service"));
	ck_assert_int_eq(cairn_validation_to_json(&j, &v), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "files")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "objects")), 1);
	f = json_array_get(json_object_get(j, "findings"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(f, "file")), "s.yaml");
	ck_assert_int_eq(json_integer_value(json_object_get(f, "line")), 4);
	ck_assert_str_eq(json_string_value(json_object_get(f, "severity")), "error");
	ck_assert_str_eq(json_string_value(json_object_get(f, "pointer")), "/metadata/name");
	json_decref(j);
	cairn_buf_dispose(&out);
	cairn_validation_dispose(&v);
}
END_TEST

START_TEST(test_schema_v3_findings)
{
	char dir[4096];
	cairn_schema_set *set = load_set(test_data_path(dir, sizeof(dir), "validate/schemas"));
	cairn_validate_opts opts = CAIRN_VALIDATE_OPTS_INIT;
	cairn_validation v;

	opts.schemas = set;
	validate_fixture(&v, "validate/widgets.yaml", &opts);
	ck_assert_uint_eq(v.objects, 4);
	ck_assert_ptr_null(find_ptr(&v, 0, "/spec/color")); /* the good one has none */
	assert_finding(&v, 1, "/spec/color",
	               "unsupported value 'green' for field 'spec.color': expected one of 'red', "
	               "'blue'");
	assert_finding(&v, 1, "/spec/port",
	               "wrong type for field 'spec.port': expected an integer or a string, got a "
	               "list");
	assert_finding(&v, 1, "/spec/size", "of field 'spec.size' is out of range");
	assert_finding(&v, 1, "/spec/ratio",
	               "wrong type for field 'spec.ratio': expected a number, got a string");
	assert_finding(&v, 1, "/spec/enabled",
	               "wrong type for field 'spec.enabled': expected a boolean, got a string");
	assert_finding(&v, 1, "/spec/tags/1", "wrong type for field 'spec.tags[1]'");
	assert_finding(&v, 1, "/spec/env/A",
	               "wrong type for field 'spec.env.A': expected a string, got an integer");
	assert_finding(&v, 1, "/spec/extra", "unknown field 'spec.extra'");
	assert_finding(&v, 2, "", "missing required field 'spec'");
	assert_finding(&v, 3, "",
	               "could not find schema for kind 'Gadget' of apiVersion "
	               "'example.com/v1'");
	ck_assert_uint_eq(v.count, 10);
	/* the unknown field is placed on its own line: "  extra: 1" is line 27 */
	ck_assert_int_eq(find_ptr(&v, 1, "/spec/extra")->line, 27);
	cairn_validation_dispose(&v);

	opts.ignore_missing_schemas = 1;
	validate_fixture(&v, "validate/widgets.yaml", &opts);
	ck_assert_uint_eq(v.count, 9);
	ck_assert_ptr_null(find_ptr(&v, 3, ""));
	cairn_validation_dispose(&v);
	cairn_schema_set_free(set);
}
END_TEST

START_TEST(test_schema_k8s_deployment)
{
	char dir[4096];
	cairn_validate_opts opts = CAIRN_VALIDATE_OPTS_INIT;
	cairn_schema_set *set;
	cairn_validation v;

	test_k8s_openapi_dir(dir, sizeof(dir));
	set = load_set(dir);
	opts.schemas = set;
	validate_fixture(&v, "validate/deploy-bad.yaml", &opts);
	assert_finding(&v, 0, "/spec/replicas",
	               "wrong type for field 'spec.replicas': expected an integer, got a string");
	assert_finding(&v, 0, "/spec/template/spec/containers/0/imagePullPolcy",
	               "unknown field 'spec.template.spec.containers[0].imagePullPolcy'");
	assert_finding(&v, 0, "/spec/template/spec/containers/0/resources/limits/cpu",
	               "invalid quantity 'lots' for field "
	               "'spec.template.spec.containers[0].resources.limits.cpu'");
	assert_finding(&v, 0, "/spec/template/spec/containers/1",
	               "missing required field 'spec.template.spec.containers[1].name'");
	ck_assert_uint_eq(v.count, 4);
	ck_assert_int_eq(find_ptr(&v, 0, "/spec/replicas")->line, 6);
	ck_assert_int_eq(find_ptr(&v, 0, "/spec/template/spec/containers/0/imagePullPolcy")->line,
	                 20);
	cairn_validation_dispose(&v);
	cairn_schema_set_free(set);
}
END_TEST

START_TEST(test_schema_load_errors)
{
	cairn_schema_set *set = NULL;
	char dir[4096];

	ck_assert_int_eq(cairn_schema_set_load(&set, "/nonexistent/schemas"), CAIRN_ENOTFOUND);
	ck_assert_error_contains("schema directory '/nonexistent/schemas' does not exist");
	ck_assert_int_eq(
	        cairn_schema_set_load(&set, test_data_path(dir, sizeof(dir), "validate/tree")),
	        CAIRN_ENOTFOUND);
	ck_assert_error_contains("no OpenAPI document with Kubernetes kinds");
	ck_assert_ptr_null(set);
}
END_TEST

void core_validate_tests(Suite *s)
{
	TCase *tc = tcase_create("validate");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_walk_tree);
	tcase_add_test(tc, test_missing_path);
	tcase_add_test(tc, test_list_flattening);
	tcase_add_test(tc, test_bytes_and_yaml_error);
	tcase_add_test(tc, test_text_and_json_output);
	tcase_add_test(tc, test_schema_v3_findings);
	tcase_add_test(tc, test_schema_k8s_deployment);
	tcase_add_test(tc, test_schema_load_errors);
	suite_add_tcase(s, tc);
}
