/*
 * rollouts.c - what cairnd does for rollouts (docs/daemon.md "Rollouts"):
 * hand the Rollouts of a synced app to the engine (cairn_rollout_apply),
 * run their timers and operators' requests as scheduler jobs of the app
 * (cairn_rollout_tick under the same one-job-per-app exclusion as its
 * reconcile), keep an app whose target is a rolled-back revision from
 * being synced again, and fold the rollouts into the app's status and the
 * metrics.
 *
 * The timers live in the state, not in memory: a rollout's `next_at` is the
 * engine's own record, so one thread that asks the state every
 * ROLLOUT_TIMER_MS which rollouts are due (or carry an operator's request,
 * written by `cairn rollout ...` or the API) finds them after a restart as
 * well as during a run; it queues the app with reason "rollout" and the
 * worker ticks it.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cairn/error.h"
#include "cairn/kube.h"
#include "cairn/log.h"
#include "cairn/rollout.h"
#include "cairn/state.h"
#include "cairnd.h"

/* How often the state is asked for due rollouts and pending requests. */
#define ROLLOUT_TIMER_MS 200
/* After a failed tick, the app's rollouts wait this long before the next. */
#define ROLLOUT_RETRY_US (5 * 1000000LL)
/* A Progressing rollout without a timer is looked at again after this long. */
#define ROLLOUT_IDLE_US (1000000LL)

struct cairnd_rollouts {
	pthread_t thread;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;            /* guarded by mu */
	json_t *retry_at;    /* app -> usec before which a failed app is not ticked (mu) */
	cairn_metric *phase; /* gauge cairn_rollouts{phase} */
	cairn_metric *aborts;
};

static const char *const phases[] = {"Progressing", "Paused", "Healthy", "Degraded"};

/* The short form of a revision in messages: the first commit, 7 digits. */
static void short_rev(char *out, size_t size, const char *rev)
{
	size_t n = strcspn(rev ? rev : "", ",");

	if (n > 7)
		n = 7;
	snprintf(out, size, "%.*s", (int)n, rev ? rev : "");
}

int cairnd_rollouts_failed(char *msg, size_t size, cairn_state *st, const char *app,
                           const char *env, const char *revision)
{
	cairn_state_rollout **v = NULL;
	size_t n = 0;
	int found = 0;

	if (cairn_state_rollout_list(&v, &n, st, app, env) < 0) {
		cairn_log_warn("rollouts of '%s': %s", app, cairn_error_last()->message);
		cairn_error_clear();
		return 0;
	}
	for (size_t i = 0; i < n && !found; i++) {
		char s[16];

		/* a pending retry lets the revision through: the tick that
		 * consumes it forgets the failure */
		if (!v[i]->failed_revision || !revision ||
		    strcmp(v[i]->failed_revision, revision) ||
		    (v[i]->request && strcmp(v[i]->request, "retry") == 0))
			continue;
		short_rev(s, sizeof(s), revision);
		snprintf(msg, size, "rolled back from %s: %s", s,
		         v[i]->failed_reason ? v[i]->failed_reason : "rollout aborted");
		found = 1;
	}
	cairn_state_rollout_list_free(v, n);
	return found;
}

/*
 * The app's health as its rollouts make it: Degraded when one was aborted
 * (or is Degraded), else Suspended (Argo CD's health of a paused Rollout)
 * when one waits, else Progressing while one runs; NULL when every rollout
 * is Healthy (the sync's health stands). The message names the rollout.
 */
static const char *rollouts_health(char *msg, size_t size, cairn_state_rollout **v, size_t n)
{
	static const struct {
		const char *phase, *health;
	} order[] = {
	        {"Degraded", "Degraded"}, {"Paused", "Suspended"}, {"Progressing", "Progressing"}};

	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++)
		for (size_t i = 0; i < n; i++) {
			if (!v[i]->phase || strcmp(v[i]->phase, order[k].phase) != 0)
				continue;
			if (v[i]->message && *v[i]->message)
				snprintf(msg, size, "rollout '%s': %s", v[i]->name, v[i]->message);
			else
				snprintf(msg, size, "rollout '%s' %s at step %d, weight %d",
				         v[i]->name, v[i]->phase, v[i]->step, v[i]->weight);
			return order[k].health;
		}
	return NULL;
}

