/*
 * cmd_env_diff.c - `cairn env diff GROUP ENV_A ENV_B`: the environment-
 * consistency view. The group's Application in each environment is
 * rendered at its own resolved revision through the shared Application
 * renderer (cairn_sync_render_app()) with a provenance recorder; the
 * objects are matched by group/kind/name (or, when an environment renames
 * them, by the name with each side's declared namePrefix/nameSuffix taken
 * off) and every differing path is labelled with where each side's value
 * came from, so a reader sees at a glance which differences the
 * environments declare (variables, overrides, their own overlay files) and
 * which nobody declared (a shared file at another commit, or nothing at
 * all). With --live each environment's set is also compared with its own
 * cluster as `cairn app diff` does (drift). Built into cairn-git only.
 * See docs/environments.md.
 */
#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "cairn/app.h"
#include "cairn/audit.h"
#include "cairn/config.h"
#include "cairn/error.h"
#include "cairn/kube.h"
#include "cairn/source.h"
#include "cairn/state.h"
#include "cairn/render.h"
#include "cairn/sync.h"
#include "cairn/yaml.h"
#include "cli.h"

#define RED "\033[31m"
#define GREEN "\033[32m"
#define YELLOW "\033[33m"
#define BOLD "\033[1m"
#define DIM "\033[2m"
#define RESET "\033[0m"

struct diff_args {
	const char *group, *env[2];
	const char *config, *apps, *environments, *state_dir;
	int json, color, live, no_fetch, lenient;
};

/* One environment's side: its Application, revision and rendered set. */
struct side {
	const cairn_app *app;
	const cairn_env *env;
	char oid[168]; /* the sources' commits, ','-joined */
	json_t *objs;
	cairn_render_prov *prov;
	cairn_tree *tree;        /* the first git source at its commit (renames) */
	cairn_kube_client *kube; /* --live: the environment's cluster */
	cairn_ignore *ignore;    /* --live: the Application's ignoreDifferences */
	cairn_sync_result *live; /* --live: desired vs live */
	size_t drifted;          /* --live: objects out of sync, missing or extra */
};

struct ctx {
	cairn_config cfg;
	char *state_dir;
	cairn_app_git *git;
	cairn_app_set *set;
	cairn_env_set *envs;
	struct side s[2];
	json_t *must;       /* array of JSON pointers from both consistency.mustMatch */
	cairn_state *state; /* --live: dry-run cache and the kinds of earlier syncs */
	/* the declared namePrefix/nameSuffix of each side of a renamed pair */
	int renamed;
	char pre[2][254], suf[2][254];
	size_t objects, differ, undeclared, violations;
};

static void diff_usage(FILE *out)
{
	fprintf(out,
	        "usage: cairn env diff GROUP ENV_A ENV_B [--live] [-o json] "
	        "[--color auto|always|never]\n\n"
	        "Render app group GROUP for two environments (each at its own revision) and show,\n"
	        "object by object, what differs, each differing path labelled with where it\n"
	        "comes from in each environment. Exit 0 when every difference is declared,\n"
	        "1 when one is not or a consistency.mustMatch path differs, 2 on error.\n\n"
	        "options:\n"
	        "  --color WHEN         auto (default: on a terminal), always or never\n"
	        "  -o, --output json    JSON instead of text\n"
	        "  --live               also compare each environment's live objects with its\n"
	        "                       desired state (its spec.cluster); drift exits 1\n"
	        "  --lenient            an undefined ${var} becomes ''\n"
	        "  --config FILE        cairn.yaml (default $CAIRN_CONFIG)\n"
	        "  --apps PATH          Application definitions instead of the config's\n"
	        "  --environments PATH  Environment definitions\n"
	        "  --no-fetch           use the mirrors as they are\n"
	        "  --state-dir DIR      the state directory (mirrors)\n"
	        "  -h, --help           show this help\n");
}

static void ctx_dispose(struct ctx *c)
{
	for (int i = 0; i < 2; i++) {
		json_decref(c->s[i].objs);
		cairn_render_prov_free(c->s[i].prov);
		cairn_tree_free(c->s[i].tree);
		cairn_sync_result_free(c->s[i].live);
		cairn_ignore_free(c->s[i].ignore);
		cairn_kube_client_free(c->s[i].kube);
	}
	cairn_state_close(c->state);
	json_decref(c->must);
	cairn_app_set_free(c->set);
	cairn_env_set_free(c->envs);
	cairn_app_git_free(c->git);
	cairn_config_dispose(&c->cfg);
	free(c->state_dir);
}

