/*
 * patch.c - kustomize's patch transformers: `patches` (inline or from a
 * file, strategic merge or JSON 6902 decided by content, with `target`
 * selectors), `patchesStrategicMerge` and `patchesJson6902`, and the JSON
 * patch (RFC 6902) operations with RFC 6901 pointers.
 */
#include <regex.h>
#include <string.h>

#include "cairn/buf.h"
#include "cairn/error.h"
#include "cairn/render.h"
#include "cairn/util.h"
#include "cairn/yaml.h"
#include "render_private.h"

#define PTR_TOKENS_MAX 128

/* ---- JSON patch (RFC 6902) ------------------------------------------------ */

/* One pointer split into unescaped tokens (~1 is '/', ~0 is '~'). */
struct ptr {
	char *tok[PTR_TOKENS_MAX];
	size_t n;
};

static void ptr_dispose(struct ptr *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->tok[i]);
	p->n = 0;
}

static int ptr_parse(struct ptr *p, const char *s)
{
	p->n = 0;
	if (s[0] != '\0' && s[0] != '/')
		return cairn_error_set(CAIRN_EINVAL, "pointer '%s' does not start with '/'", s);
	while (*s == '/') {
		const char *end = strchr(s + 1, '/');
		size_t len = end ? (size_t)(end - s - 1) : strlen(s + 1), j = 0;
		char *t;
		if (p->n == PTR_TOKENS_MAX) {
			ptr_dispose(p);
			return cairn_error_set(CAIRN_ELIMIT, "pointer with more than %d parts",
			                       PTR_TOKENS_MAX);
		}
		t = malloc(len + 1);
		if (t == NULL) {
			ptr_dispose(p);
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		}
		for (size_t i = 0; i < len; i++) {
			char c = s[1 + i];
			if (c == '~' && i + 1 < len && (s[2 + i] == '0' || s[2 + i] == '1')) {
				c = s[2 + i] == '0' ? '~' : '/';
				i++;
			} else if (c == '~') {
				free(t);
				ptr_dispose(p);
				return cairn_error_set(CAIRN_EINVAL, "bad escape '~' in pointer");
			}
			t[j++] = c;
		}
		t[j] = '\0';
		p->tok[p->n++] = t;
		s += 1 + len;
	}
	return 0;
}

/* An array index token: digits without leading zeros, below `limit`. */
static int arr_index(size_t *out, const char *tok, size_t limit)
{
	size_t v = 0;

	if (tok[0] == '\0' || (tok[0] == '0' && tok[1] != '\0'))
		return -1;
	for (const char *c = tok; *c; c++) {
		if (*c < '0' || *c > '9' || v > 100000000)
			return -1;
		v = v * 10 + (size_t)(*c - '0');
	}
	if (v >= limit)
		return -1;
	*out = v;
	return 0;
}

/* The node at the first `n` tokens of `p`, or NULL. */
static json_t *ptr_get(json_t *doc, const struct ptr *p, size_t n)
{
	for (size_t i = 0; doc && i < n; i++) {
		size_t at;
		if (json_is_object(doc))
			doc = json_object_get(doc, p->tok[i]);
		else if (json_is_array(doc) && arr_index(&at, p->tok[i], json_array_size(doc)) == 0)
			doc = json_array_get(doc, at);
		else
			doc = NULL;
	}
	return doc;
}

/* Insert `v` (stolen) at `p` (the parent must exist). */
static int ptr_add(json_t *doc, const struct ptr *p, json_t *v, const char *path)
{
	json_t *parent = p->n ? ptr_get(doc, p, p->n - 1) : NULL;
	const char *last = p->n ? p->tok[p->n - 1] : "";
	size_t at;
	int rc = -1;

	if (json_is_object(parent))
		rc = json_object_set_new(parent, last, v);
	else if (json_is_array(parent) && strcmp(last, "-") == 0)
		rc = json_array_append_new(parent, v);
	else if (json_is_array(parent) && arr_index(&at, last, json_array_size(parent) + 1) == 0)
		rc = json_array_insert_new(parent, at, v);
	else {
		json_decref(v);
		return cairn_error_set(CAIRN_EINVAL, "path '%s' has no parent to add to", path);
	}
	return rc < 0 ? cairn_error_set(CAIRN_ENOMEM, "out of memory") : 0;
}

