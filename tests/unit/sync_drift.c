/* sync_drift.c - drift: which desired fields drifted, and which field manager did it. */
#include <string.h>

#include "cairn/error.h"
#include "cairn/sync.h"
#include "sync_tests.h"
#include "testutil.h"

static json_t *parse(const char *s)
{
	json_error_t e;
	json_t *v = json_loads(s, 0, &e);

	ck_assert_msg(v != NULL, "bad test JSON: %s", e.text);
	return v;
}

/* A Deployment whose replicas were set by cairn, then scaled by kubectl. */
#define MF_SCALED                                                                                  \
	"\"managedFields\":["                                                                      \
	"{\"manager\":\"cairn\",\"operation\":\"Apply\",\"time\":\"2026-01-01T10:00:00Z\","        \
	"\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:spec\":{\"f:replicas\":{},"                 \
	"\"f:template\":{\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"web\\\"}\":{"         \
	"\".\":{},\"f:name\":{},\"f:image\":{}}}}}}}},"                                            \
	"{\"manager\":\"kubectl\",\"operation\":\"Update\",\"time\":\"2026-01-01T10:05:00Z\","     \
	"\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:spec\":{\"f:replicas\":{}}}},"              \
	"{\"manager\":\"kubectl-edit\",\"operation\":\"Update\",\"time\":\"2026-01-01T10:07:"      \
	"00Z\","                                                                                   \
	"\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:spec\":{\"f:template\":{\"f:spec\":{"       \
	"\"f:containers\":{\"k:{\\\"name\\\":\\\"web\\\"}\":{\"f:image\":{}}}}}},"                 \
	"\"f:metadata\":{\"f:labels\":{\"f:extra\":{}}}}}]"

static const char *desired_deploy =
        "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
        "\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"},"
        "\"spec\":{\"replicas\":2,\"template\":{\"spec\":{\"containers\":"
        "[{\"name\":\"web\",\"image\":\"nginx:1.25\"}]}}}}";

static const char *wanted_deploy =
        "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
        "\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"},"
        "\"spec\":{\"replicas\":2,\"revisionHistoryLimit\":10,\"template\":{\"spec\":{"
        "\"containers\":[{\"name\":\"web\",\"image\":\"nginx:1.25\","
        "\"imagePullPolicy\":\"IfNotPresent\"}]}}}}";

static json_t *live_deploy(int replicas, const char *image, const char *extra_meta)
{
	char buf[4096];

	snprintf(buf, sizeof(buf),
	         "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
	         "\"metadata\":{\"name\":\"web\",\"namespace\":\"default\",\"resourceVersion\":"
	         "\"9\","
	         "\"labels\":{\"extra\":\"x\"}%s," MF_SCALED "},"
	         "\"spec\":{\"replicas\":%d,\"revisionHistoryLimit\":3,\"template\":{\"spec\":{"
	         "\"containers\":[{\"name\":\"web\",\"image\":\"%s\","
	         "\"imagePullPolicy\":\"Always\"}]}}},\"status\":{\"replicas\":1}}",
	         extra_meta, replicas, image);
	return parse(buf);
}

START_TEST(manager_latest_owner_wins)
{
	json_t *live = live_deploy(5, "nginx:1.25", "");
	char m[64] = "";
	cairn_usec t = 0, want;

	ck_assert_int_eq(cairn_drift_field_manager(m, sizeof(m), &t, live, "/spec/replicas"), 0);
	ck_assert_str_eq(m, "kubectl");
	ck_assert_int_eq(cairn_time_parse(&want, "2026-01-01T10:05:00Z"), 0);
	ck_assert_int_eq(t, want);
	json_decref(live);
}
END_TEST

START_TEST(manager_list_element_by_key)
{
	json_t *live = live_deploy(2, "nginx:1.26", "");
	char m[64] = "";

	ck_assert_int_eq(cairn_drift_field_manager(m, sizeof(m), NULL, live,
	                                           "/spec/template/spec/containers/0/image"),
	                 0);
	ck_assert_str_eq(m, "kubectl-edit");
	ck_assert_int_eq(cairn_drift_field_manager(m, sizeof(m), NULL, live,
	                                           "/spec/template/spec/containers/0/name"),
	                 0);
	ck_assert_str_eq(m, "cairn");
	json_decref(live);
}
END_TEST

START_TEST(manager_unowned_path)
{
	json_t *live = live_deploy(2, "nginx:1.25", "");
	char m[64] = "unchanged";

	ck_assert_int_eq(
	        cairn_drift_field_manager(m, sizeof(m), NULL, live, "/spec/revisionHistoryLimit"),
	        CAIRN_ENOTFOUND);
	ck_assert_error_contains("no field manager owns '/spec/revisionHistoryLimit'");
	ck_assert_str_eq(m, "unchanged");
	/* an index past the end of the live list is owned by nobody */
	ck_assert_int_eq(cairn_drift_field_manager(m, sizeof(m), NULL, live,
	                                           "/spec/template/spec/containers/3/image"),
	                 CAIRN_ENOTFOUND);
	json_decref(live);
}
END_TEST

