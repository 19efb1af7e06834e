/*
 * src/sim/traffic.h - the traffic model of cairn-sim (traffic.c) and its
 * Prometheus exposition (metrics.c). Private to the simulator.
 *
 * Every Service receives a request rate that is split evenly among the
 * ready Pods it selects; each Pod answers with the error ratio and latency
 * distribution of the first rule that matches it. Counters are integrated
 * (rate x elapsed time) whenever they are read, so they are exact functions
 * of time and topology and a PromQL ratio comes out as configured.
 */
#ifndef CAIRN_SIM_TRAFFIC_H
#define CAIRN_SIM_TRAFFIC_H

#include "sim.h"

typedef struct sim_traffic sim_traffic;

/* Histogram bucket bounds (seconds), Prometheus' default set. */
#define SIM_TRAFFIC_NBUCKETS 11

/* One exported series group: a (Service, Pod) pair. */
typedef struct sim_traffic_series {
	char *ns, *service, *workload, *replicaset, *pod, *hash, *uid;
	double count;                         /* requests answered */
	double ok;                            /* requests answered 200 */
	double errors;                        /* requests answered `code` */
	double buckets[SIM_TRAFFIC_NBUCKETS]; /* cumulative counts per bound */
	double sum;                           /* seconds */
	int code;                             /* error status */
} sim_traffic_series;

/**
 * Create the traffic model over a store (borrowed; must outlive it).
 * @param default_rps  requests per second each Service receives when
 *                     neither the admin endpoint nor its annotation says
 * @return 0, CAIRN_EINVAL (rate out of range) or CAIRN_ENOMEM.
 */
int sim_traffic_new(sim_traffic **out, sim_store *st, double default_rps);

/** Free the model; accepts NULL. */
void sim_traffic_free(sim_traffic *t);

/**
 * Add a rule from the --traffic-rule flag syntax, comma-separated key=value:
 * image=GLOB or hash=GLOB (what it matches), error_ratio=0..1,
 * p50_ms=N, p99_ms=N, code=500..599. Rules added this way are the start
 * set that a DELETE on the admin endpoint goes back to.
 * @return 0 or CAIRN_EINVAL naming the bad key or value. Not thread-safe:
 *         call before serving.
 */
int sim_traffic_add_rule(sim_traffic *t, const char *spec);

/**
 * Change the configuration from a JSON object (the admin endpoint's PUT/POST):
 * "default_rps", "services" ({"ns/name": rps}, merged; a null value removes
 * one), "rules" (an array replacing the rules), "reset" (true: back to the
 * start configuration first). Nothing changes on error.
 * @return 0, CAIRN_EINVAL (names the field), CAIRN_ELIMIT. Thread-safe.
 */
int sim_traffic_configure(sim_traffic *t, const char *json, size_t len);

/**
 * The admin endpoint /admin/traffic: GET shows the configuration, PUT/POST
 * changes it (sim_traffic_configure), DELETE restores the start one.
 * @return 0 (reply filled, possibly with a 400/405 Status) or CAIRN_ENOMEM.
 * Thread-safe.
 */
int sim_traffic_admin(sim_traffic *t, const char *method, const char *body, size_t len,
                      sim_http_reply *reply);

/**
 * Advance every counter to time `now` (monotonic microseconds) with the
 * current Services, Pods and rules, then call fn on each series in
 * (namespace, service, pod) order under the model's lock (the series are
 * borrowed for the call). Series of Pods that no longer exist are dropped;
 * a Pod that is not ready keeps its series without new requests.
 * @return 0, the first negative value fn returns, or CAIRN_ENOMEM.
 * Thread-safe.
 */
int sim_traffic_collect(sim_traffic *t, cairn_usec now,
                        int (*fn)(void *ud, const sim_traffic_series *s), void *ud);

/** The histogram bucket bounds in seconds (SIM_TRAFFIC_NBUCKETS of them). */
const double *sim_traffic_bounds(void);

/**
 * Write the Prometheus text exposition (version 0.0.4) of every series into
 * out after advancing the counters to `now` (metrics.c).
 * @return 0, CAIRN_ENOMEM or CAIRN_ELIMIT (out's maximum). Thread-safe.
 */
int sim_metrics_render(sim_traffic *t, cairn_usec now, cairn_buf *out);

/**
 * Serve /metrics (GET) from the model into reply; 1 when the path was
 * /metrics or /admin/traffic (reply filled), 0 when it is not ours.
 * Thread-safe.
 */
int sim_traffic_route(sim_traffic *t, const char *method, const char *path, const char *body,
                      size_t len, sim_http_reply *reply);

/**
 * Start a plain-HTTP listener on 127.0.0.1:port (0 = any free port) that
 * serves only GET /metrics, for a Prometheus scraping without TLS; the
 * bound port in *bound. Returns the daemon (a struct MHD_Daemon *, stop it
 * with sim_metrics_stop) or NULL with the message set.
 */
void *sim_metrics_listen(sim_traffic *t, int port, int *bound);

/** Stop a listener from sim_metrics_listen; accepts NULL. */
void sim_metrics_stop(void *daemon);

#endif
