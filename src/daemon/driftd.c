/*
 * driftd.c - cairnd finds and corrects drift by itself (docs/daemon.md
 * "Drift"): one drift detector (cairn_drift_watch(), the function `cairn
 * drift watch` runs in the foreground) per cluster, over the last deployed
 * render of every app synced there.
 *
 * A reconcile hands its render over (cairnd_drift_reconciled); when it is
 * the deployed one and differs from what is watched (another render, mode
 * or cluster), the app's entry is replaced and its cluster marked dirty. A
 * manager thread restarts dirty clusters' detectors (stop, join, start
 * over the new set) and detectors that failed (after a pause). Entries are
 * reference-counted: a running detector keeps the set it was started with
 * while the table moves on. Reports become events and metrics.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/kube.h"
#include "cairn/log.h"
#include "cairn/state.h"
#include "driftd.h"

#define DRIFTD_APPS_MAX 64
#define DRIFTD_CLUSTERS_MAX 16
#define DRIFTD_RETRY_US (5 * 1000 * 1000)
#define DRIFTD_SEEN_MAX 256
#define DRIFTD_DAEMONS_MAX 8

/* What is watched for one app: copies of the reconcile's request. */
struct dapp {
	int refs; /* guarded by driftd.mu */
	char *app, *env, *revision, *hash, *ns;
	json_t *objs;
	cairn_ignore *ig;
	cairn_sync_request req;
	cairn_drift_mode mode;
	/* a sync of another render runs: the running detector skips the app
	 * (cairn_drift_app.paused) and the next one leaves it out */
	volatile int paused;
};

struct driftd;

/* One cluster: the apps deployed there and the detector running over them. */
struct dcluster {
	struct driftd *dd;
	char key[1024];
	char *kubeconfig, *context;
	int in_cluster;
	struct dapp *apps[DRIFTD_APPS_MAX]; /* the table (references held) */
	size_t n;
	int dirty;
	cairn_usec retry_at;
	/* the running detector: its own snapshot of the table */
	pthread_t th;
	int running, done, rc;
	volatile int stop;
	struct dapp *run[DRIFTD_APPS_MAX];
	cairn_drift_app v[DRIFTD_APPS_MAX];
	size_t nv;
	int64_t seen[DRIFTD_SEEN_MAX]; /* records announced (detector thread only) */
	size_t n_seen;
};

struct driftd {
	cairnd *d;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t manager;
	int stopping;
	int64_t interval_ms;
	struct dcluster c[DRIFTD_CLUSTERS_MAX];
	size_t nc;
	cairn_metric *m_detected, *m_corrected;
};

/* cairnd.h has no slot for the watcher: daemons find theirs here. */
static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static struct driftd *reg[DRIFTD_DAEMONS_MAX];

static struct driftd *find(cairnd *d)
{
	struct driftd *dd = NULL;

	pthread_mutex_lock(&reg_mu);
	for (size_t i = 0; i < DRIFTD_DAEMONS_MAX && !dd; i++)
		if (reg[i] && reg[i]->d == d)
			dd = reg[i];
	pthread_mutex_unlock(&reg_mu);
	return dd;
}

static void dapp_put(struct dapp *a)
{
	if (!a || --a->refs > 0)
		return;
	free(a->app);
	free(a->env);
	free(a->revision);
	free(a->hash);
	free(a->ns);
	json_decref(a->objs);
	cairn_ignore_free(a->ig);
	free(a);
}

static char *dup_or_null(const char *s, int *fail)
{
	char *r = s ? strdup(s) : NULL;

	if (s && !r)
		*fail = 1;
	return r;
}