/* Config, mirrors, Applications bound to Environments (as cairn render). */
static int load(struct ctx *c, const struct diff_args *a)
{
	cairn_app_load_opts lo = CAIRN_APP_LOAD_OPTS_INIT;
	cairn_app_reader reader;
	const char *cfg = a->config ? a->config : getenv("CAIRN_CONFIG");
	const char *sd = a->state_dir, *envp = a->environments;
	int rc;

	if (cfg && (rc = cairn_config_load(&c->cfg, cfg)) < 0)
		return rc;
	if (!sd && !getenv("CAIRN_STATE_DIR") && c->cfg.audit.state_dir)
		sd = c->cfg.audit.state_dir;
	if ((rc = cairn_audit_state_dir(&c->state_dir, sd)) < 0 ||
	    (rc = cairn_app_git_new(&c->git, c->state_dir, cfg ? &c->cfg : NULL, a->no_fetch)) < 0)
		return rc;
	if (envp == NULL)
		envp = c->cfg.environments_dir;
	if (envp == NULL)
		return cairn_error_set(CAIRN_EINVAL, "give --environments PATH or --config FILE");
	if ((rc = cairn_env_set_load(&c->envs, envp)) < 0)
		return rc;
	if (!a->apps && !cfg)
		return cairn_error_set(CAIRN_EINVAL, "give --apps PATH or --config FILE");
	reader = cairn_app_reader_git(c->git);
	lo.reader = &reader;
	if ((rc = cairn_app_set_new(&c->set)) < 0)
		return rc;
	if (a->apps)
		rc = cairn_app_set_load(c->set, a->apps, &lo);
	for (size_t i = 0; rc == 0 && !a->apps && i < c->cfg.apps_count; i++) {
		const cairn_config_apps *x = &c->cfg.apps[i];
		rc = x->repo_url ? cairn_app_set_load_git(c->set, c->git, x->repo_url, x->revision,
		                                          x->path, &lo)
		                 : cairn_app_set_load(c->set, x->path, &lo);
	}
	if (rc == 0)
		rc = cairn_app_set_check(c->set);
	return rc < 0 ? rc : cairn_app_set_bind(c->set, c->envs);
}

/* The one Application of the group bound to `env`. */
static int find_member(const cairn_app **out, const cairn_app_set *set, const char *group,
                       const char *env)
{
	const cairn_app *found = NULL;

	for (size_t i = 0; i < cairn_app_set_count(set); i++) {
		const cairn_app *x = cairn_app_set_at(set, i);
		if (!x->group || strcmp(x->group, group) || !x->environment ||
		    strcmp(x->environment, env))
			continue;
		if (found)
			return cairn_error_set(CAIRN_EINVAL,
			                       "app group '%s' has several applications in "
			                       "environment '%s': '%s' and '%s'",
			                       group, env, found->name, x->name);
		found = x;
	}
	if (found == NULL)
		return cairn_error_set(CAIRN_ENOTFOUND,
		                       "app group '%s' has no application in environment '%s'",
		                       group, env);
	*out = found;
	return 0;
}

/*
 * Render side `s` through the one shared Application renderer (the same
 * pipeline `cairn render` and sync use) with a provenance recorder, so
 * every path of the result can be traced to the input that set it.
 */
static int render_side(struct ctx *c, struct side *s, const struct diff_args *a)
{
	cairn_app_render_opts o = {0};
	cairn_app_render_result r;
	int rc;

	if ((rc = cairn_render_prov_new(&s->prov)) < 0)
		return rc;
	o.cfg = &c->cfg;
	o.git = c->git;
	o.subst_flags = a->lenient ? CAIRN_RENDER_SUBST_LENIENT : 0;
	o.prov = s->prov;
	if ((rc = cairn_sync_render_app(&r, &o, s->app, s->env)) < 0)
		return rc;
	s->objs = r.objs;
	snprintf(s->oid, sizeof(s->oid), "%s", r.revision);
	return 0;
}

/* "spec.template.spec.securityContext" -> "/spec/template/spec/securityContext". */
static json_t *pointer_of(const char *dotted)
{
	char p[1024];
	size_t o = 0;

	if (dotted[0] == '/')
		return json_string(dotted);
	p[o++] = '/';
	for (; *dotted && o + 3 < sizeof(p); dotted++) {
		if (*dotted == '.')
			p[o++] = '/';
		else if (*dotted == '/') {
			memcpy(p + o, "~1", 2);
			o += 2;
		} else if (*dotted == '~') {
			memcpy(p + o, "~0", 2);
			o += 2;
		} else
			p[o++] = *dotted;
	}
	p[o] = '\0';
	return json_string(p);
}

static int must_load(struct ctx *c)
{
	size_t i;
	json_t *x;

	if ((c->must = json_array()) == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	for (int k = 0; k < 2; k++) {
		const json_t *list = json_object_get(
		        json_object_get(json_object_get(c->s[k].env->manifest, "spec"),
		                        "consistency"),
		        "mustMatch");
		json_array_foreach((json_t *)list, i, x)
		{
			if (json_is_string(x))
				json_array_append_new(c->must, pointer_of(json_string_value(x)));
		}
	}
	return 0;
}

static int related(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b), n = na < nb ? na : nb;

	return strncmp(a, b, n) == 0 && (a[n] == '\0' || a[n] == '/') &&
	       (b[n] == '\0' || b[n] == '/');
}

