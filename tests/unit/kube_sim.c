/* kube_sim.c - the kube client against a real cairn-sim over HTTPS. */
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
	test_sim_start(&sim, "kube-sim", NULL, 0);
}

static void sim_stop(void)
{
	test_sim_stop(&sim, SIGTERM);
}

static cairn_kube_client *sim_client(const char *ctx, const cairn_kube_client_opts *o)
{
	return test_sim_client(&sim, ctx, o);
}

static json_t *cm(const char *name, const char *label)
{
	return json_pack("{s:s,s:s,s:{s:s,s:{s:s}},s:{s:s}}", "apiVersion", "v1", "kind",
	                 "ConfigMap", "metadata", "name", name, "labels", "tier", label, "data",
	                 "k", name);
}

START_TEST(version_token_and_cert)
{
	cairn_kube_client *c = sim_client(NULL, NULL);
	cairn_kube_client *cc = sim_client("cairn-sim-cert", NULL);
	char v[64];

	ck_assert_int_eq(cairn_kube_server_version(c, v, sizeof(v)), 0);
	ck_assert_str_eq(v, "v1.28.15");
	ck_assert_int_eq(cairn_kube_server_version(cc, v, sizeof(v)), 0);
	ck_assert_str_eq(v, "v1.28.15");
	cairn_kube_client_free(c);
	cairn_kube_client_free(cc);
}
END_TEST

START_TEST(bad_token_is_unauthorized)
{
	cairn_kubeconfig *kc = NULL;
	cairn_kube_config *cfg = NULL;
	cairn_kube_client *c = NULL;
	cairn_kube_mapping m;
	json_t *o = NULL;

	ck_assert_int_eq(cairn_kubeconfig_load(&kc, sim.kc, CAIRN_KUBECONFIG_TRUSTED), 0);
	ck_assert_int_eq(cairn_kube_config_resolve(&cfg, kc, NULL), 0);
	free(cfg->token);
	cfg->token = strdup("wrong");
	ck_assert_int_eq(cairn_kube_client_new(&c, cfg, NULL), 0);
	memset(&m, 0, sizeof(m));
	memcpy(m.version, "v1", 3);
	memcpy(m.resource, "configmaps", 11);
	m.namespaced = 1;
	ck_assert_int_eq(cairn_kube_get(c, &m, NULL, "x", &o), CAIRN_EPERM);
	ck_assert_int_eq(cairn_kube_last_status(c)->code, 401);
	ck_assert_str_eq(cairn_kube_last_status(c)->reason, "Unauthorized");
	/* 401 is not retried */
	ck_assert_int_eq(cairn_kube_request_count(c), 1);
	cairn_kube_client_free(c);
	cairn_kube_config_free(cfg);
	cairn_kubeconfig_free(kc);
}
END_TEST

