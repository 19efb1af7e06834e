/*
 * analysis.c - metric evaluation and the analysis run state machine, with
 * Argo Rollouts' rules (EvaluateResult and assessMetricStatus).
 *
 * The run is pure: it never reads the clock or calls a provider. The
 * caller asks step(now) what is due, measures, and hands the result to
 * record(); the run only counts and decides.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/analysis.h"
#include "cairn/error.h"
#include "expr_private.h"
#include "template_private.h"

struct metric_run {
	cairn_analysis_metric m;
	cairn_analysis_phase phase;
	int64_t count, successful, failed, inconclusive, error, consecutive_error;
	cairn_usec next_at;
	cairn_analysis_measurement kept[CAIRN_ANALYSIS_KEEP];
	size_t n_kept;
};

struct cairn_analysis_run {
	struct metric_run *metrics;
	size_t n;
	cairn_analysis_phase phase;
};

static int set_error(cairn_analysis_phase *out_phase, char **out_msg, const char *msg)
{
	if (out_msg != NULL && (*out_msg = strdup(msg)) == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	*out_phase = CAIRN_ANALYSIS_ERROR;
	return 0;
}

const char *cairn_analysis_phase_name(cairn_analysis_phase p)
{
	static const char *names[] = {"Pending", "Running", "Successful",
	                              "Failed",  "Error",   "Inconclusive"};

	return (unsigned)p < sizeof(names) / sizeof(names[0]) ? names[p] : "Unknown";
}

int cairn_analysis_phase_completed(cairn_analysis_phase p)
{
	return p == CAIRN_ANALYSIS_SUCCESSFUL || p == CAIRN_ANALYSIS_FAILED ||
	       p == CAIRN_ANALYSIS_ERROR || p == CAIRN_ANALYSIS_INCONCLUSIVE;
}

int cairn_analysis_evaluate(cairn_analysis_phase *out_phase, char **out_msg,
                            const cairn_analysis_metric *m, const cairn_value *result)
{
	int success = 0, failure = 0, nan_seen = 0;

	if (out_msg != NULL)
		*out_msg = NULL;
	if ((m->success != NULL && expr__eval_bool(&success, &nan_seen, m->success, result) < 0) ||
	    (m->failure != NULL && expr__eval_bool(&failure, &nan_seen, m->failure, result) < 0)) {
		if (cairn_error_last()->code == CAIRN_ENOMEM)
			return CAIRN_ENOMEM;
		return set_error(out_phase, out_msg, cairn_error_last()->message);
	}
	if (m->success == NULL && m->failure == NULL) {
		*out_phase = CAIRN_ANALYSIS_SUCCESSFUL;
		return 0;
	}
	if (m->failure == NULL)
		failure = !success;
	else if (m->success == NULL)
		success = !failure;
	if (failure)
		*out_phase = CAIRN_ANALYSIS_FAILED;
	else if (!success)
		*out_phase = CAIRN_ANALYSIS_INCONCLUSIVE;
	else if (nan_seen)
		/* "NaN > 0.05 is false" must not pass a gate: Argo would say
		 * Successful here; Cairn wants isNaN() tested first. */
		return set_error(out_phase, out_msg,
		                 "the result is NaN and the conditions compared it: test isNaN() "
		                 "first");
	else
		*out_phase = CAIRN_ANALYSIS_SUCCESSFUL;
	return 0;
}

static void run_free_metrics(cairn_analysis_run *r)
{
	for (size_t i = 0; i < r->n; i++) {
		template__metric_clear(&r->metrics[i].m);
		for (size_t k = 0; k < r->metrics[i].n_kept; k++) {
			free(r->metrics[i].kept[k].value);
			free(r->metrics[i].kept[k].message);
		}
	}
	free(r->metrics);
}

