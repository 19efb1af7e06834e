/*
 * src/sim/handlers.c - the REST verbs: routing of /api and /apis paths,
 * create/get/list/update/patch/delete, the status and scale subresources,
 * namespaces, garbage collection, and Status error bodies shaped like the
 * API server's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cairn/error.h"
#include "cairn/hash.h"
#include "cairn/json.h"
#include "cairn/k8s.h"
#include "cairn/util.h"
#include "cairn/yaml.h"

#include "objects.h"
#include "server_internal.h"
#include "sim.h"
#include "workload.h"

/* A parsed resource path. */
typedef struct route {
	char group[128], version[64], plural[128], ns[256], name[256], sub[64];
	int has_ns, has_name;
	const sim_resource *res;
} route;

/* Split "/api/v1/..." or "/apis/G/V/..." into a route; 1 when it is one. */
static int parse_route(sim_server *srv, const char *path, route *r)
{
	char buf[1024], *seg[12], *save = NULL, *p;
	size_t n = 0, i;

	memset(r, 0, sizeof *r);
	if (strlen(path) >= sizeof buf)
		return 0;
	memcpy(buf, path, strlen(path) + 1);
	for (p = buf; n < 12;) {
		char *s;
		while (*p == '/')
			p++;
		if (!*p)
			break;
		s = p;
		while (*p && *p != '/')
			p++;
		if (*p)
			*p++ = '\0';
		seg[n++] = s;
	}
	(void)save;
	if (n >= 2 && !strcmp(seg[0], "api")) {
		snprintf(r->version, sizeof r->version, "%s", seg[1]);
		i = 2;
	} else if (n >= 3 && !strcmp(seg[0], "apis")) {
		snprintf(r->group, sizeof r->group, "%s", seg[1]);
		snprintf(r->version, sizeof r->version, "%s", seg[2]);
		i = 3;
	} else {
		return 0;
	}
	if (i >= n)
		return 0;
	if (!strcmp(seg[i], "namespaces") && i + 2 < n) {
		snprintf(r->ns, sizeof r->ns, "%s", seg[i + 1]);
		r->has_ns = 1;
		i += 2;
		if (i + 1 == n && (!strcmp(seg[i], "status") || !strcmp(seg[i], "finalize"))) {
			/* /api/v1/namespaces/NAME/status */
			snprintf(r->plural, sizeof r->plural, "namespaces");
			snprintf(r->name, sizeof r->name, "%s", r->ns);
			snprintf(r->sub, sizeof r->sub, "%s", seg[i]);
			r->ns[0] = '\0';
			r->has_ns = 0;
			r->has_name = 1;
			goto found;
		}
	}
	snprintf(r->plural, sizeof r->plural, "%s", seg[i++]);
	if (i < n) {
		snprintf(r->name, sizeof r->name, "%s", seg[i++]);
		r->has_name = 1;
	}
	if (i < n)
		snprintf(r->sub, sizeof r->sub, "%s", seg[i++]);
	if (i < n)
		return 0;
found:
	r->res = sim_registry_find(srv->reg, r->group, r->version, r->plural);
	return 1;
}

const sim_resource *sim_resource_of_path(sim_server *srv, const char *path)
{
	route r;

	return parse_route(srv, path, &r) ? r.res : NULL;
}

int sim_path_is_named(const char *path)
{
	const char *p = strstr(path, "/namespaces/");
	int slashes = 0;

	/* Crude but enough for fault verbs: count the segments after the version. */
	for (const char *q = path; *q; q++)
		slashes += *q == '/';
	if (!strncmp(path, "/api/", 5))
		return p ? slashes >= 6 : slashes >= 4;
	return p ? slashes >= 7 : slashes >= 5;
}

static void put_json(sim_http_reply *reply, int status, const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT);

	reply->status = status;
	reply->content_type = "application/json";
	cairn_buf_reset(&reply->body);
	if (s)
		cairn_buf_puts(&reply->body, s);
	free(s);
}

/*
 * sim_reply_status - fill reply with a Status failure body exactly shaped
 * like the API server's; details only when name or kind is given.
 */
void sim_reply_status(sim_http_reply *reply, int code, const char *reason, const char *message,
                      const char *name, const char *group, const char *kind)
{
	json_t *st = json_object(), *d;

	json_object_set_new(st, "kind", json_string("Status"));
	json_object_set_new(st, "apiVersion", json_string("v1"));
	json_object_set_new(st, "metadata", json_object());
	json_object_set_new(st, "status", json_string("Failure"));
	json_object_set_new(st, "message", json_string(message));
	json_object_set_new(st, "reason", json_string(reason));
	if (name || kind) {
		d = json_object();
		if (name)
			json_object_set_new(d, "name", json_string(name));
		if (group && *group)
			json_object_set_new(d, "group", json_string(group));
		if (kind)
			json_object_set_new(d, "kind", json_string(kind));
		json_object_set_new(st, "details", d);
	}
	json_object_set_new(st, "code", json_integer(code));
	put_json(reply, code, st);
	json_decref(st);
}

