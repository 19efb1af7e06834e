/*
 * cairn/daemon.h - the daemon's HTTP layer: webhook verification and
 * parsing, API tokens and roles, a Prometheus metrics registry, and the
 * HTTP server (libmicrohttpd) with its limits. docs/daemon.md.
 *
 * The scheduler and cairnd's main build on this: a verified webhook turns
 * into a cairn_webhook_trigger handed to a callback, and /api/v1 handlers
 * plug into the routing table with cairn_http_route().
 */
#ifndef CAIRN_DAEMON_H
#define CAIRN_DAEMON_H

#include <stddef.h>
#include <stdint.h>

#include "cairn/buf.h"
#include "cairn/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- headers ------------------------------------------------------------ */

/** One request header; both strings borrowed. */
typedef struct cairn_http_header {
	const char *name;
	const char *value;
} cairn_http_header;

/**
 * The value of header `name` (case-insensitive) among `n` headers, or NULL.
 * Borrowed from `h`. Thread-safe.
 */
const char *cairn_http_header_get(const cairn_http_header *h, size_t n, const char *name);

/* ---- webhooks ----------------------------------------------------------- */

/** The forges Cairn takes webhooks from. */
typedef enum {
	CAIRN_FORGE_GITHUB,
	CAIRN_FORGE_GITLAB,
	CAIRN_FORGE_GITEA, /**< Gitea and Forgejo */
	CAIRN_FORGE_BITBUCKET,
	CAIRN_FORGE_COUNT
} cairn_forge;

/** "github", "gitlab", "gitea", "bitbucket". Static string. */
const char *cairn_forge_name(cairn_forge forge);

/** Parse a forge name; 0 or CAIRN_EINVAL. */
int cairn_forge_parse(cairn_forge *out, const char *name);

/** Default Standard Webhooks timestamp tolerance: 5 minutes. */
#define CAIRN_WEBHOOK_TOLERANCE_SEC 300
/** Most bytes of a webhook body Cairn reads (and of a parsed payload). */
#define CAIRN_WEBHOOK_BODY_MAX (1024 * 1024)

/**
 * Check that a webhook delivery comes from someone who knows `secret`:
 * GitHub `X-Hub-Signature-256: sha256=<hex>`, Gitea/Forgejo
 * `X-Gitea-Signature`/`X-Forgejo-Signature: <hex>`, Bitbucket
 * `X-Hub-Signature: sha256=<hex>`, each the HMAC-SHA256 of the body;
 * GitLab either the Standard Webhooks signature (`webhook-id`,
 * `webhook-timestamp`, `webhook-signature: v1,<base64>` over
 * "id.timestamp.body", several space-separated signatures allowed; a
 * secret written `whsec_<base64>` is the decoded key) when `webhook-signature`
 * is present, else `X-Gitlab-Token` equal to the secret. Every comparison
 * is in constant time.
 *
 * @param forge      the provider named by the URL
 * @param h, nh      the request headers
 * @param body, len  the raw body
 * @param secret     the configured secret; mandatory
 * @param now        wall-clock time, for the Standard Webhooks timestamp
 * @param tolerance_sec  accepted |now - timestamp| (<= 0: the default)
 * @return 0 when genuine; CAIRN_EPERM for a missing or wrong signature or a
 *         timestamp out of tolerance; CAIRN_EINVAL when `secret` is empty.
 *         The message never contains the body or the secret. Thread-safe.
 */
int cairn_webhook_verify(cairn_forge forge, const cairn_http_header *h, size_t nh, const void *body,
                         size_t len, const char *secret, cairn_usec now, int64_t tolerance_sec);

/** One ref a push moved. All strings owned by the trigger. */
typedef struct cairn_webhook_ref {
	char *ref;    /**< full name: "refs/heads/main", "refs/tags/v1.2.0" */
	char *before; /**< commit id before, or NULL when created ("" too) */
	char *after;  /**< commit id after, or NULL when deleted */
} cairn_webhook_ref;

/** What a push or tag event says moved. A trigger to fetch, nothing more. */
typedef struct cairn_webhook_trigger {
	cairn_forge forge;
	char *event;    /**< the forge's event name as sent ("push", "Tag Push Hook", ...) */
	char *delivery; /**< the delivery id header, or NULL */
	char **urls;    /**< every repository URL the payload names (https, ssh, html) */
	size_t n_urls;
	cairn_webhook_ref *refs;
	size_t n_refs;
} cairn_webhook_trigger;

