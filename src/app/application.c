/*
 * application.c - Argo CD Applications and AppProjects: from checked
 * manifests to the structs of cairn/app.h, the set that holds them, and the
 * file and folder loader.
 */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <sys/stat.h>

#include "app/app_private.h"
#include "cairn/error.h"
#include "cairn/util.h"

#define ARGO_API "argoproj.io/v1alpha1"

struct cairn_app_set {
	cairn_app **apps;
	size_t count, cap;
	cairn_app_project **projects;
	size_t project_count, project_cap;
	struct app__notices notices;
};

/* ---- Applications ------------------------------------------------------- */

void app__app_free(cairn_app *a)
{
	if (a == NULL)
		return;
	free(a->name);
	free(a->namespace_);
	free(a->project);
	for (size_t i = 0; i < a->source_count; i++) {
		cairn_app_source *s = &a->sources[i];
		free(s->repo_url);
		free(s->target_revision);
		free(s->path);
		free(s->chart);
		free(s->ref);
		free(s->directory_include);
		free(s->directory_exclude);
	}
	free(a->sources);
	free(a->dest_server);
	free(a->dest_name);
	free(a->dest_namespace);
	app__strlist_free(a->sync_options, a->sync_option_count);
	free(a->environment);
	free(a->group);
	free(a->generator);
	free(a->env_param);
	free(a->file);
	json_decref(a->manifest);
	free(a);
}

/* Go-style duration, or a bare number of seconds as Argo CD also accepts. */
static int parse_duration(int64_t *out, const struct app__where *w, const json_t *v,
                          const char *ptr, const char *path)
{
	const char *s = json_string_value(v);
	char *end = NULL;
	long long secs;

	if (s == NULL)
		return 0;
	secs = strtoll(s, &end, 10);
	if (s[0] != '\0' && end != NULL && *end == '\0' && secs >= 0 && secs < 100000000) {
		*out = (int64_t)secs * 1000000000;
		return 0;
	}
	if (cairn_duration_parse(out, s) < 0 || *out < 0)
		return app__err(w, CAIRN_EINVAL, ptr,
		                "'%s' has an invalid duration '%s' (expected e.g. '5s', '3m')",
		                path, s);
	return 0;
}

static int parse_source(cairn_app_source *s, const json_t *j, const struct app__where *w,
                        const char *ptr, const char *path)
{
	const json_t *dir = json_object_get(j, "directory");
	int rc;

	if (!json_is_string(json_object_get(j, "repoURL")) ||
	    json_string_value(json_object_get(j, "repoURL"))[0] == '\0')
		return app__err(w, CAIRN_EINVAL, ptr,
		                "missing field '%s.repoURL' (expected the repository URL)", path);
	if ((rc = app__dup(&s->repo_url, j, "repoURL")) < 0 ||
	    (rc = app__dup(&s->target_revision, j, "targetRevision")) < 0 ||
	    (rc = app__dup(&s->path, j, "path")) < 0 ||
	    (rc = app__dup(&s->chart, j, "chart")) < 0 || (rc = app__dup(&s->ref, j, "ref")) < 0 ||
	    (rc = app__dup(&s->directory_include, dir, "include")) < 0 ||
	    (rc = app__dup(&s->directory_exclude, dir, "exclude")) < 0)
		return rc;
	if (s->target_revision == NULL || s->target_revision[0] == '\0') {
		free(s->target_revision);
		if ((rc = app__strdup(&s->target_revision, "HEAD")) < 0)
			return rc;
	}
	s->directory_recurse = json_is_true(json_object_get(dir, "recurse"));
	s->kustomize = json_object_get(j, "kustomize");
	if (s->path != NULL && cairn_path_check_relative(s->path[0] ? s->path : ".") < 0 &&
	    strcmp(s->path, "") != 0)
		return app__err(w, CAIRN_EINVAL, ptr,
		                "'%s.path' must be a relative path inside the repository, got '%s'",
		                path, s->path);
	return 0;
}

