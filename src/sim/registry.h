/*
 * src/sim/registry.h - cairn-sim's API surface: the resource table of the
 * built-in groups and of CRDs, discovery and OpenAPI serving, CRD schema
 * validation and fault injection.
 *
 * Owned by the API engineer; the server wires these into the request path.
 */
#ifndef CAIRN_SIM_REGISTRY_H
#define CAIRN_SIM_REGISTRY_H

#include <stddef.h>

#include <jansson.h>

#include "cairn/buf.h"

/** One resource type (a plural under a group/version). All strings owned by the registry. */
typedef struct sim_resource {
	char *group; /* "" for the core group */
	char *version;
	char *kind;
	char *list_kind;
	char *plural; /* URL segment, e.g. "deployments" */
	char *singular;
	char *short_names; /* comma-separated, or NULL */
	char *categories;  /* comma-separated, or NULL ("all") */
	int namespaced;
	int has_status; /* status subresource */
	int has_scale;  /* scale subresource */
	json_t *schema; /* CRD openAPIV3Schema, NULL for built-ins */
} sim_resource;

typedef struct sim_registry sim_registry;

/**
 * Create a registry holding the built-in groups of issue 6 (core/v1, apps/v1,
 * batch/v1, networking.k8s.io/v1, policy/v1, rbac.authorization.k8s.io/v1,
 * autoscaling/v2, coordination.k8s.io/v1, apiextensions.k8s.io/v1).
 *
 * @param out  on success a new registry, freed with sim_registry_free()
 * @return 0 or CAIRN_ENOMEM; *out untouched on failure.
 * Thread-safety: lookups and serving take an internal read lock, CRD
 * changes a write lock; a sim_resource pointer stays valid until the CRD
 * that defined it is removed or replaced (built-ins live as long as the registry).
 */
int sim_registry_new(sim_registry **out);

/** Free a registry and every resource in it; accepts NULL. */
void sim_registry_free(sim_registry *r);

/**
 * Find a resource by group ("" for core), version and plural (as in the URL).
 * @return a borrowed pointer, or NULL when unknown.
 */
const sim_resource *sim_registry_find(const sim_registry *r, const char *group, const char *version,
                                      const char *plural);

/**
 * Find a resource by group, version and kind (as in an object's apiVersion/kind).
 * @return a borrowed pointer, or NULL when unknown.
 */
const sim_resource *sim_registry_find_kind(const sim_registry *r, const char *group,
                                           const char *version, const char *kind);

/**
 * Register or update the resources of a CustomResourceDefinition object (on
 * create/update): one resource per served version, with the version's
 * openAPIV3Schema and status/scale subresources.
 *
 * @param crd  the CRD object (borrowed; the schema is copied)
 * @return 0, CAIRN_EINVAL (the CRD lacks group, names or versions, or names
 *         a built-in resource), CAIRN_ENOMEM.
 */
int sim_registry_put_crd(sim_registry *r, const json_t *crd);

/**
 * Remove the resources registered from the CRD named `crd_name`
 * ("<plural>.<group>"). Pointers to them become invalid.
 * @return 0 or CAIRN_ENOTFOUND.
 */
int sim_registry_remove_crd(sim_registry *r, const char *crd_name);

/**
 * Validate an object of a CRD kind against its schema; findings joined into
 * msg in the API server's shape ("spec.replicas: Invalid value: \"string\":
 * spec.replicas in body must be of type integer: \"string\"", joined with ", ";
 * the server prefixes `<Kind>.<group> "<name>" is invalid: `). Members the
 * schema does not declare are not findings here (see sim_crd_prune()).
 *
 * @param res  the resource (a built-in without schema always validates)
 * @param obj  the object (borrowed)
 * @param msg  receives the findings (appended)
 * @return 0 when valid, CAIRN_EINVAL with findings in msg, CAIRN_ENOMEM.
 */
int sim_crd_validate(const sim_resource *res, const json_t *obj, cairn_buf *msg);

