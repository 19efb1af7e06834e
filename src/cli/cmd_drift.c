/*
 * cmd_drift.c - `cairn drift watch|list|show`: run the watch-driven drift
 * detector in the foreground (what the daemon runs inside) and read the
 * drift records and orphans it writes to the state. See docs/drift.md.
 *
 * `watch APP...` loads Applications and Environments as `cairn render`
 * does (--apps/--environments/--config), renders each app in its
 * Environment at the revision its sources resolve to, and watches all of
 * them at once: apps sharing a cluster in one detector, each cluster's
 * detector on a thread of its own. `watch APP --path DIR` watches the
 * manifests of a local directory instead.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/app.h"
#include "cairn/audit.h"
#include "cairn/config.h"
#include "cairn/error.h"
#include "cairn/kube.h"
#include "cairn/render.h"
#include "cairn/source.h"
#include "cairn/state.h"
#include "cairn/sync.h"
#include "cli.h"

#define DRIFT_APPS_MAX 64
#define DRIFT_CLUSTERS_MAX 16

struct drift_args {
	const char *sub;
	const char *apps[DRIFT_APPS_MAX];
	size_t app_count;
	const char *path, *ns, *env, *mode, *environments, *kubeconfig, *context;
	const char *state_dir, *audit_key, *output, *id;
	const char *config, *apps_path, *repo_root; /* watch APP...: where apps come from */
	int no_fetch, orphans;
	int64_t interval_ms, for_ms;
	long events;
};

static volatile int drift_stop;

static void on_signal(int sig)
{
	(void)sig;
	drift_stop = 1;
}

static void drift_usage(FILE *out)
{
	fprintf(out,
	        "usage: cairn drift watch [APP...] [--apps PATH | --config FILE] [OPTIONS]\n"
	        "       cairn drift watch APP --path DIR [-n NS] [OPTIONS]\n"
	        "       cairn drift list [--app APP] [--env ENV] [--orphans] [-o json]\n"
	        "       cairn drift show ID [-o json] [--state-dir DIR]\n\n"
	        "watch renders each APP (default: every Application) in its Environment and\n"
	        "compares the live objects with it on every change the cluster reports, plus\n"
	        "a full comparison every --interval, and prints a line per drift and orphan.\n"
	        "Each app is watched in its Environment's cluster (or --kubeconfig/--context).\n\n"
	        "options:\n"
	        "  --apps PATH           Application definitions instead of the config's\n"
	        "  --config FILE         cairn.yaml (default $CAIRN_CONFIG)\n"
	        "  --repo-root DIR       read every repository URL from this local directory\n"
	        "  --no-fetch            use the git mirrors as they are\n"
	        "  --path DIR            watch APP rendered from this directory instead\n"
	        "  -n, --namespace NS    with --path: the app's destination namespace\n"
	        "  --env ENV             with --path: the environment; list: filter\n"
	        "  --environments PATH   Environment definitions (their drift: detect|correct)\n"
	        "  --mode detect|correct override the environment's mode (default detect)\n"
	        "  --interval D          full comparison period (default 3m)\n"
	        "  --for D               stop after D; --events N: after N reports\n"
	        "  --kubeconfig FILE, --context NAME   the cluster\n"
	        "  --state-dir DIR       where drift records are kept\n"
	        "  --orphans             list: the orphans kept by the last watches\n"
	        "  --audit-key FILE      record detections and corrections in the audit log\n"
	        "  -o json               list/show as JSON\n");
}

static int duration_ms(int64_t *out, const char *s)
{
	int64_t ns;

	if (cairn_duration_parse(&ns, s) < 0 || ns <= 0) {
		fprintf(stderr, "cairn drift: bad duration '%s'\n", s);
		return -1;
	}
	*out = ns / 1000000;
	return 0;
}