/* Take the node at `p` out of the document; *out gets it (a reference). */
static int ptr_remove(json_t **out, json_t *doc, const struct ptr *p, const char *path)
{
	json_t *parent = p->n ? ptr_get(doc, p, p->n - 1) : NULL;
	json_t *v = p->n ? ptr_get(doc, p, p->n) : NULL;
	size_t at;

	if (v == NULL)
		return cairn_error_set(CAIRN_ENOTFOUND, "path '%s' does not exist", path);
	json_incref(v);
	if (json_is_object(parent))
		json_object_del(parent, p->tok[p->n - 1]);
	else if (arr_index(&at, p->tok[p->n - 1], json_array_size(parent)) == 0)
		json_array_remove(parent, at);
	*out = v;
	return 0;
}

/* Apply one operation object to `doc`. */
static int json_op(json_t *doc, const json_t *op)
{
	const char *name = res_str(op, "op", NULL), *path = res_str(op, "path", NULL);
	const char *from = res_str(op, "from", NULL);
	json_t *value = json_object_get(op, "value"), *v = NULL;
	struct ptr p = {0}, f = {0};
	int rc;

	if (name == NULL || path == NULL)
		return cairn_error_set(CAIRN_EINVAL, "an operation needs string 'op' and 'path'");
	if ((rc = ptr_parse(&p, path)) < 0)
		goto out;
	if (strcmp(name, "add") == 0 || strcmp(name, "replace") == 0 || strcmp(name, "test") == 0) {
		if (value == NULL) {
			rc = cairn_error_set(CAIRN_EINVAL, "'%s' at '%s' has no 'value'", name,
			                     path);
			goto out;
		}
	} else if (strcmp(name, "move") == 0 || strcmp(name, "copy") == 0) {
		if (from == NULL) {
			rc = cairn_error_set(CAIRN_EINVAL, "'%s' to '%s' has no 'from'", name,
			                     path);
			goto out;
		}
		if ((rc = ptr_parse(&f, from)) < 0)
			goto out;
	} else if (strcmp(name, "remove") != 0) {
		rc = cairn_error_set(CAIRN_EINVAL, "unknown operation '%s'", name);
		goto out;
	}
	if (p.n == 0 && strcmp(name, "test") != 0) {
		rc = cairn_error_set(CAIRN_EUNSUPPORTED,
		                     "'%s' of the whole object is not supported", name);
		goto out;
	}
	switch (name[0]) {
	case 'a': /* add */
		rc = ptr_add(doc, &p, json_deep_copy(value), path);
		break;
	case 'r': /* remove, replace */
		if ((rc = ptr_remove(&v, doc, &p, path)) == 0 && name[2] == 'p')
			rc = ptr_add(doc, &p, json_deep_copy(value), path);
		break;
	case 'm': /* move */
		if ((rc = ptr_remove(&v, doc, &f, from)) == 0)
			rc = ptr_add(doc, &p, json_incref(v), path);
		break;
	case 'c': /* copy */
		v = ptr_get(doc, &f, f.n);
		rc = v ? ptr_add(doc, &p, json_deep_copy(v), path)
		       : cairn_error_set(CAIRN_ENOTFOUND, "path '%s' does not exist", from);
		v = NULL;
		break;
	default: /* test */
		v = ptr_get(doc, &p, p.n);
		if (v == NULL || !json_equal(v, value))
			rc = cairn_error_set(CAIRN_EINVAL, "test of '%s' failed: %s", path,
			                     v ? "the value differs" : "the path does not exist");
		v = NULL;
	}
out:
	json_decref(v);
	ptr_dispose(&p);
	ptr_dispose(&f);
	return rc;
}

