/*
 * value.c - cairn_value: what providers measure, with NaN and infinities
 * that JSON (and jansson) cannot hold.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/analysis.h"
#include "cairn/buf.h"
#include "cairn/error.h"

static cairn_value *value_new(cairn_value_kind kind)
{
	cairn_value *v = calloc(1, sizeof(*v));

	if (v != NULL)
		v->kind = kind;
	return v;
}

cairn_value *cairn_value_new_nil(void)
{
	return value_new(CAIRN_VALUE_NIL);
}

cairn_value *cairn_value_new_bool(int b)
{
	cairn_value *v = value_new(CAIRN_VALUE_BOOL);

	if (v != NULL)
		v->b = b != 0;
	return v;
}

cairn_value *cairn_value_new_int(int64_t i)
{
	cairn_value *v = value_new(CAIRN_VALUE_INT);

	if (v != NULL)
		v->i = i;
	return v;
}

cairn_value *cairn_value_new_float(double f)
{
	cairn_value *v = value_new(CAIRN_VALUE_FLOAT);

	if (v != NULL)
		v->f = f;
	return v;
}

cairn_value *cairn_value_new_string(const char *s)
{
	cairn_value *v = value_new(CAIRN_VALUE_STRING);

	if (v == NULL)
		return NULL;
	v->s = strdup(s != NULL ? s : "");
	if (v->s == NULL) {
		free(v);
		return NULL;
	}
	return v;
}

cairn_value *cairn_value_new_list(void)
{
	return value_new(CAIRN_VALUE_LIST);
}

cairn_value *cairn_value_new_map(void)
{
	return value_new(CAIRN_VALUE_MAP);
}

int cairn_value_add(cairn_value *c, const char *key, cairn_value *item)
{
	cairn_value **items;
	char *k = NULL;

	if (item == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	if (c->n >= CAIRN_VALUE_MAX_ITEMS) {
		cairn_value_free(item);
		return cairn_error_set(CAIRN_ELIMIT, "value has more than %d items",
		                       CAIRN_VALUE_MAX_ITEMS);
	}
	items = realloc(c->items, (c->n + 1) * sizeof(*items));
	if (items == NULL)
		goto nomem;
	c->items = items;
	if (c->kind == CAIRN_VALUE_MAP) {
		char **keys = realloc(c->keys, (c->n + 1) * sizeof(*keys));

		if (keys == NULL)
			goto nomem;
		c->keys = keys;
		k = strdup(key != NULL ? key : "");
		if (k == NULL)
			goto nomem;
		c->keys[c->n] = k;
	}
	c->items[c->n++] = item;
	return 0;
nomem:
	cairn_value_free(item);
	return cairn_error_set(CAIRN_ENOMEM, "out of memory");
}

/* Recursive conversion with a depth bound: JSON from an HTTP body is input. */
static int from_json(cairn_value **out, const json_t *j, int depth)
{
	cairn_value *v = NULL;
	int rc;

	if (depth > CAIRN_VALUE_MAX_DEPTH)
		return cairn_error_set(CAIRN_ELIMIT, "value nested deeper than %d",
		                       CAIRN_VALUE_MAX_DEPTH);
	switch (json_typeof(j)) {
	case JSON_NULL:
		v = cairn_value_new_nil();
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		v = cairn_value_new_bool(json_is_true(j));
		break;
	case JSON_INTEGER:
		v = cairn_value_new_float((double)json_integer_value(j));
		break;
	case JSON_REAL:
		v = cairn_value_new_float(json_real_value(j));
		break;
	case JSON_STRING:
		v = cairn_value_new_string(json_string_value(j));
		break;
	case JSON_ARRAY: {
		size_t i;
		json_t *e;

		v = cairn_value_new_list();
		if (v == NULL)
			break;
		json_array_foreach(j, i, e)
		{
			cairn_value *item;

			rc = from_json(&item, e, depth + 1);
			if (rc == 0)
				rc = cairn_value_add(v, NULL, item);
			if (rc < 0) {
				cairn_value_free(v);
				return rc;
			}
		}
		break;
	}
	case JSON_OBJECT: {
		const char *k;
		json_t *e;

		v = cairn_value_new_map();
		if (v == NULL)
			break;
		json_object_foreach((json_t *)j, k, e)
		{
			cairn_value *item;

			rc = from_json(&item, e, depth + 1);
			if (rc == 0)
				rc = cairn_value_add(v, k, item);
			if (rc < 0) {
				cairn_value_free(v);
				return rc;
			}
		}
		break;
	}
	}
	if (v == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	*out = v;
	return 0;
}

int cairn_value_from_json(cairn_value **out, const json_t *json)
{
	return from_json(out, json, 0);
}

cairn_value *cairn_value_copy(const cairn_value *v)
{
	cairn_value *c;

	if (v == NULL)
		return NULL;
	switch (v->kind) {
	case CAIRN_VALUE_STRING:
		return cairn_value_new_string(v->s);
	case CAIRN_VALUE_LIST:
	case CAIRN_VALUE_MAP:
		c = value_new(v->kind);
		if (c == NULL)
			return NULL;
		for (size_t i = 0; i < v->n; i++) {
			if (cairn_value_add(c, v->keys != NULL ? v->keys[i] : NULL,
			                    cairn_value_copy(v->items[i])) < 0) {
				cairn_value_free(c);
				return NULL;
			}
		}
		return c;
	default:
		c = value_new(v->kind);
		if (c != NULL)
			*c = *v;
		return c;
	}
}

/* Floats print as Go's strconv 'g' with the shortest exact digits would; a
 * %.17g trimmed to the shortest text that reads back the same is close. */
static int put_float(cairn_buf *b, double f)
{
	char tmp[40];

	if (isnan(f))
		return cairn_buf_puts(b, "NaN");
	if (isinf(f))
		return cairn_buf_puts(b, f > 0 ? "+Inf" : "-Inf");
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, f);
		if (strtod(tmp, NULL) == f)
			break;
	}
	return cairn_buf_puts(b, tmp);
}