/**
 * Parse a (verified) delivery into a trigger. Push and tag events fill
 * `*out`; every other event, and a ping, sets `*out` to NULL and returns 0
 * ("acknowledged and ignored").
 *
 * @param out  set on success to a new trigger (free with
 *             cairn_webhook_trigger_free) or NULL for an ignored event
 * @return 0, or CAIRN_EINVAL for a push payload Cairn cannot read (the
 *         message names the missing field), CAIRN_ELIMIT for a body over
 *         CAIRN_WEBHOOK_BODY_MAX. Thread-safe.
 */
int cairn_webhook_parse(cairn_webhook_trigger **out, cairn_forge forge, const cairn_http_header *h,
                        size_t nh, const void *body, size_t len);

/** Free a trigger; accepts NULL. */
void cairn_webhook_trigger_free(cairn_webhook_trigger *t);

/**
 * The delivery id of a request: X-GitHub-Delivery, X-Gitlab-Event-UUID (or
 * webhook-id), X-Gitea-Delivery/X-Forgejo-Delivery, X-Request-UUID or
 * X-Request-Id (Bitbucket). Borrowed from `h`, or NULL.
 */
const char *cairn_webhook_delivery_id(cairn_forge forge, const cairn_http_header *h, size_t nh);

/**
 * Remembers delivery ids for a time window, to coalesce duplicates (a
 * redelivery or a retry). Bounded: when full, the oldest id is forgotten.
 * Not a security boundary: ids are mostly not covered by the signature.
 * All functions are thread-safe (one mutex).
 */
typedef struct cairn_webhook_dedup cairn_webhook_dedup;

/** New memory of at most `max` ids (>0) kept for `window` microseconds. */
int cairn_webhook_dedup_new(cairn_webhook_dedup **out, size_t max, cairn_usec window);
/**
 * 1 when (`forge`, `id`) was seen within the window (a duplicate), else 0
 * and the id is remembered from `now`. An empty or NULL id is never a
 * duplicate.
 */
int cairn_webhook_dedup_seen(cairn_webhook_dedup *d, cairn_forge forge, const char *id,
                             cairn_usec now);
void cairn_webhook_dedup_free(cairn_webhook_dedup *d);

/* ---- API tokens ----------------------------------------------------------- */

/** Roles, each allowing what the ones below it allow. */
typedef enum {
	CAIRN_ROLE_VIEWER = 1,   /**< read */
	CAIRN_ROLE_DEPLOYER = 2, /**< read + sync, rollback, promote */
	CAIRN_ROLE_ADMIN = 3     /**< everything: config reload, tokens, audit record */
} cairn_role;

/** What a request wants to do. */
typedef enum {
	CAIRN_ACTION_READ = 1,
	CAIRN_ACTION_DEPLOY = 2,
	CAIRN_ACTION_ADMIN = 3
} cairn_action;

/** "viewer"/"deployer"/"admin" (static), and back (0 or CAIRN_EINVAL). */
const char *cairn_role_name(cairn_role role);
int cairn_role_parse(cairn_role *out, const char *name);

/** One configured token as the daemon sees it; owned by the cairn_auth. */
typedef struct cairn_auth_token {
	char *name;
	uint8_t hash[32]; /**< SHA-256 of the token */
	cairn_role role;
	char **envs; /**< environment scope; n_envs == 0: every environment */
	size_t n_envs;
} cairn_auth_token;

/** A set of tokens. Read-only after setup: lookups are thread-safe. */
typedef struct cairn_auth cairn_auth;

int cairn_auth_new(cairn_auth **out);
void cairn_auth_free(cairn_auth *auth);

/**
 * Add a token. `sha256_hex` is the 64-hex SHA-256 of the token (as
 * `cairn token hash` prints it); `envs` (may be NULL with n_envs 0) is
 * copied. 0, CAIRN_EINVAL (bad hash, empty name), CAIRN_EEXISTS (same name
 * or same hash twice) or CAIRN_ENOMEM. Not thread-safe with lookups.
 */
