/*
 * kustomize.c - the native kustomize renderer: reads kustomization files
 * through a cairn_tree, loads `resources` (files and nested
 * kustomizations, cycles refused), runs the supported built-in
 * transformers in kustomize's order, fixes name references and sorts the
 * result in kustomize's legacy order.
 */
#include <string.h>

#include "cairn/error.h"
#include "cairn/render.h"
#include "cairn/util.h"
#include "cairn/yaml.h"
#include "prov_private.h"
#include "render_private.h"

static const char *const kust_names[] = {"kustomization.yaml", "kustomization.yml",
                                         "Kustomization"};

/* Fields the native renderer implements; every other field is refused. */
static const char *const supported_fields[] = {
        "apiVersion",
        "kind",
        "bases",
        "resources",
        "namespace",
        "namePrefix",
        "nameSuffix",
        "commonLabels",
        "labels",
        "commonAnnotations",
        "images",
        "replicas",
        "patches",
        "patchesStrategicMerge",
        "patchesJson6902",
        "components",
        "configMapGenerator",
        "secretGenerator",
        "generatorOptions",
};

struct kctx {
	cairn_tree *t;
	const char *stack[CAIRN_RENDER_DEPTH_MAX];
	size_t depth;
	cairn_render_prov *prov; /* NULL: not recording */
};

int rset_add(rset *s, json_t *obj, const char *file)
{
	const char *name = res_str(obj, "metadata", "name");

	if (!json_is_string(json_object_get(obj, "kind")) || name == NULL)
		return cairn_error_set(CAIRN_EINVAL,
		                       "an object without kind or metadata.name, in %s", file);
	if (!json_is_string(json_object_get(obj, "apiVersion")))
		return cairn_error_set(CAIRN_EINVAL, "object '%s' has no apiVersion, in %s", name,
		                       file);
	if (s->n >= CAIRN_RENDER_OBJECTS_MAX)
		return cairn_error_set(CAIRN_ELIMIT, "more than %d objects",
		                       CAIRN_RENDER_OBJECTS_MAX);
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		rres *v = realloc(s->v, cap * sizeof(*v));
		if (v == NULL)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n].obj = json_incref(obj);
	s->v[s->n].hash = 0;
	s->v[s->n].names = json_pack("[s]", name);
	if (s->v[s->n].names == NULL) {
		json_decref(obj);
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	s->n++;
	return 0;
}

/* A string field, "" when unset (a patch may have removed it). */
static const char *str_or_empty(const json_t *o, const char *a, const char *b)
{
	const char *v = res_str(o, a, b);

	return v ? v : "";
}

/* The length of the group part of an apiVersion ("" for the core group). */
static size_t group_len(const char *av)
{
	const char *slash = strchr(av, '/');

	return slash ? (size_t)(slash - av) : 0;
}

/* Two objects with one group, kind, namespace and name may not coexist. */
static int same_id(const json_t *a, const json_t *b)
{
	const char *va = str_or_empty(a, "apiVersion", NULL),
	           *vb = str_or_empty(b, "apiVersion", NULL);
	size_t la = group_len(va);

	return la == group_len(vb) && memcmp(va, vb, la) == 0 &&
	       strcmp(str_or_empty(a, "kind", NULL), str_or_empty(b, "kind", NULL)) == 0 &&
	       strcmp(str_or_empty(a, "metadata", "name"), str_or_empty(b, "metadata", "name")) ==
	               0 &&
	       strcmp(str_or_empty(a, "metadata", "namespace"),
	              str_or_empty(b, "metadata", "namespace")) == 0;
}

/* The hash of what same_id compares. */
static uint64_t id_hash(const json_t *o)
{
	const char *av = str_or_empty(o, "apiVersion", NULL), *kind = str_or_empty(o, "kind", NULL);
	const char *name = str_or_empty(o, "metadata", "name");
	const char *ns = str_or_empty(o, "metadata", "namespace");
	uint64_t h = RENDER_HASH_INIT;

	h = render__hash_mix(h, av, group_len(av));
	h = render__hash_mix(h, kind, strlen(kind));
	h = render__hash_mix(h, ns, strlen(ns));
	return render__hash_mix(h, name, strlen(name));
}