static int parse_opts(struct drift_args *a, int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"path", required_argument, NULL, 'p'},
	        {"namespace", required_argument, NULL, 'n'},
	        {"env", required_argument, NULL, 'E'},
	        {"environments", required_argument, NULL, 'e'},
	        {"mode", required_argument, NULL, 'm'},
	        {"interval", required_argument, NULL, 'i'},
	        {"for", required_argument, NULL, 'f'},
	        {"events", required_argument, NULL, 'N'},
	        {"kubeconfig", required_argument, NULL, 'K'},
	        {"context", required_argument, NULL, 'C'},
	        {"state-dir", required_argument, NULL, 's'},
	        {"audit-key", required_argument, NULL, 'k'},
	        {"app", required_argument, NULL, 'a'},
	        {"apps", required_argument, NULL, 'A'},
	        {"config", required_argument, NULL, 'c'},
	        {"repo-root", required_argument, NULL, 'R'},
	        {"no-fetch", no_argument, NULL, 'F'},
	        {"orphans", no_argument, NULL, 'O'},
	        {"output", required_argument, NULL, 'o'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":n:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			a->path = optarg;
			break;
		case 'n':
			a->ns = optarg;
			break;
		case 'E':
			a->env = optarg;
			break;
		case 'e':
			a->environments = optarg;
			break;
		case 'm':
			a->mode = optarg;
			break;
		case 'K':
			a->kubeconfig = optarg;
			break;
		case 'C':
			a->context = optarg;
			break;
		case 's':
			a->state_dir = optarg;
			break;
		case 'k':
			a->audit_key = optarg;
			break;
		case 'o':
			a->output = optarg;
			break;
		case 'A':
			a->apps_path = optarg;
			break;
		case 'c':
			a->config = optarg;
			break;
		case 'R':
			a->repo_root = optarg;
			break;
		case 'F':
			a->no_fetch = 1;
			break;
		case 'O':
			a->orphans = 1;
			break;
		case 'a':
			if (a->app_count == DRIFT_APPS_MAX)
				return -1;
			a->apps[a->app_count++] = optarg;
			break;
		case 'i':
			if (duration_ms(&a->interval_ms, optarg) < 0)
				return -1;
			break;
		case 'f':
			if (duration_ms(&a->for_ms, optarg) < 0)
				return -1;
			break;
		case 'N':
			a->events = strtol(optarg, NULL, 10);
			break;
		case 'h':
			drift_usage(stdout);
			return -2;
		case ':':
			fprintf(stderr, "cairn drift: option '%s' needs a value\n",
			        argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, "cairn drift: unknown option '%s'\n", argv[optind - 1]);
			return -1;
		}
	}
	for (; optind < argc; optind++) {
		if (strcmp(a->sub, "show") == 0 && a->id == NULL) {
			a->id = argv[optind];
		} else if (strcmp(a->sub, "watch") == 0 && a->app_count < DRIFT_APPS_MAX) {
			a->apps[a->app_count++] = argv[optind];
		} else {
			fprintf(stderr, "cairn drift %s: unexpected argument '%s'\n", a->sub,
			        argv[optind]);
			return -1;
		}
	}
	if (a->output != NULL && strcmp(a->output, "json") != 0) {
		fprintf(stderr, "cairn drift: unknown output format '%s': expected json\n",
		        a->output);
		return -1;
	}
	if (a->mode != NULL && strcmp(a->mode, "detect") != 0 && strcmp(a->mode, "correct") != 0) {
		fprintf(stderr, "cairn drift: unknown mode '%s': expected detect or correct\n",
		        a->mode);
		return -1;
	}
	return 0;
}

/*
 * The state directory of every subcommand, as `cairn render` finds it:
 * --state-dir, $CAIRN_STATE_DIR, the stateDir of the config (--config or
 * $CAIRN_CONFIG), else the default.
 */
static int state_dir_of(char **out, const struct drift_args *a)
{
	const char *flag = a->state_dir ? a->state_dir : getenv("CAIRN_STATE_DIR");
	const char *cfgp = a->config ? a->config : getenv("CAIRN_CONFIG");
	cairn_config cfg = {0};
	int rc;

	if (flag == NULL && cfgp != NULL && cairn_config_load(&cfg, cfgp) == 0)
		flag = cfg.audit.state_dir;
	cairn_error_clear(); /* a bad config is reported when the apps are loaded */
	rc = cairn_audit_state_dir(out, flag);
	cairn_config_dispose(&cfg);
	return rc;
}

static int open_state(cairn_state **out, const struct drift_args *a, int flags)
{
	char *dir = NULL;
	int rc;

	if ((rc = state_dir_of(&dir, a)) == 0)
		rc = cairn_state_open(out, dir, flags);
	free(dir);
	return rc;
}

static void fmt_time(char *out, size_t size, cairn_usec t)
{
	char buf[CAIRN_TIME_RFC3339_LEN];

	if (t <= 0) {
		(void)snprintf(out, size, "-");
		return;
	}
	cairn_time_format(buf, t);
	(void)snprintf(out, size, "%s", buf);
}