int cairn_auth_add(cairn_auth *auth, const char *name, const char *sha256_hex, cairn_role role,
                   const char *const *envs, size_t n_envs);

struct cairn_config;

/**
 * Build a token set from a loaded cairn.yaml's `api.tokens` (already
 * checked by cairn_config_load). `*out` is new on success; free it with
 * cairn_auth_free(). 0, or the error of cairn_auth_add() naming the token.
 */
int cairn_auth_from_config(cairn_auth **out, const struct cairn_config *cfg);

/** Number of tokens. */
size_t cairn_auth_count(const cairn_auth *auth);

/**
 * Install the tokens of `from` into `auth` (a reload of api.tokens) and
 * free `from`. Lookups on other threads see either the old or the new set;
 * a token pointer a request already holds stays valid until
 * cairn_auth_free(auth) (old sets are kept until then). Thread-safe with
 * lookups; accepts NULL for either (then does nothing).
 */
void cairn_auth_replace(cairn_auth *auth, cairn_auth *from);

/**
 * Find the token presented in an `Authorization: Bearer <token>` header
 * value. The token is hashed and compared with every entry in constant
 * time (no early exit). `*out` (borrowed from `auth`) is set on success.
 * @return 0, or CAIRN_EPERM: missing/malformed header or unknown token.
 */
int cairn_auth_lookup(const cairn_auth_token **out, const cairn_auth *auth,
                      const char *authorization);

/**
 * May `tok` do `action` in `env` (NULL: an action on no environment, which
 * only an unscoped token may do beyond reading)? 0 or CAIRN_EPERM with a
 * message naming the token, role and environment.
 */
int cairn_auth_check(const cairn_auth_token *tok, cairn_action action, const char *env);

/* ---- metrics -------------------------------------------------------------- */

typedef enum {
	CAIRN_METRIC_COUNTER,
	CAIRN_METRIC_GAUGE,
	CAIRN_METRIC_HISTOGRAM
} cairn_metric_type;

/** A registry of metric families; thread-safe (one mutex). */
typedef struct cairn_metrics cairn_metrics;
/** One family (name, help, label names); owned by its registry. */
typedef struct cairn_metric cairn_metric;

/** Most label names per family and series per family. */
#define CAIRN_METRIC_LABELS_MAX 4
#define CAIRN_METRIC_SERIES_MAX 1024

int cairn_metrics_new(cairn_metrics **out);
void cairn_metrics_free(cairn_metrics *m);

/**
 * Register a family. `labels` is a NULL-terminated list (or NULL) of at
 * most CAIRN_METRIC_LABELS_MAX names; `buckets` (histograms only; NULL for
 * the default latency buckets) are upper bounds in increasing order.
 * Registering the same name again with the same type returns the existing
 * family. `*out` is borrowed from the registry.
 * @return 0, CAIRN_EINVAL (bad name, type clash), CAIRN_ENOMEM.
 */
int cairn_metrics_register(cairn_metric **out, cairn_metrics *m, cairn_metric_type type,
                           const char *name, const char *help, const char *const *labels,
                           const double *buckets, size_t n_buckets);

/**
 * Add `v` to a counter or gauge series / set a gauge / observe a value
 * into a histogram. `values` holds one label value per label name (NULL
 * when the family has none). 0, or CAIRN_ELIMIT when the family already
 * has CAIRN_METRIC_SERIES_MAX series, CAIRN_EINVAL for a wrong type.
 */
int cairn_metric_add(cairn_metric *f, const char *const *values, double v);
int cairn_metric_set(cairn_metric *f, const char *const *values, double v);
int cairn_metric_observe(cairn_metric *f, const char *const *values, double v);

/** The value of a counter/gauge series (0 when absent); for tests. */
double cairn_metric_value(cairn_metric *f, const char *const *values);

/** Append the Prometheus text exposition (format 0.0.4) to `out`. */
int cairn_metrics_render(cairn_metrics *m, cairn_buf *out);

/* ---- per-source rate limiter ----------------------------------------------- */

/**
 * Token buckets per source address: `rate` tokens a second, at most
 * `burst`. Bounded to `max_sources` buckets (full: the stalest is reused).
 * Thread-safe.
 */
