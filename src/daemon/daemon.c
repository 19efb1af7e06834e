/*
 * daemon.c - cairnd's core: definitions, the state-directory lock, the audit
 * log, the scheduler and the HTTP server wired together, and the reconcile
 * a worker runs for one application (see cairnd.h, docs/daemon.md).
 *
 * Definitions are a snapshot (struct cairnd_defs) with a reference count:
 * a reconcile or an API request takes a reference, a reload builds a new
 * snapshot and swaps the pointer, and the old one is freed by whoever
 * drops the last reference, so a reload never pulls definitions from under
 * work in flight. The git mirrors are used under one mutex (resolve and
 * render); the sync itself, which waits on the cluster, runs unlocked.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cairn/error.h"
#include "cairn/kube.h"
#include "cairn/log.h"
#include "cairn/render.h"
#include "cairn/state.h"
#include "cairnd.h"
#include "driftd.h"
#include "witness.h"

static void defs_free(struct cairnd_defs *x)
{
	if (!x)
		return;
	cairn_app_set_free(x->apps);
	cairn_env_set_free(x->envs);
	cairn_config_dispose(&x->cfg);
	free(x);
}

/* Load cairn.yaml, the Applications (files or repositories) and Environments. */
static int defs_load(struct cairnd_defs **out, const char *config, const char *state_dir)
{
	cairn_app_load_opts opts = CAIRN_APP_LOAD_OPTS_INIT;
	struct cairnd_defs *x = calloc(1, sizeof(*x));
	cairn_app_git *git = NULL;
	cairn_app_reader reader;
	struct stat st;
	int rc;

	if (!x)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	if ((rc = cairn_config_load(&x->cfg, config)) < 0 ||
	    (rc = cairn_app_set_new(&x->apps)) < 0 ||
	    (rc = cairn_app_git_new(&git, state_dir, &x->cfg, 0)) < 0)
		goto out;
	reader = cairn_app_reader_git(git);
	opts.reader = &reader;
	for (size_t i = 0; i < x->cfg.apps_count; i++) {
		const cairn_config_apps *a = &x->cfg.apps[i];

		rc = a->repo_url ? cairn_app_set_load_git(x->apps, git, a->repo_url, a->revision,
		                                          a->path, &opts)
		                 : cairn_app_set_load(x->apps, a->path, &opts);
		if (rc < 0)
			goto out;
	}
	if ((rc = cairn_app_set_check(x->apps)) < 0)
		goto out;
	if (x->cfg.environments_dir && stat(x->cfg.environments_dir, &st) == 0 &&
	    (rc = cairn_env_set_load(&x->envs, x->cfg.environments_dir)) < 0)
		goto out;
	if ((rc = cairn_app_set_bind(x->apps, x->envs)) < 0)
		goto out;
	x->refs = 1;
	*out = x;
	x = NULL;
out:
	cairn_app_git_free(git);
	defs_free(x);
	return rc;
}

struct cairnd_defs *cairnd_defs_get(cairnd *d)
{
	struct cairnd_defs *x;

	pthread_mutex_lock(&d->mu);
	x = d->defs;
	x->refs++;
	pthread_mutex_unlock(&d->mu);
	return x;
}

void cairnd_defs_put(cairnd *d, struct cairnd_defs *x)
{
	int last;

	if (!x)
		return;
	pthread_mutex_lock(&d->mu);
	last = --x->refs == 0;
	pthread_mutex_unlock(&d->mu);
	if (last)
		defs_free(x);
}

/* Tell the scheduler which apps exist now. */
static int sched_apps(cairnd *d, struct cairnd_defs *x, int initial)
{
	size_t n = cairn_app_set_count(x->apps);
	const char **names = calloc(n ? n : 1, sizeof(*names));
	int rc;

	if (!names)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		names[i] = cairn_app_set_at(x->apps, i)->name;
	rc = cairn_sched_set_apps(d->sched, names, n, initial);
	free(names);
	return rc;
}

/*
 * Actions the audit module does not list yet (docs/audit.md) are written
 * as "x-<action>" so that the event is kept rather than refused; once the
 * module knows the name the entry carries it as is.
 */
void cairnd_audit(cairnd *d, const char *actor, const char *action, const char *app,
                  const char *env, json_t *details)
{
	cairn_audit_subject subj = {.app = app, .env = env};
	char x[80];

	if (d->audit && cairn_audit_action_check(action) < 0) {
		snprintf(x, sizeof(x), "x-%s", action);
		action = x;
	}
	cairn_error_clear();
	if (d->audit && cairn_audit_record(d->audit, NULL, actor ? actor : "cairnd", action,
	                                   app ? &subj : NULL, details) < 0)
		cairn_log_warn("audit record '%s' failed: %s", action, cairn_error_last()->message);
	json_decref(details);
}

