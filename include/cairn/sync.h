/*
 * cairn/sync.h - the sync engine: resource identity and tracking,
 * normalisation, ignoreDifferences and diff, the sync plan (phases, waves,
 * hooks, prune), and running it against a cluster.
 *
 * The layers, bottom up, each usable on its own (and tested on its own):
 *   ids and tracking   (src/sync/track.c)   which live objects belong to an app
 *   compare            (src/sync/diff.c, src/sync/ignore.c)
 *                      desired (as the server would store it) vs live
 *   plan               (src/sync/plan.c)    what to do, in which order
 *   run                (src/sync/run.c)     do it: apply, wait, hooks, prune,
 *                      record an operation (state) and audit entries
 *
 * Objects are jansson trees in the API's JSON shape. Unless said
 * otherwise, functions borrow their inputs and give the caller new
 * references; they return 0 or a negative CAIRN_E* code with the error set
 * (cairn/error.h). All functions are thread-safe for distinct arguments;
 * jq evaluation is serialised internally (libjq 1.6 is not thread-safe).
 */
#ifndef CAIRN_SYNC_H
#define CAIRN_SYNC_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/buf.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- resource identity --------------------------------------------------- */

/** The identity of one object: API group (no version), kind, namespace, name. */
typedef struct cairn_res_id {
	char group[254]; /**< "" for the core group, "apps", ... */
	char kind[128];
	char ns[254]; /**< "" for cluster-scoped objects or when not set */
	char name[254];
} cairn_res_id;

/**
 * The identity of `obj` (group taken from apiVersion "group/version").
 * `default_ns` (may be NULL) fills an empty namespace, except for kinds
 * that are cluster-scoped (core's k8s kind table; unknown kinds are taken as
 * namespaced). Returns 0 or CAIRN_EINVAL naming the missing field.
 */
int cairn_res_id_of(cairn_res_id *out, const json_t *obj, const char *default_ns);

/** Total order: group, kind, namespace, name (byte order). */
int cairn_res_id_cmp(const cairn_res_id *a, const cairn_res_id *b);

/** "group/Kind/namespace/name" ("/Kind/ns/name" for core) into out. */
void cairn_res_id_format(const cairn_res_id *id, char *out, size_t size);

/* ---- tracking (Argo CD 3 semantics) --------------------------------------- */

typedef enum cairn_track_mode {
	CAIRN_TRACK_ANNOTATION = 0,   /**< argocd.argoproj.io/tracking-id (default) */
	CAIRN_TRACK_LABEL = 1,        /**< app.kubernetes.io/instance = app name */
	CAIRN_TRACK_ANNOTATION_LABEL, /**< both written; the annotation decides */
} cairn_track_mode;

#define CAIRN_TRACKING_ANNOTATION "argocd.argoproj.io/tracking-id"
#define CAIRN_TRACKING_LABEL "app.kubernetes.io/instance"
/** Marks objects the rollout engine created (DESIGN §5a); prune leaves them. */
#define CAIRN_ROLLOUT_MARKER "cairn.dev/rollout"

/**
 * The tracking id "<app>:<group>/<Kind>:<namespace>/<name>" of an object
 * with identity `id`, into `out`. CAIRN_ELIMIT when it does not fit.
 */
int cairn_track_id(char *out, size_t size, const char *app, const cairn_res_id *id);

/** Write the tracking annotation and/or label of `mode` into desired `obj`. */
int cairn_track_set(json_t *obj, const char *app, const cairn_res_id *id, cairn_track_mode mode);

/**
 * Whether live object `obj` belongs to `app`: 1 or 0. In the annotation
 * modes the annotation must name `app` *and* point at the object itself
 * (a copied object whose id names another object is not tracked); in the
 * label mode the label must equal `app`.
 */
int cairn_track_owned(const json_t *obj, const char *app, cairn_track_mode mode);

/* ---- compare: normalisation, ignoreDifferences, diff ----------------------- */

/** Compiled ignoreDifferences rules (Application `spec.ignoreDifferences`). */
typedef struct cairn_ignore cairn_ignore;

