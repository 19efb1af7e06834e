/*
 * env.c - Cairn Environments (cairn.dev/v1alpha1) and the binding of
 * Applications to environments and app groups (DESIGN §3a).
 */
#include <fnmatch.h>
#include <sys/stat.h>

#include "app/app_private.h"
#include "cairn/error.h"

#define ENV_API "cairn.dev/v1alpha1"
#define ENV_MAX 1000

struct cairn_env_set {
	cairn_env **envs;
	size_t count;
};

static void env_free(cairn_env *e)
{
	if (e == NULL)
		return;
	free(e->name);
	free(e->server);
	free(e->cluster_name);
	free(e->kubeconfig);
	free(e->context);
	app__strlist_free(e->namespaces, e->namespace_count);
	free(e->default_namespace);
	free(e->promoted_from);
	free(e->file);
	json_decref(e->manifest);
	free(e);
}

void cairn_env_set_free(cairn_env_set *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->count; i++)
		env_free(set->envs[i]);
	free(set->envs);
	free(set);
}

size_t cairn_env_set_count(const cairn_env_set *set)
{
	return set ? set->count : 0;
}

const cairn_env *cairn_env_set_at(const cairn_env_set *set, size_t i)
{
	return set && i < set->count ? set->envs[i] : NULL;
}

const cairn_env *cairn_env_set_find(const cairn_env_set *set, const char *name)
{
	for (size_t i = 0; set && name && i < set->count; i++)
		if (strcmp(set->envs[i]->name, name) == 0)
			return set->envs[i];
	return NULL;
}

/* One of a few words, or an error naming the field and the choices. */
static int enum_field(int *out, const json_t *spec, const char *key, const char *a, const char *b,
                      const struct app__where *w)
{
	const json_t *v = json_object_get(spec, key);
	char ptr[64];

	if (v == NULL || json_is_null(v))
		return 0;
	snprintf(ptr, sizeof(ptr), "/spec/%s", key);
	if (strcmp(json_string_value(v), a) == 0)
		*out = 0;
	else if (strcmp(json_string_value(v), b) == 0)
		*out = 1;
	else
		return app__err(w, CAIRN_EINVAL, ptr, "'spec.%s' is '%s' (expected '%s' or '%s')",
		                key, json_string_value(v), a, b);
	return 0;
}

static int parse_env_spec(cairn_env *e, const json_t *spec, const struct app__where *w)
{
	const json_t *cl = json_object_get(spec, "cluster");
	const json_t *sync = json_object_get(spec, "sync");
	int drift = 0, roll = 0, rc;

	if ((rc = app__dup(&e->server, cl, "server")) < 0 ||
	    (rc = app__dup(&e->cluster_name, cl, "name")) < 0 ||
	    (rc = app__dup(&e->kubeconfig, cl, "kubeconfig")) < 0 ||
	    (rc = app__dup(&e->context, cl, "context")) < 0 ||
	    (rc = app__strlist(&e->namespaces, &e->namespace_count,
	                       json_object_get(spec, "namespaces"))) < 0 ||
	    (rc = app__dup(&e->default_namespace, spec, "defaultNamespace")) < 0 ||
	    (rc = app__dup(&e->promoted_from, spec, "promotedFrom")) < 0)
		return rc;
	e->in_cluster = json_is_true(json_object_get(cl, "inCluster"));
	if (!json_is_object(cl) || (e->server == NULL && e->cluster_name == NULL && !e->in_cluster))
		return app__err(w, CAIRN_EINVAL, cl ? "/spec/cluster" : "/spec",
		                "environment '%s': missing field 'spec.cluster.server' (expected "
		                "the API server URL Applications name as destination)",
		                e->name);
	if (e->in_cluster && e->kubeconfig != NULL)
		return app__err(
		        w, CAIRN_EINVAL, "/spec/cluster",
		        "environment '%s': 'spec.cluster' has both inCluster and kubeconfig "
		        "(expected one of them)",
		        e->name);
	if (e->context != NULL && e->kubeconfig == NULL)
		return app__err(w, CAIRN_EINVAL, "/spec/cluster/context",
		                "environment '%s': 'spec.cluster.context' needs "
		                "'spec.cluster.kubeconfig'",
		                e->name);
	e->auto_sync = json_is_true(json_object_get(sync, "autoSync"));
	e->self_heal = json_is_true(json_object_get(sync, "selfHeal"));
	e->prune = json_is_true(json_object_get(sync, "prune"));
	if ((rc = enum_field(&drift, spec, "drift", "detect", "correct", w)) < 0 ||
	    (rc = enum_field(&roll, spec, "rollouts", "internal", "external", w)) < 0)
		return rc;
	e->drift = drift ? CAIRN_ENV_DRIFT_CORRECT : CAIRN_ENV_DRIFT_DETECT;
	e->rollouts = roll ? CAIRN_ENV_ROLLOUTS_EXTERNAL : CAIRN_ENV_ROLLOUTS_INTERNAL;
	e->vars = json_object_get(spec, "vars");
	return 0;
}