/*
 * Every object of an rset has a string apiVersion, kind and name (rset_add
 * checks), so the id can be hashed: a duplicate is looked up among the
 * objects with the same hash instead of compared with every object of dst.
 * The index first catches up with objects added to dst since it was last
 * used, then takes each appended object as it goes, so duplicates inside
 * src are refused too.
 */
int rset_append(rset *dst, rset *src, const char *file, struct rmap *idx)
{
	struct rmap local = {0};
	int rc = 0;

	if (idx == NULL)
		idx = &local;
	for (; idx->covered < dst->n; idx->covered++)
		if ((rc = render__rmap_put(idx, id_hash(dst->v[idx->covered].obj), idx->covered)) <
		    0)
			goto out;
	for (size_t i = 0; i < src->n; i++) {
		uint64_t h = id_hash(src->v[i].obj);
		size_t pos = SIZE_MAX, j;
		while (render__rmap_next(idx, h, &pos, &j))
			if (same_id(dst->v[j].obj, src->v[i].obj)) {
				rc = cairn_error_set(
				        CAIRN_EINVAL, "duplicate object %s '%s', in %s",
				        res_str(src->v[i].obj, "kind", NULL),
				        res_str(src->v[i].obj, "metadata", "name"), file);
				goto out;
			}
		if ((rc = rset_add(dst, src->v[i].obj, file)) < 0)
			goto out;
		json_decref(dst->v[dst->n - 1].names);
		dst->v[dst->n - 1].names = json_incref(src->v[i].names);
		dst->v[dst->n - 1].hash = src->v[i].hash;
		if ((rc = render__rmap_put(idx, h, dst->n - 1)) < 0)
			goto out;
		idx->covered = dst->n;
	}
out:
	render__rmap_dispose(&local);
	return rc;
}