/**
 * Compile `rules` (an array in Argo CD's shape: group, kind, name,
 * namespace, jsonPointers, jqPathExpressions, managedFieldsManagers; may be
 * NULL). `where` names the source in messages ("application 'x'").
 * CAIRN_EINVAL names the rule index and field that is wrong (a bad JSON
 * pointer, a jq expression that does not compile).
 */
int cairn_ignore_compile(cairn_ignore **out, const json_t *rules, const char *where);
void cairn_ignore_free(cairn_ignore *ig);

/** What Secret values are replaced by in every output. */
#define CAIRN_SECRET_MASK "++++++++"

/**
 * Normalise a copy of an object for comparison: drop status,
 * metadata.managedFields/resourceVersion/uid/generation/creationTimestamp/
 * selfLink, server-set annotations (kubectl last-applied-configuration,
 * deployment.kubernetes.io/revision), empty metadata maps; then remove the
 * paths `ig` (may be NULL) ignores for this object; fields owned by the
 * rule's managedFieldsManagers are found in `live_for_managers`'s
 * managedFields (may be NULL). Returns a new object.
 */
int cairn_sync_normalize(json_t **out, const json_t *obj, const cairn_ignore *ig,
                         const json_t *live_for_managers);

/** One differing path. */
typedef struct cairn_diff_entry {
	char *path;     /**< JSON pointer, e.g. "/spec/replicas" */
	json_t *live;   /**< value in live (NULL: absent); Secret values masked */
	json_t *wanted; /**< value in desired (NULL: absent); Secret values masked */
} cairn_diff_entry;

typedef struct cairn_diff {
	cairn_res_id id;
	int equal;           /**< 1: in sync */
	int missing;         /**< 1: no live object */
	cairn_diff_entry *v; /**< leaf-level differences, in path order */
	size_t n;
	json_t *live_norm;   /**< normalised live (masked), or NULL when missing */
	json_t *wanted_norm; /**< normalised desired (masked) */
} cairn_diff;

/**
 * Compare `wanted` (best: the server-side-apply dry-run answer for the
 * desired object, so defaulted fields never differ) with `live` (NULL:
 * the object does not exist). Secret data/stringData compared by hash and
 * masked in the result. Returns a new diff (free with cairn_diff_free()).
 */
int cairn_sync_diff(cairn_diff **out, const json_t *wanted, const json_t *live,
                    const cairn_ignore *ig);
void cairn_diff_free(cairn_diff *d);

/**
 * Append a unified diff of the normalised YAML of `d` (as `argocd app
 * diff` shows: "===== group/Kind ns/name ======" header then the diff)
 * to `out`; `color` adds ANSI colours. Nothing is appended when equal.
 */
int cairn_diff_format(cairn_buf *out, const cairn_diff *d, int color);

/* ---- plan ------------------------------------------------------------------ */

typedef enum cairn_sync_phase {
	CAIRN_PHASE_PRESYNC = 0,
	CAIRN_PHASE_SYNC = 1,
	CAIRN_PHASE_POSTSYNC = 2,
	CAIRN_PHASE_SYNCFAIL = 3,
} cairn_sync_phase;

typedef enum cairn_sync_action {
	CAIRN_ACT_NONE = 0, /**< in sync, nothing to do */
	CAIRN_ACT_CREATE,
	CAIRN_ACT_UPDATE,
	CAIRN_ACT_HOOK,       /**< create a hook object (after BeforeHookCreation delete) */
	CAIRN_ACT_PRUNE,      /**< delete a live object no longer desired */
	CAIRN_ACT_PRUNE_SKIP, /**< would prune but Prune=false / prune disabled: reported */
} cairn_sync_action;

/** hook-delete-policy bits */
#define CAIRN_HOOK_DELETE_SUCCEEDED 1u
#define CAIRN_HOOK_DELETE_FAILED 2u
#define CAIRN_HOOK_DELETE_BEFORE_CREATION 4u

