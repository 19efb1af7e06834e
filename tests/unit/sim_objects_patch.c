/* sim_objects_patch.c - RFC 7386 merge patch (the RFC's appendix A table),
 * RFC 6902 JSON patch (the RFC's appendix A examples) and the directives of
 * the Kubernetes strategic merge patch. */
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "sim/objects.h"
#include "sim_objects_tests.h"

/* RFC 7386 appendix A: original, patch, result. */
static const char *const rfc7386[][3] = {
        {"{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
        {"{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}"},
        {"{\"a\":\"b\"}", "{\"a\":null}", "{}"},
        {"{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}"},
        {"{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
        {"{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}"},
        {"{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}", "{\"a\":{\"b\":\"d\"}}"},
        {"{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}"},
        {"[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]"},
        {"{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]"},
        {"{\"a\":\"foo\"}", "null", "null"},
        {"{\"a\":\"foo\"}", "\"bar\"", "\"bar\""},
        {"{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}"},
        {"[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}"},
        {"{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}"},
};

START_TEST(test_rfc7386_table)
{
	json_t *t = J(rfc7386[_i][0]), *p = J(rfc7386[_i][1]), *out = NULL;

	ck_assert_int_eq(sim_patch_merge(&out, t, p), 0);
	ck_assert_json_eq(out, rfc7386[_i][2]);
	/* the inputs are borrowed and stay as they were */
	ck_assert_json_eq(t, rfc7386[_i][0]);
	json_decref(t);
	json_decref(p);
	json_decref(out);
}
END_TEST

/* RFC 6902 appendix A: target, operations, result (NULL: the patch fails
 * and the message must contain the fourth column). */
static const char *const rfc6902[][4] = {
        /* A.1 */
        {"{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\"}]",
         "{\"baz\":\"qux\",\"foo\":\"bar\"}", NULL},
        /* A.2 */
        {"{\"foo\":[\"bar\",\"baz\"]}", "[{\"op\":\"add\",\"path\":\"/foo/1\",\"value\":\"qux\"}]",
         "{\"foo\":[\"bar\",\"qux\",\"baz\"]}", NULL},
        /* A.3 */
        {"{\"baz\":\"qux\",\"foo\":\"bar\"}", "[{\"op\":\"remove\",\"path\":\"/baz\"}]",
         "{\"foo\":\"bar\"}", NULL},
        /* A.4 */
        {"{\"foo\":[\"bar\",\"qux\",\"baz\"]}", "[{\"op\":\"remove\",\"path\":\"/foo/1\"}]",
         "{\"foo\":[\"bar\",\"baz\"]}", NULL},
        /* A.5 */
        {"{\"baz\":\"qux\",\"foo\":\"bar\"}",
         "[{\"op\":\"replace\",\"path\":\"/baz\",\"value\":\"boo\"}]",
         "{\"baz\":\"boo\",\"foo\":\"bar\"}", NULL},
        /* A.6 */
        {"{\"foo\":{\"bar\":\"baz\",\"waldo\":\"fred\"},\"qux\":{\"corge\":\"grault\"}}",
         "[{\"op\":\"move\",\"from\":\"/foo/waldo\",\"path\":\"/qux/thud\"}]",
         "{\"foo\":{\"bar\":\"baz\"},\"qux\":{\"corge\":\"grault\",\"thud\":\"fred\"}}", NULL},
        /* A.7 */
        {"{\"foo\":[\"all\",\"grass\",\"cows\",\"eat\"]}",
         "[{\"op\":\"move\",\"from\":\"/foo/1\",\"path\":\"/foo/3\"}]",
         "{\"foo\":[\"all\",\"cows\",\"eat\",\"grass\"]}", NULL},
        /* A.8 */
        {"{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}",
         "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"qux\"},"
         "{\"op\":\"test\",\"path\":\"/foo/1\",\"value\":2}]",
         "{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}", NULL},
        /* A.9 */
        {"{\"baz\":\"qux\"}", "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"bar\"}]", NULL,
         "JSON patch operation 0: test failed: value at '/baz' differs"},
        /* A.10 */
        {"{\"foo\":\"bar\"}",
         "[{\"op\":\"add\",\"path\":\"/child\",\"value\":{\"grandchild\":{}}}]",
         "{\"foo\":\"bar\",\"child\":{\"grandchild\":{}}}", NULL},
        /* A.11 */
        {"{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\",\"xyz\":123}]",
         "{\"foo\":\"bar\",\"baz\":\"qux\"}", NULL},
        /* A.12 */
        {"{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz/bat\",\"value\":\"qux\"}]", NULL,
         "path '/baz/bat' does not exist"},
        /* A.14 */
        {"{\"/\":9,\"~1\":10}", "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":10}]",
         "{\"/\":9,\"~1\":10}", NULL},
        /* A.15 */
        {"{\"/\":9,\"~1\":10}", "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":\"10\"}]", NULL,
         "test failed"},
        /* A.16 */
        {"{\"foo\":[\"bar\"]}",
         "[{\"op\":\"add\",\"path\":\"/foo/-\",\"value\":[\"abc\",\"def\"]}]",
         "{\"foo\":[\"bar\",[\"abc\",\"def\"]]}", NULL},
        /* beyond the appendix: copy, whole-document replace, bad ops */
        {"{\"a\":{\"b\":1}}", "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/c\"}]",
         "{\"a\":{\"b\":1},\"c\":{\"b\":1}}", NULL},
        {"{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"\",\"value\":[1]}]", "[1]", NULL},
        {"{\"a\":1}", "[{\"op\":\"frobnicate\",\"path\":\"/a\"}]", NULL,
         "unknown operation 'frobnicate'"},
        {"{\"a\":[1]}", "[{\"op\":\"add\",\"path\":\"/a/01\",\"value\":2}]", NULL,
         "'01' is not an array index"},
        {"{\"a\":[1]}", "[{\"op\":\"remove\",\"path\":\"/a/1\"}]", NULL,
         "path '/a/1' does not exist"},
        {"{\"a\":{\"b\":{}}}", "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a/b/c\"}]", NULL,
         "cannot move '/a' into its own child '/a/b/c'"},
        /* all or nothing: the first op is undone when the second fails */
        {"{\"a\":1}",
         "[{\"op\":\"add\",\"path\":\"/b\",\"value\":2},{\"op\":\"remove\",\"path\":\"/zz\"}]",
         NULL, "JSON patch operation 1: path '/zz' does not exist"},
};

