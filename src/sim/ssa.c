/*
 * ssa.c - server-side apply and managed fields, as structured-merge-diff
 * records them in metadata.managedFields (fieldsType FieldsV1).
 *
 * A field set is kept flat while we compute: a JSON object whose keys are
 * paths, each path the FieldsV1 elements ("f:spec", "k:{\"name\":\"web\"}",
 * "v:\"x\"", "i:0") joined by '\n' (which no element can contain: keys are
 * compact JSON). A path in the set is a member: a leaf value, an empty map,
 * an atomic list, or an item of a keyed list or set. FieldsV1 is the tree
 * form of the same set, "." marking a member that also has children.
 *
 * Lists follow core's merge-key table: a list with x-kubernetes-list-type
 * map is keyed by its list-map keys, a list with the "merge" patch strategy
 * and a merge key by that key (as the API server derives its apply schema),
 * a list of scalars with the "merge" strategy or list-type set is a set;
 * every other list, and every list of a kind not in the table, is atomic.
 *
 * Objects are merged key by key, except the atomic maps of core's table
 * (Service spec.selector, PodSpec nodeSelector, LabelSelectors, ...): such
 * a map is one member, a leaf of the set, so it is owned and conflicts as a
 * whole, and an apply replaces it whole. Likewise an item of a keyed list
 * whose type is atomic (an OwnerReference, a LocalObjectReference of
 * imagePullSecrets) is one member, its key, and is replaced whole.
 */
#include <stdlib.h>
#include <string.h>

#include "sim/objects.h"

#include "cairn/buf.h"
#include "cairn/error.h"
#include "cairn/k8s.h"

#define SEP '\n'
#define PATH_STR(b) ((b)->ptr ? (b)->ptr : "")
#define SSA_DEPTH_MAX 256
#define PATH_MAX_LEN 8192

/* Metadata fields the field manager never tracks (they belong to the server). */
static const char *const stripped_meta[] = {
        "name",       "namespace",     "creationTimestamp", "selfLink", "uid", "resourceVersion",
        "generation", "managedFields", "deletionTimestamp", NULL};

/* How the list at `field` of `type` is merged: 'k' keyed (keys in `keys`),
 * 's' set, 'a' atomic. */
static int list_kind(const char *type, const char *field, const char *const **keys)
{
	const cairn_merge_key *row = cairn_k8s_merge_key_find(type, field);
	static const char *const none[] = {NULL};

	*keys = none;
	if (row == NULL || row->list_type == CAIRN_LIST_ATOMIC)
		return 'a';
	if (row->list_type == CAIRN_LIST_MAP && row->list_map_keys[0]) {
		*keys = row->list_map_keys;
		return 'k';
	}
	if (row->list_type == CAIRN_LIST_SET)
		return 's';
	if (row->patch_strategy & CAIRN_PATCH_MERGE) {
		if (row->patch_key) {
			static __thread const char *one[2];

			one[0] = row->patch_key;
			one[1] = NULL;
			*keys = one;
			return 'k';
		}
		return 's';
	}
	return 'a';
}

/* The key object of a keyed list item, fields sorted by name as the API
 * server writes them; a missing "protocol" counts as its default "TCP". */
static json_t *item_key(const json_t *item, const char *const *keys)
{
	json_t *k = json_object();

	for (size_t i = 0; keys[i]; i++) {
		json_t *v = json_object_get(item, keys[i]);

		if (v == NULL && strcmp(keys[i], "protocol") == 0)
			v = json_string("TCP");
		else if (v)
			json_incref(v);
		if (v)
			json_object_set_new(k, keys[i], v);
	}
	return k;
}

/* Append one path element to `path` (truncating back is the caller's job). */
static int path_push(cairn_buf *path, const char *prefix, const char *text)
{
	if (path->len && cairn_buf_putc(path, SEP))
		return CAIRN_ELIMIT;
	if (cairn_buf_puts(path, prefix) || cairn_buf_puts(path, text))
		return CAIRN_ELIMIT;
	return 0;
}

static int path_push_json(cairn_buf *path, const char *prefix, const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	int rc;

	if (s == NULL)
		return CAIRN_ENOMEM;
	rc = path_push(path, prefix, s);
	free(s);
	return rc;
}

static int set_add(json_t *set, const cairn_buf *path)
{
	return json_object_set_new(set, PATH_STR(path), json_true()) ? CAIRN_ENOMEM : 0;
}

static int fs_value(json_t *set, const json_t *v, const char *type, cairn_buf *path, int depth,
                    int strict);
static void path_pretty(cairn_buf *out, const char *path);

/* A keyed list element without one of its keys, refused as the API
 * server refuses it. */
