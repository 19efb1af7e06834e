/*
 * cairn/k8s.h - facts about Kubernetes objects that every module shares:
 * object identity checks (RFC 1123 names, label and annotation syntax), and
 * the strategic-merge and list-map keys of the built-in kinds (one data
 * table written from the Kubernetes API definitions:
 * x-kubernetes-patch-merge-key, x-kubernetes-patch-strategy,
 * x-kubernetes-list-type and x-kubernetes-list-map-keys). The renderer, the
 * sync diff and the simulator all read this table.
 *
 * Everything here is pure and reads only static data: thread-safe.
 */
#ifndef CAIRN_K8S_H
#define CAIRN_K8S_H

#include <jansson.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- names -------------------------------------------------------------- */

/** RFC 1123 DNS label: lower-case alphanumerics and '-', alphanumeric at
 * both ends, 1 to 63 characters. Returns 1 or 0. */
int cairn_k8s_is_dns_label(const char *s);
/** RFC 1123 DNS subdomain: DNS labels joined by '.', at most 253 characters.
 * Returns 1 or 0. */
int cairn_k8s_is_dns_subdomain(const char *s);
/** RFC 1035 label (Service names): a DNS label that starts with a letter. */
int cairn_k8s_is_dns1035_label(const char *s);
/** A qualified name (label and annotation keys): an optional DNS subdomain
 * prefix and '/', then 1 to 63 of [A-Za-z0-9-_.], alphanumeric at both
 * ends. Returns 1 or 0. */
int cairn_k8s_is_qualified_name(const char *s);
/** A label value: empty, or at most 63 of [A-Za-z0-9-_.] with an
 * alphanumeric at both ends. Returns 1 or 0. */
int cairn_k8s_is_label_value(const char *s);

/* ---- object checks ------------------------------------------------------ */

/**
 * Called once per problem found by cairn_k8s_check_object().
 *
 * @param ud       the caller's pointer
 * @param pointer  RFC 6901 pointer to the offending node ("" is the
 *                 document, "/metadata/name", "/metadata/labels/app~1x");
 *                 borrowed for the call only
 * @param message  what is wrong, naming the field; borrowed for the call
 * @return 0 to go on, a negative CAIRN_E* code to stop (returned as it is)
 */
typedef int (*cairn_k8s_report_fn)(void *ud, const char *pointer, const char *message);

/**
 * Check that `obj` looks like a Kubernetes object: a JSON object with an
 * apiVersion ("v1" or "group/version"), a kind, and metadata.name or
 * metadata.generateName; that the name follows the syntax its kind needs
 * (a DNS subdomain for most kinds, a DNS label for Namespace, an RFC 1035
 * label for Service, a path segment for RBAC kinds), that metadata.namespace
 * is a DNS label, and that label and annotation keys are qualified names,
 * label values valid label values and all of them strings.
 *
 * @param obj     the document (borrowed)
 * @param report  called once per problem, in document order
 * @param ud      passed to `report`
 * @return the number of problems (0 when the object is fine), or the
 *         negative code `report` returned. Thread-safe.
 */
int cairn_k8s_check_object(const json_t *obj, cairn_k8s_report_fn report, void *ud);

/* ---- the merge-key table ------------------------------------------------ */

/** Summary of how a list field merges in a strategic merge patch. */
typedef enum {
	CAIRN_MERGE_REPLACE = 0, /**< atomic: the patch's value replaces */
	CAIRN_MERGE_BY_KEY,      /**< merge elements by key: patch_key in a strategic
	                              merge patch, list_map_keys in server-side apply */
	CAIRN_MERGE_SET,         /**< a set of scalars (merge strategy on primitives) */
	CAIRN_MERGE_OBJECT,      /**< an object merged field by field, with retainKeys:
	                              fields the patch leaves out are cleared */
} cairn_merge_strategy;

/** x-kubernetes-patch-strategy, as flags ("merge,retainKeys" is both). */
enum {
	CAIRN_PATCH_MERGE = 1,       /**< "merge" */
	CAIRN_PATCH_RETAIN_KEYS = 2, /**< "retainKeys" */
	CAIRN_PATCH_REPLACE = 4,     /**< "replace" */
};

/** x-kubernetes-list-type (server-side apply). */
typedef enum {
	CAIRN_LIST_UNSPECIFIED = 0, /**< not given (server-side apply treats it as atomic) */
	CAIRN_LIST_ATOMIC,
	CAIRN_LIST_SET,
	CAIRN_LIST_MAP,
} cairn_list_type;

