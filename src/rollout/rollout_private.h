/*
 * rollout_private.h - the rollout engine's internals: the parsed Rollout
 * spec (rollout_spec.c), the workload writes (workload.c), the traffic
 * router interface (traffic.c) and the state machines (rollout_engine.c,
 * canary.c, bluegreen.c). docs/rollout.md describes the behaviour.
 */
#ifndef CAIRN_ROLLOUT_PRIVATE_H
#define CAIRN_ROLLOUT_PRIVATE_H

#include <jansson.h>
#include <stdint.h>

#include "cairn/analysis.h"
#include "cairn/kube.h"
#include "cairn/rollout.h"
#include "cairn/state.h"
#include "cairn/sync.h"

/** Most canary steps, analysis templates per reference and args accepted. */
#define RO_MAX_STEPS 64
#define RO_MAX_TEMPLATES 8
#define RO_MAX_ARGS 32

/** An analysis reference: templates and args (borrowed from the Rollout JSON). */
typedef struct ro_analysis {
	int present;
	size_t n_templates;
	const char *templates[RO_MAX_TEMPLATES];
	int cluster_scope[RO_MAX_TEMPLATES];
	size_t n_args;
	cairn_analysis_arg args[RO_MAX_ARGS];
	int starting_step; /**< background analysis only; 0 when not given */
} ro_analysis;

typedef enum ro_step_kind {
	RO_STEP_WEIGHT,
	RO_STEP_PAUSE,
	RO_STEP_ANALYSIS,
	RO_STEP_SCALE,
} ro_step_kind;

/** One canary step. */
typedef struct ro_step {
	ro_step_kind kind;
	int weight;       /**< setWeight 0..100 */
	int64_t pause_ns; /**< pause duration; -1: indefinite */
	ro_analysis analysis;
	/* setCanaryScale: exactly one of these (-1 when not given) */
	int scale_weight;
	int scale_replicas;
	int scale_match; /**< matchTrafficWeight: true */
} ro_step;

/** A parsed Rollout. Strings are borrowed from the JSON it was parsed from. */
typedef struct ro_spec {
	const char *name;
	const char *ns;
	int replicas;
	const json_t *selector;  /**< spec.selector */
	const json_t *template_; /**< spec.template */
	int progress_deadline_s;
	int progress_deadline_abort;
	int blue_green; /**< 0: canary */
	/* canary */
	size_t n_steps;
	ro_step steps[RO_MAX_STEPS];
	int max_surge;       /**< resolved against replicas (rounded up) */
	int max_unavailable; /**< resolved against replicas (rounded down) */
	ro_analysis background;
	const char *stable_service;
	const char *canary_service;
	/* blue-green */
	const char *active_service;
	const char *preview_service;
	int preview_replicas; /**< -1: replicas */
	int auto_promotion;
	int auto_promotion_s; /**< 0: none */
	ro_analysis pre_analysis;
	ro_analysis post_analysis;
	int scale_down_delay_s;
	int abort_scale_down_delay_s;
	char hash[16]; /**< the pod-template hash */
} ro_spec;

/* ---- rollout_spec.c ---- */

/** Parse and check a Rollout; errors name the field path. */
int ro_spec_parse(ro_spec *out, const json_t *rollout);

/** The pod-template hash of a template (10 characters of the safe alphabet). */
int ro_template_hash(char out[16], const json_t *template_);

/** A Go duration or an integer number of seconds (JSON number or digits). */
int ro_duration(int64_t *out_ns, const json_t *v, const char *path);

/* ---- workload.c: writes as CAIRN_ROLLOUT_FIELD_MANAGER ---- */

/** The ReplicaSet of a template: `<rollout>-<hash>` (new reference). */
json_t *ro_replicaset(const char *rollout, const char *ns, const json_t *selector,
                      const json_t *template_, const char *hash, int replicas,
                      const char *revision);

/** Server-side apply with field manager cairn-rollout (force). */
int ro_ssa(cairn_kube_client *kube, const json_t *obj);

/** Replicas, ready replicas of the ReplicaSet `<rollout>-<hash>`; 0/0 when absent. */
int ro_rs_status(cairn_kube_client *kube, const char *rollout, const char *ns, const char *hash,
                 int *replicas, int *ready);

/** Whether Pods of the hash crash-loop or fail to pull (Degraded). */
int ro_rs_degraded(cairn_kube_client *kube, const char *ns, const char *hash, char *why,
                   size_t size);