/** argocd.argoproj.io/sync-options bits read from an object (see docs/sync.md) */
#define CAIRN_SYNCOPT_PRUNE_FALSE 1u    /**< Prune=false */
#define CAIRN_SYNCOPT_PRUNE_LAST 2u     /**< PruneLast=true */
#define CAIRN_SYNCOPT_VALIDATE_FALSE 4u /**< Validate=false: skip schema validation */
#define CAIRN_SYNCOPT_SSA 8u            /**< ServerSideApply=true */
#define CAIRN_SYNCOPT_REPLACE 16u       /**< Replace=true: replace (PUT) instead of apply */

typedef struct cairn_plan_step {
	cairn_res_id id; /**< for a generateName hook, id.name is the generateName prefix */
	cairn_sync_phase phase;
	int wave;          /**< the wave the step runs in: the sync-wave annotation
	                        (default 0), except prune steps (waves mirrored, PruneLast
	                        after the Sync phase's last wave), as gitops-engine does */
	int declared_wave; /**< the argocd.argoproj.io/sync-wave annotation (default 0) */
	int kind_rank;     /**< order of the kind within a wave (Namespace first) */
	cairn_sync_action action;
	unsigned hook_delete; /**< CAIRN_HOOK_DELETE_* (hooks only) */
	int prune_last;       /**< Prune after every other wave */
	unsigned options;     /**< CAIRN_SYNCOPT_* of the object (desired, or live for prune) */
	int generate_name;    /**< 1: hook named by metadata.generateName (no name yet) */
	json_t *desired;      /**< the object to apply (tracking written), NULL for prune */
	json_t *live;         /**< the live object, or NULL */
} cairn_plan_step;

typedef struct cairn_plan {
	cairn_plan_step *v; /**< in execution order: phase, wave, kind rank, id */
	size_t n;
} cairn_plan;

typedef struct cairn_plan_input {
	const char *app;
	cairn_track_mode track;
	const char *dest_namespace;     /**< default namespace of namespaced objects */
	const json_t *desired;          /**< array of rendered objects */
	const json_t *live;             /**< array: live objects tracked to the app plus
	                                 the live versions of desired objects */
	const cairn_diff *const *diffs; /**< one per desired object, same order
	                                     (NULL entries: unknown → update) */
	int prune;                      /**< prune enabled (sync --prune / policy) */
	int allow_empty;                /**< an empty desired set may prune everything */
	int apply_out_of_sync_only;     /**< ApplyOutOfSyncOnly=true */
	int create_namespace;           /**< CreateNamespace=true (`live` must then hold
	                                     the dest_namespace Namespace when it exists) */
	int prune_last;                 /**< PruneLast=true for the whole app */
} cairn_plan_input;

/**
 * Build the plan. Refuses (CAIRN_EPERM, message says so) a plan that would
 * prune every tracked object when the desired set is empty and allow_empty
 * is 0. Objects marked CAIRN_ROLLOUT_MARKER are never pruned. Hooks are
 * objects annotated argocd.argoproj.io/hook (PreSync, Sync, PostSync,
 * SyncFail, Skip); sync-options Prune=false, PruneLast=true,
 * Replace/ServerSideApply annotations are read from
 * argocd.argoproj.io/sync-options.
 *
 * Steps are in execution order: phase, wave, prunes before applies, kind
 * rank, name, then the whole id. Every desired non-hook object gets a step
 * (CAIRN_ACT_NONE when ApplyOutOfSyncOnly and in sync: kept so the run
 * waits for its health with its wave). CAIRN_EINVAL names the object for a
 * bad sync-wave, an unknown hook or hook-delete-policy value, or a
 * duplicate desired object. *out is new (cairn_plan_free()).
 */
int cairn_sync_plan(cairn_plan **out, const cairn_plan_input *in);
void cairn_plan_free(cairn_plan *p);

/** Names for output: "PreSync", "create", ... */
const char *cairn_sync_phase_name(cairn_sync_phase p);
const char *cairn_sync_action_name(cairn_sync_action a);

/* ---- run: compare an app with the cluster, execute a plan (src/sync/run.c) -- */

#include "cairn/audit.h"
#include "cairn/kube.h"
#include "cairn/state.h"

