/*
 * compare_private.h - what track.c, ignore.c and diff.c share inside the
 * sync module (the compare layer). Not part of the public API.
 */
#ifndef CAIRN_SYNC_COMPARE_PRIVATE_H
#define CAIRN_SYNC_COMPARE_PRIVATE_H

#include <jansson.h>

#include "cairn/sync.h"

/* 1 when `kind` is a built-in cluster-scoped kind (Namespace, ClusterRole...). */
int sync__kind_cluster_scoped(const char *kind);

/* 1 when `obj` is a core-group Secret (apiVersion "v1", kind "Secret"). */
int sync__is_secret(const json_t *obj);

/*
 * The normalisation of cairn_sync_normalize() without masking Secret
 * values: stringData is folded into data (base64, as the API server does)
 * so callers can compare the values. New object in *out.
 */
int sync__normalize_raw(json_t **out, const json_t *obj, const cairn_ignore *ig,
                        const json_t *live_for_managers);

/* Delete the value at RFC 6901 `pointer` inside `root`; 0 when it was there,
 * CAIRN_ENOTFOUND when not. */
int sync__pointer_remove(json_t *root, const char *pointer);

/* Append `key` escaped as an RFC 6901 reference token to `buf` after a '/'. */
int sync__pointer_append(cairn_buf *buf, const char *key);

#endif
