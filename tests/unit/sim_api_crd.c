/* sim_api_crd.c - CRD schema validation and pruning, fault decisions and the admin endpoint. */
#include <string.h>

#include "cairn/error.h"

#include "sim_api_tests.h"
#include "testutil.h"

static const char *gadget_crd =
        "{\"metadata\":{\"name\":\"gadgets.example.com\"},"
        "\"spec\":{\"group\":\"example.com\",\"scope\":\"Cluster\","
        "\"names\":{\"plural\":\"gadgets\",\"kind\":\"Gadget\"},"
        "\"versions\":[{\"name\":\"v1\",\"served\":true,\"storage\":true,"
        "\"subresources\":{\"scale\":{}},"
        "\"schema\":{\"openAPIV3Schema\":{\"type\":\"object\",\"required\":[\"spec\"],"
        "\"properties\":{\"spec\":{\"type\":\"object\",\"required\":[\"size\"],\"properties\":{"
        "\"size\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":10},"
        "\"color\":{\"type\":\"string\",\"enum\":[\"red\",\"blue\"]},"
        "\"name\":{\"type\":\"string\",\"pattern\":\"^[a-z]+$\",\"maxLength\":5},"
        "\"port\":{\"x-kubernetes-int-or-string\":true},"
        "\"tags\":{\"type\":\"array\",\"maxItems\":2,\"items\":{\"type\":\"string\"}},"
        "\"labels\":{\"type\":\"object\",\"additionalProperties\":{\"type\":\"string\"}},"
        "\"free\":{\"type\":\"object\",\"x-kubernetes-preserve-unknown-fields\":true}"
        "}}}}}}]}}";

static sim_registry *reg;
static const sim_resource *gadget;

static void setup(void)
{
	json_t *crd = json_loads(gadget_crd, 0, NULL);

	ck_assert_ptr_nonnull(crd);
	ck_assert_int_eq(sim_registry_new(&reg), 0);
	ck_assert_int_eq(sim_registry_put_crd(reg, crd), 0);
	json_decref(crd);
	gadget = sim_registry_find(reg, "example.com", "v1", "gadgets");
	ck_assert_ptr_nonnull(gadget);
}

static void teardown(void)
{
	sim_registry_free(reg);
	reg = NULL;
}

/* Validate a JSON text; returns the code and leaves the findings in msg. */
static int check_obj(const char *text, cairn_buf *msg)
{
	json_t *obj = json_loads(text, 0, NULL);
	int rc;

	ck_assert_ptr_nonnull(obj);
	cairn_buf_reset(msg);
	rc = sim_crd_validate(gadget, obj, msg);
	json_decref(obj);
	return rc;
}

#define OBJ(spec) "{\"apiVersion\":\"example.com/v1\",\"kind\":\"Gadget\",\"metadata\":{}," spec "}"

START_TEST(crd_scope_and_scale)
{
	ck_assert_int_eq(gadget->namespaced, 0);
	ck_assert_int_eq(gadget->has_scale, 1);
	ck_assert_int_eq(gadget->has_status, 0);
	ck_assert_str_eq(gadget->singular, "gadget");
	ck_assert_str_eq(gadget->list_kind, "GadgetList");
}
END_TEST

START_TEST(valid_objects)
{
	cairn_buf msg = CAIRN_BUF_INIT(65536);

	ck_assert_int_eq(check_obj(OBJ("\"spec\":{\"size\":3}"), &msg), 0);
	ck_assert_int_eq(
	        check_obj(OBJ("\"spec\":{\"size\":10,\"color\":\"red\",\"name\":\"abc\","
	                      "\"port\":\"http\",\"tags\":[\"a\"],\"labels\":{\"a\":\"b\"},"
	                      "\"free\":{\"x\":[1,{}]}}"),
	                  &msg),
	        0);
	ck_assert_int_eq(check_obj(OBJ("\"spec\":{\"size\":1,\"port\":8080}"), &msg), 0);
	ck_assert_uint_eq(msg.len, 0);
	cairn_buf_dispose(&msg);
}
END_TEST

