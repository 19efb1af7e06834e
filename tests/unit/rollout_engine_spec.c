/* rollout_engine_spec.c - Rollout spec parsing, the pod-template hash and
 * the canary replica arithmetic (pure logic, no cluster). */
#include <string.h>

#include "../../src/rollout/rollout_private.h"
#include "cairn/error.h"
#include "rollout_tests.h"
#include "testutil.h"

/* JSON with single quotes for readability. */
static json_t *J(const char *text)
{
	char buf[4096];
	size_t i;

	ck_assert_uint_lt(strlen(text), sizeof(buf));
	for (i = 0; text[i]; i++)
		buf[i] = text[i] == '\'' ? '"' : text[i];
	buf[i] = '\0';
	json_t *j = json_loads(buf, 0, NULL);
	ck_assert_msg(j != NULL, "bad test JSON: %s", buf);
	return j;
}

#define HEAD                                                                                       \
	"{'apiVersion':'argoproj.io/v1alpha1','kind':'Rollout','metadata':{'name':'web'},"         \
	"'spec':{'selector':{'matchLabels':{'app':'web'}},'template':{'metadata':{'labels':{'app'" \
	":"                                                                                        \
	"'web'}},'spec':{'containers':[{'name':'c','image':'app:v1'}]}},"

START_TEST(spec_defaults)
{
	json_t *ro = J(HEAD "'strategy':{'canary':{'steps':[{'setWeight':20},{'pause':{'duration':'"
	                    "1s'}},{'pause':{'duration':5}},{'pause':{}},{'setCanaryScale':{'"
	                    "replicas':2}}]}}}}");
	ro_spec s;

	ck_assert_int_eq(ro_spec_parse(&s, ro), 0);
	ck_assert_str_eq(s.name, "web");
	ck_assert_str_eq(s.ns, "default");
	ck_assert_int_eq(s.replicas, 1);
	ck_assert_int_eq(s.progress_deadline_s, 600);
	ck_assert_int_eq(s.blue_green, 0);
	ck_assert_uint_eq(s.n_steps, 5);
	ck_assert_int_eq(s.steps[0].weight, 20);
	ck_assert_int_eq(s.steps[1].pause_ns, 1000000000);
	ck_assert_int_eq(s.steps[2].pause_ns, 5000000000);
	ck_assert_int_eq(s.steps[3].pause_ns, -1);
	ck_assert_int_eq(s.steps[4].scale_replicas, 2);
	/* 25% of 1: surge rounds up to 1, unavailable down to 0 */
	ck_assert_int_eq(s.max_surge, 1);
	ck_assert_int_eq(s.max_unavailable, 0);
	ck_assert_uint_eq(strlen(s.hash), 10);
	ck_assert_uint_eq(strspn(s.hash, "bcdfghjklmnpqrstvwxz2456789"), 10);
	json_decref(ro);

	ro = J(HEAD
	       "'replicas':3,'strategy':{'blueGreen':{'activeService':'a','previewService':'p',"
	       "'autoPromotionEnabled':false,'prePromotionAnalysis':{'templates':[{'"
	       "templateName':'t'}],'args':[{'name':'h','valueFrom':{'podTemplateHashValue':"
	       "'Latest'}}]}}}}}");
	ck_assert_int_eq(ro_spec_parse(&s, ro), 0);
	ck_assert_int_eq(s.blue_green, 1);
	ck_assert_int_eq(s.auto_promotion, 0);
	ck_assert_int_eq(s.scale_down_delay_s, 30);
	ck_assert_int_eq(s.abort_scale_down_delay_s, 30);
	ck_assert_int_eq(s.preview_replicas, -1);
	ck_assert_str_eq(s.pre_analysis.templates[0], "t");
	ck_assert_int_eq(s.post_analysis.present, 0);
	json_decref(ro);
}
END_TEST