/* ---- traffic.c ---- */

/** A traffic router: moves the canary's share of the traffic. */
typedef struct ro_router {
	const char *name;
	/** Make `weight` percent of the traffic go to the canary. */
	int (*set_weight)(void *ctx, int weight);
	/** 1 when the weight in effect matches the last set_weight, 0 not yet. */
	int (*verify)(void *ctx);
} ro_router;

/** The replica-ratio router: the weight is what the replica counts give. */
extern const ro_router ro_router_replica_ratio;

/**
 * Replica counts of a basic canary at `weight` (Argo's rules without
 * traffic routing): the canary goes to ceil(weight x replicas / 100) (or the
 * setCanaryScale override `canary_target`, >= 0), the stable to the rest,
 * moving within maxSurge (total never above replicas + surge) and
 * maxUnavailable (ready never below replicas - unavailable).
 */
void ro_canary_counts(int *canary, int *stable, int replicas, int weight, int canary_target,
                      int surge, int unavail, int cur_canary, int cur_stable, int ready_canary,
                      int ready_stable);

/* ---- rollout_engine.c: the shared machinery ---- */

/** One engine run over one rollout row. */
typedef struct ro_run {
	const cairn_rollout_ctx *ctx;
	cairn_state_rollout *row; /**< the persisted row (owned) */
	json_t *st;               /**< row->status */
	ro_spec spec;             /**< of st.rollout (the canary's) */
	int have_spec;
	cairn_usec now;
	int changed;
	int done; /**< the state machine reached a final state this call */
	int aborted;
	cairn_usec next_at;
} ro_run;

cairn_usec ro_now(const ro_run *r);
int ro_save(ro_run *r);
/** Issue an idempotent write as intent then done (see rollout.h). */
int ro_write(ro_run *r, json_t *intent);
/** Scale the ReplicaSet of `hash` to `replicas` through ro_write(). */
int ro_scale(ro_run *r, const char *hash, int replicas);
/**
 * Point `svc` at `hash` through ro_write(); mark 1 while the rollout runs.
 * The live Service's selector is kept with the hash key set (the selector
 * is an atomic map); a Service the cluster lacks is CAIRN_ENOTFOUND naming
 * the Rollout field. st.services[svc] records the hash and the mark.
 */
int ro_select(ro_run *r, const char *svc, const char *hash, int mark);
/** ro_select() unless st.services says `svc` already is at `hash` with `mark`;
 * nothing for a NULL `svc`. */
int ro_point(ro_run *r, const char *svc, const char *hash, int mark);
/** Record an event (state) and, when `action` is set, an audit entry. */
void ro_event(ro_run *r, const char *kind, const char *action, json_t *data);
/** Set the phase and message. */
void ro_phase(ro_run *r, const char *phase, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/** Ask to be called again at `at` (the soonest wins). */
void ro_wake(ro_run *r, cairn_usec at);
/** Abort: canary to 0, stable to full, Degraded, failed revision marked. */
int ro_abort(ro_run *r, const char *reason, int automatic);
/** The canary becomes the stable: Healthy, completed. */
int ro_complete(ro_run *r);

/**
 * Run (or continue) the analysis `key` of status (st.analysis.<key>) for
 * reference `a`: measure what is due, record it. *phase gets the run's
 * phase; Running/Pending ask to be woken at the next due time.
 */
int ro_analysis_step(ro_run *r, const char *key, const ro_analysis *a, cairn_analysis_phase *phase,
                     char *msg, size_t msg_size);
/** Forget the analysis `key`. */
void ro_analysis_drop(ro_run *r, const char *key);

/** Status helpers. */
int ro_geti(const json_t *st, const char *key, int dflt);
void ro_seti(json_t *st, const char *key, int64_t v);
const char *ro_gets(const json_t *st, const char *key);
void ro_sets(json_t *st, const char *key, const char *v);

/* ---- canary.c / bluegreen.c ---- */

/** Advance a canary as far as it can go now. */
int ro_canary_advance(ro_run *r);
/** Advance a blue-green rollout as far as it can go now. */
int ro_bluegreen_advance(ro_run *r);
/** Re-applied old template inside the scale-down window: switch back. */
int ro_bluegreen_switch_back(ro_run *r, const json_t *rollout, const char *rev);

#endif