/* A copy of what the detector needs from the reconcile's request. */
static struct dapp *dapp_new(const cairn_app *app, const cairn_sync_request *req,
                             cairn_drift_mode mode)
{
	struct dapp *a = calloc(1, sizeof(*a));
	int fail = 0;

	if (!a)
		return NULL;
	a->refs = 1;
	a->app = dup_or_null(req->app, &fail);
	a->env = dup_or_null(req->env ? req->env : "", &fail);
	a->revision = dup_or_null(req->revision, &fail);
	a->hash = dup_or_null(req->render_hash, &fail);
	a->ns = dup_or_null(req->dest_namespace, &fail);
	a->objs = json_deep_copy(req->manifests);
	if (fail || !a->objs ||
	    cairn_ignore_compile(&a->ig, app->ignore_differences, "spec.ignoreDifferences") < 0) {
		dapp_put(a);
		return NULL;
	}
	a->req = *req;
	a->req.app = a->app;
	a->req.env = a->env;
	a->req.revision = a->revision;
	a->req.render_hash = a->hash;
	a->req.dest_namespace = a->ns;
	a->req.manifests = a->objs;
	a->req.ignore = a->ig;
	a->mode = mode;
	return a;
}

/* As `cairn drift watch` decides without --mode: selfHeal (app or env) or `drift: correct`. */
static cairn_drift_mode mode_of(const cairn_app *app, const cairn_env *env)
{
	if (app->self_heal || (env && (env->drift == CAIRN_ENV_DRIFT_CORRECT || env->self_heal)))
		return CAIRN_DRIFT_CORRECT;
	return CAIRN_DRIFT_DETECT;
}

static int seen_before(struct dcluster *c, int64_t id)
{
	size_t n = c->n_seen < DRIFTD_SEEN_MAX ? c->n_seen : DRIFTD_SEEN_MAX;

	for (size_t i = 0; i < n; i++)
		if (c->seen[i] == id)
			return 1;
	c->seen[c->n_seen++ % DRIFTD_SEEN_MAX] = id;
	return 0;
}

static void publish(struct dcluster *c, const char *type, const cairn_drift_report *r,
                    const char *mode)
{
	cairnd_event_publish(c->dd->d, type,
	                     json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:O?, s:s?}", "id",
	                               (json_int_t)r->record_id, "app", r->app, "env", r->env,
	                               "group", r->id->group, "kind", r->id->kind, "namespace",
	                               r->id->ns, "name", r->id->name, "mode", mode, "paths",
	                               r->paths, "manager", r->manager));
}

/*
 * A detector's report (its lock held; events and metrics never block): a
 * record not announced yet is drift.detected, a correction
 * drift.corrected. Orphans are only logged (they are kept in the state).
 */
static void on_report(void *ud, const cairn_drift_report *r)
{
	struct dcluster *c = ud;
	const char *lv[] = {r->app, r->env, NULL};
	const char *mode = "detect";
	char id[1024];

	cairn_res_id_format(r->id, id, sizeof(id));
	if (r->orphan) {
		cairn_log(CAIRN_LOG_INFO, (const char *const[]){"app", r->app, "object", id, NULL},
		          "drift: orphan");
		return;
	}
	for (size_t i = 0; i < c->nv; i++)
		if (strcmp(c->v[i].req->app, r->app) == 0)
			mode = c->v[i].mode == CAIRN_DRIFT_CORRECT ? "correct" : "detect";
	if (r->record_id > 0 && !seen_before(c, r->record_id)) {
		cairn_metric_add(c->dd->m_detected, lv, 1);
		publish(c, "drift.detected", r, mode);
		cairn_log(CAIRN_LOG_INFO,
		          (const char *const[]){"app", r->app, "object", id, "manager",
		                                r->manager ? r->manager : "unknown", NULL},
		          "drift detected");
	}
	if (r->corrected) {
		cairn_metric_add(c->dd->m_corrected, lv, 1);
		publish(c, "drift.corrected", r, mode);
		cairn_log(CAIRN_LOG_INFO, (const char *const[]){"app", r->app, "object", id, NULL},
		          "drift corrected");
	}
	if (r->error)
		cairn_log(CAIRN_LOG_WARN, (const char *const[]){"app", r->app, "object", id, NULL},
		          "drift correction failed: %s", r->error);
}

static void on_ready(void *ud, size_t objects, size_t watches)
{
	struct dcluster *c = ud;
	char n1[32], n2[32];

	snprintf(n1, sizeof(n1), "%zu", objects);
	snprintf(n2, sizeof(n2), "%zu", watches);
	cairn_log(CAIRN_LOG_INFO,
	          (const char *const[]){"kubeconfig", c->kubeconfig ? c->kubeconfig : "", "objects",
	                                n1, "watches", n2, NULL},
	          "drift watch running");
}

