/*
 * rollout_runs.c - the analysis runs of a rollout (inline steps,
 * background, blue-green pre/post promotion). A run is a pure state machine
 * (analysis.h); the status keeps only when it started and each measurement
 * taken, and the run is rebuilt by replaying them, so a restarted engine
 * continues a run where it was without measuring twice.
 */
#include <math.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/util.h"
#include "rollout_private.h"

/* A measured value as JSON; NaN and infinities as {"$f": "NaN"|"+Inf"|"-Inf"}. */
static json_t *val_to_json(const cairn_value *v)
{
	json_t *o;
	size_t i;

	switch (v ? v->kind : CAIRN_VALUE_NIL) {
	case CAIRN_VALUE_BOOL:
		return json_boolean(v->b);
	case CAIRN_VALUE_INT:
		return json_integer(v->i);
	case CAIRN_VALUE_FLOAT:
		if (isfinite(v->f))
			return json_real(v->f);
		return json_pack("{s:s}", "$f", isnan(v->f) ? "NaN" : v->f > 0 ? "+Inf" : "-Inf");
	case CAIRN_VALUE_STRING:
		return json_string(v->s ? v->s : "");
	case CAIRN_VALUE_LIST:
		o = json_array();
		for (i = 0; o != NULL && i < v->n; i++)
			json_array_append_new(o, val_to_json(v->items[i]));
		return o;
	case CAIRN_VALUE_MAP:
		o = json_object();
		for (i = 0; o != NULL && i < v->n; i++)
			json_object_set_new(o, v->keys[i], val_to_json(v->items[i]));
		return o;
	default:
		return json_null();
	}
}

static cairn_value *val_from_json(const json_t *j, int depth)
{
	const char *f = json_string_value(json_object_get(j, "$f"));
	cairn_value *v = NULL;
	const char *key;
	json_t *item;
	size_t i;

	if (depth > CAIRN_VALUE_MAX_DEPTH)
		return NULL;
	if (json_is_object(j) && json_object_size(j) == 1 && f != NULL)
		return cairn_value_new_float(strcmp(f, "NaN") == 0    ? NAN
		                             : strcmp(f, "+Inf") == 0 ? INFINITY
		                                                      : -INFINITY);
	switch (json_typeof(j)) {
	case JSON_TRUE:
	case JSON_FALSE:
		return cairn_value_new_bool(json_is_true(j));
	case JSON_INTEGER:
		return cairn_value_new_int(json_integer_value(j));
	case JSON_REAL:
		return cairn_value_new_float(json_real_value(j));
	case JSON_STRING:
		return cairn_value_new_string(json_string_value(j));
	case JSON_ARRAY:
		v = cairn_value_new_list();
		json_array_foreach(j, i, item)
		{
			if (v == NULL ||
			    cairn_value_add(v, NULL, val_from_json(item, depth + 1)) < 0)
				break;
		}
		return v;
	case JSON_OBJECT:
		v = cairn_value_new_map();
		json_object_foreach((json_t *)j, key, item)
		{
			if (v == NULL ||
			    cairn_value_add(v, key, val_from_json(item, depth + 1)) < 0)
				break;
		}
		return v;
	default:
		return cairn_value_new_nil();
	}
}

/* The worst of two run phases, as a rollout sees them: Failed and Error
 * abort, Inconclusive pauses, Running waits. */
static cairn_analysis_phase worst(cairn_analysis_phase a, cairn_analysis_phase b)
{
	static const int rank[] = {
	        [CAIRN_ANALYSIS_SUCCESSFUL] = 0, [CAIRN_ANALYSIS_PENDING] = 1,
	        [CAIRN_ANALYSIS_RUNNING] = 1,    [CAIRN_ANALYSIS_INCONCLUSIVE] = 2,
	        [CAIRN_ANALYSIS_ERROR] = 3,      [CAIRN_ANALYSIS_FAILED] = 4};

	return rank[b] > rank[a] ? b : a;
}

/* Arguments with podTemplateHashValue resolved to the canary's or the
 * stable's hash. */
