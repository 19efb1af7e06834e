/* rollout_engine_bg.c - blue-green rollouts against a real cairn-sim:
 * preview, pre-promotion analysis passing and failing, promotion by
 * request, the scale-down delay and the switch back inside it, and the
 * Service selector key surviving sync's own server-side apply. */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "../../src/rollout/rollout_private.h"
#include "../../src/sync/run_private.h"
#include "cairn/error.h"
#include "cairn/util.h"
#include "rollout_engine_world.h"
#include "rollout_tests.h"
#include "testutil.h"

static void expect_svc(ro_world *w, const char *svc, const json_t *ro)
{
	char want[16], got[32];

	ro_hash(want, ro);
	svc_hash(w, svc, got, sizeof(got));
	ck_assert_str_eq(got, want);
}

/* Sync applying the Service from git again as sync does it: the live
 * rollout hash key goes into the applied selector (spec.selector is an
 * atomic map; an apply without the key would replace it whole). */
static void resync_service(ro_world *w, const char *name, const char *app)
{
	cairn_kube_mapping m;
	json_t *live = NULL;
	json_t *o = json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:{s:s},s:[{s:i}]}}", "apiVersion", "v1",
	                      "kind", "Service", "metadata", "name", name, "namespace", "default",
	                      "spec", "selector", "app", app, "ports", "port", 80);

	ck_assert_int_eq(cairn_kube_mapping_for(w->kube, "v1", "Service", &m), 0);
	ck_assert_int_eq(cairn_kube_get(w->kube, &m, "default", name, &live), 0);
	ck_assert_int_eq(sync__rollout_hash_keep(o, live), 1);
	ck_assert_int_eq(cairn_kube_apply(w->kube, o, 0, NULL), 0);
	json_decref(live);
	json_decref(o);
}

static int svc_marked(ro_world *w, const char *svc)
{
	cairn_kube_mapping m;
	json_t *o = NULL;
	int marked;

	ck_assert_int_eq(cairn_kube_mapping_for(w->kube, "v1", "Service", &m), 0);
	ck_assert_int_eq(cairn_kube_get(w->kube, &m, "default", svc, &o), 0);
	marked = json_object_get(json_object_get(json_object_get(o, "metadata"), "annotations"),
	                         CAIRN_ROLLOUT_MARKER) != NULL;
	json_decref(o);
	return marked;
}

/* Pre-promotion analysis passing: promoted, the old ReplicaSet scaled down
 * after the delay. Then a release whose analysis fails: never promoted. */
START_TEST(bluegreen_analysis_pass_then_fail)
{
	const char *strat = "{'blueGreen':{'activeService':'bg-active','previewService':'bg-"
	                    "preview','scaleDownDelaySeconds':1,'prePromotionAnalysis':{'templates'"
	                    ":[{'templateName':'errs'}]}}}";
	json_t *v1 = make_rollout("bg", 2, "app:v1", strat);
	json_t *v2 = make_rollout("bg", 2, "app:v2", strat);
	json_t *v3 = make_rollout("bg", 2, "app:v3", strat);
	cairn_rollout_result res;
	int n, ready, port = web_start();
	ro_world w;

	world_open(&w);
	make_service(&w, "bg-active", "bg");
	make_service(&w, "bg-preview", "bg");
	add_template(&w, "errs", port, "'successCondition':'result < 0.1'");
	web_set(0.0);
	apply(&w, &res, "v1", v1);
	drive(&w, &res, "bg", 15000, NULL, NULL);
	ck_assert_str_eq(res.phase, "Healthy");
	expect_svc(&w, "bg-active", v1);

	apply(&w, &res, "v2", v2);
	drive(&w, &res, "bg", 15000, NULL, NULL);
	ck_assert_msg(strcmp(res.phase, "Healthy") == 0, "%s: %s", res.phase, res.message);
	expect_svc(&w, "bg-active", v2);
	expect_svc(&w, "bg-preview", v2);
	ck_assert_int_eq(svc_marked(&w, "bg-active"), 0); /* sync may update it again */
	rs_counts(&w, "bg", v1, &n, &ready);
	ck_assert_int_eq(n, 2); /* inside the scale-down delay */
	ck_assert_int_gt(res.next_at, 0);
	usleep(1100000);
	ck_assert_int_eq(cairn_rollout_tick(&res, &w.ctx, "app", "env", "bg"), 0);
	rs_counts(&w, "bg", v1, &n, &ready);
	ck_assert_int_eq(n, 0);

	web_set(0.5);
	apply(&w, &res, "v3", v3);
	drive(&w, &res, "bg", 15000, NULL, NULL);
	ck_assert_str_eq(res.phase, "Degraded");
	ck_assert_msg(strstr(res.message, "rolled back from v3: analysis 'errs'") != NULL, "%s",
	              res.message);
	expect_svc(&w, "bg-active", v2);
	expect_svc(&w, "bg-preview", v2);
	rs_counts(&w, "bg", v3, &n, &ready);
	ck_assert_int_eq(n, 0);
	rs_counts(&w, "bg", v2, &n, &ready);
	ck_assert_int_eq(n, 2);
	json_decref(v1);
	json_decref(v2);
	json_decref(v3);
	world_close(&w);
}
END_TEST