START_TEST(test_rfc6902_examples)
{
	json_t *t = J(rfc6902[_i][0]), *ops = J(rfc6902[_i][1]), *out = NULL;
	int rc = sim_patch_json(&out, t, ops);

	if (rfc6902[_i][2]) {
		ck_assert_msg(rc == 0, "case %d: %s", _i, cairn_error_last()->message);
		ck_assert_json_eq(out, rfc6902[_i][2]);
	} else {
		ck_assert_int_eq(rc, CAIRN_EINVAL);
		ck_assert_ptr_null(out);
		ck_assert_error_contains(rfc6902[_i][3]);
	}
	ck_assert_json_eq(t, rfc6902[_i][0]);
	json_decref(t);
	json_decref(ops);
	json_decref(out);
}
END_TEST

static const char *const deployment =
        "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
        "\"metadata\":{\"name\":\"web\",\"labels\":{\"app\":\"web\",\"tier\":\"front\"},"
        "\"finalizers\":[\"a\",\"b\",\"c\"]},"
        "\"spec\":{\"replicas\":2,"
        "\"strategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"maxSurge\":1}},"
        "\"template\":{\"spec\":{\"securityContext\":{\"runAsUser\":1},\"containers\":["
        "{\"name\":\"web\",\"image\":\"nginx:1\",\"args\":[\"-a\",\"-b\"],"
        "\"env\":[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"B\",\"value\":\"2\"}]},"
        "{\"name\":\"side\",\"image\":\"busybox\"}]}}}}";

