/*
 * cairnd.h - the daemon's core, private to src/daemon and src/cairnd:
 * definitions (config, applications, environments) as a reference-counted
 * snapshot swapped on reload, the scheduler, the HTTP server, the audit
 * log, and the reconcile that ties them together (daemon.c); the /api/v1
 * handlers (api.c). docs/daemon.md.
 */
#ifndef CAIRN_CAIRND_H
#define CAIRN_CAIRND_H

#include <jansson.h>
#include <pthread.h>

#include "cairn/app.h"
#include "cairn/audit.h"
#include "cairn/config.h"
#include "cairn/daemon.h"
#include "cairn/sched.h"
#include "cairn/sync.h"

/* One loaded set of definitions; readers hold a reference while they use it. */
struct cairnd_defs {
	int refs; /* guarded by cairnd.mu */
	cairn_config cfg;
	cairn_app_set *apps;
	cairn_env_set *envs;
};

typedef struct cairnd {
	char *config_path;
	char *state_dir;
	int64_t drift_interval_ms; /* from cairnd_opts */
	int lock_fd;
	pthread_mutex_t mu;     /* defs pointer and refs */
	pthread_mutex_t git_mu; /* the git mirrors: fetch and render one at a time */
	struct cairnd_defs *defs;
	cairn_auth *auth;
	cairn_audit *audit; /* NULL when cairn.yaml has no audit.key */
	cairn_sched *sched;
	cairn_http *http;
	cairn_metrics *metrics;
	cairn_metric *m_triggers;
	/* rollouts.c: the rollout timer thread and metrics */
	struct cairnd_rollouts *ro;
	char *unix_path;
	int port;                         /* TCP port actually listened on */
	char *secrets[CAIRN_FORGE_COUNT]; /* webhook secrets the server borrows (daemon.c) */
	struct cairnd_events *events;     /* events.c; created by cairnd_api_register */
} cairnd;

/* Options of cairnd_open(). */
struct cairnd_opts {
	const char *config;        /* cairn.yaml (required) */
	const char *listen;        /* "HOST:PORT" overriding listen.api, or NULL */
	unsigned workers;          /* 0: default */
	int64_t poll_ms;           /* 0: default; < 0: no polling */
	int64_t drift_interval_ms; /* the drift watcher's full comparison; 0: $CAIRN_DRIFT_INTERVAL,
	                              else the default */
};

/* daemon.c */
int cairnd_open(cairnd **out, const struct cairnd_opts *o);
int cairnd_start(cairnd *d);
int cairnd_reload(cairnd *d);
int cairnd_stop(cairnd *d, int64_t grace_ms);
void cairnd_free(cairnd *d);
struct cairnd_defs *cairnd_defs_get(cairnd *d);
void cairnd_defs_put(cairnd *d, struct cairnd_defs *defs);
void cairnd_audit(cairnd *d, const char *actor, const char *action, const char *app,
                  const char *env, json_t *details);

/* What cairnd_reconcile_app() does. */
enum cairnd_mode {
	CAIRND_SYNC_AUTO = 0, /* sync when automated (or forced), else compare */
	CAIRND_SYNC_FORCE,    /* sync now (API sync) */
	CAIRND_COMPARE,       /* compare only; result in *out */
	CAIRND_ROLLBACK,      /* cairn_sync_rollback to a history entry */
};

/*
 * Reconcile one app: resolve and render (git mirrors), compare or sync,
 * write the app status. `out` (may be NULL) gets a JSON summary
 * {app, env, revision, synced, health, resources:[...], operation}.
 */
int cairnd_reconcile_app(cairnd *d, const char *app, enum cairnd_mode mode, const char *who,
                         const char *why, json_t **out);

/* Roll `app` back to history entry `history_id` now (see cairn_sync_rollback). */
int cairnd_rollback_app(cairnd *d, const char *app, int64_t history_id, const char *who,
                        json_t **out);

/*
 * Queue every app whose git source is `url` and tracks one of `refs`
 * (NULL refs: every app of the repository). Returns the number queued and
 * appends their names to `names` when not NULL.
 */
size_t cairnd_trigger_repo(cairnd *d, const char *url, const char *const *refs, size_t n_refs,
                           const char *why, json_t *names);

