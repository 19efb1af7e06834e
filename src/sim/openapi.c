/*
 * openapi.c - /openapi/v2 and /openapi/v3 for cairn-sim.
 *
 * With --openapi-dir the Kubernetes v1.28 documents are read in place on
 * each request (swagger.json for v2, v3/<path with / as __>_openapi.json for
 * each group-version). Group-versions without a file (CRDs, or no
 * directory at all) get a small generated document: one schema per kind
 * and a PATCH operation per resource that lists the dryRun, fieldManager,
 * fieldValidation and force parameters, which is what kubectl looks for
 * before it trusts the server with validation and dry runs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cairn/error.h"

#include "api_internal.h"

#define CT_JSON "application/json"
#define CT_PB_V2 "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
#define MAX_DOC ((size_t)64 << 20)

/* "api/v1" or "apis/<group>/<version>" for a row. */
static void gv_path(const sim_resource *res, char *buf, size_t size)
{
	if (!*res->group)
		snprintf(buf, size, "api/%s", res->version);
	else
		snprintf(buf, size, "apis/%s/%s", res->group, res->version);
}

/* The file of a group-version path under dir/v3, when it exists. */
static int v3_file(const char *dir, const char *gvp, char *file, size_t size, struct stat *st)
{
	char name[600];
	size_t i, j = 0;

	if (!dir)
		return 0;
	for (i = 0; gvp[i] && j + 3 < sizeof(name); i++) {
		if (gvp[i] == '/') {
			name[j++] = '_';
			name[j++] = '_';
		} else if (gvp[i] == '.' && gvp[i + 1] == '.') {
			return 0; /* never leave the directory */
		} else {
			name[j++] = gvp[i];
		}
	}
	name[j] = '\0';
	if ((size_t)snprintf(file, size, "%s/v3/%s_openapi.json", dir, name) >= size)
		return 0;
	return stat(file, st) == 0 && S_ISREG(st->st_mode);
}

/* The reversed-domain definition name prefix ("com.example" for "example.com"). */
static void reversed_group(const char *group, char *buf, size_t size)
{
	const char *end = group + strlen(group);
	size_t j = 0;

	if (!*group) {
		snprintf(buf, size, "io.k8s.api.core");
		return;
	}
	while (end > group && j + 1 < size) {
		const char *dot = end;
		size_t n;

		while (dot > group && dot[-1] != '.')
			dot--;
		n = (size_t)(end - dot);
		if (j + n + 2 >= size)
			break;
		if (j)
			buf[j++] = '.';
		memcpy(buf + j, dot, n);
		j += n;
		end = dot > group ? dot - 1 : group;
	}
	buf[j] = '\0';
}

/* The schema of one kind for the generated document. */
static json_t *kind_schema(const sim_resource *res)
{
	json_t *s = res->schema ? json_deep_copy(res->schema)
	                        : json_pack("{s:s, s:b, s:{s:{s:s}, s:{s:s}, s:{s:s}}}", "type",
	                                    "object", "x-kubernetes-preserve-unknown-fields", 1,
	                                    "properties", "apiVersion", "type", "string", "kind",
	                                    "type", "string", "metadata", "type", "object");

	if (s)
		json_object_set_new(s, "x-kubernetes-group-version-kind",
		                    json_pack("[{s:s, s:s, s:s}]", "group", res->group, "version",
		                              res->version, "kind", res->kind));
	return s;
}

static json_t *patch_op(const sim_resource *res)
{
	static const char *params[] = {"dryRun", "fieldManager", "fieldValidation", "force"};
	json_t *ps = json_array();
	size_t i;

	for (i = 0; ps && i < sizeof(params) / sizeof(params[0]); i++)
		json_array_append_new(ps, json_pack("{s:s, s:s, s:{s:s}}", "name", params[i], "in",
		                                    "query", "schema", "type", "string"));
	return json_pack("{s:s, s:o, s:{}, s:s, s:{s:s, s:s, s:s}}", "operationId", "patch",
	                 "parameters", ps, "responses", "x-kubernetes-action", "patch",
	                 "x-kubernetes-group-version-kind", "group", res->group, "version",
	                 res->version, "kind", res->kind);
}

/* A generated OpenAPI v3 document for one group-version path; under the lock. */
static json_t *generated_v3(const sim_registry *r, const char *gvp)
{
	json_t *paths = json_object(), *schemas = json_object();
	size_t i;

	for (i = 0; paths && schemas && i < sim__registry_count(r); i++) {
		const struct sim_entry *e = sim__registry_at(r, i);
		char mine[600], url[900], def[700], rev[300];

		gv_path(&e->res, mine, sizeof(mine));
		if (!e->served || strcmp(mine, gvp) != 0)
			continue;
		snprintf(url, sizeof(url), "/%s/%s%s/{name}", mine,
		         e->res.namespaced ? "namespaces/{namespace}/" : "", e->res.plural);
		json_object_set_new(paths, url, json_pack("{s:o}", "patch", patch_op(&e->res)));
		reversed_group(e->res.group, rev, sizeof(rev));
		snprintf(def, sizeof(def), "%s.%s.%s", rev, e->res.version, e->res.kind);
		json_object_set_new(schemas, def, kind_schema(&e->res));
	}
	return json_pack("{s:s, s:{s:s, s:s}, s:o, s:{s:o}}", "openapi", "3.0.0", "info", "title",
	                 "Kubernetes", "version", "v1.28.0", "paths", paths, "components",
	                 "schemas", schemas);
}