static int parse_env(cairn_env **out, json_t *doc, const struct app__where *w)
{
	const char *api = json_string_value(json_object_get(doc, "apiVersion"));
	json_t *spec = json_object_get(doc, "spec");
	cairn_env *e = NULL;
	int rc;

	if (api == NULL || strcmp(api, ENV_API) != 0)
		return app__err(w, CAIRN_EINVAL, "/apiVersion",
		                "Environment has apiVersion '%s' (expected '" ENV_API "')",
		                api ? api : "");
	/* `cluster: URL` is shorthand for `cluster: {server: URL}`. */
	if (json_is_string(json_object_get(spec, "cluster")))
		json_object_set_new(spec, "cluster",
		                    json_pack("{s:O}", "server", json_object_get(spec, "cluster")));
	if ((rc = app__check_object(w, doc, app__env_spec, NULL)) < 0)
		return rc;
	if (!json_is_object(spec))
		return app__err(w, CAIRN_EINVAL, "", "missing field 'spec' (expected a mapping)");
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	if ((rc = app__dup(&e->name, json_object_get(doc, "metadata"), "name")) < 0 ||
	    (rc = app__strdup(&e->file, w->file)) < 0 || (rc = parse_env_spec(e, spec, w)) < 0) {
		env_free(e);
		return rc;
	}
	e->line = app__line(w, "");
	e->manifest = json_incref(doc);
	*out = e;
	return 0;
}

