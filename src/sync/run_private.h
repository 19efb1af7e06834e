/*
 * run_private.h - what reconcile.c (compare an app with the cluster) and
 * run.c (execute a plan) share. Not part of the public API.
 */
#ifndef CAIRN_SYNC_RUN_PRIVATE_H
#define CAIRN_SYNC_RUN_PRIVATE_H

#include <jansson.h>

#include "cairn/sync.h"

/* The annotation that makes an object a hook. */
#define SYNC_HOOK_ANNOTATION "argocd.argoproj.io/hook"

/* Key of the key/value entry listing the kinds an app has synced before. */
int sync__kinds_key(char *out, size_t size, const char *app, const char *env);

/* The string at metadata.<field>.<key> of obj, or NULL. */
const char *sync__meta_str(const json_t *obj, const char *field, const char *key);

/*
 * 1 when the rollout engine owns `live` (it carries CAIRN_ROLLOUT_MARKER as a
 * label or annotation). The hook for the rollout issue: field-level
 * ownership (DESIGN §5a) replaces this object-level test there.
 */
int sync__rollout_owned(const json_t *live);

/* The Service selector key a rollout engine points at a ReplicaSet
 * (CAIRN_ROLLOUT_HASH_LABEL of cairn/rollout.h; sync does not include it). */
#define SYNC_ROLLOUT_HASH_KEY "rollouts-pod-template-hash"

/*
 * Give a desired core Service the live Service's `rollouts-pod-template-hash`
 * selector key (the rollout engine's, or an Argo Rollouts controller's).
 * spec.selector is an atomic map: an apply of the selector from git would
 * replace the whole map and drop the key, moving the Service off the stable
 * ReplicaSet, and the dry run would report it OutOfSync. So sync applies,
 * predicts and compares the selector with the key the live one has; git
 * never sets that key. Returns 1 when `desired` changed, 0 when not (not a
 * Service, no selector in git, no key live, already equal), or CAIRN_ENOMEM.
 */
int sync__rollout_hash_keep(json_t *desired, const json_t *live);

/*
 * 1 when `obj` is of a kind the rollout engine interprets (argoproj.io/...
 * Rollout, AnalysisTemplate, ClusterAnalysisTemplate, AnalysisRun,
 * Experiment). The sync module's own test: it does not call the rollout
 * module (which depends on sync, DESIGN 5a).
 */
int sync__rollout_kind(const json_t *obj);

/* Report progress through ctx->progress when set. */
void sync__progress(const cairn_sync_ctx *ctx, const char *phase, int wave, const cairn_res_id *id,
                    const char *action, const char *result);

#endif