int json_patch_apply(json_t *obj, const json_t *ops)
{
	size_t i;
	json_t *op;

	if (!json_is_array(ops))
		return cairn_error_set(CAIRN_EINVAL, "a JSON patch must be a list of operations");
	json_array_foreach(ops, i, op)
	{
		int rc = json_is_object(op) ? json_op(obj, op)
		                            : cairn_error_set(CAIRN_EINVAL, "not a map");
		if (rc < 0) {
			cairn_error_prefix("JSON patch operation %zu: ", i + 1);
			return rc;
		}
	}
	return 0;
}

/* ---- targets -------------------------------------------------------------- */

/* A patch's `target`: regular expressions anchored at both ends, as
 * kustomize compiles them, plus label and annotation selectors. */
struct target {
	regex_t re[5]; /* group, version, kind, name, namespace */
	int has[5];
	const char *labels, *annotations;
};

static const char *const target_keys[] = {"group", "version", "kind", "name", "namespace"};

static void target_dispose(struct target *t)
{
	for (size_t i = 0; i < 5; i++)
		if (t->has[i])
			regfree(&t->re[i]);
}

static int target_parse(struct target *t, const json_t *j, const char *file)
{
	const char *key;
	json_t *v;

	memset(t, 0, sizeof(*t));
	if (!json_is_object(j))
		return cairn_error_set(CAIRN_EINVAL, "a patch target is not a map, in %s", file);
	json_object_foreach((json_t *)j, key, v)
	{
		size_t i;
		for (i = 0; i < 5 && strcmp(key, target_keys[i]) != 0; i++)
			;
		if (!json_is_string(v) && !json_is_null(v)) {
			target_dispose(t);
			return cairn_error_set(CAIRN_EINVAL,
			                       "target field '%s' is not a string, in %s", key,
			                       file);
		}
		if (json_is_null(v) || json_string_value(v)[0] == '\0')
			continue;
		if (i < 5) {
			char re[1024], msg[256];
			int rc;
			if (snprintf(re, sizeof(re), "^(%s)$", json_string_value(v)) >=
			    (int)sizeof(re))
				rc = REG_ESIZE;
			else
				rc = regcomp(&t->re[i], re, REG_EXTENDED | REG_NOSUB);
			if (rc != 0) {
				regerror(rc, NULL, msg, sizeof(msg));
				target_dispose(t);
				return cairn_error_set(CAIRN_EINVAL,
				                       "target %s '%s' is not a valid regular "
				                       "expression (%s), in %s",
				                       key, json_string_value(v), msg, file);
			}
			t->has[i] = 1;
		} else if (strcmp(key, "labelSelector") == 0) {
			t->labels = json_string_value(v);
		} else if (strcmp(key, "annotationSelector") == 0) {
			t->annotations = json_string_value(v);
		} else {
			target_dispose(t);
			return cairn_error_set(CAIRN_EINVAL, "unknown target field '%s', in %s",
			                       key, file);
		}
	}
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

/* Whether `val` is one of the comma-separated values inside "(a, b)". */
static int in_set(const char *set, const char *val)
{
	char buf[1024], *p, *tok;

	snprintf(buf, sizeof(buf), "%s", set);
	p = trim(buf);
	if (*p != '(' || p[strlen(p) - 1] != ')')
		return -1;
	p[strlen(p) - 1] = '\0';
	p++;
	while ((tok = p) != NULL) {
		char *comma = strchr(p, ',');
		if (comma)
			*comma = '\0';
		p = comma ? comma + 1 : NULL;
		if (val && strcmp(trim(tok), val) == 0)
			return 1;
	}
	return 0;
}

/* One requirement of a selector: key, !key, key=v, key==v, key!=v,
 * key in (..), key notin (..). Returns 1, 0, or -1 when malformed. */
static int req_match(const json_t *map, char *req)
{
	char *op, *key;
	const char *val;
	json_t *v;
	int neg = 0, r;

	req = trim(req);
	if (req[0] == '!') {
		v = json_object_get(map, trim(req + 1));
		return v == NULL;
	}
	if ((op = strstr(req, " notin ")) != NULL || (op = strstr(req, " in ")) != NULL) {
		neg = op[1] == 'n';
		*op = '\0';
		v = json_object_get(map, trim(req));
		r = in_set(op + (neg ? 7 : 4), json_string_value(v));
		return r < 0 ? -1 : neg ? !r : r;
	}
	op = strpbrk(req, "!=");
	if (op == NULL)
		return req[0] ? json_object_get(map, req) != NULL : -1;
	neg = *op == '!';
	if (neg && op[1] != '=')
		return -1;
	*op = '\0';
	key = trim(req);
	op += neg ? 2 : (op[1] == '=' ? 2 : 1);
	val = json_string_value(json_object_get(map, key));
	r = val != NULL && strcmp(val, trim(op)) == 0;
	return neg ? !r : r;
}

/* Whether the labels or annotations map matches the selector. */
static int sel_match(const json_t *map, const char *sel, const char *file)
{
	char buf[1024], *p = buf;
	int depth = 0;

	if (snprintf(buf, sizeof(buf), "%s", sel) >= (int)sizeof(buf))
		return cairn_error_set(CAIRN_ELIMIT, "selector longer than %zu bytes, in %s",
		                       sizeof(buf) - 1, file);
	for (char *c = buf;; c++) {
		if (*c == '(')
			depth++;
		else if (*c == ')')
			depth--;
		if ((*c == ',' && depth == 0) || *c == '\0') {
			int end = *c == '\0', r;
			*c = '\0';
			r = req_match(map, p);
			if (r < 0)
				return cairn_error_set(CAIRN_EINVAL, "bad selector '%s', in %s",
				                       sel, file);
			if (r == 0)
				return 0;
			if (end)
				return 1;
			p = c + 1;
		}
	}
}

static int rx_match(const regex_t *re, const char *s)
{
	return regexec(re, s ? s : "", 0, NULL, 0) == 0;
}

/* Whether resource `r` is selected by `t`: 1, 0, or a negative code. */
static int target_match(const struct target *t, const rres *r, const char *file)
{
	const json_t *o = r->obj, *meta = json_object_get(o, "metadata");
	const char *av = res_str(o, "apiVersion", NULL), *slash = strchr(av, '/');
	const char *ns = res_str(o, "metadata", "namespace");
	char group[256];
	size_t i;
	json_t *n;
	int rc, any = 0;

	res_group(o, group, sizeof(group));
	if ((t->has[0] && !rx_match(&t->re[0], group)) ||
	    (t->has[1] && !rx_match(&t->re[1], slash ? slash + 1 : av)) ||
	    (t->has[2] && !rx_match(&t->re[2], res_str(o, "kind", NULL))) ||
	    (t->has[4] && !rx_match(&t->re[4], ns && ns[0] ? ns : "default")))
		return 0;
	/* as kustomize, a name matches when the object's current or any
	 * earlier name does */
	json_array_foreach(r->names, i, n) any |=
	        !t->has[3] || rx_match(&t->re[3], json_string_value(n));
	if (!any)
		return 0;
	if (t->labels && (rc = sel_match(json_object_get(meta, "labels"), t->labels, file)) <= 0)
		return rc;
	if (t->annotations &&
	    (rc = sel_match(json_object_get(meta, "annotations"), t->annotations, file)) <= 0)
		return rc;
	return 1;
}

/* ---- loading and applying ------------------------------------------------- */

/* Read the patch file `rel`, relative to the directory of `file`. */
static int read_rel(cairn_buf *b, cairn_tree *t, const char *rel, const char *file)
{
	const char *slash = strrchr(file, '/');
	char *tmp, *clean = NULL;
	size_t len = strlen(file) + strlen(rel) + 2;
	int rc;

	if (rel[0] == '/')
		return cairn_error_set(CAIRN_EPERM, "absolute path '%s' refused, in %s", rel, file);
	tmp = malloc(len);
	if (tmp == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	snprintf(tmp, len, "%.*s%s%s", slash ? (int)(slash - file) : 0, file, slash ? "/" : "",
	         rel);
	rc = cairn_path_clean(&clean, tmp);
	free(tmp);
	if (rc < 0)
		return cairn_error_set(CAIRN_EPERM, "path '%s' leaves the root of the tree, in %s",
		                       rel, file);
	rc = cairn_tree_read(t, b, clean, 0);
	if (rc < 0)
		cairn_error_prefix("patch '%s' of %s: ", rel, file);
	free(clean);
	return rc;
}

/* Parse patch text (YAML or JSON, one or more documents) into `docs`. */
static int parse_patch(json_t **docs, const char *text, size_t len, const char *name)
{
	cairn_yaml_opts o = CAIRN_YAML_OPTS_INIT;
	json_t *d = NULL;
	int rc;

	o.profile = CAIRN_YAML_KUSTOMIZE;
	rc = cairn_yaml_load(&d, NULL, text, len, name, &o);
	if (rc < 0)
		return rc;
	for (size_t i = json_array_size(d); i-- > 0;)
		if (json_is_null(json_array_get(d, i)))
			json_array_remove(d, i);
	if (json_array_size(d) == 0) {
		json_decref(d);
		return cairn_error_set(CAIRN_EINVAL, "empty patch, in %s", name);
	}
	*docs = d;
	return 0;
}

static int load_entry(json_t **docs, cairn_tree *t, const json_t *e, const char *file)
{
	const char *path = res_str(e, "path", NULL), *text = res_str(e, "patch", NULL);
	cairn_buf b = CAIRN_BUF_INIT(CAIRN_RENDER_FILE_MAX);
	int rc;

	if ((path == NULL) == (text == NULL))
		return cairn_error_set(CAIRN_EINVAL,
		                       "a patch needs exactly one of 'path' and "
		                       "'patch', in %s",
		                       file);
	if (text)
		return parse_patch(docs, text, strlen(text), file);
	rc = read_rel(&b, t, path, file);
	if (rc == 0)
		rc = parse_patch(docs, b.ptr ? b.ptr : "", b.len, path);
	cairn_buf_dispose(&b);
	return rc;
}

static void rset_remove(rset *s, size_t i)
{
	json_decref(s->v[i].obj);
	json_decref(s->v[i].names);
	memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof(s->v[0]));
	s->n--;
}

/* Merge SMP `p` into resource i, or delete the resource for a top-level
 * `$patch: delete`. The patch's own identity never renames the object. */
static int smp_one(rset *s, size_t i, const json_t *p)
{
	const char *d = res_str(p, "$patch", NULL);
	json_t *c, *meta;
	int rc;

	if (d && strcmp(d, "delete") == 0) {
		rset_remove(s, i);
		return 0;
	}
	c = json_deep_copy(p);
	if (c == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	json_object_del(c, "apiVersion");
	json_object_del(c, "kind");
	meta = json_object_get(c, "metadata");
	json_object_del(meta, "name");
	json_object_del(meta, "namespace");
	rc = smp_apply(s->v[i].obj, c);
	json_decref(c);
	return rc;
}

/*
 * How resource `r` matches an SMP without target: 0 not at all; 1 by its
 * apiVersion, kind, a name it has had and namespace (unset counting as
 * `default`); 2 as 1 but the patch has no namespace and the object has
 * one. kustomize compares the patch with the object's original id too,
 * whose namespace Cairn does not keep; a loose match stands in for it (a
 * base's `namespace` set after the object was loaded).
 */
struct smp_id {
	const char *av, *kind, *name, *ns;
};

static int smp_self_match(const rres *r, const struct smp_id *p)
{
	const char *ns;
	size_t i;
	json_t *n;
	int any = 0;

	/* the cheap tests first: this runs for every object and every patch */
	if (strcmp(res_str(r->obj, "kind", NULL), p->kind) != 0)
		return 0;
	json_array_foreach(r->names, i, n) any |= strcmp(json_string_value(n), p->name) == 0;
	if (!any || strcmp(res_str(r->obj, "apiVersion", NULL), p->av) != 0)
		return 0;
	ns = res_str(r->obj, "metadata", "namespace");
	if (strcmp(p->ns && p->ns[0] ? p->ns : "default", ns && ns[0] ? ns : "default") == 0)
		return 1;
	return p->ns == NULL || p->ns[0] == '\0' ? 2 : 0;
}

/*
 * The (kind, every name had) -> position index of the objects a list of
 * patches works on, built when an untargeted SMP first needs it. SMPs
 * never change kinds or name histories; deleting an object changes n and
 * a JSON patch (which can change anything) clears `valid`, so a stale
 * index is rebuilt, never used.
 */
struct smp_cache {
	struct rmap m;
	const rres *v;
	size_t n;
	int valid;
};

static uint64_t kind_name_hash(const char *kind, const char *name)
{
	return render__hash_mix(render__hash_mix(RENDER_HASH_INIT, kind, kind ? strlen(kind) : 0),
	                        name, name ? strlen(name) : 0);
}

static int smp_cache_get(struct smp_cache *c, const rset *s)
{
	if (c->valid && c->v == s->v && c->n == s->n)
		return 0;
	render__rmap_dispose(&c->m);
	c->valid = 0;
	for (size_t i = 0; i < s->n; i++) {
		const char *kind = res_str(s->v[i].obj, "kind", NULL);
		size_t j, k;
		json_t *n;
		json_array_foreach(s->v[i].names, j, n)
		{
			const char *name = json_string_value(n);
			for (k = 0; k < j; k++) /* each object once per name */
				if (strcmp(json_string_value(json_array_get(s->v[i].names, k)),
				           name) == 0)
					break;
			if (k == j && render__rmap_put(&c->m, kind_name_hash(kind, name), i) < 0)
				return cairn_error_last()->code;
		}
	}
	c->v = s->v;
	c->n = s->n;
	c->valid = 1;
	return 0;
}

/* The one object an SMP without target applies to: an exact match, else
 * the only loose one; none or several is an error, as in kustomize. */
static int smp_find(size_t *out, rset *s, const json_t *p, const char *file,
                    struct smp_cache *cache)
{
	size_t found[2] = {0, 0}, at[2] = {0, 0}, pos = SIZE_MAX, i;
	struct smp_id id = {res_str(p, "apiVersion", NULL), res_str(p, "kind", NULL),
	                    res_str(p, "metadata", "name"), res_str(p, "metadata", "namespace")};
	int rc;

	if ((rc = smp_cache_get(cache, s)) < 0)
		return rc;
	while (render__rmap_next(&cache->m, kind_name_hash(id.kind, id.name), &pos, &i)) {
		int m = smp_self_match(&s->v[i], &id);
		if (m > 0 && found[m - 1]++ == 0)
			at[m - 1] = i;
	}
	for (int k = 0; k < 2; k++) {
		if (found[k] == 1) {
			*out = at[k];
			return 0;
		}
		if (found[k] > 1)
			return cairn_error_set(CAIRN_EINVAL,
			                       "strategic merge patch %s '%s' matches %zu objects, "
			                       "in %s",
			                       res_str(p, "kind", NULL),
			                       res_str(p, "metadata", "name"), found[k], file);
	}
	return cairn_error_set(CAIRN_ENOTFOUND,
	                       "no resource matches strategic merge patch %s '%s', in %s",
	                       res_str(p, "kind", NULL), res_str(p, "metadata", "name"), file);
}

/* A string for a message, when a patch removed the field. */
static const char *nz(const char *s)
{
	return s ? s : "?";
}

/* kustomize removes an empty metadata.annotations map from every object
 * it patches. */
static void drop_empty_annotations(json_t *obj)
{
	json_t *meta = json_object_get(obj, "metadata");
	json_t *a = json_object_get(meta, "annotations");

	if (json_is_object(a) && json_object_size(a) == 0)
		json_object_del(meta, "annotations");
}

static int smp_patch_one(rset *s, size_t i, const json_t *p, const char *file)
{
	size_t n = s->n;
	int rc = smp_one(s, i, p);

	if (rc == 0 && s->n == n)
		drop_empty_annotations(s->v[i].obj);
	if (rc < 0)
		cairn_error_prefix(
		        "patching %s '%s' (%s): ", nz(res_str(s->v[i].obj, "kind", NULL)),
		        nz(res_str(s->v[i].obj, "metadata", "name")), file);
	return rc;
}

/* Apply one SMP document: to the targets, or to the object it names. */
static int apply_smp(rset *s, const json_t *p, const struct target *t, const char *file,
                     struct smp_cache *cache)
{
	size_t i;
	int rc;

	if (!json_is_object(p))
		return cairn_error_set(CAIRN_EINVAL,
		                       "a patch document is neither a map nor a "
		                       "list, in %s",
		                       file);
	if (t == NULL) {
		if (res_str(p, "apiVersion", NULL) == NULL || res_str(p, "kind", NULL) == NULL ||
		    res_str(p, "metadata", "name") == NULL)
			return cairn_error_set(CAIRN_EINVAL,
			                       "a strategic merge patch without target needs "
			                       "apiVersion, kind and metadata.name, in %s",
			                       file);
		if ((rc = smp_find(&i, s, p, file, cache)) < 0)
			return rc;
		return smp_patch_one(s, i, p, file);
	}
	for (i = 0; i < s->n;) {
		size_t before = s->n;
		if ((rc = target_match(t, &s->v[i], file)) < 0)
			return rc;
		if (rc > 0 && (rc = smp_patch_one(s, i, p, file)) < 0)
			return rc;
		if (s->n == before)
			i++;
	}
	return 0;
}

static int apply_json(rset *s, const json_t *ops, const struct target *t, const char *file,
                      struct smp_cache *cache)
{
	for (size_t i = 0; i < s->n; i++) {
		json_t *o = s->v[i].obj;
		int rc = target_match(t, &s->v[i], file);
		if (rc < 0)
			return rc;
		if (rc == 0)
			continue;
		cache->valid = 0;
		if (json_patch_apply(o, ops) < 0)
			return cairn_error_prefix(
			        "patching %s '%s' (%s): ", nz(res_str(o, "kind", NULL)),
			        nz(res_str(o, "metadata", "name")), file);
		drop_empty_annotations(o);
	}
	return 0;
}

/* Apply parsed patch documents: a list is a JSON patch (needs a target),
 * maps are strategic merge patches. */
static int apply_docs(rset *s, const json_t *docs, const json_t *target, const char *file,
                      struct smp_cache *cache)
{
	struct target t;
	size_t i;
	json_t *d;
	int rc = 0;

	if (target && !json_is_null(target) && (rc = target_parse(&t, target, file)) < 0)
		return rc;
	if (target && json_is_null(target))
		target = NULL;
	json_array_foreach(docs, i, d)
	{
		if (json_is_array(d) && target == NULL)
			rc = cairn_error_set(CAIRN_EINVAL, "a JSON patch needs a target, in %s",
			                     file);
		else if (json_is_array(d))
			rc = apply_json(s, d, &t, file, cache);
		else
			rc = apply_smp(s, d, target ? &t : NULL, file, cache);
		if (rc < 0)
			break;
	}
	if (target)
		target_dispose(&t);
	return rc;
}

static int check_options(const json_t *opts, const char *file)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)opts, key, v)
	{
		if (json_is_false(v))
			continue;
		return cairn_error_set(CAIRN_EUNSUPPORTED,
		                       "patch option '%s' is not supported by the native renderer, "
		                       "in %s",
		                       key, file);
	}
	return 0;
}

