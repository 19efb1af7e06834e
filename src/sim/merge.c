/*
 * merge.c - RFC 7386 JSON merge patch and the Kubernetes strategic merge
 * patch.
 *
 * Both work on a deep copy of the target, so the inputs stay borrowed and
 * untouched. The strategic merge patch follows the type of each nested
 * object through core's tables (cairn_k8s_field_type): a list whose field
 * has the "merge" patch strategy is merged, by the patch merge key for
 * lists of objects and as a set for lists of scalars; every other list is
 * replaced. Directives ($patch, $retainKeys, $setElementOrder/<field>,
 * $deleteFromPrimitiveList/<field>) never reach the result.
 */
#include <stdlib.h>
#include <string.h>

#include "sim/objects.h"

#include "cairn/error.h"
#include "cairn/k8s.h"

/* Deeper documents than this are refused rather than risking the stack. */
#define SIM_MERGE_DEPTH_MAX 512

#define SET_ORDER "$setElementOrder/"
#define DEL_PRIM "$deleteFromPrimitiveList/"

/* ---- RFC 7386 ------------------------------------------------------------------------------ */

/* Section 2 of RFC 7386, recursively: a non-object patch replaces; an object
 * patch merges member by member into an object (a non-object target counts
 * as {}), null members removing. Returns a new reference or NULL. */
static json_t *merge_value(const json_t *target, const json_t *patch, int depth)
{
	json_t *result;
	const char *key;
	json_t *pv;

	if (depth > SIM_MERGE_DEPTH_MAX) {
		cairn_error_set(CAIRN_ELIMIT, "merge patch nested deeper than %d levels",
		                SIM_MERGE_DEPTH_MAX);
		return NULL;
	}
	if (!json_is_object(patch))
		return json_deep_copy(patch);
	result = json_is_object(target) ? json_deep_copy(target) : json_object();
	if (result == NULL)
		goto nomem;
	json_object_foreach((json_t *)patch, key, pv)
	{
		json_t *merged;

		if (json_is_null(pv)) {
			json_object_del(result, key);
			continue;
		}
		merged = merge_value(json_object_get(result, key), pv, depth + 1);
		if (merged == NULL) {
			json_decref(result);
			return NULL;
		}
		if (json_object_set_new(result, key, merged) != 0) {
			json_decref(result);
			goto nomem;
		}
	}
	return result;
nomem:
	cairn_error_set(CAIRN_ENOMEM, "out of memory applying a merge patch");
	return NULL;
}

int sim_patch_merge(json_t **out, const json_t *target, const json_t *patch)
{
	json_t *r;

	if (patch == NULL)
		return cairn_error_set(CAIRN_EINVAL, "merge patch is missing");
	r = merge_value(target, patch, 0);
	if (r == NULL)
		return cairn_error_last()->code ? cairn_error_last()->code : CAIRN_ENOMEM;
	*out = r;
	return 0;
}

/* ---- strategic merge patch ----------------------------------------------------------------- */

static int smp_map(json_t *target, const json_t *patch, const char *type, int depth);

static int smp_nomem(void)
{
	return cairn_error_set(CAIRN_ENOMEM, "out of memory applying a strategic merge patch");
}

static int is_directive(const char *key)
{
	return key[0] == '$';
}

/* A copy of a patch value with every directive and null member removed, as
 * the value that lands in the object when the target had nothing there. */
static json_t *smp_clean(const json_t *v, const char *type, int depth, int *err)
{
	json_t *empty, *r;

	if (json_is_object(v)) {
		const char *p = json_string_value(json_object_get(v, "$patch"));

		if (p && strcmp(p, "delete") == 0)
			return NULL;
		empty = json_object();
		if (empty == NULL) {
			*err = smp_nomem();
			return NULL;
		}
		*err = smp_map(empty, v, type, depth + 1);
		if (*err) {
			json_decref(empty);
			return NULL;
		}
		return empty;
	}
	if (json_is_array(v)) {
		size_t i;
		json_t *item;

		r = json_array();
		if (r == NULL) {
			*err = smp_nomem();
			return NULL;
		}
		json_array_foreach(v, i, item)
		{
			json_t *c;

			if (json_is_object(item) && json_object_get(item, "$patch"))
				continue;
			c = smp_clean(item, type, depth, err);
			if (*err) {
				json_decref(r);
				return NULL;
			}
			if (c)
				json_array_append_new(r, c);
		}
		return r;
	}
	return json_deep_copy(v);
}