static void resolve_args(const ro_run *r, const ro_analysis *a, cairn_analysis_arg *out)
{
	const char *stable = ro_gets(r->st, "stable_hash");
	size_t i;

	for (i = 0; i < a->n_args; i++) {
		out[i] = a->args[i];
		if (out[i].value != NULL && out[i].value[0] == '\x01')
			out[i].value = strcmp(out[i].value + 1, "Latest") == 0
			                       ? r->spec.hash
			                       : (stable ? stable : r->spec.hash);
	}
}

/* Say why a run ended badly: the first metric that did, its last value or
 * error. */
static void describe(char *msg, size_t size, const char *tname, const cairn_analysis_run *run)
{
	cairn_analysis_metric_status ms;
	size_t i;

	for (i = 0; i < cairn_analysis_run_metrics(run); i++) {
		cairn_analysis_run_status(run, i, &ms);
		if (ms.phase == CAIRN_ANALYSIS_SUCCESSFUL ||
		    !cairn_analysis_phase_completed(ms.phase))
			continue;
		const cairn_analysis_measurement *last =
		        ms.n_measurements ? &ms.measurements[ms.n_measurements - 1] : NULL;
		snprintf(msg, size, "analysis '%s' metric '%s' %s%s%s%s", tname,
		         cairn_analysis_run_metric(run, i)->name,
		         cairn_analysis_phase_name(ms.phase),
		         last && last->value ? " (last value " : "",
		         last && last->value ? last->value : "",
		         last && last->value ? ")" : (last && last->message ? "" : ""));
		if (last && !last->value && last->message)
			snprintf(msg + strlen(msg), size - strlen(msg), ": %s", last->message);
		return;
	}
	snprintf(msg, size, "analysis '%s' %s", tname,
	         cairn_analysis_phase_name(cairn_analysis_run_phase(run)));
}

/* Take the measurements that are due and keep them in `rec` (an array). */
static int measure_due(ro_run *r, cairn_analysis_run *run, json_t *recs, const char *key,
                       const char *tname)
{
	cairn_analysis_ctx actx = r->ctx->analysis;
	cairn_analysis_next next;
	int guard, rc = 0;

	if (actx.kube == NULL)
		actx.kube = r->ctx->kube;
	for (guard = 0; guard < 16; guard++) {
		cairn_analysis_run_step(run, ro_now(r), &next);
		if (next.metric < 0) {
			ro_wake(r, next.at);
			return 0;
		}
		const cairn_analysis_metric *m =
		        cairn_analysis_run_metric(run, (size_t)next.metric);
		cairn_value *v = NULL;
		cairn_usec started = ro_now(r);
		char err[CAIRN_ERROR_MSG_MAX] = "";
		if (cairn_analysis_measure(&v, m, &actx) < 0)
			snprintf(err, sizeof(err), "%s", cairn_error_last()->message);
		cairn_error_clear();
		cairn_usec finished = ro_now(r);
		rc = cairn_analysis_run_record(run, (size_t)next.metric, v, v ? NULL : err, started,
		                               finished);
		if (rc >= 0) {
			json_array_append_new(
			        recs, json_pack("{s:i,s:o,s:s?,s:I,s:I}", "m", next.metric, "v",
			                        val_to_json(v), "e", v ? NULL : err, "s",
			                        (json_int_t)started, "f", (json_int_t)finished));
			cairn_analysis_metric_status ms;
			cairn_analysis_run_status(run, (size_t)next.metric, &ms);
			const cairn_analysis_measurement *last =
			        ms.n_measurements ? &ms.measurements[ms.n_measurements - 1] : NULL;
			ro_event(r, "measurement", "rollout.measurement",
			         json_pack("{s:s,s:s,s:s,s:s?,s:s,s:s?,s:I,s:O?}", "analysis", key,
			                   "template", tname, "metric", m->name, "value",
			                   last ? last->value : NULL, "phase",
			                   cairn_analysis_phase_name(last ? last->phase : ms.phase),
			                   "message",
			                   last && last->message ? last->message : (v ? NULL : err),
			                   "at", (json_int_t)finished, "query", m->provider_spec));
		}
		cairn_value_free(v);
		if (rc < 0)
			return rc;
	}
	ro_wake(r, ro_now(r) + 100000);
	return 0;
}