/* The mustMatch pointer `path` falls under (or contains), or NULL. */
static const char *must_hit(const struct ctx *c, const char *path)
{
	size_t i;
	json_t *x;

	json_array_foreach(c->must, i, x)
	{
		if (related(json_string_value(x), path))
			return json_string_value(x);
	}
	return NULL;
}

/* Whether tree path `file` lies under `dir` (a source path). */
static int under_dir(const char *file, const char *dir)
{
	size_t n;

	if (file == NULL || dir == NULL || !dir[0])
		return 0;
	n = strlen(dir);
	while (n > 0 && dir[n - 1] == '/')
		n--;
	return n > 0 && strncmp(file, dir, n) == 0 && file[n] == '/';
}

/*
 * Whether tree path `file` lies in a source path of side `s`'s app that
 * the other side's app does not also render (a shared base is nobody's
 * own overlay).
 */
static int own_file(const struct side *s, const struct side *other, const char *file)
{
	for (size_t i = 0; i < s->app->source_count; i++) {
		const char *dir = s->app->sources[i].path;
		int shared = 0;

		if (!under_dir(file, dir))
			continue;
		for (size_t k = 0; k < other->app->source_count; k++) {
			const char *odir = other->app->sources[k].path;
			if (odir && strcmp(dir, odir) == 0)
				shared = 1;
		}
		if (!shared)
			return 1;
	}
	return 0;
}

/* "variables TAG (environment 'dev')" etc. into `out`. */
static void origin_text(char *out, size_t size, const cairn_render_origin *o, const struct side *s)
{
	const char *k = cairn_render_origin_kind_name(o->kind);

	switch (o->kind) {
	case CAIRN_ORIGIN_ENV_VARS:
	case CAIRN_ORIGIN_ENV_OVERRIDES:
		snprintf(out, size, "environment '%s' %s", s->env->name, o->detail ? o->detail : k);
		break;
	case CAIRN_ORIGIN_APP:
		snprintf(out, size, "application '%s' %s", s->app->name,
		         o->detail ? o->detail : "");
		break;
	case CAIRN_ORIGIN_NONE:
		snprintf(out, size, "nothing declared");
		break;
	default:
		snprintf(out, size, "%s%s%s%s", o->file ? o->file : "(render)",
		         o->detail ? " (" : "", o->detail ? o->detail : "", o->detail ? ")" : "");
	}
}

static int env_declared(const cairn_render_origin *o)
{
	return o->kind == CAIRN_ORIGIN_ENV_VARS || o->kind == CAIRN_ORIGIN_ENV_OVERRIDES ||
	       o->kind == CAIRN_ORIGIN_APP;
}

/* The kustomize stage that rewrites references to renamed objects. */
#define NAME_REFS "name references"
/* The kustomize transformer that renames objects (provenance detail). */
#define NAME_AFFIX "namePrefix/nameSuffix"
/* Most bytes of a kustomization read to learn its declared affixes. */
#define KUSTOMIZATION_MAX (1u << 20)

/* "overlays/dev/kustomization.yaml (namePrefix 'dev-')" into `out`. */
static void affix_text(char *out, size_t size, const char *file, const char *pre, const char *suf)
{
	snprintf(out, size, "%s (%s%s%s%s%s%s%s)", file, pre[0] ? "namePrefix '" : "", pre,
	         pre[0] ? "'" : "", pre[0] && suf[0] ? ", " : "", suf[0] ? "nameSuffix '" : "", suf,
	         suf[0] ? "'" : "");
}

/*
 * Label one differing path: declared when either side's value came from
 * its environment (variables, overrides), its Application, or a file of
 * its own overlay; otherwise a shared input, which differs only because
 * the environments run different commits ("source revision"), or, at the
 * same commit, has no declared origin at all.
 */