static int missing_key_error(const cairn_buf *path, size_t index, const char *const *keys,
                             const json_t *have)
{
	cairn_buf msg = CAIRN_BUF_INIT(PATH_MAX_LEN);
	size_t j = 0;
	int rc;

	while (keys[j + 1] && json_object_get(have, keys[j]))
		j++;

	path_pretty(&msg, PATH_STR(path));
	cairn_buf_printf(&msg,
	                 ": element %zu: associative list with keys has an element that omits key "
	                 "field \"%s\"",
	                 index, keys[j]);
	rc = cairn_error_set(CAIRN_EINVAL, "%s", msg.ptr ? msg.ptr : "missing key");
	cairn_buf_dispose(&msg);
	return rc;
}

/* Two elements of a keyed list (or a set) with the same key: the API
 * server refuses such a configuration, naming the list and the key. */
static int duplicate_error(const cairn_buf *path)
{
	cairn_buf msg = CAIRN_BUF_INIT(PATH_MAX_LEN);
	char *copy = strdup(PATH_STR(path)), *last;
	int rc;

	if (copy == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	last = strrchr(copy, SEP);
	if (last) {
		*last++ = '\0';
		path_pretty(&msg, copy);
	} else {
		last = copy;
	}
	cairn_buf_puts(&msg, ": duplicate entries for key ");
	path_pretty(&msg, last);
	rc = cairn_error_set(CAIRN_EINVAL, "%s", msg.ptr ? msg.ptr : "duplicate entries");
	cairn_buf_dispose(&msg);
	free(copy);
	return rc;
}

/* The members of a list value at `path` (the list's own path). */
static int fs_list(json_t *set, const json_t *list, const char *type, const char *field,
                   cairn_buf *path, int depth, int strict)
{
	const char *const *keys;
	int how = list_kind(type, field, &keys);
	const char *item_type = cairn_k8s_field_type(type, field);
	size_t mark = path->len, i;
	json_t *item;
	int rc = 0;

	if (how == 'a' || json_array_size(list) == 0)
		return set_add(set, path);
	json_array_foreach(list, i, item)
	{
		if (how == 'k' && json_is_object(item)) {
			json_t *k = item_key(item, keys);
			size_t nkeys = 0;

			while (keys[nkeys])
				nkeys++;
			if (strict && json_object_size(k) < nkeys) {
				rc = missing_key_error(path, i, keys, k);
				json_decref(k);
				return rc;
			}
			rc = path_push_json(path, "k:", k);
			json_decref(k);
			if (!rc && strict && json_object_get(set, PATH_STR(path)))
				rc = duplicate_error(path);
			/* an atomic item (an OwnerReference, ...) is owned as a whole;
			 * its member says so for the conflict check */
			if (!rc && cairn_k8s_type_is_atomic(item_type))
				rc = json_object_set_new(set, PATH_STR(path), json_string("atomic"))
				             ? CAIRN_ENOMEM
				             : 0;
			else if (!rc)
				rc = set_add(set, path);
			if (!rc && !cairn_k8s_type_is_atomic(item_type))
				rc = fs_value(set, item, item_type, path, depth + 1, strict);
		} else {
			rc = path_push_json(path, "v:", item);
			if (!rc && strict && json_object_get(set, PATH_STR(path)))
				rc = duplicate_error(path);
			if (!rc)
				rc = set_add(set, path);
		}
		cairn_buf_truncate(path, mark);
		if (rc)
			return rc;
	}
	return 0;
}

/* The members below an object value at `path`; an empty object is itself
 * a member. Keyed-list items pass their own path and are members already. */
static int fs_value(json_t *set, const json_t *v, const char *type, cairn_buf *path, int depth,
                    int strict)
{
	const char *key;
	json_t *cv;
	size_t mark = path->len;
	int rc = 0;

	if (depth > SSA_DEPTH_MAX)
		return cairn_error_set(CAIRN_ELIMIT, "object nested deeper than %d levels",
		                       SSA_DEPTH_MAX);
	if (!json_is_object(v))
		return set_add(set, path);
	if (json_object_size(v) == 0 && path->len)
		return set_add(set, path);
	json_object_foreach((json_t *)v, key, cv)
	{
		rc = path_push(path, "f:", key);
		if (rc)
			return cairn_error_set(rc, "field path too long");
		if (json_is_object(cv) && cairn_k8s_map_is_atomic(type, key))
			rc = set_add(set, path);
		else if (json_is_object(cv))
			rc = json_object_size(cv)
			             ? fs_value(set, cv, cairn_k8s_field_type(type, key), path,
			                        depth + 1, strict)
			             : set_add(set, path);
		else if (json_is_array(cv))
			rc = fs_list(set, cv, type, key, path, depth, strict);
		else
			rc = set_add(set, path);
		cairn_buf_truncate(path, mark);
		if (rc)
			return rc;
	}
	return 0;
}

/* The flat field set of an object (borrowed), top-level fields apiVersion,
 * kind and the server's metadata left out. New reference or NULL. */
static json_t *fieldset_of(const json_t *obj, const char *type, int strict)
{
	json_t *copy = json_deep_copy(obj), *set = json_object(), *meta;
	cairn_buf path;
	int rc;

	cairn_buf_init(&path, PATH_MAX_LEN);
	if (copy == NULL || set == NULL)
		goto fail;
	json_object_del(copy, "apiVersion");
	json_object_del(copy, "kind");
	meta = json_object_get(copy, "metadata");
	for (size_t i = 0; stripped_meta[i]; i++)
		json_object_del(meta, stripped_meta[i]);
	if (json_is_object(meta) && json_object_size(meta) == 0)
		json_object_del(copy, "metadata");
	rc = fs_value(set, copy, type, &path, 0, strict);
	if (rc)
		goto fail;
	json_decref(copy);
	cairn_buf_dispose(&path);
	return set;
fail:
	json_decref(copy);
	json_decref(set);
	cairn_buf_dispose(&path);
	return NULL;
}

/* ---- FieldsV1 <-> flat sets ------------------------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sort an object's members by key (FieldsV1 and the API server list "."
 * first, then f:, k:, v: in byte order), recursively. */
static json_t *sorted_tree(const json_t *t)
{
	size_t n = json_object_size(t), i = 0;
	const char **keys = calloc(n + 1, sizeof(*keys));
	json_t *out = json_object(), *v;
	const char *k;

	if (keys == NULL || out == NULL) {
		free(keys);
		json_decref(out);
		return NULL;
	}
	json_object_foreach((json_t *)t, k, v) keys[i++] = k;
	qsort(keys, n, sizeof(*keys), cmp_str);
	for (i = 0; i < n; i++)
		json_object_set_new(out, keys[i], sorted_tree(json_object_get(t, keys[i])));
	free(keys);
	return out;
}

/* FieldsV1 tree of a flat set. */
static json_t *set_to_fields(const json_t *set)
{
	json_t *tree = json_object(), *sorted, *v;
	const char *path;

	if (tree == NULL)
		return NULL;
	json_object_foreach((json_t *)set, path, v)
	{
		json_t *node = tree;
		const char *p = path;

		while (*p) {
			const char *e = strchr(p, SEP);
			size_t n = e ? (size_t)(e - p) : strlen(p);
			char *elem = strndup(p, n);
			json_t *next;

			if (elem == NULL)
				break;
			next = json_object_get(node, elem);
			if (next == NULL) {
				next = json_object();
				json_object_set_new(node, elem, next);
			}
			free(elem);
			node = next;
			p += n;
			if (*p)
				p++;
		}
		json_object_set_new(node, ".", json_object());
	}
	/* "." stays only where the member also has children. */
	sorted = sorted_tree(tree);
	json_decref(tree);
	return sorted;
}

static void strip_lone_dots(json_t *node)
{
	const char *k;
	json_t *v;

	if (json_object_size(node) == 1 && json_object_get(node, ".")) {
		json_object_del(node, ".");
		return;
	}
	json_object_foreach(node, k, v) if (strcmp(k, ".") != 0) strip_lone_dots(v);
}

static json_t *fields_from_set(const json_t *set)
{
	json_t *t = set_to_fields(set);

	if (t) {
		const char *k;
		json_t *v;

		json_object_foreach(t, k, v) strip_lone_dots(v);
	}
	return t;
}

/* Flat set of a FieldsV1 tree: every node that is empty or carries "." is
 * a member. */
static int fields_walk(json_t *set, const json_t *node, cairn_buf *path, int depth)
{
	const char *k;
	json_t *v;
	size_t mark = path->len;

	if (!json_is_object(node) || depth > SSA_DEPTH_MAX)
		return 0;
	json_object_foreach((json_t *)node, k, v)
	{
		if (strcmp(k, ".") == 0)
			continue;
		if (path_push(path, "", k))
			return CAIRN_ELIMIT;
		if (json_object_size(v) == 0 || json_object_get(v, "."))
			set_add(set, path);
		fields_walk(set, v, path, depth + 1);
		cairn_buf_truncate(path, mark);
	}
	return 0;
}

static json_t *set_from_fields(const json_t *fields)
{
	json_t *set = json_object();
	cairn_buf path;

	cairn_buf_init(&path, PATH_MAX_LEN);
	if (set && fields_walk(set, fields, &path, 0)) {
		json_decref(set);
		set = NULL;
	}
	cairn_buf_dispose(&path);
	return set;
}

/* ---- paths in objects ------------------------------------------------------------------------ */

/* The next element of a flat path into `elem` (NUL-terminated copy);
 * advances `*p`. */
static int next_elem(const char **p, cairn_buf *elem)
{
	const char *e = strchr(*p, SEP);
	size_t n = e ? (size_t)(e - *p) : strlen(*p);

	cairn_buf_reset(elem);
	if (cairn_buf_put(elem, *p, n) || cairn_buf_putc(elem, '\0'))
		return CAIRN_ELIMIT;
	*p += n;
	if (**p)
		(*p)++;
	return 0;
}

/* Index of the element of `list` that one path element names, or -1. */
static long list_find(const json_t *list, const char *elem)
{
	json_t *want;
	size_t i;
	json_t *item;
	long found = -1;

	if (strncmp(elem, "i:", 2) == 0) {
		long i2 = strtol(elem + 2, NULL, 10);

		return i2 >= 0 && (size_t)i2 < json_array_size(list) ? i2 : -1;
	}
	want = json_loads(elem + 2, JSON_DECODE_ANY, NULL);
	if (want == NULL)
		return -1;
	json_array_foreach(list, i, item)
	{
		int match;

		if (elem[0] == 'v') {
			match = json_equal(item, want);
		} else {
			const char *k;
			json_t *kv;

			match = json_is_object(item);
			json_object_foreach(want, k, kv)
			{
				json_t *have = json_object_get(item, k);

				if (have == NULL && strcmp(k, "protocol") == 0 &&
				    json_is_string(kv) && strcmp(json_string_value(kv), "TCP") == 0)
					continue;
				if (!json_equal(have, kv))
					match = 0;
			}
		}
		if (match) {
			found = (long)i;
			break;
		}
	}
	json_decref(want);
	return found;
}

/* The value at a flat path (borrowed), or NULL. With `remove`, the value is
 * taken out of its parent instead (and NULL returned). */
static json_t *path_get(json_t *obj, const char *path, int remove)
{
	cairn_buf elem = CAIRN_BUF_INIT(PATH_MAX_LEN);
	json_t *cur = obj;
	const char *p = path;

	while (cur && *p) {
		json_t *parent = cur;
		long at = -1;

		if (next_elem(&p, &elem))
			cur = NULL;
		else if (strncmp(elem.ptr, "f:", 2) == 0)
			cur = json_object_get(parent, elem.ptr + 2);
		else if (json_is_array(parent) && (at = list_find(parent, elem.ptr)) >= 0)
			cur = json_array_get(parent, (size_t)at);
		else
			cur = NULL;
		if (cur && remove && *p == '\0') {
			if (at >= 0)
				json_array_remove(parent, (size_t)at);
			else
				json_object_del(parent, elem.ptr + 2);
			cur = NULL;
		}
	}
	cairn_buf_dispose(&elem);
	return cur;
}

/* A flat path as the API server prints it in conflicts:
 * .spec.template.spec.containers[name="web"].image */
static void path_pretty(cairn_buf *out, const char *path)
{
	cairn_buf elem = CAIRN_BUF_INIT(PATH_MAX_LEN);
	const char *p = path;

	while (*p && next_elem(&p, &elem) == 0) {
		const char *e = elem.ptr;

		if (e[0] == 'f') {
			cairn_buf_printf(out, ".%s", e + 2);
		} else if (e[0] == 'k') {
			json_t *k = json_loads(e + 2, 0, NULL);
			const char *name;
			json_t *v;
			int first = 1;

			cairn_buf_putc(out, '[');
			json_object_foreach(k, name, v)
			{
				char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

				cairn_buf_printf(out, "%s%s=%s", first ? "" : ",", name,
				                 s ? s : "");
				free(s);
				first = 0;
			}
			cairn_buf_putc(out, ']');
			json_decref(k);
		} else if (e[0] == 'v') {
			cairn_buf_printf(out, "[=%s]", e + 2);
		} else {
			cairn_buf_printf(out, "[%s]", e + 2);
		}
	}
	cairn_buf_dispose(&elem);
}

/* ---- merging --------------------------------------------------------------------------------- */

/* Merge the applied configuration `src` into `dst` (in place): objects
 * field by field, keyed lists item by item, sets by union, everything else
 * (atomic maps too) replaced. Items of `dst` that `src` leaves out stay
 * (removal is decided from the field sets beforehand). */
static int merge_into(json_t *dst, const json_t *src, const char *type, int depth)
{
	const char *key;
	json_t *sv;

	if (depth > SSA_DEPTH_MAX)
		return cairn_error_set(CAIRN_ELIMIT, "object nested deeper than %d levels",
		                       SSA_DEPTH_MAX);
	json_object_foreach((json_t *)src, key, sv)
	{
		json_t *dv = json_object_get(dst, key);
		const char *ct = cairn_k8s_field_type(type, key);
		const char *const *keys;
		int how, rc;

		if (json_is_object(sv) && json_is_object(dv) && json_object_size(sv) &&
		    !cairn_k8s_map_is_atomic(type, key)) {
			rc = merge_into(dv, sv, ct, depth + 1);
			if (rc)
				return rc;
			continue;
		}
		how = json_is_array(sv) && json_is_array(dv) ? list_kind(type, key, &keys) : 'a';
		if (how == 'a') {
			if (json_object_set_new(dst, key, json_deep_copy(sv)))
				return cairn_error_set(CAIRN_ENOMEM, "out of memory");
			continue;
		}
		size_t i;
		json_t *item;

		json_array_foreach(sv, i, item)
		{
			long at = -1;

			if (how == 'k' && json_is_object(item)) {
				json_t *k = item_key(item, keys);
				char *ks = json_dumps(k, JSON_COMPACT | JSON_SORT_KEYS);
				cairn_buf e = CAIRN_BUF_INIT(PATH_MAX_LEN);

				json_decref(k);
				if (ks && cairn_buf_printf(&e, "k:%s", ks) == 0)
					at = list_find(dv, e.ptr);
				free(ks);
				cairn_buf_dispose(&e);
				if (at >= 0 && cairn_k8s_type_is_atomic(ct)) {
					if (json_array_set_new(dv, (size_t)at,
					                       json_deep_copy(item)))
						return cairn_error_set(CAIRN_ENOMEM,
						                       "out of memory");
					continue;
				}
				if (at >= 0) {
					rc = merge_into(json_array_get(dv, (size_t)at), item, ct,
					                depth + 1);
					if (rc)
						return rc;
					continue;
				}
			} else {
				size_t j;
				json_t *have;

				json_array_foreach(dv, j, have) if (json_equal(have, item)) at =
				        (long)j;
				if (at >= 0)
					continue;
			}
			json_array_append_new(dv, json_deep_copy(item));
		}
	}
	return 0;
}

/* ---- managed fields -------------------------------------------------------------------------- */

/* One managedFields entry while we work on it. */
struct mf_entry {
	json_t *entry; /* the original entry (borrowed from the object copy), or NULL */
	json_t *set;   /* flat field set (owned) */
	const char *manager, *operation, *subresource, *api_version;
	int touched; /* this write's own entry: rebuilt with the new time */
};

struct mf_list {
	struct mf_entry *v;
	size_t n;
};

static void mf_free(struct mf_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		json_decref(l->v[i].set);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int mf_load(struct mf_list *l, const json_t *managed)
{
	size_t i;
	json_t *e;

	l->n = 0;
	l->v = calloc(json_array_size(managed) + 1, sizeof(*l->v));
	if (l->v == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	json_array_foreach(managed, i, e)
	{
		struct mf_entry *m = &l->v[l->n];

		if (!json_is_object(e))
			continue;
		m->entry = e;
		m->manager = json_string_value(json_object_get(e, "manager"));
		m->operation = json_string_value(json_object_get(e, "operation"));
		m->subresource = json_string_value(json_object_get(e, "subresource"));
		m->api_version = json_string_value(json_object_get(e, "apiVersion"));
		m->set = set_from_fields(json_object_get(e, "fieldsV1"));
		if (m->set == NULL)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		l->n++;
	}
	return 0;
}

static const char *nz(const char *s, const char *dflt)
{
	return s ? s : dflt;
}

static int streq(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

/* The entry of (manager, operation, subresource), added empty when absent. */
static struct mf_entry *mf_own(struct mf_list *l, const char *manager, const char *op,
                               const char *sub)
{
	struct mf_entry *m;

	for (size_t i = 0; i < l->n; i++)
		if (streq(l->v[i].manager, manager) && streq(l->v[i].operation, op) &&
		    streq(l->v[i].subresource, sub))
			return &l->v[i];
	m = &l->v[l->n];
	memset(m, 0, sizeof(*m));
	m->set = json_object();
	if (m->set == NULL)
		return NULL;
	m->manager = manager;
	m->operation = op;
	m->subresource = sub;
	l->n++;
	return m;
}

/* Does an entry other than `own` own `path` or something below it? */
static int others_own(const struct mf_list *l, const struct mf_entry *own, const char *path)
{
	size_t n = strlen(path);

	for (size_t i = 0; i < l->n; i++) {
		const char *k;
		json_t *v;

		if (&l->v[i] == own)
			continue;
		json_object_foreach(l->v[i].set, k, v) if (strncmp(k, path, n) == 0 &&
		                                           (k[n] == '\0' || k[n] == SEP)) return 1;
	}
	return 0;
}

/* Order of the API server: operation ("Apply" before "Update"), time,
 * manager, subresource. */
static int entry_cmp(const void *a, const void *b)
{
	const json_t *p = *(const json_t *const *)a, *q = *(const json_t *const *)b;
	static const char *const keys[] = {"operation", "time", "manager", "subresource"};

	for (size_t i = 0; i < 4; i++) {
		int c = strcmp(nz(json_string_value(json_object_get(p, keys[i])), ""),
		               nz(json_string_value(json_object_get(q, keys[i])), ""));

		if (c)
			return c;
	}
	return 0;
}

/* Rebuild metadata.managedFields of `obj` from the list: entries owning
 * nothing that still exists in `obj` are dropped. */
static int mf_store(json_t *obj, struct mf_list *l, const char *now)
{
	json_t *arr = json_array(), **sorted = calloc(l->n + 1, sizeof(json_t *));
	json_t *meta;
	size_t n = 0;

	if (arr == NULL || sorted == NULL) {
		json_decref(arr);
		free(sorted);
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < l->n; i++) {
		struct mf_entry *m = &l->v[i];
		void *it = json_object_iter(m->set);
		json_t *e;

		while (it) {
			const char *k = json_object_iter_key(it);

			it = json_object_iter_next(m->set, it);
			if (path_get(obj, k, 0) == NULL)
				json_object_del(m->set, k);
		}
		if (json_object_size(m->set) == 0)
			continue;
		e = json_pack(
		        "{s:s,s:s,s:s,s:s,s:s,s:o}", "manager", nz(m->manager, ""), "operation",
		        nz(m->operation, "Update"), "apiVersion", nz(m->api_version, ""), "time",
		        m->touched || !m->entry
		                ? now
		                : nz(json_string_value(json_object_get(m->entry, "time")), now),
		        "fieldsType", "FieldsV1", "fieldsV1", fields_from_set(m->set));
		if (e && m->subresource)
			json_object_set_new(e, "subresource", json_string(m->subresource));
		if (e)
			sorted[n++] = e;
	}
	qsort(sorted, n, sizeof(*sorted), entry_cmp);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, sorted[i]);
	free(sorted);
	meta = json_object_get(obj, "metadata");
	if (!json_is_object(meta)) {
		meta = json_object();
		json_object_set_new(obj, "metadata", meta);
	}
	json_object_set_new(meta, "managedFields", arr);
	return 0;
}

/* Equal objects, metadata.managedFields left out of the comparison. */
static int same_but_managed(const json_t *a, const json_t *b)
{
	const char *k;
	json_t *v;

	if (json_object_size(a) != json_object_size(b))
		return 0;
	json_object_foreach((json_t *)a, k, v)
	{
		json_t *w = json_object_get(b, k);

		if (strcmp(k, "metadata") == 0 && json_is_object(v) && json_is_object(w)) {
			const char *mk;
			json_t *mv;
			size_t na =
			        json_object_size(v) - (json_object_get(v, "managedFields") != NULL);
			size_t nb =
			        json_object_size(w) - (json_object_get(w, "managedFields") != NULL);

			if (na != nb)
				return 0;
			json_object_foreach(
			        v, mk, mv) if (strcmp(mk, "managedFields") != 0 &&
			                       !json_equal(mv, json_object_get(w, mk))) return 0;
		} else if (!json_equal(v, w)) {
			return 0;
		}
	}
	return 1;
}

/* ---- apply ----------------------------------------------------------------------------------- */

/* Whether two flat sets have the same members (the values differ: a set
 * read back from FieldsV1 does not carry the atomic-item marks). */
static int same_members(const json_t *a, const json_t *b)
{
	const char *path;
	json_t *v;

	if (json_object_size(a) != json_object_size(b))
		return 0;
	json_object_foreach((json_t *)a, path, v) if (json_object_get(b, path) == NULL) return 0;
	return 1;
}

/* Collect the conflicts of applying `cfg` (whose field set is `newset`)
 * over `live`: fields another manager owns whose live value differs from
 * the applied one. Each is appended to `msg` as "manager\tapiVersion\tpath"
 * lines; with `force` the field is taken from that manager instead. */
static int find_conflicts(struct mf_list *l, struct mf_entry *own, const json_t *newset,
                          json_t *live, json_t *cfg, int force, json_t *found)
{
	const char *path;
	json_t *v;

	json_object_foreach((json_t *)newset, path, v)
	{
		json_t *lv = path_get(live, path, 0);
		const char *last = strrchr(path, SEP);

		last = last ? last + 1 : path;
		/* a keyed item is compared as a value only when it is atomic (its
		 * member is marked so); otherwise its fields are compared */
		if (lv == NULL || last[0] == 'v' || last[0] == 'i' ||
		    (last[0] == 'k' && !json_is_string(v)))
			continue;
		if (json_equal(lv, path_get(cfg, path, 0)))
			continue;
		for (size_t i = 0; i < l->n; i++) {
			struct mf_entry *m = &l->v[i];

			if (m == own || json_object_get(m->set, path) == NULL)
				continue;
			if (force) {
				json_object_del(m->set, path);
				continue;
			}
			json_array_append_new(found,
			                      json_pack("{s:s,s:s,s:s}", "manager",
			                                m->manager ? m->manager : "", "apiVersion",
			                                m->api_version ? m->api_version : "",
			                                "path", path));
		}
	}
	return 0;
}

/* "Apply failed with N conflict(s): ..." as the API server words it. */
static int conflict_error(const json_t *found)
{
	cairn_buf msg = CAIRN_BUF_INIT(CAIRN_ERROR_MSG_MAX * 4);
	size_t n = json_array_size(found), i;
	json_t *c;
	const char *prev = NULL;
	int rc;

	cairn_buf_printf(&msg, "Apply failed with %zu conflict%s: ", n, n == 1 ? "" : "s");
	json_array_foreach(found, i, c)
	{
		const char *mgr = json_string_value(json_object_get(c, "manager"));
		const char *av = json_string_value(json_object_get(c, "apiVersion"));

		if (n == 1) {
			cairn_buf_printf(&msg, "conflict with \"%s\" using %s: ", mgr, av);
		} else if (prev == NULL || strcmp(prev, mgr) != 0) {
			cairn_buf_printf(&msg,
			                 "%sconflicts with \"%s\" using %s:", prev ? "\n" : "", mgr,
			                 av);
		}
		if (n > 1)
			cairn_buf_puts(&msg, "\n- ");
		path_pretty(&msg, json_string_value(json_object_get(c, "path")));
		prev = mgr;
	}
	rc = cairn_error_set(CAIRN_EBUSY, "%s", msg.ptr ? msg.ptr : "apply failed");
	cairn_buf_dispose(&msg);
	return rc;
}

/* The part of the applied configuration this apply acts on: the status
 * alone for the status subresource, everything but the status (which
 * built-in kinds reset on the main resource) otherwise. */
static json_t *applied_part(const json_t *applied, const char *type, int status)
{
	json_t *cfg = json_deep_copy(applied), *meta;

	if (cfg == NULL)
		return NULL;
	meta = json_object_get(cfg, "metadata");
	json_object_del(meta, "managedFields");
	if (status) {
		const char *k;
		json_t *v;
		void *it = json_object_iter(cfg);

		while (it) {
			k = json_object_iter_key(it);
			v = json_object_iter_value(it);
			it = json_object_iter_next(cfg, it);
			(void)v;
			if (strcmp(k, "status") && strcmp(k, "apiVersion") && strcmp(k, "kind") &&
			    strcmp(k, "metadata"))
				json_object_del(cfg, k);
		}
		if (json_is_object(meta)) {
			json_t *keep =
			        json_pack("{s:O*,s:O*}", "name", json_object_get(meta, "name"),
			                  "namespace", json_object_get(meta, "namespace"));

			json_object_set_new(cfg, "metadata", keep ? keep : json_object());
		}
	} else if (type) {
		json_object_del(cfg, "status");
	}
	return cfg;
}

int sim_apply(json_t **out, const json_t *live, const json_t *applied, const sim_apply_opts *opts)
{
	const char *av, *kind, *type, *sub, *path;
	json_t *cfg = NULL, *newset = NULL, *result = NULL, *found = NULL, *v, *live_copy = NULL;
	struct mf_list l = {NULL, 0};
	struct mf_entry *own;
	int rc;

	if (opts == NULL || opts->manager == NULL || opts->manager[0] == '\0')
		return cairn_error_set(CAIRN_EINVAL,
		                       "PATCH, application/apply-patch+yaml requires fieldManager "
		                       "parameter");
	if (!json_is_object(applied))
		return cairn_error_set(CAIRN_EINVAL, "applied configuration is not an object");
	av = json_string_value(json_object_get(applied, "apiVersion"));
	kind = json_string_value(json_object_get(applied, "kind"));
	if (av == NULL || kind == NULL)
		return cairn_error_set(CAIRN_EINVAL, "applied configuration has no %s",
		                       av == NULL ? "apiVersion" : "kind");
	type = cairn_k8s_kind_type(av, kind);
	sub = opts->subresource_status ? "status" : NULL;
	cfg = applied_part(applied, type, opts->subresource_status);
	live_copy = json_is_object(live) ? json_deep_copy(live) : json_object();
	found = json_array();
	if (cfg == NULL || live_copy == NULL || found == NULL) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	newset = fieldset_of(cfg, type, 1);
	if (newset == NULL) {
		rc = cairn_error_last()->code ? cairn_error_last()->code : CAIRN_ENOMEM;
		goto out;
	}
	rc = mf_load(&l, json_object_get(json_object_get(live_copy, "metadata"), "managedFields"));
	if (rc)
		goto out;
	own = mf_own(&l, opts->manager, "Apply", sub);
	rc = find_conflicts(&l, own, newset, live_copy, cfg, opts->force, found);
	if (rc)
		goto out;
	if (json_array_size(found)) {
		rc = conflict_error(found);
		goto out;
	}
	result = json_deep_copy(live_copy);
	/* Fields this manager applied last time and leaves out now go, unless
	 * somebody else owns them too. */
	json_object_foreach(own->set, path, v) if (json_object_get(newset, path) == NULL &&
	                                           !others_own(&l, own, path))
	        path_get(result, path, 1);
	rc = merge_into(result, cfg, type, 0);
	if (rc)
		goto out;
	/* A no-op apply keeps the entry's time, so that the stored object does
	 * not change (the API server does not bump resourceVersion then). */
	own->touched = !own->entry || !same_members(own->set, newset) ||
	               !streq(own->api_version, av) || !same_but_managed(result, live_copy);
	json_decref(own->set);
	own->set = json_incref(newset);
	own->api_version = av;
	rc = mf_store(result, &l, opts->now ? opts->now : "");
	if (rc)
		goto out;
	*out = result;
	result = NULL;
out:
	mf_free(&l);
	json_decref(cfg);
	json_decref(newset);
	json_decref(found);
	json_decref(live_copy);
	json_decref(result);
	return rc;
}

/* Remove the paths under .status from a flat set. */
static void drop_status(json_t *set)
{
	void *it = json_object_iter(set);

	while (it) {
		const char *k = json_object_iter_key(it);

		it = json_object_iter_next(set, it);
		if (strncmp(k, "f:status", 8) == 0 && (k[8] == '\0' || k[8] == SEP))
			json_object_del(set, k);
	}
}

int sim_managed_update(json_t *obj, const json_t *old, const char *manager, const char *now)
{
	const char *type, *path;
	json_t *newset, *changed, *managed, *v;
	struct mf_list l = {NULL, 0};
	struct mf_entry *own;
	int rc;

	if (!json_is_object(obj))
		return cairn_error_set(CAIRN_EINVAL, "object is not a JSON object");
	if (manager == NULL || manager[0] == '\0')
		manager = "unknown";
	type = cairn_k8s_kind_type(json_string_value(json_object_get(obj, "apiVersion")),
	                           json_string_value(json_object_get(obj, "kind")));
	newset = fieldset_of(obj, type, 0);
	changed = json_object();
	if (newset == NULL || changed == NULL) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	/* Built-in kinds reset status on writes to the main resource: it is
	 * never owned through them. */
	if (type)
		drop_status(newset);
	json_object_foreach(newset, path, v)
	{
		json_t *ov = old ? path_get((json_t *)old, path, 0) : NULL;

		if (ov == NULL || !json_equal(ov, path_get(obj, path, 0)))
			json_object_set_new(changed, path, json_true());
	}
	managed = json_object_get(json_object_get(obj, "metadata"), "managedFields");
	if (managed == NULL && old)
		managed = json_object_get(json_object_get(old, "metadata"), "managedFields");
	managed = json_incref(managed);
	rc = mf_load(&l, managed);
	if (rc)
		goto out_managed;
	own = mf_own(&l, manager, "Update", NULL);
	if (own == NULL) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out_managed;
	}
	json_object_foreach(changed, path, v)
	{
		for (size_t i = 0; i < l.n; i++)
			if (&l.v[i] != own)
				json_object_del(l.v[i].set, path);
		json_object_set_new(own->set, path, json_true());
	}
	own->api_version = json_string_value(json_object_get(obj, "apiVersion"));
	own->touched = json_object_size(changed) > 0;
	rc = mf_store(obj, &l, now ? now : "");
out_managed:
	json_decref(managed);
out:
	mf_free(&l);
	json_decref(newset);
	json_decref(changed);
	return rc;
}