START_TEST(apply_get_list_delete)
{
	cairn_kube_client *c = sim_client(NULL, NULL);
	cairn_kube_mapping m;
	cairn_kube_list_opts lo = {0};
	json_t *o = NULL, *l = NULL;
	char name[16];
	const char *cont;
	size_t seen = 0;

	ck_assert_int_eq(cairn_kube_mapping_find(c, "deploy", &m), 0);
	ck_assert_str_eq(m.group, "apps");
	ck_assert_str_eq(m.kind, "Deployment");
	ck_assert_int_eq(cairn_kube_mapping_find(c, "ns", &m), 0);
	ck_assert_int_eq(m.namespaced, 0);
	ck_assert_int_eq(cairn_kube_mapping_for(c, "v1", "Widget", &m), CAIRN_ENOTFOUND);
	ck_assert_error_contains("no resource for kind 'Widget'");
	for (int i = 0; i < 5; i++) {
		json_t *obj;

		snprintf(name, sizeof(name), "cm%d", i);
		obj = cm(name, i % 2 ? "odd" : "even");
		ck_assert_int_eq(cairn_kube_apply(c, obj, 0, &o), 0);
		ck_assert_str_eq(json_string_value(json_object_get(json_object_get(o, "metadata"),
		                                                   "namespace")),
		                 "default");
		json_decref(o);
		json_decref(obj);
	}
	ck_assert_int_eq(cairn_kube_mapping_for(c, "v1", "ConfigMap", &m), 0);
	ck_assert_int_eq(cairn_kube_get(c, &m, NULL, "cm3", &o), 0);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(o, "data"), "k")),
	                 "cm3");
	json_decref(o);
	lo.label_selector = "tier=odd";
	ck_assert_int_eq(cairn_kube_list(c, &m, NULL, &lo, &l), 0);
	ck_assert_int_eq(json_array_size(json_object_get(l, "items")), 2);
	json_decref(l);
	lo.label_selector = "tier in (odd,even)";
	lo.limit = 2;
	do {
		ck_assert_int_eq(cairn_kube_list(c, &m, NULL, &lo, &l), 0);
		ck_assert_uint_le(json_array_size(json_object_get(l, "items")), 2);
		seen += json_array_size(json_object_get(l, "items"));
		cont = json_string_value(
		        json_object_get(json_object_get(l, "metadata"), "continue"));
		free((char *)lo.continue_);
		lo.continue_ = cont != NULL && cont[0] != '\0' ? strdup(cont) : NULL;
		json_decref(l);
	} while (lo.continue_ != NULL);
	ck_assert_uint_eq(seen, 5);
	/* dry run: predicted, not stored */
	o = cm("dry", "x");
	ck_assert_int_eq(cairn_kube_apply(c, o, CAIRN_KUBE_DRY_RUN, NULL), 0);
	json_decref(o);
	ck_assert_int_eq(cairn_kube_get(c, &m, NULL, "dry", &o), CAIRN_ENOTFOUND);
	ck_assert_str_eq(cairn_kube_last_status(c)->reason, "NotFound");
	ck_assert_error_contains("configmaps \"dry\" not found");
	ck_assert_int_eq(cairn_kube_delete(c, &m, NULL, "cm1", "Background"), 0);
	ck_assert_int_eq(cairn_kube_get(c, &m, NULL, "cm1", &o), CAIRN_ENOTFOUND);
	ck_assert_int_eq(cairn_kube_delete(c, &m, NULL, "cm1", NULL), CAIRN_ENOTFOUND);
	cairn_kube_client_free(c);
}
END_TEST

/* Set the simulator's fault switches through its admin endpoint. */
static void faults(cairn_kube_client *c, const char *json)
{
	ck_assert_int_eq(cairn_kube_request(c, "DELETE", "/admin/faults", NULL, NULL, 0, NULL), 0);
	if (json != NULL)
		ck_assert_int_eq(cairn_kube_request(c, "PUT", "/admin/faults", "application/json",
		                                    json, strlen(json), NULL),
		                 0);
}

START_TEST(retries)
{
	cairn_kube_client_opts o = {0};
	cairn_kube_client *c, *admin = sim_client(NULL, NULL);
	cairn_kube_mapping m;
	json_t *obj = cm("r", "x"), *out = NULL;
	uint64_t n;
	int64_t t0;

	o.max_retries = 3;
	o.backoff_base_ms = 10;
	o.retry_after_cap_ms = 200;
	c = sim_client(NULL, &o);
	ck_assert_int_eq(cairn_kube_mapping_for(c, "v1", "ConfigMap", &m), 0);
	/* 429 with an absurd Retry-After: retried, the wait capped at 200 ms */
	faults(admin, "{\"throttle_rate\":1,\"retry_after\":3600,\"resource\":\"configmaps\"}");
	n = cairn_kube_request_count(c);
	t0 = cairn_time_mono();
	ck_assert_int_eq(cairn_kube_get(c, &m, NULL, "x", &out), CAIRN_EIO);
	ck_assert_int_eq(cairn_kube_last_status(c)->code, 429);
	ck_assert_uint_eq(cairn_kube_request_count(c) - n, 4);
	ck_assert_int_ge(cairn_time_mono() - t0, 3 * 200 * 1000);
	ck_assert_int_lt(cairn_time_mono() - t0, 10 * 1000 * 1000);
	/* 500: GET and apply retried, POST not */
	faults(admin, "{\"error_rate\":1,\"error_status\":500,\"resource\":\"configmaps\"}");
	n = cairn_kube_request_count(c);
	ck_assert_int_eq(cairn_kube_apply(c, obj, 0, NULL), CAIRN_EIO);
	ck_assert_uint_eq(cairn_kube_request_count(c) - n, 4);
	n = cairn_kube_request_count(c);
	ck_assert_int_eq(cairn_kube_request(c, "POST", "/api/v1/namespaces/default/configmaps",
	                                    "application/json", "{}", 2, NULL),
	                 CAIRN_EIO);
	ck_assert_uint_eq(cairn_kube_request_count(c) - n, 1);
	ck_assert_int_eq(cairn_kube_last_status(c)->code, 500);
	faults(admin, NULL);
	ck_assert_int_eq(cairn_kube_apply(c, obj, 0, NULL), 0);
	json_decref(obj);
	cairn_kube_client_free(c);
	cairn_kube_client_free(admin);
}
END_TEST