void cairnd_rollouts_status(cairn_state *st, const char *app, const char *env,
                            const char *override_msg)
{
	cairn_state_rollout **v = NULL;
	cairn_state_app *a = NULL, w;
	const char *health;
	char msg[700] = "";
	size_t n = 0;

	if (cairn_state_rollout_list(&v, &n, st, app, env) < 0 ||
	    cairn_state_app_get(&a, st, app, env) < 0) {
		cairn_error_clear();
		goto out;
	}
	health = rollouts_health(msg, sizeof(msg), v, n);
	/* every rollout Healthy again: a health a rollout wrote goes back to
	 * Healthy (the message says which rollout wrote it) */
	if (!health && n > 0 && a->message && strncmp(a->message, "rollout '", 9) == 0 &&
	    a->health && strcmp(a->health, "Healthy") != 0) {
		health = "Healthy";
		snprintf(msg, sizeof(msg), "rollout '%s': %s", v[0]->name,
		         v[0]->message ? v[0]->message : "Healthy");
	}
	if (!health && !override_msg)
		goto out;
	w = *a;
	if (health)
		w.health = health;
	if (override_msg)
		snprintf(msg, sizeof(msg), "%s", override_msg);
	w.message = msg;
	w.updated_at = 0;
	if (cairn_state_app_put(st, &w) < 0) {
		cairn_log_warn("status of '%s': %s", app, cairn_error_last()->message);
		cairn_error_clear();
	}
out:
	cairn_state_app_free(a);
	cairn_state_rollout_list_free(v, n);
}

static void log_result(const char *app, const char *name, const char *what,
                       const cairn_rollout_result *r)
{
	char step[16], weight[16];

	snprintf(step, sizeof(step), "%d", r->step);
	snprintf(weight, sizeof(weight), "%d", r->weight);
	cairn_log(CAIRN_LOG_INFO,
	          (const char *const[]){"app", app, "rollout", name, "phase", r->phase, "step",
	                                step, "weight", weight, NULL},
	          "rollout %s: %s", what, r->message);
}

static void count_abort(cairnd *d, const char *app, const char *before,
                        const cairn_rollout_result *r)
{
	if (r->aborted && (!before || strcmp(before, r->phase) != 0) && d->ro && d->ro->aborts)
		cairn_metric_add(d->ro->aborts, (const char *const[]){app}, 1);
}

int cairnd_rollouts_after_sync(cairnd *d, cairn_kube_client *kube, cairn_state *st,
                               const cairn_sync_request *req, const char *who)
{
	cairn_rollout_ctx ctx = {0};
	cairn_analysis_ctx actx = CAIRN_ANALYSIS_CTX_INIT;
	const char *ns =
	        req->dest_namespace ? req->dest_namespace : cairn_kube_client_namespace(kube);
	json_t *o;
	size_t i;
	int rc = 0;

	ctx.kube = kube;
	ctx.state = st;
	ctx.audit = d->audit;
	ctx.actor = who;
	actx.kube = kube;
	ctx.analysis = actx;
	json_array_foreach(req->manifests, i, o)
	{
		json_t *meta, *copy;
		cairn_rollout_result r;

		if (!cairn_rollout_is_rollout(o))
			continue;
		if (!(copy = json_deep_copy(o)))
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		meta = json_object_get(copy, "metadata");
		if (json_is_object(meta) && !json_object_get(meta, "namespace") && ns)
			json_object_set_new(meta, "namespace", json_string(ns));
		memset(&r, 0, sizeof(r));
		rc = cairn_rollout_apply(&r, &ctx, req->app, req->env, req->revision, copy,
		                         req->manifests);
		if (rc == 0) {
			log_result(req->app, json_string_value(json_object_get(meta, "name")),
			           "applied", &r);
			count_abort(d, req->app, NULL, &r);
		}
		json_decref(copy);
		if (rc < 0)
			break;
	}
	cairnd_rollouts_status(st, req->app, req->env, NULL);
	return rc;
}