static json_t *drift_json(const cairn_state_drift *d)
{
	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:O, s:s?, s:s, s:I, s:I, s:I, s:I, "
	                 "s:I}",
	                 "id", (json_int_t)d->id, "app", d->app, "env", d->env, "group", d->group,
	                 "kind", d->kind, "namespace", d->namespace_, "name", d->name, "paths",
	                 d->paths, "fieldManager", d->field_manager, "mode", d->mode, "changedAt",
	                 (json_int_t)d->changed_at, "seenAt", (json_int_t)d->seen_at, "correctedAt",
	                 (json_int_t)d->corrected_at, "timeToDetectUs",
	                 (json_int_t)d->time_to_detect_us, "timeToCorrectUs",
	                 (json_int_t)d->time_to_correct_us);
}

static void print_paths(const json_t *paths, const char *indent)
{
	size_t i;
	json_t *p;

	json_array_foreach(paths, i, p)
	{
		char *o = json_dumps(json_object_get(p, "old"), JSON_ENCODE_ANY | JSON_COMPACT);
		char *n = json_dumps(json_object_get(p, "new"), JSON_ENCODE_ANY | JSON_COMPACT);
		const char *m = json_string_value(json_object_get(p, "manager"));

		printf("%s%s: %s -> %s (by %s)\n", indent,
		       json_string_value(json_object_get(p, "path")), o ? o : "null",
		       n ? n : "null", m ? m : "unknown");
		free(o);
		free(n);
	}
}

static int orphans_of(json_t **out, cairn_state *st, const struct drift_args *a,
                      cairn_state_drift **v, size_t n);
static void print_orphans(const json_t *orph, int header);

static int do_list(const struct drift_args *a)
{
	cairn_state *st = NULL;
	cairn_state_drift **v = NULL;
	size_t n = 0;
	json_t *arr = NULL, *orph = NULL;
	int rc;

	if ((rc = open_state(&st, a, CAIRN_STATE_CREATE)) < 0 ||
	    (rc = cairn_state_drift_list(&v, &n, st, a->app_count ? a->apps[0] : NULL, a->env, 0)) <
	            0 ||
	    (rc = orphans_of(&orph, st, a, v, n)) < 0)
		goto out;
	if (a->output != NULL) {
		arr = a->orphans ? json_incref(orph) : json_array();
		for (size_t i = 0; !a->orphans && i < n; i++)
			json_array_append_new(arr, drift_json(v[i]));
		char *s = json_dumps(arr, JSON_INDENT(2));
		printf("%s\n", s ? s : "[]");
		free(s);
		goto out;
	}
	if (a->orphans) {
		print_orphans(orph, 1);
		goto out;
	}
	printf("%-6s %-16s %-10s %-44s %-8s %-20s %s\n", "ID", "APP", "ENV", "OBJECT", "MODE",
	       "MANAGER", "CORRECTED");
	for (size_t i = 0; i < n; i++) {
		char obj[800];

		(void)snprintf(obj, sizeof(obj), "%s/%s/%s", v[i]->kind,
		               v[i]->namespace_[0] ? v[i]->namespace_ : "-", v[i]->name);
		printf("%-6lld %-16s %-10s %-44s %-8s %-20s %s\n", (long long)v[i]->id, v[i]->app,
		       v[i]->env[0] ? v[i]->env : "-", obj, v[i]->mode,
		       v[i]->field_manager ? v[i]->field_manager : "unknown",
		       v[i]->corrected_at ? "yes" : "no");
	}
	print_orphans(orph, 0);
out:
	json_decref(arr);
	json_decref(orph);
	cairn_state_drift_list_free(v, n);
	cairn_state_close(st);
	return rc;
}

static int do_show(const struct drift_args *a)
{
	cairn_state *st = NULL;
	cairn_state_drift *d = NULL;
	char *end, seen[64], changed[64], fixed[64];
	long long id;
	int rc;

	if (a->id == NULL)
		return cairn_error_set(CAIRN_EINVAL, "drift show needs an ID");
	id = strtoll(a->id, &end, 10);
	if (*end != '\0' || id <= 0)
		return cairn_error_set(CAIRN_EINVAL, "bad drift record id '%s'", a->id);
	if ((rc = open_state(&st, a, CAIRN_STATE_CREATE)) < 0 ||
	    (rc = cairn_state_drift_get(&d, st, id)) < 0)
		goto out;
	if (a->output != NULL) {
		json_t *j = drift_json(d);
		char *s = json_dumps(j, JSON_INDENT(2));

		printf("%s\n", s ? s : "{}");
		free(s);
		json_decref(j);
		goto out;
	}
	fmt_time(seen, sizeof(seen), d->seen_at);
	fmt_time(changed, sizeof(changed), d->changed_at);
	fmt_time(fixed, sizeof(fixed), d->corrected_at);
	printf("ID:          %lld\nApp:         %s\nEnvironment: %s\nObject:      %s%s%s/%s/%s\n"
	       "Mode:        %s\nManager:     %s\nChanged:     %s\nSeen:        %s\n"
	       "Corrected:   %s\nPaths:\n",
	       (long long)d->id, d->app, d->env[0] ? d->env : "-", d->group, d->group[0] ? "/" : "",
	       d->kind, d->namespace_[0] ? d->namespace_ : "-", d->name, d->mode,
	       d->field_manager ? d->field_manager : "unknown", changed, seen, fixed);
	print_paths(d->paths, "  ");
out:
	cairn_state_drift_free(d);
	cairn_state_close(st);
	return rc;
}

