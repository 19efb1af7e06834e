/*
 * source.c - render an Application in its Environment: the one place that
 * turns an Application's sources, its Environment and Cairn's
 * configuration into render options (cairn/render.h) and a manifest set.
 *
 * `cairn render APP`, `cairn app sync`, `cairn env diff` and the daemon all
 * render through cairn_sync_render_app(), so they agree on what an app is.
 * The render module itself knows nothing of Applications (DESIGN §2: it
 * sits below `app`); this file sits above both.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn/app.h"
#include "cairn/config.h"
#include "cairn/error.h"
#include "cairn/render.h"
#include "cairn/source.h"
#include "cairn/sync.h"
#include "cairn/util.h"

/* The plugin named `name` in the configuration, or NULL. */
static const cairn_config_plugin *find_plugin(const cairn_config *cfg, const char *name)
{
	for (size_t i = 0; cfg && name && i < cfg->plugin_count; i++)
		if (strcmp(cfg->plugins[i].name, name) == 0)
			return &cfg->plugins[i];
	return NULL;
}

/* `spec.source` or `spec.sources[i]` of the manifest (borrowed). */
static const json_t *source_json(const cairn_app *app, size_t i)
{
	const json_t *spec = json_object_get(app->manifest, "spec");

	if (app->multi_source)
		return json_array_get(json_object_get(spec, "sources"), i);
	return json_object_get(spec, "source");
}

/* The tree of `url` at `revision` (commit into `oid`), or the local root. */
static int open_tree(cairn_tree **out, char oid[CAIRN_SOURCE_OID_HEX_LEN],
                     const cairn_app_render_opts *o, const char *url, const char *revision)
{
	cairn_source_repo *repo = NULL;
	int rc;

	oid[0] = '\0';
	if (o->repo_root)
		return cairn_tree_open_dir(out, o->repo_root);
	if (o->git == NULL)
		return cairn_error_set(CAIRN_EINVAL, "no git mirrors to read '%s' from", url);
	if ((rc = cairn_app_git_resolve(oid, o->git, url, revision)) < 0 ||
	    (rc = cairn_app_git_repo(&repo, o->git, url)) < 0)
		return rc;
	return cairn_tree_open_git(out, repo, oid);
}

/* The plugin parameters of a source: its `plugin.env` entries. */
static json_t *plugin_params(const json_t *sj)
{
	json_t *params = json_object(), *e;
	size_t k;

	json_array_foreach(json_object_get(json_object_get(sj, "plugin"), "env"), k, e)
	{
		const char *name = json_string_value(json_object_get(e, "name"));
		if (params && name)
			json_object_set(params, name, json_object_get(e, "value"));
	}
	return params;
}

/* Everything one source's render borrows, released together. */
struct one_source {
	cairn_render_opts ro;
	cairn_render_plugin plug;
	const char **argv;
	json_t *params;
	cairn_tree *t;
	char refuse[600];
	char empty[PATH_MAX];
	int made_empty;
};

static void one_source_dispose(struct one_source *s)
{
	json_decref(s->params);
	cairn_tree_free(s->t);
	if (s->made_empty)
		rmdir(s->empty);
	free(s->argv);
}

/*
 * Choose how source `i` is rendered: a Helm source goes to the plugin named
 * "helm" (refused with a message when none is configured), a source naming
 * `plugin.name` to that plugin, anything else natively.
 */