/* A cluster as people read it in a log line (its key holds newlines). */
static void cluster_name(char *out, size_t size, const struct dcluster *c)
{
	if (c->in_cluster)
		snprintf(out, size, "the in-cluster API");
	else
		snprintf(out, size, "kubeconfig '%s' context '%s'",
		         c->kubeconfig ? c->kubeconfig : "(default)",
		         c->context ? c->context : "(current)");
}

/* A cluster's detector thread: its own client and state handle, until stopped. */
static void *cluster_main(void *arg)
{
	struct dcluster *c = arg;
	struct driftd *dd = c->dd;
	cairn_drift_opts o = CAIRN_DRIFT_OPTS_INIT;
	cairn_kube_config *cfg = NULL;
	cairn_kube_client *kube = NULL;
	cairn_state *st = NULL;
	cairn_sync_ctx ctx;
	int rc;

	memset(&ctx, 0, sizeof(ctx));
	if ((rc = cairn_kube_config_for(&cfg, c->kubeconfig, c->context, c->in_cluster)) == 0 &&
	    (rc = cairn_kube_client_new(&kube, cfg, NULL)) == 0 &&
	    (rc = cairn_state_open(&st, dd->d->state_dir, CAIRN_STATE_CREATE)) == 0) {
		ctx.kube = kube;
		ctx.state = st;
		ctx.audit = dd->d->audit;
		ctx.actor = "cairnd";
		ctx.trigger = "drift";
		ctx.track = CAIRN_TRACK_ANNOTATION;
		o.kube_cfg = cfg;
		o.full_interval_ms = dd->interval_ms;
		o.stop = &c->stop;
		o.report = on_report;
		o.report_ud = c;
		o.ready = on_ready;
		rc = cairn_drift_watch(&ctx, c->v, c->nv, &o);
	}
	if (rc < 0) {
		char name[1200];

		cluster_name(name, sizeof(name), c);
		cairn_log_warn("drift watch of %s stopped: %s", name, cairn_error_last()->message);
	}
	cairn_state_close(st);
	cairn_kube_client_free(kube);
	cairn_kube_config_free(cfg);
	pthread_mutex_lock(&dd->mu);
	c->rc = rc;
	c->done = 1;
	pthread_cond_broadcast(&dd->cv);
	pthread_mutex_unlock(&dd->mu);
	return NULL;
}

/* Stop and join a cluster's detector; called and returns with dd->mu held. */
static void halt(struct driftd *dd, struct dcluster *c)
{
	if (!c->running)
		return;
	c->stop = 1;
	pthread_mutex_unlock(&dd->mu);
	pthread_join(c->th, NULL);
	pthread_mutex_lock(&dd->mu);
	for (size_t i = 0; i < c->nv; i++)
		dapp_put(c->run[i]);
	c->nv = 0;
	c->running = 0;
	c->done = 0;
	pthread_cond_broadcast(&dd->cv); /* cairnd_drift_reconciling() waits for this */
}

/* Start a detector over the cluster's table as it is now; dd->mu held. */
static void launch(struct driftd *dd, struct dcluster *c)
{
	c->nv = 0;
	for (size_t i = 0; i < c->n; i++) {
		if (c->apps[i]->paused)
			continue;
		c->run[c->nv] = c->apps[i];
		c->run[c->nv]->refs++;
		c->v[c->nv].req = &c->run[c->nv]->req;
		c->v[c->nv].mode = c->run[c->nv]->mode;
		c->v[c->nv].paused = &c->run[c->nv]->paused;
		c->nv++;
	}
	if (c->nv == 0)
		return;
	c->stop = 0;
	c->done = 0;
	c->n_seen = 0;
	if (pthread_create(&c->th, NULL, cluster_main, c) != 0) {
		char name[1200];

		cluster_name(name, sizeof(name), c);
		cairn_log_warn("drift watch of %s: cannot start a thread", name);
		for (size_t i = 0; i < c->nv; i++)
			dapp_put(c->run[i]);
		c->nv = 0;
		c->dirty = 1;
		c->retry_at = cairn_time_mono() + DRIFTD_RETRY_US;
		return;
	}
	c->running = 1;
}