int cairnd_rollouts_held(char *msg, size_t size, cairn_state *st, const cairn_sync_request *req,
                         enum cairnd_mode mode)
{
	if (!req->interpret_rollouts || (mode != CAIRND_SYNC_AUTO && mode != CAIRND_SYNC_FORCE))
		return 0;
	return cairnd_rollouts_failed(msg, size, st, req->app, req->env, req->revision);
}

/*
 * Whether the engine has seen `req`'s revision for every rollout of the app:
 * each Rollout of the rendered set has a row at that revision. A compare
 * that finds the deployed render in sync hands the Rollouts over again when
 * not (a daemon killed between a sync's history entry and the hand-over
 * would otherwise never start the rollout: the render counts as deployed).
 */
static int rollouts_current(cairn_state *st, const cairn_sync_request *req)
{
	cairn_state_rollout **v = NULL;
	size_t n = 0, want = 0, have = 0;
	const json_t *o;
	size_t i;

	json_array_foreach(req->manifests, i, o) want += cairn_rollout_is_rollout(o);
	if (want == 0)
		return 1;
	if (cairn_state_rollout_list(&v, &n, st, req->app, req->env) < 0) {
		cairn_error_clear();
		return 1; /* cannot tell: leave it to the next sync */
	}
	for (i = 0; i < n; i++)
		have += v[i]->revision && req->revision &&
		        strcmp(v[i]->revision, req->revision) == 0;
	cairn_state_rollout_list_free(v, n);
	return have >= want;
}

int cairnd_rollouts_reconciled(cairnd *d, const cairn_sync_ctx *ctx, const cairn_sync_request *req,
                               const char *held, int deployed, json_t *sum)
{
	if (!req->interpret_rollouts)
		return 0;
	if (held) {
		cairnd_rollouts_status(ctx->state, req->app, req->env, held);
		if (sum)
			json_object_set_new(sum, "message", json_string(held));
		return 0;
	}
	/* a sync ran (an operation) and succeeded, or the deployed render is in
	 * sync but its Rollouts never reached the engine: hand them over */
	if (sum && json_is_true(json_object_get(sum, "synced")) &&
	    (json_object_get(sum, "operation") || (deployed && !rollouts_current(ctx->state, req))))
		return cairnd_rollouts_after_sync(d, ctx->kube, ctx->state, req, ctx->actor);
	cairnd_rollouts_status(ctx->state, req->app, req->env, NULL);
	return 0;
}

/* The kube client of an app's Environment (the default kubeconfig without one). */
static int open_kube(cairn_kube_client **out, const cairn_env *env)
{
	cairn_kube_config *cfg = NULL;
	int rc = cairn_kube_config_for(&cfg, env ? env->kubeconfig : NULL,
	                               env ? env->context : NULL, env ? env->in_cluster : 0);

	if (rc == 0)
		rc = cairn_kube_client_new(out, cfg, NULL);
	cairn_kube_config_free(cfg);
	return rc;
}

/*
 * Whether a rollout wants a tick now: its timer passed, an operator's
 * request waits, or it is Progressing without a timer and was last written
 * ROLLOUT_IDLE_US ago (the engine waits on Pods it only sees when called:
 * look again rather than leave it stuck).
 */
static int due(const cairn_state_rollout *r, cairn_usec now)
{
	if (r->request || (r->next_at && r->next_at <= now))
		return 1;
	return r->next_at == 0 && r->phase && strcmp(r->phase, "Progressing") == 0 &&
	       now - r->updated_at >= ROLLOUT_IDLE_US;
}

/* Whether the app is held back after a failed tick (and should wait). */
static int held_back(cairnd *d, const char *app, cairn_usec now)
{
	json_int_t until;

	pthread_mutex_lock(&d->ro->mu);
	until = json_integer_value(json_object_get(d->ro->retry_at, app));
	pthread_mutex_unlock(&d->ro->mu);
	return until > now;
}

