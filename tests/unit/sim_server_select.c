/* sim_server_select.c - label and field selectors. */
#include <jansson.h>

#include "sim/sim.h"
#include "sim_server_tests.h"
#include "testutil.h"

static json_t *pod(const char *name, const char *app, const char *tier, const char *phase)
{
	json_t *labels = json_object();

	if (app)
		json_object_set_new(labels, "app", json_string(app));
	if (tier)
		json_object_set_new(labels, "tier", json_string(tier));
	return json_pack("{sss{ssssso}s{ss}}", "kind", "Pod", "metadata", "name", name, "namespace",
	                 "default", "labels", labels, "status", "phase", phase);
}

static int matches(const char *ls, const char *fs, const json_t *obj)
{
	sim_selector *s = NULL;
	int m;

	ck_assert_int_eq(sim_selector_parse(&s, ls, fs), 0);
	m = sim_selector_match(s, obj);
	sim_selector_free(s);
	return m;
}

START_TEST(label_operators)
{
	json_t *a = pod("a", "web", "front", "Running"), *b = pod("b", "db", NULL, "Pending");

	ck_assert(matches("app=web", NULL, a));
	ck_assert(!matches("app=web", NULL, b));
	ck_assert(matches("app==web", NULL, a));
	ck_assert(matches("app!=web", NULL, b));
	ck_assert(!matches("app!=web", NULL, a));
	ck_assert(matches("app in (db, cache)", NULL, b));
	ck_assert(!matches("app in (db,cache)", NULL, a));
	ck_assert(matches("app notin (db,cache)", NULL, a));
	ck_assert(matches("tier", NULL, a));
	ck_assert(!matches("tier", NULL, b));
	ck_assert(matches("!tier", NULL, b));
	ck_assert(!matches("!tier", NULL, a));
	ck_assert(matches("app=web,tier=front", NULL, a));
	ck_assert(!matches("app=web,tier=back", NULL, a));
	/* A missing label satisfies != and notin, as in the API server. */
	ck_assert(matches("tier!=front", NULL, b));
	ck_assert(matches("tier notin (front)", NULL, b));
	ck_assert(matches("", "", a));
	json_decref(a);
	json_decref(b);
}
END_TEST

START_TEST(field_selectors)
{
	json_t *a = pod("a", "web", NULL, "Running"), *b = pod("b", "db", NULL, "Pending");

	ck_assert(matches(NULL, "metadata.name=a", a));
	ck_assert(!matches(NULL, "metadata.name=a", b));
	ck_assert(matches(NULL, "metadata.namespace==default", b));
	ck_assert(matches(NULL, "status.phase!=Running", b));
	ck_assert(!matches(NULL, "status.phase!=Running", a));
	ck_assert(matches("app=web", "status.phase=Running", a));
	ck_assert(!matches("app=db", "status.phase=Running", a));
	json_decref(a);
	json_decref(b);
}
END_TEST

START_TEST(bad_selectors)
{
	sim_selector *s = NULL;

	ck_assert_int_eq(sim_selector_parse(&s, NULL, "metadata.name"), CAIRN_EINVAL);
	ck_assert_error_contains("unable to parse requirement");
	ck_assert_ptr_null(s);
	ck_assert_int_eq(sim_selector_parse(&s, "app in (a", NULL), CAIRN_EINVAL);
	ck_assert_int_eq(sim_selector_parse(&s, "=x", NULL), CAIRN_EINVAL);
}
END_TEST

void sim_server_select_tests(Suite *s)
{
	TCase *tc = tcase_create("select");

	tcase_add_test(tc, label_operators);
	tcase_add_test(tc, field_selectors);
	tcase_add_test(tc, bad_selectors);
	suite_add_tcase(s, tc);
}