/* Rebuild run `i` of an analysis from the status and bring it up to date. */
static int one_run(ro_run *r, const char *key, const ro_analysis *a, size_t i, json_t *rs,
                   cairn_analysis_phase *phase, char *msg, size_t size)
{
	cairn_analysis_arg args[RO_MAX_ARGS];
	cairn_analysis_template *t = NULL;
	cairn_analysis_run *run = NULL;
	char tkey[320];
	const json_t *tobj, *rec;
	size_t j;
	int rc;

	snprintf(tkey, sizeof(tkey), "%s/%s",
	         a->cluster_scope[i] ? "ClusterAnalysisTemplate" : "AnalysisTemplate",
	         a->templates[i]);
	tobj = json_object_get(json_object_get(r->st, "templates"), tkey);
	if (tobj == NULL) {
		*phase = CAIRN_ANALYSIS_ERROR;
		snprintf(msg, size, "analysis template '%s' is not in the rendered manifests",
		         tkey);
		return 0;
	}
	resolve_args(r, a, args);
	rc = cairn_analysis_template_parse(&t, tobj, NULL);
	if (rc == 0)
		rc = cairn_analysis_run_new(&run, t, args, a->n_args, NULL, NULL,
		                            json_integer_value(json_object_get(rs, "started")));
	if (rc < 0) {
		*phase = CAIRN_ANALYSIS_ERROR;
		snprintf(msg, size, "analysis '%s': %s", tkey, cairn_error_last()->message);
		cairn_error_clear();
		rc = 0;
		goto out;
	}
	json_array_foreach(json_object_get(rs, "records"), j, rec)
	{
		cairn_value *v =
		        json_is_null(json_object_get(rec, "v")) && ro_gets(rec, "e") != NULL
		                ? NULL
		                : val_from_json(json_object_get(rec, "v"), 0);
		rc = cairn_analysis_run_record(run, (size_t)ro_geti(rec, "m", 0), v,
		                               ro_gets(rec, "e"),
		                               json_integer_value(json_object_get(rec, "s")),
		                               json_integer_value(json_object_get(rec, "f")));
		cairn_value_free(v);
		if (rc < 0)
			goto out;
	}
	rc = 0;
	if (!cairn_analysis_phase_completed(cairn_analysis_run_phase(run)))
		rc = measure_due(r, run, json_object_get(rs, "records"), key, a->templates[i]);
	*phase = cairn_analysis_run_phase(run);
	if (*phase != CAIRN_ANALYSIS_SUCCESSFUL && cairn_analysis_phase_completed(*phase))
		describe(msg, size, a->templates[i], run);
out:
	cairn_analysis_run_free(run);
	cairn_analysis_template_free(t);
	return rc;
}

int ro_analysis_step(ro_run *r, const char *key, const ro_analysis *a, cairn_analysis_phase *phase,
                     char *msg, size_t msg_size)
{
	json_t *all = json_object_get(r->st, "analysis");
	json_t *runs;
	cairn_analysis_phase acc = CAIRN_ANALYSIS_SUCCESSFUL, p;
	char m[512] = "";
	size_t i;
	int rc;

	if (all == NULL) {
		all = json_object();
		json_object_set_new(r->st, "analysis", all);
	}
	runs = json_object_get(all, key);
	if (runs == NULL) {
		runs = json_array();
		for (i = 0; i < a->n_templates; i++)
			json_array_append_new(runs, json_pack("{s:I,s:[]}", "started",
			                                      (json_int_t)ro_now(r), "records"));
		json_object_set_new(all, key, runs);
		ro_event(r, "analysis", "rollout.step",
		         json_pack("{s:s,s:s}", "analysis", key, "template", a->templates[0]));
	}
	for (i = 0; i < a->n_templates && i < json_array_size(runs); i++) {
		p = CAIRN_ANALYSIS_RUNNING;
		rc = one_run(r, key, a, i, json_array_get(runs, i), &p, m, sizeof(m));
		if (rc < 0)
			return rc;
		if (worst(acc, p) != acc && m[0])
			snprintf(msg, msg_size, "%s", m);
		acc = worst(acc, p);
	}
	*phase = acc;
	return 0;
}

void ro_analysis_drop(ro_run *r, const char *key)
{
	json_object_del(json_object_get(r->st, "analysis"), key);
}