static int plan_source(struct one_source *s, const cairn_app_render_opts *o, const cairn_app *app,
                       size_t i)
{
	const cairn_app_source *src = &app->sources[i];
	const json_t *sj = source_json(app, i);
	const char *pname =
	        json_string_value(json_object_get(json_object_get(sj, "plugin"), "name"));
	const cairn_config_plugin *cp;

	if ((s->params = plugin_params(sj)) == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	if (src->chart || json_object_get(sj, "helm")) {
		pname = "helm";
		snprintf(s->refuse, sizeof(s->refuse), "Helm source '%s' of application '%s'",
		         src->chart ? src->chart : (src->path ? src->path : src->repo_url),
		         app->name);
		s->ro.refuse = s->refuse;
	}
	cp = find_plugin(o->cfg, pname);
	if (pname && cp == NULL && s->ro.refuse == NULL)
		return cairn_error_set(CAIRN_ENOTFOUND,
		                       "plugin '%s' of application '%s' is not configured", pname,
		                       app->name);
	if (cp == NULL)
		return 0;
	if ((s->argv = calloc(cp->command_count + 1, sizeof(*s->argv))) == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	for (size_t k = 0; k < cp->command_count; k++)
		s->argv[k] = cp->command[k];
	s->plug.name = cp->name;
	s->plug.command = s->argv;
	s->plug.timeout_ms = cp->timeout_ms;
	s->ro.plugin = &s->plug;
	s->ro.plugin_params = s->params;
	s->ro.refuse = NULL;
	return 0;
}

/* Render source `i` of `app` into a new array `out`; its commit into `oid`. */
static int render_source(json_t **out, char oid[CAIRN_SOURCE_OID_HEX_LEN],
                         const cairn_app_render_opts *o, const cairn_app *app, size_t i,
                         const cairn_env *env, const json_t *vars)
{
	const cairn_app_source *src = &app->sources[i];
	const json_t *spec = env ? json_object_get(env->manifest, "spec") : NULL;
	struct one_source s = {.ro = CAIRN_RENDER_OPTS_INIT};
	int rc;

	oid[0] = '\0';
	if ((rc = plan_source(&s, o, app, i)) < 0)
		goto out;
	s.ro.path = src->path;
	s.ro.recursive = src->directory_recurse;
	s.ro.include = src->directory_include;
	s.ro.exclude = src->directory_exclude;
	s.ro.app = app->name;
	s.ro.vars = vars;
	s.ro.subst_flags = o->subst_flags;
	s.ro.images = json_object_get(spec, "images");
	s.ro.replicas = json_object_get(spec, "replicas");
	s.ro.namespace_ =
	        app->dest_namespace ? app->dest_namespace : (env ? env->default_namespace : NULL);
	s.ro.prov = o->prov;
	if (s.ro.refuse) {
		rc = cairn_render_build(out, NULL, NULL, &s.ro);
		goto out;
	}
	if (src->chart) {
		/* A chart from a Helm repository: no git tree; the plugin gets
		 * the chart's coordinates as parameters and an empty directory. */
		json_object_set_new(s.params, "CHART", json_string(src->chart));
		json_object_set_new(s.params, "REPO_URL", json_string(src->repo_url));
		json_object_set_new(s.params, "VERSION", json_string(src->target_revision));
		s.ro.path = NULL;
		if ((rc = cairn_tempdir_make(s.empty, sizeof(s.empty), "cairn-chart")) < 0)
			goto out;
		s.made_empty = 1;
		rc = cairn_tree_open_dir(&s.t, s.empty);
	} else {
		rc = open_tree(&s.t, oid, o, src->repo_url, src->target_revision);
	}
	if (rc == 0)
		rc = cairn_render_build(out, NULL, s.t, &s.ro);
out:
	one_source_dispose(&s);
	return rc;
}

/* Append ",oid" (or "oid") to the revision list, bounded. */
static void add_revision(cairn_app_render_result *r, const char *oid)
{
	size_t len = strlen(r->revision);

	if (oid[0] == '\0')
		return;
	snprintf(r->revision + len, sizeof(r->revision) - len, "%s%s", len ? "," : "", oid);
}

int cairn_sync_render_app(cairn_app_render_result *out, const cairn_app_render_opts *o,
                          const cairn_app *app, const cairn_env *env)
{
	cairn_app_render_result r;
	json_t *vars = NULL;
	int rc = 0;

	memset(&r, 0, sizeof(r));
	if (o == NULL || app == NULL)
		return cairn_error_set(CAIRN_EINVAL, "nothing to render");
	if ((r.objs = json_array()) == NULL ||
	    (vars = cairn_sync_app_vars(app, env, o->vars, o->prov)) == NULL) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; rc == 0 && i < app->source_count; i++) {
		const cairn_app_source *s = &app->sources[i];
		char oid[CAIRN_SOURCE_OID_HEX_LEN];
		json_t *objs = NULL;

		/* a `ref` source only lends files to the others (multi-source values) */
		if (s->ref && !s->path && !s->chart)
			continue;
		rc = render_source(&objs, oid, o, app, i, env, vars);
		if (rc == 0 && json_array_extend(r.objs, objs) < 0)
			rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		if (rc == 0)
			add_revision(&r, oid);
		json_decref(objs);
	}
	if (rc == 0)
		rc = cairn_render_hash(r.hash, r.objs);
	if (rc < 0) {
		if (env)
			cairn_error_prefix("application '%s' in environment '%s': ", app->name,
			                   env->name);
		else
			cairn_error_prefix("application '%s': ", app->name);
		goto out;
	}
	*out = r;
	r.objs = NULL;
out:
	json_decref(r.objs);
	json_decref(vars);
	return rc;
}

void cairn_app_render_result_dispose(cairn_app_render_result *r)
{
	if (r == NULL)
		return;
	json_decref(r->objs);
	r->objs = NULL;
}
