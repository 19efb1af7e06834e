/*
 * template.c - AnalysisTemplate / ClusterAnalysisTemplate parsing, argument
 * resolution and `{{args.NAME}}` substitution.
 *
 * A template is checked when parsed, leniently where a field still holds a
 * placeholder (`count: "{{args.n}}"`); a run substitutes its arguments into
 * a copy of each metric and parses that strictly, so every value the state
 * machine sees has been checked.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/analysis.h"
#include "cairn/buf.h"
#include "cairn/error.h"
#include "template_private.h"

static int ferr(const char *file, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Errors name the file when there is one: "FILE: spec.metrics[0].x: ...". */
static int ferr(const char *file, int code, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (file != NULL)
		return cairn_error_set(code, "%s: %s", file, msg);
	return cairn_error_set(code, "%s", msg);
}

static int has_placeholder(const char *s)
{
	return s != NULL && strstr(s, "{{") != NULL;
}

/* An int-or-string field (count, failureLimit, ...): JSON integer or a
 * decimal string. *skip is set when the string still holds a placeholder. */
static int int_field(int64_t *out, const json_t *m, const char *key, int64_t dflt, int lenient,
                     const char *where, const char *file)
{
	const json_t *v = json_object_get(m, key);
	char *end;
	long long n;

	*out = dflt;
	if (v == NULL)
		return 0;
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 0;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);

		if (lenient && has_placeholder(s))
			return 0;
		n = strtoll(s, &end, 10);
		if (s[0] != '\0' && !isspace((unsigned char)s[0]) && *end == '\0') {
			*out = n;
			return 0;
		}
		return ferr(file, CAIRN_EINVAL, "%s.%s: '%s' is not an integer", where, key, s);
	}
	return ferr(file, CAIRN_EINVAL, "%s.%s: expected an integer", where, key);
}

static int duration_field(int64_t *out, const json_t *m, const char *key, int lenient,
                          const char *where, const char *file)
{
	const json_t *v = json_object_get(m, key);
	const char *s;

	*out = 0;
	if (v == NULL)
		return 0;
	if (!json_is_string(v))
		return ferr(file, CAIRN_EINVAL, "%s.%s: expected a duration such as '30s'", where,
		            key);
	s = json_string_value(v);
	if (lenient && has_placeholder(s))
		return 0;
	if (cairn_duration_parse(out, s) < 0 || *out < 0)
		return ferr(file, CAIRN_EINVAL, "%s.%s: '%s' is not a duration such as '30s'",
		            where, key, s);
	return 0;
}

static int condition_field(cairn_expr **out, const json_t *m, const char *key, int lenient,
                           const char *where, const char *file)
{
	const json_t *v = json_object_get(m, key);
	const char *s;

	*out = NULL;
	if (v == NULL || (json_is_string(v) && json_string_value(v)[0] == '\0'))
		return 0;
	if (!json_is_string(v))
		return ferr(file, CAIRN_EINVAL, "%s.%s: expected a string", where, key);
	s = json_string_value(v);
	if (lenient && has_placeholder(s))
		return 0;
	if (cairn_expr_compile(out, s) < 0)
		return ferr(file, cairn_error_last()->code, "%s.%s: %s", where, key,
		            cairn_error_last()->message);
	return 0;
}

static int provider_field(cairn_analysis_metric *m, const json_t *j, const char *where,
                          const char *file)
{
	static const char *supported[] = {"prometheus", "web", "kubernetes", "job"};
	const json_t *p = json_object_get(j, "provider"), *spec;
	const char *name;

	if (!json_is_object(p))
		return ferr(file, CAIRN_EINVAL, "%s.provider: expected an object", where);
	if (json_object_size(p) != 1)
		return ferr(file, CAIRN_EINVAL,
		            "%s.provider: expected exactly one provider, got %zu", where,
		            json_object_size(p));
	name = json_object_iter_key(json_object_iter((json_t *)p));
	spec = json_object_iter_value(json_object_iter((json_t *)p));
	for (size_t i = 0; i < sizeof(supported) / sizeof(supported[0]); i++) {
		if (strcmp(name, supported[i]) == 0) {
			if (!json_is_object(spec))
				return ferr(file, CAIRN_EINVAL,
				            "%s.provider.%s: expected an object", where, name);
			m->provider = strdup(name);
			m->provider_spec = json_deep_copy(spec);
			if (m->provider == NULL || m->provider_spec == NULL)
				return cairn_error_set(CAIRN_ENOMEM, "out of memory");
			return 0;
		}
	}
	return ferr(file, CAIRN_EUNSUPPORTED, "%s.provider: provider '%s' is not supported", where,
	            name);
}