void rset_dispose(rset *s)
{
	for (size_t i = 0; i < s->n; i++) {
		json_decref(s->v[i].obj);
		json_decref(s->v[i].names);
	}
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

/* dir + "/" + rel, cleaned; CAIRN_EPERM when it leaves the tree's root. */
static int join(char **out, const char *dir, const char *rel, const char *file)
{
	char *tmp;
	size_t len = strlen(dir) + strlen(rel) + 2;
	int rc;

	if (rel[0] == '/')
		return cairn_error_set(CAIRN_EPERM, "absolute path '%s' refused, in %s", rel, file);
	tmp = malloc(len);
	if (tmp == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	snprintf(tmp, len, "%s%s%s", dir, dir[0] ? "/" : "", rel);
	rc = cairn_path_clean(out, tmp);
	free(tmp);
	if (rc < 0)
		return cairn_error_set(CAIRN_EPERM, "path '%s' leaves the root of the tree, in %s",
		                       rel, file);
	return 0;
}

int cairn_render_is_kustomization(cairn_tree *t, const char *dir)
{
	for (size_t i = 0; i < 3; i++) {
		char *p = NULL;
		cairn_tree_kind kind;
		uint64_t size;
		int rc = join(&p, dir, kust_names[i], dir);
		if (rc < 0)
			return rc;
		rc = cairn_tree_stat(t, &kind, &size, p);
		free(p);
		if (rc == 0 && kind == CAIRN_TREE_FILE)
			return (int)i + 1;
		if (rc < 0 && rc != CAIRN_ENOTFOUND)
			return rc;
	}
	cairn_error_clear();
	return 0;
}

int load_docs(json_t **out, cairn_tree *t, const char *path, cairn_yaml_profile prof)
{
	cairn_buf b = CAIRN_BUF_INIT(CAIRN_RENDER_FILE_MAX);
	cairn_yaml_opts o = CAIRN_YAML_OPTS_INIT;
	int rc;

	o.profile = prof;
	rc = cairn_tree_read(t, &b, path, 0);
	if (rc == 0)
		rc = cairn_yaml_load(out, NULL, b.ptr ? b.ptr : "", b.len, path, &o);
	cairn_buf_dispose(&b);
	return rc;
}

/* Add every object of the documents: empty ones skipped, Lists flattened. */
int add_docs(rset *s, json_t *docs, const char *path)
{
	size_t i;
	json_t *d;

	json_array_foreach(docs, i, d)
	{
		int rc = 0;
		json_t *items = json_object_get(d, "items");
		const char *kind = res_str(d, "kind", NULL);
		if (json_is_null(d))
			continue;
		if (!json_is_object(d))
			return cairn_error_set(CAIRN_EINVAL, "document %zu is not a map, in %s",
			                       i + 1, path);
		if (kind && strcmp(kind, "List") == 0 && json_is_array(items)) {
			size_t j;
			json_t *e;
			json_array_foreach(items, j, e)
			{
				if (rc == 0)
					rc = rset_add(s, e, path);
			}
		} else {
			rc = rset_add(s, d, path);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int accumulate(rset *acc, struct kctx *k, const char *dir, int component);

/* Render the kustomization of `dir` into `out` (no name fix-up, no sort). */
static int build(rset *out, struct kctx *k, const char *dir)
{
	rset acc = {0};
	int rc = accumulate(&acc, k, dir, 0);

	if (rc == 0) {
		*out = acc;
		acc = (rset){0};
	}
	rset_dispose(&acc);
	return rc;
}

static int load_resource(rset *acc, struct rmap *idx, struct kctx *k, const char *dir,
                         const char *rel, const char *kfile)
{
	rset sub = {0};
	char *p = NULL;
	cairn_tree_kind kind;
	uint64_t size;
	json_t *docs = NULL;
	int rc;

	if (strstr(rel, "://") || strncmp(rel, "github.com/", 11) == 0 ||
	    strncmp(rel, "git@", 4) == 0) {
		rc = cairn_error_set(CAIRN_EUNSUPPORTED,
		                     "remote resource '%s' is not supported, in %s", rel, kfile);
		goto out;
	}
	rc = join(&p, dir, rel, kfile);
	if (rc < 0)
		goto out;
	rc = cairn_tree_stat(k->t, &kind, &size, p);
	if (rc < 0) {
		cairn_error_prefix("resource '%s' of %s", rel, kfile);
		goto out;
	}
	if (kind == CAIRN_TREE_DIR) {
		rc = build(&sub, k, p);
	} else {
		rc = load_docs(&docs, k->t, p, CAIRN_YAML_KUSTOMIZE);
		if (rc == 0)
			rc = add_docs(&sub, docs, p);
		if (rc == 0)
			rc = prov__resources(k->prov, &sub, p);
	}
	if (rc == 0)
		rc = rset_append(acc, &sub, kfile, idx);
out:
	json_decref(docs);
	rset_dispose(&sub);
	free(p);
	return rc;
}

static int check_fields(const json_t *kz, const char *file, int component)
{
	const char *key, *kind = res_str(kz, "kind", NULL);
	json_t *v;

	if (component && (kind == NULL || strcmp(kind, "Component") != 0))
		return cairn_error_set(CAIRN_EINVAL, "a component must have kind Component, in %s",
		                       file);
	if (!component && kind != NULL && strcmp(kind, "Component") == 0)
		return cairn_error_set(CAIRN_EINVAL,
		                       "a Component can only be listed in 'components', in %s",
		                       file);
	if (!component && kind != NULL && strcmp(kind, "Kustomization") != 0)
		return cairn_error_set(CAIRN_EUNSUPPORTED, "kind '%s' is not supported, in %s",
		                       kind, file);
	json_object_foreach((json_t *)kz, key, v)
	{
		size_t i, n = sizeof(supported_fields) / sizeof(supported_fields[0]);
		for (i = 0; i < n; i++)
			if (strcmp(key, supported_fields[i]) == 0)
				break;
		if (i == n)
			return cairn_error_set(CAIRN_EUNSUPPORTED,
			                       "kustomization field '%s' is not supported by the "
			                       "native renderer, in %s",
			                       key, file);
	}
	return 0;
}

static int str_field(const char **out, const json_t *kz, const char *key, const char *file)
{
	json_t *v = json_object_get(kz, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return cairn_error_set(CAIRN_EINVAL, "'%s' is not a string, in %s", key, file);
	*out = json_string_value(v);
	return 0;
}

/* Each entry of `components`: a directory holding a kind Component
 * kustomization, applied in list order to the accumulated set. */
static int load_components(rset *acc, struct kctx *k, const char *dir, const json_t *list,
                           const char *file)
{
	size_t i;
	int rc = 0;

	if (list == NULL || json_is_null(list))
		return 0;
	if (!json_is_array(list))
		return cairn_error_set(CAIRN_EINVAL, "'components' is not a list, in %s", file);
	for (i = 0; rc == 0 && i < json_array_size(list); i++) {
		const char *rel = json_string_value(json_array_get(list, i));
		char *p = NULL;
		if (rel == NULL)
			return cairn_error_set(CAIRN_EINVAL,
			                       "components[%zu] is not a string, in %s", i, file);
		if (strstr(rel, "://") || strncmp(rel, "github.com/", 11) == 0)
			return cairn_error_set(CAIRN_EUNSUPPORTED,
			                       "remote component '%s' is not supported, in %s", rel,
			                       file);
		rc = join(&p, dir, rel, file);
		if (rc == 0)
			rc = accumulate(acc, k, p, 1);
		free(p);
	}
	return rc;
}

/* One transformer step; when recording, what it changed is recorded as
 * done by `detail` of `file` (the macro returns on errors). */
#define STEP(kind, detail, call)                                                                   \
	do {                                                                                       \
		prov_snap snap_;                                                                   \
		if ((rc = prov__snap_rset(&snap_, p, s)) < 0)                                      \
			return rc;                                                                 \
		if ((rc = (call)) < 0) {                                                           \
			prov__snap_dispose(&snap_);                                                \
			return rc;                                                                 \
		}                                                                                  \
		if ((rc = prov__commit_rset(&snap_, p, s, kind, file, detail)) < 0)                \
			return rc;                                                                 \
	} while (0)

typedef int (*patch_fn)(rset *s, cairn_tree *t, const json_t *list, const char *file);

/* A patch field; when recording, one entry at a time so that each change
 * is labelled with its own patch (its `path`, or its index when inline). */
static int patch_step(rset *s, cairn_tree *t, const json_t *list, const char *file,
                      cairn_render_prov *p, patch_fn fn, const char *field)
{
	int rc = 0;

	if (p == NULL || !json_is_array(list))
		return fn(s, t, list, file);
	for (size_t i = 0; rc == 0 && i < json_array_size(list); i++) {
		json_t *e = json_array_get(list, i), *one = json_pack("[O]", e);
		const char *path = json_is_string(e)
		                           ? json_string_value(e)
		                           : json_string_value(json_object_get(e, "path"));
		char detail[512];
		if (one == NULL)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		if (path && !strchr(path, '\n'))
			snprintf(detail, sizeof(detail), "%s '%s'", field, path);
		else
			snprintf(detail, sizeof(detail), "%s[%zu] (inline)", field, i);
		prov_snap snap;
		if ((rc = prov__snap_rset(&snap, p, s)) == 0 && (rc = fn(s, t, one, file)) < 0)
			prov__snap_dispose(&snap);
		if (rc == 0)
			rc = prov__commit_rset(&snap, p, s, CAIRN_ORIGIN_PATCH, file, detail);
		json_decref(one);
	}
	return rc;
}

/* Run the transformers of one kustomization, in kustomize's order. */
static int transform(rset *s, cairn_tree *t, const json_t *kz, const char *file,
                     cairn_render_prov *p)
{
	const char *ns, *pre, *suf;
	json_t *v;
	int rc;

	if ((rc = str_field(&ns, kz, "namespace", file)) < 0 ||
	    (rc = str_field(&pre, kz, "namePrefix", file)) < 0 ||
	    (rc = str_field(&suf, kz, "nameSuffix", file)) < 0)
		return rc;
	if ((v = json_object_get(kz, "patchesStrategicMerge")) && !json_is_null(v) &&
	    (rc = patch_step(s, t, v, file, p, tf_patches_smp, "patchesStrategicMerge")) < 0)
		return rc;
	if ((v = json_object_get(kz, "patches")) && !json_is_null(v) &&
	    (rc = patch_step(s, t, v, file, p, tf_patches, "patches")) < 0)
		return rc;
	if (ns && ns[0])
		STEP(CAIRN_ORIGIN_TRANSFORMER, "namespace", tf_namespace(s, ns, file));
	if ((pre && pre[0]) || (suf && suf[0]))
		STEP(CAIRN_ORIGIN_TRANSFORMER, "namePrefix/nameSuffix",
		     tf_prefix_suffix(s, pre ? pre : "", suf ? suf : ""));
	if ((v = json_object_get(kz, "labels")) && !json_is_null(v))
		STEP(CAIRN_ORIGIN_TRANSFORMER, "labels", tf_labels(s, v, file));
	if ((v = json_object_get(kz, "commonLabels")) && !json_is_null(v))
		STEP(CAIRN_ORIGIN_TRANSFORMER, "commonLabels", tf_common_labels(s, v, file));
	if ((v = json_object_get(kz, "commonAnnotations")) && !json_is_null(v))
		STEP(CAIRN_ORIGIN_TRANSFORMER, "commonAnnotations", tf_annotations(s, v, file));
	if ((v = json_object_get(kz, "patchesJson6902")) && !json_is_null(v) &&
	    (rc = patch_step(s, t, v, file, p, tf_patches_json6902, "patchesJson6902")) < 0)
		return rc;
	if ((v = json_object_get(kz, "replicas")) && !json_is_null(v))
		STEP(CAIRN_ORIGIN_TRANSFORMER, "replicas", tf_replicas(s, v, file));
	if ((v = json_object_get(kz, "images")) && !json_is_null(v))
		STEP(CAIRN_ORIGIN_TRANSFORMER, "images", tf_images(s, v, file));
	return 0;
}

/*
 * Add what the kustomization (or, with `component`, the Component) of `dir`
 * makes to `acc`, as kustomize's accumulateTarget does: resources and bases
 * appended, then the generators, then the components run on the whole
 * accumulated set, then the transformers, which also see the parent's
 * objects when this is a component.
 */
static int accumulate(rset *acc, struct kctx *k, const char *dir, int component)
{
	json_t *docs = NULL, *kz, *res;
	struct rmap idx = {0}; /* acc's ids while resources are appended */
	char *file = NULL;
	size_t i;
	int rc, which;

	for (i = 0; i < k->depth; i++)
		if (strcmp(k->stack[i], dir) == 0)
			return cairn_error_set(CAIRN_EINVAL, "cycle of kustomizations through '%s'",
			                       dir[0] ? dir : ".");
	if (k->depth == CAIRN_RENDER_DEPTH_MAX)
		return cairn_error_set(CAIRN_ELIMIT, "kustomizations nested deeper than %d",
		                       CAIRN_RENDER_DEPTH_MAX);
	which = cairn_render_is_kustomization(k->t, dir);
	if (which <= 0)
		return which < 0 ? which
		                 : cairn_error_set(CAIRN_ENOTFOUND,
		                                   "no kustomization file in directory '%s'",
		                                   dir[0] ? dir : ".");
	k->stack[k->depth++] = dir;
	rc = join(&file, dir, kust_names[which - 1], dir);
	if (rc == 0)
		rc = load_docs(&docs, k->t, file, CAIRN_YAML_KUSTOMIZE);
	if (rc < 0)
		goto out;
	kz = json_array_get(docs, 0);
	if (json_array_size(docs) != 1 || !json_is_object(kz)) {
		rc = cairn_error_set(CAIRN_EINVAL, "a kustomization must be one map, in %s", file);
		goto out;
	}
	if ((rc = check_fields(kz, file, component)) < 0)
		goto out;
	/* legacy `bases` are loaded after `resources`, as kustomize v5 does */
	for (int f = 0; rc == 0 && f < 2; f++) {
		const char *field = f == 0 ? "resources" : "bases";
		res = json_object_get(kz, field);
		if (res != NULL && !json_is_null(res) && !json_is_array(res)) {
			rc = cairn_error_set(CAIRN_EINVAL, "'%s' is not a list, in %s", field,
			                     file);
			goto out;
		}
		for (i = 0; rc == 0 && i < json_array_size(res); i++) {
			const char *rel = json_string_value(json_array_get(res, i));
			if (rel == NULL)
				rc = cairn_error_set(CAIRN_EINVAL, "%s[%zu] is not a string, in %s",
				                     field, i, file);
			else
				rc = load_resource(acc, &idx, k, dir, rel, file);
		}
	}
	render__rmap_dispose(&idx);
	/* kustomize >= 5.1 runs components after the generators */
	if (rc == 0) {
		prov_snap snap;
		if ((rc = prov__snap_rset(&snap, k->prov, acc)) == 0 &&
		    (rc = gen_run(acc, k->t, dir, kz, file)) < 0)
			prov__snap_dispose(&snap);
		if (rc == 0)
			rc = prov__commit_rset(&snap, k->prov, acc, CAIRN_ORIGIN_GENERATOR, file,
			                       "configMapGenerator/secretGenerator");
	}
	if (rc == 0)
		rc = load_components(acc, k, dir, json_object_get(kz, "components"), file);
	if (rc == 0)
		rc = transform(acc, k->t, kz, file, k->prov);
out:
	render__rmap_dispose(&idx);
	k->depth--;
	json_decref(docs);
	free(file);
	return rc;
}

int cairn_render_kustomize(json_t **out, cairn_tree *t, const char *dir)
{
	return kustomize__build(out, t, dir, NULL);
}

int kustomize__build(json_t **out, cairn_tree *t, const char *dir, cairn_render_prov *p)
{
	struct kctx k = {t, {0}, 0, p};
	prov_snap snap = {0};
	rset s = {0};
	json_t *arr = NULL;
	char *clean = NULL;
	int rc = cairn_path_clean(&clean, dir && dir[0] ? dir : ".");

	if (rc < 0)
		return rc;
	if (strcmp(clean, ".") == 0)
		clean[0] = '\0';
	rc = build(&s, &k, clean);
	if (rc == 0 && (rc = prov__snap_rset(&snap, p, &s)) == 0 && (rc = gen_hash_names(&s)) == 0)
		rc = prov__commit_rset(&snap, p, &s, CAIRN_ORIGIN_GENERATOR, NULL, "content hash");
	if (rc == 0 && (rc = prov__snap_rset(&snap, p, &s)) == 0 && (rc = tf_namerefs(&s)) == 0)
		rc = prov__commit_rset(&snap, p, &s, CAIRN_ORIGIN_TRANSFORMER, NULL,
		                       "name references");
	if (rc < 0)
		goto out;
	sort_legacy(&s);
	arr = json_array();
	for (size_t i = 0; arr && i < s.n; i++)
		if (json_array_append(arr, s.v[i].obj) < 0) {
			json_decref(arr);
			arr = NULL;
		}
	if (arr == NULL) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	*out = arr;
out:
	prov__snap_dispose(&snap);
	rset_dispose(&s);
	free(clean);
	return rc;
}

int cairn_render_directory(json_t **out, cairn_tree *t, const char *dir, int recursive)
{
	cairn_render_dir_opts o = CAIRN_RENDER_DIR_OPTS_INIT;

	o.recurse = recursive;
	return cairn_render_directory_opts(out, t, dir, &o);
}
