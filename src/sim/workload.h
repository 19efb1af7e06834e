/*
 * src/sim/workload.h - the workload controllers of cairn-sim (Deployments,
 * ReplicaSets, Pods, StatefulSets, DaemonSets, Jobs, Services), shared by
 * main.c, handlers.c and the src/sim/workload*.c files.
 *
 * One thread reconciles the store every tick, level-triggered as the real
 * controllers are: it reads what is stored, writes what should change, and
 * every write goes through the store so watches see it.
 */
#ifndef CAIRN_SIM_WORKLOAD_H
#define CAIRN_SIM_WORKLOAD_H

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>

#include "cairn/util.h"

#include "sim.h"

#define SIM_WL_MAX_RULES 64

/* What a failure rule does to the Pods whose image matches it. */
enum {
	SIM_WL_OK = 0,
	SIM_WL_CRASHLOOP, /* containers restart: CrashLoopBackOff, never Ready */
	SIM_WL_IMAGEPULL, /* Pending with ImagePullBackOff */
	SIM_WL_FAIL       /* containers exit 1: Jobs fail, others crash-loop */
};

struct sim_wl_rule {
	char image[256]; /* glob on the container image (fnmatch) */
	int mode;
};

/* The controller's settings, changed at run time through /admin/workloads. */
struct sim_wl_cfg {
	int pod_ready_ms;  /* Pod start to Ready */
	int lb_delay_ms;   /* LoadBalancer Service to its ingress address */
	double time_scale; /* deadlines (progressDeadlineSeconds) run this much faster */
	struct sim_wl_rule rules[SIM_WL_MAX_RULES];
	size_t nrules;
};

typedef struct sim_workloads {
	sim_server *srv;
	pthread_t thread;
	pthread_mutex_t mu; /* guards cfg and stop */
	pthread_cond_t cv;
	int started, stop;
	struct sim_wl_cfg cfg;
	/* Per-tick state, owned by the controller thread only. */
	struct sim_wl_cfg tick_cfg;
	cairn_usec now; /* wall clock at the start of the tick */
	json_t *seen;   /* uid -> first-seen wall time (integer usec) */
	uint64_t rng;
	uint64_t ticks;
	uint64_t last_rv;           /* store version at the start of the last pass */
	cairn_usec next_due;        /* earliest pending timer */
	struct sim_wl_cfg last_cfg; /* settings of the last pass */
	/* The incremental part (see workload_index.c): parsed objects kept
	 * between passes, re-parsed only when their resourceVersion moves; the
	 * uids (and "ns:<namespace>" for Services) a pass must reconcile; timers
	 * in a min-heap, each naming the uid it wakes. */
	struct sim_wl_kind *kinds;
	json_t *dirty;
	int full;        /* reconcile every object this pass */
	const char *cur; /* uid being reconciled: sim_wl__due wakes it */
	struct sim_wl_timer *timers;
	size_t ntimers, captimers;
	uint64_t reparsed; /* objects parsed since start (for tests and figures) */
} sim_workloads;

/**
 * Start the controller thread.
 *
 * @param out    the controller (caller frees with sim_workloads_stop)
 * @param srv    the server whose store it reconciles (borrowed; outlives it)
 * @param cfg    the settings (copied)
 * @return 0 or CAIRN_ENOMEM/CAIRN_EIO.
 */
int sim_workloads_start(sim_workloads **out, sim_server *srv, const struct sim_wl_cfg *cfg);
/** Stop the thread and free. NULL is fine. */
void sim_workloads_stop(sim_workloads *w);
/**
 * Parse a rules / settings document ({"rules":[{"image":"*:bad*","mode":
 * "crashloop"}],"podReadyDelayMs":..,"loadBalancerDelayMs":..,"timeScale":..})
 * into cfg (fields absent keep their value; "rules" replaces the rule list).
 * @return 0 or CAIRN_EINVAL naming the bad field; cfg untouched on failure.
 */
int sim_workloads_parse(struct sim_wl_cfg *cfg, const char *json, size_t len);
/**
 * Apply one command-line flag to cfg: --pod-ready-delay DUR, --lb-delay DUR
 * (Go durations), --fail-rule GLOB=MODE (appends a rule), --time-scale X,
 * --workloads JSON (the admin endpoint's document).
 * @return 0 or CAIRN_EINVAL with a message naming the flag.
 */