static int parse_sources(cairn_app *a, const json_t *spec, const struct app__where *w)
{
	const json_t *multi = json_object_get(spec, "sources");
	const json_t *one = json_object_get(spec, "source");
	size_t n = json_array_size(multi);
	char ptr[64], path[64];
	int rc;

	if (n == 0 && !json_is_object(one))
		return app__err(w, CAIRN_EINVAL, "/spec",
		                "missing field 'spec.source' (expected a source, or a list in "
		                "'spec.sources')");
	a->multi_source = n > 0;
	if (n == 0)
		n = 1;
	a->sources = calloc(n, sizeof(*a->sources));
	if (a->sources == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	a->source_count = n;
	for (size_t i = 0; i < n; i++) {
		if (a->multi_source) {
			snprintf(ptr, sizeof(ptr), "/spec/sources/%zu", i);
			snprintf(path, sizeof(path), "spec.sources[%zu]", i);
		} else {
			snprintf(ptr, sizeof(ptr), "/spec/source");
			snprintf(path, sizeof(path), "spec.source");
		}
		rc = parse_source(&a->sources[i], a->multi_source ? json_array_get(multi, i) : one,
		                  w, ptr, path);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int parse_sync_policy(cairn_app *a, const json_t *sp, const struct app__where *w)
{
	const json_t *auto_ = json_object_get(sp, "automated");
	const json_t *retry = json_object_get(sp, "retry");
	const json_t *backoff = json_object_get(retry, "backoff");
	int rc;

	a->automated = json_is_object(auto_);
	a->prune = json_is_true(json_object_get(auto_, "prune"));
	a->self_heal = json_is_true(json_object_get(auto_, "selfHeal"));
	a->allow_empty = json_is_true(json_object_get(auto_, "allowEmpty"));
	if ((rc = app__strlist(&a->sync_options, &a->sync_option_count,
	                       json_object_get(sp, "syncOptions"))) < 0)
		return rc;
	a->backoff_duration_ns = (int64_t)5 * 1000000000;
	a->backoff_factor = 2;
	a->backoff_max_duration_ns = (int64_t)180 * 1000000000;
	if (json_is_integer(json_object_get(retry, "limit")))
		a->retry_limit = json_integer_value(json_object_get(retry, "limit"));
	if (json_is_integer(json_object_get(backoff, "factor"))) {
		a->backoff_factor = json_integer_value(json_object_get(backoff, "factor"));
		if (a->backoff_factor < 1)
			return app__err(
			        w, CAIRN_EINVAL, "/spec/syncPolicy/retry/backoff/factor",
			        "'spec.syncPolicy.retry.backoff.factor' must be at least 1");
	}
	if ((rc = parse_duration(&a->backoff_duration_ns, w, json_object_get(backoff, "duration"),
	                         "/spec/syncPolicy/retry/backoff/duration",
	                         "spec.syncPolicy.retry.backoff.duration")) < 0)
		return rc;
	return parse_duration(&a->backoff_max_duration_ns, w,
	                      json_object_get(backoff, "maxDuration"),
	                      "/spec/syncPolicy/retry/backoff/maxDuration",
	                      "spec.syncPolicy.retry.backoff.maxDuration");
}

/* The kind/apiVersion envelope shared by every Argo CD kind. */
static int check_api(const struct app__where *w, const json_t *doc, const char *kind)
{
	const char *api = json_string_value(json_object_get(doc, "apiVersion"));

	if (api == NULL || strcmp(api, ARGO_API) != 0)
		return app__err(w, CAIRN_EINVAL, "/apiVersion",
		                "%s has apiVersion '%s' (expected '" ARGO_API "')", kind,
		                api ? api : "");
	return 0;
}

static const struct app__field app_top[] = {
        {"status", APP_F_ANY, NULL},
        {"operation", APP_F_IGNORED, NULL},
        {NULL, 0, NULL},
};

int app__parse_application(cairn_app **out, json_t *manifest, const struct app__where *w)
{
	const json_t *spec = json_object_get(manifest, "spec");
	const json_t *meta = json_object_get(manifest, "metadata");
	const json_t *dest = json_object_get(spec, "destination");
	cairn_app *a = NULL;
	int rc;

	if ((rc = check_api(w, manifest, "Application")) < 0 ||
	    (rc = app__check_object(w, manifest, app__application_spec, app_top)) < 0)
		goto out;
	if (!json_is_object(spec)) {
		rc = app__err(w, CAIRN_EINVAL, "", "missing field 'spec' (expected a mapping)");
		goto out;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	a->revision_history_limit = -1;
	if ((rc = app__dup(&a->name, meta, "name")) < 0 ||
	    (rc = app__dup(&a->namespace_, meta, "namespace")) < 0 ||
	    (rc = app__dup(&a->project, spec, "project")) < 0 ||
	    (rc = app__strdup(&a->file, w->file)) < 0 || (rc = parse_sources(a, spec, w)) < 0 ||
	    (rc = app__dup(&a->dest_server, dest, "server")) < 0 ||
	    (rc = app__dup(&a->dest_name, dest, "name")) < 0 ||
	    (rc = app__dup(&a->dest_namespace, dest, "namespace")) < 0 ||
	    (rc = parse_sync_policy(a, json_object_get(spec, "syncPolicy"), w)) < 0)
		goto out;
	if (a->project == NULL || a->project[0] == '\0') {
		free(a->project);
		if ((rc = app__strdup(&a->project, "default")) < 0)
			goto out;
	}
	if (!json_is_object(dest) || ((a->dest_server == NULL || !a->dest_server[0]) &&
	                              (a->dest_name == NULL || !a->dest_name[0]))) {
		rc = app__err(w, CAIRN_EINVAL, dest ? "/spec/destination" : "/spec",
		              "application '%s': missing field 'spec.destination.server' or "
		              "'spec.destination.name' (expected the target cluster)",
		              a->name);
		goto out;
	}
	if (a->dest_server && a->dest_server[0] && a->dest_name && a->dest_name[0]) {
		rc = app__err(w, CAIRN_EINVAL, "/spec/destination",
		              "application '%s': 'spec.destination' has both server and name "
		              "(expected one of them)",
		              a->name);
		goto out;
	}
	if (json_is_integer(json_object_get(spec, "revisionHistoryLimit")))
		a->revision_history_limit =
		        json_integer_value(json_object_get(spec, "revisionHistoryLimit"));
	a->ignore_differences = json_object_get(spec, "ignoreDifferences");
	a->labels = json_object_get(meta, "labels");
	a->line = app__line(w, "");
	a->manifest = json_incref(manifest);
	*out = a;
	a = NULL;
	rc = 0;
out:
	app__app_free(a);
	return rc;
}

/* ---- AppProjects ---------------------------------------------------------- */

void app__project_free(cairn_app_project *p)
{
	if (p == NULL)
		return;
	free(p->name);
	app__strlist_free(p->source_repos, p->source_repo_count);
	for (size_t i = 0; i < p->destination_count; i++) {
		free(p->destinations[i].server);
		free(p->destinations[i].name);
		free(p->destinations[i].namespace_);
	}
	free(p->destinations);
	cairn_app_kind_rule *lists[4] = {p->cluster_allow, p->cluster_deny, p->ns_allow,
	                                 p->ns_deny};
	size_t counts[4] = {p->cluster_allow_count, p->cluster_deny_count, p->ns_allow_count,
	                    p->ns_deny_count};
	for (int l = 0; l < 4; l++) {
		for (size_t i = 0; i < counts[l]; i++) {
			free(lists[l][i].group);
			free(lists[l][i].kind);
		}
		free(lists[l]);
	}
	for (size_t i = 0; i < p->window_count; i++) {
		cairn_app_window *wi = &p->windows[i];
		free(wi->schedule);
		free(wi->time_zone);
		app__strlist_free(wi->applications, wi->application_count);
		app__strlist_free(wi->namespaces, wi->namespace_count);
		app__strlist_free(wi->clusters, wi->cluster_count);
	}
	free(p->windows);
	free(p->allowed_signers);
	free(p->file);
	free(p);
}

/* Argo CD's implicit "default" project permits everything. */
int app__project_default(cairn_app_project **out)
{
	cairn_app_project *p = calloc(1, sizeof(*p));
	int rc;

	if (p == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	p->implicit = 1;
	p->destinations = calloc(1, sizeof(*p->destinations));
	p->cluster_allow = calloc(1, sizeof(*p->cluster_allow));
	if (p->destinations == NULL || p->cluster_allow == NULL) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	p->destination_count = 1;
	p->cluster_allow_count = 1;
	if ((p->source_repos = calloc(1, sizeof(char *))) == NULL) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	p->source_repo_count = 1;
	if ((rc = app__strdup(&p->name, "default")) < 0 ||
	    (rc = app__strdup(&p->source_repos[0], "*")) < 0)
		goto out;
	if ((rc = app__strdup(&p->destinations[0].server, "*")) < 0 ||
	    (rc = app__strdup(&p->destinations[0].namespace_, "*")) < 0 ||
	    (rc = app__strdup(&p->destinations[0].name, "*")) < 0 ||
	    (rc = app__strdup(&p->cluster_allow[0].group, "*")) < 0 ||
	    (rc = app__strdup(&p->cluster_allow[0].kind, "*")) < 0)
		goto out;
	*out = p;
	p = NULL;
out:
	app__project_free(p);
	return rc;
}

static int parse_kind_rules(cairn_app_kind_rule **out, size_t *count, const json_t *arr)
{
	size_t n = json_array_size(arr);
	cairn_app_kind_rule *r;
	int rc;

	if (n == 0)
		return 0;
	if ((r = calloc(n, sizeof(*r))) == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	*out = r;
	*count = n;
	for (size_t i = 0; i < n; i++) {
		const json_t *x = json_array_get(arr, i);
		if ((rc = app__strdup(&r[i].group,
		                      json_string_value(json_object_get(x, "group")) ?: "")) < 0 ||
		    (rc = app__strdup(&r[i].kind,
		                      json_string_value(json_object_get(x, "kind")) ?: "*")) < 0)
			return rc;
	}
	return 0;
}

int app__parse_window(cairn_app_window *wi, const json_t *j, const struct app__where *w,
                      size_t index);

static int parse_project_spec(cairn_app_project *p, const json_t *spec, const struct app__where *w)
{
	const json_t *dests = json_object_get(spec, "destinations");
	const json_t *wins = json_object_get(spec, "syncWindows");
	int rc;

	if ((rc = app__strlist(&p->source_repos, &p->source_repo_count,
	                       json_object_get(spec, "sourceRepos"))) < 0)
		return rc;
	if (json_array_size(dests) > 0) {
		p->destinations = calloc(json_array_size(dests), sizeof(*p->destinations));
		if (p->destinations == NULL)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		p->destination_count = json_array_size(dests);
		for (size_t i = 0; i < p->destination_count; i++) {
			const json_t *d = json_array_get(dests, i);
			if ((rc = app__dup(&p->destinations[i].server, d, "server")) < 0 ||
			    (rc = app__dup(&p->destinations[i].name, d, "name")) < 0 ||
			    (rc = app__dup(&p->destinations[i].namespace_, d, "namespace")) < 0)
				return rc;
		}
	}
	p->ns_allow_set = json_object_get(spec, "namespaceResourceWhitelist") != NULL;
	if ((rc = parse_kind_rules(&p->cluster_allow, &p->cluster_allow_count,
	                           json_object_get(spec, "clusterResourceWhitelist"))) < 0 ||
	    (rc = parse_kind_rules(&p->cluster_deny, &p->cluster_deny_count,
	                           json_object_get(spec, "clusterResourceBlacklist"))) < 0 ||
	    (rc = parse_kind_rules(&p->ns_allow, &p->ns_allow_count,
	                           json_object_get(spec, "namespaceResourceWhitelist"))) < 0 ||
	    (rc = parse_kind_rules(&p->ns_deny, &p->ns_deny_count,
	                           json_object_get(spec, "namespaceResourceBlacklist"))) < 0)
		return rc;
	if (json_array_size(wins) > 0) {
		p->windows = calloc(json_array_size(wins), sizeof(*p->windows));
		if (p->windows == NULL)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		for (size_t i = 0; i < json_array_size(wins); i++) {
			p->window_count = i + 1;
			if ((rc = app__parse_window(&p->windows[i], json_array_get(wins, i), w,
			                            i)) < 0)
				return rc;
		}
	}
	return 0;
}

int app__parse_project(cairn_app_project **out, const json_t *doc, const struct app__where *w)
{
	const json_t *spec = json_object_get(doc, "spec");
	const json_t *ann = json_object_get(json_object_get(doc, "metadata"), "annotations");
	cairn_app_project *p = NULL;
	int rc;

	if ((rc = check_api(w, doc, "AppProject")) < 0 ||
	    (rc = app__check_object(w, doc, app__project_spec, app_top)) < 0)
		return rc;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	if ((rc = app__dup(&p->name, json_object_get(doc, "metadata"), "name")) < 0 ||
	    (rc = app__strdup(&p->file, w->file)) < 0 ||
	    (rc = app__dup(&p->allowed_signers, ann, "cairn.dev/allowed-signers")) < 0)
		goto out;
	p->line = app__line(w, "");
	if (json_array_size(json_object_get(spec, "signatureKeys")) > 0) {
		rc = app__err(w, CAIRN_EUNSUPPORTED, "/spec/signatureKeys",
		              "project '%s' lists 'spec.signatureKeys' (GnuPG key ids): OpenPGP "
		              "commit verification is not supported; give SSH allowed signers "
		              "with the annotation 'cairn.dev/allowed-signers' instead",
		              p->name);
		goto out;
	}
	if ((rc = parse_project_spec(p, spec, w)) < 0)
		goto out;
	*out = p;
	p = NULL;
out:
	app__project_free(p);
	return rc;
}

/* ---- glob rules ----------------------------------------------------------- */

int cairn_app_glob_list_match(char *const *patterns, size_t count, const char *s)
{
	int allowed = 0;

	if (s == NULL)
		s = "";
	for (size_t i = 0; i < count; i++) {
		const char *p = patterns[i];
		if (p[0] == '!') {
			if (fnmatch(p + 1, s, 0) == 0)
				return 0;
		} else if (fnmatch(p, s, 0) == 0) {
			allowed = 1;
		}
	}
	return allowed;
}

int cairn_app_project_source_ok(const cairn_app_project *p, const char *repo_url)
{
	return cairn_app_glob_list_match(p->source_repos, p->source_repo_count, repo_url);
}

/* One destination field: an unset rule field matches anything unset too. */
static int dest_field(const char *pattern, const char *value, int *negated)
{
	if (pattern == NULL || pattern[0] == '\0')
		return value == NULL || value[0] == '\0' ? 1 : -1;
	if (pattern[0] == '!') {
		*negated = 1;
		return fnmatch(pattern + 1, value ? value : "", 0) == 0 ? 0 : 1;
	}
	return fnmatch(pattern, value ? value : "", 0) == 0 ? 1 : 0;
}

/*
 * A destination is permitted when some rule matches it and no rule with a
 * negated field ("!ns") excludes it; a negated field matches every value
 * but the ones it names, as in Argo CD. The cluster is named by server
 * or by name, whichever the Application gives.
 */
int cairn_app_project_dest_ok(const cairn_app_project *p, const char *server, const char *name,
                              const char *namespace_)
{
	int allowed = 0;

	for (size_t i = 0; i < p->destination_count; i++) {
		const cairn_app_dest_rule *r = &p->destinations[i];
		int neg = 0, c, n;
		if (server && server[0])
			c = dest_field(r->server ? r->server : (r->name ? NULL : "*"), server,
			               &neg);
		else
			c = dest_field(r->name ? r->name : (r->server ? NULL : "*"), name, &neg);
		n = dest_field(r->namespace_ ? r->namespace_ : "*", namespace_, &neg);
		if (c < 0)
			c = 0;
		if (n < 0)
			n = 0;
		if (neg && !(c && n))
			return 0;
		if (c && n)
			allowed = 1;
	}
	return allowed;
}

static int kind_rules_match(const cairn_app_kind_rule *r, size_t n, const char *group,
                            const char *kind)
{
	for (size_t i = 0; i < n; i++)
		if (fnmatch(r[i].group, group ? group : "", 0) == 0 &&
		    fnmatch(r[i].kind, kind ? kind : "", 0) == 0)
			return 1;
	return 0;
}

int cairn_app_project_kind_ok(const cairn_app_project *p, const char *group, const char *kind,
                              int namespaced)
{
	if (namespaced) {
		if (p->ns_allow_set &&
		    !kind_rules_match(p->ns_allow, p->ns_allow_count, group, kind))
			return 0;
		return !kind_rules_match(p->ns_deny, p->ns_deny_count, group, kind);
	}
	if (!kind_rules_match(p->cluster_allow, p->cluster_allow_count, group, kind))
		return 0;
	return !kind_rules_match(p->cluster_deny, p->cluster_deny_count, group, kind);
}

/* ---- the set ----------------------------------------------------------------- */

int cairn_app_set_new(cairn_app_set **out)
{
	cairn_app_set *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	*out = s;
	return 0;
}

void cairn_app_set_free(cairn_app_set *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->count; i++)
		app__app_free(set->apps[i]);
	free(set->apps);
	for (size_t i = 0; i < set->project_count; i++)
		app__project_free(set->projects[i]);
	free(set->projects);
	app__notices_dispose(&set->notices);
	free(set);
}

struct app__notices *app__set_notices(cairn_app_set *set)
{
	return &set->notices;
}

static int grow(void **arr, size_t *cap, size_t count, size_t elem)
{
	void *n;
	size_t c;

	if (count >= CAIRN_APP_MAX_OBJECTS)
		return cairn_error_set(CAIRN_ELIMIT, "too many objects (more than %d)",
		                       CAIRN_APP_MAX_OBJECTS);
	if (count < *cap)
		return 0;
	c = *cap ? *cap * 2 : 16;
	if ((n = realloc(*arr, c * elem)) == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	*arr = n;
	*cap = c;
	return 0;
}

int app__set_add_app(cairn_app_set *set, cairn_app *a, const struct app__where *w)
{
	const cairn_app *old = cairn_app_set_find(set, a->name);
	int rc;

	if (old != NULL) {
		rc = cairn_error_set_at(CAIRN_EINVAL, w->file ? w->file : "", a->line, 0,
		                        "duplicate application '%s' (first defined at %s:%d)",
		                        a->name, old->file ? old->file : "", old->line);
		app__app_free(a);
		return rc;
	}
	if ((rc = grow((void **)&set->apps, &set->cap, set->count, sizeof(*set->apps))) < 0) {
		app__app_free(a);
		return rc;
	}
	set->apps[set->count++] = a;
	return 0;
}

static int add_project(cairn_app_set *set, cairn_app_project *p, const struct app__where *w)
{
	int rc;

	for (size_t i = 0; i < set->project_count; i++)
		if (strcmp(set->projects[i]->name, p->name) == 0) {
			rc = cairn_error_set_at(CAIRN_EINVAL, w->file ? w->file : "", p->line, 0,
			                        "duplicate project '%s' (first defined at %s:%d)",
			                        p->name, set->projects[i]->file,
			                        set->projects[i]->line);
			app__project_free(p);
			return rc;
		}
	if ((rc = grow((void **)&set->projects, &set->project_cap, set->project_count,
	               sizeof(*set->projects))) < 0) {
		app__project_free(p);
		return rc;
	}
	set->projects[set->project_count++] = p;
	return 0;
}

size_t cairn_app_set_count(const cairn_app_set *set)
{
	return set ? set->count : 0;
}

const cairn_app *cairn_app_set_at(const cairn_app_set *set, size_t i)
{
	return set && i < set->count ? set->apps[i] : NULL;
}

const cairn_app *cairn_app_set_find(const cairn_app_set *set, const char *name)
{
	for (size_t i = 0; set && name && i < set->count; i++)
		if (strcmp(set->apps[i]->name, name) == 0)
			return set->apps[i];
	return NULL;
}

const cairn_app_project *cairn_app_set_project(const cairn_app_set *set, const char *name)
{
	for (size_t i = 0; set && name && i < set->project_count; i++)
		if (strcmp(set->projects[i]->name, name) == 0)
			return set->projects[i];
	return NULL;
}

size_t cairn_app_set_notice_count(const cairn_app_set *set)
{
	return set ? set->notices.count : 0;
}

const char *cairn_app_set_notice(const cairn_app_set *set, size_t i)
{
	return set && i < set->notices.count ? set->notices.items[i] : NULL;
}

/* Mutable access for the binding step, which lives in env.c. */
cairn_app *app__set_app_mut(cairn_app_set *set, size_t i);
cairn_app *app__set_app_mut(cairn_app_set *set, size_t i)
{
	return i < set->count ? set->apps[i] : NULL;
}

int cairn_app_set_check(cairn_app_set *set)
{
	cairn_app_project *def = NULL;
	int rc;

	if (cairn_app_set_project(set, "default") == NULL) {
		struct app__where w = {"", NULL, 0, NULL, NULL};
		if ((rc = app__project_default(&def)) < 0 || (rc = add_project(set, def, &w)) < 0)
			return rc;
	}
	for (size_t i = 0; i < set->count; i++) {
		const cairn_app *a = set->apps[i];
		const cairn_app_project *p = cairn_app_set_project(set, a->project);
		if (p == NULL)
			return cairn_error_set_at(CAIRN_ENOTFOUND, a->file, a->line, 0,
			                          "application '%s' names project '%s', which is "
			                          "not defined",
			                          a->name, a->project);
		for (size_t s = 0; s < a->source_count; s++)
			if (!cairn_app_project_source_ok(p, a->sources[s].repo_url))
				return cairn_error_set_at(
				        CAIRN_EPERM, a->file, a->line, 0,
				        "application '%s': source repository '%s' "
				        "is not permitted by project '%s' "
				        "(sourceRepos)",
				        a->name, a->sources[s].repo_url, p->name);
		if (!cairn_app_project_dest_ok(p, a->dest_server, a->dest_name, a->dest_namespace))
			return cairn_error_set_at(
			        CAIRN_EPERM, a->file, a->line, 0,
			        "application '%s': destination '%s' namespace '%s' is not "
			        "permitted by project '%s' (destinations)",
			        a->name, a->dest_server ? a->dest_server : a->dest_name,
			        a->dest_namespace ? a->dest_namespace : "", p->name);
	}
	return 0;
}

/* ---- loading --------------------------------------------------------------- */

static int load_doc(cairn_app_set *set, json_t *doc, const struct app__where *w,
                    const cairn_app_load_opts *opts)
{
	const char *kind = json_string_value(json_object_get(doc, "kind"));
	cairn_app *a = NULL;
	cairn_app_project *p = NULL;
	int rc;

	if (!json_is_object(doc) || kind == NULL)
		return 0; /* not a Kubernetes-style object: not ours */
	if (strcmp(kind, "Application") == 0) {
		if ((rc = app__parse_application(&a, doc, w)) < 0)
			return rc;
		return app__set_add_app(set, a, w);
	}
	if (strcmp(kind, "AppProject") == 0) {
		if ((rc = app__parse_project(&p, doc, w)) < 0)
			return rc;
		return add_project(set, p, w);
	}
	if (strcmp(kind, "ApplicationSet") == 0) {
		if ((rc = check_api(w, doc, "ApplicationSet")) < 0 ||
		    (rc = app__check_object(w, doc, app__appset_spec, app_top)) < 0)
			return rc;
		return app__expand_appset(set, doc, w, opts);
	}
	return 0;
}

int cairn_app_set_load_data(cairn_app_set *set, const char *data, size_t len, const char *filename,
                            const cairn_app_load_opts *opts)
{
	json_t *docs = NULL;
	cairn_yaml_marks *marks = NULL;
	struct app__where w = {filename, NULL, 0, &set->notices, NULL};
	int rc;

	if (len > CAIRN_APP_MAX_FILE_BYTES)
		return cairn_error_set_at(CAIRN_ELIMIT, filename ? filename : "", 0, 0,
		                          "file too large (%zu bytes, at most %zu)", len,
		                          CAIRN_APP_MAX_FILE_BYTES);
	if ((rc = cairn_yaml_load(&docs, &marks, data, len, filename, NULL)) < 0)
		return rc;
	w.marks = marks;
	for (size_t i = 0; i < json_array_size(docs); i++) {
		w.doc = i;
		if ((rc = load_doc(set, json_array_get(docs, i), &w, opts)) < 0)
			goto out;
	}
	rc = 0;
out:
	json_decref(docs);
	cairn_yaml_marks_free(marks);
	return rc;
}

static int load_file(cairn_app_set *set, const char *path, const cairn_app_load_opts *opts)
{
	cairn_buf b = CAIRN_BUF_INIT(CAIRN_APP_MAX_FILE_BYTES);
	int rc;

	if ((rc = cairn_buf_read_file(&b, path)) == 0)
		rc = cairn_app_set_load_data(set, b.ptr ? b.ptr : "", b.len, path, opts);
	cairn_buf_dispose(&b);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int has_yaml_ext(const char *name)
{
	size_t n = strlen(name);

	return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
	       (n > 4 && strcmp(name + n - 4, ".yml") == 0) ||
	       (n > 5 && strcmp(name + n - 5, ".json") == 0);
}

int app__walk_files(char ***out, size_t *count, const char *dir, int depth);

/*
 * Collect the definition files below `dir` (hidden entries skipped, no
 * symlinked directories followed), each directory sorted, so loads are
 * reproducible.
 */
int app__walk_files(char ***out, size_t *count, const char *dir, int depth)
{
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int rc = 0;

	if (depth > 32)
		return cairn_error_set(CAIRN_ELIMIT, "folder '%s' nested too deep", dir);
	if ((d = opendir(dir)) == NULL)
		return cairn_error_set_errno(errno, "cannot open folder '%s'", dir);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if ((rc = grow((void **)&names, &cap, n, sizeof(*names))) < 0)
			goto out;
		if ((names[n] = malloc(strlen(dir) + strlen(de->d_name) + 2)) == NULL) {
			rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
			goto out;
		}
		memcpy(names[n], dir, strlen(dir));
		names[n][strlen(dir)] = '/';
		memcpy(names[n] + strlen(dir) + 1, de->d_name, strlen(de->d_name) + 1);
		n++;
	}
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (lstat(names[i], &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if ((rc = app__walk_files(out, count, names[i], depth + 1)) < 0)
				goto out;
		} else if (S_ISREG(st.st_mode) && has_yaml_ext(names[i])) {
			char **more;
			if (*count >= CAIRN_APP_MAX_OBJECTS) {
				rc = cairn_error_set(CAIRN_ELIMIT, "too many files below '%s'",
				                     dir);
				goto out;
			}
			if ((more = realloc(*out, (*count + 1) * sizeof(*more))) == NULL) {
				rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
				goto out;
			}
			*out = more;
			(*out)[(*count)++] = names[i];
			names[i] = NULL;
		}
	}
out:
	closedir(d);
	app__strlist_free(names, n);
	return rc;
}

int cairn_app_set_load(cairn_app_set *set, const char *path, const cairn_app_load_opts *opts)
{
	char **files = NULL;
	size_t n = 0;
	struct stat st;
	int rc;

	if (stat(path, &st) < 0)
		return cairn_error_set(CAIRN_ENOTFOUND, "no such file or folder '%s'", path);
	if (!S_ISDIR(st.st_mode))
		return load_file(set, path, opts);
	if ((rc = app__walk_files(&files, &n, path, 0)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if ((rc = load_file(set, files[i], opts)) < 0)
			goto out;
out:
	app__strlist_free(files, n);
	return rc;
}