static const struct {
	const char *tail;
	int code;
	const char *msg;
} bad[] = {
        {"'strategy':{'canary':{'steps':[{'setWeight':20},{'setWeight':40},{'setWeight':150}]}}}}",
         CAIRN_EINVAL, "spec.strategy.canary.steps[2].setWeight: expected 0..100, got '150'"},
        {"'strategy':{'canary':{'steps':[{'pause':{'duration':'soon'}}]}}}}", CAIRN_EINVAL,
         "spec.strategy.canary.steps[0].pause.duration: expected a duration"},
        {"'strategy':{'canary':{'steps':[{'experiment':{}}]}}}}", CAIRN_EUNSUPPORTED,
         "spec.strategy.canary.steps[0].experiment: step 'experiment' is not supported"},
        {"'strategy':{'canary':{'trafficRouting':{'nginx':{}}}}}}", CAIRN_EUNSUPPORTED,
         "spec.strategy.canary.trafficRouting"},
        {"'strategy':{'canary':{'maxSurge':0,'maxUnavailable':'0%'}}}}", CAIRN_EINVAL,
         "spec.strategy.canary.maxUnavailable: may not be 0 when maxSurge is 0"},
        {"'strategy':{'canary':{'maxSurge':'lots'}}}}", CAIRN_EINVAL,
         "spec.strategy.canary.maxSurge: expected an integer or a percentage"},
        {"'strategy':{'blueGreen':{}}}}", CAIRN_EINVAL,
         "spec.strategy.blueGreen.activeService: missing"},
        {"'strategy':{'blueGreen':{'activeService':'a','scaleDownDelaySeconds':-1}}}}",
         CAIRN_EINVAL, "spec.strategy.blueGreen.scaleDownDelaySeconds: expected 0.."},
        {"'strategy':{'rolling':{}}}}", CAIRN_EUNSUPPORTED,
         "spec.strategy.rolling: unknown strategy"},
        {"'workloadRef':{'name':'d'},'strategy':{'canary':{}}}}", CAIRN_EUNSUPPORTED,
         "spec.workloadRef"},
        {"'replicas':'three','strategy':{'canary':{}}}}", CAIRN_EINVAL,
         "spec.replicas: expected 0..100000, got 'three'"},
        {"'strategy':{'canary':{'steps':[{'analysis':{'templates':[]}}]}}}}", CAIRN_EINVAL,
         "spec.strategy.canary.steps[0].analysis.templates: expected 1..8 templates"},
        {"'strategy':{'canary':{'steps':[{'setCanaryScale':{'weight':10,'replicas':1}}]}}}}",
         CAIRN_EINVAL, "steps[0].setCanaryScale: expected one of weight"},
        {"'strategy':{'canary':{'analysis':{'templates':[{'templateName':'t'}],'args':[{'name':"
         "'a','valueFrom':{'fieldRef':{'fieldPath':'x'}}}]}}}}}",
         CAIRN_EUNSUPPORTED, "spec.strategy.canary.analysis.args[0].valueFrom"},
};

START_TEST(spec_errors)
{
	char text[2048];
	json_t *ro;
	ro_spec s;

	snprintf(text, sizeof(text), "%s%s", HEAD, bad[_i].tail);
	ro = J(text);
	ck_assert_int_eq(ro_spec_parse(&s, ro), bad[_i].code);
	ck_assert_error_contains(bad[_i].msg);
	json_decref(ro);
}
END_TEST