void template__metric_clear(cairn_analysis_metric *m)
{
	free(m->name);
	free(m->provider);
	json_decref(m->provider_spec);
	cairn_expr_free(m->success);
	cairn_expr_free(m->failure);
	memset(m, 0, sizeof(*m));
}

/* One entry of spec.metrics. Unknown keys are refused by name: a field
 * Cairn ignored would change what the gate means. */
int template__metric_parse(cairn_analysis_metric *out, const json_t *j, const char *where,
                           int lenient, const char *file)
{
	static const char *known[] = {"name",         "interval",          "initialDelay",
	                              "count",        "successCondition",  "failureCondition",
	                              "failureLimit", "inconclusiveLimit", "consecutiveErrorLimit",
	                              "provider"};
	cairn_analysis_metric m = {0};
	const char *key;
	json_t *v;
	int rc;

	if (!json_is_object(j))
		return ferr(file, CAIRN_EINVAL, "%s: expected an object", where);
	json_object_foreach((json_t *)j, key, v)
	{
		size_t i;

		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (strcmp(key, known[i]) == 0)
				break;
		if (i == sizeof(known) / sizeof(known[0]))
			return ferr(file, CAIRN_EUNSUPPORTED, "%s.%s: field is not supported",
			            where, key);
	}
	v = json_object_get(j, "name");
	if (!json_is_string(v) || json_string_value(v)[0] == '\0')
		return ferr(file, CAIRN_EINVAL, "%s.name: expected a non-empty string", where);
	if ((m.name = strdup(json_string_value(v))) == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	if ((rc = duration_field(&m.interval_ns, j, "interval", lenient, where, file)) < 0 ||
	    (rc = duration_field(&m.initial_delay_ns, j, "initialDelay", lenient, where, file)) <
	            0 ||
	    (rc = int_field(&m.count, j, "count", -1, lenient, where, file)) < 0 ||
	    (rc = int_field(&m.failure_limit, j, "failureLimit", 0, lenient, where, file)) < 0 ||
	    (rc = int_field(&m.inconclusive_limit, j, "inconclusiveLimit", 0, lenient, where,
	                    file)) < 0 ||
	    (rc = int_field(&m.consecutive_error_limit, j, "consecutiveErrorLimit", 4, lenient,
	                    where, file)) < 0 ||
	    (rc = condition_field(&m.success, j, "successCondition", lenient, where, file)) < 0 ||
	    (rc = condition_field(&m.failure, j, "failureCondition", lenient, where, file)) < 0 ||
	    (rc = provider_field(&m, j, where, file)) < 0)
		goto out;
	if (json_object_get(j, "count") != NULL && m.count < 0 && !lenient) {
		rc = ferr(file, CAIRN_EINVAL, "%s.count: must not be negative", where);
		goto out;
	}
	if (m.count > 1 && m.interval_ns == 0 && json_object_get(j, "interval") == NULL) {
		rc = ferr(file, CAIRN_EINVAL, "%s.interval: required when count is more than 1",
		          where);
		goto out;
	}
	*out = m;
	memset(&m, 0, sizeof(m));
out:
	template__metric_clear(&m);
	return rc;
}

static int parse_args(struct cairn_analysis_template *t, const json_t *args, const char *file)
{
	size_t i;
	json_t *a;

	if (args == NULL)
		return 0;
	if (!json_is_array(args))
		return ferr(file, CAIRN_EINVAL, "spec.args: expected a list");
	json_array_foreach(args, i, a)
	{
		const json_t *name = json_object_get(a, "name");
		const json_t *value = json_object_get(a, "value");
		const json_t *from = json_object_get(a, "valueFrom");

		if (!json_is_string(name) || json_string_value(name)[0] == '\0')
			return ferr(file, CAIRN_EINVAL, "spec.args[%zu].name: expected a string",
			            i);
		if (value != NULL && !json_is_string(value))
			return ferr(file, CAIRN_EINVAL, "spec.args[%zu].value: expected a string",
			            i);
		if (from != NULL) {
			const json_t *ref = json_object_get(from, "secretKeyRef");

			if (ref == NULL)
				return ferr(
				        file, CAIRN_EUNSUPPORTED,
				        "spec.args[%zu].valueFrom: only secretKeyRef is supported",
				        i);
			if (!json_is_string(json_object_get(ref, "name")) ||
			    !json_is_string(json_object_get(ref, "key")))
				return ferr(file, CAIRN_EINVAL,
				            "spec.args[%zu].valueFrom.secretKeyRef: expected name "
				            "and key",
				            i);
		}
	}
	t->args = json_deep_copy(args);
	return t->args != NULL ? 0 : cairn_error_set(CAIRN_ENOMEM, "out of memory");
}

int cairn_analysis_template_parse(cairn_analysis_template **out, const json_t *doc,
                                  const char *file)
{
	struct cairn_analysis_template *t = NULL;
	const char *kind = json_string_value(json_object_get(doc, "kind"));
	const char *api = json_string_value(json_object_get(doc, "apiVersion"));
	const char *name =
	        json_string_value(json_object_get(json_object_get(doc, "metadata"), "name"));
	const json_t *spec = json_object_get(doc, "spec"), *metrics, *v;
	size_t i;
	int rc;

	if (api == NULL || strcmp(api, "argoproj.io/v1alpha1") != 0)
		return ferr(file, CAIRN_EINVAL,
		            "apiVersion: expected 'argoproj.io/v1alpha1', got '%s'",
		            api != NULL ? api : "");
	if (kind == NULL ||
	    (strcmp(kind, "AnalysisTemplate") != 0 && strcmp(kind, "ClusterAnalysisTemplate") != 0))
		return ferr(
		        file, CAIRN_EINVAL,
		        "kind: expected 'AnalysisTemplate' or 'ClusterAnalysisTemplate', got '%s'",
		        kind != NULL ? kind : "");
	if (name == NULL || name[0] == '\0')
		return ferr(file, CAIRN_EINVAL, "metadata.name: expected a non-empty string");
	if (!json_is_object(spec))
		return ferr(file, CAIRN_EINVAL, "spec: expected an object");
	if ((v = json_object_get(spec, "dryRun")) != NULL && json_array_size(v) > 0)
		return ferr(file, CAIRN_EUNSUPPORTED,
		            "spec.dryRun: dry-run metrics are not supported");
	if (json_object_get(spec, "measurementRetention") != NULL)
		return ferr(file, CAIRN_EUNSUPPORTED,
		            "spec.measurementRetention: not supported (Cairn keeps the last %d)",
		            CAIRN_ANALYSIS_KEEP);
	metrics = json_object_get(spec, "metrics");
	if (!json_is_array(metrics) || json_array_size(metrics) == 0)
		return ferr(file, CAIRN_EINVAL, "spec.metrics: expected a non-empty list");
	if (json_array_size(metrics) > TEMPLATE_MAX_METRICS)
		return ferr(file, CAIRN_ELIMIT, "spec.metrics: more than %d metrics",
		            TEMPLATE_MAX_METRICS);
	t = calloc(1, sizeof(*t));
	if (t == NULL || (t->name = strdup(name)) == NULL ||
	    (t->metrics = json_deep_copy(metrics)) == NULL) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = parse_args(t, json_object_get(spec, "args"), file)) < 0)
		goto out;
	json_array_foreach(metrics, i, v)
	{
		cairn_analysis_metric m;
		char where[48];

		snprintf(where, sizeof(where), "spec.metrics[%zu]", i);
		if ((rc = template__metric_parse(&m, v, where, 1, file)) < 0)
			goto out;
		for (size_t k = 0; k < i; k++) {
			if (strcmp(json_string_value(
			                   json_object_get(json_array_get(metrics, k), "name")),
			           m.name) == 0) {
				rc = ferr(file, CAIRN_EINVAL,
				          "%s.name: metric '%s' is defined twice", where, m.name);
				template__metric_clear(&m);
				goto out;
			}
		}
		template__metric_clear(&m);
	}
	*out = t;
	t = NULL;