/* Without auto-promotion: the preview gets the new ReplicaSet and waits; a
 * promote switches; re-applying the old template inside the scale-down
 * window switches straight back. Sync's own apply of the Service (field
 * manager "cairn") keeps the hash key. */
START_TEST(bluegreen_promote_and_switch_back)
{
	const char *strat = "{'blueGreen':{'activeService':'sb-active','previewService':'sb-"
	                    "preview','autoPromotionEnabled':false,'previewReplicaCount':1,"
	                    "'scaleDownDelaySeconds':3}}";
	json_t *v1 = make_rollout("sb", 2, "app:v1", strat);
	json_t *v2 = make_rollout("sb", 2, "app:v2", strat);
	cairn_rollout_result res;
	int n, ready;
	ro_world w;

	world_open(&w);
	make_service(&w, "sb-active", "sb");
	make_service(&w, "sb-preview", "sb");
	apply(&w, &res, "v1", v1);
	drive(&w, &res, "sb", 15000, NULL, NULL);
	expect_svc(&w, "sb-active", v1);
	/* sync applies the Service from git again: the engine's key stays */
	resync_service(&w, "sb-active", "sb");
	expect_svc(&w, "sb-active", v1);

	apply(&w, &res, "v2", v2);
	drive(&w, &res, "sb", 15000, NULL, NULL);
	ck_assert_str_eq(res.phase, "Paused");
	ck_assert_str_eq(res.message, "waiting for promotion");
	expect_svc(&w, "sb-active", v1);
	expect_svc(&w, "sb-preview", v2);
	ck_assert_int_eq(svc_marked(&w, "sb-preview"), 1);
	rs_counts(&w, "sb", v2, &n, &ready);
	ck_assert_int_eq(n, 1); /* previewReplicaCount */
	ck_assert_int_eq(cairn_state_rollout_request(w.st, "app", "env", "sb", "promote"), 0);
	ck_assert_int_eq(cairn_rollout_tick(&res, &w.ctx, "app", "env", "sb"), 0);
	drive(&w, &res, "sb", 15000, NULL, NULL);
	ck_assert_str_eq(res.phase, "Healthy");
	expect_svc(&w, "sb-active", v2);
	rs_counts(&w, "sb", v2, &n, &ready);
	ck_assert_int_eq(n, 2);

	/* v1 again inside the 3 s window: straight back, no new rollout */
	apply(&w, &res, "v1b", v1);
	ck_assert_str_eq(res.phase, "Healthy");
	ck_assert_ptr_nonnull(strstr(res.message, "switched back"));
	expect_svc(&w, "sb-active", v1);
	rs_counts(&w, "sb", v1, &n, &ready);
	ck_assert_int_eq(n, 2);
	/* and v2 goes after the delay */
	usleep(3100000);
	ck_assert_int_eq(cairn_rollout_tick(&res, &w.ctx, "app", "env", "sb"), 0);
	rs_counts(&w, "sb", v2, &n, &ready);
	ck_assert_int_eq(n, 0);
	rs_counts(&w, "sb", v1, &n, &ready);
	ck_assert_int_eq(n, 2);
	json_decref(v1);
	json_decref(v2);
	world_close(&w);
}
END_TEST

void rollout_engine_bg_tests(Suite *s)
{
	TCase *tc = tcase_create("engine_bluegreen");

	tcase_add_unchecked_fixture(tc, rollout_sim_start, rollout_sim_stop);
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, bluegreen_analysis_pass_then_fail);
	tcase_add_test(tc, bluegreen_promote_and_switch_back);
	suite_add_tcase(s, tc);
}