/* A JSON string; bytes that are not valid UTF-8 pass through unchanged
 * (the text is for records and messages, not for a JSON parser). */
static int put_string(cairn_buf *b, const char *s)
{
	int rc = cairn_buf_putc(b, '"');

	for (const unsigned char *p = (const unsigned char *)s; rc == 0 && *p; p++) {
		if (*p == '"' || *p == '\\')
			rc = cairn_buf_printf(b, "\\%c", *p);
		else if (*p < 0x20)
			rc = cairn_buf_printf(b, "\\u%04x", *p);
		else
			rc = cairn_buf_putc(b, (char)*p);
	}
	return rc == 0 ? cairn_buf_putc(b, '"') : rc;
}

static int put_value(cairn_buf *b, const cairn_value *v)
{
	int rc = 0;

	switch (v->kind) {
	case CAIRN_VALUE_NIL:
		return cairn_buf_puts(b, "null");
	case CAIRN_VALUE_BOOL:
		return cairn_buf_puts(b, v->b ? "true" : "false");
	case CAIRN_VALUE_INT:
		return cairn_buf_printf(b, "%lld", (long long)v->i);
	case CAIRN_VALUE_FLOAT:
		return put_float(b, v->f);
	case CAIRN_VALUE_STRING:
		return put_string(b, v->s);
	case CAIRN_VALUE_LIST:
	case CAIRN_VALUE_MAP:
		rc = cairn_buf_putc(b, v->kind == CAIRN_VALUE_LIST ? '[' : '{');
		for (size_t i = 0; rc == 0 && i < v->n; i++) {
			if (i > 0)
				rc = cairn_buf_putc(b, ',');
			if (rc == 0 && v->kind == CAIRN_VALUE_MAP) {
				cairn_value key = {.kind = CAIRN_VALUE_STRING, .s = v->keys[i]};

				rc = put_value(b, &key);
				if (rc == 0)
					rc = cairn_buf_putc(b, ':');
			}
			if (rc == 0)
				rc = put_value(b, v->items[i]);
		}
		if (rc == 0)
			rc = cairn_buf_putc(b, v->kind == CAIRN_VALUE_LIST ? ']' : '}');
		return rc;
	}
	return 0;
}

int cairn_value_format(char **out, const cairn_value *v)
{
	cairn_buf b;
	int rc;

	cairn_buf_init(&b, 1u << 20);
	if (v == NULL)
		rc = cairn_buf_puts(&b, "null");
	else
		rc = put_value(&b, v);
	if (rc < 0) {
		cairn_buf_dispose(&b);
		return rc;
	}
	*out = cairn_buf_detach(&b, NULL);
	return *out != NULL ? 0 : cairn_error_set(CAIRN_ENOMEM, "out of memory");
}

void cairn_value_free(cairn_value *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < v->n; i++) {
		cairn_value_free(v->items[i]);
		if (v->keys != NULL)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->s);
	free(v);
}