out:
	cairn_analysis_template_free(t);
	return rc;
}

const char *cairn_analysis_template_name(const cairn_analysis_template *t)
{
	return t->name;
}

void cairn_analysis_template_free(cairn_analysis_template *t)
{
	if (t == NULL)
		return;
	free(t->name);
	json_decref(t->args);
	json_decref(t->metrics);
	free(t);
}

/* Replace `{{args.NAME}}` (spaces inside the braces allowed) in one string.
 * Any other placeholder, or an argument not in `vals`, is an error. */
static int subst_string(char **out, const char *s, const json_t *vals)
{
	cairn_buf b;
	const char *p = s, *open;
	int rc = 0;

	cairn_buf_init(&b, 1u << 20);
	while (rc == 0 && (open = strstr(p, "{{")) != NULL) {
		const char *close = strstr(open + 2, "}}");
		const char *a = open + 2, *z;
		char name[256];
		const json_t *v;

		if (close == NULL) {
			rc = cairn_error_set(CAIRN_EINVAL, "unterminated '{{' in '%s'", s);
			break;
		}
		while (a < close && isspace((unsigned char)*a))
			a++;
		z = close;
		while (z > a && isspace((unsigned char)z[-1]))
			z--;
		if ((size_t)(z - a) <= 5 || strncmp(a, "args.", 5) != 0 ||
		    (size_t)(z - a - 5) >= sizeof(name)) {
			rc = cairn_error_set(CAIRN_EINVAL, "unsupported placeholder '%.*s' in '%s'",
			                     (int)(close + 2 - open), open, s);
			break;
		}
		memcpy(name, a + 5, (size_t)(z - a - 5));
		name[z - a - 5] = '\0';
		v = json_object_get(vals, name);
		if (v == NULL) {
			rc = cairn_error_set(CAIRN_EINVAL, "argument '%s' is not defined (in '%s')",
			                     name, s);
			break;
		}
		if ((rc = cairn_buf_put(&b, p, (size_t)(open - p))) == 0)
			rc = cairn_buf_puts(&b, json_string_value(v));
		p = close + 2;
	}
	if (rc == 0)
		rc = cairn_buf_puts(&b, p);
	if (rc < 0) {
		cairn_buf_dispose(&b);
		return rc;
	}
	*out = cairn_buf_detach(&b, NULL);
	return *out != NULL ? 0 : cairn_error_set(CAIRN_ENOMEM, "out of memory");
}

