/*
 * pipeline.c - the one entry point that renders an Application's source in
 * an Environment: build (native kustomize, plain directory or plugin), then
 * substitution, then the environment's overrides, then the render hash.
 * Every stage is a function from values to a new value: the daemon and
 * `cairn render` call the same code and get the same bytes.
 */
#include <string.h>

#include "cairn/error.h"
#include "cairn/render.h"
#include "prov_private.h"
#include "render_private.h"

/* The first stage: the source as objects, before any environment input. */
static int build_source(json_t **out, cairn_tree *t, const cairn_render_opts *o, const char *dir)
{
	int rc;

	if (o->refuse)
		return cairn_error_set(
		        CAIRN_EUNSUPPORTED,
		        "%s cannot be rendered: no renderer plugin is configured for it "
		        "(see 'plugins' in docs/config.md)",
		        o->refuse);
	if (t == NULL)
		return cairn_error_set(CAIRN_EINVAL, "no source tree to render");
	if (o->plugin)
		return cairn_render_plugin_run(out, t, dir, o->plugin, o->plugin_params, o->app);
	rc = cairn_render_is_kustomization(t, dir);
	if (rc < 0)
		return rc;
	if (rc > 0)
		return kustomize__build(out, t, dir, o->prov);
	{
		cairn_render_dir_opts d = CAIRN_RENDER_DIR_OPTS_INIT;

		d.recurse = o->recursive;
		d.include = o->include;
		d.exclude = o->exclude;
		return cairn_render_directory_opts(out, t, dir, &d);
	}
}

/* When recording, the records of the objects of `in` go to their copies. */
static int rekey_copies(cairn_render_prov *p, const json_t *in, const rset *s)
{
	json_t *to;
	int rc;

	if (p == NULL)
		return 0;
	if ((to = json_array()) == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	for (size_t i = 0; i < s->n; i++)
		json_array_append(to, s->v[i].obj);
	rc = prov__rekey(p, in, to);
	json_decref(to);
	return rc;
}

/*
 * The environment's overrides, applied to deep copies so that `in` (which
 * may share objects with the source stage) is never changed: images and
 * replicas through the kustomize transformers (same semantics as the
 * kustomization fields of the same names), then the namespace for
 * namespaced objects that have none, as Argo CD's destination namespace.
 */
static int overrides(json_t **out, const json_t *in, const cairn_render_opts *o)
{
	const char *what = "the environment's overrides";
	cairn_render_prov *p = o->prov;
	prov_snap snap = {0};
	rset s = {0};
	json_t *res = NULL, *obj;
	size_t i;
	int rc = 0;

	json_array_foreach(in, i, obj)
	{
		json_t *copy = json_deep_copy(obj);

		if (copy == NULL) {
			rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
			goto out;
		}
		rc = rset_add(&s, copy, what);
		json_decref(copy);
		if (rc < 0)
			goto out;
	}
	/* the copies take over the records of the objects they copy */
	if ((rc = rekey_copies(p, in, &s)) < 0)
		goto out;
	if (o->images && ((rc = prov__snap_rset(&snap, p, &s)) < 0 ||
	                  (rc = tf_images(&s, o->images, what)) < 0 ||
	                  (rc = prov__commit_rset(&snap, p, &s, CAIRN_ORIGIN_ENV_OVERRIDES, NULL,
	                                          "images")) < 0))
		goto out;
	if (o->replicas && ((rc = prov__snap_rset(&snap, p, &s)) < 0 ||
	                    (rc = tf_replicas(&s, o->replicas, what)) < 0 ||
	                    (rc = prov__commit_rset(&snap, p, &s, CAIRN_ORIGIN_ENV_OVERRIDES, NULL,
	                                            "replicas")) < 0))
		goto out;
	if ((rc = prov__snap_rset(&snap, p, &s)) < 0)
		goto out;
	if ((res = json_array()) == NULL) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < s.n; i++) {
		json_t *md = json_object_get(s.v[i].obj, "metadata");
		const char *kind = res_str(s.v[i].obj, "kind", NULL);

		if (o->namespace_ && *o->namespace_ && json_is_object(md) &&
		    !json_is_string(json_object_get(md, "namespace")) && kind &&
		    !kind_cluster_scoped(kind) &&
		    json_object_set_new(md, "namespace", json_string(o->namespace_)) < 0) {
			rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
			goto out;
		}
		if (json_array_append(res, s.v[i].obj) < 0) {
			rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
			goto out;
		}
	}
	if ((rc = prov__commit_array(&snap, p, res, CAIRN_ORIGIN_ENV_OVERRIDES, NULL,
	                             "namespace")) < 0)
		goto out;
	*out = res;
	res = NULL;
out:
	prov__snap_dispose(&snap);
	json_decref(res);
	rset_dispose(&s);
	return rc;
}

int cairn_render_build(json_t **out, char hash[65], cairn_tree *t, const cairn_render_opts *opts)
{
	static const cairn_render_opts defaults = CAIRN_RENDER_OPTS_INIT;
	const cairn_render_opts *o = opts ? opts : &defaults;
	const char *dir = o->path && *o->path ? o->path : "";
	json_t *built = NULL, *subst = NULL, *final = NULL;
	char hex[65];
	int rc;

	if (o->version != CAIRN_RENDER_OPTS_VERSION)
		return cairn_error_set(CAIRN_EINVAL, "render options version %u is not %d",
		                       o->version, CAIRN_RENDER_OPTS_VERSION);
	if ((rc = build_source(&built, t, o, dir)) < 0)
		goto out;
	if (o->no_subst) {
		subst = json_incref(built);
	} else {
		prov_snap snap;
		if ((rc = prov__snap_array(&snap, o->prov, built)) < 0)
			goto out;
		if ((rc = cairn_render_subst(&subst, built, o->vars, o->subst_flags)) < 0) {
			prov__snap_dispose(&snap);
			goto out;
		}
		if ((rc = prov__commit_stage(&snap, o->prov, subst, CAIRN_ORIGIN_ENV_VARS, NULL)) <
		    0)
			goto out;
	}
	if (o->images || o->replicas || (o->namespace_ && *o->namespace_)) {
		if ((rc = overrides(&final, subst, o)) < 0)
			goto out;
	} else {
		final = json_incref(subst);
	}
	if (hash && (rc = cairn_render_hash(hex, final)) < 0)
		goto out;
	if (hash)
		memcpy(hash, hex, sizeof(hex));
	*out = final;
	final = NULL;
out:
	json_decref(built);
	json_decref(subst);
	json_decref(final);
	return rc;
}
