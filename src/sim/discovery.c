/*
 * discovery.c - the API server's discovery documents, built from the
 * registry on every request (CRDs come and go): the legacy APIVersions,
 * APIGroupList, APIGroup and APIResourceList documents, and the aggregated
 * APIGroupDiscoveryList (apidiscovery.k8s.io v2 and v2beta1) that kubectl
 * asks for by Accept header since v1.26.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"

#include "api_internal.h"

#define CT_JSON "application/json"
#define CT_AGG_V2 "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
#define CT_AGG_V2B1 "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
#define MAX_GROUPS 256

int sim__buf_json(cairn_buf *b, const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	int rc;

	if (!s)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory encoding JSON");
	rc = cairn_buf_puts(b, s);
	free(s);
	return rc;
}

int sim__reply_status(sim_http_reply *reply, int code, const char *reason, const char *message)
{
	json_t *st = json_pack("{s:s, s:s, s:{}, s:s, s:s, s:s, s:i}", "kind", "Status",
	                       "apiVersion", "v1", "metadata", "status", "Failure", "message",
	                       message, "reason", reason, "code", code);
	int rc;

	if (!st)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory building a Status");
	reply->status = code;
	reply->content_type = CT_JSON;
	rc = sim__buf_json(&reply->body, st);
	json_decref(st);
	return rc;
}

/* A JSON array from a comma-separated list (an empty array for NULL). */
static json_t *split(const char *csv)
{
	json_t *arr = json_array();
	const char *p = csv;

	while (arr && p && *p) {
		const char *c = strchr(p, ',');
		size_t n = c ? (size_t)(c - p) : strlen(p);

		json_array_append_new(arr, json_stringn(p, n));
		p = c ? c + 1 : NULL;
	}
	return arr;
}

/* The value of parameter `key` ("v") in one media range, into val; 0 when absent. */
static int media_param(const char *range, const char *key, char *val, size_t size)
{
	size_t klen = strlen(key);
	const char *p = strchr(range, ';');

	while (p) {
		p++;
		while (*p == ' ')
			p++;
		if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
			size_t n = strcspn(p + klen + 1, "; ");

			if (n >= size)
				return 0;
			memcpy(val, p + klen + 1, n);
			val[n] = '\0';
			return 1;
		}
		p = strchr(p, ';');
	}
	return 0;
}

/* Which discovery format the Accept header asks for first: 0 legacy, 1
 * v2beta1, 2 v2. Ranges are taken in order (kubectl lists its preferences
 * first and plain JSON last); a range we cannot serve is skipped. */
static int accept_aggregated(const char *accept)
{
	const char *p = accept;

	while (p && *p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char range[512], g[64], v[64], as[64];

		if (n < sizeof(range)) {
			memcpy(range, p, n);
			range[n] = '\0';
			if (media_param(range, "as", as, sizeof(as)) &&
			    strcmp(as, "APIGroupDiscoveryList") == 0 &&
			    media_param(range, "g", g, sizeof(g)) &&
			    strcmp(g, "apidiscovery.k8s.io") == 0 &&
			    media_param(range, "v", v, sizeof(v))) {
				if (strcmp(v, "v2") == 0)
					return 2;
				if (strcmp(v, "v2beta1") == 0)
					return 1;
			} else if (strstr(range, "json") || strstr(range, "*/*")) {
				return 0;
			}
		}
		p = end ? end + 1 : NULL;
	}
	return 0;
}

/* The distinct groups of served rows, in table order (core first); under the lock. */
static size_t list_groups(const sim_registry *r, const char **groups, int with_core)
{
	size_t i, j, n = 0;

	for (i = 0; i < sim__registry_count(r); i++) {
		const struct sim_entry *e = sim__registry_at(r, i);

		if (!e->served || (!with_core && !*e->res.group))
			continue;
		for (j = 0; j < n && strcmp(groups[j], e->res.group) != 0; j++)
			;
		if (j == n && n < MAX_GROUPS)
			groups[n++] = e->res.group;
	}
	return n;
}