/*
 * Record one trigger that queued `names` (a JSON array of app names) in
 * the audit trail: one `action` entry per app, actor `actor` (daemon.c).
 */
void cairnd_audit_trigger(cairnd *d, const char *actor, const char *action, json_t *names,
                          json_t *details);

/* api_audit.c: POST /api/v1/audit/records (before the /api/v1/ prefix route). */
int cairnd_api_audit_register(cairnd *d, cairn_http *srv);

/* events.c: the server-sent events of GET /api/v1/events (docs/daemon.md "Events"). */
struct cairnd_events;
int cairnd_events_new(struct cairnd_events **out);
void cairnd_events_free(struct cairnd_events *ev);

/*
 * Publish an event of `type` ("app.status", "rollout.step", ...) with the
 * JSON object `data` (reference stolen; its "env" member, when set, limits
 * it to tokens scoped to that environment) to every stream, and keep it in
 * the replay ring. Never blocks on a client. Thread-safe; a no-op before
 * the API is registered.
 */
void cairnd_event_publish(cairnd *d, const char *type, json_t *data);

/* Around one reconcile (worker.c): reconcile.started, then operation.finished
 * (or reconcile.finished), app.status when the stored status moved, drift.*. */
void cairnd_events_reconcile_start(cairnd *d, const cairn_app *a, const char *why);
void cairnd_events_reconciled(cairnd *d, const cairn_app *a, const char *why, int rc,
                              const json_t *sum);

/* GET /api/v1/events: turn `resp` into this client's stream. */
int cairnd_events_stream(cairnd *d, const cairn_http_request *req, cairn_http_response *resp);

/*
 * rollouts.c (docs/daemon.md "Rollouts"): the rollout timer thread (it
 * queues an app with reason "rollout" when one of its rollouts is due or
 * has an operator's request), the scheduler job of that reason, and what a
 * reconcile does for rollouts.
 */
int cairnd_rollouts_open(cairnd *d);
int cairnd_rollouts_start(cairnd *d);
void cairnd_rollouts_free(cairnd *d);
/* The scheduler job "rollout": tick the app's rollouts that are due or have a request. */
int cairnd_rollouts_tick_app(cairnd *d, const char *app);
/* Queue a tick of `app` now (after an operator's request). */
int cairnd_rollouts_kick(cairnd *d, const char *app);
/*
 * 1 when the revision `req` would sync is the failed revision of one of the
 * app's rollouts (AUTO and FORCE syncs): `msg` gets "rolled back from
 * <short sha>: <reason>" and the reconcile compares instead of syncing.
 */
int cairnd_rollouts_held(char *msg, size_t size, cairn_state *st, const cairn_sync_request *req,
                         enum cairnd_mode mode);
/*
 * After a reconcile that succeeded: hand the Rollouts of a sync that ran to
 * the engine (cairn_rollout_apply), and fold the rollouts into the app's
 * status (`held`: the message of a held-back revision, or NULL). `deployed`:
 * `req` is the render the last sync deployed; only then does a compare that
 * finds it in sync hand over Rollouts the engine never saw (a compare of a
 * newer render must not start its rollout: nobody synced it).
 */
int cairnd_rollouts_reconciled(cairnd *d, const cairn_sync_ctx *ctx, const cairn_sync_request *req,
                               const char *held, int deployed, json_t *sum);
int cairnd_rollouts_after_sync(cairnd *d, cairn_kube_client *kube, cairn_state *st,
                               const cairn_sync_request *req, const char *who);
int cairnd_rollouts_failed(char *msg, size_t size, cairn_state *st, const char *app,
                           const char *env, const char *revision);
/* Write the app's health and message as its rollouts make them. */
void cairnd_rollouts_status(cairn_state *st, const char *app, const char *env,
                            const char *override_msg);

/* api_rollout.c: /api/v1/rollouts and /api/v1/apps/APP/rollout(s) (before /api/v1/). */
int cairnd_api_rollout_register(cairnd *d, cairn_http *srv);

/* api.c: add the /api/v1 routes to the server. */
int cairnd_api_register(cairnd *d, cairn_http *srv);

#endif
