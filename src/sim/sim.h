/*
 * src/sim/sim.h - types shared by the files of cairn-sim (SERVER engineer).
 *
 * The store keeps every object as its canonical JSON bytes plus the few
 * fields it indexes on; handlers turn those bytes back into json_t trees
 * only for the request at hand. The server owns one store, one registry
 * and one fault table for its lifetime.
 */
#ifndef CAIRN_SIM_SIM_H
#define CAIRN_SIM_SIM_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/buf.h"
#include "cairn/util.h"

#include "registry.h"

/* Resource key: group + plural ("" group for core). Namespace "" for
 * cluster-scoped objects. */
typedef struct sim_key {
	const char *group;
	const char *plural;
	const char *ns;
	const char *name;
} sim_key;

/* One stored object as handed out by the store: a copy the caller owns. */
typedef struct sim_obj {
	char *json; /* canonical JSON bytes, NUL-terminated */
	size_t len;
	uint64_t rv; /* resourceVersion */
} sim_obj;

void sim_obj_dispose(sim_obj *o);

/* ---- label and field selectors (store.c) ---- */
typedef struct sim_selector sim_selector;
/* Parse a labelSelector / fieldSelector query value (NULL or "" matches all).
 * CAIRN_EINVAL with a message like the API server's on a bad selector. */
int sim_selector_parse(sim_selector **out, const char *label_sel, const char *field_sel);
void sim_selector_free(sim_selector *s);
/* 1 when obj matches (labels and fields read from the object). */
int sim_selector_match(const sim_selector *s, const json_t *obj);

/*
 * sim_time_now - the current time as the API server writes it into
 * creationTimestamp, deletionTimestamp and managedFields: RFC 3339 in UTC
 * with whole seconds ("2026-11-27T00:07:32Z"; metav1.Time has no fraction).
 * @param out  filled with the NUL-terminated text
 * Thread-safe.
 */
void sim_time_now(char out[CAIRN_TIME_RFC3339_LEN]);
/* The same for a given time (microseconds since the epoch); fraction dropped. */
void sim_time_format(char out[CAIRN_TIME_RFC3339_LEN], cairn_usec t);

/* ---- the store (store.c) ---- */
typedef struct sim_store sim_store;

/* Watch event kinds. */
enum {
	SIM_EV_ADDED = 1,
	SIM_EV_MODIFIED,
	SIM_EV_DELETED,
	SIM_EV_BOOKMARK
};

int sim_store_new(sim_store **out, size_t history);
void sim_store_free(sim_store *st);
/* Current resourceVersion (the last one handed out). */
uint64_t sim_store_rv(sim_store *st);
/* Lock the store for a read-modify-write sequence (recursive lock). */
void sim_store_lock(sim_store *st);
void sim_store_unlock(sim_store *st);
/* Get a copy; CAIRN_ENOTFOUND when absent. */
int sim_store_get(sim_store *st, const sim_key *k, json_t **out);
/* Insert a new object: sets metadata.resourceVersion, uid, creationTimestamp,
 * generation (1) in obj (borrowed; modified in place). CAIRN_EEXISTS when present. */
int sim_store_create(sim_store *st, const sim_key *k, json_t *obj);
/* Replace: obj's metadata.resourceVersion (if set) must match the stored one
 * (CAIRN_EBUSY otherwise); keeps uid/creationTimestamp, bumps generation when
 * anything outside metadata/status changed, sets the new resourceVersion. */
int sim_store_update(sim_store *st, const sim_key *k, json_t *obj);
/* Remove and emit DELETED; the removed object (with a fresh resourceVersion)
 * in *out when out != NULL. */
int sim_store_delete(sim_store *st, const sim_key *k, json_t **out);
/* The same, the DELETED event carrying `final` (borrowed) as the last state. */
int sim_store_delete_as(sim_store *st, const sim_key *k, const json_t *final, json_t **out);
/* Callback over objects of a resource (ns NULL = all namespaces) in
 * (namespace, name) order starting after `after` ("ns/name" or NULL).
 * The callback returns 0 to continue, 1 to stop, <0 for an error. */
typedef int (*sim_store_iter_fn)(void *ud, const char *ns, const char *name, const char *json,
                                 size_t len);