/*
 * The manager: reaps detectors that ended (a failure is retried after a
 * pause), restarts those whose set changed, until cairnd_drift_stop().
 */
static void *manager_main(void *arg)
{
	struct driftd *dd = arg;

	pthread_mutex_lock(&dd->mu);
	while (!dd->stopping) {
		cairn_usec now = cairn_time_mono();

		for (size_t i = 0; i < dd->nc && !dd->stopping; i++) {
			struct dcluster *c = &dd->c[i];

			if (c->running && c->done) {
				int failed = c->rc < 0;

				halt(dd, c);
				if (failed) {
					c->dirty = 1;
					c->retry_at = now + DRIFTD_RETRY_US;
				}
			}
			if (!c->dirty || now < c->retry_at)
				continue;
			halt(dd, c);
			c->dirty = 0;
			if (!dd->stopping)
				launch(dd, c);
		}
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 200 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&dd->cv, &dd->mu, &ts);
	}
	for (size_t i = 0; i < dd->nc; i++)
		dd->c[i].stop = 1;
	for (size_t i = 0; i < dd->nc; i++)
		halt(dd, &dd->c[i]);
	pthread_mutex_unlock(&dd->mu);
	return NULL;
}

int cairnd_drift_start(cairnd *d)
{
	const char *iv = getenv("CAIRN_DRIFT_INTERVAL");
	struct driftd *dd;
	int64_t ns = 0;
	size_t slot = DRIFTD_DAEMONS_MAX;

	if (d->drift_interval_ms > 0)
		ns = d->drift_interval_ms * 1000000;
	else if (iv && *iv && (cairn_duration_parse(&ns, iv) < 0 || ns < 1000000))
		return cairn_error_set(CAIRN_EINVAL,
		                       "bad CAIRN_DRIFT_INTERVAL '%s': expected a duration such as "
		                       "3m or 30s",
		                       iv);
	if (!(dd = calloc(1, sizeof(*dd))))
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	dd->d = d;
	dd->interval_ms = ns > 0 ? ns / 1000000 : CAIRN_DRIFT_FULL_INTERVAL_MS_DEFAULT;
	pthread_mutex_init(&dd->mu, NULL);
	pthread_cond_init(&dd->cv, NULL);
	cairn_metrics_register(&dd->m_detected, d->metrics, CAIRN_METRIC_COUNTER,
	                       "cairn_drift_detected_total",
	                       "Drift records written by cairnd's drift watcher.",
	                       (const char *const[]){"app", "env", NULL}, NULL, 0);
	cairn_metrics_register(&dd->m_corrected, d->metrics, CAIRN_METRIC_COUNTER,
	                       "cairn_drift_corrected_total",
	                       "Drifted objects cairnd's drift watcher put back (selfHeal).",
	                       (const char *const[]){"app", "env", NULL}, NULL, 0);
	cairn_error_clear();
	pthread_mutex_lock(&reg_mu);
	for (size_t i = 0; i < DRIFTD_DAEMONS_MAX && slot == DRIFTD_DAEMONS_MAX; i++)
		if (!reg[i])
			slot = i;
	if (slot < DRIFTD_DAEMONS_MAX && pthread_create(&dd->manager, NULL, manager_main, dd) == 0)
		reg[slot] = dd;
	else
		slot = DRIFTD_DAEMONS_MAX;
	pthread_mutex_unlock(&reg_mu);
	if (slot == DRIFTD_DAEMONS_MAX) {
		pthread_cond_destroy(&dd->cv);
		pthread_mutex_destroy(&dd->mu);
		free(dd);
		return cairn_error_set(CAIRN_ELIMIT, "cannot start the drift watcher");
	}
	return 0;
}

/* The render hash of the app's newest history entry (its last successful sync), or "". */
static void newest_hash(char *out, size_t size, cairn_state *st, const cairn_sync_request *req)
{
	cairn_state_history **v = NULL;
	size_t n = 0;

	out[0] = '\0';
	if (!st || cairn_state_history_list(&v, &n, st, req->app, req->env ? req->env : "") < 0) {
		cairn_error_clear();
		return;
	}
	if (n > 0 && v[0]->render_hash)
		snprintf(out, size, "%s", v[0]->render_hash);
	cairn_state_history_list_free(v, n);
}

