/*
 * rollout_analysis.c - Argo's measurement rules, the run's counters and
 * limits, the schedule (initialDelay, interval, count), arguments and
 * template parsing errors.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/analysis.h"
#include "cairn/error.h"
#include "rollout_tests.h"
#include "testutil.h"

#define SEC 1000000LL

/* JSON written with ' for " (templates are easier to read that way). */
static json_t *J(const char *text)
{
	char *s = strdup(text);
	json_error_t err;
	json_t *v;

	ck_assert_ptr_nonnull(s);
	for (char *p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	v = json_loads(s, 0, &err);
	ck_assert_msg(v != NULL, "bad test JSON at %d: %s: %s", err.position, err.text, s);
	free(s);
	return v;
}

/* A template with one metric whose fields are `fields` (JSON members). */
static cairn_analysis_template *tmpl(const char *args, const char *fields)
{
	char text[4096];
	cairn_analysis_template *t = NULL;
	json_t *doc;

	snprintf(text, sizeof(text),
	         "{'apiVersion':'argoproj.io/v1alpha1','kind':'AnalysisTemplate',"
	         "'metadata':{'name':'t'},'spec':{%s%s'metrics':[{'name':'m',"
	         "'provider':{'prometheus':{'address':'http://p','query':'q{{args.svc}}'}}%s%s}]}}",
	         args ? args : "'args':[{'name':'svc','value':'x'}]", ",", fields[0] ? "," : "",
	         fields);
	doc = J(text);
	ck_assert_msg(cairn_analysis_template_parse(&t, doc, NULL) == 0, "%s",
	              cairn_error_last()->message);
	json_decref(doc);
	return t;
}

static const struct {
	const char *success, *failure;
	double value;
	cairn_analysis_phase want;
} rules[] = {
        {NULL, NULL, 1, CAIRN_ANALYSIS_SUCCESSFUL},
        {"result < 1", NULL, 0.5, CAIRN_ANALYSIS_SUCCESSFUL},
        {"result < 1", NULL, 2, CAIRN_ANALYSIS_FAILED},
        {NULL, "result > 1", 0.5, CAIRN_ANALYSIS_SUCCESSFUL},
        {NULL, "result > 1", 2, CAIRN_ANALYSIS_FAILED},
        {"result < 1", "result > 2", 1.5, CAIRN_ANALYSIS_INCONCLUSIVE},
        {"result < 1", "result > 2", 0.5, CAIRN_ANALYSIS_SUCCESSFUL},
        {"result < 1", "result > 2", 3, CAIRN_ANALYSIS_FAILED},
        {"result > 0", "result > 1", 2, CAIRN_ANALYSIS_FAILED}, /* both true: failure wins */
        {"result[0] < 1", NULL, 0.5, CAIRN_ANALYSIS_ERROR},
        {"result", NULL, 0.5, CAIRN_ANALYSIS_ERROR}, /* not a bool */
        /* NaN: never a success by accident */
        {"result < 0.05", NULL, NAN, CAIRN_ANALYSIS_FAILED},
        {NULL, "result > 0.05", NAN, CAIRN_ANALYSIS_ERROR},
        {"!(result > 0.05)", NULL, NAN, CAIRN_ANALYSIS_ERROR},
        {"result < 0.05", "result >= 0.05", NAN, CAIRN_ANALYSIS_INCONCLUSIVE},
        {NULL, "isNaN(result) || result > 0.05", NAN, CAIRN_ANALYSIS_FAILED},
        {"!isNaN(result) && result < 0.05", NULL, NAN, CAIRN_ANALYSIS_FAILED},
        {"result < 0.05", NULL, INFINITY, CAIRN_ANALYSIS_FAILED},
        {NULL, "result > 0.05", -INFINITY, CAIRN_ANALYSIS_SUCCESSFUL},
};

START_TEST(test_rules)
{
	cairn_analysis_metric m = {0};
	cairn_value *v = cairn_value_new_float(rules[_i].value);
	cairn_analysis_phase p = CAIRN_ANALYSIS_PENDING;
	char *msg = NULL;

	if (rules[_i].success != NULL)
		ck_assert_int_eq(cairn_expr_compile(&m.success, rules[_i].success), 0);
	if (rules[_i].failure != NULL)
		ck_assert_int_eq(cairn_expr_compile(&m.failure, rules[_i].failure), 0);
	ck_assert_int_eq(cairn_analysis_evaluate(&p, &msg, &m, v), 0);
	ck_assert_msg(p == rules[_i].want, "case %d: got %s, want %s", _i,
	              cairn_analysis_phase_name(p), cairn_analysis_phase_name(rules[_i].want));
	ck_assert_int_eq(msg != NULL, p == CAIRN_ANALYSIS_ERROR);
	if (rules[_i].value != rules[_i].value && p == CAIRN_ANALYSIS_ERROR)
		ck_assert_str_eq(msg, "the result is NaN and the conditions compared it: test "
		                      "isNaN() first");
	if (_i == 9)
		ck_assert_str_eq(msg, "cannot index float at 7 in 'result[0] < 1'");
	free(msg);
	cairn_value_free(v);
	cairn_expr_free(m.success);
	cairn_expr_free(m.failure);
}
END_TEST

/* Feed a run a sequence of values ('s' 0.01, 'f' 0.5, 'e' provider error)
 * one interval apart; returns the final phase and how many were taken. */
static cairn_analysis_phase feed(cairn_analysis_run *r, const char *seq, int *taken)
{
	cairn_usec now = 100 * SEC;
	cairn_analysis_next nx;
	int phase = CAIRN_ANALYSIS_PENDING;

	*taken = 0;
	for (const char *p = seq; *p; p++) {
		cairn_value *v = cairn_value_new_float(*p == 's' ? 0.01 : 0.5);

		cairn_analysis_run_step(r, now + 3600 * SEC, &nx);
		if (nx.metric < 0) {
			cairn_value_free(v);
			break;
		}
		phase = cairn_analysis_run_record(r, 0, *p == 'e' ? NULL : v,
		                                  *p == 'e' ? "connection refused" : NULL, now,
		                                  now);
		ck_assert_int_ge(phase, 0);
		(*taken)++;
		now += 10 * SEC;
		cairn_value_free(v);
	}
	return (cairn_analysis_phase)phase;
}

static const struct {
	const char *fields;
	const char *seq;
	cairn_analysis_phase want;
	int taken;
} limits[] = {
        {"'interval':'1s','count':3,'successCondition':'result < 0.05'", "sss",
         CAIRN_ANALYSIS_SUCCESSFUL, 3},
        {"'interval':'1s','count':3,'successCondition':'result < 0.05'", "sfs",
         CAIRN_ANALYSIS_FAILED, 2},
        {"'interval':'1s','count':3,'failureLimit':1,'successCondition':'result < 0.05'", "sfs",
         CAIRN_ANALYSIS_SUCCESSFUL, 3},
        {"'interval':'1s','count':5,'failureLimit':1,'successCondition':'result < 0.05'", "sffss",
         CAIRN_ANALYSIS_FAILED, 3},
        {"'interval':'1s','count':3,'failureLimit':-1,'successCondition':'result < 0.05'", "fff",
         CAIRN_ANALYSIS_SUCCESSFUL, 3},
        {"'interval':'1s','count':3,'successCondition':'result < 0.05',"
         "'failureCondition':'result > 0.9'",
         "sf", CAIRN_ANALYSIS_INCONCLUSIVE, 2},
        {"'interval':'1s','count':3,'inconclusiveLimit':1,'successCondition':'result < 0.05',"
         "'failureCondition':'result > 0.9'",
         "sfs", CAIRN_ANALYSIS_SUCCESSFUL, 3},
        /* consecutiveErrorLimit defaults to 4: the fifth error in a row ends it */
        {"'interval':'1s','successCondition':'result < 0.05'", "eeeeessss", CAIRN_ANALYSIS_ERROR,
         5},
        /* errors do not count towards `count`: two successes are needed */
        {"'interval':'1s','count':2,'successCondition':'result < 0.05'", "eeeeseeees",
         CAIRN_ANALYSIS_SUCCESSFUL, 10},
        /* a provider down for a whole count's worth never ends Successful */
        {"'interval':'1s','count':2,'successCondition':'result < 0.05'", "eeeees",
         CAIRN_ANALYSIS_ERROR, 5},
        {"'interval':'1s','count':3,'consecutiveErrorLimit':0,'successCondition':'result < 0.05'",
         "se", CAIRN_ANALYSIS_ERROR, 2},
        /* neither count nor interval: measured once */
        {"'successCondition':'result < 0.05'", "ss", CAIRN_ANALYSIS_SUCCESSFUL, 1},
        /* interval without count: runs until something ends it */
        {"'interval':'1s','successCondition':'result < 0.05'", "sssssssf", CAIRN_ANALYSIS_FAILED,
         8},
        {"'interval':'1s','successCondition':'result < 0.05'", "sss", CAIRN_ANALYSIS_RUNNING, 3},
};

START_TEST(test_limits)
{
	cairn_analysis_template *t = tmpl(NULL, limits[_i].fields);
	cairn_analysis_run *r = NULL;
	cairn_analysis_metric_status st;
	int taken;
	cairn_analysis_phase p;

	ck_assert_int_eq(cairn_analysis_run_new(&r, t, NULL, 0, NULL, NULL, 100 * SEC), 0);
	ck_assert_int_eq(cairn_analysis_run_phase(r), CAIRN_ANALYSIS_PENDING);
	p = feed(r, limits[_i].seq, &taken);
	ck_assert_msg(p == limits[_i].want, "case %d: %s, want %s", _i,
	              cairn_analysis_phase_name(p), cairn_analysis_phase_name(limits[_i].want));
	ck_assert_int_eq(taken, limits[_i].taken);
	cairn_analysis_run_status(r, 0, &st);
	ck_assert_int_eq(st.count, taken - st.error); /* errors are not counted */
	ck_assert_int_eq(st.successful + st.failed + st.inconclusive + st.error, taken);
	ck_assert_uint_eq(st.n_measurements,
	                  taken < CAIRN_ANALYSIS_KEEP ? taken : CAIRN_ANALYSIS_KEEP);
	cairn_analysis_run_free(r);
	cairn_analysis_template_free(t);
}
END_TEST

START_TEST(test_schedule)
{
	cairn_analysis_template *t = tmpl(NULL, "'interval':'30s','initialDelay':'1m','count':2,"
	                                        "'successCondition':'result < 0.05'");
	cairn_analysis_run *r = NULL;
	cairn_analysis_next nx;
	cairn_analysis_metric_status st;
	cairn_value *v = cairn_value_new_float(0.01);
	cairn_usec t0 = 1000 * SEC;

	ck_assert_int_eq(cairn_analysis_run_new(&r, t, NULL, 0, NULL, NULL, t0), 0);
	cairn_analysis_run_step(r, t0, &nx);
	ck_assert_int_eq(nx.metric, -1);
	ck_assert_int_eq(nx.at, t0 + 60 * SEC);
	ck_assert_int_eq(nx.phase, CAIRN_ANALYSIS_PENDING);
	cairn_analysis_run_step(r, t0 + 60 * SEC, &nx);
	ck_assert_int_eq(nx.metric, 0);
	ck_assert_int_eq(cairn_analysis_run_record(r, 0, v, NULL, t0 + 60 * SEC, t0 + 61 * SEC),
	                 CAIRN_ANALYSIS_RUNNING);
	cairn_analysis_run_step(r, t0 + 61 * SEC, &nx);
	ck_assert_int_eq(nx.metric, -1);
	ck_assert_int_eq(nx.at, t0 + 91 * SEC); /* interval counts from the end */
	ck_assert_int_eq(cairn_analysis_run_record(r, 0, v, NULL, t0 + 91 * SEC, t0 + 91 * SEC),
	                 CAIRN_ANALYSIS_SUCCESSFUL);
	cairn_analysis_run_step(r, t0 + 200 * SEC, &nx);
	ck_assert_int_eq(nx.metric, -1);
	ck_assert_int_eq(nx.at, 0);
	ck_assert_int_eq(nx.phase, CAIRN_ANALYSIS_SUCCESSFUL);
	ck_assert_int_eq(cairn_analysis_run_record(r, 0, v, NULL, 0, 0), CAIRN_EINVAL);
	ck_assert_error_contains("metric 'm' is already Successful");
	ck_assert_int_eq(cairn_analysis_run_record(r, 3, v, NULL, 0, 0), CAIRN_EINVAL);
	ck_assert_error_contains("no metric 3 (the run has 1)");
	cairn_analysis_run_status(r, 0, &st);
	ck_assert_str_eq(st.measurements[0].value, "0.01");
	ck_assert_int_eq(st.measurements[1].started, t0 + 91 * SEC);
	cairn_value_free(v);
	cairn_analysis_run_free(r);
	cairn_analysis_template_free(t);
}
END_TEST

static int fake_secret(char **out, const char *name, const char *key, void *ud)
{
	(void)ud;
	if (strcmp(name, "tok") != 0)
		return cairn_error_set(CAIRN_ENOTFOUND, "secret '%s' not found", name);
	*out = strdup(key);
	return 0;
}

START_TEST(test_args)
{
	cairn_analysis_template *t =
	        tmpl("'args':[{'name':'svc'},{'name':'n','value':'3'},"
	             "{'name':'key','valueFrom':{'secretKeyRef':{'name':'tok','key':'api'}}}]",
	             "'interval':'{{ args.n }}s','count':'{{args.n}}',"
	             "'successCondition':'result < {{args.n}}'");
	cairn_analysis_arg args[] = {{"svc", "web"}, {"n", "5"}};
	cairn_analysis_arg undeclared[] = {{"svc", "web"}, {"zone", "a"}};
	cairn_analysis_run *r = NULL;
	const cairn_analysis_metric *m;

	ck_assert_int_eq(cairn_analysis_run_new(&r, t, args, 1, NULL, NULL, 0), CAIRN_EUNSUPPORTED);
	ck_assert_error_contains(
	        "argument 'key' comes from a secret and no secret resolver was given");
	ck_assert_int_eq(cairn_analysis_run_new(&r, t, NULL, 0, fake_secret, NULL, 0),
	                 CAIRN_EINVAL);
	ck_assert_error_contains("argument 'svc' has no value");
	ck_assert_int_eq(cairn_analysis_run_new(&r, t, undeclared, 2, fake_secret, NULL, 0),
	                 CAIRN_EINVAL);
	ck_assert_error_contains("argument 'zone' is not declared by template 't'");
	ck_assert_ptr_null(r);
	ck_assert_int_eq(cairn_analysis_run_new(&r, t, args, 2, fake_secret, NULL, 0), 0);
	m = cairn_analysis_run_metric(r, 0);
	ck_assert_str_eq(json_string_value(json_object_get(m->provider_spec, "query")), "qweb");
	ck_assert_int_eq(m->count, 5);
	ck_assert_int_eq(m->interval_ns, 5000000000LL);
	ck_assert_str_eq(cairn_expr_source(m->success), "result < 5");
	ck_assert_str_eq(m->provider, "prometheus");
	cairn_analysis_run_free(r);
	cairn_analysis_template_free(t);

	/* a placeholder naming no argument, or not an argument at all */
	t = tmpl(NULL, "'successCondition':'result < {{args.limit}}'");
	ck_assert_int_eq(cairn_analysis_run_new(&r, t, NULL, 0, NULL, NULL, 0), CAIRN_EINVAL);
	ck_assert_error_contains("template 't': spec.metrics[0]: argument 'limit' is not defined "
	                         "(in 'result < {{args.limit}}')");
	cairn_analysis_template_free(t);
	t = tmpl(NULL, "'successCondition':'result < {{metric.x}}'");
	ck_assert_int_eq(cairn_analysis_run_new(&r, t, NULL, 0, NULL, NULL, 0), CAIRN_EINVAL);
	ck_assert_error_contains("unsupported placeholder '{{metric.x}}'");
	cairn_analysis_template_free(t);
	/* a substituted value that breaks the field is caught strictly */
	t = tmpl(NULL, "'count':'{{args.svc}}'");
	ck_assert_int_eq(cairn_analysis_run_new(&r, t, NULL, 0, NULL, NULL, 0), CAIRN_EINVAL);
	ck_assert_error_contains("spec.metrics[0].count: 'x' is not an integer");
	cairn_analysis_template_free(t);
}
END_TEST

static const struct {
	const char *doc;
	int code;
	const char *err;
} bad_templates[] = {
        {"{'apiVersion':'v1','kind':'AnalysisTemplate'}", CAIRN_EINVAL,
         "f.yaml: apiVersion: expected 'argoproj.io/v1alpha1', got 'v1'"},
        {"{'apiVersion':'argoproj.io/v1alpha1','kind':'Rollout'}", CAIRN_EINVAL,
         "kind: expected 'AnalysisTemplate' or 'ClusterAnalysisTemplate', got 'Rollout'"},
        {"{'apiVersion':'argoproj.io/v1alpha1','kind':'ClusterAnalysisTemplate','metadata':{}}",
         CAIRN_EINVAL, "metadata.name: expected a non-empty string"},
        {"{'apiVersion':'argoproj.io/v1alpha1','kind':'AnalysisTemplate','metadata':{'name':'a'},"
         "'spec':{'metrics':[]}}",
         CAIRN_EINVAL, "spec.metrics: expected a non-empty list"},
        {"{'apiVersion':'argoproj.io/v1alpha1','kind':'AnalysisTemplate','metadata':{'name':'a'},"
         "'spec':{'metrics':[{'name':'m','interval':'5 minutes','provider':{'web':{}}}]}}",
         CAIRN_EINVAL, "spec.metrics[0].interval: '5 minutes' is not a duration such as '30s'"},
        {"{'apiVersion':'argoproj.io/v1alpha1','kind':'AnalysisTemplate','metadata':{'name':'a'},"
         "'spec':{'metrics':[{'name':'m','failureLimit':'two','provider':{'web':{}}}]}}",
         CAIRN_EINVAL, "spec.metrics[0].failureLimit: 'two' is not an integer"},
        {"{'apiVersion':'argoproj.io/v1alpha1','kind':'AnalysisTemplate','metadata':{'name':'a'},"
         "'spec':{'metrics':[{'name':'m','provider':{'web':{}}},"
         "{'name':'n','successCondition':'foo(result)','provider':{'web':{}}}]}}",
         CAIRN_EINVAL,
         "spec.metrics[1].successCondition: unknown function 'foo' at 1 in 'foo(result)'"},
        {"{'apiVersion':'argoproj.io/v1alpha1','kind':'AnalysisTemplate','metadata':{'name':'a'},"
         "'spec':{'metrics':[{'name':'m','provider':{'datadog':{}}}]}}",
         CAIRN_EUNSUPPORTED, "spec.metrics[0].provider: provider 'datadog' is not supported"},
        {"{'apiVersion':'argoproj.io/v1alpha1','kind':'AnalysisTemplate','metadata':{'name':'a'},"
         "'spec':{'metrics':[{'name':'m'}]}}",
         CAIRN_EINVAL, "spec.metrics[0].provider: expected an object"},
        {"{'apiVersion':'argoproj.io/v1alpha1','kind':'AnalysisTemplate','metadata':{'name':'a'},"
         "'spec':{'metrics':[{'name':'m','provider':{'web':{},'prometheus':{}}}]}}",
         CAIRN_EINVAL, "spec.metrics[0].provider: expected exactly one provider, got 2"},
        {"{'apiVersion':'argoproj.io/v1alpha1','kind':'AnalysisTemplate','metadata':{'name':'a'},"
         "'spec':{'metrics':[{'name':'m','consecutiveSuccessLimit':2,'provider':{'web':{}}}]}}",
         CAIRN_EUNSUPPORTED, "spec.metrics[0].consecutiveSuccessLimit: field is not supported"},
        {"{'apiVersion':'argoproj.io/v1alpha1','kind':'AnalysisTemplate','metadata':{'name':'a'},"
         "'spec':{'metrics':[{'name':'m','count':3,'provider':{'web':{}}}]}}",
         CAIRN_EINVAL, "spec.metrics[0].interval: required when count is more than 1"},
        {"{'apiVersion':'argoproj.io/v1alpha1','kind':'AnalysisTemplate','metadata':{'name':'a'},"
         "'spec':{'metrics':[{'name':'m','provider':{'web':{}}},{'name':'m','provider':{'web':{}}}]"
         "}}",
         CAIRN_EINVAL, "spec.metrics[1].name: metric 'm' is defined twice"},
        {"{'apiVersion':'argoproj.io/v1alpha1','kind':'AnalysisTemplate','metadata':{'name':'a'},"
         "'spec':{'args':[{'name':'x','valueFrom':{'fieldRef':{'fieldPath':'a'}}}],"
         "'metrics':[{'name':'m','provider':{'web':{}}}]}}",
         CAIRN_EUNSUPPORTED, "spec.args[0].valueFrom: only secretKeyRef is supported"},
        {"{'apiVersion':'argoproj.io/v1alpha1','kind':'AnalysisTemplate','metadata':{'name':'a'},"
         "'spec':{'dryRun':[{'metricName':'m'}],'metrics':[{'name':'m','provider':{'web':{}}}]}}",
         CAIRN_EUNSUPPORTED, "spec.dryRun: dry-run metrics are not supported"},
};

START_TEST(test_template_errors)
{
	cairn_analysis_template *t = NULL;
	json_t *doc = J(bad_templates[_i].doc);

	ck_assert_int_eq(cairn_analysis_template_parse(&t, doc, "f.yaml"), bad_templates[_i].code);
	ck_assert_ptr_null(t);
	ck_assert_error_contains(bad_templates[_i].err);
	json_decref(doc);
}
END_TEST

START_TEST(test_two_metrics)
{
	json_t *doc = J("{'apiVersion':'argoproj.io/v1alpha1','kind':'ClusterAnalysisTemplate',"
	                "'metadata':{'name':'c'},'spec':{'metrics':["
	                "{'name':'a','interval':'1s','count':2,'successCondition':'result < 1',"
	                "'provider':{'web':{'url':'http://x'}}},"
	                "{'name':'b','initialDelay':'5s','successCondition':'result < 1',"
	                "'provider':{'web':{'url':'http://x'}}}]}}");
	cairn_analysis_template *t = NULL;
	cairn_analysis_run *r = NULL;
	cairn_analysis_next nx;
	cairn_value *ok = cairn_value_new_float(0.5), *bad = cairn_value_new_float(2);

	ck_assert_int_eq(cairn_analysis_template_parse(&t, doc, NULL), 0);
	ck_assert_str_eq(cairn_analysis_template_name(t), "c");
	ck_assert_int_eq(cairn_analysis_run_new(&r, t, NULL, 0, NULL, NULL, 0), 0);
	ck_assert_uint_eq(cairn_analysis_run_metrics(r), 2);
	cairn_analysis_run_step(r, 0, &nx);
	ck_assert_int_eq(nx.metric, 0);
	ck_assert_int_eq(cairn_analysis_run_record(r, 0, ok, NULL, 0, 0), CAIRN_ANALYSIS_RUNNING);
	cairn_analysis_run_step(r, 0, &nx);
	ck_assert_int_eq(nx.metric, -1);
	ck_assert_int_eq(nx.at, 1 * SEC);
	ck_assert_int_eq(cairn_analysis_run_record(r, 0, ok, NULL, SEC, SEC),
	                 CAIRN_ANALYSIS_RUNNING); /* b still pending */
	cairn_analysis_run_step(r, 5 * SEC, &nx);
	ck_assert_int_eq(nx.metric, 1);
	/* one failed metric fails the run */
	ck_assert_int_eq(cairn_analysis_run_record(r, 1, bad, NULL, 5 * SEC, 5 * SEC),
	                 CAIRN_ANALYSIS_FAILED);
	cairn_value_free(ok);
	cairn_value_free(bad);
	cairn_analysis_run_free(r);
	cairn_analysis_template_free(t);
	json_decref(doc);
}
END_TEST

static const struct {
	const char *path;
	const char *want; /* the value as JSON, or "!" + part of the error */
} paths[] = {
        {"{$}", "{\"a\":{\"b\":[1,{\"c\":\"x\"}],\"k.e\":true}}"},
        {"{$.a.b[0]}", "1"},
        {"{.a.b[1].c}", "\"x\""},
        {"{$.a['k.e']}", "true"},
        {"{$.a[\"b\"][1]}", "{\"c\":\"x\"}"},
        {"{$.a.z}", "!jsonPath '{$.a.z}': no member 'z'"},
        {"{$.a.b[5]}", "!jsonPath '{$.a.b[5]}': no element [5]"},
        {"{$.a.b[*]}", "!only .name, ['name'] and [N] steps are supported (at '[*]')"},
        {"{$..c}", "!only .name, ['name'] and [N] steps are supported"},
        {"$.a", "!jsonPath '$.a': expected '{$.field}'"},
        {"{$.a['b}", "!jsonPath '{$.a['b}': unterminated key"},
};

START_TEST(test_jsonpath)
{
	json_t *doc = J("{'a':{'b':[1,{'c':'x'}],'k.e':true}}");
	const json_t *v = NULL;
	int rc = cairn_analysis_jsonpath(&v, doc, paths[_i].path);

	if (paths[_i].want[0] == '!') {
		ck_assert_int_lt(rc, 0);
		ck_assert_ptr_null(v);
		ck_assert_error_contains(paths[_i].want + 1);
	} else {
		char *text;

		ck_assert_msg(rc == 0, "%s: %s", paths[_i].path, cairn_error_last()->message);
		text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
		ck_assert_str_eq(text, paths[_i].want);
		free(text);
	}
	json_decref(doc);
}
END_TEST

/* Providers that cannot answer: each is an error with a message, which a
 * run records as an Error measurement. */
START_TEST(test_provider_errors)
{
	cairn_analysis_metric m = {0};
	cairn_analysis_ctx ctx = CAIRN_ANALYSIS_CTX_INIT;
	cairn_value *v = NULL;

	m.name = "m";
	m.provider = "prometheus";
	m.provider_spec = J("{'address':'http://127.0.0.1:1/','query':'up','timeout':2}");
	ck_assert_int_eq(cairn_analysis_measure(&v, &m, &ctx), CAIRN_EIO);
	ck_assert_error_contains("prometheus: GET http://127.0.0.1:1/api/v1/query?query=up: ");
	json_decref(m.provider_spec);
	m.provider_spec = J("{'query':'up'}");
	ck_assert_int_eq(cairn_analysis_measure(&v, &m, &ctx), CAIRN_EINVAL);
	ck_assert_error_contains("prometheus: 'address' and 'query' are required");
	json_decref(m.provider_spec);
	m.provider = "web";
	m.provider_spec = J("{'url':'http://127.0.0.1:1/x','method':'DELETE'}");
	ck_assert_int_eq(cairn_analysis_measure(&v, &m, &ctx), CAIRN_EINVAL);
	ck_assert_error_contains("web: method 'DELETE' is not GET, POST or PUT");
	json_decref(m.provider_spec);
	m.provider_spec = J("{'url':'http://127.0.0.1:1/x','body':'{}'}");
	ck_assert_int_eq(cairn_analysis_measure(&v, &m, &ctx), CAIRN_EINVAL);
	ck_assert_error_contains("web: a body needs method POST or PUT");
	json_decref(m.provider_spec);
	m.provider_spec =
	        J("{'url':'http://127.0.0.1:1/x','headers':[{'key':'A\\nB','value':'v'}]}");
	ck_assert_int_eq(cairn_analysis_measure(&v, &m, &ctx), CAIRN_EINVAL);
	ck_assert_error_contains("headers[0]: expected a key and a value without line breaks");
	json_decref(m.provider_spec);
	m.provider = "kubernetes";
	m.provider_spec = J("{'name':'web'}");
	ck_assert_int_eq(cairn_analysis_measure(&v, &m, &ctx), CAIRN_EINVAL);
	ck_assert_error_contains("kubernetes: no cluster client was given");
	m.provider = "job";
	ck_assert_int_eq(cairn_analysis_measure(&v, &m, &ctx), CAIRN_EUNSUPPORTED);
	ck_assert_error_contains("metric 'm': provider 'job' is not supported yet");
	ck_assert_ptr_null(v);
	json_decref(m.provider_spec);
}
END_TEST

void rollout_analysis_tests(Suite *s)
{
	TCase *tc = tcase_create("analysis");

	tcase_add_loop_test(tc, test_rules, 0, (int)(sizeof(rules) / sizeof(rules[0])));
	tcase_add_loop_test(tc, test_limits, 0, (int)(sizeof(limits) / sizeof(limits[0])));
	tcase_add_test(tc, test_schedule);
	tcase_add_test(tc, test_args);
	tcase_add_loop_test(tc, test_template_errors, 0,
	                    (int)(sizeof(bad_templates) / sizeof(bad_templates[0])));
	tcase_add_test(tc, test_two_metrics);
	tcase_add_loop_test(tc, test_jsonpath, 0, (int)(sizeof(paths) / sizeof(paths[0])));
	tcase_add_test(tc, test_provider_errors);
	suite_add_tcase(s, tc);
}
