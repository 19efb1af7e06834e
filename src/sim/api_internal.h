/*
 * src/sim/api_internal.h - shared between the API engineer's files of
 * cairn-sim (registry.c, discovery.c, openapi.c, crd.c). Not for the server.
 */
#ifndef CAIRN_SIM_API_INTERNAL_H
#define CAIRN_SIM_API_INTERNAL_H

#include "registry.h"

/* A registry row: the public resource plus what discovery needs. */
struct sim_entry {
	sim_resource res;
	const char *verbs; /* comma-separated, static */
	char *crd_name;    /* "<plural>.<group>" for CRD rows, NULL for built-ins */
	int served;        /* CRD version served (1) */
	int storage;       /* CRD storage version (preferred in discovery) */
};

/* Read-lock the registry for iteration; pair with sim__registry_unlock(). */
void sim__registry_rdlock(const sim_registry *r);
void sim__registry_unlock(const sim_registry *r);
/* Rows in table order (built-ins first, then CRDs as registered); under the lock. */
size_t sim__registry_count(const sim_registry *r);
const struct sim_entry *sim__registry_at(const sim_registry *r, size_t i);

/* Append a JSON value's compact encoding to a buffer (0 or CAIRN_ENOMEM/ELIMIT). */
int sim__buf_json(cairn_buf *b, const json_t *v);
/* Fill a reply with a Status failure body (kind Status, reason, message, code). */
int sim__reply_status(sim_http_reply *reply, int code, const char *reason, const char *message);

/* Serve /openapi/v2 and /openapi/v3[/...]; 1 when the path is OpenAPI's. */
int sim__openapi_serve(const sim_registry *r, const char *dir, const char *path, const char *accept,
                       sim_http_reply *reply);

#endif
