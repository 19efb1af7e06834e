/*
 * output.c - the render hash and the printed forms of a manifest set.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/hash.h"
#include "cairn/json.h"
#include "cairn/render.h"
#include "cairn/yaml.h"
#include "render_private.h"

struct keyed {
	char *key;
	json_t *obj;
};

static int keyed_cmp(const void *a, const void *b)
{
	return strcmp(((const struct keyed *)a)->key, ((const struct keyed *)b)->key);
}

/* The sort key group/kind/namespace/name, NUL-separated parts joined by
 * '\x01' so that no value can imitate a boundary. */
static char *sort_key(const json_t *o)
{
	const char *kind = res_str(o, "kind", NULL), *ns = res_str(o, "metadata", "namespace");
	const char *name = res_str(o, "metadata", "name");
	char grp[256];
	size_t len;
	char *k;

	res_group(o, grp, sizeof(grp));
	len = strlen(grp) + strlen(kind ? kind : "") + strlen(ns ? ns : "") +
	      strlen(name ? name : "") + 4;
	k = malloc(len);
	if (k != NULL)
		snprintf(k, len, "%s\x01%s\x01%s\x01%s", grp, kind ? kind : "", ns ? ns : "",
		         name ? name : "");
	return k;
}

int cairn_render_hash(char hex[65], const json_t *objs)
{
	size_t n = json_array_size(objs), i;
	struct keyed *v = calloc(n ? n : 1, sizeof(*v));
	json_t *sorted = json_array();
	int rc = 0;

	if (v == NULL || sorted == NULL) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		v[i].obj = json_array_get(objs, i);
		if (!json_is_object(v[i].obj)) {
			rc = cairn_error_set(CAIRN_EINVAL, "manifest %zu is not an object", i);
			goto out;
		}
		if ((v[i].key = sort_key(v[i].obj)) == NULL) {
			rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
			goto out;
		}
	}
	qsort(v, n, sizeof(*v), keyed_cmp);
	for (i = 0; i < n; i++)
		if (json_array_append(sorted, v[i].obj) < 0) {
			rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
			goto out;
		}
	rc = cairn_json_sha256_hex(hex, sorted);
out:
	for (i = 0; v && i < n; i++)
		free(v[i].key);
	free(v);
	json_decref(sorted);
	return rc;
}

int cairn_render_emit(cairn_buf *out, const json_t *objs, int json)
{
	json_t *list;
	char *s;
	int rc;

	if (!json)
		return cairn_yaml_emit_stream(out, objs);
	list = json_pack("{s:s,s:s,s:O}", "apiVersion", "v1", "kind", "List", "items", objs);
	s = list ? json_dumps(list, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(list);
	if (s == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	rc = cairn_buf_puts(out, s);
	if (rc == 0)
		rc = cairn_buf_putc(out, '\n');
	free(s);
	return rc;
}
