/*
 * jsonpatch.c - RFC 6902 JSON patch over RFC 6901 JSON pointers.
 *
 * The operations run on a deep copy of the target, one after the other;
 * the first failure abandons the copy, so a patch applies whole or not at
 * all (RFC 6902 section 5).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim/objects.h"

#include "cairn/buf.h"
#include "cairn/error.h"

/* Longest reference token kept while walking a pointer. */
#define TOKEN_MAX 4096

/* The next reference token of `*p` (which starts at a '/'), unescaped
 * (~1 is '/', ~0 is '~') into `tok`; advances `*p`. */
static int next_token(const char **p, char *tok, size_t size)
{
	const char *s = *p + 1;
	size_t n = 0;

	while (*s && *s != '/') {
		char c = *s++;

		if (c == '~') {
			if (*s == '0')
				c = '~';
			else if (*s == '1')
				c = '/';
			else
				return cairn_error_set(CAIRN_EINVAL,
				                       "bad escape '~%c' in JSON pointer",
				                       *s ? *s : ' ');
			s++;
		}
		if (n + 1 >= size)
			return cairn_error_set(CAIRN_ELIMIT, "JSON pointer token too long");
		tok[n++] = c;
	}
	tok[n] = '\0';
	*p = s;
	return 0;
}

/* An array index token: "0" or digits without a leading zero, below `limit`
 * (inclusive when `allow_end`). "-" is `limit` when `allow_end`. */
static int array_index(const char *tok, size_t limit, int allow_end, size_t *out)
{
	char *end;
	unsigned long long v;

	if (strcmp(tok, "-") == 0 && allow_end) {
		*out = limit;
		return 0;
	}
	if (tok[0] < '0' || tok[0] > '9' || (tok[0] == '0' && tok[1]))
		return cairn_error_set(CAIRN_EINVAL, "'%s' is not an array index", tok);
	errno = 0;
	v = strtoull(tok, &end, 10);
	if (*end || errno)
		return cairn_error_set(CAIRN_EINVAL, "'%s' is not an array index", tok);
	if (v > limit || (v == limit && !allow_end))
		return cairn_error_set(CAIRN_EINVAL, "array index '%s' is out of range", tok);
	*out = (size_t)v;
	return 0;
}

/* Resolve `ptr` to its parent container and last token. `*parent` is NULL
 * for the root pointer "". */
static int resolve_parent(json_t *doc, const char *ptr, json_t **parent, char *last, size_t size)
{
	json_t *cur = doc;
	const char *p = ptr;
	int rc;

	if (ptr[0] == '\0') {
		*parent = NULL;
		return 0;
	}
	if (ptr[0] != '/')
		return cairn_error_set(CAIRN_EINVAL, "JSON pointer '%s' does not start with '/'",
		                       ptr);
	for (;;) {
		rc = next_token(&p, last, size);
		if (rc)
			return rc;
		if (*p == '\0')
			break;
		if (json_is_object(cur)) {
			cur = json_object_get(cur, last);
		} else if (json_is_array(cur)) {
			size_t i;

			rc = array_index(last, json_array_size(cur), 0, &i);
			if (rc)
				return rc;
			cur = json_array_get(cur, i);
		} else {
			cur = NULL;
		}
		if (cur == NULL)
			return cairn_error_set(CAIRN_EINVAL, "path '%s' does not exist", ptr);
	}
	*parent = cur;
	return 0;
}

/* The value at `ptr` (borrowed), or NULL with the error set. */
static json_t *get_at(json_t *doc, const char *ptr, int *rc)
{
	json_t *parent, *v = NULL;
	char tok[TOKEN_MAX];
	size_t i;

	*rc = resolve_parent(doc, ptr, &parent, tok, sizeof(tok));
	if (*rc)
		return NULL;
	if (parent == NULL)
		return doc;
	if (json_is_object(parent))
		v = json_object_get(parent, tok);
	else if (json_is_array(parent) && array_index(tok, json_array_size(parent), 0, &i) == 0)
		v = json_array_get(parent, i);
	if (v == NULL)
		*rc = cairn_error_set(CAIRN_EINVAL, "path '%s' does not exist", ptr);
	return v;
}

/* Add (steals `v`): object member set, array element inserted, root replaced. */
static int add_at(json_t **doc, const char *ptr, json_t *v)
{
	json_t *parent;
	char tok[TOKEN_MAX];
	size_t i;
	int rc = resolve_parent(*doc, ptr, &parent, tok, sizeof(tok));

	if (rc)
		goto fail;
	if (parent == NULL) {
		json_decref(*doc);
		*doc = v;
		return 0;
	}
	if (json_is_object(parent))
		return json_object_set_new(parent, tok, v) ? CAIRN_ENOMEM : 0;
	if (json_is_array(parent)) {
		rc = array_index(tok, json_array_size(parent), 1, &i);
		if (rc)
			goto fail;
		return json_array_insert_new(parent, i, v) ? CAIRN_ENOMEM : 0;
	}
	rc = cairn_error_set(CAIRN_EINVAL, "path '%s' does not exist", ptr);
fail:
	json_decref(v);
	return rc;
}