START_TEST(connection_refused_has_deadline)
{
	cairn_kube_config cfg = {0};
	cairn_kube_client_opts o = {0};
	cairn_kube_client *c = NULL;
	int64_t t0 = cairn_time_mono();

	cfg.server = "http://127.0.0.1:1";
	o.max_retries = 2;
	o.backoff_base_ms = 20;
	ck_assert_int_eq(cairn_kube_client_new(&c, &cfg, &o), 0);
	ck_assert_int_eq(cairn_kube_request(c, "GET", "/version", NULL, NULL, 0, NULL), CAIRN_EIO);
	ck_assert_error_contains("GET /version: ");
	ck_assert_uint_eq(cairn_kube_request_count(c), 3);
	ck_assert_int_lt(cairn_time_mono() - t0, 5 * 1000 * 1000);
	cairn_kube_client_free(c);
}
END_TEST

/* A CRD's kind is found once discovery is refreshed on the miss; an object
 * its schema refuses is Invalid, with the field in the message. */
START_TEST(crd_discovery_and_invalid)
{
	cairn_kube_client *c = sim_client(NULL, NULL);
	cairn_kube_mapping m;
	json_t *crd = NULL, *w = NULL, *bad = NULL;
	static const char crd_json[] =
	        "{\"apiVersion\":\"apiextensions.k8s.io/v1\",\"kind\":\"CustomResourceDefinition\","
	        "\"metadata\":{\"name\":\"gadgets.example.com\"},\"spec\":{\"group\":"
	        "\"example.com\",\"scope\":\"Namespaced\",\"names\":{\"plural\":\"gadgets\","
	        "\"singular\":\"gadget\",\"kind\":\"Gadget\",\"shortNames\":[\"gd\"]},"
	        "\"versions\":[{\"name\":\"v1\",\"served\":true,\"storage\":true,\"schema\":"
	        "{\"openAPIV3Schema\":{\"type\":\"object\",\"properties\":{\"spec\":{\"type\":"
	        "\"object\",\"properties\":{\"size\":{\"type\":\"integer\"}}}}}}}]}}";

	/* discovery is read before the CRD exists */
	ck_assert_int_eq(cairn_kube_mapping_find(c, "deploy", &m), 0);
	crd = json_loads(crd_json, 0, NULL);
	ck_assert_ptr_nonnull(crd);
	ck_assert_int_eq(cairn_kube_apply(c, crd, 0, NULL), 0);
	ck_assert_int_eq(cairn_kube_mapping_find(c, "gd", &m), 0);
	ck_assert_str_eq(m.kind, "Gadget");
	ck_assert_str_eq(m.group, "example.com");
	ck_assert_int_eq(m.namespaced, 1);
	w = json_pack("{s:s,s:s,s:{s:s},s:{s:i}}", "apiVersion", "example.com/v1", "kind", "Gadget",
	              "metadata", "name", "g1", "spec", "size", 3);
	ck_assert_int_eq(cairn_kube_apply(c, w, 0, NULL), 0);
	bad = json_pack("{s:s,s:s,s:{s:s},s:{s:s}}", "apiVersion", "example.com/v1", "kind",
	                "Gadget", "metadata", "name", "g2", "spec", "size", "big");
	ck_assert_int_eq(cairn_kube_apply(c, bad, 0, NULL), CAIRN_EINVAL);
	ck_assert_int_eq(cairn_kube_last_status(c)->code, 422);
	ck_assert_str_eq(cairn_kube_last_status(c)->reason, "Invalid");
	ck_assert_error_contains("spec.size");
	json_decref(crd);
	json_decref(w);
	json_decref(bad);
	cairn_kube_client_free(c);
}
END_TEST

void kube_sim_tests(Suite *s)
{
	TCase *tc = tcase_create("sim");

	tcase_add_unchecked_fixture(tc, sim_start, sim_stop);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, version_token_and_cert);
	tcase_add_test(tc, bad_token_is_unauthorized);
	tcase_add_test(tc, apply_get_list_delete);
	tcase_add_test(tc, retries);
	tcase_add_test(tc, crd_discovery_and_invalid);
	tcase_add_test(tc, connection_refused_has_deadline);
	suite_add_tcase(s, tc);
}