/* What one `drift watch` shares between the detectors of its clusters. */
struct watch_run {
	pthread_mutex_t lock; /* output, counts */
	size_t pending;       /* clusters whose watches do not run yet */
	size_t objects, watches;
	uint64_t reports, max_reports; /* max 0: no limit */
};

/*
 * One cluster: the apps deployed to it and one detector over them. `key`
 * is how the cluster was named (kubeconfig file and context, or in-cluster).
 */
struct cluster {
	char key[1024];
	const char *kubeconfig, *context;
	int in_cluster;
	cairn_kube_config *cfg;
	cairn_kube_client *kube;
	cairn_state *st;
	cairn_drift_app apps[DRIFT_APPS_MAX];
	size_t n;
	struct watch_run *run;
	cairn_sync_ctx ctx;
	cairn_drift_opts o;
	pthread_t th;
	int started, rc;
	char err[CAIRN_ERROR_MSG_MAX];
};

/* One app of the watch and what was made for it. */
struct watched {
	cairn_app_render_result rr;
	int rendered;
	cairn_ignore *ig;
	cairn_sync_request req;
	cairn_drift_mode mode;
};

/* Everything do_watch() holds, freed by watch_dispose(). */
struct watch {
	cairn_config cfg;
	char *state_dir;
	cairn_app_git *git;
	cairn_app_set *set;
	cairn_env_set *envs;
	json_t *objs; /* --path */
	struct watched w[DRIFT_APPS_MAX];
	size_t nw;
	struct cluster c[DRIFT_CLUSTERS_MAX];
	size_t nc;
	cairn_audit *log;
	struct watch_run run;
};

/* Reports of every cluster's detector, printed under one lock. */
static void on_report(void *ud, const cairn_drift_report *r)
{
	struct watch_run *run = ud;
	char id[1024];

	pthread_mutex_lock(&run->lock);
	cairn_res_id_format(r->id, id, sizeof(id));
	if (r->orphan) {
		printf("orphan app=%s env=%s object=%s\n", r->app, r->env[0] ? r->env : "-", id);
	} else {
		printf("drift id=%lld app=%s env=%s object=%s manager=%s seen=%lld "
		       "written=%lld%s%s\n",
		       (long long)r->record_id, r->app, r->env[0] ? r->env : "-", id,
		       r->manager ? r->manager : "unknown", (long long)r->seen_at,
		       (long long)r->written_at, r->corrected ? " corrected" : "",
		       r->error ? " correction-failed" : "");
		print_paths(r->paths, "  ");
		if (r->error != NULL)
			fprintf(stderr, "cairn drift: correcting %s: %s\n", id, r->error);
	}
	fflush(stdout);
	if (++run->reports == run->max_reports)
		drift_stop = 1; /* --events across the clusters */
	pthread_mutex_unlock(&run->lock);
}

/* One line once the watches of every cluster run. */
static void on_ready(void *ud, size_t objects, size_t watches)
{
	struct watch_run *run = ud;

	pthread_mutex_lock(&run->lock);
	run->objects += objects;
	run->watches += watches;
	if (run->pending > 0 && --run->pending == 0) {
		printf("watching %zu objects through %zu watches\n", run->objects, run->watches);
		fflush(stdout);
	}
	pthread_mutex_unlock(&run->lock);
}