void cairnd_audit_trigger(cairnd *d, const char *actor, const char *action, json_t *names,
                          json_t *details)
{
	struct cairnd_defs *x = cairnd_defs_get(d);
	size_t i;
	json_t *v;

	json_array_foreach(names, i, v)
	{
		const cairn_app *a = cairn_app_set_find(x->apps, json_string_value(v));

		cairnd_audit(d, actor, action, json_string_value(v), a ? a->environment : NULL,
		             json_incref(details));
	}
	cairnd_defs_put(d, x);
	json_decref(details);
}

/* The flock that keeps a second daemon off the same state directory. */
static int take_lock(cairnd *d)
{
	char path[PATH_MAX];

	if (mkdir(d->state_dir, 0700) < 0 && errno != EEXIST)
		return cairn_error_set(CAIRN_EIO, "cannot create state directory '%s': %s",
		                       d->state_dir, strerror(errno));
	snprintf(path, sizeof(path), "%s/cairnd.lock", d->state_dir);
	d->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (d->lock_fd < 0)
		return cairn_error_set(CAIRN_EIO, "cannot open '%s': %s", path, strerror(errno));
	if (flock(d->lock_fd, LOCK_EX | LOCK_NB) < 0)
		return cairn_error_set(
		        CAIRN_EBUSY,
		        "another cairnd is running on state directory '%s' (lock '%s' "
		        "is held)",
		        d->state_dir, path);
	return 0;
}

/* The writable audit log when cairn.yaml names a key; else none (logged). */
static int open_audit(cairnd *d)
{
	const cairn_audit_config *ac = &d->defs->cfg.audit;
	cairn_audit_opts opts = CAIRN_AUDIT_OPTS_INIT;
	cairn_audit_signer *signer = NULL;
	int rc;

	if (!ac->key_file || !*ac->key_file) {
		cairn_log_warn("no audit.key in '%s': nothing is recorded in the audit trail",
		               d->config_path);
		return 0;
	}
	if ((rc = cairn_audit_signer_load(&signer, ac->key_file)) < 0)
		return cairn_error_prefix("loading the audit key: ");
	opts.state_dir = d->state_dir;
	opts.writable = 1;
	opts.signer = signer;
	opts.origin = ac->origin;
	opts.checkpoint_every = ac->checkpoint_every;
	opts.checkpoint_interval_ns = ac->checkpoint_interval;
	opts.sync = ac->sync;
	rc = cairn_audit_open(&d->audit, &opts, NULL);
	cairn_audit_signer_free(signer);
	return rc < 0 ? cairn_error_prefix("opening the audit log: ") : 0;
}

static int reconcile_cb(void *ud, const char *app, const char *reason)
{
	if (strcmp(reason, "rollout") == 0)
		return cairnd_rollouts_tick_app(ud, app);
	/* a sync asked for through the API is a manual sync: it runs whatever the
	 * app's automation says (Argo CD's "Sync" button); the other triggers
	 * sync automated apps only */
	return cairnd_reconcile_app(
	        ud, app, strcmp(reason, "api") == 0 ? CAIRND_SYNC_FORCE : CAIRND_SYNC_AUTO,
	        "cairnd", reason, NULL);
}

/* Split "HOST:PORT" (the last ':' separates) into the server options. */
static int parse_listen(cairn_http_opts *o, char *host, size_t size, const char *listen)
{
	const char *colon = strrchr(listen, ':');
	char *end;
	long port;

	if (!colon || (size_t)(colon - listen) >= size)
		return cairn_error_set(CAIRN_EINVAL, "bad listen address '%s': want HOST:PORT",
		                       listen);
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535)
		return cairn_error_set(CAIRN_EINVAL, "bad port in listen address '%s'", listen);
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	o->address = host;
	o->port = (int)port;
	return 0;
}

/*
 * A verified push or tag webhook: every app of a repository the payload
 * names, tracking one of the refs that moved, is queued. The payload
 * decides nothing else: the reconcile fetches and deploys what git says.
 */