/* Index of the element of `list` whose `key` member equals that of `item`. */
static long find_keyed(const json_t *list, const char *key, const json_t *item)
{
	const json_t *want = json_object_get(item, key);
	size_t i;
	json_t *e;

	if (want == NULL)
		return -1;
	json_array_foreach(list, i, e) if (json_is_object(e) && json_equal(json_object_get(e, key),
	                                                                   want)) return (long)i;
	return -1;
}

static long find_equal(const json_t *list, const json_t *v)
{
	size_t i;
	json_t *e;

	json_array_foreach(list, i, e) if (json_equal(e, v)) return (long)i;
	return -1;
}

/* Merge a patch list of objects into `target` by `key`: {"$patch":"delete"}
 * elements remove their match, {"$patch":"replace"} makes the patch's other
 * elements the whole list, matches merge recursively, the rest append. */
static int smp_keyed_list(json_t *target, const json_t *patch, const char *key, const char *type,
                          int depth)
{
	size_t i;
	json_t *item;
	int rc = 0;

	json_array_foreach(patch, i, item)
	{
		const char *p = json_string_value(json_object_get(item, "$patch"));

		if (p && strcmp(p, "replace") == 0 && json_object_size(item) == 1) {
			json_array_clear(target);
			break;
		}
	}
	json_array_foreach(patch, i, item)
	{
		const char *p;
		long at;

		if (!json_is_object(item)) {
			json_array_append_new(target, json_deep_copy(item));
			continue;
		}
		p = json_string_value(json_object_get(item, "$patch"));
		if (p && json_object_size(item) == 1)
			continue;
		if (json_object_get(item, key) == NULL)
			return cairn_error_set(
			        CAIRN_EINVAL,
			        "strategic merge patch: list element has no merge key '%s'", key);
		at = find_keyed(target, key, item);
		if (p && strcmp(p, "delete") == 0) {
			if (at >= 0)
				json_array_remove(target, (size_t)at);
			continue;
		}
		if (p && strcmp(p, "replace") == 0) {
			json_t *c = smp_clean(item, type, depth, &rc);

			if (rc)
				return rc;
			if (at >= 0)
				json_array_set_new(target, (size_t)at, c);
			else
				json_array_append_new(target, c);
			continue;
		}
		if (at >= 0) {
			rc = smp_map(json_array_get(target, (size_t)at), item, type, depth + 1);
		} else {
			json_t *c = smp_clean(item, type, depth, &rc);

			if (c)
				json_array_append_new(target, c);
		}
		if (rc)
			return rc;
	}
	return 0;
}

/* Reorder `list` as `order` says: the elements named in `order` first, in
 * its order, then the others as they were. Elements are matched by `key`
 * (objects) or by value (scalars). */
static int smp_set_order(json_t *list, const json_t *order, const char *key)
{
	size_t n = json_array_size(list);
	json_t *sorted = json_array();
	char *used = calloc(n + 1, 1);
	size_t i, j;
	json_t *o, *e;

	if (sorted == NULL || used == NULL) {
		json_decref(sorted);
		free(used);
		return smp_nomem();
	}
	json_array_foreach(order, i, o)
	{
		long at = key && json_is_object(o) ? find_keyed(list, key, o) : find_equal(list, o);

		if (at >= 0 && !used[at]) {
			json_array_append(sorted, json_array_get(list, (size_t)at));
			used[at] = 1;
		}
	}
	json_array_foreach(list, j, e) if (!used[j]) json_array_append(sorted, e);
	json_array_clear(list);
	json_array_extend(list, sorted);
	json_decref(sorted);
	free(used);
	return 0;
}

/* One list member of a patch map: merged by key, as a set, or replaced. */
static int smp_list_field(json_t *target, const char *key, const json_t *pv, const char *type,
                          int depth)
{
	const cairn_merge_key *row = cairn_k8s_merge_key_find(type, key);
	json_t *cur = json_object_get(target, key);
	int rc = 0;

	if (row && (row->patch_strategy & CAIRN_PATCH_MERGE) && json_is_array(cur)) {
		if (row->patch_key)
			return smp_keyed_list(cur, pv, row->patch_key,
			                      cairn_k8s_field_type(type, key), depth);
		size_t i;
		json_t *item;

		json_array_foreach(pv, i, item) if (find_equal(cur, item) < 0)
		        json_array_append_new(cur, json_deep_copy(item));
		return 0;
	}
	json_t *c = smp_clean(pv, cairn_k8s_field_type(type, key), depth, &rc);

	if (rc)
		return rc;
	return json_object_set_new(target, key, c ? c : json_array()) ? smp_nomem() : 0;
}

/* The directives that act after the fields are merged: element order and
 * retained keys. */
