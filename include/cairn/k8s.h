/*
 * cairn/k8s.h - facts about Kubernetes objects that every module shares:
 * object identity checks (RFC 1123 names), and the strategic-merge and
 * list-map keys of the built-in kinds (one data table, taken from the
 * Kubernetes API definitions: x-kubernetes-patch-merge-key,
 * x-kubernetes-patch-strategy, x-kubernetes-list-type and
 * x-kubernetes-list-map-keys). The renderer, the sync diff and the
 * simulator all read this table.
 */
#ifndef CAIRN_K8S_H
#define CAIRN_K8S_H

#include <jansson.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** RFC 1123 DNS label: lower-case alphanumerics and '-', at most 63. */
int cairn_k8s_is_dns_label(const char *s);
/** RFC 1123 DNS subdomain: labels joined by '.', at most 253. */
int cairn_k8s_is_dns_subdomain(const char *s);

/**
 * Check that `obj` looks like a Kubernetes object: a JSON object with a
 * non-empty string apiVersion ("v1" or "group/version"), kind, and
 * metadata.name (or generateName), and that name and namespace follow
 * RFC 1123 (namespaces: DNS label; names: DNS subdomain, or a DNS label for
 * the kinds that need one, e.g. Service and Namespace). On failure returns
 * CAIRN_EINVAL with a message naming the field and an RFC 6901 pointer to it
 * in *bad_pointer (static string or "" for the document).
 */
int cairn_k8s_check_object(const json_t *obj, const char **bad_pointer);

/** How a list field merges in a strategic merge patch. */
typedef enum {
	CAIRN_MERGE_REPLACE = 0, /**< atomic: the patch's list replaces */
	CAIRN_MERGE_BY_KEY,      /**< merge elements by key field(s) */
	CAIRN_MERGE_SET,         /**< a set of scalars (merge strategy on primitives) */
} cairn_merge_strategy;

/** One row of the merge-key table. */
typedef struct cairn_merge_key {
	const char *type;  /**< OpenAPI definition, e.g. "io.k8s.api.core.v1.PodSpec" */
	const char *field; /**< field of that type holding a list, e.g. "containers" */
	cairn_merge_strategy strategy;
	const char *patch_key;        /**< strategic-merge key ("name"), NULL when none */
	const char *list_map_keys[3]; /**< x-kubernetes-list-map-keys, NULL-terminated */
	const char *item_type;        /**< definition of the elements, NULL for scalars */
} cairn_merge_key;

/** The whole table and its length. */
const cairn_merge_key *cairn_k8s_merge_keys(size_t *count);

/**
 * Look up the row for a field of a type; NULL when the field is not a
 * keyed/merged list (then a list is replaced atomically).
 */
const cairn_merge_key *cairn_k8s_merge_key_find(const char *type, const char *field);

/**
 * The OpenAPI definition of the top-level object for an apiVersion and kind
 * of a built-in kind ("apps/v1", "Deployment" -> "io.k8s.api.apps.v1.Deployment"),
 * or NULL when it is not a built-in kind.
 */
const char *cairn_k8s_kind_type(const char *api_version, const char *kind);

/**
 * The type of `field` inside object type `type` when it is an object or a
 * list of objects (so a walker can descend), or NULL.
 */
const char *cairn_k8s_field_type(const char *type, const char *field);

#ifdef __cplusplus
}
#endif
#endif