/**
 * Progress callback of a sync: `phase` ("PreSync", ...; "Compare" while
 * comparing), `wave`, the object (NULL for a wave-level event), `action`
 * ("create", "update", "hook", "prune", "wait", ...), `result` ("ok",
 * "failed: ...", "Healthy", ...). Runs on the syncing thread.
 */
typedef void (*cairn_sync_progress_fn)(void *ud, const char *phase, int wave,
                                       const cairn_res_id *id, const char *action,
                                       const char *result);

/** What a compare or sync works with. All pointers borrowed. */
typedef struct cairn_sync_ctx {
	cairn_kube_client *kube; /**< required */
	cairn_state *state;      /**< operations, history, dry-run cache; NULL: none kept */
	cairn_audit *audit;      /**< NULL: no audit entries */
	const char *actor;       /**< who triggered (audit actor, op trigger_who); NULL: "cairn" */
	const char *trigger;     /**< cli, webhook, poll, ...; NULL: "cli" */
	cairn_track_mode track;
	cairn_sync_progress_fn progress; /**< may be NULL */
	void *progress_ud;
	int64_t wait_timeout_ms; /**< per wave health wait; 0: 300,000 */
	int64_t poll_ms;         /**< health poll interval; 0: 250 */
} cairn_sync_ctx;

/** One app in one environment, rendered, and how to sync it. Borrowed. */
typedef struct cairn_sync_request {
	const char *app; /**< required */
	const char *env; /**< "" or NULL: unbound */
	const char *revision;
	const char *render_hash;
	const char *dest_namespace; /**< default namespace; NULL: the client's */
	const json_t *manifests;    /**< array of rendered objects (required) */
	const cairn_ignore *ignore; /**< may be NULL */
	int prune, allow_empty, create_namespace;
	/**
	 * 1: apply every object, as Argo CD does without ApplyOutOfSyncOnly.
	 * 0 (default): apply only out-of-sync objects: the diff comes from a
	 * server-side dry run, so a Synced object would not change.
	 */
	int apply_all;
	int retry_limit;               /**< retry.limit: extra attempts after the first (0: none) */
	int64_t backoff_ms;            /**< retry.backoff.duration; 0: 5,000 */
	int backoff_factor;            /**< retry.backoff.factor; 0: 2 */
	int64_t backoff_max_ms;        /**< retry.backoff.maxDuration; 0: 180,000 */
	int history_limit;             /**< revisionHistoryLimit; 0: 10 */
	const char *prune_propagation; /**< "background" (default) or "foreground" */
	/**
	 * 1 (the Environment's `rollouts: internal`, the default there): objects
	 * the rollout engine interprets (apiVersion argoproj.io/...: Rollout,
	 * AnalysisTemplate, ClusterAnalysisTemplate, AnalysisRun, Experiment)
	 * are not applied, diffed, listed or pruned; compare reports them with
	 * `rollout` set, and the caller hands them to the rollout engine (sync
	 * never calls it, DESIGN 5a). 0 (`rollouts: external`): applied like any
	 * object.
	 */
	int interpret_rollouts;
} cairn_sync_request;

/** The compared state of one desired or tracked object. */
typedef struct cairn_sync_res {
	cairn_res_id id;
	int desired; /**< 1: in the desired set; 0: tracked live object only */
	int synced;  /**< 1: Synced */
	cairn_health health;
	cairn_diff *diff; /**< desired objects only, else NULL */
	json_t *object;   /**< the desired object (tracking written), or NULL */
	json_t *live;     /**< the live object, or NULL */
	int rollout;      /**< 1: handed to the rollout engine (req interpret_rollouts):
	                       not compared, Synced, no health; `object` is the object with its
	                       namespace filled in */
} cairn_sync_res;

/** An app compared with the cluster. */
typedef struct cairn_sync_result {
	cairn_sync_res *v;
	size_t n;
	int synced;          /**< 1: every desired object Synced and nothing to prune */
	cairn_health health; /**< worst of the objects' health */
	uint64_t dry_runs;   /**< dry-run calls made (cache misses) */
} cairn_sync_result;

