/*
 * cairn/kube.h - the Kubernetes client: kubeconfig, HTTP over libcurl,
 * discovery (REST mapping), get/list/server-side apply/delete.
 *
 * Trust: a kubeconfig the operator configured ($KUBECONFIG, ~/.kube/config,
 * a --kubeconfig flag) may name files (certificate-authority, client-key,
 * tokenFile) and exec credential plugins. A kubeconfig that arrives from a
 * repository or from the API may not: loading it without
 * CAIRN_KUBECONFIG_TRUSTED refuses those fields (CVE-2022-24817 class).
 */
#ifndef CAIRN_KUBE_H
#define CAIRN_KUBE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/buf.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Load flag: the operator configured this kubeconfig; honour file paths and exec. */
#define CAIRN_KUBECONFIG_TRUSTED 1u

/** A loaded (possibly merged) kubeconfig. */
typedef struct cairn_kubeconfig cairn_kubeconfig;

/**
 * Load the operator's kubeconfig as kubectl does.
 *
 * @param out    on success, a new kubeconfig (free with cairn_kubeconfig_free()).
 * @param path   a file, or NULL for $KUBECONFIG (a ':'-separated list of
 *               files merged: the first file to define a cluster, user or
 *               context name wins, the first non-empty current-context wins,
 *               missing files are skipped), else ~/.kube/config.
 * @param flags  CAIRN_KUBECONFIG_TRUSTED or 0.
 * @return 0, CAIRN_ENOTFOUND (no file), CAIRN_EINVAL (bad YAML or shape).
 *         Relative file paths inside a file resolve against its directory.
 *         Thread-safe (reads the environment).
 */
int cairn_kubeconfig_load(cairn_kubeconfig **out, const char *path, unsigned flags);

/**
 * Parse kubeconfig bytes (one file). `name` is used in messages and, when
 * trusted, its directory resolves relative paths (NULL: the cwd).
 * Same returns as cairn_kubeconfig_load(). Thread-safe.
 */
int cairn_kubeconfig_parse(cairn_kubeconfig **out, const char *data, size_t len, const char *name,
                           unsigned flags);

/** The merged current-context, or NULL when none is set. Borrowed. */
const char *cairn_kubeconfig_current_context(const cairn_kubeconfig *kc);

/** Free a kubeconfig; accepts NULL. */
void cairn_kubeconfig_free(cairn_kubeconfig *kc);

/** Everything needed to reach one cluster as one user. Strings are owned. */
typedef struct cairn_kube_config {
	char *context;    /**< the context name ("in-cluster" for in-cluster) */
	char *server;     /**< https://host:port or http://... (no trailing '/') */
	char *namespace_; /**< the default namespace ("default" when unset) */
	char *tls_server_name;
	int insecure;       /**< 1 only when insecure-skip-tls-verify: true was written */
	cairn_buf ca_pem;   /**< CA bundle (PEM); empty: the system store */
	cairn_buf cert_pem; /**< client certificate (PEM); empty: none */
	cairn_buf key_pem;  /**< client key (PEM) */
	char *token;        /**< bearer token, or NULL */
	char *username;     /**< basic auth, or NULL */
	char *password;
	int64_t token_expiry_us; /**< exec credential expiry (0: none) */
	char *exec_json;         /**< the exec plugin (JSON), run again at expiry or on 401 */
	char *exec_user;         /**< the kubeconfig user the plugin belongs to */
} cairn_kube_config;

/**
 * Resolve a context of `kc` (NULL: the current context) into a config:
 * reads the files it names and runs its exec plugin (trusted kubeconfigs
 * only). Returns 0, CAIRN_ENOTFOUND (no such context/cluster/user),
 * CAIRN_EINVAL (bad field, two authentication methods), CAIRN_EPERM (a file
 * or exec in an untrusted kubeconfig) or CAIRN_EIO. Thread-safe.
 */
int cairn_kube_config_resolve(cairn_kube_config **out, const cairn_kubeconfig *kc,
                              const char *context);

/**
 * In-cluster configuration: token, ca.crt and namespace from `sa_dir` (NULL:
 * /var/run/secrets/kubernetes.io/serviceaccount), server from
 * $KUBERNETES_SERVICE_HOST and $KUBERNETES_SERVICE_PORT.
 * Returns 0, CAIRN_ENOTFOUND (not in a cluster) or CAIRN_EIO.
 */
int cairn_kube_config_in_cluster(cairn_kube_config **out, const char *sa_dir);

/** Free a config (wipes the secrets); accepts NULL. */
void cairn_kube_config_free(cairn_kube_config *cfg);

