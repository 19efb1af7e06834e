/*
 * provenance.c - the recorder of which input set each rendered path.
 *
 * Rather than teaching every transformer to report what it touches, the
 * pipeline snapshots the objects before a step and diffs them after it:
 * whatever changed was done by that step. Records are keyed by the object
 * itself (the recorder holds a reference, so an address is never reused
 * while it is alive); stages that make new objects hand their records over
 * with prov__rekey(). A lookup takes the newest record at or above a path.
 */
#include <string.h>

#include "cairn/buf.h"
#include "cairn/error.h"
#include "prov_private.h"

#define PROV_DEPTH_MAX 256
#define PROV_PATH_MAX 4096

struct prov_rec {
	json_t *obj; /* owned reference: the identity key */
	char *path;  /* JSON pointer */
	cairn_render_origin_kind kind;
	char *file, *detail;
};

struct cairn_render_prov {
	struct prov_rec *v;
	size_t n, cap;
	json_t *app_vars; /* names of variables that come from the Application */
};

int cairn_render_prov_new(cairn_render_prov **out)
{
	cairn_render_prov *p = calloc(1, sizeof(*p));

	if (p == NULL || (p->app_vars = json_object()) == NULL) {
		free(p);
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	*out = p;
	return 0;
}

void cairn_render_prov_free(cairn_render_prov *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++) {
		json_decref(p->v[i].obj);
		free(p->v[i].path);
		free(p->v[i].file);
		free(p->v[i].detail);
	}
	free(p->v);
	json_decref(p->app_vars);
	free(p);
}

int cairn_render_prov_var_from_app(cairn_render_prov *p, const char *name)
{
	if (json_object_set_new(p->app_vars, name, json_true()) < 0)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	return 0;
}

const char *cairn_render_origin_kind_name(cairn_render_origin_kind kind)
{
	static const char *const names[] = {
	        "nothing declared", "resource",  "kustomization", "patch",
	        "generator",        "variables", "overrides",     "application",
	};

	return (unsigned)kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "?";
}

static int add_rec(cairn_render_prov *p, json_t *obj, const char *path,
                   cairn_render_origin_kind kind, const char *file, const char *detail)
{
	struct prov_rec *r;

	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct prov_rec *v = realloc(p->v, cap * sizeof(*v));
		if (v == NULL)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		p->v = v;
		p->cap = cap;
	}
	r = &p->v[p->n];
	r->path = strdup(path);
	r->file = file ? strdup(file) : NULL;
	r->detail = detail ? strdup(detail) : NULL;
	if (r->path == NULL || (file && !r->file) || (detail && !r->detail)) {
		free(r->path);
		free(r->file);
		free(r->detail);
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	r->obj = json_incref(obj);
	r->kind = kind;
	p->n++;
	return 0;
}

/* ---- the structural diff ------------------------------------------------- */

typedef int (*diff_fn)(const char *path, const json_t *before, void *ud);

/* Append `key` to the pointer in `path` (RFC 6901 escapes); returns the
 * old length to restore, or -1 when the path would be too long. */
static int push_key(char *path, size_t *len, const char *key)
{
	size_t l = *len;

	if (l + 1 >= PROV_PATH_MAX)
		return -1;
	path[l++] = '/';
	for (; *key; key++) {
		const char *esc = *key == '~' ? "~0" : *key == '/' ? "~1" : NULL;
		size_t k = esc ? 2 : 1;
		if (l + k >= PROV_PATH_MAX)
			return -1;
		memcpy(path + l, esc ? esc : key, k);
		l += k;
	}
	path[l] = '\0';
	*len = l;
	return 0;
}

/*
 * Walk `a` and `b` together and call `fn` for each place they differ:
 * a scalar (or type) change, a key on one side only, or arrays of
 * different lengths (reported once, at the array). `path` is a
 * PROV_PATH_MAX buffer holding the current pointer.
 */
static int diff_walk(const json_t *a, const json_t *b, char *path, size_t len, int depth,
                     diff_fn fn, void *ud)
{
	int rc = 0;

	if (depth > PROV_DEPTH_MAX)
		return cairn_error_set(CAIRN_ELIMIT, "objects nested deeper than %d levels",
		                       PROV_DEPTH_MAX);
	if (json_is_object(a) && json_is_object(b)) {
		const char *key;
		json_t *va;
		for (int side = 0; rc == 0 && side < 2; side++) {
			json_object_foreach((json_t *)(side ? b : a), key, va)
			{
				const json_t *vb = json_object_get(side ? a : b, key);
				size_t l = len;
				if (side && vb != NULL)
					continue;
				if (push_key(path, &l, key) < 0)
					return cairn_error_set(CAIRN_ELIMIT,
					                       "a path longer than %d",
					                       PROV_PATH_MAX);
				rc = vb == NULL ? fn(path, side ? NULL : va, ud)
				                : diff_walk(va, vb, path, l, depth + 1, fn, ud);
				path[len] = '\0';
				if (rc < 0)
					return rc;
			}
		}
		return rc;
	}
	if (json_is_array(a) && json_is_array(b) && json_array_size(a) == json_array_size(b)) {
		for (size_t i = 0; rc == 0 && i < json_array_size(a); i++) {
			char idx[24];
			size_t l = len;
			snprintf(idx, sizeof(idx), "%zu", i);
			if (push_key(path, &l, idx) < 0)
				return cairn_error_set(CAIRN_ELIMIT, "a path longer than %d",
				                       PROV_PATH_MAX);
			rc = diff_walk(json_array_get(a, i), json_array_get(b, i), path, l,
			               depth + 1, fn, ud);
			path[len] = '\0';
		}
		return rc;
	}
	if (json_equal((json_t *)a, (json_t *)b))
		return 0;
	return fn(path, a, ud);
}