/* The cluster `env` names, as the reconcile opens it (created when new); dd->mu held. */
static struct dcluster *cluster_of(struct driftd *dd, const cairn_env *env)
{
	const char *path = env && !env->in_cluster ? env->kubeconfig : NULL;
	const char *context = env && !env->in_cluster ? env->context : NULL;
	int in = env && env->in_cluster;
	char key[1024];
	struct dcluster *c;

	snprintf(key, sizeof(key), "%d\n%s\n%s", in, path ? path : "", context ? context : "");
	for (size_t i = 0; i < dd->nc; i++)
		if (strcmp(dd->c[i].key, key) == 0)
			return &dd->c[i];
	if (dd->nc == DRIFTD_CLUSTERS_MAX)
		return NULL;
	c = &dd->c[dd->nc];
	memset(c, 0, sizeof(*c));
	c->dd = dd;
	memcpy(c->key, key, sizeof(key));
	c->in_cluster = in;
	c->kubeconfig = path ? strdup(path) : NULL;
	c->context = context ? strdup(context) : NULL;
	if ((path && !c->kubeconfig) || (context && !c->context)) {
		free(c->kubeconfig);
		free(c->context);
		return NULL;
	}
	dd->nc++;
	return c;
}

/* Remove `app` from every cluster's table but `keep`; dd->mu held. */
static void forget(struct driftd *dd, const char *app, struct dcluster *keep)
{
	for (size_t i = 0; i < dd->nc; i++) {
		struct dcluster *c = &dd->c[i];

		for (size_t k = 0; c != keep && k < c->n; k++) {
			if (strcmp(c->apps[k]->app, app) != 0)
				continue;
			dapp_put(c->apps[k]);
			c->apps[k] = c->apps[--c->n];
			c->dirty = 1;
			break;
		}
	}
}

/* The entry of `app` and its cluster, or NULL; dd->mu held. */
static struct dapp *entry_of(struct driftd *dd, const char *app, struct dcluster **cp)
{
	for (size_t i = 0; i < dd->nc; i++)
		for (size_t k = 0; k < dd->c[i].n; k++)
			if (strcmp(dd->c[i].apps[k]->app, app) == 0) {
				*cp = &dd->c[i];
				return dd->c[i].apps[k];
			}
	return NULL;
}

void cairnd_drift_reconciling(cairnd *d, const cairn_app *app, const cairn_env *env,
                              const cairn_sync_request *req, enum cairnd_mode mode)
{
	struct driftd *dd = find(d);
	int automated = app && (app->automated || (env && env->auto_sync));
	struct dcluster *c = NULL;
	struct dapp *a;

	if (!dd || !app || !req || mode == CAIRND_COMPARE ||
	    (mode == CAIRND_SYNC_AUTO && !automated))
		return;
	pthread_mutex_lock(&dd->mu);
	a = entry_of(dd, req->app, &c);
	if (!a || a->paused ||
	    (mode != CAIRND_ROLLBACK && a->hash && req->render_hash &&
	     strcmp(a->hash, req->render_hash) == 0)) {
		pthread_mutex_unlock(&dd->mu);
		return;
	}
	/* the running detector skips the app from now on (it reads the flag
	 * before each record and each correction), so the sync need not wait
	 * for the watches to restart without it: that happens in the manager */
	a->paused = 1;
	c->dirty = 1;
	c->retry_at = 0;
	pthread_cond_broadcast(&dd->cv);
	pthread_mutex_unlock(&dd->mu);
}

/*
 * A reconcile that did not deploy `req`'s render: a paused entry comes
 * back when the deployed render is still the one it holds (a compare, a
 * held revision), else it goes (a rollback deployed another one). dd->mu held.
 */
static void not_deployed(struct driftd *dd, const char *app, const char *newest)
{
	struct dcluster *c = NULL;
	struct dapp *a = entry_of(dd, app, &c);

	if (!a || !a->paused)
		return;
	if (a->hash && strcmp(a->hash, newest) == 0)
		a->paused = 0;
	else
		forget(dd, app, NULL);
	c->dirty = 1;
	c->retry_at = 0;
	pthread_cond_broadcast(&dd->cv);
}