/**
 * The config an operator points Cairn at: in-cluster when `in_cluster`,
 * else context `context` (NULL: the current one) of the trusted kubeconfig
 * `kubeconfig` (NULL: $KUBECONFIG, else ~/.kube/config). What
 * cairn_kube_config_in_cluster() or cairn_kubeconfig_load() with
 * CAIRN_KUBECONFIG_TRUSTED then cairn_kube_config_resolve() return.
 */
int cairn_kube_config_for(cairn_kube_config **out, const char *kubeconfig, const char *context,
                          int in_cluster);

/* ---- HTTP ---- */

typedef struct cairn_kube_client_opts {
	int64_t connect_timeout_ms; /**< default 5,000 */
	int64_t timeout_ms;         /**< per attempt, default 30,000 */
	int64_t deadline_ms;        /**< whole call with retries, default 60,000 */
	int max_retries;            /**< default 4 */
	int64_t backoff_base_ms;    /**< default 100; doubled each retry, +-50% jitter */
	int64_t backoff_max_ms;     /**< default 5,000 */
	int64_t retry_after_cap_ms; /**< largest Retry-After honoured, default 10,000 */
	int64_t discovery_ttl_ms;   /**< default 300,000 */
} cairn_kube_client_opts;

/** The API's answer to a failed call (a meta/v1 Status). */
typedef struct cairn_kube_status {
	long code;         /**< HTTP status (0: no answer) */
	char reason[64];   /**< "NotFound", "Conflict", "Invalid", ... */
	char message[512]; /**< the Status message */
} cairn_kube_status;

typedef struct cairn_kube_client cairn_kube_client;

/**
 * A client for one cluster: one kept-alive libcurl handle. The config is
 * copied. `opts` may be NULL. Returns 0, CAIRN_EINVAL (server not
 * http/https) or CAIRN_ENOMEM. One client must not be used by two threads
 * at once; different clients may.
 */
int cairn_kube_client_new(cairn_kube_client **out, const cairn_kube_config *cfg,
                          const cairn_kube_client_opts *opts);

/** Free a client; accepts NULL. */
void cairn_kube_client_free(cairn_kube_client *c);

/** The default namespace of the client's config. Borrowed. */
const char *cairn_kube_client_namespace(const cairn_kube_client *c);

/** The Status of the client's last failed call (code 0 after a success). */
const cairn_kube_status *cairn_kube_last_status(const cairn_kube_client *c);

/** Requests sent (attempts, retries included) since the client was made. */
uint64_t cairn_kube_request_count(const cairn_kube_client *c);

/**
 * One request. `path` starts with '/' and carries the query. `body` may be
 * NULL. Retries (backoff + jitter, Retry-After capped) on connection
 * errors, 429 and 5xx when the call is safe to repeat: GET, HEAD, DELETE,
 * and PATCH with application/apply-patch+yaml; others only when the request
 * never reached the server (no connection) or was refused with 429.
 * On a 2xx answer `out` (may be NULL) gets the body and 0 is returned; on
 * another status the Status is kept (cairn_kube_last_status()) and the
 * error set: CAIRN_ENOTFOUND (404), CAIRN_EEXISTS (409), CAIRN_EINVAL (400,
 * 422), CAIRN_EPERM (401, 403), CAIRN_ETIMEOUT (deadline), CAIRN_EIO
 * (connection, redirects: never followed, 5xx, 429).
 */
int cairn_kube_request(cairn_kube_client *c, const char *method, const char *path,
                       const char *content_type, const void *body, size_t body_len, cairn_buf *out);

/* ---- discovery and operations ---- */

/** The REST mapping of one kind. */
typedef struct cairn_kube_mapping {
	char group[128];
	char version[64];
	char kind[128];
	char resource[128];
	int namespaced;
} cairn_kube_mapping;

/**
 * Map apiVersion + kind to a resource from discovery (cached for
 * discovery_ttl_ms, refreshed once on a miss). Returns 0, CAIRN_ENOTFOUND
 * or the request's error.
 */
int cairn_kube_mapping_for(cairn_kube_client *c, const char *api_version, const char *kind,
                           cairn_kube_mapping *out);

/**
 * Find a resource by a name a person types: kind (any case), plural,
 * singular or short name, optionally "name.group". First match in
 * discovery order (core first). Returns 0 or CAIRN_ENOTFOUND.
 */
int cairn_kube_mapping_find(cairn_kube_client *c, const char *name, cairn_kube_mapping *out);

/** Server version (the /version gitVersion) into `out`. */
int cairn_kube_server_version(cairn_kube_client *c, char *out, size_t size);

/**
 * GET one object. `ns` NULL: the client's namespace (ignored for
 * cluster-scoped kinds). `out` gets a new reference.
 */