static void webhook_cb(void *ud, const cairn_webhook_trigger *t)
{
	cairnd *d = ud;
	const char *refs[64];
	char actor[64];
	json_t *names = json_array(), *jrefs = json_array();
	size_t n = 0;

	for (size_t i = 0; i < t->n_refs && n < 64; i++)
		if (t->refs[i].ref) {
			refs[n++] = t->refs[i].ref;
			json_array_append_new(jrefs, json_string(t->refs[i].ref));
		}
	for (size_t i = 0; i < t->n_urls; i++) {
		if (cairnd_trigger_repo(d, t->urls[i], refs, n, "webhook", names) == 0)
			continue;
		/* The signature proves the sender knows the forge's secret: the
		 * actor is the forge, never a name from the payload. */
		snprintf(actor, sizeof(actor), "webhook:%s", cairn_forge_name(t->forge));
		cairnd_audit_trigger(d, actor, "trigger.webhook", names,
		                     json_pack("{s:s, s:s?, s:s?, s:O}", "repo", t->urls[i],
		                               "event", t->event, "delivery", t->delivery, "refs",
		                               jrefs));
		break; /* the other URLs name the same repository */
	}
	json_decref(names);
	json_decref(jrefs);
}

/*
 * Webhook secrets: `webhooks.<forge>.secret` / `secretFile` from
 * cairn.yaml, overridden by the environment variable
 * CAIRN_WEBHOOK_SECRET_GITHUB (GITLAB, GITEA, BITBUCKET) when it is set and
 * not empty; a forge with neither is off (a secret is mandatory). The
 * copies live in `d` for the server's life (it borrows them).
 */
static int webhook_secrets(cairnd *d, cairn_http_opts *o)
{
	static const char *const vars[CAIRN_FORGE_COUNT] = {
	        [CAIRN_FORGE_GITHUB] = "CAIRN_WEBHOOK_SECRET_GITHUB",
	        [CAIRN_FORGE_GITLAB] = "CAIRN_WEBHOOK_SECRET_GITLAB",
	        [CAIRN_FORGE_GITEA] = "CAIRN_WEBHOOK_SECRET_GITEA",
	        [CAIRN_FORGE_BITBUCKET] = "CAIRN_WEBHOOK_SECRET_BITBUCKET"};

	for (int f = 0; f < CAIRN_FORGE_COUNT; f++) {
		const char *v = getenv(vars[f]);

		if (!v || !*v)
			v = f < CAIRN_CONFIG_FORGES ? d->defs->cfg.webhook_secrets[f] : NULL;
		if (v && !(d->secrets[f] = strdup(v)))
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		o->secrets[f] = d->secrets[f];
	}
	return 0;
}

static int make_server(cairnd *d, const char *listen)
{
	static char host[256];
	cairn_http_opts o = CAIRN_HTTP_OPTS_INIT;
	char path[PATH_MAX];
	int rc;

	if (!listen)
		listen = d->defs->cfg.listen_api ? d->defs->cfg.listen_api : "127.0.0.1:8470";
	if ((rc = parse_listen(&o, host, sizeof(host), listen)) < 0)
		return rc;
	snprintf(path, sizeof(path), "%s/cairnd.sock", d->state_dir);
	if (!(d->unix_path = strdup(path)))
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	o.unix_path = d->unix_path;
	o.auth = d->auth;
	o.metrics = d->metrics;
	o.threads = 4;
	o.on_trigger = webhook_cb;
	o.trigger_ud = d;
	o.tls_cert_file = d->defs->cfg.tls_cert_file;
	o.tls_key_file = d->defs->cfg.tls_key_file;
	o.rate = d->defs->cfg.webhook_rate;
	o.burst = d->defs->cfg.webhook_burst;
	if ((rc = webhook_secrets(d, &o)) < 0)
		return rc;
	if ((rc = cairn_http_new(&d->http, &o)) < 0)
		return rc;
	return cairnd_api_rollout_register(d, d->http);
}

int cairnd_open(cairnd **out, const struct cairnd_opts *o)
{
	cairn_sched_opts so = CAIRN_SCHED_OPTS_INIT;
	cairn_config probe;
	cairnd *d = calloc(1, sizeof(*d));
	const char *env = getenv("CAIRN_STATE_DIR");
	int rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");

	if (!d)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	d->lock_fd = -1;
	pthread_mutex_init(&d->mu, NULL);
	pthread_mutex_init(&d->git_mu, NULL);
	memset(&probe, 0, sizeof(probe));
	if (!(d->config_path = strdup(o->config)) ||
	    (rc = cairn_config_load(&probe, o->config)) < 0)
		goto fail;
	rc = cairn_audit_state_dir(&d->state_dir, (env && *env) ? NULL : probe.audit.state_dir);
	cairn_config_dispose(&probe);
	if (rc < 0 || (rc = take_lock(d)) < 0 ||
	    (rc = defs_load(&d->defs, o->config, d->state_dir)) < 0 ||
	    (rc = cairn_auth_from_config(&d->auth, &d->defs->cfg)) < 0 ||
	    (rc = open_audit(d)) < 0 || (rc = cairn_metrics_new(&d->metrics)) < 0 ||
	    (rc = cairnd_witness_open(d)) < 0)
		goto fail;
	so.workers = o->workers;
	so.poll_ms = o->poll_ms;
	d->drift_interval_ms = o->drift_interval_ms;
	so.metrics = d->metrics;
	so.fn = reconcile_cb;
	so.ud = d;
	if ((rc = cairn_sched_new(&d->sched, &so)) < 0 || (rc = sched_apps(d, d->defs, 1)) < 0 ||
	    (rc = make_server(d, o->listen)) < 0 ||
	    (rc = cairnd_api_audit_register(d, d->http)) < 0 ||
	    (rc = cairnd_api_register(d, d->http)) < 0)
		goto fail;
	if ((rc = cairnd_rollouts_open(d)) < 0)
		goto fail;
	cairn_metrics_register(&d->m_triggers, d->metrics, CAIRN_METRIC_COUNTER,
	                       "cairn_triggers_total", "Reconciles queued by trigger source.",
	                       (const char *const[]){"source", NULL}, NULL, 0);
	*out = d;
	return 0;
fail:
	cairnd_free(d);
	return rc;
}