/**
 * Compare the rendered manifests of `req` with the cluster: GET each desired
 * object, predict it with a server-side-apply dry run (cached in the state's
 * dry-run cache by the SHA-256 of the desired object's JCS and the live
 * resourceVersion, so an unchanged app makes no dry-run call), diff, assess
 * health; then list the tracked objects of the desired kinds plus the kinds
 * of earlier syncs (kept in the state's key/value table) to find what would be
 * pruned (desired 0 entries).
 * @param out  a new result (free with cairn_sync_result_free()).
 * @return 0 or the kube/state error. Not thread-safe on one ctx (the kube
 *         client is single-threaded).
 */
int cairn_sync_compare_app(cairn_sync_result **out, const cairn_sync_ctx *ctx,
                           const cairn_sync_request *req);
void cairn_sync_result_free(cairn_sync_result *r);

/** The outcome of cairn_sync_run() / cairn_sync_rollback(). */
typedef struct cairn_sync_outcome {
	int64_t operation_id; /**< the last attempt's operation (0: no state) */
	int64_t history_id;   /**< the history entry written on success (0: none) */
	int attempts;
	int succeeded;
	size_t applied, pruned, hooks; /**< writes of the last attempt */
	char message[512];
} cairn_sync_outcome;

/**
 * Sync: compare, plan (cairn_sync_plan()), then execute per phase and wave:
 * apply (SSA, fieldManager cairn, force), hooks (BeforeHookCreation delete
 * first, Jobs waited for to completion, delete policies), wait for each
 * wave's objects to be healthy (ctx->wait_timeout_ms), prune (background
 * propagation unless foreground is asked), and on failure run the SyncFail
 * hooks and stop. Objects carrying CAIRN_ROLLOUT_MARKER are never updated
 * or pruned (the rollout engine owns them; see sync__rollout_owned() in
 * reconcile.c). Each attempt is an operation in the state (resources committed as
 * they are done); failed attempts are retried per req's retry settings. On
 * success a history entry (manifests inline) is added and trimmed and the
 * app status written. Audit: sync.started, prune, sync.succeeded/failed.
 * @param out  the outcome (also filled on failure when not NULL).
 * @return 0 when the sync succeeded; CAIRN_EPERM (plan refused: empty
 *         set without allow_empty), CAIRN_ETIMEOUT (wave not healthy), the
 *         kube error, ... with the error set.
 */
int cairn_sync_run(cairn_sync_outcome *out, const cairn_sync_ctx *ctx,
                   const cairn_sync_request *req);

/**
 * Roll (app, env) back to history entry `history_id`: sync its stored
 * manifests (operation kind "rollback"; req's manifests, revision and
 * render_hash are ignored; the rest is used), then pin the app: status
 * paused with pinned_history_id and pinned_revision = `tracked_revision`
 * (the revision the app tracks now), so automated sync waits for a newer
 * commit or an explicit re-enable. Audit: rollback.
 * @return 0, CAIRN_ENOTFOUND (no entry), CAIRN_EINVAL (entry of another app
 *         or without inline manifests), or cairn_sync_run()'s errors.
 */
int cairn_sync_rollback(cairn_sync_outcome *out, const cairn_sync_ctx *ctx,
                        const cairn_sync_request *req, int64_t history_id,
                        const char *tracked_revision);

/* ---- drift detection and correction (src/sync/drift.c, docs/drift.md) ------ */

/** What the detector does with a drifted object (Environment `drift:`). */
typedef enum cairn_drift_mode {
	CAIRN_DRIFT_DETECT = 0,  /**< record and report; leave the object alone */
	CAIRN_DRIFT_CORRECT = 1, /**< record, then re-apply the desired object (SSA, force) */
} cairn_drift_mode;

/** Default period of the full comparison that backs up the watches. */
#define CAIRN_DRIFT_FULL_INTERVAL_MS_DEFAULT 180000
/** Most watches (kind x namespace) one detector runs. */
#define CAIRN_DRIFT_WATCHES_MAX 64
/** The field manager of the rollout engine; fields it owns are not drift. */
#define CAIRN_ROLLOUT_MANAGER "cairn-rollout"