int cairn_kube_get(cairn_kube_client *c, const cairn_kube_mapping *m, const char *ns,
                   const char *name, json_t **out);

/**
 * GET the status subresource of one object (`.../NAME/status`): the whole
 * object as the status endpoint answers it. Same parameters, returns and
 * ownership as cairn_kube_get(); CAIRN_ENOTFOUND also when the resource has
 * no status subresource.
 */
int cairn_kube_get_status(cairn_kube_client *c, const cairn_kube_mapping *m, const char *ns,
                          const char *name, json_t **out);

typedef struct cairn_kube_list_opts {
	const char *label_selector; /**< NULL: none */
	const char *field_selector; /**< NULL: none */
	long limit;                 /**< 0: no limit */
	const char *continue_;      /**< token from the last page, or NULL */
	int all_namespaces;         /**< 1: ignore ns */
} cairn_kube_list_opts;

/**
 * One page of a list. The next page's token is the list's
 * metadata.continue (absent or "" on the last page). `out` gets a new
 * reference.
 */
int cairn_kube_list(cairn_kube_client *c, const cairn_kube_mapping *m, const char *ns,
                    const cairn_kube_list_opts *opts, json_t **out);

/** Apply flag: dryRun=All (nothing is stored; the answer predicts the object). */
#define CAIRN_KUBE_DRY_RUN 1u

/**
 * Server-side apply of `obj` (borrowed): PATCH application/apply-patch+yaml
 * with fieldManager=cairn and force=true; its namespace is the object's,
 * else the client's. `out` (may be NULL) gets the object the server
 * answered.
 */
int cairn_kube_apply(cairn_kube_client *c, const json_t *obj, unsigned flags, json_t **out);

/** Apply flag for cairn_kube_apply_many(): keep each answered object in its result. */
#define CAIRN_KUBE_KEEP_ANSWER 2u

/** The outcome of one object of cairn_kube_apply_many(). */
typedef struct cairn_kube_apply_result {
	int rc;                   /**< 0 or the CAIRN_E* code of this object */
	cairn_kube_status status; /**< the API's Status when rc != 0 (code 0: no answer) */
	char message[512];        /**< the error message when rc != 0 */
	json_t *obj; /**< the answered object (CAIRN_KUBE_KEEP_ANSWER), owned by the result */
} cairn_kube_apply_result;

/** The largest parallelism cairn_kube_apply_many() uses. */
#define CAIRN_KUBE_MAX_PARALLEL 64

/**
 * Server-side apply of `n` objects (borrowed), each as cairn_kube_apply()
 * would (one PATCH each, same retries and per-call deadline), over up to
 * `parallelism` kept-alive connections in worker threads (clamped to
 * 1..CAIRN_KUBE_MAX_PARALLEL and to `n`; 1 runs on `c` in the calling
 * thread). Discovery runs once, on `c`, before any request. `results` (n
 * entries, written in the order of `objs`) tell each object's outcome; one
 * failing object does not stop the others. `flags` takes CAIRN_KUBE_DRY_RUN
 * and CAIRN_KUBE_KEEP_ANSWER; free the kept objects with
 * cairn_kube_apply_results_clear(). The requests of the workers are added
 * to cairn_kube_request_count(c). Returns 0 when every object was applied,
 * else the code of the first failing object (message set from it), or
 * CAIRN_ENOMEM / CAIRN_ERROR when no worker could start (results then all
 * carry that error). `c` must not be used by another thread meanwhile.
 */
int cairn_kube_apply_many(cairn_kube_client *c, json_t *const *objs, size_t n, unsigned flags,
                          cairn_kube_apply_result *results, int parallelism);

/** Release the objects kept in `n` results (json_decref); accepts NULL. */
void cairn_kube_apply_results_clear(cairn_kube_apply_result *results, size_t n);

/* ---- watch ---- */

/**
 * Called for each watch event: `type` is "ADDED", "MODIFIED", "DELETED" or
 * "BOOKMARK"; `obj` is borrowed (json_incref() to keep it). `synthetic` is 1
 * for events made from a list (the first list and every relist), 0 for
 * events the server sent. Return 0 to go on, 1 to stop the watch (it
 * returns 0), or a negative CAIRN_E* code to stop it with that code.
 */
typedef int (*cairn_kube_watch_fn)(void *ud, const char *type, json_t *obj, int synthetic);