START_TEST(compare_only_desired_fields)
{
	json_t *desired = parse(desired_deploy), *wanted = parse(wanted_deploy);
	json_t *live = live_deploy(5, "nginx:1.25", "");
	json_t *paths = NULL, *p;
	cairn_usec changed = 0, want;

	ck_assert_int_eq(cairn_drift_compare(&paths, &changed, desired, wanted, live, NULL), 0);
	/* revisionHistoryLimit, imagePullPolicy and the extra label differ too, but
	 * git does not set them: only replicas is drift */
	ck_assert_int_eq(json_array_size(paths), 1);
	p = json_array_get(paths, 0);
	ck_assert_str_eq(json_string_value(json_object_get(p, "path")), "/spec/replicas");
	ck_assert_int_eq(json_integer_value(json_object_get(p, "old")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(p, "new")), 5);
	ck_assert_str_eq(json_string_value(json_object_get(p, "manager")), "kubectl");
	ck_assert_int_eq(cairn_time_parse(&want, "2026-01-01T10:05:00Z"), 0);
	ck_assert_int_eq(changed, want);
	json_decref(paths);
	json_decref(live);

	live = live_deploy(2, "nginx:1.26", "");
	ck_assert_int_eq(cairn_drift_compare(&paths, NULL, desired, wanted, live, NULL), 0);
	ck_assert_int_eq(json_array_size(paths), 1);
	p = json_array_get(paths, 0);
	ck_assert_str_eq(json_string_value(json_object_get(p, "path")),
	                 "/spec/template/spec/containers/0/image");
	ck_assert_str_eq(json_string_value(json_object_get(p, "old")), "nginx:1.25");
	ck_assert_str_eq(json_string_value(json_object_get(p, "new")), "nginx:1.26");
	ck_assert_str_eq(json_string_value(json_object_get(p, "manager")), "kubectl-edit");
	json_decref(paths);
	json_decref(live);

	live = live_deploy(2, "nginx:1.25", "");
	ck_assert_int_eq(cairn_drift_compare(&paths, NULL, desired, wanted, live, NULL), 0);
	ck_assert_int_eq(json_array_size(paths), 0);
	json_decref(paths);
	json_decref(live);
	json_decref(desired);
	json_decref(wanted);
}
END_TEST

START_TEST(compare_leaves_rollouts_alone)
{
	json_t *desired = parse(desired_deploy), *wanted = parse(wanted_deploy);
	json_t *live =
	        live_deploy(5, "nginx:1.26", ",\"annotations\":{\"cairn.dev/rollout\":\"web\"}");
	json_t *paths = NULL, *mf;

	ck_assert_int_eq(cairn_drift_compare(&paths, NULL, desired, wanted, live, NULL), 0);
	ck_assert_int_eq(json_array_size(paths), 0);
	json_decref(paths);
	json_decref(live);

	/* replicas scaled by the rollout engine's field manager: not drift; the
	 * image edited by someone else still is */
	live = live_deploy(5, "nginx:1.26", "");
	mf = json_object_get(json_object_get(live, "metadata"), "managedFields");
	json_object_set_new(json_array_get(mf, 1), "manager", json_string(CAIRN_ROLLOUT_MANAGER));
	ck_assert_int_eq(cairn_drift_compare(&paths, NULL, desired, wanted, live, NULL), 0);
	ck_assert_int_eq(json_array_size(paths), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(paths, 0), "path")),
	                 "/spec/template/spec/containers/0/image");
	json_decref(paths);
	json_decref(live);
	json_decref(desired);
	json_decref(wanted);
}
END_TEST

START_TEST(compare_masks_secrets)
{
	json_t *desired = parse("{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":"
	                        "{\"name\":\"s\",\"namespace\":\"default\"},"
	                        "\"stringData\":{\"pw\":\"hunter2\"}}");
	json_t *wanted = parse("{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":"
	                       "{\"name\":\"s\",\"namespace\":\"default\"},\"type\":\"Opaque\","
	                       "\"data\":{\"pw\":\"aHVudGVyMg==\"}}");
	json_t *live = parse("{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":"
	                     "{\"name\":\"s\",\"namespace\":\"default\"},\"type\":\"Opaque\","
	                     "\"data\":{\"pw\":\"c3dvcmRmaXNo\"}}");
	json_t *paths = NULL, *p;
	char *text;

	ck_assert_int_eq(cairn_drift_compare(&paths, NULL, desired, wanted, live, NULL), 0);
	ck_assert_int_eq(json_array_size(paths), 1);
	p = json_array_get(paths, 0);
	ck_assert_str_eq(json_string_value(json_object_get(p, "path")), "/data/pw");
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(p, "old")), "++++"));
	ck_assert_str_ne(json_string_value(json_object_get(p, "old")),
	                 json_string_value(json_object_get(p, "new")));
	ck_assert(json_is_null(json_object_get(p, "manager")));
	text = json_dumps(paths, 0);
	ck_assert_ptr_null(strstr(text, "aHVudGVyMg"));
	ck_assert_ptr_null(strstr(text, "c3dvcmRmaXNo"));
	free(text);
	json_decref(paths);
	json_decref(desired);
	json_decref(wanted);
	json_decref(live);
}
END_TEST

START_TEST(compare_refuses_non_objects)
{
	json_t *o = json_object(), *paths = (json_t *)0x1;

	ck_assert_int_eq(cairn_drift_compare(&paths, NULL, o, o, NULL, NULL), CAIRN_EINVAL);
	ck_assert_error_contains("drift compare needs three objects");
	ck_assert_ptr_eq(paths, (json_t *)0x1);
	json_decref(o);
}
END_TEST

void sync_drift_tests(Suite *s)
{
	TCase *tc = tcase_create("drift");

	tcase_add_test(tc, manager_latest_owner_wins);
	tcase_add_test(tc, manager_list_element_by_key);
	tcase_add_test(tc, manager_unowned_path);
	tcase_add_test(tc, compare_only_desired_fields);
	tcase_add_test(tc, compare_leaves_rollouts_alone);
	tcase_add_test(tc, compare_masks_secrets);
	tcase_add_test(tc, compare_refuses_non_objects);
	suite_add_tcase(s, tc);
}