START_TEST(invalid_objects)
{
	cairn_buf msg = CAIRN_BUF_INIT(65536);

	ck_assert_int_eq(check_obj(OBJ("\"spec\":{\"size\":\"big\"}"), &msg), CAIRN_EINVAL);
	ck_assert_str_eq(msg.ptr, "spec.size: Invalid value: \"string\": spec.size in body must "
	                          "be of type integer: \"string\"");
	ck_assert_error_contains("Gadget is invalid: 1 finding");
	ck_assert_int_eq(check_obj(OBJ("\"metadata\":{}"), &msg), CAIRN_EINVAL);
	ck_assert_str_eq(msg.ptr, "spec: Required value");
	ck_assert_int_eq(check_obj(OBJ("\"spec\":{}"), &msg), CAIRN_EINVAL);
	ck_assert_str_eq(msg.ptr, "spec.size: Required value");
	ck_assert_int_eq(check_obj(OBJ("\"spec\":{\"size\":0,\"color\":\"pink\"}"), &msg),
	                 CAIRN_EINVAL);
	ck_assert_str_eq(msg.ptr, "spec.color: Unsupported value: \"pink\": supported values: "
	                          "\"red\", \"blue\", spec.size: Invalid value: 0: spec.size in "
	                          "body should be greater than or equal to 1");
	ck_assert_int_eq(check_obj(OBJ("\"spec\":{\"size\":11}"), &msg), CAIRN_EINVAL);
	ck_assert_ptr_nonnull(strstr(msg.ptr, "should be less than or equal to 10"));
	ck_assert_int_eq(check_obj(OBJ("\"spec\":{\"size\":2,\"name\":\"ABCDEFG\"}"), &msg),
	                 CAIRN_EINVAL);
	ck_assert_str_eq(msg.ptr, "spec.name: Too long: may not be longer than 5, spec.name: "
	                          "Invalid value: \"ABCDEFG\": spec.name in body should match "
	                          "'^[a-z]+$'");
	ck_assert_int_eq(check_obj(OBJ("\"spec\":{\"size\":2,\"port\":true}"), &msg), CAIRN_EINVAL);
	ck_assert_ptr_nonnull(strstr(msg.ptr, "must be of type int-or-string"));
	ck_assert_int_eq(check_obj(OBJ("\"spec\":{\"size\":2,\"tags\":[\"a\",1,\"c\"]}"), &msg),
	                 CAIRN_EINVAL);
	ck_assert_str_eq(msg.ptr, "spec.tags: Too many: 3: must have at most 2 items, "
	                          "spec.tags[1]: Invalid value: \"integer\": spec.tags[1] in body "
	                          "must be of type string: \"integer\"");
	ck_assert_int_eq(check_obj(OBJ("\"spec\":{\"size\":2,\"labels\":{\"a\":5}}"), &msg),
	                 CAIRN_EINVAL);
	ck_assert_ptr_nonnull(strstr(msg.ptr, "spec.labels.a: Invalid value"));
	cairn_buf_dispose(&msg);
}
END_TEST

START_TEST(status_causes)
{
	cairn_buf msg = CAIRN_BUF_INIT(4096);
	json_t *obj = json_loads(OBJ("\"spec\":{\"color\":\"pink\",\"size\":\"x\"}"), 0, NULL);
	json_t *causes = json_array();

	ck_assert_int_eq(sim_crd_validate_causes(gadget, obj, &msg, causes), CAIRN_EINVAL);
	ck_assert_int_eq(json_array_size(causes), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(causes, 0), "reason")),
	                 "FieldValueNotSupported");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(causes, 0), "field")),
	                 "spec.color");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(causes, 1), "message")),
	                 "Invalid value: \"string\": spec.size in body must be of type integer: "
	                 "\"string\"");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(causes, 1), "reason")),
	                 "FieldValueInvalid");
	json_decref(obj);
	json_decref(causes);
	cairn_buf_dispose(&msg);
}
END_TEST

START_TEST(builtins_not_checked)
{
	cairn_buf msg = CAIRN_BUF_INIT(1024);
	json_t *obj = json_pack("{s:s}", "kind", "ConfigMap");

	ck_assert_int_eq(
	        sim_crd_validate(sim_registry_find(reg, "", "v1", "configmaps"), obj, &msg), 0);
	ck_assert_int_eq(sim_crd_prune(sim_registry_find(reg, "", "v1", "configmaps"), obj, &msg),
	                 0);
	json_decref(obj);
	cairn_buf_dispose(&msg);
}
END_TEST