int cairnd_start(cairnd *d)
{
	int rc;

	if ((rc = cairn_sched_start(d->sched)) < 0 || (rc = cairn_http_start(d->http)) < 0 ||
	    (rc = cairnd_rollouts_start(d)) < 0 || (rc = cairnd_drift_start(d)) < 0)
		return rc;
	d->port = cairn_http_port(d->http);
	cairn_http_set_ready(d->http, 1);
	return 0;
}

/*
 * SIGHUP: new definitions and a new token set, both checked before
 * anything is swapped; work in flight keeps the snapshot it holds, and a
 * request that already looked its token up keeps a valid pointer (see
 * cairn_auth_replace). The TLS certificate and key files named at start
 * are re-read (a bad pair refuses the whole reload). Webhook secrets, the
 * limits and the listen address are read at start only.
 */
int cairnd_reload(cairnd *d)
{
	struct cairnd_defs *x = NULL, *old;
	cairn_auth *auth = NULL;
	size_t n_tokens;
	int rc;

	if ((rc = defs_load(&x, d->config_path, d->state_dir)) < 0 ||
	    (rc = cairn_auth_from_config(&auth, &x->cfg)) < 0) {
		defs_free(x);
		return cairn_error_prefix("reload of '%s' refused, keeping the running definitions",
		                          d->config_path);
	}
	if ((rc = cairn_http_tls_reload(d->http)) < 0) {
		cairn_auth_free(auth);
		defs_free(x);
		return cairn_error_prefix(
		        "reload of '%s' refused, keeping the running definitions: ",
		        d->config_path);
	}
	if ((rc = sched_apps(d, x, 1)) < 0) {
		cairn_auth_free(auth);
		defs_free(x);
		return rc;
	}
	n_tokens = cairn_auth_count(auth);
	cairn_auth_replace(d->auth, auth);
	pthread_mutex_lock(&d->mu);
	old = d->defs;
	d->defs = x;
	pthread_mutex_unlock(&d->mu);
	cairnd_defs_put(d, old);
	cairnd_drift_reload(d);
	cairnd_audit(d, "cairnd", "config.reloaded", NULL, NULL,
	             json_pack("{s:s, s:i, s:i}", "config", d->config_path, "applications",
	                       (int)cairn_app_set_count(x->apps), "tokens", (int)n_tokens));
	cairnd_event_publish(d, "reload",
	                     json_pack("{s:i}", "applications", (int)cairn_app_set_count(x->apps)));
	return 0;
}

int cairnd_stop(cairnd *d, int64_t grace_ms)
{
	cairn_http_set_ready(d->http, 0);
	cairnd_drift_stop(d);
	return cairn_sched_stop(d->sched, grace_ms);
}

void cairnd_free(cairnd *d)
{
	if (!d)
		return;
	cairnd_drift_stop(d);
	cairn_http_free(d->http);
	cairnd_rollouts_free(d);
	cairn_sched_free(d->sched);
	cairnd_events_free(d->events);
	cairnd_witness_close(d);
	if (d->audit && cairn_audit_close(d->audit) < 0)
		cairn_log_warn("closing the audit log: %s", cairn_error_last()->message);
	cairn_metrics_free(d->metrics);
	cairn_auth_free(d->auth);
	if (d->defs)
		cairnd_defs_put(d, d->defs);
	if (d->lock_fd >= 0)
		close(d->lock_fd);
	if (d->unix_path)
		unlink(d->unix_path);
	free(d->unix_path);
	for (int f = 0; f < CAIRN_FORGE_COUNT; f++)
		free(d->secrets[f]);
	free(d->state_dir);
	free(d->config_path);
	free(d);
}