int sim_workloads_flag(struct sim_wl_cfg *cfg, const char *flag, const char *value);
/** Defaults: 1 s ready delay, 1 s load-balancer delay, time scale 1, no rules. */
void sim_workloads_cfg_default(struct sim_wl_cfg *cfg);
/** /admin/workloads: GET shows the settings, PUT/POST changes them. Thread-safe. */
void sim_workloads_admin(sim_workloads *w, const char *method, const char *body, size_t len,
                         sim_http_reply *reply);

/* ---- shared between the workload*.c files (controller thread only) ---- */

/* Every object of group/plural in all namespaces, parsed (new array of
 * borrowed cached objects: read them, never change them). */
json_t *sim_wl__list(sim_workloads *w, const char *group, const char *plural);
/* The objects of group/plural this pass must reconcile (their uid is dirty,
 * a Service whose namespace's Pods changed, or a full pass): a new array of
 * private copies the caller may change; their dirty marks are consumed. */
json_t *sim_wl__work(sim_workloads *w, const char *group, const char *plural);
/* Bring the cached objects of group/plural up to date with the store,
 * marking what changed dirty (its uid and its controller owner's uid). */
void sim_wl__refresh(sim_workloads *w, const char *group, const char *plural);
/* Mark uid for reconciling in this or the next pass. */
void sim_wl__mark(sim_workloads *w, const char *uid);
/* Pop every timer due at w->now, marking its uid dirty. */
void sim_wl__timers_fire(sim_workloads *w);
/* End a pass: drop marks no phase took and the Services' namespace marks. */
void sim_wl__pass_end(sim_workloads *w);
/* Free the cache and timers. */
void sim_wl__index_free(sim_workloads *w);
/* Store obj (whose old state is old) with the controller as field manager;
 * 0 or a store error (a conflict is retried on the next tick). */
int sim_wl__update(sim_workloads *w, const char *group, const char *plural, json_t *obj,
                   const json_t *old);
int sim_wl__create(sim_workloads *w, const char *group, const char *plural, json_t *obj);
void sim_wl__delete(sim_workloads *w, const char *group, const char *plural, const json_t *obj);
/* When the controller first saw the key (uid plus a purpose), wall usec. */
cairn_usec sim_wl__first_seen(sim_workloads *w, const char *uid, const char *purpose);
/* Ask for a pass no later than t (wall usec). */
void sim_wl__due(sim_workloads *w, cairn_usec t);
/* Five characters of the Kubernetes safe alphabet. */
void sim_wl__rand5(sim_workloads *w, char out[6]);
/* The rule mode for a Pod spec (first container whose image matches). */
int sim_wl__mode(sim_workloads *w, const json_t *podspec);
/* uid of obj's controller owner, or NULL. */
const char *sim_wl__owner_uid(const json_t *obj);
/* Group objects by their controller owner's uid: {uid: [obj...]}. */
json_t *sim_wl__by_owner(const json_t *objs);
/* 1 when a LabelSelector (matchLabels, matchExpressions) matches labels. */
int sim_wl__selector_match(const json_t *sel, const json_t *labels);
/* Create a Pod from template for owner (kind/apiVersion), named name, with
 * extra labels merged in. */
int sim_wl__make_pod(sim_workloads *w, const json_t *owner, const char *api_version,
                     const char *kind, const json_t *tmpl, const char *name,
                     const json_t *extra_labels);
/* Pod helpers. */
int sim_wl__pod_ready(const json_t *pod);
int sim_wl__pod_active(const json_t *pod); /* not terminal, not deleting */
const char *sim_wl__name(const json_t *obj);
const char *sim_wl__ns(const json_t *obj);
const char *sim_wl__uid(const json_t *obj);
json_int_t sim_wl__int(const json_t *obj, const char *a, const char *b, json_int_t dflt);
/* The time now as API timestamps write it. */
void sim_wl__ts(sim_workloads *w, char out[CAIRN_TIME_RFC3339_LEN]);
/* FNV-32a of the canonical JSON of v (plus collision count when >= 0),
 * rendered as the real controllers do: decimal, then the safe alphabet. */
void sim_wl__hash(const json_t *v, long collision, char out[16]);

/* The controllers (one pass each). */
void sim_wl__pods(sim_workloads *w, json_t *pods);
void sim_wl__deployments(sim_workloads *w);
void sim_wl__replicasets(sim_workloads *w, json_t *pods_by_owner);
void sim_wl__statefulsets(sim_workloads *w, json_t *pods_by_owner);
void sim_wl__daemonsets(sim_workloads *w, json_t *pods_by_owner);
void sim_wl__jobs(sim_workloads *w, json_t *pods_by_owner);
void sim_wl__services(sim_workloads *w, json_t *pods);

#endif