/* Strategic merge `patch` into the deployment above; return the result. */
static json_t *smp(const char *patch)
{
	json_t *t = J(deployment), *p = J(patch), *out = NULL;

	ck_assert_msg(sim_patch_strategic(&out, t, p) == 0, "%s", cairn_error_last()->message);
	ck_assert_json_eq(t, deployment);
	json_decref(t);
	json_decref(p);
	return out;
}

static json_t *at(json_t *o, const char *a, const char *b, const char *c)
{
	json_t *v = json_object_get(json_object_get(o, a), b);

	return c ? json_object_get(v, c) : v;
}

static json_t *containers(json_t *o)
{
	return json_object_get(at(o, "spec", "template", "spec"), "containers");
}

START_TEST(test_smp_merge_by_key)
{
	json_t *o = smp("{\"spec\":{\"template\":{\"spec\":{\"containers\":["
	                "{\"name\":\"web\",\"image\":\"nginx:2\",\"env\":[{\"name\":\"B\","
	                "\"value\":\"3\"},{\"name\":\"C\",\"value\":\"4\"}]},"
	                "{\"name\":\"new\",\"image\":\"x\"}]}}}}");

	ck_assert_json_eq(
	        containers(o),
	        "[{\"name\":\"web\",\"image\":\"nginx:2\",\"args\":[\"-a\",\"-b\"],"
	        "\"env\":[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"B\",\"value\":\"3\"},"
	        "{\"name\":\"C\",\"value\":\"4\"}]},"
	        "{\"name\":\"side\",\"image\":\"busybox\"},{\"name\":\"new\",\"image\":\"x\"}]");
	json_decref(o);
}
END_TEST

START_TEST(test_smp_atomic_list_and_null)
{
	json_t *o = smp("{\"spec\":{\"replicas\":null,\"template\":{\"spec\":{\"containers\":["
	                "{\"name\":\"web\",\"args\":[\"-c\"]}]}}}}");

	ck_assert_ptr_null(json_object_get(json_object_get(o, "spec"), "replicas"));
	ck_assert_json_eq(json_object_get(json_array_get(containers(o), 0), "args"), "[\"-c\"]");
	json_decref(o);
}
END_TEST

START_TEST(test_smp_delete_item_and_map)
{
	json_t *o =
	        smp("{\"spec\":{\"template\":{\"spec\":{\"securityContext\":{\"$patch\":"
	            "\"delete\"},\"containers\":[{\"name\":\"side\",\"$patch\":\"delete\"}]}}}}");

	ck_assert_int_eq(json_array_size(containers(o)), 1);
	ck_assert_str_eq(
	        json_string_value(json_object_get(json_array_get(containers(o), 0), "name")),
	        "web");
	ck_assert_ptr_null(
	        at(o, "spec", "template", "spec")
	                ? json_object_get(at(o, "spec", "template", "spec"), "securityContext")
	                : NULL);
	json_decref(o);
}
END_TEST

START_TEST(test_smp_replace_map_and_list)
{
	json_t *o =
	        smp("{\"metadata\":{\"labels\":{\"$patch\":\"replace\",\"x\":\"1\"}},"
	            "\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"$patch\":\"replace\"},"
	            "{\"name\":\"only\",\"image\":\"i\"}]}}}}");

	ck_assert_json_eq(at(o, "metadata", "labels", NULL), "{\"x\":\"1\"}");
	ck_assert_json_eq(containers(o), "[{\"name\":\"only\",\"image\":\"i\"}]");
	json_decref(o);
}
END_TEST

