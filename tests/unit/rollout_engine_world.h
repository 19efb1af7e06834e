/* rollout_engine_world.h - what the rollout engine's cluster tests share:
 * a cairn-sim (Pods ready at once), a state store, a context, a tiny HTTP
 * server for the web provider, and helpers to build Rollouts and read the
 * ReplicaSets and Services back. Implemented in rollout_engine.c. */
#ifndef CAIRN_ROLLOUT_ENGINE_WORLD_H
#define CAIRN_ROLLOUT_ENGINE_WORLD_H

#include <jansson.h>

#include "cairn/kube.h"
#include "cairn/rollout.h"
#include "cairn/state.h"

typedef struct ro_world {
	cairn_kube_client *kube;
	cairn_state *st;
	char dir[64];
	cairn_rollout_ctx ctx;
	json_t *manifests; /* AnalysisTemplates */
} ro_world;

void world_open(ro_world *w);
void world_close(ro_world *w);
void rollout_sim_start(void);
void rollout_sim_stop(void);

/* A Rollout (single quotes allowed) named `name` with image `image` and
 * strategy JSON `strategy`. */
json_t *make_rollout(const char *name, int replicas, const char *image, const char *strategy);
json_t *JQ(const char *text);

/* cairn_rollout_apply() asserting success. */
void apply(ro_world *w, cairn_rollout_result *res, const char *rev, json_t *ro);

/* Tick until the result is completed or Paused with no next_at (or `max_ms` passed);
 * `each` (may be NULL) runs after every tick. */
typedef void (*tick_fn)(ro_world *w, const cairn_rollout_result *res, void *ud);
void drive(ro_world *w, cairn_rollout_result *res, const char *name, int max_ms, tick_fn each,
           void *ud);

/* spec.replicas and ready replicas of `<name>-<hash of image>`. */
void rs_counts(ro_world *w, const char *name, const json_t *ro, int *replicas, int *ready);
/* The hash of a Rollout's template. */
void ro_hash(char out[16], const json_t *ro);
/* The selector hash of a Service ("" when none). */
void svc_hash(ro_world *w, const char *svc, char *out, size_t size);
/* A Service `name` selecting app=`app`, applied as field manager "cairn". */
void make_service(ro_world *w, const char *name, const char *app);

/* The web provider's server: answers every GET with {"value": V}. */
int web_start(void);
void web_set(double v);

/* An AnalysisTemplate `name` reading the web server at `port`. */
void add_template(ro_world *w, const char *name, int port, const char *conds);

#endif
