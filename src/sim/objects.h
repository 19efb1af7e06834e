/*
 * sim/objects.h - the simulator's object transformations: JSON merge patch
 * (RFC 7386), JSON patch (RFC 6902), Kubernetes strategic merge patch,
 * server-side apply with managed fields (FieldsV1), and the API server's
 * defaulting of built-in kinds.
 *
 * All functions are pure: inputs borrowed, outputs new references owned by
 * the caller (json_decref); 0 or a negative CAIRN_E* code with the message in
 * cairn_error_last(); outputs untouched on failure. They keep no state and
 * are thread-safe for distinct arguments.
 */
#ifndef CAIRN_SIM_OBJECTS_H
#define CAIRN_SIM_OBJECTS_H

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * RFC 7386 JSON merge patch.
 *
 * @param out     the patched document (new reference, caller owns)
 * @param target  the document to patch (borrowed; NULL is treated as null)
 * @param patch   the merge patch (borrowed)
 * @return 0, CAIRN_ENOMEM or CAIRN_ELIMIT (nesting deeper than 512).
 */
int sim_patch_merge(json_t **out, const json_t *target, const json_t *patch);

/**
 * RFC 6902 JSON patch (add/remove/replace/move/copy/test), applied in order;
 * all or nothing.
 *
 * @param out     the patched document (new reference, caller owns)
 * @param target  the document (borrowed)
 * @param ops     the array of operations (borrowed)
 * @return 0, or CAIRN_EINVAL on a bad operation, a missing path or a failed
 *         test (the message names the operation's index and path).
 */
int sim_patch_json(json_t **out, const json_t *target, const json_t *ops);

/**
 * Kubernetes strategic merge patch for built-in kinds (merge keys, patch
 * strategies, $patch: delete/replace/merge, $setElementOrder/<field>,
 * $deleteFromPrimitiveList/<field>, $retainKeys), using core's table
 * (cairn_k8s_merge_key_find, cairn_k8s_kind_type, cairn_k8s_field_type).
 * For kinds not in the table (CRDs) it behaves as a JSON merge patch, as the
 * API server does.
 *
 * @param out     the patched object (new reference, caller owns)
 * @param target  the live object (borrowed)
 * @param patch   the patch (borrowed)
 * @return 0, or CAIRN_EINVAL on a malformed directive.
 */
int sim_patch_strategic(json_t **out, const json_t *target, const json_t *patch);

/** Options of sim_apply(). */
typedef struct sim_apply_opts {
	const char *manager;    /* fieldManager (required for apply) */
	int force;              /* force=true */
	int subresource_status; /* apply to the status subresource */
	const char *now;        /* RFC 3339 time for managedFields entries */
} sim_apply_opts;

/**
 * Server-side apply. Sets metadata.managedFields (FieldsV1 JSON, operation
 * "Apply", manager, apiVersion, time) as the API server encodes them;
 * removes fields the manager applied before and no longer applies (unless
 * another manager owns them); lists merge by their list-map keys, atomic
 * lists are replaced.
 *
 * @param out      the resulting object (new reference, caller owns)
 * @param live     the stored object, or NULL when it does not exist yet (borrowed)
 * @param applied  the applied configuration (borrowed)
 * @param opts     manager, force, status subresource, time (borrowed)
 * @return 0; CAIRN_EBUSY on conflicts without force, with a message shaped
 *         like the API server's ("Apply failed with 1 conflict: conflict with
 *         \"mgr\" using apps/v1: .spec.replicas"); CAIRN_EINVAL on a bad
 *         configuration (no manager, not an object, duplicate list keys).
 */
int sim_apply(json_t **out, const json_t *live, const json_t *applied, const sim_apply_opts *opts);

/**
 * Record managed fields for a non-apply write (create/update/patch):
 * operation "Update" for `manager`, owning the fields that changed between
 * `old` (NULL on create: every field) and `obj`; those fields are taken away
 * from the other managers, and entries left owning nothing are dropped.
 *
 * @param obj      the object about to be stored, modified in place (borrowed)
 * @param old      the stored object before the write, or NULL (borrowed)
 * @param manager  the field manager (e.g. "kubectl-edit"); NULL or "" is "unknown"
 * @param now      RFC 3339 time for the entry
 * @return 0 or CAIRN_EINVAL/CAIRN_ENOMEM.
 */
int sim_managed_update(json_t *obj, const json_t *old, const char *manager, const char *now);

/**
 * Apply the API server's defaults to a built-in object in place (Pods and
 * the Pod templates of workloads, Services, Deployments, ...). Unknown kinds
 * are left alone. Service clusterIPs are derived from the object's
 * namespace and name (deterministic), not allocated from shared state.
 *
 * @param obj  the object (modified in place; borrowed)
 * @return 0 or CAIRN_ENOMEM.
 */
int sim_default(json_t *obj);

#ifdef __cplusplus
}
#endif
#endif