START_TEST(test_smp_set_element_order)
{
	json_t *o = smp("{\"spec\":{\"template\":{\"spec\":{\"$setElementOrder/containers\":"
	                "[{\"name\":\"side\"},{\"name\":\"web\"}],"
	                "\"containers\":[{\"name\":\"web\",\"image\":\"nginx:3\"}]}}}}");

	ck_assert_str_eq(
	        json_string_value(json_object_get(json_array_get(containers(o), 0), "name")),
	        "side");
	ck_assert_str_eq(
	        json_string_value(json_object_get(json_array_get(containers(o), 1), "image")),
	        "nginx:3");
	ck_assert_ptr_null(
	        json_object_get(at(o, "spec", "template", "spec"), "$setElementOrder/containers"));
	json_decref(o);
}
END_TEST

START_TEST(test_smp_primitive_lists)
{
	/* finalizers merge as a set: new values are added, existing kept */
	json_t *o = smp("{\"metadata\":{\"finalizers\":[\"d\",\"a\"],"
	                "\"$deleteFromPrimitiveList/finalizers\":[\"b\"]}}");

	ck_assert_json_eq(at(o, "metadata", "finalizers", NULL), "[\"a\",\"c\",\"d\"]");
	json_decref(o);
}
END_TEST

START_TEST(test_smp_retain_keys)
{
	json_t *o =
	        smp("{\"spec\":{\"strategy\":{\"$retainKeys\":[\"type\"],\"type\":\"Recreate\"}}}");

	ck_assert_json_eq(at(o, "spec", "strategy", NULL), "{\"type\":\"Recreate\"}");
	json_decref(o);
}
END_TEST

START_TEST(test_smp_crd_is_merge_patch)
{
	json_t *t = J("{\"apiVersion\":\"example.com/v1\",\"kind\":\"Widget\",\"spec\":{"
	              "\"items\":[{\"name\":\"a\",\"v\":1}],\"keep\":true}}");
	json_t *p = J("{\"spec\":{\"items\":[{\"name\":\"b\"}]}}"), *out = NULL;

	ck_assert_int_eq(sim_patch_strategic(&out, t, p), 0);
	ck_assert_json_eq(json_object_get(out, "spec"),
	                  "{\"items\":[{\"name\":\"b\"}],\"keep\":true}");
	json_decref(t);
	json_decref(p);
	json_decref(out);
}
END_TEST

START_TEST(test_smp_errors)
{
	json_t *t = J(deployment), *out = NULL;
	json_t *p = J("{\"spec\":{\"strategy\":{\"$patch\":\"explode\"}}}");
	json_t *p2 = J("{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"image\":\"x\"}]}}}}");
	json_t *p3 = J("[1]");

	ck_assert_int_eq(sim_patch_strategic(&out, t, p), CAIRN_EINVAL);
	ck_assert_error_contains("unknown $patch value 'explode'");
	ck_assert_int_eq(sim_patch_strategic(&out, t, p2), CAIRN_EINVAL);
	ck_assert_error_contains("list element has no merge key 'name'");
	ck_assert_int_eq(sim_patch_strategic(&out, t, p3), CAIRN_EINVAL);
	ck_assert_error_contains("not a JSON object");
	ck_assert_ptr_null(out);
	json_decref(t);
	json_decref(p);
	json_decref(p2);
	json_decref(p3);
}
END_TEST

void sim_objects_patch_tests(Suite *s)
{
	TCase *tc = tcase_create("patch");

	tcase_add_loop_test(tc, test_rfc7386_table, 0, sizeof(rfc7386) / sizeof(rfc7386[0]));
	tcase_add_loop_test(tc, test_rfc6902_examples, 0, sizeof(rfc6902) / sizeof(rfc6902[0]));
	tcase_add_test(tc, test_smp_merge_by_key);
	tcase_add_test(tc, test_smp_atomic_list_and_null);
	tcase_add_test(tc, test_smp_delete_item_and_map);
	tcase_add_test(tc, test_smp_replace_map_and_list);
	tcase_add_test(tc, test_smp_set_element_order);
	tcase_add_test(tc, test_smp_primitive_lists);
	tcase_add_test(tc, test_smp_retain_keys);
	tcase_add_test(tc, test_smp_crd_is_merge_patch);
	tcase_add_test(tc, test_smp_errors);
	suite_add_tcase(s, tc);
}