/* The kube config of --kubeconfig/--context, the namespace overridden by -n. */
static int kube_setup(struct cluster *c, const struct drift_args *a)
{
	int rc = cairn_kube_config_for(&c->cfg, c->kubeconfig, c->context, c->in_cluster);

	if (rc == 0 && a->path != NULL && a->ns != NULL) {
		free(c->cfg->namespace_);
		c->cfg->namespace_ = strdup(a->ns);
		if (c->cfg->namespace_ == NULL)
			rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	if (rc == 0)
		rc = cairn_kube_client_new(&c->kube, c->cfg, NULL);
	return rc;
}

/* --mode, else the Environment's drift setting (selfHeal, its or the app's: correct). */
static cairn_drift_mode mode_of(const struct drift_args *a, const cairn_env *e, int app_heal)
{
	if (a->mode != NULL)
		return strcmp(a->mode, "correct") == 0 ? CAIRN_DRIFT_CORRECT : CAIRN_DRIFT_DETECT;
	if (app_heal || (e != NULL && (e->drift == CAIRN_ENV_DRIFT_CORRECT || e->self_heal)))
		return CAIRN_DRIFT_CORRECT;
	return CAIRN_DRIFT_DETECT;
}

static int open_audit(cairn_audit **out, const struct drift_args *a, const char *dir)
{
	cairn_audit_opts o = CAIRN_AUDIT_OPTS_INIT;
	cairn_audit_signer *signer = NULL;
	int rc;

	if (a->audit_key == NULL)
		return 0;
	if ((rc = cairn_audit_signer_load(&signer, a->audit_key)) == 0) {
		o.state_dir = dir;
		o.writable = 1;
		o.signer = signer;
		rc = cairn_audit_open(out, &o, NULL);
	}
	cairn_audit_signer_free(signer);
	return rc;
}

/*
 * The cluster `env` (may be NULL) names, as `cairn app sync` picks it:
 * --kubeconfig/--context, else the Environment's kubeconfig/context (or
 * in-cluster), else the default kubeconfig. Apps naming the same cluster
 * share one entry. Returns its index, or a negative error.
 */
static int cluster_for(struct watch *w, const struct drift_args *a, const cairn_env *env)
{
	const char *path = a->kubeconfig, *context = a->context;
	int in = 0;
	char key[1024];

	if (!path && !context && env && env->in_cluster) {
		in = 1;
	} else {
		if (!path && env)
			path = env->kubeconfig;
		if (!context && !a->kubeconfig && env)
			context = env->context;
	}
	(void)snprintf(key, sizeof(key), "%d\n%s\n%s", in, path ? path : "",
	               context ? context : "");
	for (size_t i = 0; i < w->nc; i++)
		if (strcmp(w->c[i].key, key) == 0)
			return (int)i;
	if (w->nc == DRIFT_CLUSTERS_MAX)
		return cairn_error_set(CAIRN_ELIMIT, "the apps deploy to more than %d clusters",
		                       DRIFT_CLUSTERS_MAX);
	memcpy(w->c[w->nc].key, key, sizeof(key));
	w->c[w->nc].kubeconfig = path;
	w->c[w->nc].context = context;
	w->c[w->nc].in_cluster = in;
	return (int)w->nc++;
}

/* Add a request (filled by the caller) to the detector of cluster `ci`. */
static void add_to_cluster(struct watch *w, int ci, struct watched *x)
{
	struct cluster *c = &w->c[ci];

	c->apps[c->n].req = &x->req;
	c->apps[c->n].mode = x->mode;
	c->apps[c->n].paused = NULL;
	c->n++;
}

/* `watch APP --path DIR`: the manifests of a local directory, one app. */
static int watch_path(struct watch *w, const struct drift_args *a)
{
	struct watched *x = &w->w[0];
	cairn_env_set *envs = NULL;
	const cairn_env *e = NULL;
	cairn_tree *t = NULL;
	int rc = 0, ci;

	if (a->app_count != 1)
		return cairn_error_set(CAIRN_EINVAL, "drift watch --path needs one APP");
	if (a->mode == NULL && a->environments != NULL && a->env != NULL) {
		if ((rc = cairn_env_set_load(&envs, a->environments)) < 0)
			goto out;
		if ((e = cairn_env_set_find(envs, a->env)) == NULL) {
			rc = cairn_error_set(CAIRN_ENOTFOUND, "no environment '%s' in '%s'", a->env,
			                     a->environments);
			goto out;
		}
	}
	x->mode = mode_of(a, e, 0);
	if ((rc = cairn_tree_open_dir(&t, a->path)) < 0)
		goto out;
	rc = cairn_render_is_kustomization(t, ".") == 1
	             ? cairn_render_kustomize(&w->objs, t, ".")
	             : cairn_render_directory(&w->objs, t, ".", 1);
	if (rc < 0 || (rc = ci = cluster_for(w, a, NULL)) < 0)
		goto out;
	rc = 0;
	x->req.app = a->apps[0];
	x->req.env = a->env ? a->env : "";
	x->req.dest_namespace = a->ns;
	x->req.manifests = w->objs;
	x->req.interpret_rollouts = 1; /* no Environment: the default, internal */
	w->nw = 1;
	add_to_cluster(w, ci, x);
out:
	cairn_tree_free(t);
	cairn_env_set_free(envs);
	return rc;
}

/* Config, state directory, mirrors, Applications and Environments, as `cairn render`. */
static int load_apps(struct watch *w, const struct drift_args *a)
{
	cairn_app_load_opts lo = CAIRN_APP_LOAD_OPTS_INIT;
	cairn_app_reader reader;
	const char *cfg = a->config ? a->config : getenv("CAIRN_CONFIG");
	const char *envp = a->environments;
	struct stat sb;
	int rc;

	if (!a->apps_path && !cfg)
		return cairn_error_set(CAIRN_EINVAL,
		                       "give --apps PATH, --config FILE or --path DIR");
	if (cfg && (rc = cairn_config_load(&w->cfg, cfg)) < 0)
		return rc;
	if ((rc = cairn_app_git_new(&w->git, w->state_dir, cfg ? &w->cfg : NULL, a->no_fetch)) < 0)
		return rc;
	if (!envp && w->cfg.environments_dir && stat(w->cfg.environments_dir, &sb) == 0)
		envp = w->cfg.environments_dir;
	if (envp && (rc = cairn_env_set_load(&w->envs, envp)) < 0)
		return rc;
	reader = a->repo_root ? cairn_app_reader_dir(a->repo_root) : cairn_app_reader_git(w->git);
	lo.reader = &reader;
	if ((rc = cairn_app_set_new(&w->set)) < 0)
		return rc;
	if (a->apps_path)
		rc = cairn_app_set_load(w->set, a->apps_path, &lo);
	for (size_t i = 0; rc == 0 && !a->apps_path && i < w->cfg.apps_count; i++) {
		const cairn_config_apps *x = &w->cfg.apps[i];

		rc = x->repo_url ? cairn_app_set_load_git(w->set, w->git, x->repo_url, x->revision,
		                                          x->path, &lo)
		                 : cairn_app_set_load(w->set, x->path, &lo);
	}
	if (rc == 0)
		rc = cairn_app_set_check(w->set);
	if (rc == 0)
		rc = cairn_app_set_bind(w->set, w->envs);
	for (size_t i = 0; rc == 0 && i < cairn_app_set_notice_count(w->set); i++)
		fprintf(stderr, "cairn: %s\n", cairn_app_set_notice(w->set, i));
	return rc;
}

/* Render one Application in its Environment and put it in its cluster's detector. */
static int watch_app(struct watch *w, const struct drift_args *a, const cairn_app *app)
{
	struct watched *x = &w->w[w->nw];
	const cairn_env *env =
	        app->environment && w->envs ? cairn_env_set_find(w->envs, app->environment) : NULL;
	cairn_app_render_opts ro = {&w->cfg, w->git, a->repo_root, NULL, 0, NULL};
	int rc, ci;

	if (w->nw == DRIFT_APPS_MAX)
		return cairn_error_set(CAIRN_ELIMIT, "more than %d applications to watch",
		                       DRIFT_APPS_MAX);
	memset(x, 0, sizeof(*x));
	if ((rc = cairn_sync_render_app(&x->rr, &ro, app, env)) < 0)
		return rc;
	x->rendered = 1;
	w->nw++;
	if ((rc = cairn_ignore_compile(&x->ig, app->ignore_differences, "spec.ignoreDifferences")) <
	    0)
		return cairn_error_prefix("application '%s'", app->name);
	if ((ci = cluster_for(w, a, env)) < 0)
		return ci;
	x->mode = mode_of(a, env, app->self_heal);
	x->req.app = app->name;
	x->req.env = app->environment ? app->environment : "";
	x->req.revision = x->rr.revision[0] ? x->rr.revision : "local";
	x->req.render_hash = x->rr.hash;
	x->req.dest_namespace =
	        app->dest_namespace ? app->dest_namespace : (env ? env->default_namespace : NULL);
	x->req.manifests = x->rr.objs;
	x->req.ignore = x->ig;
	x->req.interpret_rollouts = !(env && env->rollouts == CAIRN_ENV_ROLLOUTS_EXTERNAL);
	add_to_cluster(w, ci, x);
	return 0;
}

/* Every APP named (default: every Application loaded), rendered and placed. */
static int watch_apps(struct watch *w, const struct drift_args *a)
{
	int rc;

	if (a->ns != NULL)
		return cairn_error_set(CAIRN_EINVAL, "-n is for --path: an Application names "
		                                     "its destination namespace");
	if ((rc = load_apps(w, a)) < 0)
		return rc;
	for (size_t i = 0; i < a->app_count; i++) {
		const cairn_app *app = cairn_app_set_find(w->set, a->apps[i]);

		if (app == NULL)
			return cairn_error_set(CAIRN_ENOTFOUND, "application '%s' is not defined",
			                       a->apps[i]);
		if ((rc = watch_app(w, a, app)) < 0)
			return rc;
	}
	for (size_t i = 0; a->app_count == 0 && i < cairn_app_set_count(w->set); i++)
		if ((rc = watch_app(w, a, cairn_app_set_at(w->set, i))) < 0)
			return rc;
	if (w->nw == 0)
		return cairn_error_set(CAIRN_ENOTFOUND, "no application to watch");
	return 0;
}

/* A cluster's detector (on its own thread when there are several). */
static void *run_cluster(void *arg)
{
	struct cluster *c = arg;

	c->rc = cairn_drift_watch(&c->ctx, c->apps, c->n, &c->o);
	if (c->rc < 0) {
		(void)snprintf(c->err, sizeof(c->err), "%s", cairn_error_last()->message);
		drift_stop = 1; /* one cluster failing for good ends the watch */
	}
	return NULL;
}

/* Open each cluster's client and state, then run the detectors. */
static int run_clusters(struct watch *w, const struct drift_args *a)
{
	int rc = 0;

	w->run.pending = w->nc;
	w->run.max_reports = a->events > 0 ? (uint64_t)a->events : 0;
	for (size_t i = 0; i < w->nc; i++) {
		struct cluster *c = &w->c[i];
		cairn_drift_opts o = CAIRN_DRIFT_OPTS_INIT;

		if ((rc = kube_setup(c, a)) < 0 ||
		    (rc = cairn_state_open(&c->st, w->state_dir, CAIRN_STATE_CREATE)) < 0)
			return rc;
		c->ctx.kube = c->kube;
		c->ctx.state = c->st;
		c->ctx.audit = w->log;
		c->ctx.actor = "cairn-drift";
		c->ctx.trigger = "drift";
		c->ctx.track = CAIRN_TRACK_ANNOTATION;
		o.kube_cfg = c->cfg;
		o.full_interval_ms = a->interval_ms;
		o.duration_ms = a->for_ms;
		o.max_reports = w->nc == 1 ? w->run.max_reports : 0;
		o.stop = &drift_stop;
		o.report = on_report;
		o.report_ud = &w->run;
		o.ready = on_ready;
		c->o = o;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (w->nc == 1) {
		run_cluster(&w->c[0]);
	} else {
		for (size_t i = 0; i < w->nc; i++) {
			if (pthread_create(&w->c[i].th, NULL, run_cluster, &w->c[i]) != 0) {
				drift_stop = 1;
				rc = cairn_error_set(CAIRN_ERROR, "cannot start a thread");
				break;
			}
			w->c[i].started = 1;
		}
		for (size_t i = 0; i < w->nc; i++)
			if (w->c[i].started)
				pthread_join(w->c[i].th, NULL);
	}
	for (size_t i = 0; rc == 0 && i < w->nc; i++)
		if (w->c[i].rc < 0)
			rc = cairn_error_set(w->c[i].rc, "%s", w->c[i].err);
	return rc;
}

static void watch_dispose(struct watch *w)
{
	for (size_t i = 0; i < w->nc; i++) {
		cairn_state_close(w->c[i].st);
		cairn_kube_client_free(w->c[i].kube);
		cairn_kube_config_free(w->c[i].cfg);
	}
	for (size_t i = 0; i < w->nw; i++) {
		cairn_ignore_free(w->w[i].ig);
		if (w->w[i].rendered)
			cairn_app_render_result_dispose(&w->w[i].rr);
	}
	json_decref(w->objs);
	cairn_app_set_free(w->set);
	cairn_env_set_free(w->envs);
	cairn_app_git_free(w->git);
	cairn_config_dispose(&w->cfg);
	free(w->state_dir);
	pthread_mutex_destroy(&w->run.lock);
}

static int do_watch(const struct drift_args *a)
{
	struct watch *w = calloc(1, sizeof(*w));
	int rc;

	if (w == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	pthread_mutex_init(&w->run.lock, NULL);
	if ((rc = state_dir_of(&w->state_dir, a)) < 0 ||
	    (rc = a->path ? watch_path(w, a) : watch_apps(w, a)) < 0 ||
	    (rc = open_audit(&w->log, a, w->state_dir)) < 0)
		goto out;
	rc = run_clusters(w, a);
out:
	if (w->log != NULL && cairn_audit_close(w->log) < 0 && rc == 0)
		rc = -1;
	watch_dispose(w);
	free(w);
	return rc;
}

/* Add the pair (app, env) to `pairs` ({"app\nenv": [app, env]}) if the filters keep it. */
static void add_pair(json_t *pairs, const struct drift_args *a, const char *app, const char *env)
{
	char key[600];
	int keep = a->app_count == 0;

	for (size_t i = 0; i < a->app_count; i++)
		keep |= strcmp(a->apps[i], app) == 0;
	if (!keep || (a->env != NULL && strcmp(a->env, env) != 0))
		return;
	(void)snprintf(key, sizeof(key), "%s\n%s", app, env);
	json_object_set_new(pairs, key, json_pack("[s,s]", app, env));
}

/*
 * The orphans kept in the state's key/value table ("drift.orphans/APP/ENV",
 * written by each watch) of every app and environment we know of: those of
 * the drift records `v`, --app/--env, and the Applications of --apps or
 * the config when given. A new array of {"app","env","object"}.
 */
static int orphans_of(json_t **out, cairn_state *st, const struct drift_args *a,
                      cairn_state_drift **v, size_t n)
{
	json_t *pairs = json_object(), *arr = json_array(), *p;
	const char *k;
	int rc = 0;

	if (pairs == NULL || arr == NULL) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		add_pair(pairs, a, v[i]->app, v[i]->env);
	for (size_t i = 0; i < a->app_count; i++)
		add_pair(pairs, a, a->apps[i], a->env ? a->env : "");
	if (a->apps_path || a->config) {
		struct watch *w = calloc(1, sizeof(*w));

		if (w == NULL)
			rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		else if ((rc = state_dir_of(&w->state_dir, a)) == 0)
			rc = load_apps(w, a);
		for (size_t i = 0; rc == 0 && i < cairn_app_set_count(w->set); i++) {
			const cairn_app *x = cairn_app_set_at(w->set, i);

			add_pair(pairs, a, x->name, x->environment ? x->environment : "");
		}
		if (w != NULL) {
			pthread_mutex_init(&w->run.lock, NULL);
			watch_dispose(w);
		}
		free(w);
		if (rc < 0)
			goto out;
	}
	json_object_foreach(pairs, k, p)
	{
		const char *app = json_string_value(json_array_get(p, 0));
		const char *env = json_string_value(json_array_get(p, 1));
		char key[CAIRN_STATE_KV_KEY_MAX], *text = NULL;
		json_t *ids, *id;
		size_t i;

		(void)snprintf(key, sizeof(key), "drift.orphans/%s/%s", app, env);
		rc = cairn_state_kv_get(&text, st, key);
		if (rc == CAIRN_ENOTFOUND) {
			cairn_error_clear();
			rc = 0;
			continue;
		}
		if (rc < 0)
			goto out;
		ids = json_loads(text, 0, NULL);
		free(text);
		json_array_foreach(ids, i, id)
		        json_array_append_new(arr, json_pack("{s:s,s:s,s:s?}", "app", app, "env",
		                                             env, "object", json_string_value(id)));
		json_decref(ids);
	}
	*out = arr;
	arr = NULL;
out:
	json_decref(pairs);
	json_decref(arr);
	return rc;
}

/* The orphans as a table (`header`: print one even when there are none). */
static void print_orphans(const json_t *orph, int header)
{
	size_t i;
	json_t *o;

	if (json_array_size(orph) == 0 && !header)
		return;
	printf("%s%-16s %-10s %s\n", header ? "" : "\nORPHANS\n", "APP", "ENV", "OBJECT");
	json_array_foreach(orph, i, o)
	{
		const char *env = json_string_value(json_object_get(o, "env"));

		printf("%-16s %-10s %s\n", json_string_value(json_object_get(o, "app")),
		       env && env[0] ? env : "-", json_string_value(json_object_get(o, "object")));
	}
}

int cmd_drift(int argc, char **argv)
{
	struct drift_args a = {0};
	int rc;

	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		drift_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	a.sub = argv[1];
	if (strcmp(a.sub, "watch") && strcmp(a.sub, "list") && strcmp(a.sub, "show")) {
		fprintf(stderr,
		        "cairn drift: unknown subcommand '%s' (expected watch, list or show)\n",
		        a.sub);
		return 2;
	}
	rc = parse_opts(&a, argc - 1, argv + 1);
	if (rc == -2)
		return 0;
	if (rc < 0)
		return 2;
	if (strcmp(a.sub, "watch") == 0)
		rc = do_watch(&a);
	else if (strcmp(a.sub, "list") == 0)
		rc = do_list(&a);
	else
		rc = do_show(&a);
	if (rc < 0) {
		fprintf(stderr, "cairn drift %s: %s\n", a.sub, cairn_error_last()->message);
		return 1;
	}
	return 0;
}
