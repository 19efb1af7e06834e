/*
 * reconcile.c - compare one rendered app with the cluster: the live object
 * of each desired one, its predicted ("wanted") form from a server-side
 * apply dry run (cached in the state), the diff, the health, and the tracked
 * objects that are no longer desired.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/json.h"
#include "run_private.h"

int sync__kinds_key(char *out, size_t size, const char *app, const char *env)
{
	int n = snprintf(out, size, "sync.kinds/%s/%s", app, env != NULL ? env : "");

	if (n < 0 || (size_t)n >= size)
		return cairn_error_set(CAIRN_ELIMIT, "app name '%s' too long for a state key", app);
	return 0;
}

const char *sync__meta_str(const json_t *obj, const char *field, const char *key)
{
	json_t *meta = json_object_get(obj, "metadata");

	return json_string_value(json_object_get(json_object_get(meta, field), key));
}

int sync__rollout_owned(const json_t *live)
{
	if (live == NULL)
		return 0;
	return sync__meta_str(live, "labels", CAIRN_ROLLOUT_MARKER) != NULL ||
	       sync__meta_str(live, "annotations", CAIRN_ROLLOUT_MARKER) != NULL;
}

int sync__rollout_hash_keep(json_t *desired, const json_t *live)
{
	json_t *spec = json_object_get(desired, "spec"), *sel;
	const char *api = json_string_value(json_object_get(desired, "apiVersion"));
	const char *kind = json_string_value(json_object_get(desired, "kind"));
	const json_t *h = json_object_get(
	        json_object_get(json_object_get(live, "spec"), "selector"), SYNC_ROLLOUT_HASH_KEY);

	if (!json_is_string(h) || api == NULL || kind == NULL || strcmp(api, "v1") != 0 ||
	    strcmp(kind, "Service") != 0 || !json_is_object(spec))
		return 0;
	sel = json_object_get(spec, "selector");
	if (!json_is_object(sel)) /* no selector in git: not a Service a Rollout drives */
		return 0;
	if (json_equal(json_object_get(sel, SYNC_ROLLOUT_HASH_KEY), h))
		return 0;
	if (json_object_set_new(sel, SYNC_ROLLOUT_HASH_KEY, json_copy((json_t *)h)) < 0)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	return 1;
}

int sync__rollout_kind(const json_t *obj)
{
	static const char *const kinds[] = {"Rollout", "AnalysisTemplate",
	                                    "ClusterAnalysisTemplate", "AnalysisRun", "Experiment"};
	const char *api = json_string_value(json_object_get(obj, "apiVersion"));
	const char *kind = json_string_value(json_object_get(obj, "kind"));

	if (api == NULL || kind == NULL || strncmp(api, "argoproj.io/", 12) != 0)
		return 0;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kind, kinds[i]) == 0)
			return 1;
	return 0;
}

void sync__progress(const cairn_sync_ctx *ctx, const char *phase, int wave, const cairn_res_id *id,
                    const char *action, const char *result)
{
	if (ctx->progress != NULL)
		ctx->progress(ctx->progress_ud, phase, wave, id, action, result);
}

void cairn_sync_result_free(cairn_sync_result *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n; i++) {
		cairn_diff_free(r->v[i].diff);
		json_decref(r->v[i].object);
		json_decref(r->v[i].live);
	}
	free(r->v);
	free(r);
}

static const char *dest_ns(const cairn_sync_ctx *ctx, const cairn_sync_request *req)
{
	if (req->dest_namespace != NULL && req->dest_namespace[0] != '\0')
		return req->dest_namespace;
	return cairn_kube_client_namespace(ctx->kube);
}

/*
 * A copy of a rendered object ready to apply: the namespace filled in (or
 * dropped for cluster-scoped kinds, as discovery says) and the tracking
 * written. Its identity and REST mapping come back too.
 */