/**
 * One row of the merge-key table: a field of an OpenAPI definition that has
 * a patch strategy, a patch merge key, or a list type of set or map. Fields
 * that have none of these are replaced atomically and have no row.
 */
typedef struct cairn_merge_key {
	const char *type;              /**< OpenAPI definition, e.g. "io.k8s.api.core.v1.PodSpec" */
	const char *field;             /**< field of that type, e.g. "containers" */
	cairn_merge_strategy strategy; /**< summary for strategic merge of lists */
	unsigned int patch_strategy;   /**< CAIRN_PATCH_* flags, 0 when none */
	const char *patch_key;         /**< strategic-merge key ("name"), NULL when none */
	cairn_list_type list_type;     /**< x-kubernetes-list-type */
	const char *list_map_keys[3];  /**< x-kubernetes-list-map-keys, NULL-terminated */
	const char *item_type;         /**< definition of the elements (or of the field
	                                     when it is an object), NULL for scalars */
} cairn_merge_key;

/** The whole table (static, sorted by type then field) and its length. */
const cairn_merge_key *cairn_k8s_merge_keys(size_t *count);

/**
 * Look up the row for a field of a type; NULL when the field has none
 * (then a list is replaced atomically). Borrowed static data.
 */
const cairn_merge_key *cairn_k8s_merge_key_find(const char *type, const char *field);

/** One built-in kind: where its top-level definition is. */
typedef struct cairn_k8s_kind {
	const char *group;      /**< "" for the core group */
	const char *version;    /**< "v1" */
	const char *kind;       /**< "Deployment" */
	const char *definition; /**< "io.k8s.api.apps.v1.Deployment" */
} cairn_k8s_kind;

/** One edge of the walk map: `field` of `type` holds a `field_type` (an
 * object, or a list or map of them). */
typedef struct cairn_k8s_field {
	const char *type;
	const char *field;
	const char *field_type;
} cairn_k8s_field;

/** The kind table (static) and its length. */
const cairn_k8s_kind *cairn_k8s_kinds(size_t *count);
/** The walk map (static) and its length. */
const cairn_k8s_field *cairn_k8s_fields(size_t *count);

/**
 * The OpenAPI definition of the top-level object for an apiVersion and kind
 * of a built-in kind ("apps/v1", "Deployment" -> "io.k8s.api.apps.v1.Deployment"),
 * or NULL when it is not a built-in kind. Borrowed static string.
 */
const char *cairn_k8s_kind_type(const char *api_version, const char *kind);

/**
 * The type of `field` inside object type `type` when that field leads to a
 * field of the merge-key table (an object, or a list of objects, so a
 * walker can descend), or NULL. Borrowed static string.
 */
const char *cairn_k8s_field_type(const char *type, const char *field);

/* ---- atomic maps ---------------------------------------------------------- */

/**
 * The atomic maps of the built-in kinds (static, sorted by type then field):
 * the fields whose value is an object that server-side apply treats as one
 * value (x-kubernetes-map-type "atomic" on the field, or on the definition
 * the field refers to): applying one replaces it whole, its owner owns it as
 * a leaf. `field_type` is that definition, or NULL for a map of strings
 * (additionalProperties) such as Service spec.selector. Every other object
 * is "granular" (merged key by key). The rows cover every field-level atomic
 * map of the API and, for the kinds' own definitions and the definitions
 * the walk map leads to or from, the fields that hold an atomic structure
 * (not the items of lists).
 */
const cairn_k8s_field *cairn_k8s_atomic_maps(size_t *count);

/**
 * Whether `field` of object type `type` is an atomic map (see above).
 * 1 when it is, 0 when not or when either argument is NULL. Thread-safe.
 */
int cairn_k8s_map_is_atomic(const char *type, const char *field);

/**
 * The definitions marked x-kubernetes-map-type "atomic" themselves
 * (LabelSelector, OwnerReference, ObjectReference, ...; static, sorted): a
 * value of one of them, a field or a list item, is one value to server-side
 * apply unless the field says "granular".
 */
const char *const *cairn_k8s_atomic_types(size_t *count);

/** Whether definition `type` is in cairn_k8s_atomic_types(); 0 for NULL. Thread-safe. */
int cairn_k8s_type_is_atomic(const char *type);

#ifdef __cplusplus
}
#endif
#endif
