/*
 * src/sim/fieldval.c - the fieldValidation query parameter of writes:
 * fields the kind's schema does not declare are an error (Strict), a
 * Warning header (Warn, the API server's default) or silently dropped
 * (Ignore). CRD kinds use their CRD schema (sim_crd_prune); built-in kinds
 * the OpenAPI documents of --openapi-dir when they were loaded, and are
 * accepted as they are without them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/schema.h"

#include "server_internal.h"
#include "sim.h"

/* Delete the member an RFC 6901 pointer names; 0 when it was there. */
static int delete_pointer(json_t *root, const char *ptr)
{
	char tok[512];
	json_t *cur = root, *parent = NULL;
	const char *p = ptr;

	if (*p != '/')
		return -1;
	while (*p == '/') {
		size_t n = 0;
		p++;
		for (; *p && *p != '/' && n + 1 < sizeof tok; p++) {
			if (p[0] == '~' && (p[1] == '0' || p[1] == '1')) {
				tok[n++] = p[1] == '0' ? '~' : '/';
				p++;
			} else {
				tok[n++] = *p;
			}
		}
		tok[n] = '\0';
		parent = cur;
		if (json_is_object(cur))
			cur = json_object_get(cur, tok);
		else if (json_is_array(cur))
			cur = json_array_get(cur, strtoul(tok, NULL, 10));
		else
			return -1;
		if (!cur)
			return -1;
	}
	return json_is_object(parent) ? json_object_del(parent, tok) : -1;
}

/* Built-in kinds: the unknown-field findings of the OpenAPI schema,
 * dropped from obj and listed as `unknown field "a.b"` in out. */
static int prune_builtin(const cairn_schema_set *set, json_t *obj, cairn_buf *out)
{
	cairn_schema_finding *f = NULL;
	size_t count = 0;
	int n = 0;

	if (!set || cairn_schema_validate(set, obj, &f, &count))
		return 0;
	for (size_t i = 0; i < count; i++) {
		const char *m = f[i].message;
		size_t len;
		if (strncmp(m, "unknown field '", 15) || (len = strlen(m)) < 16)
			continue;
		cairn_buf_printf(out, "%sunknown field \"%.*s\"", n ? ", " : "", (int)(len - 16),
		                 m + 15);
		n++;
	}
	/* Deepest first, so earlier pointers stay valid. */
	for (size_t i = count; i-- > 0;)
		if (!strncmp(f[i].message, "unknown field '", 15))
			delete_pointer(obj, f[i].pointer);
	cairn_schema_findings_free(f, count);
	return n;
}

/*
 * sim_field_validation - apply fieldValidation `mode` ("Strict", "Warn",
 * "Ignore"; NULL means Warn, the API server's default) to obj, the object
 * a write is about to store (modified: unknown fields are dropped).
 * @return 0 (warnings appended to reply->warning for Warn), or -1 with a
 *         400 BadRequest Status in reply for Strict. Thread-safe.
 */
int sim_field_validation(sim_server *srv, const sim_resource *res, const char *mode, json_t *obj,
                         sim_http_reply *reply)
{
	cairn_buf unknown = CAIRN_BUF_INIT(16 << 10);
	const char *av = json_string_value(json_object_get(obj, "apiVersion")) ?: "";
	int n, rc = 0;

	if (mode && strcmp(mode, "Strict") && strcmp(mode, "Warn") && strcmp(mode, "Ignore")) {
		char msg[300];
		snprintf(msg, sizeof msg,
		         "fieldValidation must be one of Ignore, Warn or Strict, not '%.100s'",
		         mode);
		sim_reply_status(reply, 400, "BadRequest", msg, NULL, NULL, NULL);
		return -1;
	}
	n = res->schema ? sim_crd_prune(res, obj, &unknown)
	                : prune_builtin(srv->schemas, obj, &unknown);
	if (n <= 0 || (mode && !strcmp(mode, "Ignore")))
		goto out;
	if (mode && !strcmp(mode, "Strict")) {
		cairn_buf msg = CAIRN_BUF_INIT(20 << 10);
		cairn_buf_printf(&msg,
		                 "%s in version \"%s\" cannot be handled as a %s: strict decoding "
		                 "error: %s",
		                 res->kind, strchr(av, '/') ? strchr(av, '/') + 1 : av, res->kind,
		                 unknown.ptr);
		sim_reply_status(reply, 400, "BadRequest", msg.ptr ? msg.ptr : "", NULL, NULL,
		                 NULL);
		cairn_buf_dispose(&msg);
		rc = -1;
		goto out;
	}
	/* One Warning line per field, as the API server sends them. */
	for (const char *p = unknown.ptr; p && *p;) {
		const char *e = strstr(p, ", unknown field ");
		size_t len = e ? (size_t)(e - p) : strlen(p), have = strlen(reply->warning);
		if (have + len + 2 < sizeof reply->warning)
			snprintf(reply->warning + have, sizeof reply->warning - have, "%s%.*s",
			         have ? "\n" : "", (int)len, p);
		p = e ? e + 2 : NULL;
	}
out:
	cairn_buf_dispose(&unknown);
	return rc;
}