/* Remove the value at `ptr`; `*removed` gets it (new reference) when wanted. */
static int remove_at(json_t *doc, const char *ptr, json_t **removed)
{
	json_t *parent, *v = NULL;
	char tok[TOKEN_MAX];
	size_t i;
	int rc = resolve_parent(doc, ptr, &parent, tok, sizeof(tok));

	if (rc)
		return rc;
	if (parent == NULL)
		return cairn_error_set(CAIRN_EINVAL, "cannot remove the whole document");
	if (json_is_object(parent) && (v = json_object_get(parent, tok)) != NULL) {
		if (removed)
			*removed = json_incref(v);
		json_object_del(parent, tok);
		return 0;
	}
	if (json_is_array(parent) && array_index(tok, json_array_size(parent), 0, &i) == 0) {
		if (removed)
			*removed = json_incref(json_array_get(parent, i));
		json_array_remove(parent, i);
		return 0;
	}
	return cairn_error_set(CAIRN_EINVAL, "path '%s' does not exist", ptr);
}

/* One operation on `*doc`. */
static int apply_op(json_t **doc, const json_t *op)
{
	const char *name = json_string_value(json_object_get(op, "op"));
	const char *path = json_string_value(json_object_get(op, "path"));
	const char *from = json_string_value(json_object_get(op, "from"));
	json_t *value = json_object_get(op, "value");
	json_t *v;
	int rc = 0;

	if (name == NULL)
		return cairn_error_set(CAIRN_EINVAL, "operation has no 'op'");
	if (path == NULL)
		return cairn_error_set(CAIRN_EINVAL, "operation '%s' has no 'path'", name);
	if (strcmp(name, "add") == 0 || strcmp(name, "replace") == 0 || strcmp(name, "test") == 0) {
		if (value == NULL)
			return cairn_error_set(CAIRN_EINVAL, "operation '%s' has no 'value'", name);
	}
	if (strcmp(name, "add") == 0)
		return add_at(doc, path, json_deep_copy(value));
	if (strcmp(name, "remove") == 0)
		return remove_at(*doc, path, NULL);
	if (strcmp(name, "replace") == 0) {
		if (path[0] == '\0')
			return add_at(doc, path, json_deep_copy(value));
		rc = remove_at(*doc, path, NULL);
		return rc ? rc : add_at(doc, path, json_deep_copy(value));
	}
	if (strcmp(name, "test") == 0) {
		v = get_at(*doc, path, &rc);
		if (v == NULL)
			return rc;
		if (!json_equal(v, value))
			return cairn_error_set(CAIRN_EINVAL, "test failed: value at '%s' differs",
			                       path);
		return 0;
	}
	if (strcmp(name, "move") == 0 || strcmp(name, "copy") == 0) {
		if (from == NULL)
			return cairn_error_set(CAIRN_EINVAL, "operation '%s' has no 'from'", name);
		if (name[0] == 'm') {
			size_t fl = strlen(from);

			if (strncmp(path, from, fl) == 0 && path[fl] == '/')
				return cairn_error_set(CAIRN_EINVAL,
				                       "cannot move '%s' into its own child '%s'",
				                       from, path);
			if (strcmp(path, from) == 0)
				return get_at(*doc, from, &rc) ? 0 : rc;
			rc = remove_at(*doc, from, &v);
			return rc ? rc : add_at(doc, path, v);
		}
		v = get_at(*doc, from, &rc);
		return v ? add_at(doc, path, json_deep_copy(v)) : rc;
	}
	return cairn_error_set(CAIRN_EINVAL, "unknown operation '%s'", name);
}

int sim_patch_json(json_t **out, const json_t *target, const json_t *ops)
{
	json_t *doc, *op;
	size_t i;
	int rc;

	if (!json_is_array(ops))
		return cairn_error_set(CAIRN_EINVAL, "JSON patch is not a list of operations");
	doc = target ? json_deep_copy(target) : json_null();
	if (doc == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory applying a JSON patch");
	json_array_foreach(ops, i, op)
	{
		if (!json_is_object(op)) {
			rc = cairn_error_set(CAIRN_EINVAL,
			                     "JSON patch operation %zu is not an object", i);
			goto fail;
		}
		rc = apply_op(&doc, op);
		if (rc) {
			if (rc == CAIRN_ENOMEM)
				cairn_error_set(rc, "out of memory");
			cairn_error_prefix("JSON patch operation %zu: ", i);
			goto fail;
		}
	}
	*out = doc;
	return 0;
fail:
	json_decref(doc);
	return rc;
}