/* The served versions of a group as an array of version strings, preferred first. */
static json_t *group_versions(const sim_registry *r, const char *group)
{
	json_t *vs = json_array();
	size_t i, j;

	for (i = 0; vs && i < sim__registry_count(r); i++) {
		const struct sim_entry *e = sim__registry_at(r, i);
		int seen = 0;

		if (!e->served || strcmp(e->res.group, group) != 0)
			continue;
		for (j = 0; j < json_array_size(vs); j++)
			seen |= strcmp(json_string_value(json_array_get(vs, j)), e->res.version) ==
			        0;
		if (seen)
			continue;
		if (e->storage)
			json_array_insert_new(vs, 0, json_string(e->res.version));
		else
			json_array_append_new(vs, json_string(e->res.version));
	}
	return vs;
}

/* An APIGroup document (legacy) for one group. */
static json_t *api_group(const sim_registry *r, const char *group)
{
	json_t *vs = group_versions(r, group), *list = json_array(), *g;
	size_t i;
	char gv[512];

	for (i = 0; vs && list && i < json_array_size(vs); i++) {
		const char *v = json_string_value(json_array_get(vs, i));

		snprintf(gv, sizeof(gv), "%s/%s", group, v);
		json_array_append_new(list,
		                      json_pack("{s:s, s:s}", "groupVersion", gv, "version", v));
	}
	g = json_pack("{s:s, s:s, s:s, s:O, s:O}", "kind", "APIGroup", "apiVersion", "v1", "name",
	              group, "versions", list, "preferredVersion", json_array_get(list, 0));
	json_decref(vs);
	json_decref(list);
	return g;
}

/* The legacy resource entries of one group/version, subresources as extra rows. */
static json_t *legacy_resources(const sim_registry *r, const char *group, const char *version)
{
	json_t *arr = json_array();
	size_t i;
	char name[300];

	for (i = 0; arr && i < sim__registry_count(r); i++) {
		const struct sim_entry *e = sim__registry_at(r, i);
		const sim_resource *res = &e->res;
		json_t *row;

		if (!e->served || strcmp(res->group, group) || strcmp(res->version, version))
			continue;
		row = json_pack("{s:s, s:s, s:b, s:s, s:o}", "name", res->plural, "singularName",
		                res->singular, "namespaced", res->namespaced, "kind", res->kind,
		                "verbs", split(e->verbs));
		if (row && res->short_names)
			json_object_set_new(row, "shortNames", split(res->short_names));
		if (row && res->categories)
			json_object_set_new(row, "categories", split(res->categories));
		json_array_append_new(arr, row);
		if (res->has_scale) {
			snprintf(name, sizeof(name), "%s/scale", res->plural);
			json_array_append_new(
			        arr, json_pack("{s:s, s:s, s:b, s:s, s:s, s:s, s:o}", "name", name,
			                       "singularName", "", "namespaced", res->namespaced,
			                       "group", "autoscaling", "version", "v1", "kind",
			                       "Scale", "verbs", split("get,patch,update")));
		}
		if (res->has_status) {
			snprintf(name, sizeof(name), "%s/status", res->plural);
			json_array_append_new(arr, json_pack("{s:s, s:s, s:b, s:s, s:o}", "name",
			                                     name, "singularName", "", "namespaced",
			                                     res->namespaced, "kind", res->kind,
			                                     "verbs", split("get,patch,update")));
		}
	}
	return arr;
}