int cairn_analysis_run_new(cairn_analysis_run **out, const cairn_analysis_template *t,
                           const cairn_analysis_arg *args, size_t n_args,
                           cairn_analysis_secret_fn secret, void *ud, cairn_usec now)
{
	cairn_analysis_run *r = calloc(1, sizeof(*r));
	json_t *vals = NULL, *copy = NULL, *mj;
	size_t i;
	int rc;

	if (r == NULL ||
	    (r->metrics = calloc(json_array_size(t->metrics) + 1, sizeof(*r->metrics))) == NULL) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = template__resolve_args(&vals, t, args, n_args, secret, ud)) < 0)
		goto out;
	json_array_foreach(t->metrics, i, mj)
	{
		char where[48];

		snprintf(where, sizeof(where), "spec.metrics[%zu]", i);
		json_decref(copy);
		if ((copy = json_deep_copy(mj)) == NULL) {
			rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
			goto out;
		}
		if ((rc = template__subst(copy, vals, 0)) < 0) {
			cairn_error_prefix("template '%s': %s: ", t->name, where);
			goto out;
		}
		if ((rc = template__metric_parse(&r->metrics[i].m, copy, where, 0, NULL)) < 0) {
			cairn_error_prefix("template '%s': ", t->name);
			goto out;
		}
		r->n++;
		r->metrics[i].phase = CAIRN_ANALYSIS_PENDING;
		r->metrics[i].next_at = now + r->metrics[i].m.initial_delay_ns / 1000;
	}
	r->phase = CAIRN_ANALYSIS_PENDING;
	*out = r;
	r = NULL;
out:
	json_decref(copy);
	json_decref(vals);
	cairn_analysis_run_free(r);
	return rc;
}

void cairn_analysis_run_free(cairn_analysis_run *r)
{
	if (r == NULL)
		return;
	run_free_metrics(r);
	free(r);
}

void cairn_analysis_run_step(const cairn_analysis_run *r, cairn_usec now, cairn_analysis_next *next)
{
	next->phase = r->phase;
	next->metric = -1;
	next->at = 0;
	if (cairn_analysis_phase_completed(r->phase))
		return;
	for (size_t i = 0; i < r->n; i++) {
		const struct metric_run *mr = &r->metrics[i];

		if (cairn_analysis_phase_completed(mr->phase))
			continue;
		if (mr->next_at <= now && next->metric < 0) {
			next->metric = (int)i;
			next->at = now;
		}
		if (next->metric < 0 && (next->at == 0 || mr->next_at < next->at))
			next->at = mr->next_at;
	}
}

/* Argo's assessMetricStatus: limits are checked in the order failed,
 * inconclusive, consecutive errors, then the count; a metric with neither
 * count nor interval is measured once. A negative limit means none. Unlike
 * Argo, an Error measurement does not count towards `count`: a run whose
 * measurements were all errors (a provider down, an empty vector) must not
 * end Successful because `count` was reached before consecutiveErrorLimit. */
static cairn_analysis_phase assess(const struct metric_run *mr)
{
	const cairn_analysis_metric *m = &mr->m;
	int64_t count = m->count >= 0 ? m->count : (m->interval_ns == 0 ? 1 : -1);

	if (mr->count == 0 && mr->error == 0)
		return CAIRN_ANALYSIS_PENDING;
	if (m->failure_limit >= 0 && mr->failed > m->failure_limit)
		return CAIRN_ANALYSIS_FAILED;
	if (m->inconclusive_limit >= 0 && mr->inconclusive > m->inconclusive_limit)
		return CAIRN_ANALYSIS_INCONCLUSIVE;
	if (m->consecutive_error_limit >= 0 && mr->consecutive_error > m->consecutive_error_limit)
		return CAIRN_ANALYSIS_ERROR;
	if (count >= 0 && mr->count >= count)
		return CAIRN_ANALYSIS_SUCCESSFUL;
	return CAIRN_ANALYSIS_RUNNING;
}

/* The run: the worst completed bad phase (Failed, then Error, then
 * Inconclusive) ends it at once; Successful when every metric is; Pending
 * until the first measurement. */
static cairn_analysis_phase run_phase(const cairn_analysis_run *r)
{
	int all_ok = 1, any = 0, failed = 0, error = 0, inconcl = 0;

	for (size_t i = 0; i < r->n; i++) {
		cairn_analysis_phase p = r->metrics[i].phase;

		failed |= p == CAIRN_ANALYSIS_FAILED;
		error |= p == CAIRN_ANALYSIS_ERROR;
		inconcl |= p == CAIRN_ANALYSIS_INCONCLUSIVE;
		all_ok &= p == CAIRN_ANALYSIS_SUCCESSFUL;
		any |= r->metrics[i].count > 0;
	}
	if (failed)
		return CAIRN_ANALYSIS_FAILED;
	if (error)
		return CAIRN_ANALYSIS_ERROR;
	if (inconcl)
		return CAIRN_ANALYSIS_INCONCLUSIVE;
	if (all_ok)
		return CAIRN_ANALYSIS_SUCCESSFUL;
	return any ? CAIRN_ANALYSIS_RUNNING : CAIRN_ANALYSIS_PENDING;
}