/**
 * The drifted fields of one object: differences between `wanted` (the
 * dry-run prediction of the desired object) and `live` at paths that the
 * desired object `desired` itself sets (a field only the server or another
 * manager sets is not drift), leaving out paths whose owner in live's
 * managedFields is CAIRN_ROLLOUT_MANAGER and objects that carry
 * CAIRN_ROLLOUT_MARKER. `ig` (may be NULL) is applied as in a sync diff.
 * @param out  a new JSON array of {"path","old","new","manager"} ("old" is
 *             the desired value, "new" the live one, either null when
 *             absent; Secret values masked; "manager" null when unknown),
 *             empty when nothing drifted.
 * @param changed_at  when not NULL, the latest managedFields time of the
 *             managers found (0: unknown).
 * @return 0, CAIRN_EINVAL (not objects), CAIRN_ENOMEM. Thread-safe.
 */
int cairn_drift_compare(json_t **out, cairn_usec *changed_at, const json_t *desired,
                        const json_t *wanted, const json_t *live, const cairn_ignore *ig);

/**
 * The field manager that owns JSON pointer `path` of `live` according to
 * its managedFields (fieldsV1): of the managers whose field set contains
 * the path, the one with the latest time. List elements are matched by
 * their "k:" keys, "v:" values or "i:" index.
 * @param out   the manager's name (cut to `size`).
 * @param when  when not NULL, that entry's time (0: none written).
 * @return 0, CAIRN_ENOTFOUND (no manager owns the path). Thread-safe.
 */
int cairn_drift_field_manager(char *out, size_t size, cairn_usec *when, const json_t *live,
                              const char *path);

/** One app watched for drift. All pointers borrowed for the whole watch. */
typedef struct cairn_drift_app {
	const cairn_sync_request *req; /**< app, env, manifests, ignore, dest_namespace */
	cairn_drift_mode mode;         /**< the environment's drift mode (selfHeal: correct) */
	/**
	 * May be NULL. While *paused != 0 the detector leaves the app's objects
	 * alone (nothing recorded, nothing corrected): its caller is applying
	 * another render and restarts the watch with it afterwards.
	 */
	const volatile int *paused;
} cairn_drift_app;

/** What the detector reports (to cairn_drift_opts.report). Borrowed. */
typedef struct cairn_drift_report {
	const char *app, *env;
	const cairn_res_id *id;
	int orphan;            /**< 1: an object in the app's namespaces not in git, untracked */
	int64_t record_id;     /**< the state's drift record (0: no state or an orphan) */
	const json_t *paths;   /**< as cairn_drift_compare() (NULL for an orphan) */
	const char *manager;   /**< the manager of the first path, or NULL */
	cairn_usec seen_at;    /**< when the drift was seen (the record's seen time) */
	cairn_usec written_at; /**< when the record was committed (before any correction) */
	int corrected;         /**< 1: re-applied (correct mode) */
	cairn_usec corrected_at;
	const char *error; /**< the correction's error, or NULL */
} cairn_drift_report;

typedef void (*cairn_drift_report_fn)(void *ud, const cairn_drift_report *r);

#define CAIRN_DRIFT_OPTS_VERSION 1

/** Options of cairn_drift_watch(). */
typedef struct cairn_drift_opts {
	int version;                       /**< CAIRN_DRIFT_OPTS_VERSION */
	const cairn_kube_config *kube_cfg; /**< required: each watch gets a client of its own */
	int64_t full_interval_ms;          /**< full comparison period; 0: the default */
	int64_t duration_ms;               /**< return after this long; 0: until stopped */
	uint64_t max_reports;              /**< return after this many reports; 0: no limit */
	const volatile int *stop;          /**< return soon after *stop != 0; may be NULL */
	cairn_drift_report_fn report;      /**< may be NULL; runs with the detector's lock held */
	void *report_ud;
	/** Called once when the watches run (edits from then on are seen); may be NULL. */
	void (*ready)(void *ud, size_t objects, size_t watches);
} cairn_drift_opts;