/* The aggregated (apidiscovery) resource entries of one group/version. */
static json_t *aggregated_resources(const sim_registry *r, const char *group, const char *version)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; arr && i < sim__registry_count(r); i++) {
		const struct sim_entry *e = sim__registry_at(r, i);
		const sim_resource *res = &e->res;
		json_t *row, *subs = json_array();

		if (!e->served || strcmp(res->group, group) || strcmp(res->version, version)) {
			json_decref(subs);
			continue;
		}
		row = json_pack("{s:s, s:{s:s, s:s, s:s}, s:s, s:s, s:o}", "resource", res->plural,
		                "responseKind", "group", group, "version", version, "kind",
		                res->kind, "scope", res->namespaced ? "Namespaced" : "Cluster",
		                "singularResource", res->singular, "verbs", split(e->verbs));
		if (row && res->short_names)
			json_object_set_new(row, "shortNames", split(res->short_names));
		if (row && res->categories)
			json_object_set_new(row, "categories", split(res->categories));
		if (subs && res->has_scale)
			json_array_append_new(
			        subs,
			        json_pack("{s:s, s:{s:s, s:s, s:s}, s:o}", "subresource", "scale",
			                  "responseKind", "group", "autoscaling", "version", "v1",
			                  "kind", "Scale", "verbs", split("get,patch,update")));
		if (subs && res->has_status)
			json_array_append_new(subs, json_pack("{s:s, s:{s:s, s:s, s:s}, s:o}",
			                                      "subresource", "status",
			                                      "responseKind", "group", group,
			                                      "version", version, "kind", res->kind,
			                                      "verbs", split("get,patch,update")));
		if (row && json_array_size(subs))
			json_object_set(row, "subresources", subs);
		json_decref(subs);
		json_array_append_new(arr, row);
	}
	return arr;
}

/* The APIGroupDiscoveryList for /api (core only) or /apis (every named group). */
static json_t *aggregated_list(const sim_registry *r, int core, int v2)
{
	const char *groups[MAX_GROUPS];
	json_t *items = json_array();
	size_t n = list_groups(r, groups, 1), i, j;

	for (i = 0; items && i < n; i++) {
		json_t *vs, *versions = json_array(), *item;

		if ((*groups[i] == '\0') != core) {
			json_decref(versions);
			continue;
		}
		vs = group_versions(r, groups[i]);
		for (j = 0; versions && j < json_array_size(vs); j++) {
			const char *v = json_string_value(json_array_get(vs, j));

			json_array_append_new(
			        versions, json_pack("{s:s, s:o, s:s}", "version", v, "resources",
			                            aggregated_resources(r, groups[i], v),
			                            "freshness", "Current"));
		}
		json_decref(vs);
		item = json_pack("{s:{s:n}, s:o}", "metadata", "creationTimestamp", "versions",
		                 versions);
		if (item && !core)
			json_object_set_new(json_object_get(item, "metadata"), "name",
			                    json_string(groups[i]));
		json_array_append_new(items, item);
	}
	return json_pack("{s:s, s:s, s:{}, s:o}", "kind", "APIGroupDiscoveryList", "apiVersion",
	                 v2 ? "apidiscovery.k8s.io/v2" : "apidiscovery.k8s.io/v2beta1", "metadata",
	                 "items", items);
}

static json_t *api_group_list(const sim_registry *r)
{
	const char *groups[MAX_GROUPS];
	json_t *list = json_array();
	size_t n = list_groups(r, groups, 0), i;

	for (i = 0; list && i < n; i++) {
		json_t *g = api_group(r, groups[i]);

		json_object_del(g, "kind");
		json_object_del(g, "apiVersion");
		json_array_append_new(list, g);
	}
	return json_pack("{s:s, s:s, s:o}", "kind", "APIGroupList", "apiVersion", "v1", "groups",
	                 list);
}

static int group_exists(const sim_registry *r, const char *group, const char *version)
{
	size_t i;

	for (i = 0; i < sim__registry_count(r); i++) {
		const struct sim_entry *e = sim__registry_at(r, i);

		if (e->served && strcmp(e->res.group, group) == 0 &&
		    (!version || strcmp(e->res.version, version) == 0))
			return 1;
	}
	return 0;
}

/* Build the document for a discovery path; *status 404 when the group or
 * version is not served, NULL doc with status 0 when not a discovery path. */
