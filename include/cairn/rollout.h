/*
 * rollout.h - progressive delivery: canary and blue-green rollouts of Argo
 * Rollouts' `Rollout` objects, run by Cairn itself (docs/rollout.md, DESIGN
 * 5a), gated by analysis (analysis.h), with automatic rollback.
 *
 * The engine is a state machine per (app, env, Rollout name), persisted in
 * the state store (cairn_state_rollout, state.h). Every externally visible
 * step (ReplicaSet scale, Service selector switch, router weight) is written
 * as an intent before the API call and as done after it, so an engine
 * restarted at any point resumes at the right step and never overshoots a
 * weight or promotes twice. The engine writes with field manager
 * CAIRN_ROLLOUT_FIELD_MANAGER and marks what it creates with
 * CAIRN_ROLLOUT_MARKER (sync.h), which sync and drift leave alone.
 *
 * Who drives it: the sync caller (cairnd's worker, `cairn app sync`) hands
 * each Rollout of the rendered set to cairn_rollout_apply() after the sync
 * applied everything else; timers and operator requests call
 * cairn_rollout_tick() at or after the `next_at` it returned.
 */
#ifndef CAIRN_ROLLOUT_H
#define CAIRN_ROLLOUT_H

#include <jansson.h>
#include <stdint.h>

#include "cairn/analysis.h"
#include "cairn/util.h"

#ifdef __cplusplus
extern "C" {
#endif

struct cairn_kube_client;
struct cairn_state;
struct cairn_audit;

/** The field manager of every write the engine makes. */
#define CAIRN_ROLLOUT_FIELD_MANAGER "cairn-rollout"
/** The label that carries the pod-template hash (Argo Rollouts' name). */
#define CAIRN_ROLLOUT_HASH_LABEL "rollouts-pod-template-hash"

/** 1 when `obj` is a kind the engine interprets (argoproj.io Rollout,
 * AnalysisTemplate, ClusterAnalysisTemplate), so that sync does not apply it
 * unless the environment says `rollouts: external`. */
int cairn_rollout_interpreted_kind(const json_t *obj);

/** 1 when `obj` is an Argo Rollouts `Rollout` (argoproj.io/<any version>),
 * the one interpreted kind that starts a rollout; 0 otherwise (NULL too). */
int cairn_rollout_is_rollout(const json_t *obj);

/** What the engine works with. All pointers borrowed. */
typedef struct cairn_rollout_ctx {
	struct cairn_kube_client *kube; /**< required */
	struct cairn_state *state;      /**< required: the state machines live there */
	struct cairn_audit *audit;      /**< NULL: no audit entries */
	const char *actor;              /**< who acts (audit actor); NULL: "cairn" */
	cairn_analysis_ctx analysis; /**< for the providers (its kube may be NULL: then `kube`) */
	cairn_usec now;              /**< 0: the real clock; else a fixed time (tests) */
} cairn_rollout_ctx;

/** What one call did and what the engine wants next. */
typedef struct cairn_rollout_result {
	char phase[32];     /**< Progressing, Paused, Healthy, Degraded */
	char message[512];  /**< e.g. "rolled back from 1a2b3c4: analysis 'errors' failed" */
	int step;           /**< current canary step, -1 when none */
	int weight;         /**< canary weight in effect */
	int changed;        /**< 1 when this call wrote to the cluster */
	int completed;      /**< 1 when the rollout reached a final state (Healthy or aborted) */
	int aborted;        /**< 1 when it was aborted (automatically or by request) */
	cairn_usec next_at; /**< when to call cairn_rollout_tick() again (0: only on change) */
} cairn_rollout_result;

/**
 * Start or continue the rollout of `rollout` (a Rollout object of the
 * rendered set of (app, env) at git `revision`; `manifests` is the whole
 * rendered array, where its AnalysisTemplates are looked up). A new pod
 * template starts a new rollout from the current stable; the same template
 * continues the one in progress; a template equal to the stable one after
 * an abort, or re-applied inside a blue-green scale-down window, goes back
 * at once. A revision marked failed for (app, env) is not rolled out again
 * (result message says so) until retried.
 * @return 0 or a negative code (bad Rollout: CAIRN_EINVAL naming the field;
 *         kube and state errors). Not thread-safe on one ctx.
 */
int cairn_rollout_apply(cairn_rollout_result *out, const cairn_rollout_ctx *ctx, const char *app,
                        const char *env, const char *revision, const json_t *rollout,
                        const json_t *manifests);

/**
 * Advance the rollout (app, env, name) from its persisted state: consume a
 * pending operator request (state.h), take measurements that are due, move
 * to the next step when its condition holds, abort and roll back when an
 * analysis fails or the canary is Degraded or past its progress deadline.
 * @return 0, CAIRN_ENOTFOUND (no such rollout), or kube/state errors.
 */
int cairn_rollout_tick(cairn_rollout_result *out, const cairn_rollout_ctx *ctx, const char *app,
                       const char *env, const char *name);

#ifdef __cplusplus
}
#endif
#endif
