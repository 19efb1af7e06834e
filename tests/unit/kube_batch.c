/* kube_batch.c - cairn_kube_apply_many() against a real cairn-sim over HTTPS. */
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cairn/kube.h"
#include "cairn/util.h"
#include "kube_tests.h"
#include "testsim.h"
#include "testutil.h"

static test_sim sim;

/* Start cairn-sim once for the TCase (unchecked fixture: in the parent). */
static void sim_start(void)
{
	test_sim_start(&sim, "kube-batch", NULL, 0);
}

static void sim_stop(void)
{
	test_sim_stop(&sim, SIGTERM);
}

static cairn_kube_client *sim_client(const cairn_kube_client_opts *o)
{
	return test_sim_client(&sim, NULL, o);
}

/* ConfigMap `prefix`-i in namespace `ns` (NULL: the client's), data k=i. */
static json_t *cm(const char *prefix, int i, const char *ns)
{
	char name[64], val[16];
	json_t *o;

	snprintf(name, sizeof(name), "%s-%03d", prefix, i);
	snprintf(val, sizeof(val), "%d", i);
	o = json_pack("{s:s,s:s,s:{s:s},s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap",
	              "metadata", "name", name, "data", "k", val);
	if (ns != NULL)
		json_object_set_new(json_object_get(o, "metadata"), "namespace", json_string(ns));
	return o;
}

static void faults(cairn_kube_client *c, const char *json)
{
	ck_assert_int_eq(cairn_kube_request(c, "DELETE", "/admin/faults", NULL, NULL, 0, NULL), 0);
	if (json != NULL)
		ck_assert_int_eq(cairn_kube_request(c, "PUT", "/admin/faults", "application/json",
		                                    json, strlen(json), NULL),
		                 0);
}

static void free_objs(json_t **objs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		json_decref(objs[i]);
}

/* 60 objects over 8 connections: every result in the slot of its object,
 * the answers kept, one request each, and the objects stored. */
START_TEST(results_in_order)
{
	enum {
		N = 60
	};
	cairn_kube_client *c = sim_client(NULL);
	json_t *objs[N], *got = NULL;
	cairn_kube_apply_result res[N];
	cairn_kube_mapping m;
	uint64_t before;

	for (int i = 0; i < N; i++)
		objs[i] = cm("order", i, NULL);
	/* discovery first, so that the count below is the applies alone */
	ck_assert_int_eq(cairn_kube_mapping_for(c, "v1", "ConfigMap", &m), 0);
	before = cairn_kube_request_count(c);
	ck_assert_int_eq(cairn_kube_apply_many(c, objs, N, CAIRN_KUBE_KEEP_ANSWER, res, 8), 0);
	ck_assert_uint_eq(cairn_kube_request_count(c) - before, N);
	for (int i = 0; i < N; i++) {
		const json_t *md = json_object_get(res[i].obj, "metadata");
		char want[16];

		snprintf(want, sizeof(want), "%d", i);
		ck_assert_int_eq(res[i].rc, 0);
		ck_assert_str_eq(json_string_value(json_object_get(md, "name")),
		                 json_string_value(json_object_get(
		                         json_object_get(objs[i], "metadata"), "name")));
		ck_assert_str_eq(json_string_value(json_object_get(md, "namespace")), "default");
		ck_assert_str_eq(json_string_value(
		                         json_object_get(json_object_get(res[i].obj, "data"), "k")),
		                 want);
	}
	cairn_kube_apply_results_clear(res, N);
	ck_assert_ptr_null(res[0].obj);
	ck_assert_int_eq(cairn_kube_get(c, &m, NULL, "order-059", &got), 0);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(got, "data"), "k")),
	                 "59");
	json_decref(got);
	free_objs(objs, N);
	cairn_kube_client_free(c);
}
END_TEST

/* One object in a namespace that does not exist, one of an unknown kind:
 * each reported with its own error (and Status), the others land. */
START_TEST(one_failure_among_many)
{
	enum {
		N = 20
	};
	cairn_kube_client *c = sim_client(NULL);
	json_t *objs[N], *got = NULL;
	cairn_kube_apply_result res[N];
	cairn_kube_mapping m;

	for (int i = 0; i < N; i++)
		objs[i] = cm("mixed", i, i == 7 ? "nowhere" : NULL);
	json_object_set_new(objs[13], "kind", json_string("Widget"));
	ck_assert_int_eq(cairn_kube_apply_many(c, objs, N, 0, res, 4), CAIRN_ENOTFOUND);
	/* the call's error is the first failing object's */
	ck_assert_error_contains("namespaces \"nowhere\" not found");
	ck_assert_int_eq(cairn_kube_last_status(c)->code, 404);
	ck_assert_int_eq(res[7].rc, CAIRN_ENOTFOUND);
	ck_assert_int_eq(res[7].status.code, 404);
	ck_assert_str_eq(res[7].status.reason, "NotFound");
	ck_assert_ptr_nonnull(strstr(res[7].message, "namespaces \"nowhere\" not found"));
	ck_assert_int_eq(res[13].rc, CAIRN_ENOTFOUND);
	ck_assert_int_eq(res[13].status.code, 0); /* never sent */
	ck_assert_ptr_nonnull(strstr(res[13].message, "no resource for kind 'Widget'"));
	ck_assert_int_eq(cairn_kube_mapping_for(c, "v1", "ConfigMap", &m), 0);
	for (int i = 0; i < N; i++) {
		const char *name = json_string_value(
		        json_object_get(json_object_get(objs[i], "metadata"), "name"));

		ck_assert_ptr_null(res[i].obj); /* not asked to keep them */
		if (i == 7 || i == 13)
			continue;
		ck_assert_int_eq(res[i].rc, 0);
		ck_assert_str_eq(res[i].message, "");
		ck_assert_int_eq(cairn_kube_get(c, &m, NULL, name, &got), 0);
		json_decref(got);
	}
	ck_assert_int_eq(cairn_kube_get(c, &m, NULL, "mixed-013", &got), CAIRN_ENOTFOUND);
	free_objs(objs, N);
	cairn_kube_client_free(c);
}
END_TEST