static int collect(const char *path, const json_t *before, void *ud)
{
	(void)before;
	if (json_array_append_new(ud, json_string(path)) < 0)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	return 0;
}

int cairn_render_json_diff(json_t **out, const json_t *a, const json_t *b)
{
	char path[PROV_PATH_MAX] = "";
	json_t *arr = json_array();
	int rc;

	if (arr == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	rc = diff_walk(a, b, path, 0, 0, collect, arr);
	if (rc < 0) {
		json_decref(arr);
		return rc;
	}
	*out = arr;
	return 0;
}

/* ---- snapshots ------------------------------------------------------------ */

void prov__snap_dispose(prov_snap *snap)
{
	for (size_t i = 0; snap->copy && i < snap->n; i++)
		json_decref(snap->copy[i]);
	free(snap->ptr);
	free(snap->copy);
	memset(snap, 0, sizeof(*snap));
}

static int snap_take(prov_snap *snap, json_t *const *objs, size_t n)
{
	memset(snap, 0, sizeof(*snap));
	snap->ptr = calloc(n + 1, sizeof(*snap->ptr));
	snap->copy = calloc(n + 1, sizeof(*snap->copy));
	if (snap->ptr == NULL || snap->copy == NULL)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		snap->ptr[i] = objs[i];
		if ((snap->copy[i] = json_deep_copy(objs[i])) == NULL)
			goto oom;
		snap->n = i + 1;
	}
	snap->n = n;
	return 0;
oom:
	prov__snap_dispose(snap);
	return cairn_error_set(CAIRN_ENOMEM, "out of memory");
}

/* The object pointers of a set or an array, in order (caller frees). */
static json_t **rset_ptrs(const rset *s)
{
	json_t **v = calloc(s->n + 1, sizeof(*v));

	for (size_t i = 0; v && i < s->n; i++)
		v[i] = s->v[i].obj;
	return v;
}

static json_t **array_ptrs(const json_t *arr)
{
	size_t n = json_array_size(arr);
	json_t **v = calloc(n + 1, sizeof(*v));

	for (size_t i = 0; v && i < n; i++)
		v[i] = json_array_get(arr, i);
	return v;
}