void sim_reply_fault(sim_http_reply *reply, int code)
{
	static const struct {
		int code;
		const char *reason, *msg;
	} t[] = {
	        {409, "Conflict",
	         "Operation cannot be fulfilled: the object has been modified; please apply your "
	         "changes to the latest version and try again"},
	        {410, "Expired", "too old resource version"},
	        {429, "TooManyRequests",
	         "the server has received too many requests and has asked "
	         "us to try again later"},
	        {500, "InternalError",
	         "an error on the server (\"injected fault\") has prevented "
	         "the request from succeeding"},
	        {503, "ServiceUnavailable", "the server is currently unable to handle the request"},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (t[i].code == code) {
			sim_reply_status(reply, code, t[i].reason, t[i].msg, NULL, NULL, NULL);
			return;
		}
	sim_reply_status(reply, code, "InternalError", "injected fault", NULL, NULL, NULL);
}

void sim_watch_error_event(cairn_buf *out, int code, const char *reason, const char *message)
{
	sim_http_reply r = {0};

	cairn_buf_init(&r.body, 1 << 20);
	sim_reply_status(&r, code, reason, message, NULL, NULL, NULL);
	cairn_buf_puts(out, "{\"type\":\"ERROR\",\"object\":");
	cairn_buf_put(out, r.body.ptr, r.body.len);
	cairn_buf_puts(out, "}\n");
	cairn_buf_dispose(&r.body);
}

/* "deployments.apps" or "pods": how the API server names a resource. */
static void qualified(const route *r, char *out, size_t n)
{
	if (r->group[0])
		snprintf(out, n, "%s.%s", r->plural, r->group);
	else
		snprintf(out, n, "%s", r->plural);
}

static void not_found(sim_http_reply *reply, const route *r, const char *name)
{
	char q[300], msg[700];

	qualified(r, q, sizeof q);
	snprintf(msg, sizeof msg, "%s \"%s\" not found", q, name);
	sim_reply_status(reply, 404, "NotFound", msg, name, r->group, r->plural);
}

static void ns_not_found(sim_http_reply *reply, const char *ns)
{
	char msg[400];

	snprintf(msg, sizeof msg, "namespaces \"%s\" not found", ns);
	sim_reply_status(reply, 404, "NotFound", msg, ns, "", "namespaces");
}

static void bad_request(sim_http_reply *reply, const char *msg)
{
	sim_reply_status(reply, 400, "BadRequest", msg, NULL, NULL, NULL);
}

static void invalid(sim_http_reply *reply, const route *r, const char *kind, const char *name,
                    const char *why)
{
	char msg[1400];

	snprintf(msg, sizeof msg, "%s.%s \"%s\" is invalid: %s", kind, r->group[0] ? r->group : "",
	         name ? name : "", why);
	if (!r->group[0])
		snprintf(msg, sizeof msg, "%s \"%s\" is invalid: %s", kind, name ? name : "", why);
	sim_reply_status(reply, 422, "Invalid", msg, name, r->group, kind);
}

static void conflict(sim_http_reply *reply, const route *r, const char *name, const char *why)
{
	char q[300], msg[1400];

	qualified(r, q, sizeof q);
	snprintf(msg, sizeof msg, "Operation cannot be fulfilled on %s \"%s\": %s", q, name, why);
	sim_reply_status(reply, 409, "Conflict", msg, name, r->group, r->plural);
}

static void now_rfc3339(char out[CAIRN_TIME_RFC3339_LEN])
{
	sim_time_now(out);
}

static const char *api_version_of(const sim_resource *res, char *buf, size_t n)
{
	if (res->group[0])
		snprintf(buf, n, "%s/%s", res->group, res->version);
	else
		snprintf(buf, n, "%s", res->version);
	return buf;
}

/* The field manager of a write: ?fieldManager= or the User-Agent's
 * program name, as the API server derives it. */
static void field_manager(const sim_request *rq, char *out, size_t n)
{
	const char *fm = sim_query(rq, "fieldManager");
	const char *ua = rq->conn ? MHD_lookup_connection_value((struct MHD_Connection *)rq->conn,
	                                                        MHD_HEADER_KIND, "User-Agent")
	                          : NULL;
	size_t len;

	if (fm && *fm) {
		snprintf(out, n, "%s", fm);
		return;
	}
	if (!ua)
		ua = "unknown";
	len = strcspn(ua, "/");
	if (len >= n)
		len = n - 1;
	memcpy(out, ua, len);
	out[len] = '\0';
}

/* Parse a request body: JSON, or YAML for apply patches (read with the
 * kubectl profile, which is what kubectl itself produced the bytes with). */
static int parse_body(const sim_request *rq, json_t **out, int yaml)
{
	json_t *docs = NULL;
	cairn_yaml_opts o = CAIRN_YAML_OPTS_INIT;
	int rc;

	if (!rq->body_len)
		return cairn_error_set(CAIRN_EINVAL, "the body of the request was empty");
	if (!yaml)
		return cairn_json_parse(out, rq->body, rq->body_len, NULL);
	o.profile = CAIRN_YAML_KUBECTL;
	rc = cairn_yaml_load(&docs, NULL, rq->body, rq->body_len, NULL, &o);
	if (rc)
		return rc;
	if (json_array_size(docs) != 1) {
		json_decref(docs);
		return cairn_error_set(CAIRN_EINVAL,
		                       "expected one YAML document in the apply body");
	}
	*out = json_incref(json_array_get(docs, 0));
	json_decref(docs);
	return 0;
}

static int dry_run(const sim_request *rq)
{
	const char *d = sim_query(rq, "dryRun");
	return d && !strcmp(d, "All");
}

static int namespace_exists(sim_server *srv, const char *ns)
{
	sim_key k = {"", "namespaces", "", ns};
	json_t *o = NULL;

	if (sim_store_get(srv->store, &k, &o))
		return 0;
	json_decref(o);
	return 1;
}

/* Stamp identity fields a write must carry and check the body against
 * the URL; 0 or fills reply with the error. */
static int check_body(sim_server *srv, const route *r, json_t *obj, sim_http_reply *reply)
{
	char av[200], why[600];
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	const char *bav = json_string_value(json_object_get(obj, "apiVersion"));
	json_t *meta = json_object_get(obj, "metadata");
	const char *name, *ns;

	(void)srv;
	api_version_of(r->res, av, sizeof av);
	if (!json_is_object(obj)) {
		bad_request(reply, "the object provided is not a JSON object");
		return -1;
	}
	if (!kind)
		json_object_set_new(obj, "kind", json_string(r->res->kind));
	if (!bav)
		json_object_set_new(obj, "apiVersion", json_string(av));
	kind = json_string_value(json_object_get(obj, "kind"));
	bav = json_string_value(json_object_get(obj, "apiVersion"));
	if (strcmp(kind, r->res->kind) || strcmp(bav, av)) {
		snprintf(why, sizeof why,
		         "the API version in the data (%s) does not match the expected API version "
		         "(%s)",
		         bav, av);
		if (!strcmp(bav, av))
			snprintf(why, sizeof why,
			         "the kind in the data (%s) does not match the "
			         "expected kind (%s)",
			         kind, r->res->kind);
		bad_request(reply, why);
		return -1;
	}
	if (!json_is_object(meta)) {
		meta = json_object();
		json_object_set_new(obj, "metadata", meta);
	}
	ns = json_string_value(json_object_get(meta, "namespace"));
	if (r->res->namespaced) {
		if (ns && *ns && strcmp(ns, r->ns)) {
			bad_request(reply,
			            "the namespace of the provided object does not match the "
			            "namespace sent on the request");
			return -1;
		}
		json_object_set_new(meta, "namespace", json_string(r->ns));
	} else {
		json_object_del(meta, "namespace");
	}
	name = json_string_value(json_object_get(meta, "name"));
	if (r->has_name && name && strcmp(name, r->name)) {
		bad_request(reply, "the name of the object does not match the name on the URL");
		return -1;
	}
	if (r->has_name && !name)
		json_object_set_new(meta, "name", json_string(r->name));
	return 0;
}

/* Put details.causes into a Status body already in reply. */
static void add_causes(sim_http_reply *reply, json_t *causes)
{
	json_t *st = NULL;

	if (!json_array_size(causes) ||
	    cairn_json_parse(&st, reply->body.ptr, reply->body.len, NULL))
		return;
	json_object_set(json_object_get(st, "details"), "causes", causes);
	put_json(reply, reply->status, st);
	json_decref(st);
}

/* Validate, default and type-check an object before it is stored. */
static int prepare(sim_server *srv, const sim_request *rq, const route *r, json_t *obj,
                   sim_http_reply *reply)
{
	json_t *meta = json_object_get(obj, "metadata");
	const char *name = json_string_value(json_object_get(meta, "name"));
	cairn_buf msg = CAIRN_BUF_INIT(64 << 10);
	int rc = 0;

	if (!name || !*name) {
		invalid(reply, r, r->res->kind, "",
		        "metadata.name: Required value: name or "
		        "generateName is required");
		return -1;
	}
	if (!cairn_k8s_is_dns_subdomain(name) && strcmp(r->res->kind, "Namespace") == 0 &&
	    !cairn_k8s_is_dns_label(name)) {
		char why[600];
		snprintf(why, sizeof why,
		         "metadata.name: Invalid value: \"%s\": a lowercase RFC "
		         "1123 label must consist of lower case alphanumeric "
		         "characters or '-'",
		         name);
		invalid(reply, r, r->res->kind, name, why);
		return -1;
	}
	if (sim_field_validation(srv, r->res, sim_query(rq, "fieldValidation"), obj, reply))
		return -1;
	sim_default(obj);
	if (r->res->schema) {
		json_t *causes = json_array();
		if (sim_crd_validate_causes(r->res, obj, &msg, causes) != 0) {
			invalid(reply, r, r->res->kind, name,
			        msg.ptr ? msg.ptr : "schema validation failed");
			add_causes(reply, causes);
			rc = -1;
		}
		json_decref(causes);
	}
	cairn_buf_dispose(&msg);
	(void)srv;
	return rc;
}

/* After a write to a CustomResourceDefinition, keep the registry in step. */
static void crd_hook(sim_server *srv, const route *r, const json_t *obj, int deleted)
{
	if (strcmp(r->group, "apiextensions.k8s.io") ||
	    strcmp(r->plural, "customresourcedefinitions"))
		return;
	if (deleted)
		sim_registry_remove_crd(srv->reg, json_string_value(json_object_get(
		                                          json_object_get(obj, "metadata"), "name"))
		                                          ?: "");
	else if (sim_registry_put_crd(srv->reg, obj) == 0) {
		/* Report the CRD as established, as the API server does once served. */
	}
}

/* Fill the status a freshly created object carries on a real server. */
static void initial_status(json_t *obj)
{
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	json_t *meta = json_object_get(obj, "metadata");

	if (kind && !strcmp(kind, "Namespace")) {
		json_t *labels = json_object_get(meta, "labels");
		if (!json_is_object(labels)) {
			labels = json_object();
			json_object_set_new(meta, "labels", labels);
		}
		json_object_set(labels, "kubernetes.io/metadata.name",
		                json_object_get(meta, "name"));
		json_object_set_new(obj, "spec", json_pack("{s[s]}", "finalizers", "kubernetes"));
		json_object_set_new(obj, "status", json_pack("{ss}", "phase", "Active"));
	} else if (kind && !strcmp(kind, "CustomResourceDefinition")) {
		json_t *names = json_object_get(json_object_get(obj, "spec"), "names");
		char ts[CAIRN_TIME_RFC3339_LEN];
		now_rfc3339(ts);
		json_object_set_new(obj, "status",
		                    json_pack("{sOs[{sssssssssss{}}]s[]}", "acceptedNames",
		                              names ? names : json_object(), "conditions", "type",
		                              "Established", "status", "True", "reason",
		                              "InitialNamesAccepted", "message",
		                              "the initial names have been accepted",
		                              "lastTransitionTime", ts, "x", "storedVersions"));
		json_object_del(
		        json_array_get(
		                json_object_get(json_object_get(obj, "status"), "conditions"), 0),
		        "x");
	}
}

static void gen_name(json_t *meta)
{
	const char *gn = json_string_value(json_object_get(meta, "generateName"));
	static const char al[] = "bcdfghjklmnpqrstvwxz2456789";
	unsigned char rnd[CAIRN_SHA256_LEN];
	char name[300];
	size_t n;
	int w;

	if (!gn || json_object_get(meta, "name"))
		return;
	cairn_sha256(rnd, &meta, sizeof meta);
	uint64_t t = (uint64_t)cairn_time_now();
	/* Kubernetes cuts generateName to leave room for the 5 random characters. */
	w = snprintf(name, sizeof name - 6, "%s", gn);
	n = w < 0 ? 0 : (size_t)w < sizeof name - 6 ? (size_t)w : sizeof name - 7;
	for (int i = 0; i < 5; i++)
		name[n + (size_t)i] = al[(rnd[i] ^ (t >> (i * 5))) % (sizeof al - 1)];
	name[n + 5] = '\0';
	json_object_set_new(meta, "name", json_string(name));
}

static void managed(const sim_request *rq, json_t *obj, const json_t *old)
{
	char fm[128], ts[CAIRN_TIME_RFC3339_LEN];

	field_manager(rq, fm, sizeof fm);
	now_rfc3339(ts);
	sim_managed_update(obj, old, fm, ts);
}

static sim_key key_of(const route *r, const char *name)
{
	sim_key k = {r->group, r->plural, r->res->namespaced ? r->ns : "", name};
	return k;
}

static void do_create(sim_server *srv, const sim_request *rq, const route *r, sim_http_reply *reply)
{
	json_t *obj = NULL, *meta;
	const char *name;
	sim_key k;
	int rc;

	if (parse_body(rq, &obj, 0)) {
		bad_request(reply, cairn_error_last()->message);
		return;
	}
	if (check_body(srv, r, obj, reply))
		goto out;
	meta = json_object_get(obj, "metadata");
	gen_name(meta);
	if (prepare(srv, rq, r, obj, reply))
		goto out;
	name = json_string_value(json_object_get(meta, "name"));
	if (r->res->namespaced && !namespace_exists(srv, r->ns)) {
		ns_not_found(reply, r->ns);
		goto out;
	}
	initial_status(obj);
	json_object_del(meta, "resourceVersion");
	managed(rq, obj, NULL);
	k = key_of(r, name);
	if (dry_run(rq)) {
		json_t *cur = NULL;
		if (sim_store_get(srv->store, &k, &cur) == 0) {
			json_decref(cur);
			rc = CAIRN_EEXISTS;
		} else {
			put_json(reply, 201, obj);
			goto out;
		}
	} else {
		rc = sim_store_create(srv->store, &k, obj);
	}
	if (rc == CAIRN_EEXISTS) {
		char q[300], msg[700];
		qualified(r, q, sizeof q);
		snprintf(msg, sizeof msg, "%s \"%s\" already exists", q, name);
		sim_reply_status(reply, 409, "AlreadyExists", msg, name, r->group, r->plural);
	} else if (rc) {
		sim_reply_status(reply, 500, "InternalError", cairn_error_last()->message, NULL,
		                 NULL, NULL);
	} else {
		crd_hook(srv, r, obj, 0);
		put_json(reply, 201, obj);
	}
out:
	json_decref(obj);
}

/* Scale subresource view of a workload. */
static json_t *scale_of(const json_t *obj)
{
	json_t *meta = json_object_get(obj, "metadata");
	json_t *spec = json_object_get(obj, "spec"), *status = json_object_get(obj, "status");
	json_t *ml = json_object_get(json_object_get(spec, "selector"), "matchLabels");
	json_t *m = json_object(), *s = json_object(), *st = json_object(), *sc;
	const char *k;
	json_t *v;
	cairn_buf sel = CAIRN_BUF_INIT(1 << 16);

	json_object_set(m, "name", json_object_get(meta, "name"));
	json_object_set(m, "namespace", json_object_get(meta, "namespace"));
	json_object_set(m, "uid", json_object_get(meta, "uid"));
	json_object_set(m, "resourceVersion", json_object_get(meta, "resourceVersion"));
	json_object_set(m, "creationTimestamp", json_object_get(meta, "creationTimestamp"));
	json_object_set_new(
	        s, "replicas",
	        json_integer(json_object_get(spec, "replicas")
	                             ? json_integer_value(json_object_get(spec, "replicas"))
	                             : 1));
	json_object_set_new(st, "replicas",
	                    json_integer(json_integer_value(json_object_get(status, "replicas"))));
	json_object_foreach(ml, k, v)
	{
		cairn_buf_printf(&sel, "%s%s=%s", sel.len ? "," : "", k,
		                 json_string_value(v) ?: "");
	}
	if (sel.len)
		json_object_set_new(st, "selector", json_string(sel.ptr));
	cairn_buf_dispose(&sel);
	sc = json_pack("{sssssoso so}", "kind", "Scale", "apiVersion", "autoscaling/v1", "metadata",
	               m, "spec", s, "status", st);
	return sc;
}

static void do_get(sim_server *srv, const sim_request *rq, const route *r, sim_http_reply *reply)
{
	sim_key k = key_of(r, r->name);
	json_t *obj = NULL;
	if (sim_store_get(srv->store, &k, &obj)) {
		not_found(reply, r, r->name);
		return;
	}
	if (!strcmp(r->sub, "scale")) {
		json_t *sc = scale_of(obj);
		put_json(reply, 200, sc);
		json_decref(sc);
	} else if (sim_wants_table(rq->accept)) {
		const char *io = sim_query(rq, "includeObject");
		json_t *items = json_pack("[O]", obj);
		json_t *t = sim_table(items, io && !strcmp(io, "Object"), 1,
		                      json_string_value(json_object_get(
		                              json_object_get(obj, "metadata"), "resourceVersion")),
		                      NULL);
		put_json(reply, 200, t);
		json_decref(t);
		json_decref(items);
	} else {
		put_json(reply, 200, obj);
	}
	json_decref(obj);
}

/* Store an updated object: obj is the full new object, old the live one.
 * Handles status-only writes, dry runs, rv conflicts and the reply. */
/* store_update_try - the write of an update or patch (takes obj). With
 * race_ok, a resourceVersion race (another writer came between the caller's
 * read and this write) returns CAIRN_EBUSY with nothing written to reply, so
 * that a request which named no resourceVersion can read, merge and write
 * again, as the API server does; otherwise every outcome is in reply and 0
 * is returned. */
static int store_update_try(sim_server *srv, const sim_request *rq, const route *r, json_t *obj,
                            const json_t *old, int do_managed, int race_ok, sim_http_reply *reply)
{
	sim_key k = key_of(r, r->name);
	json_t *meta;
	int rc;

	if (!strcmp(r->sub, "status")) {
		/* Only status changes through the status subresource. */
		json_t *n = json_deep_copy(old);
		json_object_set(n, "status", json_object_get(obj, "status"));
		json_object_set(
		        json_object_get(n, "metadata"), "resourceVersion",
		        json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
		json_decref(obj);
		obj = n;
	} else if (r->res->has_status && json_object_get(old, "status")) {
		json_object_set(obj, "status", json_object_get(old, "status"));
	} else if (r->res->has_status) {
		json_object_del(obj, "status");
	}
	meta = json_object_get(obj, "metadata");
	if (json_object_get(meta, "uid") &&
	    !json_equal(json_object_get(meta, "uid"),
	                json_object_get(json_object_get(old, "metadata"), "uid"))) {
		conflict(reply, r, r->name,
		         "Precondition failed: UID in precondition does not "
		         "match UID in object");
		goto out;
	}
	if (strcmp(r->sub, "status") && prepare(srv, rq, r, obj, reply))
		goto out;
	if (do_managed)
		managed(rq, obj, old);
	if (dry_run(rq)) {
		put_json(reply, 200, obj);
		goto out;
	}
	rc = sim_store_update(srv->store, &k, obj);
	if (rc == CAIRN_EBUSY && race_ok) {
		json_decref(obj);
		return CAIRN_EBUSY;
	}
	if (rc == CAIRN_EBUSY)
		conflict(reply, r, r->name, cairn_error_last()->message);
	else if (rc == CAIRN_ENOTFOUND)
		not_found(reply, r, r->name);
	else if (rc)
		sim_reply_status(reply, 500, "InternalError", cairn_error_last()->message, NULL,
		                 NULL, NULL);
	else {
		crd_hook(srv, r, obj, 0);
		sim_gc_after_update(srv, &k);
		if (!strcmp(r->sub, "scale")) {
			json_t *sc = scale_of(obj);
			put_json(reply, 200, sc);
			json_decref(sc);
		} else {
			put_json(reply, 200, obj);
		}
	}
out:
	json_decref(obj);
	return 0;
}

/* An update whose every outcome goes to reply (takes obj). */
static void store_update(sim_server *srv, const sim_request *rq, const route *r, json_t *obj,
                         const json_t *old, int do_managed, sim_http_reply *reply)
{
	(void)store_update_try(srv, rq, r, obj, old, do_managed, 0, reply);
}

/* How many times a patch without a resourceVersion is merged again after
 * losing a race with another writer before the 409 goes out. */
#define PATCH_RETRIES 16

/* A Scale body applied onto its workload. */
static json_t *apply_scale(const json_t *old, const json_t *scale)
{
	json_t *n = json_deep_copy(old);
	json_t *rep = json_object_get(json_object_get(scale, "spec"), "replicas");
	json_t *rv = json_object_get(json_object_get(scale, "metadata"), "resourceVersion");

	if (json_is_integer(rep))
		json_object_set(json_object_get(n, "spec"), "replicas", rep);
	if (rv)
		json_object_set(json_object_get(n, "metadata"), "resourceVersion", rv);
	else
		json_object_del(json_object_get(n, "metadata"), "resourceVersion");
	return n;
}

static void do_update(sim_server *srv, const sim_request *rq, const route *r, sim_http_reply *reply)
{
	sim_key k = key_of(r, r->name);
	json_t *obj = NULL, *old = NULL;

	if (parse_body(rq, &obj, 0)) {
		bad_request(reply, cairn_error_last()->message);
		return;
	}
	if (sim_store_get(srv->store, &k, &old)) {
		not_found(reply, r, r->name);
		goto out;
	}
	if (!strcmp(r->sub, "scale")) {
		json_t *n = apply_scale(old, obj);
		json_decref(obj);
		obj = n;
	} else if (check_body(srv, r, obj, reply)) {
		goto out;
	}
	store_update(srv, rq, r, obj, old, 1, reply);
	obj = NULL;
out:
	json_decref(obj);
	json_decref(old);
}

static int ct_is(const char *ct, const char *want)
{
	size_t n = strlen(want);
	return ct && !strncasecmp(ct, want, n) && (ct[n] == '\0' || ct[n] == ';');
}

/* Apply a patch body of the request's content type to live (NULL when the
 * object does not exist, allowed for apply only). 0, or fills reply. */
static int patch_object(const sim_request *rq, const route *r, const json_t *live, json_t **out,
                        sim_http_reply *reply)
{
	const char *ct = rq->content_type;
	json_t *p = NULL, *res = NULL;
	int apply = ct_is(ct, "application/apply-patch+yaml");
	int rc;

	if (!apply && !ct_is(ct, "application/merge-patch+json") &&
	    !ct_is(ct, "application/strategic-merge-patch+json") &&
	    !ct_is(ct, "application/json-patch+json")) {
		char msg[300];
		snprintf(msg, sizeof msg,
		         "the body of the request was in an unknown format - "
		         "accepted media types include: application/json-patch+json, "
		         "application/merge-patch+json, application/apply-patch+yaml");
		sim_reply_status(reply, 415, "UnsupportedMediaType", msg, NULL, NULL, NULL);
		return -1;
	}
	if (parse_body(rq, &p, apply)) {
		bad_request(reply, cairn_error_last()->message);
		return -1;
	}
	if (apply) {
		sim_apply_opts o = {0};
		char fm[128], ts[CAIRN_TIME_RFC3339_LEN];
		const char *force = sim_query(rq, "force");
		const char *fmq = sim_query(rq, "fieldManager");
		if (!fmq || !*fmq) {
			json_decref(p);
			bad_request(reply,
			            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: "
			            "Required value: is required for apply patch");
			return -1;
		}
		snprintf(fm, sizeof fm, "%s", fmq);
		now_rfc3339(ts);
		o.manager = fm;
		o.force = force && !strcmp(force, "true");
		o.subresource_status = !strcmp(r->sub, "status");
		o.now = ts;
		rc = sim_apply(&res, live, p, &o);
		if (rc == CAIRN_EBUSY) {
			sim_reply_status(reply, 409, "Conflict", cairn_error_last()->message,
			                 r->name, r->group, r->plural);
			json_decref(p);
			return -1;
		}
	} else if (!live) {
		json_decref(p);
		not_found(reply, r, r->name);
		return -1;
	} else if (ct_is(ct, "application/json-patch+json")) {
		rc = sim_patch_json(&res, live, p);
	} else if (ct_is(ct, "application/merge-patch+json")) {
		rc = sim_patch_merge(&res, live, p);
	} else {
		rc = sim_patch_strategic(&res, live, p);
	}
	json_decref(p);
	if (rc == CAIRN_EINVAL && !apply && ct_is(ct, "application/json-patch+json")) {
		sim_reply_status(reply, 422, "Invalid", cairn_error_last()->message, r->name,
		                 r->group, r->plural);
		return -1;
	}
	if (rc) {
		sim_reply_status(reply, rc == CAIRN_EUNSUPPORTED ? 500 : 400,
		                 rc == CAIRN_EUNSUPPORTED ? "InternalError" : "BadRequest",
		                 cairn_error_last()->message, NULL, NULL, NULL);
		return -1;
	}
	*out = res;
	return 0;
}

/* patch_existing - write a patched object over the live one (takes obj).
 * A patch that names no resourceVersion, and every server-side apply, writes
 * over whatever version is live: when another writer (a controller writing
 * status) slips in between the read and the write, the patch is merged
 * again onto the new version instead of answering 409, a bounded number of
 * times. *old is the version read (replaced on a retry). */
static void patch_existing(sim_server *srv, const sim_request *rq, const route *r, json_t **old,
                           json_t *obj, sim_http_reply *reply)
{
	int apply = ct_is(rq->content_type, "application/apply-patch+yaml");
	sim_key k = key_of(r, r->name);
	int attempt, named;

	named = !apply && json_object_get(json_object_get(obj, "metadata"), "resourceVersion");
	for (attempt = 0;; attempt++) {
		int last = named || attempt >= PATCH_RETRIES;
		json_t *m = json_object_get(obj, "metadata");

		if (!named)
			json_object_set(m, "resourceVersion",
			                json_object_get(json_object_get(*old, "metadata"),
			                                "resourceVersion"));
		if (store_update_try(srv, rq, r, obj, *old, !apply, !last, reply) != CAIRN_EBUSY)
			return;
		json_decref(*old);
		*old = NULL;
		obj = NULL;
		if (sim_store_get(srv->store, &k, old)) {
			not_found(reply, r, r->name);
			return;
		}
		if (patch_object(rq, r, *old, &obj, reply))
			return;
		if (check_body(srv, r, obj, reply)) {
			json_decref(obj);
			return;
		}
	}
}

static void do_patch(sim_server *srv, const sim_request *rq, const route *r, sim_http_reply *reply)
{
	sim_key k = key_of(r, r->name);
	json_t *old = NULL, *obj = NULL, *view = NULL;
	int exists;

	exists = sim_store_get(srv->store, &k, &old) == 0;
	if (!strcmp(r->sub, "scale")) {
		if (!exists) {
			not_found(reply, r, r->name);
			return;
		}
		view = scale_of(old);
		if (patch_object(rq, r, view, &obj, reply) == 0) {
			json_t *n = apply_scale(old, obj);
			json_decref(obj);
			store_update(srv, rq, r, n, old, 1, reply);
		}
		json_decref(view);
		json_decref(old);
		return;
	}
	if (patch_object(rq, r, exists ? old : NULL, &obj, reply))
		goto out;
	if (!exists) {
		/* Server-side apply of a new object is a create. */
		json_t *meta;
		if (check_body(srv, r, obj, reply) || prepare(srv, rq, r, obj, reply))
			goto out;
		if (r->res->namespaced && !namespace_exists(srv, r->ns)) {
			ns_not_found(reply, r->ns);
			goto out;
		}
		meta = json_object_get(obj, "metadata");
		json_object_del(meta, "resourceVersion");
		initial_status(obj);
		if (!dry_run(rq) && sim_store_create(srv->store, &k, obj)) {
			sim_reply_status(reply, 500, "InternalError", cairn_error_last()->message,
			                 NULL, NULL, NULL);
			goto out;
		}
		crd_hook(srv, r, obj, 0);
		put_json(reply, 201, obj);
		goto out;
	}
	if (check_body(srv, r, obj, reply))
		goto out;
	patch_existing(srv, rq, r, &old, obj, reply);
	obj = NULL;
out:
	json_decref(obj);
	json_decref(old);
}

static void delete_crd_objects(sim_server *srv, const json_t *crd);

static const char *propagation(const sim_request *rq)
{
	const char *p = sim_query(rq, "propagationPolicy");
	json_t *body = NULL;
	static __thread char buf[32];

	if (p)
		return p;
	if (rq->body_len && cairn_json_parse(&body, rq->body, rq->body_len, NULL) == 0) {
		const char *b = json_string_value(json_object_get(body, "propagationPolicy"));
		if (b) {
			snprintf(buf, sizeof buf, "%s", b);
			json_decref(body);
			return buf;
		}
		json_decref(body);
	}
	return "Background";
}

/* Namespace deletion: the namespace shows phase Terminating to the
 * caller, then its objects and the namespace itself are removed. */
static void delete_namespace(sim_server *srv, const route *r, json_t *ns, sim_http_reply *reply)
{
	sim_key k = {"", "namespaces", "", r->name};
	json_t *keys = NULL, *d;
	char ts[CAIRN_TIME_RFC3339_LEN];
	size_t i;

	now_rfc3339(ts);
	json_object_set_new(json_object_get(ns, "metadata"), "deletionTimestamp", json_string(ts));
	json_object_set_new(ns, "status", json_pack("{ss}", "phase", "Terminating"));
	json_object_del(json_object_get(ns, "metadata"), "resourceVersion");
	if (sim_store_update(srv->store, &k, ns)) {
		not_found(reply, r, r->name);
		return;
	}
	put_json(reply, 200, ns);
	if (sim_store_namespaced_keys(srv->store, r->name, &keys) == 0) {
		json_array_foreach(keys, i, d)
		{
			sim_key dk = {json_string_value(json_object_get(d, "group")),
			              json_string_value(json_object_get(d, "plural")), r->name,
			              json_string_value(json_object_get(d, "name"))};
			sim_gc_remove(srv, &dk);
		}
	}
	json_decref(keys);
	sim_store_delete(srv->store, &k, NULL);
}

/* DELETE of one object: a Status when it is gone at once, the object
 * itself (deletionTimestamp, finalizers) when it waits for finalizers or
 * for its dependents, as the API server answers. */
static void do_delete(sim_server *srv, const sim_request *rq, const route *r, sim_http_reply *reply)
{
	sim_key k = key_of(r, r->name);
	json_t *obj = NULL, *shown = NULL;
	const char *pp = propagation(rq);
	int gone = 0;

	if (sim_store_get(srv->store, &k, &obj)) {
		not_found(reply, r, r->name);
		return;
	}
	if (dry_run(rq)) {
		put_json(reply, 200, obj);
	} else if (!strcmp(r->plural, "namespaces") && !r->group[0]) {
		delete_namespace(srv, r, obj, reply);
	} else if (sim_gc_delete(srv, &k, pp, &shown, &gone)) {
		not_found(reply, r, r->name);
	} else {
		if (gone && !strcmp(r->plural, "customresourcedefinitions")) {
			crd_hook(srv, r, obj, 1);
			delete_crd_objects(srv, obj);
		}
		if (!gone || strcmp(pp, "Background")) {
			put_json(reply, 200, shown ? shown : obj);
			goto out;
		}
		json_t *st = json_pack("{sssss{}sss{sssssssO}}", "kind", "Status", "apiVersion",
		                       "v1", "metadata", "status", "Success", "details", "name",
		                       r->name, "group", r->group, "kind", r->plural, "uid",
		                       json_object_get(json_object_get(obj, "metadata"), "uid"));
		put_json(reply, 200, st);
		json_decref(st);
	}
out:
	json_decref(shown);
	json_decref(obj);
}

struct collect {
	json_t *items;
	const sim_selector *sel;
	size_t limit;
	char last[600];
	int more;
	json_t *keys;   /* when collecting keys only */
	cairn_buf *raw; /* when not NULL: the stored texts, comma-separated */
	size_t count;   /* objects appended to raw */
};

/* Append one stored object's text to a raw list: the stored bytes are
 * already the object's JSON, so a plain list needs no parse and no dump. */
static int collect_raw(struct collect *c, const char *ns, const char *name, const char *json,
                       size_t len)
{
	if (c->count > 0 && cairn_buf_putc(c->raw, ',') != 0)
		return -1;
	if (cairn_buf_put(c->raw, json, len) != 0)
		return -1;
	c->count++;
	snprintf(c->last, sizeof c->last, "%s/%s", ns, name);
	return 0;
}

static int collect_one(void *ud, const char *ns, const char *name, const char *json, size_t len)
{
	struct collect *c = ud;
	json_t *obj = NULL;

	if (c->keys) {
		json_array_append_new(c->keys, json_pack("{ssss}", "namespace", ns, "name", name));
		return 0;
	}
	if (c->limit && (c->raw ? c->count : json_array_size(c->items)) >= c->limit) {
		c->more = 1;
		return 1;
	}
	if (c->raw && !c->sel)
		return collect_raw(c, ns, name, json, len);
	if (cairn_json_parse(&obj, json, len, NULL))
		return 0;
	if (c->sel && !sim_selector_match(c->sel, obj)) {
		json_decref(obj);
		return 0;
	}
	if (c->raw) {
		json_decref(obj);
		return collect_raw(c, ns, name, json, len);
	}
	json_array_append_new(c->items, obj);
	snprintf(c->last, sizeof c->last, "%s/%s", ns, name);
	return 0;
}

/* Remove every object of a deleted CRD's kind. */
static void delete_crd_objects(sim_server *srv, const json_t *crd)
{
	json_t *spec = json_object_get(crd, "spec"), *d;
	const char *group = json_string_value(json_object_get(spec, "group"));
	const char *plural =
	        json_string_value(json_object_get(json_object_get(spec, "names"), "plural"));
	struct collect c = {0};
	size_t i;

	if (!group || !plural)
		return;
	c.keys = json_array();
	sim_store_iter(srv->store, group, plural, NULL, NULL, collect_one, &c);
	json_array_foreach(c.keys, i, d)
	{
		sim_key dk = {group, plural, json_string_value(json_object_get(d, "namespace")),
		              json_string_value(json_object_get(d, "name"))};
		sim_gc_remove(srv, &dk);
	}
	json_decref(c.keys);
}

/* Answer a list whose items are the stored texts in `raw` (steals `meta`):
 * the list's envelope is dumped, the items are copied as they are. */
static void list_reply_raw(sim_http_reply *reply, const route *r, json_t *meta,
                           const cairn_buf *raw, int iter_rc)
{
	char av[200];
	json_t *head = json_pack("{sssssO}", "kind", r->res->list_kind, "apiVersion",
	                         api_version_of(r->res, av, sizeof av), "metadata", meta);
	char *hs = head ? json_dumps(head, JSON_COMPACT) : NULL;
	size_t hl = hs ? strlen(hs) : 0;

	reply->status = 200;
	reply->content_type = "application/json";
	cairn_buf_reset(&reply->body);
	if (iter_rc < 0 || hl < 2 || cairn_buf_put(&reply->body, hs, hl - 1) ||
	    cairn_buf_puts(&reply->body, ",\"items\":[") ||
	    cairn_buf_put(&reply->body, raw->ptr ? raw->ptr : "", raw->len) ||
	    cairn_buf_puts(&reply->body, "]}"))
		sim_reply_status(reply, 500, "InternalError", "the list is too large to answer",
		                 NULL, NULL, NULL);
	free(hs);
	json_decref(head);
	json_decref(meta);
}

static void do_list(sim_server *srv, const sim_request *rq, const route *r, sim_http_reply *reply)
{
	struct collect c = {0};
	sim_selector *sel = NULL;
	const char *limit = sim_query(rq, "limit"), *cont = sim_query(rq, "continue");
	const char *ls = sim_query(rq, "labelSelector"), *fs = sim_query(rq, "fieldSelector");
	int wants_table = sim_wants_table(rq->accept), irc;
	char after[600] = "", av[200], rvs[24];
	json_t *list, *meta;
	cairn_buf raw = CAIRN_BUF_INIT(0);
	uint64_t rv;

	if (sim_selector_parse(&sel, ls, fs)) {
		bad_request(reply, cairn_error_last()->message);
		return;
	}
	if (cont && *cont) {
		size_t n = 0;
		if (cairn_base64_decode((uint8_t *)after, sizeof after - 1, &n, cont,
		                        strlen(cont))) {
			sim_selector_free(sel);
			bad_request(reply, "continue key is not valid: illegal base64 data");
			return;
		}
		after[n] = '\0';
	}
	c.items = json_array();
	/* an empty selector matches everything: no parse needed to test it */
	c.sel = (ls && *ls) || (fs && *fs) ? sel : NULL;
	c.limit = limit ? strtoul(limit, NULL, 10) : 0;
	if (!wants_table) {
		c.raw = &raw;
		cairn_buf_init(&raw, 0);
	}
	sim_store_lock(srv->store);
	rv = sim_store_rv(srv->store);
	irc = sim_store_iter(srv->store, r->group, r->plural,
	                     r->res->namespaced && r->has_ns ? r->ns : NULL,
	                     after[0] ? after : NULL, collect_one, &c);
	sim_store_unlock(srv->store);
	snprintf(rvs, sizeof rvs, "%llu", (unsigned long long)rv);
	meta = json_pack("{ss}", "resourceVersion", rvs);
	if (c.more) {
		char *enc = malloc(cairn_base64_encoded_len(strlen(c.last)) + 1);
		if (enc) {
			cairn_base64_encode(enc, (const uint8_t *)c.last, strlen(c.last));
			json_object_set_new(meta, "continue", json_string(enc));
			free(enc);
		}
	}
	if (wants_table) {
		const char *io = sim_query(rq, "includeObject");
		list = sim_table(c.items, io && !strcmp(io, "Object"), 1, rvs,
		                 json_string_value(json_object_get(meta, "continue")));
		json_decref(meta);
		json_decref(c.items);
	} else if (c.raw) {
		list_reply_raw(reply, r, meta, &raw, irc);
		json_decref(c.items);
		cairn_buf_dispose(&raw);
		sim_selector_free(sel);
		return;
	} else {
		list = json_pack("{sssssoso}", "kind", r->res->list_kind, "apiVersion",
		                 api_version_of(r->res, av, sizeof av), "metadata", meta, "items",
		                 c.items);
	}
	put_json(reply, 200, list);
	json_decref(list);
	sim_selector_free(sel);
}

/* DELETE on a collection (deletecollection): every object the label and
 * field selectors match, each with the request's propagation policy; the
 * answer lists them as the API server does. */
static void do_delete_collection(sim_server *srv, const sim_request *rq, const route *r,
                                 sim_http_reply *reply)
{
	struct collect c = {0};
	sim_selector *sel = NULL;
	const char *pp = propagation(rq);
	json_t *deleted = json_array(), *o, *list;
	char av[200], rvs[24];
	size_t i;

	if (sim_selector_parse(&sel, sim_query(rq, "labelSelector"),
	                       sim_query(rq, "fieldSelector"))) {
		bad_request(reply, cairn_error_last()->message);
		json_decref(deleted);
		return;
	}
	c.items = json_array();
	c.sel = sel;
	sim_store_iter(srv->store, r->group, r->plural, r->res->namespaced ? r->ns : NULL, NULL,
	               collect_one, &c);
	json_array_foreach(c.items, i, o)
	{
		const char *name =
		        json_string_value(json_object_get(json_object_get(o, "metadata"), "name"));
		sim_key k = key_of(r, name ? name : "");
		json_t *shown = NULL;
		if (dry_run(rq))
			json_array_append(deleted, o);
		else if (sim_gc_delete(srv, &k, pp, &shown, NULL) == 0 && shown)
			json_array_append_new(deleted, shown);
	}
	snprintf(rvs, sizeof rvs, "%llu", (unsigned long long)sim_store_rv(srv->store));
	list = json_pack("{sssss{ss}so}", "kind", r->res->list_kind, "apiVersion",
	                 api_version_of(r->res, av, sizeof av), "metadata", "resourceVersion", rvs,
	                 "items", deleted);
	put_json(reply, 200, list);
	json_decref(list);
	json_decref(c.items);
	sim_selector_free(sel);
}

/* A table-less watch: initial ADDED events for rv 0/unset, then the stream. */
enum MHD_Result sim_handle_watch(sim_server *srv, const sim_request *rq, int drop_after_ms)
{
	sim_http_reply reply = {0};
	route r;
	sim_watch *w = NULL;
	cairn_buf initial = CAIRN_BUF_INIT(CAIRN_BUF_DEFAULT_MAX);
	const char *rvq = sim_query(rq, "resourceVersion");
	const char *to = sim_query(rq, "timeoutSeconds");
	const char *bm = sim_query(rq, "allowWatchBookmarks");
	struct collect c = {0};
	sim_selector *sel = NULL;
	uint64_t since = rvq && *rvq ? strtoull(rvq, NULL, 10) : 0;
	const char *ioq = sim_query(rq, "includeObject");
	int table = sim_wants_table(rq->accept), io = ioq && !strcmp(ioq, "Object");
	size_t line_start = 0;
	char av[200];
	enum MHD_Result ret;
	size_t i;
	json_t *o;

	cairn_buf_init(&reply.body, 1 << 20);
	if (!parse_route(srv, rq->path, &r) || !r.res) {
		sim_reply_status(&reply, 404, "NotFound",
		                 "the server could not find the requested "
		                 "resource",
		                 NULL, NULL, NULL);
		goto fail;
	}
	if (sim_selector_parse(&sel, sim_query(rq, "labelSelector"),
	                       sim_query(rq, "fieldSelector"))) {
		bad_request(&reply, cairn_error_last()->message);
		goto fail;
	}
	sim_store_lock(srv->store);
	if (since == 0) {
		c.items = json_array();
		c.sel = sel;
		sim_store_iter(srv->store, r.group, r.plural, r.has_ns ? r.ns : NULL, NULL,
		               collect_one, &c);
		json_array_foreach(c.items, i, o)
		{
			char *s = json_dumps(o, JSON_COMPACT);
			cairn_buf_printf(&initial, "{\"type\":\"ADDED\",\"object\":%s}",
			                 s ? s : "{}");
			free(s);
			if (table)
				sim_event_to_table(&initial, io, line_start);
			cairn_buf_putc(&initial, '\n');
			line_start = initial.len;
		}
		json_decref(c.items);
	}
	if (sim_watch_open(srv->store, &w, r.group, r.plural, r.has_ns ? r.ns : NULL, since)) {
		sim_store_unlock(srv->store);
		sim_reply_status(&reply, 410, "Expired", cairn_error_last()->message, NULL, NULL,
		                 NULL);
		goto fail;
	}
	sim_store_unlock(srv->store);
	sim_watch_set_kind(w, api_version_of(r.res, av, sizeof av), r.res->kind);
	sim_watch_set_selector(w, sel);
	sel = NULL;
	ret = sim_server_stream(srv, (struct MHD_Connection *)rq->conn, w, &initial,
	                        to ? atoi(to) : 0, bm && !strcmp(bm, "true") && !table,
	                        drop_after_ms, table ? 1 + io : 0);
	cairn_buf_dispose(&initial);
	cairn_buf_dispose(&reply.body);
	return ret;
fail:
	sim_selector_free(sel);
	cairn_buf_dispose(&initial);
	{
		struct MHD_Response *resp = MHD_create_response_from_buffer(
		        reply.body.len, reply.body.ptr, MHD_RESPMEM_MUST_COPY);
		MHD_add_response_header(resp, "Content-Type", "application/json");
		ret = MHD_queue_response((struct MHD_Connection *)rq->conn,
		                         (unsigned int)reply.status, resp);
		MHD_destroy_response(resp);
	}
	cairn_buf_dispose(&reply.body);
	return ret;
}

/*
 * sim_event_to_table - rewrite the event line that starts at `from` in buf
 * (no trailing newline) so its object is a one-row Table.
 */
void sim_event_to_table(cairn_buf *buf, int include_object, size_t from)
{
	json_t *ev = NULL, *items, *t;
	char *s;

	if (cairn_json_parse(&ev, buf->ptr + from, buf->len - from, NULL))
		return;
	items = json_pack("[O]", json_object_get(ev, "object"));
	t = sim_table(items, include_object, 1,
	              json_string_value(json_object_get(
	                      json_object_get(json_object_get(ev, "object"), "metadata"),
	                      "resourceVersion")),
	              NULL);
	json_object_set_new(ev, "object", t);
	s = json_dumps(ev, JSON_COMPACT);
	if (s) {
		cairn_buf_truncate(buf, from);
		cairn_buf_puts(buf, s);
		free(s);
	}
	json_decref(items);
	json_decref(ev);
}

static void serve_version(sim_http_reply *reply)
{
	json_t *v = json_pack("{ssssssssssssssssss}", "major", "1", "minor", "28", "gitVersion",
	                      "v1.28.15", "gitCommit", "0000000000000000000000000000000000000000",
	                      "gitTreeState", "clean", "buildDate", "2024-10-22T20:00:00Z",
	                      "goVersion", "go1.22.8", "compiler", "gc", "platform", "linux/amd64");
	put_json(reply, 200, v);
	json_decref(v);
}

/*
 * sim_handle - serve one non-watch request into reply. Errors become
 * Status bodies; always returns 0. Thread-safe.
 */
int sim_handle(sim_server *srv, const sim_request *rq, sim_http_reply *reply)
{
	route r;
	const char *m = rq->method;

	if (!strcmp(rq->path, "/version") || !strcmp(rq->path, "/version/")) {
		serve_version(reply);
		return 0;
	}
	if (!strcmp(rq->path, "/healthz") || !strcmp(rq->path, "/livez") ||
	    !strcmp(rq->path, "/readyz")) {
		reply->status = 200;
		reply->content_type = "text/plain";
		cairn_buf_puts(&reply->body, "ok");
		return 0;
	}
	if (!strcmp(rq->path, "/admin/workloads")) {
		sim_workloads_admin(srv->workloads, m, rq->body, rq->body_len, reply);
		return 0;
	}
	if (!strcmp(rq->path, "/admin/faults")) {
		if (srv->faults)
			sim_faults_admin(srv->faults, m, rq->body, rq->body_len, reply);
		return 0;
	}
	if (!strcmp(m, "GET") && !strcmp(rq->path, "/openapi/v2") && rq->accept &&
	    strstr(rq->accept, "protobuf") && !strstr(rq->accept, "json")) {
		/* kubectl 1.28 needs this document (its validator fetches it and
		 * fails on any error) but reads only protobuf. An empty message is
		 * a valid, empty openapi_v2.Document: kubectl then skips
		 * client-side schema checks and relies on server-side field
		 * validation and on its built-in patch metadata. */
		reply->status = 200;
		reply->content_type = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";
		return 0;
	}
	if (!strcmp(m, "GET") && sim_discovery_serve(srv->reg, srv->openapi_dir, rq->path,
	                                             rq->accept ? rq->accept : "", reply))
		return 0;
	if (!parse_route(srv, rq->path, &r) || !r.res ||
	    (r.sub[0] && strcmp(r.sub, "status") && strcmp(r.sub, "scale")) ||
	    (!strcmp(r.sub, "status") && !r.res->has_status) ||
	    (!strcmp(r.sub, "scale") && !r.res->has_scale)) {
		sim_reply_status(reply, 404, "NotFound",
		                 "the server could not find the requested resource", NULL, NULL,
		                 NULL);
		return 0;
	}
	if (r.res->namespaced && !r.has_ns && (strcmp(m, "GET") || r.has_name)) {
		sim_reply_status(reply, 404, "NotFound",
		                 "the server could not find the requested resource", NULL, NULL,
		                 NULL);
		return 0;
	}
	if (!strcmp(m, "GET"))
		r.has_name ? do_get(srv, rq, &r, reply) : do_list(srv, rq, &r, reply);
	else if (!strcmp(m, "POST") && !r.has_name)
		do_create(srv, rq, &r, reply);
	else if (!strcmp(m, "PUT") && r.has_name)
		do_update(srv, rq, &r, reply);
	else if (!strcmp(m, "PATCH") && r.has_name)
		do_patch(srv, rq, &r, reply);
	else if (!strcmp(m, "DELETE") && r.has_name && !r.sub[0])
		do_delete(srv, rq, &r, reply);
	else if (!strcmp(m, "DELETE") && !r.has_name && strcmp(r.plural, "namespaces"))
		do_delete_collection(srv, rq, &r, reply);
	else {
		char msg[200];
		snprintf(msg, sizeof msg,
		         "the server does not allow this method on the requested "
		         "resource");
		sim_reply_status(reply, 405, "MethodNotAllowed", msg, NULL, NULL, NULL);
	}
	return 0;
}