START_TEST(prune_unknown)
{
	cairn_buf unknown = CAIRN_BUF_INIT(4096);
	json_t *obj = json_loads(OBJ("\"spec\":{\"size\":2,\"extra\":1,\"free\":{\"kept\":1},"
	                             "\"labels\":{\"x\":\"y\"}},\"top\":true"),
	                         0, NULL);

	ck_assert_int_eq(sim_crd_prune(gadget, obj, &unknown), 2);
	ck_assert_str_eq(unknown.ptr, "unknown field \"spec.extra\", unknown field \"top\"");
	ck_assert_ptr_null(json_object_get(json_object_get(obj, "spec"), "extra"));
	ck_assert_ptr_null(json_object_get(obj, "top"));
	ck_assert_ptr_nonnull(
	        json_object_get(json_object_get(json_object_get(obj, "spec"), "free"), "kept"));
	ck_assert_ptr_nonnull(json_object_get(obj, "metadata"));
	json_decref(obj);
	cairn_buf_dispose(&unknown);
}
END_TEST

/* ---- faults ---- */

static int set_faults(sim_faults *f, const char *json)
{
	return sim_faults_configure(f, json, strlen(json));
}

START_TEST(faults_off_by_default)
{
	sim_faults *f = NULL;
	sim_fault_action a;
	const sim_resource *cm = sim_registry_find(reg, "", "v1", "configmaps");
	int i;

	ck_assert_int_eq(sim_faults_new(&f), 0);
	for (i = 0; i < 100; i++) {
		sim_faults_decide(f, "get", cm, &a);
		ck_assert_int_eq(a.status + a.latency_ms + a.retry_after + a.drop_watch_after_ms,
		                 0);
	}
	sim_faults_free(f);
}
END_TEST

START_TEST(faults_per_verb_and_kind)
{
	sim_faults *f = NULL;
	sim_fault_action a;
	const sim_resource *cm = sim_registry_find(reg, "", "v1", "configmaps");
	const sim_resource *pods = sim_registry_find(reg, "", "v1", "pods");

	ck_assert_int_eq(sim_faults_new(&f), 0);
	ck_assert_int_eq(set_faults(f, "{\"error_rate\":{\"get\":1},\"error_status\":503}"), 0);
	sim_faults_decide(f, "get", cm, &a);
	ck_assert_int_eq(a.status, 503);
	sim_faults_decide(f, "list", cm, &a);
	ck_assert_int_eq(a.status, 0);
	sim_faults_decide(f, "get", NULL, &a); /* discovery is never failed */
	ck_assert_int_eq(a.status, 0);

	ck_assert_int_eq(set_faults(f, "{\"reset\":true,\"throttle_rate\":1,\"retry_after\":7,"
	                               "\"resource\":\"pods\",\"latency_ms\":25}"),
	                 0);
	sim_faults_decide(f, "list", pods, &a);
	ck_assert_int_eq(a.status, 429);
	ck_assert_int_eq(a.retry_after, 7);
	ck_assert_int_eq(a.latency_ms, 25);
	sim_faults_decide(f, "list", cm, &a);
	ck_assert_int_eq(a.status + a.latency_ms, 0);

	ck_assert_int_eq(set_faults(f, "{\"reset\":true,\"conflict_rate\":1,\"gone_rate\":1,"
	                               "\"drop_watch_after_ms\":300}"),
	                 0);
	sim_faults_decide(f, "patch", cm, &a);
	ck_assert_int_eq(a.status, 409);
	sim_faults_decide(f, "get", cm, &a);
	ck_assert_int_eq(a.status, 0);
	sim_faults_decide(f, "watch", cm, &a);
	ck_assert_int_eq(a.status, 410);
	ck_assert_int_eq(a.drop_watch_after_ms, 300);
	sim_faults_free(f);
}
END_TEST

/* Which of 200 gets fail at rate 0.3 with a seed, as a bit string. */
static void pattern(int seed, char *out)
{
	sim_faults *f = NULL;
	sim_fault_action a;
	char cfg[128];
	int i;

	ck_assert_int_eq(sim_faults_new(&f), 0);
	snprintf(cfg, sizeof(cfg), "{\"seed\":%d,\"error_rate\":{\"*\":0.3}}", seed);
	ck_assert_int_eq(set_faults(f, cfg), 0);
	for (i = 0; i < 200; i++) {
		sim_faults_decide(f, "get", gadget, &a);
		out[i] = a.status ? '1' : '0';
	}
	out[200] = '\0';
	sim_faults_free(f);
}