int sim_store_iter(sim_store *st, const char *group, const char *plural, const char *ns,
                   const char *after, sim_store_iter_fn fn, void *ud);
/* Like sim_store_iter over all namespaces, with each object's
 * resourceVersion, so a caller keeping parsed copies re-reads only what moved. */
typedef int (*sim_store_iter_rv_fn)(void *ud, const char *ns, const char *name, uint64_t rv,
                                    const char *json, size_t len);
int sim_store_iter_rv(sim_store *st, const char *group, const char *plural, sim_store_iter_rv_fn fn,
                      void *ud);
/* Objects whose metadata.ownerReferences name uid; for garbage collection. */
int sim_store_dependents(sim_store *st, const char *uid, json_t **out_keys);
/* Persist / load all objects (JSON lines of {"g","p","o"}); CAIRN_EIO etc. */
int sim_store_save(sim_store *st, const char *path);
int sim_store_load(sim_store *st, const char *path);
size_t sim_store_count(sim_store *st);
/* Keys of every object in namespace ns (same shape as sim_store_dependents). */
int sim_store_namespaced_keys(sim_store *st, const char *ns, json_t **out_keys);

/* ---- watches (watch.c) ---- */
typedef struct sim_watch sim_watch;
/* Subscribe to events of group/plural (ns NULL = all) after resourceVersion
 * `since` (0 = from now). CAIRN_ELIMIT ("too old resource version") when
 * `since` is older than the history kept. */
int sim_watch_open(sim_store *st, sim_watch **out, const char *group, const char *plural,
                   const char *ns, uint64_t since);
/* Next event as one JSON line (without newline) into out; waits at most
 * timeout_ms. Returns 1 for an event, 0 on timeout, <0 on error/closed. */
int sim_watch_next(sim_watch *w, cairn_buf *out, int timeout_ms);
void sim_watch_close(sim_watch *w);
/* Name the kind bookmarks carry, and append a BOOKMARK event (current rv). */
int sim_watch_set_kind(sim_watch *w, const char *api_version, const char *kind);
void sim_watch_bookmark(sim_watch *w, cairn_buf *out);
/* Deliver only events whose object matches sel (takes ownership; NULL = all). */
void sim_watch_set_selector(sim_watch *w, sim_selector *sel);
/* Wake every watcher and make sim_watch_next return; used at shutdown. */
void sim_store_close_watches(sim_store *st);

/* ---- Table output (table.c) ---- */
int sim_wants_table(const char *accept);
json_t *sim_table(const json_t *items, int include_object, int with_columns, const char *rv,
                  const char *cont);

/* ---- TLS and kubeconfig (tls.c) ---- */
typedef struct sim_tls {
	char *ca_pem;
	char *ca_key_pem;
	char *server_cert_pem;
	char *server_key_pem;
	char *client_cert_pem;
	char *client_key_pem;
} sim_tls;
int sim_tls_generate(sim_tls *t, const char *client_cn);
void sim_tls_dispose(sim_tls *t);
int sim_kubeconfig_write(const sim_tls *t, const char *path, const char *server_url,
                         const char *token);

/* ---- the server (server.c, handlers.c) ---- */
typedef struct sim_server {
	sim_store *store;
	sim_registry *reg;
	sim_faults *faults;
	struct sim_workloads *workloads; /* workload controllers (workload.h), or NULL */
	struct sim_traffic *traffic;     /* traffic model and /metrics (traffic.h), or NULL */
	const char *openapi_dir;
	struct cairn_schema_set *schemas; /* built-in kinds' OpenAPI, or NULL */
	const char *token;
	const char *client_ca_pem;
	volatile int stopping;
} sim_server;

/* One parsed request handed from server.c to handlers.c. */
typedef struct sim_request {
	const char *method;
	const char *path;
	const char *content_type;
	const char *accept;
	const char *body;
	size_t body_len;
	void *conn; /* struct MHD_Connection * for query arguments */
	const char *user;
} sim_request;

/* Fill reply for a request (not for watches). 0 always: errors become Status bodies. */
int sim_handle(sim_server *srv, const sim_request *rq, sim_http_reply *reply);
/* Status body helper. */
void sim_reply_status(sim_http_reply *reply, int code, const char *reason, const char *message,
                      const char *name, const char *group, const char *kind);
const char *sim_query(const sim_request *rq, const char *key);

#endif
