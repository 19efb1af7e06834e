/*
 * cairn/schema.h - validate objects against OpenAPI v2/v3 documents,
 * as kubeconform does with a schema location.
 */
#ifndef CAIRN_SCHEMA_H
#define CAIRN_SCHEMA_H

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cairn_schema_set cairn_schema_set;

/**
 * Load every OpenAPI document under `dir`: a Swagger 2.0 `swagger.json`
 * and/or OpenAPI v3 documents (`v3/**.json`), indexing definitions by
 * their x-kubernetes-group-version-kind. Caller frees with
 * cairn_schema_set_free(). Errors name the file.
 */
int cairn_schema_set_load(cairn_schema_set **out, const char *dir);

void cairn_schema_set_free(cairn_schema_set *set);

/** One finding: an RFC 6901 pointer into the object and a message. */
typedef struct cairn_schema_finding {
	char *pointer;
	char *message;
} cairn_schema_finding;

/**
 * Validate `obj` against the schema of its apiVersion/kind. Findings (unknown
 * fields, wrong types, missing required fields, bad enum values) are
 * appended to `*findings` (a malloc'd array, grown with realloc; the caller
 * frees each pointer/message and the array) and counted in `*count`.
 * Returns 0 when it could check (findings or not), CAIRN_ENOTFOUND when the
 * set has no schema for that kind (the caller reports it), CAIRN_ENOMEM.
 * The set is read-only after load: thread-safe.
 */
int cairn_schema_validate(const cairn_schema_set *set, const json_t *obj,
                          cairn_schema_finding **findings, size_t *count);

void cairn_schema_findings_free(cairn_schema_finding *findings, size_t count);

#ifdef __cplusplus
}
#endif
#endif