typedef struct cairn_kube_watch_opts {
	const char *label_selector; /**< NULL: none */
	const char *field_selector; /**< NULL: none */
	int all_namespaces;         /**< 1: ignore ns */
	/** Start after this version; NULL or "": list first (synthetic ADDED). */
	const char *resource_version;
	int64_t deadline_ms;      /**< return 0 after this long; 0: no deadline */
	const volatile int *stop; /**< return 0 soon (<= ~1 s) after *stop != 0; may be NULL */
	int64_t stream_timeout_s; /**< timeoutSeconds of each watch request, default 300 */
	size_t max_event;         /**< largest event line, default 16 MiB */
	int max_failures;         /**< reconnects in a row without an event, default 10 */
	long list_limit;          /**< page size of lists, default 500 */
} cairn_kube_watch_opts;

/**
 * Watch one resource type (`m` in `ns`, NULL: the client's namespace) until
 * the callback stops it, *stop is set or the deadline passes. Uses
 * resourceVersion and allowWatchBookmarks; when the stream ends or drops it
 * resumes from the last version seen; on 410 Gone (HTTP status or an ERROR
 * event with code 410) it relists and reports the difference with what it
 * had seen as synthetic ADDED/MODIFIED/DELETED events (a synthetic DELETED
 * carries apiVersion, kind and metadata name/namespace/resourceVersion).
 * Connection failures are retried with backoff, at most max_failures in a
 * row. `rv_out` (may be NULL) gets the last version seen, to resume later.
 *
 * Thread-safety: the watch uses its own libcurl handle for the stream but
 * the client's handle for lists, so a client must not be used by another
 * thread while it watches. To watch many kinds, give each watch thread its
 * own client, or call this in turn with a short deadline per kind and pass
 * rv_out back as resource_version. The callback runs on the calling thread
 * and may use the client (not for another watch).
 *
 * @return 0 (stopped, deadline), the callback's negative code, or the error
 *         of a call that is not retried (401, 403, 404, ...; CAIRN_EIO after
 *         max_failures).
 */
int cairn_kube_watch(cairn_kube_client *c, const cairn_kube_mapping *m, const char *ns,
                     const cairn_kube_watch_opts *opts, cairn_kube_watch_fn fn, void *ud,
                     char *rv_out, size_t rv_size);

/**
 * DELETE one object. `propagation`: "Background", "Foreground", "Orphan" or
 * NULL (the server's default).
 */
int cairn_kube_delete(cairn_kube_client *c, const cairn_kube_mapping *m, const char *ns,
                      const char *name, const char *propagation);

/* ---- health (src/kube/health.c, docs/health.md) ---- */

/**
 * Argo CD's health statuses, ordered from most to least healthy: a larger
 * value is worse (cairn_health_worst()).
 */
typedef enum cairn_health_status {
	CAIRN_HEALTH_HEALTHY = 0,
	CAIRN_HEALTH_SUSPENDED,
	CAIRN_HEALTH_PROGRESSING,
	CAIRN_HEALTH_MISSING,
	CAIRN_HEALTH_DEGRADED,
	CAIRN_HEALTH_UNKNOWN,
} cairn_health_status;

/** The health of one object. */
typedef struct cairn_health {
	cairn_health_status status;
	int none;           /**< 1: no rule applies; the object has no health (status unused) */
	char message[1024]; /**< Argo CD's message ("" when it has none); long ones are cut */
} cairn_health;

/**
 * Assess a live object as Argo CD does: the rule of its kind (Deployment,
 * StatefulSet, DaemonSet, ReplicaSet, Pod, Service, Ingress,
 * PersistentVolumeClaim, Job, CronJob, HorizontalPodAutoscaler,
 * APIService), the status.conditions rule for custom resources, or none.
 *
 * @param obj  the object (borrowed), or NULL when it does not exist
 *             (Missing).
 * @param out  the result. A field of the wrong type gives Unknown with a
 *             message naming it; an object being deleted is Progressing
 *             ("Pending deletion").
 * @return 0, or CAIRN_EINVAL when obj is not an object with apiVersion and
 *         kind (out untouched). Thread-safe.
 */
int cairn_health_assess(const json_t *obj, cairn_health *out);

/** "Healthy", "Progressing", ...; "Unknown" for a value out of range. Static. */
const char *cairn_health_status_string(cairn_health_status s);

/** Parse a status name (exact case). Returns 0 or CAIRN_EINVAL. */
int cairn_health_status_parse(cairn_health_status *out, const char *name);

/** The worse of two statuses (Healthy < Suspended < Progressing < Missing < Degraded < Unknown). */
cairn_health_status cairn_health_worst(cairn_health_status a, cairn_health_status b);

/**
 * Fold `h` into the aggregate `acc` ("worst wins", keeping the worst
 * object's message). Start `acc` as {.none = 1}; objects without health
 * are skipped, so acc->none stays 1 when no object had any. Not
 * thread-safe on one `acc`.
 */
void cairn_health_aggregate(cairn_health *acc, const cairn_health *h);

#ifdef __cplusplus
}
#endif
#endif