static int smp_after(json_t *target, const json_t *patch, const char *type)
{
	const char *key;
	json_t *pv;
	const json_t *retain = json_object_get(patch, "$retainKeys");

	json_object_foreach((json_t *)patch, key, pv)
	{
		if (strncmp(key, SET_ORDER, strlen(SET_ORDER)) == 0) {
			const char *field = key + strlen(SET_ORDER);
			const cairn_merge_key *row = cairn_k8s_merge_key_find(type, field);
			json_t *list = json_object_get(target, field);

			if (!json_is_array(pv))
				return cairn_error_set(CAIRN_EINVAL,
				                       "strategic merge patch: '%s' is not a list",
				                       key);
			if (json_is_array(list)) {
				int rc = smp_set_order(list, pv, row ? row->patch_key : NULL);

				if (rc)
					return rc;
			}
		}
	}
	if (retain) {
		void *iter;

		if (!json_is_array(retain))
			return cairn_error_set(
			        CAIRN_EINVAL, "strategic merge patch: '$retainKeys' is not a list");
		iter = json_object_iter(target);
		while (iter) {
			const char *k = json_object_iter_key(iter);
			json_t *ks = json_string(k);
			int keep = find_equal(retain, ks) >= 0;

			json_decref(ks);
			if (!keep)
				iter = json_object_iter_next(target, iter),
				json_object_del(target, k);
			else
				iter = json_object_iter_next(target, iter);
		}
	}
	return 0;
}

/* Strategic merge of the map `patch` into `target` (modified in place),
 * `type` being the OpenAPI definition of both (NULL when unknown: lists are
 * then replaced). */
static int smp_map(json_t *target, const json_t *patch, const char *type, int depth)
{
	const char *key;
	json_t *pv;
	const char *p = json_string_value(json_object_get(patch, "$patch"));
	int rc = 0;

	if (depth > SIM_MERGE_DEPTH_MAX)
		return cairn_error_set(CAIRN_ELIMIT,
		                       "strategic merge patch nested deeper than %d levels",
		                       SIM_MERGE_DEPTH_MAX);
	if (p && strcmp(p, "replace") == 0)
		json_object_clear(target);
	else if (p && strcmp(p, "merge") != 0 && strcmp(p, "delete") != 0)
		return cairn_error_set(CAIRN_EINVAL,
		                       "strategic merge patch: unknown $patch value '%s'", p);
	json_object_foreach((json_t *)patch, key, pv)
	{
		json_t *cur = json_object_get(target, key);

		if (strncmp(key, DEL_PRIM, strlen(DEL_PRIM)) == 0) {
			json_t *list = json_object_get(target, key + strlen(DEL_PRIM));
			size_t i;
			json_t *item;

			if (!json_is_array(pv))
				return cairn_error_set(CAIRN_EINVAL,
				                       "strategic merge patch: '%s' is not a list",
				                       key);
			json_array_foreach(pv, i, item)
			{
				long at;

				while (json_is_array(list) && (at = find_equal(list, item)) >= 0)
					json_array_remove(list, (size_t)at);
			}
			continue;
		}
		if (is_directive(key))
			continue;
		if (json_is_null(pv)) {
			json_object_del(target, key);
		} else if (json_is_object(pv)) {
			const char *cp = json_string_value(json_object_get(pv, "$patch"));

			if (cp && strcmp(cp, "delete") == 0) {
				json_object_del(target, key);
				continue;
			}
			if (!json_is_object(cur)) {
				cur = json_object();
				if (cur == NULL || json_object_set_new(target, key, cur))
					return smp_nomem();
			}
			rc = smp_map(cur, pv, cairn_k8s_field_type(type, key), depth + 1);
		} else if (json_is_array(pv)) {
			rc = smp_list_field(target, key, pv, type, depth);
		} else if (json_object_set_new(target, key, json_deep_copy(pv))) {
			return smp_nomem();
		}
		if (rc)
			return rc;
	}
	return smp_after(target, patch, type);
}

int sim_patch_strategic(json_t **out, const json_t *target, const json_t *patch)
{
	const char *type;
	json_t *r;
	int rc;

	if (!json_is_object(patch))
		return cairn_error_set(CAIRN_EINVAL, "strategic merge patch is not a JSON object");
	type = cairn_k8s_kind_type(json_string_value(json_object_get(target, "apiVersion")),
	                           json_string_value(json_object_get(target, "kind")));
	if (type == NULL)
		return sim_patch_merge(out, target, patch);
	r = json_is_object(target) ? json_deep_copy(target) : json_object();
	if (r == NULL)
		return smp_nomem();
	rc = smp_map(r, patch, type, 0);
	if (rc) {
		json_decref(r);
		return rc;
	}
	*out = r;
	return 0;
}