static int prepare_desired(json_t **out, cairn_res_id *id, cairn_kube_mapping *m,
                           const cairn_sync_ctx *ctx, const cairn_sync_request *req,
                           const json_t *obj)
{
	json_t *o = NULL, *meta;
	const char *api = json_string_value(json_object_get(obj, "apiVersion"));
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	int rc;

	if (api == NULL || kind == NULL || !json_is_object(json_object_get(obj, "metadata"))) {
		rc = cairn_error_set(CAIRN_EINVAL,
		                     "rendered object without apiVersion, kind or metadata");
		goto out;
	}
	rc = cairn_kube_mapping_for(ctx->kube, api, kind, m);
	if (rc < 0)
		goto out;
	o = json_deep_copy(obj);
	if (o == NULL) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory copying an object");
		goto out;
	}
	meta = json_object_get(o, "metadata");
	if (!m->namespaced)
		json_object_del(meta, "namespace");
	else if (json_string_value(json_object_get(meta, "namespace")) == NULL)
		json_object_set_new(meta, "namespace", json_string(dest_ns(ctx, req)));
	rc = cairn_res_id_of(id, o, NULL);
	if (rc == 0)
		rc = cairn_track_set(o, req->app, id, ctx->track);
out:
	if (rc == 0)
		*out = o;
	else
		json_decref(o);
	return rc;
}

/*
 * The server's prediction of `desired` applied over `live`: from the dry-run
 * cache when the state has it for (hash of desired's JCS, live
 * resourceVersion), else one dry-run apply whose answer is cached.
 */
static int predict(json_t **out, const cairn_sync_ctx *ctx, const json_t *desired,
                   const json_t *live, uint64_t *dry_runs)
{
	char hash[65];
	const char *rv;
	json_t *w = NULL;
	int rc;

	rv = live != NULL ? json_string_value(json_object_get(json_object_get(live, "metadata"),
	                                                      "resourceVersion"))
	                  : NULL;
	if (rv == NULL)
		rv = "absent";
	rc = cairn_json_sha256_hex(hash, desired);
	if (rc < 0)
		return rc;
	if (ctx->state != NULL) {
		rc = cairn_state_dryrun_get(&w, ctx->state, hash, rv);
		if (rc == 0) {
			*out = w;
			return 0;
		}
		if (rc != CAIRN_ENOTFOUND)
			return rc;
		cairn_error_clear();
	}
	rc = cairn_kube_apply(ctx->kube, desired, CAIRN_KUBE_DRY_RUN, &w);
	if (rc < 0)
		return cairn_error_prefix("dry run: ");
	(*dry_runs)++;
	if (ctx->state != NULL) {
		rc = cairn_state_dryrun_put(ctx->state, hash, rv, w);
		if (rc == CAIRN_ELIMIT)
			cairn_error_clear(); /* too large to cache: predicted again next time */
		else if (rc < 0) {
			json_decref(w);
			return rc;
		}
	}
	*out = w;
	return 0;
}

static int result_push(cairn_sync_result *r, size_t *cap, cairn_sync_res **slot)
{
	if (r->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		cairn_sync_res *nv = realloc(r->v, nc * sizeof(*nv));

		if (nv == NULL)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory comparing an app");
		r->v = nv;
		*cap = nc;
	}
	*slot = &r->v[r->n++];
	memset(*slot, 0, sizeof(**slot));
	return 0;
}

/*
 * The live objects of an app, found by listing rather than by a GET per
 * object: each kind the app uses (desired and remembered) is listed once
 * per namespace the app uses (its destination, its objects' namespaces and
 * the namespaces of earlier compares), once cluster-wide for cluster-scoped
 * kinds. `items` keeps list order (tracked objects are reported in it);
 * `by_id` finds the live version of a desired object by its formatted id.
 * A no-op resync of an app of N objects in one namespace costs one list
 * instead of N GETs plus an all-namespaces list whose size grows with the
 * whole cluster.
 */
struct live_set {
	json_t *items; /* array of live objects */
	json_t *by_id; /* formatted id -> object (borrowed from items) */
};

/* Compare one desired object against its live version (NULL: missing). */
static int compare_desired(cairn_sync_res *s, uint64_t *dry_runs, const cairn_sync_ctx *ctx,
                           const cairn_sync_request *req, const struct live_set *ls)
{
	json_t *wanted = NULL;
	char idbuf[1024];
	int rc;

	cairn_res_id_format(&s->id, idbuf, sizeof(idbuf));
	s->live = json_incref(json_object_get(ls->by_id, idbuf));
	if ((rc = sync__rollout_hash_keep(s->object, s->live)) < 0)
		return rc;
	rc = predict(&wanted, ctx, s->object, s->live, dry_runs);
	if (rc == CAIRN_ENOTFOUND && s->live == NULL) {
		/* its namespace does not exist yet (CreateNamespace makes it):
		 * a missing object differs whatever the prediction: "would create" */
		cairn_error_clear();
		wanted = json_incref(s->object);
		rc = 0;
	}
	if (rc == 0)
		rc = cairn_sync_diff(&s->diff, wanted, s->live, req->ignore);
	json_decref(wanted);
	if (rc < 0)
		return rc;
	s->synced = s->diff->equal;
	return cairn_health_assess(s->live, &s->health);
}

