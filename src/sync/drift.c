/*
 * drift.c - drift detection and correction: which desired fields of a live
 * object differ from the predicted desired object, which field manager
 * changed them, and the watch-driven detector that records, audits and (in
 * correct mode) reverts them. See docs/drift.md.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/json.h"
#include "cairn/sync.h"
#include "drift_private.h"
#include "run_private.h"

/* ---- JSON pointers ----------------------------------------------------------- */

/*
 * Split the next reference token off JSON pointer `*p` (which starts at a
 * '/'), unescaping ~1 and ~0, into `tok`. Returns 0, or -1 at the end of
 * the pointer or when the token does not fit.
 */
static int next_token(const char **p, char *tok, size_t size)
{
	const char *s = *p;
	size_t n = 0;

	if (*s != '/')
		return -1;
	s++;
	while (*s != '\0' && *s != '/') {
		char c = *s++;

		if (c == '~' && (*s == '0' || *s == '1'))
			c = *s++ == '0' ? '~' : '/';
		if (n + 1 >= size)
			return -1;
		tok[n++] = c;
	}
	tok[n] = '\0';
	*p = s;
	return 0;
}

/* The child of `v` named by token `tok` (a key, or an index into an array). */
static json_t *child(const json_t *v, const char *tok)
{
	char *end;
	unsigned long i;

	if (json_is_object(v))
		return json_object_get(v, tok);
	if (!json_is_array(v) || tok[0] < '0' || tok[0] > '9')
		return NULL;
	i = strtoul(tok, &end, 10);
	return *end == '\0' ? json_array_get(v, i) : NULL;
}

int drift__pointer_get(json_t **out, const json_t *root, const char *path)
{
	char tok[512];
	json_t *v = (json_t *)root;

	while (v != NULL && *path != '\0') {
		if (next_token(&path, tok, sizeof(tok)) < 0)
			return -1;
		v = child(v, tok);
	}
	if (v == NULL)
		return -1;
	*out = v;
	return 0;
}

/*
 * Whether the desired object sets `path`: every token resolves in it. A
 * Secret's /data/KEY also counts when the desired object writes the key
 * under stringData (the server stores it under data).
 */
static int desired_has(const json_t *desired, const char *path)
{
	json_t *v;
	const char *kind = json_string_value(json_object_get(desired, "kind"));

	if (drift__pointer_get(&v, desired, path) == 0)
		return 1;
	if (kind != NULL && strcmp(kind, "Secret") == 0 && strncmp(path, "/data/", 6) == 0) {
		char alt[1024];
		int n = snprintf(alt, sizeof(alt), "/stringData/%s", path + 6);

		return n > 0 && (size_t)n < sizeof(alt) &&
		       drift__pointer_get(&v, desired, alt) == 0;
	}
	return 0;
}

/* A Service's selector hash key is the rollout engine's, never drift. */
static int rollout_hash_path(const json_t *desired, const char *path)
{
	const char *kind = json_string_value(json_object_get(desired, "kind"));

	return kind != NULL && strcmp(kind, "Service") == 0 &&
	       strcmp(path, "/spec/selector/" SYNC_ROLLOUT_HASH_KEY) == 0;
}

/* ---- field managers ------------------------------------------------------------ */

/*
 * Whether fieldsV1 key `key` ("k:{...}", "v:...", "i:N") names list element
 * `elem` at index `index`.
 */
static int element_key_matches(const char *key, const json_t *elem, size_t index)
{
	json_t *k;
	int ok = 0;

	if (strncmp(key, "i:", 2) == 0)
		return strtoul(key + 2, NULL, 10) == index && key[2] >= '0' && key[2] <= '9';
	if (strncmp(key, "k:", 2) != 0 && strncmp(key, "v:", 2) != 0)
		return 0;
	k = json_loads(key + 2, JSON_DECODE_ANY, NULL);
	if (k == NULL)
		return 0;
	if (key[0] == 'v') {
		ok = json_equal(k, elem);
	} else if (json_is_object(k) && json_is_object(elem)) {
		const char *f;
		json_t *val;

		ok = 1;
		json_object_foreach(k, f, val)
		{
			if (!json_equal(val, json_object_get(elem, f)))
				ok = 0;
		}
	}
	json_decref(k);
	return ok;
}

/*
 * Whether field set `fs` (a fieldsV1 object) contains `path` of `live`:
 * map keys are "f:NAME", list elements are found by their key against the
 * live element at that index.
 */