/**
 * As sim_crd_validate(), also appending one Status cause per finding to
 * `causes` (a JSON array, borrowed): {"reason": "FieldValueInvalid" |
 * "FieldValueRequired" | "FieldValueNotSupported" | "FieldValueTooLong" |
 * "FieldValueTooMany", "message": "Invalid value: ...", "field": "spec.size"},
 * for the 422 body's details.causes — kubectl prints its "is invalid: ..."
 * line from these.
 */
int sim_crd_validate_causes(const sim_resource *res, const json_t *obj, cairn_buf *msg,
                            json_t *causes);

/**
 * Drop the members of `obj` that the CRD schema does not declare (the API
 * server's pruning; x-kubernetes-preserve-unknown-fields and
 * additionalProperties keep them), listing each as `unknown field "spec.x"`
 * joined with ", " in `unknown` (may be NULL) for fieldValidation=Strict/Warn.
 * @return the number of fields dropped (0 for built-ins).
 */
int sim_crd_prune(const sim_resource *res, json_t *obj, cairn_buf *unknown);

/** An HTTP answer produced by the API side; body owned by the caller (dispose it). */
typedef struct sim_http_reply {
	int status;
	cairn_buf body;
	const char *content_type; /* static string */
	char warning[2048];       /* Warning header texts, one a line ("" = none) */
} sim_http_reply;

/**
 * Serve discovery and OpenAPI paths (/api, /api/v1, /apis, /apis/G, /apis/G/V,
 * aggregated discovery by Accept header, /openapi/v2, /openapi/v3,
 * /openapi/v3/...).
 *
 * @param openapi_dir  directory of the v1.28 documents (swagger.json,
 *                     v3/NAME.json), or NULL for a minimal generated document
 * @param path         request path without the query
 * @param accept       the Accept header, or NULL
 * @param reply        filled when the path is ours (body appended)
 * @return 1 when the path is one of these (status, body and content type
 *         filled), 0 otherwise. Thread-safe.
 */
int sim_discovery_serve(const sim_registry *r, const char *openapi_dir, const char *path,
                        const char *accept, sim_http_reply *reply);

/* Fault injection: decide what to do with one request; admin endpoint
 * (/admin/faults, GET shows the switches, PUT/POST sets them as JSON). */
typedef struct sim_faults sim_faults;

typedef struct sim_fault_action {
	int status;              /* 0: none; else answer with this HTTP status (Status body) */
	int retry_after;         /* seconds, for 429 */
	int latency_ms;          /* delay before answering */
	int drop_watch_after_ms; /* for watches: close the stream after this long, 0 = no */
} sim_fault_action;

/** Create a fault switchboard with every fault off. 0 or CAIRN_ENOMEM. */
int sim_faults_new(sim_faults **out);

/** Free a switchboard; accepts NULL. */
void sim_faults_free(sim_faults *f);

/**
 * Decide the fault for one request. `verb` is the Kubernetes verb (get, list,
 * watch, create, update, patch, delete, deletecollection); res may be NULL
 * (discovery). Deterministic for a given seed and request sequence.
 * Thread-safe.
 */
void sim_faults_decide(sim_faults *f, const char *verb, const sim_resource *res,
                       sim_fault_action *out);

/**
 * Change fault switches from a JSON object (the --faults flag and the admin
 * endpoint): seed, error_rate (number or {verb|"*": rate}), error_status,
 * latency_ms, conflict_rate, throttle_rate, retry_after, gone_rate,
 * drop_watch_after_ms, resource, reset. Switches not named keep their value;
 * "reset": true starts from all-off. Nothing changes on error.
 * @return 0, CAIRN_EINVAL (names the switch), CAIRN_ELIMIT. Thread-safe.
 */
int sim_faults_configure(sim_faults *f, const char *json, size_t len);

/**
 * The admin endpoint /admin/faults: GET shows the switches as JSON, PUT/POST
 * replaces the given switches from a JSON body (see docs/sim-api.md).
 * @return 0 (reply filled, possibly with a 400/405 Status) or CAIRN_ENOMEM.
 */
int sim_faults_admin(sim_faults *f, const char *method, const char *body, size_t len,
                     sim_http_reply *reply);

#endif
