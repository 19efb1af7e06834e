/* sim_objects_defaults.c - defaulting goldens: each case under
 * tests/unit/data/sim/defaults/<case>/ holds in.yaml and expected.json, the
 * object as the API server returns it (written from the API reference, see
 * docs/sim-objects.md). The whole object is compared. Allocated values that
 * a real server picks at random are written as placeholders:
 * "$ALLOCATED_CLUSTER_IP" (an address in 10.96.0.0/12, the same at every
 * place in one object) and "$ALLOCATED_NODE_PORT" (30000-32767). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/yaml.h"
#include "sim/objects.h"
#include "sim_objects_tests.h"

static const char *const cases[] = {
        "pod-basic",        "deployment-basic", "deployment-recreate", "service-clusterip",
        "service-nodeport", "service-headless", "namespace",           "secret",
        "configmap",        "statefulset",      "daemonset",           "job",
        "cronjob",          "crd-object",
};

/* Compare `got` with `want` where placeholders may stand for allocated
 * values; on a difference, `where` gets the JSON pointer. */
static int matches(const json_t *got, const json_t *want, const char **ip, char *where, size_t size)
{
	const char *w = json_string_value(want);

	if (w && strcmp(w, "$ALLOCATED_CLUSTER_IP") == 0) {
		struct in_addr a;
		const char *g = json_string_value(got);
		unsigned long h;

		if (g == NULL || inet_pton(AF_INET, g, &a) != 1)
			return 0;
		h = ntohl(a.s_addr);
		if ((h & 0xfff00000ul) != 0x0a600000ul || (*ip && strcmp(*ip, g) != 0))
			return 0;
		*ip = g;
		return 1;
	}
	if (w && strcmp(w, "$ALLOCATED_NODE_PORT") == 0)
		return json_is_integer(got) && json_integer_value(got) >= 30000 &&
		       json_integer_value(got) <= 32767;
	if (json_is_object(want) && json_is_object(got)) {
		const char *k;
		json_t *v;

		if (json_object_size(got) != json_object_size(want))
			return 0;
		json_object_foreach((json_t *)want, k, v)
		{
			size_t n = strlen(where);

			snprintf(where + n, size - n, "/%s", k);
			if (!matches(json_object_get(got, k), v, ip, where, size))
				return 0;
			where[n] = '\0';
		}
		return 1;
	}
	if (json_is_array(want) && json_is_array(got)) {
		size_t i;
		json_t *v;

		if (json_array_size(got) != json_array_size(want))
			return 0;
		json_array_foreach(want, i, v)
		{
			size_t n = strlen(where);

			snprintf(where + n, size - n, "/%zu", i);
			if (!matches(json_array_get(got, i), v, ip, where, size))
				return 0;
			where[n] = '\0';
		}
		return 1;
	}
	return json_equal(got, want);
}

START_TEST(test_defaults_golden)
{
	char in[4096], exp[4096], rel[512], where[1024] = "";
	json_t *docs = NULL, *obj, *want, *again;
	json_error_t jerr;
	const char *ip = NULL;
	char *dump;

	snprintf(rel, sizeof(rel), "sim/defaults/%s/in.yaml", cases[_i]);
	test_data_path(in, sizeof(in), rel);
	snprintf(rel, sizeof(rel), "sim/defaults/%s/expected.json", cases[_i]);
	test_data_path(exp, sizeof(exp), rel);
	ck_assert_msg(cairn_yaml_load_file(&docs, NULL, in, NULL) == 0, "%s",
	              cairn_error_last()->message);
	want = json_load_file(exp, 0, &jerr);
	ck_assert_msg(want != NULL, "%s: %s", exp, jerr.text);
	obj = json_array_get(docs, 0);
	ck_assert_int_eq(sim_default(obj), 0);
	dump = json_dumps(obj, JSON_SORT_KEYS | JSON_INDENT(1));
	ck_assert_msg(matches(obj, want, &ip, where, sizeof(where)), "%s: differs at '%s':\n%s",
	              cases[_i], where, dump);
	free(dump);
	/* defaulting twice changes nothing */
	again = json_deep_copy(obj);
	ck_assert_int_eq(sim_default(again), 0);
	ck_assert(json_equal(again, obj));
	json_decref(again);
	json_decref(want);
	json_decref(docs);
}
END_TEST

START_TEST(test_defaults_cluster_ip_stable)
{
	json_t *a = J("{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"a\","
	              "\"namespace\":\"x\"},\"spec\":{\"ports\":[{\"port\":1}]}}");
	json_t *b = json_deep_copy(a), *c = json_deep_copy(a);

	json_object_set_new(json_object_get(c, "metadata"), "name", json_string("b"));
	sim_default(a);
	sim_default(b);
	sim_default(c);
	/* the same Service gets the same address; another one another address */
	ck_assert(json_equal(json_object_get(a, "spec"), json_object_get(b, "spec")));
	ck_assert_str_ne(
	        json_string_value(json_object_get(json_object_get(a, "spec"), "clusterIP")),
	        json_string_value(json_object_get(json_object_get(c, "spec"), "clusterIP")));
	json_decref(a);
	json_decref(b);
	json_decref(c);
}
END_TEST

void sim_objects_defaults_tests(Suite *s)
{
	TCase *tc = tcase_create("defaults");

	tcase_add_loop_test(tc, test_defaults_golden, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, test_defaults_cluster_ip_stable);
	suite_add_tcase(s, tc);
}