int template__subst(json_t *j, const json_t *vals, int depth)
{
	const char *key;
	json_t *v;
	size_t i;
	int rc;

	if (depth > 64)
		return cairn_error_set(CAIRN_ELIMIT, "metric nested too deeply");
	if (json_is_object(j)) {
		json_object_foreach(j, key, v)
		{
			if ((rc = template__subst(v, vals, depth + 1)) < 0)
				return rc;
		}
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
		{
			if ((rc = template__subst(v, vals, depth + 1)) < 0)
				return rc;
		}
	} else if (json_is_string(j) && has_placeholder(json_string_value(j))) {
		char *s;

		if ((rc = subst_string(&s, json_string_value(j), vals)) < 0)
			return rc;
		rc = json_string_set(j, s);
		free(s);
		if (rc < 0)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	return 0;
}

/* The values of the template's arguments: given ones win over the
 * template's `value`; secretKeyRef goes through the callback. */
int template__resolve_args(json_t **out, const cairn_analysis_template *t,
                           const cairn_analysis_arg *args, size_t n_args,
                           cairn_analysis_secret_fn secret, void *ud)
{
	json_t *vals = json_object(), *a;
	size_t i;
	int rc = 0;

	if (vals == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	for (size_t k = 0; k < n_args; k++) {
		int found = 0;

		json_array_foreach(t->args, i, a)
		{
			found |= strcmp(json_string_value(json_object_get(a, "name")),
			                args[k].name) == 0;
		}
		if (!found) {
			rc = cairn_error_set(CAIRN_EINVAL,
			                     "argument '%s' is not declared by template '%s'",
			                     args[k].name, t->name);
			goto out;
		}
		json_object_set_new(vals, args[k].name, json_string(args[k].value));
	}
	json_array_foreach(t->args, i, a)
	{
		const char *name = json_string_value(json_object_get(a, "name"));
		const json_t *ref =
		        json_object_get(json_object_get(a, "valueFrom"), "secretKeyRef");
		char *s = NULL;

		if (json_object_get(vals, name) != NULL)
			continue;
		if (ref != NULL) {
			if (secret == NULL) {
				rc = cairn_error_set(
				        CAIRN_EUNSUPPORTED,
				        "argument '%s' comes from a secret and no secret "
				        "resolver was given",
				        name);
				goto out;
			}
			rc = secret(&s, json_string_value(json_object_get(ref, "name")),
			            json_string_value(json_object_get(ref, "key")), ud);
			if (rc < 0) {
				cairn_error_prefix("argument '%s': ", name);
				goto out;
			}
			json_object_set_new(vals, name, json_string(s));
			free(s);
		} else if (json_is_string(json_object_get(a, "value"))) {
			json_object_set(vals, name, json_object_get(a, "value"));
		} else {
			rc = cairn_error_set(CAIRN_EINVAL, "argument '%s' has no value", name);
			goto out;
		}
	}
	*out = vals;
	vals = NULL;
out:
	json_decref(vals);
	return rc;
}