int prov__snap_rset(prov_snap *snap, cairn_render_prov *p, const rset *s)
{
	json_t **v;
	int rc;

	memset(snap, 0, sizeof(*snap));
	if (p == NULL)
		return 0;
	if ((v = rset_ptrs(s)) == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	rc = snap_take(snap, v, s->n);
	free(v);
	return rc;
}

int prov__snap_array(prov_snap *snap, cairn_render_prov *p, const json_t *arr)
{
	json_t **v;
	int rc;

	memset(snap, 0, sizeof(*snap));
	if (p == NULL)
		return 0;
	if ((v = array_ptrs(arr)) == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	rc = snap_take(snap, v, json_array_size(arr));
	free(v);
	return rc;
}

struct rec_ctx {
	cairn_render_prov *p;
	json_t *obj;
	cairn_render_origin_kind kind;
	const char *file, *detail;
};

/*
 * The variables a substituted value used, read from its text before the
 * step ("${TAG}", "${TAG:=x}"...), as "variables A, B"; the kind becomes
 * the Application's when every one of them comes from it.
 */
static void vars_detail(char *out, size_t size, cairn_render_origin_kind *kind,
                        const cairn_render_prov *p, const json_t *before)
{
	char *text = before ? json_dumps(before, JSON_ENCODE_ANY) : NULL;
	size_t o = 0;
	int all_app = 1, any = 0;

	out[0] = '\0';
	for (const char *s = text; s && (s = strstr(s, "${")) != NULL;) {
		size_t n = 0;
		char name[128];
		s += 2;
		while ((s[n] == '_' || (s[n] >= 'a' && s[n] <= 'z') ||
		        (s[n] >= 'A' && s[n] <= 'Z') || (n && s[n] >= '0' && s[n] <= '9')) &&
		       n + 1 < sizeof(name))
			n++;
		if (n == 0)
			continue;
		memcpy(name, s, n);
		name[n] = '\0';
		if (strstr(out, name) == NULL || !any) {
			int w = snprintf(out + o, size - o, "%s%s", any ? ", " : "variables ",
			                 name);
			if (w > 0 && (size_t)w < size - o)
				o += (size_t)w;
		}
		any = 1;
		if (json_object_get(p->app_vars, name) == NULL)
			all_app = 0;
		s += n;
	}
	free(text);
	if (any && all_app)
		*kind = CAIRN_ORIGIN_APP;
}

static int record_change(const char *path, const json_t *before, void *ud)
{
	struct rec_ctx *c = ud;
	cairn_render_origin_kind kind = c->kind;
	char vars[512];
	const char *detail = c->detail;

	if (kind == CAIRN_ORIGIN_ENV_VARS) {
		vars_detail(vars, sizeof(vars), &kind, c->p, before);
		if (vars[0])
			detail = vars;
	}
	return add_rec(c->p, c->obj, path, kind, c->file, detail);
}

/* Record what changed between the snapshot and `after` (n objects). */
static int commit(prov_snap *snap, cairn_render_prov *p, json_t *const *after, size_t n,
                  cairn_render_origin_kind kind, const char *file, const char *detail)
{
	char path[PROV_PATH_MAX] = "";
	int rc = 0;

	for (size_t j = 0; rc == 0 && j < n; j++) {
		struct rec_ctx c = {p, after[j], kind, file, detail};
		size_t i;
		for (i = 0; i < snap->n; i++)
			if (snap->ptr[i] == after[j])
				break;
		if (i == snap->n)
			rc = add_rec(p, after[j], "", kind, file, detail);
		else
			rc = diff_walk(snap->copy[i], after[j], path, 0, 0, record_change, &c);
	}
	return rc;
}

int prov__commit_rset(prov_snap *snap, cairn_render_prov *p, const rset *s,
                      cairn_render_origin_kind kind, const char *file, const char *detail)
{
	json_t **v;
	int rc;

	if (p == NULL)
		return 0;
	if ((v = rset_ptrs(s)) == NULL)
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
	else
		rc = commit(snap, p, v, s->n, kind, file, detail);
	free(v);
	prov__snap_dispose(snap);
	return rc;
}

int prov__commit_array(prov_snap *snap, cairn_render_prov *p, const json_t *arr,
                       cairn_render_origin_kind kind, const char *file, const char *detail)
{
	json_t **v;
	int rc;

	if (p == NULL)
		return 0;
	if ((v = array_ptrs(arr)) == NULL)
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
	else
		rc = commit(snap, p, v, json_array_size(arr), kind, file, detail);
	free(v);
	prov__snap_dispose(snap);
	return rc;
}

int prov__rekey(cairn_render_prov *p, const json_t *from, const json_t *to)
{
	size_t n = json_array_size(from);

	if (p == NULL || from == to)
		return 0;
	if (json_array_size(to) != n)
		return cairn_error_set(CAIRN_EINVAL,
		                       "provenance: a stage changed the object count");
	for (size_t r = 0; r < p->n; r++)
		for (size_t i = 0; i < n; i++) {
			json_t *f = json_array_get(from, i), *t = json_array_get(to, i);
			if (p->v[r].obj == f && f != t) {
				p->v[r].obj = json_incref(t);
				json_decref(f);
				break;
			}
		}
	return 0;
}

int prov__resources(cairn_render_prov *p, const rset *s, const char *file)
{
	int rc = 0;

	for (size_t i = 0; p && rc == 0 && i < s->n; i++)
		rc = add_rec(p, s->v[i].obj, "", CAIRN_ORIGIN_RESOURCE, file, NULL);
	return rc;
}

/* ---- lookups --------------------------------------------------------------- */

/* 1 when pointer `anc` is `path` or one of its ancestors. */
static int is_ancestor(const char *anc, const char *path)
{
	size_t n = strlen(anc);

	return strncmp(anc, path, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

int cairn_render_prov_find(cairn_render_origin *out, const cairn_render_prov *p, const json_t *obj,
                           const char *path)
{
	const struct prov_rec *best = NULL;

	for (size_t r = p ? p->n : 0; r-- > 0;) {
		const struct prov_rec *x = &p->v[r];
		if (x->obj == obj && is_ancestor(x->path, path)) {
			best = x;
			break;
		}
	}
	for (size_t r = p && !best ? p->n : 0; r-- > 0;) {
		const struct prov_rec *x = &p->v[r];
		if (x->obj == obj && is_ancestor(path, x->path)) {
			best = x;
			break;
		}
	}
	if (best == NULL)
		return 0;
	out->kind = best->kind;
	out->file = best->file;
	out->detail = best->detail;
	return 1;
}

int prov__commit_stage(prov_snap *snap, cairn_render_prov *p, const json_t *to,
                       cairn_render_origin_kind kind, const char *detail)
{
	json_t *from;
	int rc;

	if (p == NULL)
		return 0;
	if ((from = json_array()) == NULL) {
		prov__snap_dispose(snap);
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < snap->n; i++)
		json_array_append(from, snap->ptr[i]);
	rc = prov__rekey(p, from, to);
	json_decref(from);
	for (size_t i = 0; rc == 0 && i < snap->n; i++)
		snap->ptr[i] = json_array_get(to, i);
	if (rc == 0)
		rc = prov__commit_array(snap, p, to, kind, NULL, detail);
	prov__snap_dispose(snap);
	return rc;
}
