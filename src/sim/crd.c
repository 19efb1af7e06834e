/*
 * crd.c - validate and prune objects of CRD kinds against the structural
 * openAPIV3Schema of their CustomResourceDefinition version, with the API
 * server's error wording ("spec.size: Invalid value: \"string\": spec.size
 * in body must be of type integer: \"string\"").
 *
 * A compact validator of our own rather than core's schema set: the set
 * indexes whole OpenAPI documents by kind, while a CRD brings one schema.
 */
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"

#include "api_internal.h"

#define MAX_DEPTH 64
#define MAX_FINDINGS 64

struct vctx {
	cairn_buf *msg;
	json_t *causes; /* Status details.causes, or NULL */
	int count;
};

static const char *json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
		return "integer";
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	default:
		return "null";
	}
}

/* The value as the API server quotes it: strings quoted, others as JSON,
 * objects and arrays by their type name. */
static void value_text(const json_t *v, char *buf, size_t size)
{
	if (json_is_string(v))
		snprintf(buf, size, "\"%s\"", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, size, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, size, "%g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, size, "%s", json_is_true(v) ? "true" : "false");
	else
		snprintf(buf, size, "\"%s\"", json_type_name(v));
}

/* Append one finding "path: text", joined with ", ". */
static void finding(struct vctx *c, const char *path, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void finding(struct vctx *c, const char *path, const char *fmt, ...)
{
	static const struct {
		const char *prefix, *reason;
	} reasons[] = {{"Required value", "FieldValueRequired"},
	               {"Unsupported value", "FieldValueNotSupported"},
	               {"Too long", "FieldValueTooLong"},
	               {"Too many", "FieldValueTooMany"}};
	const char *reason = "FieldValueInvalid";
	char text[1024];
	va_list ap;
	size_t i;

	if (++c->count > MAX_FINDINGS)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (c->count > 1)
		cairn_buf_puts(c->msg, ", ");
	cairn_buf_printf(c->msg, "%s: %s", *path ? path : "<root>", text);
	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (strncmp(text, reasons[i].prefix, strlen(reasons[i].prefix)) == 0)
			reason = reasons[i].reason;
	if (c->causes)
		json_array_append_new(c->causes,
		                      json_pack("{s:s, s:s, s:s}", "reason", reason, "message",
		                                text, "field", *path ? path : "<root>"));
}

static int type_matches(const char *type, const json_t *v, int int_or_string)
{
	if (int_or_string)
		return json_is_integer(v) || json_is_string(v);
	if (!type)
		return 1;
	if (strcmp(type, "object") == 0)
		return json_is_object(v);
	if (strcmp(type, "array") == 0)
		return json_is_array(v);
	if (strcmp(type, "string") == 0)
		return json_is_string(v);
	if (strcmp(type, "integer") == 0)
		return json_is_integer(v) ||
		       (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)));
	if (strcmp(type, "number") == 0)
		return json_is_number(v);
	if (strcmp(type, "boolean") == 0)
		return json_is_boolean(v);
	return 1;
}