/*
 * An object the rollout engine interprets, reported but not compared: no
 * REST mapping is asked for (a cluster without Argo Rollouts' CRDs does not
 * know the kind), the namespace is filled in unless the kind is
 * cluster-scoped, so that the caller hands the engine the object as it
 * would have been applied.
 */
static int prepare_rollout(cairn_sync_res *s, const cairn_sync_ctx *ctx,
                           const cairn_sync_request *req, const json_t *obj)
{
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	json_t *meta;

	if (!json_is_object(json_object_get(obj, "metadata")))
		return cairn_error_set(CAIRN_EINVAL, "rendered %s without metadata", kind);
	s->object = json_deep_copy(obj);
	if (s->object == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory copying an object");
	meta = json_object_get(s->object, "metadata");
	if (strcmp(kind, "ClusterAnalysisTemplate") == 0)
		json_object_del(meta, "namespace");
	else if (json_string_value(json_object_get(meta, "namespace")) == NULL)
		json_object_set_new(meta, "namespace", json_string(dest_ns(ctx, req)));
	s->rollout = 1;
	s->synced = 1;
	return cairn_res_id_of(&s->id, s->object, NULL);
}

/* Prepare one desired object; hooks are not compared (they are run, not synced). */
static int add_desired(cairn_sync_result *r, size_t *cap, const cairn_sync_ctx *ctx,
                       const cairn_sync_request *req, const json_t *obj)
{
	cairn_kube_mapping m;
	cairn_sync_res *s;
	int rc = result_push(r, cap, &s);

	if (rc < 0)
		return rc;
	s->desired = 1;
	s->health.none = 1;
	if (req->interpret_rollouts && sync__rollout_kind(obj))
		return prepare_rollout(s, ctx, req, obj);
	rc = prepare_desired(&s->object, &s->id, &m, ctx, req, obj);
	if (rc == 0 && sync__meta_str(s->object, "annotations", SYNC_HOOK_ANNOTATION) != NULL)
		s->synced = 1;
	return rc;
}
/* Add (apiVersion, kind) to the array of pairs `kinds` unless it is there. */
static void kinds_add(json_t *kinds, const char *api, const char *kind)
{
	size_t i;
	json_t *p;

	json_array_foreach(kinds, i, p)
	{
		if (strcmp(json_string_value(json_array_get(p, 0)), api) == 0 &&
		    strcmp(json_string_value(json_array_get(p, 1)), kind) == 0)
			return;
	}
	json_array_append_new(kinds, json_pack("[s,s]", api, kind));
}

/* The kinds to list for tracked objects: the desired set's plus earlier syncs'. */
static json_t *kinds_to_list(const cairn_sync_ctx *ctx, const cairn_sync_request *req)
{
	json_t *kinds = json_array(), *old = NULL, *o, *p;
	char key[CAIRN_STATE_KV_KEY_MAX], *v = NULL;
	size_t i;

	json_array_foreach(req->manifests, i, o)
	{
		const char *api = json_string_value(json_object_get(o, "apiVersion"));
		const char *kind = json_string_value(json_object_get(o, "kind"));

		if (api != NULL && kind != NULL &&
		    !(req->interpret_rollouts && sync__rollout_kind(o)))
			kinds_add(kinds, api, kind);
	}
	if (ctx->state != NULL && sync__kinds_key(key, sizeof(key), req->app, req->env) == 0 &&
	    cairn_state_kv_get(&v, ctx->state, key) == 0)
		old = json_loads(v, 0, NULL);
	cairn_error_clear();
	free(v);
	json_array_foreach(old, i, p)
	{
		const char *api = json_string_value(json_array_get(p, 0));
		const char *kind = json_string_value(json_array_get(p, 1));
		json_t *probe = json_pack("{s:s?, s:s?}", "apiVersion", api, "kind", kind);

		/* a kind applied while the environment said `external` is no
		 * longer listed (so its objects are not pruned) once it says
		 * `internal` */
		if (api != NULL && kind != NULL &&
		    !(req->interpret_rollouts && sync__rollout_kind(probe)))
			kinds_add(kinds, api, kind);
		json_decref(probe);
	}
	json_decref(old);
	return kinds;
}

static int is_desired(const cairn_sync_result *r, size_t ndesired, const cairn_res_id *id)
{
	for (size_t i = 0; i < ndesired; i++)
		if (cairn_res_id_cmp(&r->v[i].id, id) == 0)
			return 1;
	return 0;
}

/* Add the live objects tracked to the app that are not desired. */
static int add_tracked(cairn_sync_result *r, size_t *cap, size_t ndesired,
                       const cairn_sync_ctx *ctx, const cairn_sync_request *req,
                       const struct live_set *ls)
{
	json_t *o;
	size_t i;
	int rc;

	json_array_foreach(ls->items, i, o)
	{
		cairn_res_id id;
		cairn_sync_res *s;

		if (!cairn_track_owned(o, req->app, ctx->track) ||
		    cairn_res_id_of(&id, o, NULL) < 0) {
			cairn_error_clear();
			continue;
		}
		if (is_desired(r, ndesired, &id))
			continue;
		rc = result_push(r, cap, &s);
		if (rc < 0)
			return rc;
		s->id = id;
		s->live = json_incref(o);
		/* hooks and rollout-owned objects are never pruned: they do not
		 * make the app OutOfSync */
		s->synced = sync__meta_str(o, "annotations", SYNC_HOOK_ANNOTATION) != NULL ||
		            sync__rollout_owned(o);
		rc = cairn_health_assess(o, &s->health);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int namespaces_key(char *out, size_t size, const char *app, const char *env)
{
	int n = snprintf(out, size, "sync.namespaces/%s/%s", app, env != NULL ? env : "");

	if (n < 0 || (size_t)n >= size)
		return cairn_error_set(CAIRN_ELIMIT, "app name '%s' too long for a state key", app);
	return 0;
}

/*
 * The namespaces to list namespaced kinds in, as an object used as a set:
 * the destination, the desired objects' namespaces, and those remembered
 * from earlier compares (so an object left behind in a namespace the app
 * no longer uses is still found and pruned). New ones are remembered in the
 * state's key/value table; a state that cannot be written (read-only) only
 * costs that memory.
 */
static json_t *namespaces_to_list(const cairn_sync_ctx *ctx, const cairn_sync_request *req,
                                  const cairn_sync_result *r)
{
	json_t *set = json_object(), *old = NULL, *v;
	char key[CAIRN_STATE_KV_KEY_MAX], *text = NULL;
	const char *ns;
	size_t i, known = 0;

	if (ctx->state != NULL && namespaces_key(key, sizeof(key), req->app, req->env) == 0 &&
	    cairn_state_kv_get(&text, ctx->state, key) == 0)
		old = json_loads(text, 0, NULL);
	cairn_error_clear();
	free(text);
	json_array_foreach(old, i, v)
	{
		if (json_is_string(v))
			json_object_set_new(set, json_string_value(v), json_true());
	}
	known = json_object_size(set);
	json_object_set_new(set, dest_ns(ctx, req), json_true());
	for (i = 0; i < r->n; i++)
		if (r->v[i].id.ns[0] != '\0')
			json_object_set_new(set, r->v[i].id.ns, json_true());
	if (ctx->state != NULL && json_object_size(set) != known) {
		json_t *arr = json_array();

		json_object_foreach(set, ns, v)
		{
			json_array_append_new(arr, json_string(ns));
		}
		text = json_dumps(arr, JSON_COMPACT);
		if (text == NULL || cairn_state_kv_set(ctx->state, key, text) < 0)
			cairn_error_clear();
		free(text);
		json_decref(arr);
	}
	json_decref(old);
	return set;
}

/*
 * Every page of one list into `ls`. A list item may lack apiVersion and
 * kind (a typed list's items do): they are filled in from the mapping. A
 * namespace that does not exist yet lists as empty.
 */
static int list_into(struct live_set *ls, const cairn_sync_ctx *ctx, const cairn_kube_mapping *m,
                     const char *ns)
{
	cairn_kube_list_opts lo = {0};
	char cont[4096] = "", api[200], idbuf[1024];
	int rc = 0;

	snprintf(api, sizeof(api), "%s%s%s", m->group, m->group[0] ? "/" : "", m->version);
	lo.all_namespaces = ns == NULL;
	lo.limit = 500;
	do {
		json_t *l = NULL, *o;
		const char *c;
		size_t i;

		lo.continue_ = cont[0] ? cont : NULL;
		rc = cairn_kube_list(ctx->kube, m, ns, &lo, &l);
		if (rc == CAIRN_ENOTFOUND && ns != NULL) {
			cairn_error_clear();
			return 0;
		}
		json_array_foreach(json_object_get(l, "items"), i, o)
		{
			cairn_res_id id;

			if (!json_is_string(json_object_get(o, "apiVersion")))
				json_object_set_new(o, "apiVersion", json_string(api));
			if (!json_is_string(json_object_get(o, "kind")))
				json_object_set_new(o, "kind", json_string(m->kind));
			if (cairn_res_id_of(&id, o, NULL) < 0) {
				cairn_error_clear();
				continue;
			}
			cairn_res_id_format(&id, idbuf, sizeof(idbuf));
			json_array_append(ls->items, o);
			json_object_set(ls->by_id, idbuf, o);
		}
		c = json_string_value(json_object_get(json_object_get(l, "metadata"), "continue"));
		snprintf(cont, sizeof(cont), "%s", c != NULL ? c : "");
		json_decref(l);
	} while (rc == 0 && cont[0] != '\0');
	return rc;
}

/* List every kind of `kinds`: namespaced ones in each namespace of `nss`. */
static int list_live(struct live_set *ls, const cairn_sync_ctx *ctx, const json_t *kinds,
                     const json_t *nss)
{
	const char *ns;
	json_t *p, *v;
	size_t i;

	json_array_foreach(kinds, i, p)
	{
		cairn_kube_mapping m;
		int rc = cairn_kube_mapping_for(ctx->kube, json_string_value(json_array_get(p, 0)),
		                                json_string_value(json_array_get(p, 1)), &m);

		if (rc == CAIRN_ENOTFOUND) { /* a kind of an earlier sync that is gone */
			cairn_error_clear();
			continue;
		}
		if (rc == 0 && !m.namespaced)
			rc = list_into(ls, ctx, &m, NULL);
		json_object_foreach((json_t *)nss, ns, v)
		{
			if (rc < 0 || !m.namespaced)
				break;
			rc = list_into(ls, ctx, &m, ns);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

int cairn_sync_compare_app(cairn_sync_result **out, const cairn_sync_ctx *ctx,
                           const cairn_sync_request *req)
{
	cairn_sync_result *r = calloc(1, sizeof(*r));
	struct live_set ls = {json_array(), json_object()};
	json_t *kinds = NULL, *nss = NULL, *o;
	size_t cap = 0, i, ndesired;
	int rc = 0;

	if (r == NULL || ls.items == NULL || ls.by_id == NULL) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory comparing an app");
		goto out;
	}
	if (ctx->kube == NULL || req->app == NULL || !json_is_array(req->manifests)) {
		rc = cairn_error_set(CAIRN_EINVAL, "compare needs a kube client, an app name "
		                                   "and an array of manifests");
		goto out;
	}
	json_array_foreach(req->manifests, i, o)
	{
		rc = add_desired(r, &cap, ctx, req, o);
		if (rc < 0) {
			cairn_error_prefix("object %zu of app '%s': ", i, req->app);
			goto out;
		}
	}
	ndesired = r->n;
	kinds = kinds_to_list(ctx, req);
	nss = namespaces_to_list(ctx, req, r);
	if ((rc = list_live(&ls, ctx, kinds, nss)) < 0)
		goto out;
	for (i = 0; i < ndesired; i++) {
		if (r->v[i].rollout ||
		    sync__meta_str(r->v[i].object, "annotations", SYNC_HOOK_ANNOTATION) != NULL)
			continue;
		rc = compare_desired(&r->v[i], &r->dry_runs, ctx, req, &ls);
		if (rc < 0) {
			cairn_error_prefix("object %zu of app '%s': ", i, req->app);
			goto out;
		}
	}
	if ((rc = add_tracked(r, &cap, ndesired, ctx, req, &ls)) < 0)
		goto out;
	r->synced = 1;
	r->health.none = 1;
	for (i = 0; i < r->n; i++) {
		r->synced &= r->v[i].synced;
		cairn_health_aggregate(&r->health, &r->v[i].health);
	}
	if (r->health.none) {
		r->health.none = 0;
		r->health.status = CAIRN_HEALTH_HEALTHY;
	}
out:
	json_decref(kinds);
	json_decref(nss);
	json_decref(ls.items);
	json_decref(ls.by_id);
	if (rc < 0) {
		cairn_sync_result_free(r);
		return rc;
	}
	*out = r;
	return 0;
}