typedef struct cairn_ratelimit cairn_ratelimit;
int cairn_ratelimit_new(cairn_ratelimit **out, double rate, double burst, size_t max_sources);
/** 1 when `source` may proceed at `now` (a token is taken), else 0. */
int cairn_ratelimit_take(cairn_ratelimit *rl, const char *source, cairn_usec now);
void cairn_ratelimit_free(cairn_ratelimit *rl);

/* ---- HTTP server ---------------------------------------------------------- */

/** A request as a handler sees it; everything borrowed for the call. */
typedef struct cairn_http_request {
	const char *method;
	const char *path; /**< without the query string */
	const cairn_http_header *headers;
	size_t n_headers;
	const char *body; /**< NUL-terminated for convenience; may hold NULs */
	size_t body_len;
	const char *source; /**< "127.0.0.1", or "local" over the Unix socket */
	int local;          /**< 1 over the Unix socket (file permissions authenticate) */
	const cairn_auth_token *token; /**< the bearer token, for routes that require one */
	const char *route_arg;         /**< the path after the route's prefix */
} cairn_http_request;

/** What a handler fills in. `body` is initialised empty (max 64 MiB). */
typedef struct cairn_http_response {
	unsigned status;
	const char *content_type; /**< static string; default application/json */
	cairn_buf body;
	char retry_after[16]; /**< a Retry-After value when non-empty */
	void *stream;         /**< set by cairn_http_response_stream(); owned */
} cairn_http_response;

/**
 * Pull the next bytes of a streamed body into `buf` (at most `max`):
 * return how many (> 0), 0 when there is nothing now (the connection is
 * parked until cairn_http_streams_wake(); a keep-alive comment is sent
 * after 15 s of silence), or < 0 to end the stream. Called on
 * libmicrohttpd's threads, one call at a time per server.
 */
typedef long (*cairn_http_stream_fn)(void *cls, char *buf, size_t max);
/** Release a stream's `cls` once its connection is done. */
typedef void (*cairn_http_stream_free_fn)(void *cls);

/**
 * A route handler: fill `resp` (status default 200). Returning a negative
 * CAIRN_E* code instead turns the thread's last error into the JSON error
 * response with the matching status (EINVAL 400, EPERM 403, ENOTFOUND 404,
 * ELIMIT 413, EBUSY 409, others 500). Called on libmicrohttpd's threads.
 */
typedef int (*cairn_http_handler)(void *ud, const cairn_http_request *req,
                                  cairn_http_response *resp);

/** Called with each new (not duplicate) push/tag trigger; borrowed. */
typedef void (*cairn_http_trigger_cb)(void *ud, const cairn_webhook_trigger *t);

/** Server options; initialise with CAIRN_HTTP_OPTS_INIT. */
typedef struct cairn_http_opts {
	int version;
	const char
	        *address; /**< listen address, default "127.0.0.1"; NULL port = -1 disables TCP */
	int port;         /**< 0: an ephemeral port (see cairn_http_port), -1: no TCP */
	const char *unix_path;    /**< Unix socket for the CLI (mode 0600), or NULL */
	size_t max_body;          /**< default 1 MiB */
	unsigned max_connections; /**< default 256 */
	unsigned timeout_sec;     /**< idle timeout per connection, default 10 */
	size_t max_header;        /**< per-connection memory for headers, default 32 KiB */
	unsigned threads;         /**< libmicrohttpd thread pool, default 2 */
	double rate;              /**< webhook requests/second per source; 0: no limit */
	double burst;             /**< bucket size, default max(rate, 1) */
	const char *secrets[CAIRN_FORGE_COUNT]; /**< webhook secret per forge; NULL: forge off */
	int64_t tolerance_sec;    /**< Standard Webhooks timestamp tolerance; 0: default */
	size_t dedup_max;         /**< delivery ids remembered, default 4096 */
	int64_t dedup_window_sec; /**< default 3600 */
	const cairn_auth *auth;   /**< tokens for /api/v1 (borrowed); NULL: only the Unix socket */
	cairn_metrics *metrics;   /**< borrowed registry; NULL: the server has its own */
	cairn_http_trigger_cb on_trigger;
	void *trigger_ud;
	const char *version_string; /**< for cairn_build_info; default PACKAGE_VERSION */
	/** PEM certificate (chain) and private key files: HTTPS on the TCP
	 * listener (the Unix socket stays plain). Both or neither; copied.
	 * Read at cairn_http_start() and again by cairn_http_tls_reload(). */
	const char *tls_cert_file;
	const char *tls_key_file;
} cairn_http_opts;