static int list_patches_run(rset *s, cairn_tree *t, const json_t *list, const char *file,
                            struct smp_cache *cache)
{
	size_t i;
	json_t *e;

	if (!json_is_array(list))
		return cairn_error_set(CAIRN_EINVAL, "'patches' is not a list, in %s", file);
	json_array_foreach(list, i, e)
	{
		json_t *docs = NULL;
		const char *key;
		json_t *v;
		int rc = json_is_object(e)
		                 ? 0
		                 : cairn_error_set(CAIRN_EINVAL, "patches[%zu] is not a map, in %s",
		                                   i, file);
		json_object_foreach(rc == 0 ? e : NULL, key, v)
		{
			if (rc == 0 && strcmp(key, "path") && strcmp(key, "patch") &&
			    strcmp(key, "target") && strcmp(key, "options"))
				rc = cairn_error_set(CAIRN_EINVAL,
				                     "unknown field '%s' in patches[%zu], in %s",
				                     key, i, file);
		}
		if (rc == 0)
			rc = check_options(json_object_get(e, "options"), file);
		if (rc == 0)
			rc = load_entry(&docs, t, e, file);
		if (rc == 0)
			rc = apply_docs(s, docs, json_object_get(e, "target"), file, cache);
		json_decref(docs);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int list_patches_smp_run(rset *s, cairn_tree *t, const json_t *list, const char *file,
                                struct smp_cache *cache)
{
	size_t i;
	json_t *e;

	if (!json_is_array(list))
		return cairn_error_set(CAIRN_EINVAL, "'patchesStrategicMerge' is not a list, in %s",
		                       file);
	json_array_foreach(list, i, e)
	{
		const char *str = json_string_value(e);
		json_t *docs = NULL, *entry;
		int rc;
		if (str == NULL)
			return cairn_error_set(CAIRN_EINVAL,
			                       "patchesStrategicMerge[%zu] is not a string, in %s",
			                       i, file);
		/* a string with a line break is the patch itself, else a file */
		entry = strchr(str, '\n') ? json_pack("{ss}", "patch", str)
		                          : json_pack("{ss}", "path", str);
		if (entry == NULL)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		rc = load_entry(&docs, t, entry, file);
		for (size_t j = 0; rc == 0 && j < json_array_size(docs); j++)
			if (!json_is_object(json_array_get(docs, j)))
				rc = cairn_error_set(
				        CAIRN_EINVAL,
				        "patchesStrategicMerge[%zu] is not a map, in %s", i, file);
		if (rc == 0)
			rc = apply_docs(s, docs, NULL, file, cache);
		json_decref(entry);
		json_decref(docs);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int list_patches_json6902_run(rset *s, cairn_tree *t, const json_t *list, const char *file,
                                     struct smp_cache *cache)
{
	size_t i;
	json_t *e;

	if (!json_is_array(list))
		return cairn_error_set(CAIRN_EINVAL, "'patchesJson6902' is not a list, in %s",
		                       file);
	json_array_foreach(list, i, e)
	{
		json_t *docs = NULL, *target = json_object_get(e, "target");
		int rc = 0;
		if (!json_is_object(target))
			rc = cairn_error_set(CAIRN_EINVAL,
			                     "patchesJson6902[%zu] has no target, in %s", i, file);
		if (rc == 0)
			rc = load_entry(&docs, t, e, file);
		for (size_t j = 0; rc == 0 && j < json_array_size(docs); j++)
			if (!json_is_array(json_array_get(docs, j)))
				rc = cairn_error_set(
				        CAIRN_EINVAL,
				        "patchesJson6902[%zu] is not a list of operations, "
				        "in %s",
				        i, file);
		if (rc == 0)
			rc = apply_docs(s, docs, target, file, cache);
		json_decref(docs);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The three patch fields: one index of the set for all of a list's
 * untargeted SMPs (see struct smp_cache). */
int tf_patches(rset *s, cairn_tree *t, const json_t *list, const char *file)
{
	struct smp_cache c = {0};
	int rc = list_patches_run(s, t, list, file, &c);

	render__rmap_dispose(&c.m);
	return rc;
}

int tf_patches_smp(rset *s, cairn_tree *t, const json_t *list, const char *file)
{
	struct smp_cache c = {0};
	int rc = list_patches_smp_run(s, t, list, file, &c);

	render__rmap_dispose(&c.m);
	return rc;
}

int tf_patches_json6902(rset *s, cairn_tree *t, const json_t *list, const char *file)
{
	struct smp_cache c = {0};
	int rc = list_patches_json6902_run(s, t, list, file, &c);

	render__rmap_dispose(&c.m);
	return rc;
}