#define CAIRN_DRIFT_OPTS_INIT                                                                      \
	{                                                                                          \
		CAIRN_DRIFT_OPTS_VERSION, NULL, 0, 0, 0, NULL, NULL, NULL, NULL                    \
	}

/**
 * Watch `apps` for drift until opts->stop, duration or max_reports: compare
 * each app (cairn_sync_compare_app()), keep the predicted form of each
 * desired object, list each desired kind in each namespace the app uses
 * (a full comparison: drift and orphans), then watch each (kind, namespace)
 * from the listed resourceVersion on a thread and client of its own,
 * comparing every changed tracked object; the full comparison repeats every
 * full_interval_ms. A drift is recorded in ctx->state (when not NULL) once
 * per distinct set of drifted paths, audited (drift.detected,
 * drift.corrected) when ctx->audit is set, and in correct mode the desired
 * object is re-applied and the record marked corrected. Orphans are
 * reported once per run and kept in the state's key/value table under
 * "drift.orphans/APP/ENV" (a JSON array of ids).
 * @return 0 when stopped; the kube/state error of the first comparison or
 *         of a watch that failed for good. Uses ctx->kube on the calling
 *         thread only.
 */
int cairn_drift_watch(const cairn_sync_ctx *ctx, const cairn_drift_app *apps, size_t n,
                      const cairn_drift_opts *opts);

/* ---- rendering an Application in its Environment (src/sync/source.c) ---- */

struct cairn_app;
struct cairn_env;
struct cairn_config;
struct cairn_app_git;
struct cairn_render_prov;

/** How cairn_sync_render_app() reads sources. All pointers borrowed. */
typedef struct cairn_app_render_opts {
	const struct cairn_config *cfg; /**< plugins (by name); may be NULL: none */
	struct cairn_app_git *git;      /**< the git mirrors; NULL only with repo_root */
	const char *repo_root;          /**< read every source from this local directory */
	const json_t *vars;             /**< extra variables (`--var`), winning; may be NULL */
	unsigned subst_flags;           /**< 0 or CAIRN_RENDER_SUBST_LENIENT */
	struct cairn_render_prov *prov; /**< provenance recorder, or NULL */
} cairn_app_render_opts;

/** A rendered Application. */
typedef struct cairn_app_render_result {
	json_t *objs;       /**< the manifest set (owned) */
	char hash[65];      /**< its render hash */
	char revision[168]; /**< the sources' commits in order, ','-joined ("" for a local root) */
} cairn_app_render_result;

/**
 * The substitution variables of `app` in `env`, later ones winning: the
 * Environment's `vars`, the Application's annotations `vars.cairn.dev/NAME`,
 * then `extra`. Names coming from the Application are told to `prov` (may
 * be NULL). Returns a new object, or NULL when out of memory.
 */
json_t *cairn_sync_app_vars(const struct cairn_app *app, const struct cairn_env *env,
                            const json_t *extra, struct cairn_render_prov *prov);

/**
 * Render every source of `app` (a `ref`-only source is skipped) for `env`
 * (may be NULL: no environment) with cairn_render_build(): a Helm source
 * through the plugin named "helm" (refused with a message when none is
 * configured), a source naming `plugin.name` through that plugin,
 * anything else natively; variables from cairn_sync_app_vars(); the
 * Environment's `images`/`replicas` overrides; the namespace of the
 * destination, else the Environment's default. Sources are read at their
 * resolved commits through the git mirrors (or from `repo_root`).
 * @param out  on success the manifest set, its hash and the commits
 *             (dispose with cairn_app_render_result_dispose()).
 * @return 0 or the render/source error, prefixed with the application (and
 *         environment) name.
 * Thread-safety: the mirrors session `git` is used by one thread at a time.
 */
int cairn_sync_render_app(cairn_app_render_result *out, const cairn_app_render_opts *o,
                          const struct cairn_app *app, const struct cairn_env *env);
void cairn_app_render_result_dispose(cairn_app_render_result *r);

#ifdef __cplusplus
}
#endif
#endif