void cairnd_drift_reconciled(cairnd *d, const cairn_app *app, const cairn_env *env,
                             const cairn_sync_request *req, cairn_state *st)
{
	struct driftd *dd = find(d);
	char newest[80];
	cairn_drift_mode mode;
	struct dcluster *c, *ac = NULL;
	struct dapp *a;
	size_t k;

	if (!dd || !app || !req)
		return;
	newest_hash(newest, sizeof(newest), st, req);
	mode = mode_of(app, env);
	pthread_mutex_lock(&dd->mu);
	if (dd->stopping || !(c = cluster_of(dd, env))) {
		pthread_mutex_unlock(&dd->mu);
		return;
	}
	if (!req->render_hash || strcmp(newest, req->render_hash) != 0) {
		not_deployed(dd, req->app, newest);
		pthread_mutex_unlock(&dd->mu);
		return;
	}
	a = entry_of(dd, req->app, &ac);
	if (a && ac == c && !a->paused && a->mode == mode && a->hash &&
	    strcmp(a->hash, req->render_hash) == 0 &&
	    strcmp(a->env, req->env ? req->env : "") == 0) {
		pthread_mutex_unlock(&dd->mu);
		return; /* watched already */
	}
	pthread_mutex_unlock(&dd->mu);
	/* copy outside the lock (a render can be large), then swap it in */
	if (!(a = dapp_new(app, req, mode))) {
		cairn_log_warn("drift: cannot watch '%s': %s", req->app,
		               cairn_error_last()->message);
		return;
	}
	pthread_mutex_lock(&dd->mu);
	forget(dd, req->app, c);
	for (k = 0; k < c->n && strcmp(c->apps[k]->app, req->app) != 0; k++)
		;
	if (k < c->n) {
		dapp_put(c->apps[k]);
		c->apps[k] = a;
	} else if (c->n < DRIFTD_APPS_MAX) {
		c->apps[c->n++] = a;
	} else {
		cairn_log_warn("drift: more than %d apps in one cluster; '%s' is not watched",
		               DRIFTD_APPS_MAX, req->app);
		dapp_put(a);
		a = NULL;
	}
	if (a) {
		c->dirty = 1;
		c->retry_at = 0;
		pthread_cond_broadcast(&dd->cv);
	}
	pthread_mutex_unlock(&dd->mu);
}

void cairnd_drift_reload(cairnd *d)
{
	struct driftd *dd = find(d);
	struct cairnd_defs *x;

	if (!dd)
		return;
	x = cairnd_defs_get(d);
	pthread_mutex_lock(&dd->mu);
	for (size_t i = 0; i < dd->nc; i++) {
		struct dcluster *c = &dd->c[i];

		for (size_t k = 0; k < c->n;) {
			if (cairn_app_set_find(x->apps, c->apps[k]->app)) {
				k++;
				continue;
			}
			cairn_log_info("drift: '%s' is no longer defined: not watched any more",
			               c->apps[k]->app);
			dapp_put(c->apps[k]);
			c->apps[k] = c->apps[--c->n];
			c->dirty = 1;
		}
	}
	pthread_cond_broadcast(&dd->cv);
	pthread_mutex_unlock(&dd->mu);
	cairnd_defs_put(d, x);
}

void cairnd_drift_stop(cairnd *d)
{
	struct driftd *dd = find(d);

	if (!dd)
		return;
	pthread_mutex_lock(&dd->mu);
	dd->stopping = 1;
	pthread_cond_broadcast(&dd->cv);
	pthread_mutex_unlock(&dd->mu);
	pthread_join(dd->manager, NULL);
	pthread_mutex_lock(&reg_mu);
	for (size_t i = 0; i < DRIFTD_DAEMONS_MAX; i++)
		if (reg[i] == dd)
			reg[i] = NULL;
	pthread_mutex_unlock(&reg_mu);
	for (size_t i = 0; i < dd->nc; i++) {
		for (size_t k = 0; k < dd->c[i].n; k++)
			dapp_put(dd->c[i].apps[k]);
		free(dd->c[i].kubeconfig);
		free(dd->c[i].context);
	}
	pthread_cond_destroy(&dd->cv);
	pthread_mutex_destroy(&dd->mu);
	free(dd);
}