static int fields_own(const json_t *fs, const json_t *live, const char *path)
{
	char tok[512], key[600];
	const json_t *lv = live;

	while (*path != '\0') {
		json_t *next = NULL;

		if (!json_is_object(fs) || next_token(&path, tok, sizeof(tok)) < 0)
			return 0;
		if (json_is_array(lv)) {
			const char *k;
			json_t *sub;
			size_t idx = strtoul(tok, NULL, 10);
			json_t *elem = json_array_get(lv, idx);

			if (elem == NULL)
				return 0;
			json_object_foreach((json_t *)fs, k, sub)
			{
				if (element_key_matches(k, elem, idx)) {
					next = sub;
					break;
				}
			}
			lv = elem;
		} else {
			(void)snprintf(key, sizeof(key), "f:%s", tok);
			next = json_object_get(fs, key);
			lv = json_is_object(lv) ? json_object_get(lv, tok) : NULL;
		}
		if (next == NULL)
			return 0;
		fs = next;
	}
	return 1;
}

int cairn_drift_field_manager(char *out, size_t size, cairn_usec *when, const json_t *live,
                              const char *path)
{
	json_t *mf = json_object_get(json_object_get(live, "metadata"), "managedFields");
	const char *best = NULL;
	cairn_usec best_t = -1;
	size_t i;
	json_t *e;

	json_array_foreach(mf, i, e)
	{
		const char *m = json_string_value(json_object_get(e, "manager"));
		const char *ts = json_string_value(json_object_get(e, "time"));
		cairn_usec t = 0;

		if (m == NULL || !fields_own(json_object_get(e, "fieldsV1"), live, path))
			continue;
		if (ts != NULL && cairn_time_parse(&t, ts) < 0) {
			cairn_error_clear();
			t = 0;
		}
		if (t >= best_t) {
			best = m;
			best_t = t;
		}
	}
	if (best == NULL)
		return cairn_error_set(CAIRN_ENOTFOUND, "no field manager owns '%s'", path);
	(void)snprintf(out, size, "%s", best);
	if (when != NULL)
		*when = best_t;
	return 0;
}

/* ---- comparing ----------------------------------------------------------------- */

int drift__rollout_marked(const json_t *live)
{
	json_t *meta = json_object_get(live, "metadata");

	return json_object_get(json_object_get(meta, "labels"), CAIRN_ROLLOUT_MARKER) != NULL ||
	       json_object_get(json_object_get(meta, "annotations"), CAIRN_ROLLOUT_MARKER) != NULL;
}

/* Append {"path","old","new","manager"} for one drifted field to `arr`. */
static int add_path(json_t *arr, const cairn_diff_entry *e, const char *manager)
{
	json_t *o = json_object();

	if (o == NULL || json_object_set_new(o, "path", json_string(e->path)) < 0 ||
	    json_object_set_new(o, "old", e->wanted ? json_copy(e->wanted) : json_null()) < 0 ||
	    json_object_set_new(o, "new", e->live ? json_copy(e->live) : json_null()) < 0 ||
	    json_object_set_new(o, "manager", manager ? json_string(manager) : json_null()) < 0 ||
	    json_array_append_new(arr, o) < 0) {
		return cairn_error_set(CAIRN_ENOMEM, "out of memory recording a drifted path");
	}
	return 0;
}

int cairn_drift_compare(json_t **out, cairn_usec *changed_at, const json_t *desired,
                        const json_t *wanted, const json_t *live, const cairn_ignore *ig)
{
	cairn_diff *d = NULL;
	json_t *arr = NULL;
	cairn_usec latest = 0;
	int rc;

	if (!json_is_object(desired) || !json_is_object(wanted) || !json_is_object(live))
		return cairn_error_set(CAIRN_EINVAL, "drift compare needs three objects");
	arr = json_array();
	if (arr == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	if (drift__rollout_marked(live)) {
		rc = 0; /* the rollout engine owns the whole object (DESIGN 5a) */
		goto out;
	}
	if ((rc = cairn_sync_diff(&d, wanted, live, ig)) < 0)
		goto out;
	for (size_t i = 0; i < d->n; i++) {
		char mgr[256];
		cairn_usec t = 0;
		int have;

		if (!desired_has(desired, d->v[i].path) || rollout_hash_path(desired, d->v[i].path))
			continue;
		have = cairn_drift_field_manager(mgr, sizeof(mgr), &t, live, d->v[i].path) == 0;
		if (!have)
			cairn_error_clear();
		if (have && strcmp(mgr, CAIRN_ROLLOUT_MANAGER) == 0)
			continue;
		if (have && t > latest)
			latest = t;
		if ((rc = add_path(arr, &d->v[i], have ? mgr : NULL)) < 0)
			goto out;
	}
	rc = 0;
out:
	cairn_diff_free(d);
	if (rc == 0) {
		*out = arr;
		if (changed_at != NULL)
			*changed_at = latest;
	} else {
		json_decref(arr);
	}
	return rc;
}