static json_t *label_path(struct ctx *c, const json_t *oa, const json_t *ob, const char *path)
{
	cairn_render_origin o[2] = {{CAIRN_ORIGIN_NONE, NULL, NULL},
	                            {CAIRN_ORIGIN_NONE, NULL, NULL}};
	const json_t *obj[2] = {oa, ob};
	char text[2][600], why[200];
	int declared = 0;
	const char *must = must_hit(c, path);

	for (int k = 0; k < 2; k++) {
		if (obj[k])
			cairn_render_prov_find(&o[k], c->s[k].prov, obj[k], path);
		origin_text(text[k], sizeof(text[k]), &o[k], &c->s[k]);
		if (c->renamed && strcmp(path, "/metadata/name") == 0 && o[k].file &&
		    (c->pre[k][0] || c->suf[k][0]))
			affix_text(text[k], sizeof(text[k]), o[k].file, c->pre[k], c->suf[k]);
		if (env_declared(&o[k]) || own_file(&c->s[k], &c->s[1 - k], o[k].file))
			declared = 1;
		/* a reference rewritten to a renamed object's name follows that
		 * object, whose own name difference is labelled where it is */
		if (o[k].kind == CAIRN_ORIGIN_TRANSFORMER && o[k].file == NULL && o[k].detail &&
		    strcmp(o[k].detail, NAME_REFS) == 0) {
			snprintf(text[k], sizeof(text[k]),
			         "%s (follows the referenced object's name)", NAME_REFS);
			declared = 1;
		}
	}
	if (declared)
		snprintf(why, sizeof(why), "declared");
	else if (strcmp(c->s[0].oid, c->s[1].oid) != 0)
		snprintf(why, sizeof(why), "source revision differs (%.7s vs %.7s)", c->s[0].oid,
		         c->s[1].oid);
	else
		snprintf(why, sizeof(why), "nothing declared");
	if (!declared)
		c->undeclared++;
	if (must)
		c->violations++;
	return json_pack("{s:s, s:s, s:s, s:b, s:s, s:s?}", "path", path[0] ? path : "/", "a",
	                 text[0], "b", text[1], "declared", declared, "label", why, "mustMatch",
	                 must);
}

/* "group/Kind/name": the identity objects are matched by. */
static void ident(char *out, size_t size, const json_t *o)
{
	const char *av = json_string_value(json_object_get(o, "apiVersion"));
	const char *slash = av ? strchr(av, '/') : NULL;

	snprintf(out, size, "%.*s/%s/%s", slash ? (int)(slash - av) : 0, slash ? av : "",
	         json_string_value(json_object_get(o, "kind")),
	         json_string_value(json_object_get(json_object_get(o, "metadata"), "name")));
}

static const json_t *find_ident(const json_t *objs, const char *id)
{
	size_t i;
	json_t *o;
	char x[1024];

	json_array_foreach(objs, i, o)
	{
		ident(x, sizeof(x), o);
		if (strcmp(x, id) == 0)
			return o;
	}
	return NULL;
}

static void print_labels(const struct ctx *c, const json_t *paths, int color)
{
	size_t i;
	json_t *p;

	json_array_foreach(paths, i, p)
	{
		int decl = json_is_true(json_object_get(p, "declared"));
		const char *must = json_string_value(json_object_get(p, "mustMatch"));
		printf("  %s%s%s\n", color ? BOLD : "",
		       json_string_value(json_object_get(p, "path")), color ? RESET : "");
		printf("      %-10s %s\n      %-10s %s\n", c->s[0].env->name,
		       json_string_value(json_object_get(p, "a")), c->s[1].env->name,
		       json_string_value(json_object_get(p, "b")));
		printf("      %s%s%s\n", color ? (decl ? GREEN : RED) : "",
		       decl ? "declared" : json_string_value(json_object_get(p, "label")),
		       color ? RESET : "");
		if (must)
			printf("      %smust match (consistency.mustMatch '%s')%s\n",
			       color ? YELLOW : "", must, color ? RESET : "");
	}
}

/* The sync diff's text with its "live"/"desired" file lines naming the two
 * environments instead (A is the "-" side, B the "+" side). */
static void print_unified(const cairn_buf *out, const struct ctx *c)
{
	const char *p = out->ptr ? out->ptr : "", *end = p + out->len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		const char *s = strstr(p, "--- live"), *t = strstr(p, "+++ desired");
		if (s && s < p + n)
			printf("%.*s--- %s%s\n", (int)(s - p), p, c->s[0].env->name,
			       s > p ? RESET : "");
		else if (t && t < p + n)
			printf("%.*s+++ %s%s\n", (int)(t - p), p, c->s[1].env->name,
			       t > p ? RESET : "");
		else
			fwrite(p, 1, n, stdout);
		p += n;
	}
}