static void hold_back(cairnd *d, const char *app, cairn_usec until)
{
	pthread_mutex_lock(&d->ro->mu);
	if (until)
		json_object_set_new(d->ro->retry_at, app, json_integer(until));
	else
		json_object_del(d->ro->retry_at, app);
	pthread_mutex_unlock(&d->ro->mu);
}

/*
 * Tick every rollout of the app that is due or has a request. A consumed
 * "retry" also queues a reconcile of the app: the engine forgot the failed
 * revision, so the next sync rolls it out again.
 */
static int tick_rows(cairnd *d, const cairn_rollout_ctx *ctx, const char *app, const char *env,
                     int *retried)
{
	cairn_state_rollout **v = NULL;
	cairn_usec now = cairn_time_now();
	size_t n = 0;
	int rc = cairn_state_rollout_list(&v, &n, ctx->state, app, env);

	for (size_t i = 0; rc == 0 && i < n; i++) {
		cairn_rollout_result r;

		if (!due(v[i], now))
			continue;
		if (v[i]->request && strcmp(v[i]->request, "retry") == 0)
			*retried = 1;
		memset(&r, 0, sizeof(r));
		rc = cairn_rollout_tick(&r, ctx, app, env, v[i]->name);
		if (rc == 0) {
			if (r.changed || v[i]->request)
				log_result(app, v[i]->name, "tick", &r);
			count_abort(d, app, v[i]->phase, &r);
		} else {
			cairn_error_prefix("rollout '%s': ", v[i]->name);
		}
	}
	cairn_state_rollout_list_free(v, n);
	return rc;
}

int cairnd_rollouts_tick_app(cairnd *d, const char *app)
{
	struct cairnd_defs *x = cairnd_defs_get(d);
	const cairn_app *a = cairn_app_set_find(x->apps, app);
	const cairn_env *env = NULL;
	cairn_analysis_ctx actx = CAIRN_ANALYSIS_CTX_INIT;
	cairn_rollout_ctx ctx = {0};
	cairn_kube_client *kube = NULL;
	cairn_state *st = NULL;
	const char *envname;
	int rc, retried = 0;

	if (!a) {
		rc = cairn_error_set(CAIRN_ENOTFOUND, "unknown application '%s'", app);
		goto out;
	}
	envname = a->environment ? a->environment : "";
	if (a->environment && x->envs)
		env = cairn_env_set_find(x->envs, a->environment);
	if ((rc = open_kube(&kube, env)) < 0 ||
	    (rc = cairn_state_open(&st, d->state_dir, CAIRN_STATE_CREATE)) < 0)
		goto out;
	ctx.kube = kube;
	ctx.state = st;
	ctx.audit = d->audit;
	ctx.actor = "cairnd";
	actx.kube = kube;
	ctx.analysis = actx;
	rc = tick_rows(d, &ctx, app, envname, &retried);
	cairnd_rollouts_status(st, app, envname, NULL);
	if (retried && cairn_sched_trigger(d->sched, app, "retry") < 0)
		cairn_error_clear();
out:
	if (rc < 0) {
		cairn_log(CAIRN_LOG_WARN, (const char *const[]){"app", app, NULL},
		          "rollout tick failed: %s", cairn_error_last()->message);
		hold_back(d, app, cairn_time_now() + ROLLOUT_RETRY_US);
	} else if (d->ro) {
		hold_back(d, app, 0);
	}
	cairn_kube_client_free(kube);
	cairn_state_close(st);
	cairnd_defs_put(d, x);
	return rc;
}

int cairnd_rollouts_kick(cairnd *d, const char *app)
{
	if (d->ro)
		hold_back(d, app, 0);
	return cairn_sched_trigger(d->sched, app, "rollout");
}

/* Queue the app for a tick unless it is queued or running already. */
static void queue_app(cairnd *d, const char *app, cairn_usec now)
{
	cairn_sched_app_info info;

	if (held_back(d, app, now))
		return;
	if (cairn_sched_info(d->sched, app, &info) < 0) {
		cairn_error_clear(); /* an app no longer defined */
		return;
	}
	if (info.queued || info.running)
		return;
	if (cairn_sched_trigger(d->sched, app, "rollout") < 0)
		cairn_error_clear();
}