static int keep(struct metric_run *mr, cairn_analysis_phase phase, const cairn_value *value,
                char *msg, cairn_usec started, cairn_usec finished)
{
	cairn_analysis_measurement ms = {phase, started, finished, NULL, msg};

	if (value != NULL && cairn_value_format(&ms.value, value) < 0) {
		free(msg);
		return cairn_error_last()->code;
	}
	if (mr->n_kept == CAIRN_ANALYSIS_KEEP) {
		free(mr->kept[0].value);
		free(mr->kept[0].message);
		memmove(&mr->kept[0], &mr->kept[1],
		        (CAIRN_ANALYSIS_KEEP - 1) * sizeof(mr->kept[0]));
		mr->n_kept--;
	}
	mr->kept[mr->n_kept++] = ms;
	return 0;
}

int cairn_analysis_run_record(cairn_analysis_run *r, size_t i, const cairn_value *value,
                              const char *error, cairn_usec started, cairn_usec finished)
{
	struct metric_run *mr;
	cairn_analysis_phase phase;
	char *msg = NULL;
	int rc;

	if (i >= r->n)
		return cairn_error_set(CAIRN_EINVAL, "no metric %zu (the run has %zu)", i, r->n);
	mr = &r->metrics[i];
	if (cairn_analysis_phase_completed(mr->phase) || cairn_analysis_phase_completed(r->phase))
		return cairn_error_set(CAIRN_EINVAL, "metric '%s' is already %s", mr->m.name,
		                       cairn_analysis_phase_name(mr->phase));
	if (error != NULL) {
		phase = CAIRN_ANALYSIS_ERROR;
		if ((msg = strdup(error)) == NULL)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	} else if ((rc = cairn_analysis_evaluate(&phase, &msg, &mr->m, value)) < 0) {
		return rc;
	}
	if ((rc = keep(mr, phase, value, msg, started, finished)) < 0)
		return rc;
	if (phase != CAIRN_ANALYSIS_ERROR)
		mr->count++;
	switch (phase) {
	case CAIRN_ANALYSIS_SUCCESSFUL:
		mr->successful++;
		break;
	case CAIRN_ANALYSIS_FAILED:
		mr->failed++;
		break;
	case CAIRN_ANALYSIS_INCONCLUSIVE:
		mr->inconclusive++;
		break;
	default:
		mr->error++;
		mr->consecutive_error++;
		break;
	}
	if (phase != CAIRN_ANALYSIS_ERROR)
		mr->consecutive_error = 0;
	mr->phase = assess(mr);
	mr->next_at =
	        cairn_analysis_phase_completed(mr->phase) ? 0 : finished + mr->m.interval_ns / 1000;
	r->phase = run_phase(r);
	return (int)r->phase;
}

cairn_analysis_phase cairn_analysis_run_phase(const cairn_analysis_run *r)
{
	return r->phase;
}

size_t cairn_analysis_run_metrics(const cairn_analysis_run *r)
{
	return r->n;
}

const cairn_analysis_metric *cairn_analysis_run_metric(const cairn_analysis_run *r, size_t i)
{
	return i < r->n ? &r->metrics[i].m : NULL;
}

void cairn_analysis_run_status(const cairn_analysis_run *r, size_t i,
                               cairn_analysis_metric_status *out)
{
	const struct metric_run *mr = &r->metrics[i];

	out->phase = mr->phase;
	out->count = mr->count;
	out->successful = mr->successful;
	out->failed = mr->failed;
	out->inconclusive = mr->inconclusive;
	out->error = mr->error;
	out->consecutive_error = mr->consecutive_error;
	out->next_at = mr->next_at;
	out->n_measurements = mr->n_kept;
	out->measurements = mr->kept;
}
