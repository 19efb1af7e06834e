/*
 * rollout_spec.c - an argoproj.io/v1alpha1 Rollout parsed into ro_spec with
 * Argo Rollouts' defaults and checks; the pod-template hash. Errors name the
 * field path ("spec.strategy.canary.steps[2].setWeight: ..."); fields that
 * would change behaviour and that the engine does not implement are
 * CAIRN_EUNSUPPORTED naming the field.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/hash.h"
#include "cairn/json.h"
#include "cairn/util.h"
#include "rollout_private.h"

int cairn_rollout_interpreted_kind(const json_t *obj)
{
	const char *av = json_string_value(json_object_get(obj, "apiVersion"));
	const char *kind = json_string_value(json_object_get(obj, "kind"));

	if (av == NULL || kind == NULL || strncmp(av, "argoproj.io/", 12) != 0)
		return 0;
	return strcmp(kind, "Rollout") == 0 || strcmp(kind, "AnalysisTemplate") == 0 ||
	       strcmp(kind, "ClusterAnalysisTemplate") == 0;
}

int cairn_rollout_is_rollout(const json_t *obj)
{
	const char *kind = json_string_value(json_object_get(obj, "kind"));

	return cairn_rollout_interpreted_kind(obj) && strcmp(kind, "Rollout") == 0;
}

/* Print a JSON value for a message (scalars as they are, else its type). */
static void show(char *out, size_t size, const json_t *v)
{
	if (json_is_string(v))
		snprintf(out, size, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(out, size, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(out, size, "%g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(out, size, "%s", json_is_true(v) ? "true" : "false");
	else
		snprintf(out, size, "%s",
		         json_is_object(v)  ? "{...}"
		         : json_is_array(v) ? "[...]"
		                            : "null");
}

/* An integer field in lo..hi (absent: *out = dflt). */
static int get_int(int *out, const json_t *obj, const char *key, int dflt, int lo, int hi,
                   const char *path)
{
	const json_t *v = json_object_get(obj, key);
	char s[64];

	if (v == NULL || json_is_null(v)) {
		*out = dflt;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		show(s, sizeof(s), v);
		return cairn_error_set(CAIRN_EINVAL, "%s.%s: expected %d..%d, got '%s'", path, key,
		                       lo, hi, s);
	}
	*out = (int)json_integer_value(v);
	return 0;
}

static int get_bool(int *out, const json_t *obj, const char *key, int dflt, const char *path)
{
	const json_t *v = json_object_get(obj, key);
	char s[64];

	if (v == NULL || json_is_null(v)) {
		*out = dflt;
		return 0;
	}
	if (!json_is_boolean(v)) {
		show(s, sizeof(s), v);
		return cairn_error_set(CAIRN_EINVAL, "%s.%s: expected true or false, got '%s'",
		                       path, key, s);
	}
	*out = json_is_true(v);
	return 0;
}

static int get_str(const char **out, const json_t *obj, const char *key, const char *path)
{
	const json_t *v = json_object_get(obj, key);
	char s[64];

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) == 0) {
		show(s, sizeof(s), v);
		return cairn_error_set(CAIRN_EINVAL, "%s.%s: expected a name, got '%s'", path, key,
		                       s);
	}
	*out = json_string_value(v);
	return 0;
}

int ro_duration(int64_t *out_ns, const json_t *v, const char *path)
{
	const char *s = json_string_value(v);
	char shown[64];
	size_t i;

	if (json_is_integer(v) && json_integer_value(v) >= 0 &&
	    json_integer_value(v) <= INT64_MAX / 1000000000) {
		*out_ns = json_integer_value(v) * 1000000000;
		return 0;
	}
	if (s != NULL && *s != '\0') {
		for (i = 0; s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (s[i] == '\0' && i < 12) {
			*out_ns = strtoll(s, NULL, 10) * 1000000000;
			return 0;
		}
		if (cairn_duration_parse(out_ns, s) == 0 && *out_ns >= 0)
			return 0;
	}
	show(shown, sizeof(shown), v);
	return cairn_error_set(CAIRN_EINVAL,
	                       "%s: expected a duration ('30s', '5m', or seconds), got '%s'", path,
	                       shown);
}

/* maxSurge / maxUnavailable: an integer or "N%", resolved against replicas
 * (surge rounds up, unavailable down, as Kubernetes and Argo do). *raw_zero
 * tells whether the value given was zero. */
static int get_intstr(int *out, int *raw_zero, const json_t *obj, const char *key, const char *dflt,
                      int replicas, int round_up, const char *path)
{
	const json_t *v = json_object_get(obj, key);
	const char *s = v ? json_string_value(v) : dflt;
	char shown[64];
	char *end = NULL;
	long pct;

	if (v != NULL && json_is_integer(v) && json_integer_value(v) >= 0 &&
	    json_integer_value(v) <= 1000000) {
		*out = (int)json_integer_value(v);
		*raw_zero = *out == 0;
		return 0;
	}
	if (s != NULL && *s >= '0' && *s <= '9') {
		pct = strtol(s, &end, 10);
		if (end != NULL && end[0] == '%' && end[1] == '\0' && pct <= 100) {
			double x = (double)pct * replicas / 100.0;
			*out = (int)(round_up ? ceil(x) : floor(x));
			*raw_zero = pct == 0;
			return 0;
		}
	}
	show(shown, sizeof(shown), v);
	return cairn_error_set(CAIRN_EINVAL,
	                       "%s.%s: expected an integer or a percentage ('25%%'), got '%s'",
	                       path, key, shown);
}

/* An analysis reference: {templates: [{templateName, clusterScope}], args:
 * [{name, value | valueFrom.podTemplateHashValue}], startingStep}. */
static int parse_analysis(ro_analysis *a, const json_t *obj, const char *path, int background)
{
	const json_t *tpls = json_object_get(obj, "templates");
	const json_t *args = json_object_get(obj, "args");
	char p[256];
	size_t i;
	int rc;

	memset(a, 0, sizeof(*a));
	if (!json_is_object(obj))
		return cairn_error_set(CAIRN_EINVAL, "%s: expected an object", path);
	if (!json_is_array(tpls) || json_array_size(tpls) == 0 ||
	    json_array_size(tpls) > RO_MAX_TEMPLATES)
		return cairn_error_set(CAIRN_EINVAL, "%s.templates: expected 1..%d templates", path,
		                       RO_MAX_TEMPLATES);
	for (i = 0; i < json_array_size(tpls); i++) {
		const json_t *t = json_array_get(tpls, i);
		snprintf(p, sizeof(p), "%s.templates[%zu]", path, i);
		if ((rc = get_str(&a->templates[i], t, "templateName", p)) < 0)
			return rc;
		if (a->templates[i] == NULL)
			return cairn_error_set(CAIRN_EINVAL, "%s.templateName: missing", p);
		if ((rc = get_bool(&a->cluster_scope[i], t, "clusterScope", 0, p)) < 0)
			return rc;
	}
	a->n_templates = i;
	if (args != NULL && (!json_is_array(args) || json_array_size(args) > RO_MAX_ARGS))
		return cairn_error_set(CAIRN_EINVAL, "%s.args: expected at most %d arguments", path,
		                       RO_MAX_ARGS);
	for (i = 0; i < json_array_size(args); i++) {
		const json_t *g = json_array_get(args, i);
		const json_t *from = json_object_get(g, "valueFrom");
		snprintf(p, sizeof(p), "%s.args[%zu]", path, i);
		if ((rc = get_str(&a->args[i].name, g, "name", p)) < 0)
			return rc;
		if (a->args[i].name == NULL)
			return cairn_error_set(CAIRN_EINVAL, "%s.name: missing", p);
		if (from != NULL) {
			const char *h =
			        json_string_value(json_object_get(from, "podTemplateHashValue"));
			if (h == NULL || (strcmp(h, "Latest") != 0 && strcmp(h, "Stable") != 0))
				return cairn_error_set(CAIRN_EUNSUPPORTED,
				                       "%s.valueFrom: only podTemplateHashValue "
				                       "'Latest' or 'Stable' is supported",
				                       p);
			/* resolved when the run starts (ro_analysis_step) */
			a->args[i].value = strcmp(h, "Latest") == 0 ? "\x01Latest" : "\x01Stable";
			continue;
		}
		if ((rc = get_str(&a->args[i].value, g, "value", p)) < 0)
			return rc;
		if (a->args[i].value == NULL)
			a->args[i].value = "";
	}
	a->n_args = i;
	if (background &&
	    (rc = get_int(&a->starting_step, obj, "startingStep", 0, 0, RO_MAX_STEPS, path)) < 0)
		return rc;
	a->present = 1;
	return 0;
}

static int parse_scale(ro_step *st, const json_t *v, const char *p)
{
	int n = 0, rc;

	if (!json_is_object(v))
		return cairn_error_set(CAIRN_EINVAL, "%s: expected an object", p);
	if ((rc = get_int(&st->scale_weight, v, "weight", -1, 0, 100, p)) < 0 ||
	    (rc = get_int(&st->scale_replicas, v, "replicas", -1, 0, 1000000, p)) < 0 ||
	    (rc = get_bool(&st->scale_match, v, "matchTrafficWeight", 0, p)) < 0)
		return rc;
	n = (st->scale_weight >= 0) + (st->scale_replicas >= 0) + st->scale_match;
	if (n != 1)
		return cairn_error_set(CAIRN_EINVAL,
		                       "%s: expected one of weight, replicas or matchTrafficWeight",
		                       p);
	return 0;
}

static int parse_step(ro_step *st, const json_t *step, const char *p)
{
	const char *key;
	const json_t *v;
	char q[256];
	int rc;

	memset(st, 0, sizeof(*st));
	st->scale_weight = st->scale_replicas = -1;
	if (!json_is_object(step) || json_object_size(step) != 1)
		return cairn_error_set(CAIRN_EINVAL, "%s: expected an object with one step", p);
	json_object_foreach((json_t *)step, key, v)
	{
		snprintf(q, sizeof(q), "%s.%s", p, key);
		if (strcmp(key, "setWeight") == 0) {
			st->kind = RO_STEP_WEIGHT;
			return get_int(&st->weight, step, key, 0, 0, 100, p);
		}
		if (strcmp(key, "pause") == 0) {
			st->kind = RO_STEP_PAUSE;
			st->pause_ns = -1;
			if (!json_is_object(v))
				return cairn_error_set(CAIRN_EINVAL, "%s: expected an object", q);
			if (json_object_get(v, "duration") == NULL)
				return 0;
			snprintf(q, sizeof(q), "%s.pause.duration", p);
			return ro_duration(&st->pause_ns, json_object_get(v, "duration"), q);
		}
		if (strcmp(key, "analysis") == 0) {
			st->kind = RO_STEP_ANALYSIS;
			return parse_analysis(&st->analysis, v, q, 0);
		}
		if (strcmp(key, "setCanaryScale") == 0) {
			st->kind = RO_STEP_SCALE;
			rc = parse_scale(st, v, q);
			return rc;
		}
		return cairn_error_set(CAIRN_EUNSUPPORTED, "%s: step '%s' is not supported", q,
		                       key);
	}
	return 0;
}

static int parse_canary(ro_spec *s, const json_t *c)
{
	const char *p = "spec.strategy.canary";
	const json_t *steps = json_object_get(c, "steps");
	const json_t *tr = json_object_get(c, "trafficRouting");
	int zs = 0, zu = 0, rc;
	char q[128];
	size_t i;

	if (tr != NULL && !(json_is_object(tr) && json_object_size(tr) == 0))
		return cairn_error_set(CAIRN_EUNSUPPORTED,
		                       "%s.trafficRouting: traffic routers are not supported yet "
		                       "(traffic follows the replica ratio)",
		                       p);
	if (steps != NULL && (!json_is_array(steps) || json_array_size(steps) > RO_MAX_STEPS))
		return cairn_error_set(CAIRN_EINVAL,
		                       "%s.steps: expected a list of at most %d steps", p,
		                       RO_MAX_STEPS);
	for (i = 0; i < json_array_size(steps); i++) {
		snprintf(q, sizeof(q), "%s.steps[%zu]", p, i);
		if ((rc = parse_step(&s->steps[i], json_array_get(steps, i), q)) < 0)
			return rc;
	}
	s->n_steps = i;
	if ((rc = get_intstr(&s->max_surge, &zs, c, "maxSurge", "25%", s->replicas, 1, p)) < 0 ||
	    (rc = get_intstr(&s->max_unavailable, &zu, c, "maxUnavailable", "25%", s->replicas, 0,
	                     p)) < 0)
		return rc;
	if (zs && zu)
		return cairn_error_set(CAIRN_EINVAL,
		                       "%s.maxUnavailable: may not be 0 when maxSurge is 0", p);
	if (s->max_surge == 0 && s->max_unavailable == 0)
		s->max_unavailable = 1; /* as Kubernetes: some way to move */
	if (json_object_get(c, "analysis") != NULL &&
	    (rc = parse_analysis(&s->background, json_object_get(c, "analysis"),
	                         "spec.strategy.canary.analysis", 1)) < 0)
		return rc;
	if ((rc = get_str(&s->stable_service, c, "stableService", p)) < 0 ||
	    (rc = get_str(&s->canary_service, c, "canaryService", p)) < 0)
		return rc;
	return 0;
}

static int parse_bluegreen(ro_spec *s, const json_t *b)
{
	const char *p = "spec.strategy.blueGreen";
	int rc;

	s->blue_green = 1;
	if ((rc = get_str(&s->active_service, b, "activeService", p)) < 0 ||
	    (rc = get_str(&s->preview_service, b, "previewService", p)) < 0)
		return rc;
	if (s->active_service == NULL)
		return cairn_error_set(CAIRN_EINVAL, "%s.activeService: missing", p);
	if ((rc = get_int(&s->preview_replicas, b, "previewReplicaCount", -1, 0, 1000000, p)) < 0 ||
	    (rc = get_bool(&s->auto_promotion, b, "autoPromotionEnabled", 1, p)) < 0 ||
	    (rc = get_int(&s->auto_promotion_s, b, "autoPromotionSeconds", 0, 0, 86400 * 365, p)) <
	            0 ||
	    (rc = get_int(&s->scale_down_delay_s, b, "scaleDownDelaySeconds", 30, 0, 86400 * 30,
	                  p)) < 0 ||
	    (rc = get_int(&s->abort_scale_down_delay_s, b, "abortScaleDownDelaySeconds", 30, 0,
	                  86400 * 30, p)) < 0)
		return rc;
	if (json_object_get(b, "prePromotionAnalysis") != NULL &&
	    (rc = parse_analysis(&s->pre_analysis, json_object_get(b, "prePromotionAnalysis"),
	                         "spec.strategy.blueGreen.prePromotionAnalysis", 0)) < 0)
		return rc;
	if (json_object_get(b, "postPromotionAnalysis") != NULL &&
	    (rc = parse_analysis(&s->post_analysis, json_object_get(b, "postPromotionAnalysis"),
	                         "spec.strategy.blueGreen.postPromotionAnalysis", 0)) < 0)
		return rc;
	return 0;
}

int ro_template_hash(char out[16], const json_t *template_)
{
	static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
	cairn_buf b = CAIRN_BUF_INIT(64u << 20);
	uint8_t d[CAIRN_SHA256_LEN];
	int rc, i;

	rc = cairn_json_canonical(&b, template_);
	if (rc < 0)
		goto out;
	cairn_sha256(d, b.ptr, b.len);
	for (i = 0; i < 10; i++)
		out[i] = alphabet[d[i] % (sizeof(alphabet) - 1)];
	out[10] = '\0';
out:
	cairn_buf_dispose(&b);
	return rc;
}

int ro_spec_parse(ro_spec *s, const json_t *ro)
{
	const json_t *meta = json_object_get(ro, "metadata");
	const json_t *spec = json_object_get(ro, "spec");
	const json_t *strat = json_object_get(spec, "strategy");
	const json_t *c = json_object_get(strat, "canary");
	const json_t *b = json_object_get(strat, "blueGreen");
	const char *key;
	const json_t *v;
	int rc;

	memset(s, 0, sizeof(*s));
	if (!cairn_rollout_interpreted_kind(ro) ||
	    strcmp(json_string_value(json_object_get(ro, "kind")), "Rollout") != 0)
		return cairn_error_set(CAIRN_EINVAL, "kind: expected an argoproj.io Rollout");
	if ((rc = get_str(&s->name, meta, "name", "metadata")) < 0)
		return rc;
	if (s->name == NULL || strlen(s->name) > 200)
		return cairn_error_set(CAIRN_EINVAL, "metadata.name: missing or too long");
	if ((rc = get_str(&s->ns, meta, "namespace", "metadata")) < 0)
		return rc;
	if (s->ns == NULL)
		s->ns = "default";
	if (!json_is_object(spec))
		return cairn_error_set(CAIRN_EINVAL, "spec: missing");
	if (json_object_get(spec, "workloadRef") != NULL)
		return cairn_error_set(CAIRN_EUNSUPPORTED,
		                       "spec.workloadRef: not supported (give spec.template)");
	if ((rc = get_int(&s->replicas, spec, "replicas", 1, 0, 100000, "spec")) < 0 ||
	    (rc = get_int(&s->progress_deadline_s, spec, "progressDeadlineSeconds", 600, 1,
	                  86400 * 30, "spec")) < 0 ||
	    (rc = get_bool(&s->progress_deadline_abort, spec, "progressDeadlineAbort", 0, "spec")) <
	            0)
		return rc;
	s->selector = json_object_get(spec, "selector");
	if (!json_is_object(json_object_get(s->selector, "matchLabels")))
		return cairn_error_set(CAIRN_EINVAL, "spec.selector.matchLabels: missing");
	s->template_ = json_object_get(spec, "template");
	if (!json_is_object(s->template_))
		return cairn_error_set(CAIRN_EINVAL, "spec.template: missing");
	if (!json_is_object(strat) || json_object_size(strat) != 1)
		return cairn_error_set(
		        CAIRN_EINVAL, "spec.strategy: expected exactly one of canary or blueGreen");
	json_object_foreach((json_t *)strat, key, v)
	{
		if (c == NULL && b == NULL)
			return cairn_error_set(CAIRN_EUNSUPPORTED,
			                       "spec.strategy.%s: unknown strategy", key);
	}
	rc = c != NULL ? parse_canary(s, c) : parse_bluegreen(s, b);
	if (rc < 0)
		return rc;
	return ro_template_hash(s->hash, s->template_);
}