/* Scalar constraints: enum, bounds, lengths, pattern. */
static void check_scalar(struct vctx *c, const json_t *s, const json_t *v, const char *path)
{
	const json_t *en = json_object_get(s, "enum"), *x;
	const char *pattern = json_string_value(json_object_get(s, "pattern"));
	char val[256];
	size_t i;

	value_text(v, val, sizeof(val));
	if (json_is_array(en) && json_array_size(en)) {
		int found = 0;
		cairn_buf list = CAIRN_BUF_INIT(4096);

		json_array_foreach(en, i, x)
		{
			char t[256];

			found |= json_equal(x, v);
			value_text(x, t, sizeof(t));
			cairn_buf_printf(&list, "%s%s", i ? ", " : "", t);
		}
		if (!found)
			finding(c, path, "Unsupported value: %s: supported values: %s", val,
			        list.ptr ? list.ptr : "");
		cairn_buf_dispose(&list);
	}
	if (json_is_number(v)) {
		double d = json_number_value(v);
		const json_t *mn = json_object_get(s, "minimum"),
		             *mx = json_object_get(s, "maximum");

		if (json_is_number(mn) && d < json_number_value(mn))
			finding(c, path,
			        "Invalid value: %s: %s in body should be greater than or equal to "
			        "%g",
			        val, path, json_number_value(mn));
		if (json_is_number(mx) && d > json_number_value(mx))
			finding(c, path,
			        "Invalid value: %s: %s in body should be less than or equal to %g",
			        val, path, json_number_value(mx));
	}
	if (json_is_string(v)) {
		size_t len = json_string_length(v);
		const json_t *mn = json_object_get(s, "minLength"),
		             *mx = json_object_get(s, "maxLength");

		if (json_is_integer(mn) && (json_int_t)len < json_integer_value(mn))
			finding(c, path,
			        "Invalid value: %s: %s in body should be at least %lld chars long",
			        val, path, (long long)json_integer_value(mn));
		if (json_is_integer(mx) && (json_int_t)len > json_integer_value(mx))
			finding(c, path, "Too long: may not be longer than %lld",
			        (long long)json_integer_value(mx));
		if (pattern) {
			regex_t re;

			if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) == 0) {
				if (regexec(&re, json_string_value(v), 0, NULL, 0) != 0)
					finding(c, path,
					        "Invalid value: %s: %s in body should match '%s'",
					        val, path, pattern);
				regfree(&re);
			}
		}
	}
}

static void validate(struct vctx *c, const json_t *s, const json_t *v, const char *path, int depth);

static int cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void validate_object(struct vctx *c, const json_t *s, const json_t *v, const char *path,
                            int depth)
{
	const json_t *props = json_object_get(s, "properties");
	const json_t *addl = json_object_get(s, "additionalProperties");
	const json_t *req = json_object_get(s, "required"), *x;
	const char *key, **keys;
	char sub[1024];
	size_t i, nkeys;

	/* members in sorted order, so findings come out in a stable order */
	nkeys = json_object_size(v);
	keys = nkeys ? malloc(nkeys * sizeof(*keys)) : NULL;
	if (nkeys && !keys)
		return;
	nkeys = 0;
	json_object_foreach((json_t *)v, key, x) keys[nkeys++] = key;
	if (nkeys > 1)
		qsort(keys, nkeys, sizeof(*keys), cmp_keys);
	json_array_foreach(req, i, x)
	{
		if (json_is_string(x) && !json_object_get(v, json_string_value(x))) {
			snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "",
			         json_string_value(x));
			finding(c, sub, "Required value");
		}
	}
	for (i = 0; i < nkeys; i++) {
		const json_t *ps = json_object_get(props, keys[i]);

		key = keys[i];
		x = json_object_get(v, key);
		if (depth == 0 && (!strcmp(key, "apiVersion") || !strcmp(key, "kind") ||
		                   !strcmp(key, "metadata")))
			continue;
		snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", key);
		if (ps)
			validate(c, ps, x, sub, depth + 1);
		else if (json_is_object(addl))
			validate(c, addl, x, sub, depth + 1);
	}
	free(keys);
}