/* Compare one object (either side may be NULL); prints unless `json`. */
static int compare_one(json_t *report, struct ctx *c, const char *id, const char *idb,
                       const json_t *oa, const json_t *ob, const struct diff_args *a)
{
	json_t *paths = NULL, *labels = json_array(), *entry;
	cairn_diff *d = NULL;
	cairn_buf out = CAIRN_BUF_INIT(0);
	size_t i;
	int rc = 0;

	c->objects++;
	if (labels == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	if (oa && ob) {
		if ((rc = cairn_render_json_diff(&paths, oa, ob)) < 0)
			goto out;
		for (i = 0; i < json_array_size(paths); i++)
			json_array_append_new(
			        labels,
			        label_path(c, oa, ob, json_string_value(json_array_get(paths, i))));
	} else {
		json_array_append_new(labels, label_path(c, oa, ob, ""));
	}
	if (json_array_size(labels) > 0)
		c->differ++;
	entry = json_pack("{s:s, s:s, s:O}", "object", id, "status",
	                  !oa                       ? "missing-in-a"
	                  : !ob                     ? "missing-in-b"
	                  : json_array_size(labels) ? "differ"
	                                            : "equal",
	                  "paths", labels);
	if (entry && idb)
		json_object_set_new(entry, "renamedTo", json_string(idb));
	json_array_append_new(report, entry);
	if (a->json || json_array_size(labels) == 0)
		goto out;
	if (oa && ob) {
		if ((rc = cairn_sync_diff(&d, ob, oa, NULL)) < 0 ||
		    (rc = cairn_diff_format(&out, d, a->color)) < 0)
			goto out;
		print_unified(&out, c);
		if (idb)
			printf("  renamed: '%s' in %s, '%s' in %s\n", strrchr(id, '/') + 1,
			       c->s[0].env->name, strrchr(idb, '/') + 1, c->s[1].env->name);
	} else {
		printf("%s===== %s =====%s\n  only in %s\n", a->color ? BOLD : "", id,
		       a->color ? RESET : "", c->s[oa ? 0 : 1].env->name);
	}
	print_labels(c, labels, a->color);
	printf("\n");
out:
	cairn_diff_free(d);
	cairn_buf_dispose(&out);
	json_decref(paths);
	json_decref(labels);
	return rc;
}

/*
 * Open side `s`'s first git source at its commit (the first of s->oid), the
 * tree its kustomization files are read from. Kept for the side's life.
 */
static int side_tree(struct ctx *c, struct side *s)
{
	char oid[CAIRN_SOURCE_OID_HEX_LEN];
	const char *comma = strchr(s->oid, ',');
	size_t n = comma ? (size_t)(comma - s->oid) : strlen(s->oid);
	cairn_source_repo *repo = NULL;
	int rc;

	if (s->tree)
		return 0;
	if (n == 0 || n >= sizeof(oid))
		return cairn_error_set(CAIRN_ENOTFOUND, "no source commit");
	memcpy(oid, s->oid, n);
	oid[n] = '\0';
	for (size_t i = 0; i < s->app->source_count; i++) {
		const cairn_app_source *src = &s->app->sources[i];
		if (src->chart || (src->ref && !src->path))
			continue;
		if ((rc = cairn_app_git_repo(&repo, c->git, src->repo_url)) < 0)
			return rc;
		return cairn_tree_open_git(&s->tree, repo, oid);
	}
	return cairn_error_set(CAIRN_ENOTFOUND, "no git source");
}

/*
 * The namePrefix and nameSuffix declared by the kustomization that last
 * set `obj`'s name, as the provenance recorder names it: the recorder says
 * which file renamed the object, the file says by what. Returns 1 with
 * `pre`/`suf` set (each may be ""), 0 when the name was not set by a
 * prefix/suffix or the file cannot be read (the object is then matched by
 * its rendered name only).
 */
static int declared_affixes(struct ctx *c, struct side *s, const json_t *obj, char pre[254],
                            char suf[254])
{
	cairn_render_origin o;
	cairn_buf b = CAIRN_BUF_INIT(KUSTOMIZATION_MAX);
	json_t *docs = NULL, *kz;
	const char *p, *q;
	int found = 0;

	if (cairn_render_prov_find(&o, s->prov, obj, "/metadata/name") != 1 ||
	    o.kind != CAIRN_ORIGIN_TRANSFORMER || o.file == NULL || o.detail == NULL ||
	    strcmp(o.detail, NAME_AFFIX) != 0)
		return 0;
	if (side_tree(c, s) < 0 || cairn_tree_read(s->tree, &b, o.file, KUSTOMIZATION_MAX) < 0 ||
	    cairn_yaml_load(&docs, NULL, b.ptr ? b.ptr : "", b.len, o.file, NULL) < 0)
		goto out;
	kz = json_array_get(docs, 0);
	p = json_string_value(json_object_get(kz, "namePrefix"));
	q = json_string_value(json_object_get(kz, "nameSuffix"));
	snprintf(pre, 254, "%s", p ? p : "");
	snprintf(suf, 254, "%s", q ? q : "");
	found = 1;
out:
	cairn_error_clear();
	cairn_buf_dispose(&b);
	json_decref(docs);
	return found;
}

/*
 * The identity of `obj` with its declared prefix/suffix taken off its name
 * ("apps/Deployment/web" for dev's "dev-web"), into `out`; the affixes into
 * `pre`/`suf`. Returns 1 when something was taken off.
 */
static int base_ident(char *out, size_t size, struct ctx *c, struct side *s, const json_t *obj,
                      char pre[254], char suf[254])
{
	const char *name =
	        json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
	size_t n = name ? strlen(name) : 0, np, ns;

	pre[0] = suf[0] = '\0';
	ident(out, size, obj);
	if (name == NULL || !declared_affixes(c, s, obj, pre, suf))
		return 0;
	np = strlen(pre);
	ns = strlen(suf);
	if (np + ns >= n || strlen(out) < n || strncmp(name, pre, np) != 0 ||
	    strcmp(name + n - ns, suf) != 0) {
		pre[0] = suf[0] = '\0'; /* declared, but not what this name carries */
		return 0;
	}
	/* ident() ends with the name: replace it by the base name */
	size_t at = strlen(out) - n;
	snprintf(out + at, size - at, "%.*s", (int)(n - np - ns), name + np);
	return 1;
}

/*
 * The object of side B that side A's `oa` (not matched by name) pairs with
 * once each side's declared prefix/suffix is taken off, or NULL. `used`
 * marks B objects already paired. The affixes of the pair go into c.
 */
static const json_t *find_renamed(struct ctx *c, const json_t *oa, const char *used, size_t *index)
{
	char ida[1024], idb[1024], pre[254], suf[254];
	int sa = base_ident(ida, sizeof(ida), c, &c->s[0], oa, c->pre[0], c->suf[0]);
	size_t i;
	json_t *ob;

	json_array_foreach(c->s[1].objs, i, ob)
	{
		char exact[1024];

		ident(exact, sizeof(exact), ob);
		if (used[i] || find_ident(c->s[0].objs, exact))
			continue;
		int sb = base_ident(idb, sizeof(idb), c, &c->s[1], ob, pre, suf);
		if ((sa || sb) && strcmp(ida, idb) == 0) {
			memcpy(c->suf[1], suf, sizeof(suf));
			memcpy(c->pre[1], pre, sizeof(pre));
			*index = i;
			return ob;
		}
	}
	return NULL;
}

/*
 * Match the two sets and compare each object: by identity first, then
 * objects that an environment renames (namePrefix/nameSuffix) by their
 * identity with the declared affixes taken off; what is left is only in
 * one environment.
 */
static int compare_all(json_t *report, struct ctx *c, const struct diff_args *a)
{
	char id[1024], idb[1024];
	size_t i, j, nb = json_array_size(c->s[1].objs);
	char *used = calloc(nb + 1, 1);
	json_t *o;
	int rc = 0;

	if (used == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	json_array_foreach(c->s[0].objs, i, o)
	{
		const json_t *ob;

		ident(id, sizeof(id), o);
		if (rc < 0)
			break;
		if ((ob = find_ident(c->s[1].objs, id)) != NULL) {
			rc = compare_one(report, c, id, NULL, o, ob, a);
		} else if ((ob = find_renamed(c, o, used, &j)) != NULL) {
			used[j] = 1;
			ident(idb, sizeof(idb), ob);
			c->renamed = 1;
			rc = compare_one(report, c, id, idb, o, ob, a);
			c->renamed = 0;
		} else {
			rc = compare_one(report, c, id, NULL, o, NULL, a);
		}
	}
	json_array_foreach(c->s[1].objs, i, o)
	{
		ident(id, sizeof(id), o);
		if (rc == 0 && !used[i] && find_ident(c->s[0].objs, id) == NULL)
			rc = compare_one(report, c, id, NULL, NULL, o, a);
	}
	free(used);
	return rc;
}

/* ---- --live: each environment against its own cluster ------------------- */

/*
 * The kube client of environment `env`'s cluster, reached as `cairn app
 * diff` reaches it: in-cluster credentials when the Environment says so,
 * else its kubeconfig (default: $KUBECONFIG or ~/.kube/config) and context.
 */
static int open_cluster(cairn_kube_client **out, const cairn_env *env)
{
	cairn_kube_config *cfg = NULL;
	int rc = cairn_kube_config_for(&cfg, env->kubeconfig, env->context, env->in_cluster);

	if (rc == 0)
		rc = cairn_kube_client_new(out, cfg, NULL);
	cairn_kube_config_free(cfg);
	if (rc < 0)
		cairn_error_prefix("the cluster of environment '%s': ", env->name);
	return rc;
}

/*
 * Compare side `s`'s desired set with its cluster the way a sync would
 * (server-side-apply dry run, ignoreDifferences, tracked extras), and
 * count what is not in sync: that is the environment's live drift.
 */
static int live_side(struct ctx *c, struct side *s)
{
	cairn_sync_ctx sc = {0};
	cairn_sync_request q = {0};
	int rc;

	if ((rc = open_cluster(&s->kube, s->env)) < 0 ||
	    (rc = cairn_ignore_compile(&s->ignore, s->app->ignore_differences,
	                               "spec.ignoreDifferences")) < 0)
		return rc;
	sc.kube = s->kube;
	sc.state = c->state;
	sc.actor = "cairn";
	sc.trigger = "cli";
	sc.track = CAIRN_TRACK_ANNOTATION;
	q.app = s->app->name;
	q.env = s->env->name;
	q.revision = s->oid;
	q.dest_namespace =
	        s->app->dest_namespace ? s->app->dest_namespace : s->env->default_namespace;
	q.manifests = s->objs;
	q.ignore = s->ignore;
	q.interpret_rollouts = s->env->rollouts != CAIRN_ENV_ROLLOUTS_EXTERNAL;
	if ((rc = cairn_sync_compare_app(&s->live, &sc, &q)) < 0)
		return cairn_error_prefix("application '%s' in environment '%s': ", s->app->name,
		                          s->env->name);
	for (size_t i = 0; i < s->live->n; i++)
		if (!s->live->v[i].desired || !s->live->v[i].synced)
			s->drifted++;
	return 0;
}

static int live_all(struct ctx *c)
{
	int rc;

	if ((rc = cairn_state_open(&c->state, c->state_dir, CAIRN_STATE_CREATE)) < 0)
		return rc;
	for (int k = 0; k < 2; k++)
		if ((rc = live_side(c, &c->s[k])) < 0)
			return rc;
	return 0;
}

static const char *live_status(const cairn_sync_res *r)
{
	if (!r->desired)
		return "extra";
	if (r->diff && r->diff->missing)
		return "missing";
	return r->synced ? "synced" : "drifted";
}

/* The live comparison of side `s` as JSON: only what is not in sync. */
static json_t *live_json(const struct side *s)
{
	json_t *objs = json_array();
	char id[1024];

	for (size_t i = 0; objs && i < s->live->n; i++) {
		const cairn_sync_res *r = &s->live->v[i];
		json_t *paths = json_array();

		if (r->desired && r->synced) {
			json_decref(paths);
			continue;
		}
		cairn_res_id_format(&r->id, id, sizeof(id));
		for (size_t j = 0; paths && r->diff && !r->diff->missing && j < r->diff->n; j++) {
			const cairn_diff_entry *e = &r->diff->v[j];
			json_array_append_new(paths,
			                      json_pack("{s:s, s:O?, s:O?}", "path", e->path,
			                                "desired", e->wanted, "live", e->live));
		}
		json_array_append_new(objs, json_pack("{s:s, s:s, s:o}", "object", id, "status",
		                                      live_status(r), "paths", paths));
	}
	return json_pack("{s:s, s:s, s:I, s:o}", "environment", s->env->name, "application",
	                 s->app->name, "drifted", (json_int_t)s->drifted, "objects", objs);
}

/* A value of a drifted path for text output: compact JSON, or "(absent)". */
static void print_value(const json_t *v)
{
	char *t = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

	printf("%s", t ? t : "(absent)");
	free(t);
}

static void live_print(const struct side *s, int color)
{
	char id[1024];

	printf("%slive %s%s (%s): ", color ? BOLD : "", s->env->name, color ? RESET : "",
	       s->app->name);
	if (s->drifted == 0) {
		printf("%sin sync%s (%zu objects)\n", color ? GREEN : "", color ? RESET : "",
		       s->live->n);
		return;
	}
	printf("%s%zu drifted%s of %zu objects\n", color ? RED : "", s->drifted, color ? RESET : "",
	       s->live->n);
	for (size_t i = 0; i < s->live->n; i++) {
		const cairn_sync_res *r = &s->live->v[i];

		if (r->desired && r->synced)
			continue;
		cairn_res_id_format(&r->id, id, sizeof(id));
		printf("  %s  %s\n", id, live_status(r));
		for (size_t j = 0; r->diff && !r->diff->missing && j < r->diff->n; j++) {
			printf("      %s: desired ", r->diff->v[j].path);
			print_value(r->diff->v[j].wanted);
			printf(", live ");
			print_value(r->diff->v[j].live);
			printf("\n");
		}
	}
}

static void summary(const struct ctx *c, json_t *report, const struct diff_args *a)
{
	size_t drifted = c->s[0].drifted + c->s[1].drifted;

	if (a->json) {
		json_t *doc = json_pack(
		        "{s:s, s:[{s:s, s:s, s:s}, {s:s, s:s, s:s}], s:O, s:{s:I, s:I, s:I, s:I}}",
		        "group", a->group, "environments", "name", c->s[0].env->name, "application",
		        c->s[0].app->name, "revision", c->s[0].oid, "name", c->s[1].env->name,
		        "application", c->s[1].app->name, "revision", c->s[1].oid, "objects",
		        report, "summary", "objects", (json_int_t)c->objects, "differ",
		        (json_int_t)c->differ, "undeclared", (json_int_t)c->undeclared,
		        "mustMatchViolations", (json_int_t)c->violations);
		if (doc && a->live) {
			json_object_set_new(
			        doc, "live",
			        json_pack("[o, o]", live_json(&c->s[0]), live_json(&c->s[1])));
			json_object_set_new(json_object_get(doc, "summary"), "liveDrifted",
			                    json_integer((json_int_t)drifted));
		}
		char *s = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
		if (s)
			printf("%s\n", s);
		free(s);
		json_decref(doc);
		return;
	}
	for (int k = 0; a->live && k < 2; k++)
		live_print(&c->s[k], a->color);
	if (a->live)
		printf("\n");
	printf("%s: %s (%s @ %.7s) vs %s (%s @ %.7s)\n", a->group, c->s[0].env->name,
	       c->s[0].app->name, c->s[0].oid, c->s[1].env->name, c->s[1].app->name, c->s[1].oid);
	printf("%zu objects, %zu differ, %s%zu undeclared%s", c->objects, c->differ,
	       a->color && c->undeclared ? RED : "", c->undeclared, a->color ? RESET : "");
	if (c->violations)
		printf(", %s%zu must-match violations%s", a->color ? YELLOW : "", c->violations,
		       a->color ? RESET : "");
	if (a->live)
		printf(", %s%zu drifted live%s", a->color && drifted ? RED : "", drifted,
		       a->color ? RESET : "");
	printf("\n");
}

static int parse(struct diff_args *a, int argc, char **argv)
{
	static const struct option opts[] = {
	        {"output", required_argument, NULL, 'o'},
	        {"color", required_argument, NULL, 'C'},
	        {"live", no_argument, NULL, 'l'},
	        {"lenient", no_argument, NULL, 'L'},
	        {"config", required_argument, NULL, 'c'},
	        {"apps", required_argument, NULL, 'a'},
	        {"environments", required_argument, NULL, 'e'},
	        {"no-fetch", no_argument, NULL, 'N'},
	        {"state-dir", required_argument, NULL, 's'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	const char *color = "auto";
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		if (ch == 'o' && strcmp(optarg, "json") == 0)
			a->json = 1;
		else if (ch == 'C')
			color = optarg;
		else if (ch == 'l')
			a->live = 1;
		else if (ch == 'L')
			a->lenient = 1;
		else if (ch == 'c')
			a->config = optarg;
		else if (ch == 'a')
			a->apps = optarg;
		else if (ch == 'e')
			a->environments = optarg;
		else if (ch == 'N')
			a->no_fetch = 1;
		else if (ch == 's')
			a->state_dir = optarg;
		else if (ch == 'h') {
			diff_usage(stdout);
			return CLI_EXIT_OK;
		} else {
			diff_usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (argc - optind != 3) {
		diff_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	a->group = argv[optind];
	a->env[0] = argv[optind + 1];
	a->env[1] = argv[optind + 2];
	if (strcmp(color, "always") == 0)
		a->color = 1;
	else if (strcmp(color, "auto") == 0)
		a->color = !a->json && isatty(STDOUT_FILENO);
	else if (strcmp(color, "never") != 0) {
		fprintf(stderr, "cairn env diff: --color '%s' is not auto, always or never\n",
		        color);
		return CLI_EXIT_USAGE;
	}
	return -1;
}

int cmd_env_diff(int argc, char **argv)
{
	struct diff_args a;
	struct ctx c;
	json_t *report = NULL;
	int rc, ret;

	memset(&a, 0, sizeof(a));
	memset(&c, 0, sizeof(c));
	if ((ret = parse(&a, argc, argv)) >= 0)
		return ret;
	ret = CLI_EXIT_USAGE;
	if ((rc = load(&c, &a)) < 0)
		goto fail;
	for (int k = 0; k < 2; k++) {
		if ((c.s[k].env = cairn_env_set_find(c.envs, a.env[k])) == NULL) {
			rc = cairn_error_set(CAIRN_ENOTFOUND, "environment '%s' is not defined",
			                     a.env[k]);
			goto fail;
		}
		if ((rc = find_member(&c.s[k].app, c.set, a.group, a.env[k])) < 0 ||
		    (rc = render_side(&c, &c.s[k], &a)) < 0)
			goto fail;
	}
	if ((rc = must_load(&c)) < 0 || (report = json_array()) == NULL ||
	    (rc = compare_all(report, &c, &a)) < 0)
		goto fail;
	if (a.live && (rc = live_all(&c)) < 0)
		goto fail;
	summary(&c, report, &a);
	ret = c.undeclared || c.violations || c.s[0].drifted || c.s[1].drifted ? CLI_EXIT_FAIL
	                                                                       : CLI_EXIT_OK;
	goto out;
fail:
	if (report == NULL && rc == 0)
		cairn_error_set(CAIRN_ENOMEM, "out of memory");
	cli_print_error("env diff");
out:
	json_decref(report);
	ctx_dispose(&c);
	return ret;
}