/* One pass: queue due apps and those with requests; refresh the phase gauge. */
static void timer_pass(cairnd *d, cairn_state *st)
{
	cairn_state_rollout **v = NULL;
	cairn_usec now = cairn_time_now();
	double count[sizeof(phases) / sizeof(phases[0])] = {0};
	size_t n = 0;

	if (cairn_state_rollout_list(&v, &n, st, NULL, NULL) < 0) {
		cairn_error_clear();
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (due(v[i], now))
			queue_app(d, v[i]->app, now);
		for (size_t k = 0; k < sizeof(phases) / sizeof(phases[0]); k++)
			if (v[i]->phase && strcmp(v[i]->phase, phases[k]) == 0)
				count[k]++;
	}
	for (size_t k = 0; k < sizeof(phases) / sizeof(phases[0]); k++)
		cairn_metric_set(d->ro->phase, (const char *const[]){phases[k]}, count[k]);
	cairn_state_rollout_list_free(v, n);
}

static void *timer_main(void *arg)
{
	cairnd *d = arg;
	cairn_state *st = NULL;

	for (;;) {
		struct timespec ts;
		int stop;

		if (!st && cairn_state_open(&st, d->state_dir, CAIRN_STATE_CREATE) < 0) {
			cairn_log_warn("rollout timers: %s", cairn_error_last()->message);
			cairn_error_clear();
			st = NULL;
		}
		if (st && !cairn_sched_stopping(d->sched))
			timer_pass(d, st);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += ROLLOUT_TIMER_MS * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_mutex_lock(&d->ro->mu);
		if (!d->ro->stop)
			pthread_cond_timedwait(&d->ro->cv, &d->ro->mu, &ts);
		stop = d->ro->stop;
		pthread_mutex_unlock(&d->ro->mu);
		if (stop)
			break;
	}
	cairn_state_close(st);
	return NULL;
}

int cairnd_rollouts_open(cairnd *d)
{
	struct cairnd_rollouts *ro = calloc(1, sizeof(*ro));
	int rc;

	if (!ro || !(ro->retry_at = json_object())) {
		free(ro);
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	pthread_mutex_init(&ro->mu, NULL);
	pthread_cond_init(&ro->cv, NULL);
	d->ro = ro;
	rc = cairn_metrics_register(&ro->phase, d->metrics, CAIRN_METRIC_GAUGE, "cairn_rollouts",
	                            "Rollouts by phase.", (const char *const[]){"phase", NULL},
	                            NULL, 0);
	if (rc == 0)
		rc = cairn_metrics_register(&ro->aborts, d->metrics, CAIRN_METRIC_COUNTER,
		                            "cairn_rollout_aborts_total",
		                            "Rollouts aborted (automatically or on request).",
		                            (const char *const[]){"app", NULL}, NULL, 0);
	return rc;
}

int cairnd_rollouts_start(cairnd *d)
{
	if (!d->ro)
		return cairn_error_set(CAIRN_EINVAL, "rollouts not opened");
	if (pthread_create(&d->ro->thread, NULL, timer_main, d) != 0)
		return cairn_error_set(CAIRN_ERROR, "cannot start the rollout timer thread");
	d->ro->started = 1;
	return 0;
}

void cairnd_rollouts_free(cairnd *d)
{
	struct cairnd_rollouts *ro = d ? d->ro : NULL;

	if (!ro)
		return;
	if (ro->started) {
		pthread_mutex_lock(&ro->mu);
		ro->stop = 1;
		pthread_cond_signal(&ro->cv);
		pthread_mutex_unlock(&ro->mu);
		pthread_join(ro->thread, NULL);
	}
	json_decref(ro->retry_at);
	pthread_mutex_destroy(&ro->mu);
	pthread_cond_destroy(&ro->cv);
	free(ro);
	d->ro = NULL;
}