/* Injected 500s on patch: each object retried up to max_retries on its
 * worker's connection; when the faults end, a second batch lands first time. */
START_TEST(faults_retried)
{
	enum {
		N = 12
	};
	cairn_kube_client_opts o = {0};
	cairn_kube_client *c, *admin = sim_client(NULL);
	json_t *objs[N];
	cairn_kube_apply_result res[N];
	cairn_kube_mapping m;
	uint64_t before;

	o.max_retries = 2;
	o.backoff_base_ms = 5;
	c = sim_client(&o);
	for (int i = 0; i < N; i++)
		objs[i] = cm("fault", i, NULL);
	ck_assert_int_eq(cairn_kube_mapping_for(c, "v1", "ConfigMap", &m), 0);
	faults(admin, "{\"error_rate\":{\"patch\":1},\"error_status\":503,"
	              "\"resource\":\"configmaps\"}");
	before = cairn_kube_request_count(c);
	ck_assert_int_eq(cairn_kube_apply_many(c, objs, N, 0, res, 3), CAIRN_EIO);
	ck_assert_uint_eq(cairn_kube_request_count(c) - before, N * 3);
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(res[i].rc, CAIRN_EIO);
		ck_assert_int_eq(res[i].status.code, 503);
	}
	faults(admin, NULL);
	before = cairn_kube_request_count(c);
	ck_assert_int_eq(cairn_kube_apply_many(c, objs, N, 0, res, 3), 0);
	ck_assert_uint_eq(cairn_kube_request_count(c) - before, N);
	free_objs(objs, N);
	cairn_kube_client_free(c);
	cairn_kube_client_free(admin);
}
END_TEST

/* Every request slower than the deadline: each object fails with a
 * timeout within about one deadline, all workers side by side. */
START_TEST(deadline_respected)
{
	enum {
		N = 8
	};
	cairn_kube_client_opts o = {0};
	cairn_kube_client *c, *admin = sim_client(NULL);
	json_t *objs[N];
	cairn_kube_apply_result res[N];
	cairn_kube_mapping m;
	int64_t t0;

	o.deadline_ms = 300;
	o.max_retries = 5;
	c = sim_client(&o);
	for (int i = 0; i < N; i++)
		objs[i] = cm("slow", i, NULL);
	ck_assert_int_eq(cairn_kube_mapping_for(c, "v1", "ConfigMap", &m), 0);
	faults(admin, "{\"latency_ms\":2000,\"resource\":\"configmaps\"}");
	t0 = cairn_time_mono();
	ck_assert_int_eq(cairn_kube_apply_many(c, objs, N, 0, res, N), CAIRN_ETIMEOUT);
	/* sequentially this would be N x 300 ms */
	ck_assert_int_lt(cairn_time_mono() - t0, 1500 * 1000);
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(res[i].rc, CAIRN_ETIMEOUT);
		ck_assert_ptr_nonnull(strstr(res[i].message, "PATCH /api/v1/namespaces/default/"));
	}
	faults(admin, NULL);
	free_objs(objs, N);
	cairn_kube_client_free(c);
	cairn_kube_client_free(admin);
}
END_TEST

/* Parallelism out of range is clamped; no objects is no request. */
START_TEST(parallelism_clamped)
{
	cairn_kube_client *c = sim_client(NULL);
	json_t *objs[3];
	cairn_kube_apply_result res[3];
	uint64_t before;

	for (int i = 0; i < 3; i++)
		objs[i] = cm("clamp", i, NULL);
	before = cairn_kube_request_count(c);
	ck_assert_int_eq(cairn_kube_apply_many(c, objs, 0, 0, res, 8), 0);
	ck_assert_uint_eq(cairn_kube_request_count(c), before);
	ck_assert_int_eq(cairn_kube_apply_many(c, objs, 3, CAIRN_KUBE_DRY_RUN, res, 0), 0);
	ck_assert_int_eq(cairn_kube_apply_many(c, objs, 3, 0, res, 1000), 0);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(res[i].rc, 0);
	cairn_kube_apply_results_clear(NULL, 3);
	free_objs(objs, 3);
	cairn_kube_client_free(c);
}
END_TEST

void kube_batch_tests(Suite *s)
{
	TCase *tc = tcase_create("batch");

	tcase_add_unchecked_fixture(tc, sim_start, sim_stop);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, results_in_order);
	tcase_add_test(tc, one_failure_among_many);
	tcase_add_test(tc, faults_retried);
	tcase_add_test(tc, deadline_respected);
	tcase_add_test(tc, parallelism_clamped);
	suite_add_tcase(s, tc);
}
