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
 * Load the OpenAPI documents of `dir`, indexing definitions by their
 * x-kubernetes-group-version-kind: `dir/swagger.json` (Swagger 2.0) when
 * it exists, otherwise every `dir/v3/NAME.json` (OpenAPI v3, one document
 * per group-version, as the API server serves them), otherwise every
 * `dir/NAME.json`. Local $refs (#/definitions/..., #/components/schemas/...)
 * resolve inside their own document. Nothing is cached on disk.
 *
 * @param out  on success a new set; the caller frees it with
 *             cairn_schema_set_free()
 * @param dir  the directory (borrowed)
 * @return 0, CAIRN_ENOTFOUND (no directory, or no document with kinds in
 *         it), CAIRN_EINVAL (a document is not JSON; file:line:col in the
 *         error), CAIRN_EIO, CAIRN_ENOMEM. *out untouched on failure.
 */
int cairn_schema_set_load(cairn_schema_set **out, const char *dir);

/** Free a set; accepts NULL. */
void cairn_schema_set_free(cairn_schema_set *set);

/** One finding: an RFC 6901 pointer into the object and a message. */
typedef struct cairn_schema_finding {
	char *pointer;
	char *message;
} cairn_schema_finding;

/**
 * Validate `obj` against the schema of its apiVersion/kind, as `kubectl
 * --validate=strict` would: members a schema does not list are unknown
 * fields (unless it has additionalProperties or
 * x-kubernetes-preserve-unknown-fields), JSON types must match (an
 * int-or-string field takes either; a Quantity takes a number or a
 * quantity string such as '500m' or '1Gi'), required fields must be there
 * and enum values be listed; null is accepted anywhere (it means unset).
 * Each finding's message names the field by its dotted path
 * ("spec.template.spec.containers[0].image") and its pointer locates it. Findings (unknown
 * fields, wrong types, missing required fields, bad enum values) are
 * appended to `*findings` (a malloc'd array, grown with realloc; the caller
 * frees each pointer/message and the array) and counted in `*count`.
 * Returns 0 when it could check (findings or not), CAIRN_ENOTFOUND when the
 * set has no schema for that kind (the caller reports it), CAIRN_ENOMEM.
 * The set is read-only after load: thread-safe.
 */
int cairn_schema_validate(const cairn_schema_set *set, const json_t *obj,
                          cairn_schema_finding **findings, size_t *count);

/** Free `count` findings and their array; accepts NULL. */
void cairn_schema_findings_free(cairn_schema_finding *findings, size_t count);

#ifdef __cplusplus
}
#endif
#endif