/* Validate one value against one schema node; findings go to c. */
static void validate(struct vctx *c, const json_t *s, const json_t *v, const char *path, int depth)
{
	const char *type = json_string_value(json_object_get(s, "type"));
	int ios = json_is_true(json_object_get(s, "x-kubernetes-int-or-string"));
	char val[256];

	if (!json_is_object(s) || depth > MAX_DEPTH)
		return;
	if (json_is_null(v)) {
		if (!json_is_true(json_object_get(s, "nullable")) && type)
			finding(c, path,
			        "Invalid value: \"null\": %s in body must be of type %s: \"null\"",
			        path, type);
		return;
	}
	if (!type_matches(type, v, ios)) {
		value_text(v, val, sizeof(val));
		finding(c, path, "Invalid value: \"%s\": %s in body must be of type %s: \"%s\"",
		        json_type_name(v), path, ios ? "int-or-string" : type, json_type_name(v));
		return;
	}
	if (json_is_object(v)) {
		validate_object(c, s, v, path, depth);
	} else if (json_is_array(v)) {
		const json_t *items = json_object_get(s, "items"), *x;
		const json_t *mn = json_object_get(s, "minItems"),
		             *mx = json_object_get(s, "maxItems");
		char sub[1024];
		size_t i;

		if (json_is_integer(mx) && (json_int_t)json_array_size(v) > json_integer_value(mx))
			finding(c, path, "Too many: %zu: must have at most %lld items",
			        json_array_size(v), (long long)json_integer_value(mx));
		if (json_is_integer(mn) && (json_int_t)json_array_size(v) < json_integer_value(mn))
			finding(c, path,
			        "Invalid value: %zu: %s in body should have at least %lld items",
			        json_array_size(v), path, (long long)json_integer_value(mn));
		json_array_foreach(v, i, x)
		{
			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
			validate(c, items, x, sub, depth + 1);
		}
	} else {
		check_scalar(c, s, v, path);
	}
}

int sim_crd_validate_causes(const sim_resource *res, const json_t *obj, cairn_buf *msg,
                            json_t *causes)
{
	struct vctx c = {msg, causes, 0};

	if (!res || !res->schema)
		return 0;
	if (!json_is_object(obj))
		return cairn_error_set(CAIRN_EINVAL, "object is not a JSON object");
	validate(&c, res->schema, obj, "", 0);
	if (c.count == 0)
		return 0;
	if (c.count > MAX_FINDINGS)
		cairn_buf_printf(msg, ", and %d more", c.count - MAX_FINDINGS);
	return cairn_error_set(CAIRN_EINVAL, "%s is invalid: %d finding%s", res->kind, c.count,
	                       c.count == 1 ? "" : "s");
}

int sim_crd_validate(const sim_resource *res, const json_t *obj, cairn_buf *msg)
{
	return sim_crd_validate_causes(res, obj, msg, NULL);
}

/* Remove members the schema does not know, listing them in `unknown`. */
static void prune(const json_t *s, json_t *v, const char *path, cairn_buf *unknown, int *n,
                  int depth)
{
	const json_t *props = json_object_get(s, "properties");
	const json_t *addl = json_object_get(s, "additionalProperties");
	const char *key;
	json_t *x, *tmp;
	char sub[1024];
	size_t i;

	if (!json_is_object(s) || depth > MAX_DEPTH ||
	    json_is_true(json_object_get(s, "x-kubernetes-preserve-unknown-fields")))
		return;
	if (json_is_array(v)) {
		json_array_foreach(v, i, x)
		{
			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
			prune(json_object_get(s, "items"), x, sub, unknown, n, depth + 1);
		}
		return;
	}
	if (!json_is_object(v))
		return;
	json_object_foreach_safe(v, tmp, key, x)
	{
		const json_t *ps = json_object_get(props, key);

		if (depth == 0 && (!strcmp(key, "apiVersion") || !strcmp(key, "kind") ||
		                   !strcmp(key, "metadata")))
			continue;
		snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", key);
		if (ps) {
			prune(ps, x, sub, unknown, n, depth + 1);
		} else if (json_is_object(addl)) {
			prune(addl, x, sub, unknown, n, depth + 1);
		} else if (!json_is_true(addl)) {
			if (unknown && ++*n <= MAX_FINDINGS)
				cairn_buf_printf(unknown, "%sunknown field \"%s\"",
				                 *n > 1 ? ", " : "", sub);
			json_object_del(v, key);
		}
	}
}

int sim_crd_prune(const sim_resource *res, json_t *obj, cairn_buf *unknown)
{
	int n = 0;

	if (!res || !res->schema || !json_is_object(obj))
		return 0;
	prune(res->schema, obj, "", unknown, &n, 0);
	return n;
}
