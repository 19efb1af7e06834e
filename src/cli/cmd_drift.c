/*
 * cmd_drift.c - `cairn drift watch|list|show`: run the watch-driven drift
 * detector in the foreground (what the daemon runs inside) and read the
 * drift records it writes to the state. See docs/drift.md.
 */
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/app.h"
#include "cairn/audit.h"
#include "cairn/error.h"
#include "cairn/kube.h"
#include "cairn/render.h"
#include "cairn/source.h"
#include "cairn/state.h"
#include "cairn/sync.h"
#include "cli.h"

#define DRIFT_APPS_MAX 16

struct drift_args {
	const char *sub;
	const char *apps[DRIFT_APPS_MAX];
	size_t app_count;
	const char *path, *ns, *env, *mode, *environments, *kubeconfig, *context;
	const char *state_dir, *audit_key, *output, *id;
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
	        "usage: cairn drift watch APP... --path DIR [OPTIONS]\n"
	        "       cairn drift list [--app APP] [--env ENV] [-o json] [--state-dir DIR]\n"
	        "       cairn drift show ID [-o json] [--state-dir DIR]\n\n"
	        "watch compares the live objects of APP (rendered from DIR, tracked as APP)\n"
	        "with their desired state on every change the cluster reports, plus a full\n"
	        "comparison every --interval, and prints a line per drift and orphan.\n\n"
	        "options:\n"
	        "  --path DIR            the manifests of the app (plain directory or "
	        "kustomization)\n"
	        "  -n, --namespace NS    the app's destination namespace\n"
	        "  --env ENV             the environment (drift mode from --environments)\n"
	        "  --environments PATH   Environment definitions (their drift: detect|correct)\n"
	        "  --mode detect|correct override the environment's mode (default detect)\n"
	        "  --interval D          full comparison period (default 3m)\n"
	        "  --for D               stop after D; --events N: after N reports\n"
	        "  --kubeconfig FILE, --context NAME   the cluster\n"
	        "  --state-dir DIR       where drift records are kept\n"
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

static int open_state(cairn_state **out, const struct drift_args *a, int flags)
{
	char *dir = NULL;
	const char *flag = a->state_dir;
	int rc;

	if (flag == NULL)
		flag = getenv("CAIRN_STATE_DIR");
	if ((rc = cairn_audit_state_dir(&dir, flag)) == 0)
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

static int do_list(const struct drift_args *a)
{
	cairn_state *st = NULL;
	cairn_state_drift **v = NULL;
	size_t n = 0;
	json_t *arr = NULL;
	int rc;

	if ((rc = open_state(&st, a, CAIRN_STATE_CREATE)) < 0 ||
	    (rc = cairn_state_drift_list(&v, &n, st, a->app_count ? a->apps[0] : NULL, a->env, 0)) <
	            0)
		goto out;
	if (a->output != NULL) {
		arr = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, drift_json(v[i]));
		char *s = json_dumps(arr, JSON_INDENT(2));
		printf("%s\n", s ? s : "[]");
		free(s);
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
out:
	json_decref(arr);
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

static void on_report(void *ud, const cairn_drift_report *r)
{
	char id[1024];

	(void)ud;
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
}

static void on_ready(void *ud, size_t objects, size_t watches)
{
	(void)ud;
	printf("watching %zu objects through %zu watches\n", objects, watches);
	fflush(stdout);
}

/* The kube config of --kubeconfig/--context, the namespace overridden by -n. */
static int kube_setup(cairn_kube_config **cfg, cairn_kube_client **kube, const struct drift_args *a)
{
	cairn_kubeconfig *kc = NULL;
	int rc = cairn_kubeconfig_load(&kc, a->kubeconfig, CAIRN_KUBECONFIG_TRUSTED);

	if (rc == 0)
		rc = cairn_kube_config_resolve(cfg, kc, a->context);
	cairn_kubeconfig_free(kc);
	if (rc == 0 && a->ns != NULL) {
		free((*cfg)->namespace_);
		(*cfg)->namespace_ = strdup(a->ns);
		if ((*cfg)->namespace_ == NULL)
			rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	if (rc == 0)
		rc = cairn_kube_client_new(kube, *cfg, NULL);
	return rc;
}

/* --mode, else the environment's drift setting (selfHeal counts as correct). */
static int watch_mode(cairn_drift_mode *out, const struct drift_args *a)
{
	cairn_env_set *envs = NULL;
	const cairn_env *e;
	int rc = 0;

	*out = CAIRN_DRIFT_DETECT;
	if (a->mode != NULL) {
		*out = strcmp(a->mode, "correct") == 0 ? CAIRN_DRIFT_CORRECT : CAIRN_DRIFT_DETECT;
		return 0;
	}
	if (a->environments == NULL || a->env == NULL)
		return 0;
	if ((rc = cairn_env_set_load(&envs, a->environments)) < 0)
		return rc;
	e = cairn_env_set_find(envs, a->env);
	if (e == NULL)
		rc = cairn_error_set(CAIRN_ENOTFOUND, "no environment '%s' in '%s'", a->env,
		                     a->environments);
	else if (e->drift == CAIRN_ENV_DRIFT_CORRECT || e->self_heal)
		*out = CAIRN_DRIFT_CORRECT;
	cairn_env_set_free(envs);
	return rc;
}

static int open_audit(cairn_audit **out, const struct drift_args *a)
{
	cairn_audit_opts o = CAIRN_AUDIT_OPTS_INIT;
	cairn_audit_signer *signer = NULL;
	char *dir = NULL;
	int rc;

	if (a->audit_key == NULL)
		return 0;
	if ((rc = cairn_audit_signer_load(&signer, a->audit_key)) == 0 &&
	    (rc = cairn_audit_state_dir(&dir, a->state_dir ? a->state_dir
	                                                   : getenv("CAIRN_STATE_DIR"))) == 0) {
		o.state_dir = dir;
		o.writable = 1;
		o.signer = signer;
		rc = cairn_audit_open(out, &o, NULL);
	}
	cairn_audit_signer_free(signer);
	free(dir);
	return rc;
}

static int do_watch(const struct drift_args *a)
{
	cairn_kube_config *cfg = NULL;
	cairn_kube_client *kube = NULL;
	cairn_state *st = NULL;
	cairn_audit *log = NULL;
	cairn_tree *t = NULL;
	json_t *objs = NULL;
	cairn_sync_request req[DRIFT_APPS_MAX];
	cairn_drift_app apps[DRIFT_APPS_MAX];
	cairn_drift_opts o = CAIRN_DRIFT_OPTS_INIT;
	cairn_sync_ctx ctx = {0};
	cairn_drift_mode mode;
	int rc;

	if (a->app_count != 1 || a->path == NULL)
		return cairn_error_set(CAIRN_EINVAL, "drift watch needs one APP and --path DIR");
	if ((rc = watch_mode(&mode, a)) < 0 || (rc = kube_setup(&cfg, &kube, a)) < 0 ||
	    (rc = open_state(&st, a, CAIRN_STATE_CREATE)) < 0 || (rc = open_audit(&log, a)) < 0 ||
	    (rc = cairn_tree_open_dir(&t, a->path)) < 0)
		goto out;
	rc = cairn_render_is_kustomization(t, ".") == 1 ? cairn_render_kustomize(&objs, t, ".")
	                                                : cairn_render_directory(&objs, t, ".", 1);
	if (rc < 0)
		goto out;
	memset(req, 0, sizeof(req));
	req[0].app = a->apps[0];
	req[0].env = a->env ? a->env : "";
	req[0].dest_namespace = a->ns;
	req[0].manifests = objs;
	apps[0].req = &req[0];
	apps[0].mode = mode;
	ctx.kube = kube;
	ctx.state = st;
	ctx.audit = log;
	ctx.actor = "cairn-drift";
	ctx.trigger = "drift";
	o.kube_cfg = cfg;
	o.full_interval_ms = a->interval_ms;
	o.duration_ms = a->for_ms;
	o.max_reports = a->events > 0 ? (uint64_t)a->events : 0;
	o.stop = &drift_stop;
	o.report = on_report;
	o.ready = on_ready;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	rc = cairn_drift_watch(&ctx, apps, 1, &o);
out:
	json_decref(objs);
	cairn_tree_free(t);
	if (log != NULL && cairn_audit_close(log) < 0 && rc == 0)
		rc = -1;
	cairn_state_close(st);
	cairn_kube_client_free(kube);
	cairn_kube_config_free(cfg);
	return rc;
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