START_TEST(hash_and_kinds)
{
	json_t *a = J("{'metadata':{'labels':{'app':'w'}},'spec':{'containers':[{'image':'v1'}]}}");
	json_t *b = J("{'spec':{'containers':[{'image':'v1'}]},'metadata':{'labels':{'app':'w'}}}");
	json_t *c = J("{'metadata':{'labels':{'app':'w'}},'spec':{'containers':[{'image':'v2'}]}}");
	json_t *k;
	char ha[16], hb[16], hc[16];

	ck_assert_int_eq(ro_template_hash(ha, a), 0);
	ck_assert_int_eq(ro_template_hash(hb, b), 0);
	ck_assert_int_eq(ro_template_hash(hc, c), 0);
	ck_assert_str_eq(ha, hb); /* key order does not matter (canonical JSON) */
	ck_assert_str_ne(ha, hc);
	k = J("{'apiVersion':'argoproj.io/v1alpha1','kind':'AnalysisTemplate'}");
	ck_assert_int_eq(cairn_rollout_interpreted_kind(k), 1);
	json_decref(k);
	k = J("{'apiVersion':'argoproj.io/v1alpha1','kind':'ClusterAnalysisTemplate'}");
	ck_assert_int_eq(cairn_rollout_interpreted_kind(k), 1);
	ck_assert_int_eq(cairn_rollout_is_rollout(k), 0); /* a template starts nothing */
	json_decref(k);
	k = J("{'apiVersion':'argoproj.io/v1alpha1','kind':'Application'}");
	ck_assert_int_eq(cairn_rollout_interpreted_kind(k), 0);
	json_decref(k);
	k = J("{'apiVersion':'apps/v1','kind':'Rollout'}");
	ck_assert_int_eq(cairn_rollout_interpreted_kind(k), 0);
	ck_assert_int_eq(cairn_rollout_is_rollout(k), 0);
	json_decref(k);
	k = J("{'apiVersion':'argoproj.io/v1alpha1','kind':'Rollout'}");
	ck_assert_int_eq(cairn_rollout_is_rollout(k), 1);
	json_decref(k);
	k = J("{'apiVersion':'argoproj.io/v1alpha1'}");
	ck_assert_int_eq(cairn_rollout_is_rollout(k), 0);
	json_decref(k);
	ck_assert_int_eq(cairn_rollout_is_rollout(NULL), 0);
	json_decref(a);
	json_decref(b);
	json_decref(c);
}
END_TEST

/* Drive the counts as the engine would, Pods ready at once: the canary
 * never goes above its target, the sum never above replicas + surge, the
 * ready Pods never below replicas - unavailable. */
static void walk(int replicas, int weight, int surge, int unavail, int c0, int s0, int want_c,
                 int want_s)
{
	int c = c0, s = s0, nc, ns, i;
	int target = (weight * replicas + 99) / 100;

	for (i = 0; i < 50; i++) {
		ro_canary_counts(&nc, &ns, replicas, weight, -1, surge, unavail, c, s, c, s);
		ck_assert_int_le(nc, target > c0 ? target : c0);
		ck_assert_int_le(nc + ns, replicas + surge > c + s ? replicas + surge : c + s);
		/* what is ready before the Pods of this move: min(old, new) of each */
		ck_assert_int_ge((nc < c ? nc : c) + (ns < s ? ns : s), replicas - unavail);
		if (nc == c && ns == s)
			break;
		c = nc;
		s = ns;
	}
	ck_assert_int_eq(c, want_c);
	ck_assert_int_eq(s, want_s);
}

START_TEST(canary_counts)
{
	walk(4, 25, 1, 0, 0, 4, 1, 3);
	walk(4, 50, 1, 0, 1, 3, 2, 2);
	walk(4, 50, 0, 1, 0, 4, 2, 2);
	walk(10, 10, 3, 2, 0, 10, 1, 9);
	walk(3, 33, 1, 0, 0, 3, 1, 2); /* ceil(0.99) */
	walk(4, 100, 1, 1, 2, 2, 4, 0);
	/* back to stable at once (an abort does not wait for Pods) */
	int c, st;
	ro_canary_counts(&c, &st, 5, 0, -1, 2, 1, 3, 2, 3, 2);
	ck_assert_int_eq(c, 0);
	ck_assert_int_eq(st, 5);
	/* setCanaryScale: the canary at its own count, the stable by weight */
	ro_canary_counts(&c, &st, 10, 20, 1, 100, 100, 0, 10, 0, 10);
	ck_assert_int_eq(c, 1);
	ck_assert_int_eq(st, 8);
}
END_TEST

void rollout_engine_spec_tests(Suite *s)
{
	TCase *tc = tcase_create("engine_spec");

	tcase_add_test(tc, spec_defaults);
	tcase_add_loop_test(tc, spec_errors, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, hash_and_kinds);
	tcase_add_test(tc, canary_counts);
	suite_add_tcase(s, tc);
}