/* A generated Swagger 2.0 document: every kind, no paths. */
static json_t *generated_v2(const sim_registry *r)
{
	json_t *defs = json_object();
	size_t i;

	for (i = 0; defs && i < sim__registry_count(r); i++) {
		const struct sim_entry *e = sim__registry_at(r, i);
		char def[700], rev[300];

		if (!e->served)
			continue;
		reversed_group(e->res.group, rev, sizeof(rev));
		snprintf(def, sizeof(def), "%s.%s.%s", rev, e->res.version, e->res.kind);
		json_object_set_new(defs, def, kind_schema(&e->res));
	}
	return json_pack("{s:s, s:{s:s, s:s}, s:{}, s:o}", "swagger", "2.0", "info", "title",
	                 "Kubernetes", "version", "v1.28.0", "paths", "definitions", defs);
}

static uint64_t fnv1a(const char *s, size_t n, uint64_t h)
{
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

/* The /openapi/v3 index: every served group-version with a hash URL. */
static json_t *v3_index(const sim_registry *r, const char *dir)
{
	json_t *paths = json_object();
	size_t i;

	for (i = 0; paths && i < sim__registry_count(r); i++) {
		const struct sim_entry *e = sim__registry_at(r, i);
		char gvp[600], file[1200], url[1400];
		struct stat st;
		uint64_t h = 1469598103934665603ULL;

		gv_path(&e->res, gvp, sizeof(gvp));
		if (!e->served || json_object_get(paths, gvp))
			continue;
		if (v3_file(dir, gvp, file, sizeof(file), &st)) {
			h = fnv1a((const char *)&st.st_size, sizeof(st.st_size), h);
			h = fnv1a((const char *)&st.st_mtime, sizeof(st.st_mtime), h);
		} else {
			json_t *doc = generated_v3(r, gvp);
			char *s = doc ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

			if (s)
				h = fnv1a(s, strlen(s), h);
			free(s);
			json_decref(doc);
		}
		snprintf(url, sizeof(url), "/openapi/v3/%s?hash=%016llX", gvp,
		         (unsigned long long)h);
		json_object_set_new(paths, gvp, json_pack("{s:s}", "serverRelativeURL", url));
	}
	return json_pack("{s:o}", "paths", paths);
}

static int served_gv(const sim_registry *r, const char *gvp)
{
	size_t i;

	for (i = 0; i < sim__registry_count(r); i++) {
		char mine[600];

		gv_path(&sim__registry_at(r, i)->res, mine, sizeof(mine));
		if (sim__registry_at(r, i)->served && strcmp(mine, gvp) == 0)
			return 1;
	}
	return 0;
}

/* Put a file's bytes in the reply; a 500 Status when it cannot be read. */
static void reply_file(sim_http_reply *reply, const char *file)
{
	cairn_buf_reset(&reply->body);
	if (reply->body.max == 0)
		reply->body.max = MAX_DOC;
	if (cairn_buf_read_file(&reply->body, file) < 0) {
		cairn_buf_reset(&reply->body);
		sim__reply_status(reply, 500, "InternalError", cairn_error_last()->message);
		return;
	}
	reply->status = 200;
	reply->content_type = CT_JSON;
}

/* Put a generated document in the reply and free it. */
static void reply_doc(sim_http_reply *reply, json_t *doc)
{
	if (!doc || sim__buf_json(&reply->body, doc) < 0) {
		cairn_buf_reset(&reply->body);
		sim__reply_status(reply, 500, "InternalError", "cannot build the OpenAPI document");
	} else {
		reply->status = 200;
		reply->content_type = CT_JSON;
	}
	json_decref(doc);
}

int sim__openapi_serve(const sim_registry *r, const char *dir, const char *path, const char *accept,
                       sim_http_reply *reply)
{
	char file[1200];
	struct stat st;

	if (strcmp(path, "/openapi/v2") == 0) {
		/* kubectl 1.28 asks for the gnostic protobuf encoding only and
		 * fails apply/edit without it. We answer a minimal Document
		 * (swagger "2.0", info) with no definitions: kubectl then takes
		 * strategic-merge metadata from its compiled-in types, and
		 * validation, dry runs and explain from /openapi/v3. */
		if (accept && strstr(accept, "protobuf") && !strstr(accept, "json") &&
		    !strstr(accept, "*/*")) {
			static const char pb[] = "\x0a\x03"
			                         "2.0"
			                         "\x12\x16"
			                         "\x0a\x0a"
			                         "Kubernetes"
			                         "\x12\x08"
			                         "v1.28.15";

			reply->status = 200;
			reply->content_type = CT_PB_V2;
			if (cairn_buf_put(&reply->body, pb, sizeof(pb) - 1) < 0)
				sim__reply_status(reply, 500, "InternalError", "out of memory");
			return 1;
		}
		if (dir &&
		    (size_t)snprintf(file, sizeof(file), "%s/swagger.json", dir) < sizeof(file) &&
		    stat(file, &st) == 0) {
			reply_file(reply, file);
			return 1;
		}
		sim__registry_rdlock(r);
		reply_doc(reply, generated_v2(r));
		sim__registry_unlock(r);
		return 1;
	}
	if (strcmp(path, "/openapi/v3") == 0) {
		sim__registry_rdlock(r);
		reply_doc(reply, v3_index(r, dir));
		sim__registry_unlock(r);
		return 1;
	}
	if (strncmp(path, "/openapi/v3/", 12) != 0)
		return sim__reply_status(reply, 404, "NotFound",
		                         "the server could not find the requested resource"),
		       1;
	path += 12;
	sim__registry_rdlock(r);
	if (!served_gv(r, path)) {
		sim__registry_unlock(r);
		sim__reply_status(reply, 404, "NotFound",
		                  "the server could not find the requested resource");
		return 1;
	}
	if (v3_file(dir, path, file, sizeof(file), &st))
		reply_file(reply, file);
	else
		reply_doc(reply, generated_v3(r, path));
	sim__registry_unlock(r);
	return 1;
}