#define CAIRN_HTTP_OPTS_VERSION 1
#define CAIRN_HTTP_OPTS_INIT                                                                       \
	{                                                                                          \
		.version = CAIRN_HTTP_OPTS_VERSION                                                 \
	}

typedef struct cairn_http cairn_http;

/** Route flags. */
#define CAIRN_HTTP_ROUTE_PREFIX 1 /**< match `path` as a prefix; rest in route_arg */
#define CAIRN_HTTP_ROUTE_PUBLIC 2 /**< no bearer token needed */

/**
 * Create a server with the built-in routes (/healthz, /readyz, /metrics,
 * POST /api/webhook/{forge}) without listening yet; add routes, then
 * cairn_http_start(). `opts` is copied (its strings must outlive the server).
 */
int cairn_http_new(cairn_http **out, const cairn_http_opts *opts);

/**
 * Add a route before start: `method` ("GET", ...; NULL any), `path` exact or
 * a prefix (flags). Routes without CAIRN_HTTP_ROUTE_PUBLIC require a valid
 * bearer token (or the Unix socket); 401 otherwise. At most 64 routes.
 */
int cairn_http_route(cairn_http *srv, const char *method, const char *path, int flags,
                     cairn_http_handler fn, void *ud);

/** Listen (TCP and/or Unix socket) and serve on background threads. */
int cairn_http_start(cairn_http *srv);

/**
 * Re-read the TLS certificate and key files (cairnd's SIGHUP) and serve new
 * connections with them. A new libmicrohttpd daemon is started on the same
 * listening socket, then the old one stops accepting: its requests finish,
 * its event streams end (clients reconnect), and it is stopped once its
 * connections are gone or the idle timeout has passed. Nothing is dropped.
 * @return 0 (also when the server has no TLS), or CAIRN_EINVAL/CAIRN_EIO/
 *         CAIRN_ENOTFOUND for an unreadable or unusable pair, in which case
 *         the running certificate stays. Thread-safe; reloads are serialised.
 */
int cairn_http_tls_reload(cairn_http *srv);

/** The TCP port listened on (useful with port 0), or 0. */
int cairn_http_port(const cairn_http *srv);

/** Flip what /readyz answers (200 when 1, 503 when 0); default 0. */
void cairn_http_set_ready(cairn_http *srv, int ready);

/** The server's metrics registry (borrowed). */
cairn_metrics *cairn_http_metrics(cairn_http *srv);

/**
 * Serve one request in process, without sockets (unit tests, and the
 * server itself): routing, auth, rate limit, handler, JSON errors.
 * `resp->body` must be initialised by the caller (cairn_http_response_init).
 */
void cairn_http_dispatch(cairn_http *srv, const cairn_http_request *req, cairn_http_response *resp);

/** Initialise / dispose a response. */
void cairn_http_response_init(cairn_http_response *resp);
void cairn_http_response_dispose(cairn_http_response *resp);

/** Set a JSON error body {"error":{"code","message"}} and the status. */
int cairn_http_error(cairn_http_response *resp, unsigned status, const char *code,
                     const char *message);

/**
 * Make `resp` a stream (Content-Type `text/event-stream`, no length): the
 * server pulls the body from `fn` until it ends or the client goes away,
 * then calls `fr(cls)` (also when the response is disposed unsent). 0 or
 * CAIRN_ENOMEM (then `fr(cls)` has been called).
 */
int cairn_http_response_stream(cairn_http_response *resp, cairn_http_stream_fn fn,
                               cairn_http_stream_free_fn fr, void *cls);

/** Wake every parked stream of `srv` to pull again. Thread-safe. */
void cairn_http_streams_wake(cairn_http *srv);

/** Stop listening, wait for in-flight requests, free; accepts NULL. */
void cairn_http_free(cairn_http *srv);

#ifdef __cplusplus
}
#endif
#endif
