/*
 * smp.c - strategic merge patches as kubectl kustomize applies them: maps
 * merged field by field (null deletes), lists with a patch merge key in
 * core's table merged element by element, lists of scalars with the merge
 * strategy merged as sets, every other list replaced; `$patch: delete` and
 * `$patch: replace` on maps and keyed lists.
 *
 * Key order does not matter here (the emitter sorts keys, as kubectl
 * kustomize prints them); list order does. kustomize's merge puts the
 * patch's elements first, in the patch's order (each merged with its
 * counterpart), then the remaining elements of the object in their order.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/k8s.h"
#include "render_private.h"

#define SMP_DEPTH_MAX 64

static int merge_map(json_t *dst, const json_t *patch, const char *type, int depth);

static const char *directive(const json_t *m)
{
	return json_is_object(m) ? json_string_value(json_object_get(m, "$patch")) : NULL;
}

/* A copy of a patch value with its directives applied to nothing. */
static int fresh(json_t **out, const json_t *pv, const char *type, int depth)
{
	json_t *v;
	int rc;

	if (!json_is_object(pv)) {
		*out = json_deep_copy(pv);
		return *out ? 0 : cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	v = json_object();
	if (v == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	rc = merge_map(v, pv, type, depth + 1);
	if (rc < 0) {
		json_decref(v);
		return rc;
	}
	*out = v;
	return 0;
}

/*
 * Whether dest element `d` is the counterpart of patch element `p`: the
 * patch merge key equal and, for lists with several list-map keys (ports:
 * containerPort and protocol), every one of those equal too, absent on both
 * sides counting as equal (kustomize does not default them).
 */
static int same_element(const json_t *d, const json_t *p, const cairn_merge_key *row)
{
	if (!json_is_object(d) ||
	    !json_equal(json_object_get(d, row->patch_key), json_object_get(p, row->patch_key)))
		return 0;
	for (size_t k = 0; row->list_map_keys[1] && k < 3 && row->list_map_keys[k]; k++) {
		json_t *a = json_object_get(d, row->list_map_keys[k]),
		       *b = json_object_get(p, row->list_map_keys[k]);
		if ((a == NULL) != (b == NULL) || (a && !json_equal(a, b)))
			return 0;
	}
	return 1;
}

static int push(json_t *arr, json_t *v)
{
	if (v == NULL || json_array_append_new(arr, v) < 0)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	return 0;
}

/* Whether `e` is the lone list element `{$patch: replace}`. */
static int replace_marker(const json_t *e)
{
	const char *d = directive(e);

	return d && strcmp(d, "replace") == 0 && json_object_size(e) == 1;
}

/* The merged form of patch element `e`: merged into its counterpart `old`,
 * or alone. */
static int merged_element(json_t **out, const json_t *old, const json_t *e, const char *itype,
                          int depth)
{
	json_t *m;
	int rc;

	if (old == NULL)
		return fresh(out, e, itype, depth);
	m = json_deep_copy(old);
	if (m == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	if ((rc = merge_map(m, e, itype, depth + 1)) < 0) {
		json_decref(m);
		return rc;
	}
	*out = m;
	return 0;
}

/*
 * Merge a list whose elements are maps identified by the row's merge key:
 * patch elements first (merged with the object's element of the same key,
 * or alone), `$patch: delete` elements dropped along with their
 * counterpart, then the object's unmatched elements. An element
 * `{$patch: replace}` makes the patch's list replace the object's. A patch
 * element whose merge key matches an element but whose other list-map keys
 * do not is dropped, as kubectl kustomize prints.
 */
static int merge_keyed(json_t **out, const json_t *dl, const json_t *pl, const cairn_merge_key *row,
                       const char *itype, int depth)
{
	size_t i, j, n = json_array_size(dl);
	json_t *res = json_array(), *e, *d;
	char *used = calloc(n + 1, 1);
	int replace = 0, rc = 0;

	if (res == NULL || used == NULL) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(pl, i, e) replace |= replace_marker(e);
	/* kubectl kustomize drops patched elements of such lists: refused */
	json_array_foreach(replace ? NULL : dl, j, d)
	{
		if (!json_is_object(d) || json_object_get(d, row->patch_key) == NULL) {
			rc = cairn_error_set(CAIRN_EUNSUPPORTED,
			                     "list '%s' has an element without merge key '%s': "
			                     "patching it is not supported by the native renderer",
			                     row->field, row->patch_key);
			goto out;
		}
	}
	json_array_foreach(pl, i, e)
	{
		const char *dir = directive(e);
		json_t *old = NULL, *m = NULL;
		int near = 0;
		if (replace_marker(e))
			continue;
		if (json_object_get(e, row->patch_key) == NULL) {
			rc = cairn_error_set(CAIRN_EINVAL,
			                     "an element of list '%s' has no merge key '%s'",
			                     row->field, row->patch_key);
			goto out;
		}
		json_array_foreach(replace ? NULL : dl, j, d)
		{
			if (old == NULL && same_element(d, e, row)) {
				old = d;
				used[j] = 1;
			}
			near |= json_is_object(d) && json_equal(json_object_get(d, row->patch_key),
			                                        json_object_get(e, row->patch_key));
		}
		if ((dir && strcmp(dir, "delete") == 0) || (old == NULL && near))
			continue;
		if ((rc = merged_element(&m, old, e, itype, depth)) < 0 || (rc = push(res, m)) < 0)
			goto out;
	}
	json_array_foreach(replace ? NULL : dl, j, d)
	{
		if (!used[j] && (rc = push(res, json_deep_copy(d))) < 0)
			goto out;
	}
	*out = res;
	res = NULL;
out:
	json_decref(res);
	free(used);
	return rc;
}

/* A merged set of scalars: the patch's values first, then the others. */
static int merge_set(json_t **out, const json_t *dl, const json_t *pl)
{
	json_t *res = json_array(), *e;
	size_t i;

	if (res == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	for (int pass = 0; pass < 2; pass++) {
		json_array_foreach(pass == 0 ? pl : dl, i, e)
		{
			size_t j;
			json_t *r;
			int seen = 0;
			json_array_foreach(res, j, r) seen |= json_equal(r, e);
			if (!seen && push(res, json_deep_copy(e)) < 0) {
				json_decref(res);
				return cairn_error_last()->code;
			}
		}
	}
	*out = res;
	return 0;
}

/* The new value of list field `field` of `type` (the object's list `dl`,
 * NULL when absent) under the patch's list `pl`. */
static int merge_list(json_t **out, const json_t *dl, const json_t *pl, const char *type,
                      const char *field, int depth)
{
	const cairn_merge_key *row = cairn_k8s_merge_key_find(type, field);
	int merge = row && (row->patch_strategy & CAIRN_PATCH_MERGE);
	json_t *empty = NULL, *res = NULL;
	int rc = 0;

	if (!json_is_array(dl))
		dl = empty = json_array();
	if (dl == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	if (merge && row->strategy == CAIRN_MERGE_BY_KEY && row->patch_key) {
		rc = merge_keyed(&res, dl, pl, row, cairn_k8s_field_type(type, field), depth);
	} else if (merge && row->strategy == CAIRN_MERGE_SET) {
		rc = merge_set(&res, dl, pl);
	} else {
		/* replaced, verbatim: kustomize keeps even directives in such lists */
		res = json_deep_copy(pl);
		if (res == NULL)
			rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	json_decref(empty);
	if (rc < 0) {
		json_decref(res);
		return rc;
	}
	*out = res;
	return 0;
}

/* Directives other than `$patch` that kustomize knows and Cairn does not. */
static int refuse_directive(const char *key)
{
	if (strncmp(key, "$setElementOrder/", 17) == 0 || strcmp(key, "$retainKeys") == 0 ||
	    strncmp(key, "$deleteFromPrimitiveList/", 25) == 0)
		return cairn_error_set(CAIRN_EUNSUPPORTED,
		                       "strategic merge directive '%s' is not supported by the "
		                       "native renderer",
		                       key);
	return 0;
}

/* Merge one field of a map: null and `$patch: delete` remove it, maps
 * merge, lists follow the table, scalars replace. */
static int merge_field(json_t *dst, const char *key, const json_t *pv, const char *type, int depth)
{
	json_t *dv = json_object_get(dst, key), *nv = NULL;
	const char *ftype = cairn_k8s_field_type(type, key), *d = directive(pv);
	int rc;

	if (json_is_null(pv) || (d && strcmp(d, "delete") == 0)) {
		json_object_del(dst, key);
		return 0;
	}
	if (json_is_object(pv) && json_is_object(dv) && !(d && strcmp(d, "replace") == 0))
		return merge_map(dv, pv, ftype, depth + 1);
	if (json_is_array(pv))
		rc = merge_list(&nv, dv, pv, type, key, depth);
	else
		rc = fresh(&nv, pv, ftype, depth);
	if (rc == 0 && json_object_set_new(dst, key, nv) < 0)
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
	return rc;
}

static int merge_map(json_t *dst, const json_t *patch, const char *type, int depth)
{
	const char *key, *d = directive(patch);
	json_t *pv;
	int rc;

	if (depth > SMP_DEPTH_MAX)
		return cairn_error_set(CAIRN_ELIMIT, "strategic merge patch nested deeper than %d",
		                       SMP_DEPTH_MAX);
	if (d && strcmp(d, "replace") == 0)
		json_object_clear(dst);
	else if (d && strcmp(d, "delete") != 0)
		return cairn_error_set(CAIRN_EINVAL,
		                       "unknown strategic merge directive '$patch: %s'", d);
	json_object_foreach((json_t *)patch, key, pv)
	{
		if (strcmp(key, "$patch") == 0)
			continue;
		if ((rc = refuse_directive(key)) < 0 ||
		    (rc = merge_field(dst, key, pv, type, depth)) < 0)
			return rc;
	}
	return 0;
}

int smp_apply(json_t *obj, const json_t *patch)
{
	const char *type =
	        cairn_k8s_kind_type(res_str(obj, "apiVersion", NULL), res_str(obj, "kind", NULL));

	if (!json_is_object(patch))
		return cairn_error_set(CAIRN_EINVAL, "a strategic merge patch must be a map");
	return merge_map(obj, patch, type, 0);
}