START_TEST(faults_deterministic)
{
	char a[201], b[201], c[201];
	int ones = 0, i;

	pattern(42, a);
	pattern(42, b);
	pattern(43, c);
	ck_assert_str_eq(a, b);
	ck_assert_str_ne(a, c);
	for (i = 0; i < 200; i++)
		ones += a[i] == '1';
	ck_assert_msg(ones > 30 && ones < 90, "%d of 200 failed at rate 0.3", ones);
}
END_TEST

START_TEST(faults_admin)
{
	sim_faults *f = NULL;
	sim_http_reply rep;
	json_t *d;
	const char *body = "{\"latency_ms\":50,\"error_rate\":0.5}";

	ck_assert_int_eq(sim_faults_new(&f), 0);
	memset(&rep, 0, sizeof(rep));
	cairn_buf_init(&rep.body, 0);
	ck_assert_int_eq(sim_faults_admin(f, "PUT", body, strlen(body), &rep), 0);
	ck_assert_int_eq(rep.status, 200);
	d = json_loadb(rep.body.ptr, rep.body.len, 0, NULL);
	ck_assert_int_eq(json_integer_value(json_object_get(d, "latency_ms")), 50);
	ck_assert(json_real_value(json_object_get(json_object_get(d, "error_rate"), "patch")) ==
	          0.5);
	json_decref(d);

	cairn_buf_reset(&rep.body);
	body = "{\"latency_ms\":5,\"conflict_rate\":2}";
	ck_assert_int_eq(sim_faults_admin(f, "POST", body, strlen(body), &rep), 0);
	ck_assert_int_eq(rep.status, 400);
	ck_assert_ptr_nonnull(strstr(rep.body.ptr, "fault switch 'conflict_rate' must be between 0 "
	                                           "and 1"));
	cairn_buf_reset(&rep.body);
	ck_assert_int_eq(sim_faults_admin(f, "GET", NULL, 0, &rep), 0);
	ck_assert_ptr_nonnull(strstr(rep.body.ptr, "\"latency_ms\":50")); /* unchanged */

	cairn_buf_reset(&rep.body);
	body = "{\"bogus\":1}";
	sim_faults_admin(f, "PUT", body, strlen(body), &rep);
	ck_assert_ptr_nonnull(strstr(rep.body.ptr, "unknown fault switch 'bogus'"));
	cairn_buf_reset(&rep.body);
	body = "{\"error_rate\":{\"fly\":1}}";
	sim_faults_admin(f, "PUT", body, strlen(body), &rep);
	ck_assert_ptr_nonnull(strstr(rep.body.ptr, "unknown verb 'fly' in error_rate"));
	cairn_buf_reset(&rep.body);
	sim_faults_admin(f, "PUT", "[", 1, &rep);
	ck_assert_int_eq(rep.status, 400);
	ck_assert_ptr_nonnull(strstr(rep.body.ptr, "fault switches must be a JSON object"));
	cairn_buf_reset(&rep.body);
	sim_faults_admin(f, "PATCH", "{}", 2, &rep);
	ck_assert_int_eq(rep.status, 405);

	cairn_buf_reset(&rep.body);
	ck_assert_int_eq(sim_faults_admin(f, "DELETE", NULL, 0, &rep), 0);
	ck_assert_ptr_nonnull(strstr(rep.body.ptr, "\"latency_ms\":0"));
	cairn_buf_dispose(&rep.body);
	sim_faults_free(f);
}
END_TEST

void sim_api_crd_tests(Suite *s)
{
	TCase *tc = tcase_create("crd_faults");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, crd_scope_and_scale);
	tcase_add_test(tc, valid_objects);
	tcase_add_test(tc, invalid_objects);
	tcase_add_test(tc, status_causes);
	tcase_add_test(tc, builtins_not_checked);
	tcase_add_test(tc, prune_unknown);
	tcase_add_test(tc, faults_off_by_default);
	tcase_add_test(tc, faults_per_verb_and_kind);
	tcase_add_test(tc, faults_deterministic);
	tcase_add_test(tc, faults_admin);
	suite_add_tcase(s, tc);
}