static int add_env(cairn_env_set *set, cairn_env *e)
{
	cairn_env **grown;
	const cairn_env *old = cairn_env_set_find(set, e->name);

	if (old != NULL || set->count >= ENV_MAX) {
		int rc = old ? cairn_error_set_at(CAIRN_EINVAL, e->file, e->line, 0,
		                                  "duplicate environment '%s' (first defined at "
		                                  "%s:%d)",
		                                  e->name, old->file, old->line)
		             : cairn_error_set(CAIRN_ELIMIT, "more than %d environments", ENV_MAX);
		env_free(e);
		return rc;
	}
	if ((grown = realloc(set->envs, (set->count + 1) * sizeof(*grown))) == NULL) {
		env_free(e);
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	set->envs = grown;
	set->envs[set->count++] = e;
	return 0;
}

static int load_env_data(cairn_env_set *set, const char *data, size_t len, const char *filename)
{
	json_t *docs = NULL;
	cairn_yaml_marks *marks = NULL;
	struct app__where w = {filename, NULL, 0, NULL, NULL};
	cairn_env *e = NULL;
	int rc;

	if ((rc = cairn_yaml_load(&docs, &marks, data, len, filename, NULL)) < 0)
		return rc;
	w.marks = marks;
	for (size_t i = 0; i < json_array_size(docs); i++) {
		json_t *doc = json_array_get(docs, i);
		const char *kind = json_string_value(json_object_get(doc, "kind"));
		w.doc = i;
		if (json_is_null(doc))
			continue;
		if (kind == NULL || strcmp(kind, "Environment") != 0) {
			rc = app__err(&w, CAIRN_EINVAL, json_is_object(doc) ? "/kind" : "",
			              "expected kind 'Environment', got '%s'", kind ? kind : "");
			goto out;
		}
		if ((rc = parse_env(&e, doc, &w)) < 0 || (rc = add_env(set, e)) < 0)
			goto out;
	}
	rc = 0;
out:
	json_decref(docs);
	cairn_yaml_marks_free(marks);
	return rc;
}

/* promotedFrom names a defined environment, and following it never loops. */
static int check_promotion(const cairn_env_set *set)
{
	for (size_t i = 0; i < set->count; i++) {
		const cairn_env *e = set->envs[i];
		size_t steps = 0;
		if (e->promoted_from == NULL)
			continue;
		if (cairn_env_set_find(set, e->promoted_from) == NULL)
			return cairn_error_set_at(CAIRN_ENOTFOUND, e->file, e->line, 0,
			                          "environment '%s': 'spec.promotedFrom' names "
			                          "'%s', which is not defined",
			                          e->name, e->promoted_from);
		for (const cairn_env *x = e; x && x->promoted_from; steps++) {
			x = cairn_env_set_find(set, x->promoted_from);
			if (x == e || steps > set->count)
				return cairn_error_set_at(
				        CAIRN_EINVAL, e->file, e->line, 0,
				        "environment '%s': 'spec.promotedFrom' makes "
				        "a cycle (an environment is promoted from "
				        "itself)",
				        e->name);
		}
	}
	return 0;
}

int cairn_env_set_load_data(cairn_env_set **out, const char *data, size_t len, const char *filename)
{
	cairn_env_set *set = calloc(1, sizeof(*set));
	int rc;

	if (set == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	if ((rc = load_env_data(set, data, len, filename)) < 0 || (rc = check_promotion(set)) < 0) {
		cairn_env_set_free(set);
		return rc;
	}
	*out = set;
	return 0;
}

int app__walk_files(char ***out, size_t *count, const char *dir, int depth);

int cairn_env_set_load(cairn_env_set **out, const char *path)
{
	cairn_env_set *set = NULL;
	cairn_buf b = CAIRN_BUF_INIT(CAIRN_APP_MAX_FILE_BYTES);
	char **files = NULL;
	size_t n = 0;
	struct stat st;
	int rc;

	if (stat(path, &st) < 0)
		return cairn_error_set(CAIRN_ENOTFOUND, "no such file or folder '%s'", path);
	if ((set = calloc(1, sizeof(*set))) == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	if (S_ISDIR(st.st_mode)) {
		if ((rc = app__walk_files(&files, &n, path, 0)) < 0)
			goto out;
	} else {
		if ((files = calloc(1, sizeof(*files))) == NULL ||
		    (files[0] = strdup(path)) == NULL) {
			rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
			goto out;
		}
		n = 1;
	}
	for (size_t i = 0; i < n; i++) {
		cairn_buf_reset(&b);
		if ((rc = cairn_buf_read_file(&b, files[i])) < 0 ||
		    (rc = load_env_data(set, b.ptr ? b.ptr : "", b.len, files[i])) < 0)
			goto out;
	}
	if ((rc = check_promotion(set)) < 0)
		goto out;
	*out = set;
	set = NULL;
out:
	cairn_buf_dispose(&b);
	app__strlist_free(files, n);
	cairn_env_set_free(set);
	return rc;
}

/* ---- binding ------------------------------------------------------------- */

static int env_matches(const cairn_env *e, const cairn_app *a)
{
	int cluster =
	        (e->server && a->dest_server && strcmp(e->server, a->dest_server) == 0) ||
	        (e->cluster_name && a->dest_name && strcmp(e->cluster_name, a->dest_name) == 0);

	if (!cluster)
		return 0;
	if (e->namespace_count == 0)
		return 1;
	return cairn_app_glob_list_match(e->namespaces, e->namespace_count,
	                                 a->dest_namespace ? a->dest_namespace : "");
}

cairn_app *app__set_app_mut(cairn_app_set *set, size_t i);

static int bind_one(cairn_app *a, const cairn_env_set *envs)
{
	const char *label = json_string_value(json_object_get(a->labels, "cairn.dev/environment"));
	const char *group = json_string_value(json_object_get(a->labels, "cairn.dev/app"));
	const char *env = NULL;
	const cairn_env *found = NULL;
	char *e2 = NULL, *g2 = NULL;

	if (label != NULL || a->env_param != NULL) {
		env = label ? label : a->env_param;
		if (envs != NULL && cairn_env_set_find(envs, env) == NULL)
			return cairn_error_set_at(CAIRN_ENOTFOUND, a->file, a->line, 0,
			                          "application '%s' names environment '%s' (%s), "
			                          "which is not defined",
			                          a->name, env,
			                          label ? "label cairn.dev/environment"
			                                : "ApplicationSet parameter 'env'");
	} else {
		for (size_t i = 0; i < cairn_env_set_count(envs); i++) {
			const cairn_env *e = cairn_env_set_at(envs, i);
			if (!env_matches(e, a))
				continue;
			if (found != NULL)
				return cairn_error_set_at(
				        CAIRN_EINVAL, a->file, a->line, 0,
				        "application '%s' matches several "
				        "environments ('%s' and '%s'): set the label "
				        "cairn.dev/environment",
				        a->name, found->name, e->name);
			found = e;
		}
		env = found ? found->name : NULL;
	}
	if (group == NULL)
		group = a->generator;
	if (app__strdup(&e2, env) < 0 || app__strdup(&g2, group) < 0) {
		free(e2);
		return CAIRN_ENOMEM;
	}
	free(a->environment);
	free(a->group);
	a->environment = e2;
	a->group = g2;
	return 0;
}

int cairn_app_set_bind(cairn_app_set *apps, const cairn_env_set *envs)
{
	int rc;

	for (size_t i = 0; i < cairn_app_set_count(apps); i++)
		if ((rc = bind_one(app__set_app_mut(apps, i), envs)) < 0)
			return rc;
	return 0;
}