static json_t *discovery_doc(const sim_registry *r, const char *path, int agg, int *status)
{
	char seg[3][256];
	const char *p;
	int nseg = 0;

	*status = 200;
	if (strcmp(path, "/api") == 0)
		return agg ? aggregated_list(r, 1, agg == 2)
		           : json_pack("{s:s, s:[s], s:[]}", "kind", "APIVersions", "versions",
		                       "v1", "serverAddressByClientCIDRs");
	if (strcmp(path, "/apis") == 0)
		return agg ? aggregated_list(r, 0, agg == 2) : api_group_list(r);
	if (strncmp(path, "/api/", 5) == 0) {
		if (strchr(path + 5, '/'))
			return *status = 0, NULL;
		if (strcmp(path + 5, "v1") != 0)
			return *status = 404, NULL;
		return json_pack("{s:s, s:s, s:s, s:o}", "kind", "APIResourceList", "apiVersion",
		                 "v1", "groupVersion", "v1", "resources",
		                 legacy_resources(r, "", "v1"));
	}
	if (strncmp(path, "/apis/", 6) != 0)
		return *status = 0, NULL;
	for (p = path + 6; *p && nseg < 3; nseg++) {
		const char *s = strchr(p, '/');
		size_t n = s ? (size_t)(s - p) : strlen(p);

		if (n == 0 || n >= sizeof(seg[0]))
			return *status = 0, NULL;
		memcpy(seg[nseg], p, n);
		seg[nseg][n] = '\0';
		p = s ? s + 1 : p + n;
	}
	if (nseg == 0 || *p || nseg > 2)
		return *status = 0, NULL;
	if (!group_exists(r, seg[0], nseg == 2 ? seg[1] : NULL))
		return *status = 404, NULL;
	if (nseg == 1)
		return api_group(r, seg[0]);
	{
		char gv[520];

		snprintf(gv, sizeof(gv), "%s/%s", seg[0], seg[1]);
		return json_pack("{s:s, s:s, s:s, s:o}", "kind", "APIResourceList", "apiVersion",
		                 "v1", "groupVersion", gv, "resources",
		                 legacy_resources(r, seg[0], seg[1]));
	}
}

int sim_discovery_serve(const sim_registry *r, const char *openapi_dir, const char *path,
                        const char *accept, sim_http_reply *reply)
{
	char clean[1024];
	size_t n;
	int agg, status;
	json_t *doc;

	if (!r || !path || !reply)
		return 0;
	n = strlen(path);
	if (n >= sizeof(clean))
		return 0;
	memcpy(clean, path, n + 1);
	while (n > 1 && clean[n - 1] == '/')
		clean[--n] = '\0';
	if (strncmp(clean, "/openapi/", 9) == 0)
		return sim__openapi_serve(r, openapi_dir, clean, accept, reply);
	agg = (strcmp(clean, "/api") == 0 || strcmp(clean, "/apis") == 0)
	              ? accept_aggregated(accept)
	              : 0;
	sim__registry_rdlock(r);
	doc = discovery_doc(r, clean, agg, &status);
	sim__registry_unlock(r);
	if (status == 0)
		return 0;
	if (status == 404) {
		char msg[1100];

		snprintf(msg, sizeof(msg), "the server could not find the requested resource");
		sim__reply_status(reply, 404, "NotFound", msg);
		return 1;
	}
	if (!doc) {
		sim__reply_status(reply, 500, "InternalError", "out of memory building discovery");
		return 1;
	}
	reply->status = 200;
	reply->content_type = agg == 2 ? CT_AGG_V2 : agg == 1 ? CT_AGG_V2B1 : CT_JSON;
	if (sim__buf_json(&reply->body, doc) < 0) {
		cairn_buf_reset(&reply->body);
		sim__reply_status(reply, 500, "InternalError", "discovery document is too large");
	}
	json_decref(doc);
	return 1;
}
