/*
 * ops.c - discovery (the REST mapping) and the object operations.
 *
 * Discovery reads the legacy documents (/api, /apis, one APIResourceList
 * per group-version) into one table, kept for discovery_ttl_ms; a lookup
 * that misses refreshes it once, so kinds of a new CRD are found.
 */
#include <curl/curl.h>

#include "cairn/error.h"
#include "cairn/json.h"
#include "cairn/util.h"
#include "kube_internal.h"

#define DISC_MAX_DOC ((size_t)16 << 20)

static int get_json(cairn_kube_client *c, const char *path, json_t **out)
{
	cairn_buf b = CAIRN_BUF_INIT(DISC_MAX_DOC);
	int rc = cairn_kube_request(c, "GET", path, NULL, NULL, 0, &b);

	if (rc == 0)
		rc = cairn_json_parse(out, b.ptr != NULL ? b.ptr : "", b.len, path);
	cairn_buf_dispose(&b);
	return rc;
}

/* Append the rows of one APIResourceList (subresources skipped). */
static int disc_add(json_t *table, const char *group, const char *version, const json_t *list)
{
	size_t i;
	const json_t *r;

	json_array_foreach(json_object_get(list, "resources"), i, r)
	{
		const char *name = json_string_value(json_object_get(r, "name"));
		const char *kind = json_string_value(json_object_get(r, "kind"));
		const char *sing = json_string_value(json_object_get(r, "singularName"));
		json_t *shorts = json_object_get(r, "shortNames");

		if (name == NULL || kind == NULL || strchr(name, '/') != NULL)
			continue;
		if (json_array_append_new(table,
		                          json_pack("[s,s,s,s,b,s,O]", group, version, kind, name,
		                                    json_is_true(json_object_get(r, "namespaced")),
		                                    sing != NULL ? sing : "",
		                                    shorts != NULL ? shorts : json_null())) != 0)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	return 0;
}

/* Read the whole discovery into c->disc. */
static int disc_refresh(cairn_kube_client *c)
{
	json_t *table = json_array(), *doc = NULL, *groups = NULL;
	size_t i, j;
	const json_t *g, *v;
	char path[512];
	int rc;

	if (table == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	rc = get_json(c, "/api/v1", &doc);
	if (rc == 0)
		rc = disc_add(table, "", "v1", doc);
	json_decref(doc);
	doc = NULL;
	if (rc == 0)
		rc = get_json(c, "/apis", &groups);
	json_array_foreach(json_object_get(groups, "groups"), i, g)
	{
		const char *gname = json_string_value(json_object_get(g, "name"));

		if (rc != 0)
			break;
		json_array_foreach(json_object_get(g, "versions"), j, v)
		{
			const char *ver = json_string_value(json_object_get(v, "version"));

			if (gname == NULL || ver == NULL)
				continue;
			snprintf(path, sizeof(path), "/apis/%s/%s", gname, ver);
			rc = get_json(c, path, &doc);
			if (rc == CAIRN_ENOTFOUND) {
				/* a group-version removed between the two reads */
				cairn_error_clear();
				rc = 0;
				continue;
			}
			if (rc == 0)
				rc = disc_add(table, gname, ver, doc);
			json_decref(doc);
			doc = NULL;
			if (rc != 0)
				break;
		}
	}
	json_decref(groups);
	if (rc != 0) {
		json_decref(table);
		return cairn_error_prefix("discovery: ");
	}
	json_decref(c->disc);
	c->disc = table;
	c->disc_at_us = cairn_time_mono();
	return 0;
}

static void row_to_mapping(const json_t *row, cairn_kube_mapping *out)
{
	snprintf(out->group, sizeof(out->group), "%s", json_string_value(json_array_get(row, 0)));
	snprintf(out->version, sizeof(out->version), "%s",
	         json_string_value(json_array_get(row, 1)));
	snprintf(out->kind, sizeof(out->kind), "%s", json_string_value(json_array_get(row, 2)));
	snprintf(out->resource, sizeof(out->resource), "%s",
	         json_string_value(json_array_get(row, 3)));
	out->namespaced = json_is_true(json_array_get(row, 4));
}

/* Find a row with `match`; refresh when the table is stale, or once on a miss. */
static int disc_lookup(cairn_kube_client *c, int (*match)(const json_t *, const void *),
                       const void *arg, cairn_kube_mapping *out)
{
	int refreshed = 0;

	if (c->disc == NULL ||
	    cairn_time_mono() - c->disc_at_us > c->opts.discovery_ttl_ms * 1000) {
		int rc = disc_refresh(c);

		if (rc != 0)
			return rc;
		refreshed = 1;
	}
	for (;;) {
		size_t i;
		const json_t *row;

		json_array_foreach(c->disc, i, row)
		{
			if (match(row, arg)) {
				row_to_mapping(row, out);
				return 0;
			}
		}
		if (refreshed)
			return CAIRN_ENOTFOUND;
		if (disc_refresh(c) != 0)
			return cairn_error_last()->code;
		refreshed = 1;
	}
}

struct gvk {
	char group[128];
	const char *version, *kind;
};

static int match_gvk(const json_t *row, const void *arg)
{
	const struct gvk *k = arg;

	return strcmp(json_string_value(json_array_get(row, 0)), k->group) == 0 &&
	       strcmp(json_string_value(json_array_get(row, 1)), k->version) == 0 &&
	       strcmp(json_string_value(json_array_get(row, 2)), k->kind) == 0;
}

int cairn_kube_mapping_for(cairn_kube_client *c, const char *api_version, const char *kind,
                           cairn_kube_mapping *out)
{
	struct gvk k;
	const char *slash = strchr(api_version, '/');
	int rc;

	if (slash != NULL) {
		snprintf(k.group, sizeof(k.group), "%.*s", (int)(slash - api_version), api_version);
		k.version = slash + 1;
	} else {
		k.group[0] = '\0';
		k.version = api_version;
	}
	k.kind = kind;
	rc = disc_lookup(c, match_gvk, &k, out);
	if (rc == CAIRN_ENOTFOUND)
		return cairn_error_set(
		        CAIRN_ENOTFOUND,
		        "no resource for kind '%s' of '%s' in the server's discovery", kind,
		        api_version);
	return rc;
}

struct byname {
	char name[128];
	const char *group; /* NULL: any */
};

static int match_name(const json_t *row, const void *arg)
{
	const struct byname *b = arg;
	const json_t *shorts = json_array_get(row, 6);
	size_t i;
	const json_t *s;

	if (b->group != NULL && strcmp(json_string_value(json_array_get(row, 0)), b->group) != 0)
		return 0;
	if (strcasecmp(json_string_value(json_array_get(row, 2)), b->name) == 0 ||
	    strcmp(json_string_value(json_array_get(row, 3)), b->name) == 0 ||
	    strcmp(json_string_value(json_array_get(row, 5)), b->name) == 0)
		return 1;
	json_array_foreach(shorts, i, s)
	{
		if (json_is_string(s) && strcmp(json_string_value(s), b->name) == 0)
			return 1;
	}
	return 0;
}

int cairn_kube_mapping_find(cairn_kube_client *c, const char *name, cairn_kube_mapping *out)
{
	struct byname b;
	const char *dot = strchr(name, '.');
	int rc;

	snprintf(b.name, sizeof(b.name), "%.*s",
	         (int)(dot != NULL ? (size_t)(dot - name) : strlen(name)), name);
	b.group = dot != NULL ? dot + 1 : NULL;
	rc = disc_lookup(c, match_name, &b, out);
	if (rc == CAIRN_ENOTFOUND)
		return cairn_error_set(CAIRN_ENOTFOUND, "the server has no resource type '%s'",
		                       name);
	return rc;
}

int cairn_kube_server_version(cairn_kube_client *c, char *out, size_t size)
{
	json_t *v = NULL;
	const char *gv;
	int rc = get_json(c, "/version", &v);

	if (rc != 0)
		return rc;
	gv = json_string_value(json_object_get(v, "gitVersion"));
	if (gv == NULL)
		rc = cairn_error_set(CAIRN_EINVAL, "/version has no gitVersion");
	else
		snprintf(out, size, "%s", gv);
	json_decref(v);
	return rc;
}

/* Append a query parameter, percent-encoded. */
int kube_qadd(cairn_buf *b, const char *key, const char *val)
{
	char *e = curl_easy_escape(NULL, val, 0);
	int rc;

	if (e == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	rc = cairn_buf_printf(b, "%c%s=%s", strchr(b->ptr, '?') != NULL ? '&' : '?', key, e);
	curl_free(e);
	return rc;
}

/* The collection path of `m` in namespace `ns` (NULL for all namespaces). */
int kube_path(cairn_buf *b, cairn_kube_client *c, const cairn_kube_mapping *m, const char *ns,
              const char *name)
{
	int rc;

	if (m->group[0] == '\0')
		rc = cairn_buf_printf(b, "/api/%s", m->version);
	else
		rc = cairn_buf_printf(b, "/apis/%s/%s", m->group, m->version);
	if (rc == 0 && m->namespaced && ns != NULL)
		rc = cairn_buf_printf(b, "/namespaces/%s", ns[0] != '\0' ? ns : c->ns);
	if (rc == 0)
		rc = cairn_buf_printf(b, "/%s", m->resource);
	if (rc == 0 && name != NULL) {
		if (name[0] == '\0' || strchr(name, '/') != NULL || strchr(name, '?') != NULL ||
		    strchr(name, '%') != NULL)
			return cairn_error_set(CAIRN_EINVAL, "bad object name '%s'", name);
		rc = cairn_buf_printf(b, "/%s", name);
	}
	return rc != 0 ? cairn_error_set(rc, "request path too long") : 0;
}

/* Send a request and parse the JSON answer into *out (when out is not NULL). */
static int call_json(cairn_kube_client *c, const char *method, const char *path, const char *ct,
                     const void *body, size_t len, json_t **out)
{
	cairn_buf b = CAIRN_BUF_INIT(0);
	int rc = cairn_kube_request(c, method, path, ct, body, len, &b);

	if (rc == 0 && out != NULL)
		rc = cairn_json_parse(out, b.ptr != NULL ? b.ptr : "", b.len, path);
	cairn_buf_dispose(&b);
	return rc;
}

int cairn_kube_get(cairn_kube_client *c, const cairn_kube_mapping *m, const char *ns,
                   const char *name, json_t **out)
{
	cairn_buf p = CAIRN_BUF_INIT(8192);
	int rc = kube_path(&p, c, m, ns != NULL ? ns : "", name);

	if (rc == 0)
		rc = call_json(c, "GET", p.ptr, NULL, NULL, 0, out);
	cairn_buf_dispose(&p);
	return rc;
}

int cairn_kube_get_status(cairn_kube_client *c, const cairn_kube_mapping *m, const char *ns,
                          const char *name, json_t **out)
{
	cairn_buf p = CAIRN_BUF_INIT(8192);
	int rc = kube_path(&p, c, m, ns != NULL ? ns : "", name);

	if (rc == 0 && cairn_buf_puts(&p, "/status") != 0)
		rc = cairn_error_set(CAIRN_ELIMIT, "request path too long");
	if (rc == 0)
		rc = call_json(c, "GET", p.ptr, NULL, NULL, 0, out);
	cairn_buf_dispose(&p);
	return rc;
}

int cairn_kube_list(cairn_kube_client *c, const cairn_kube_mapping *m, const char *ns,
                    const cairn_kube_list_opts *o, json_t **out)
{
	cairn_buf p = CAIRN_BUF_INIT(65536);
	char lim[32];
	int rc = kube_path(&p, c, m, o != NULL && o->all_namespaces ? NULL : (ns ? ns : ""), NULL);

	if (rc == 0 && o != NULL && o->label_selector != NULL)
		rc = kube_qadd(&p, "labelSelector", o->label_selector);
	if (rc == 0 && o != NULL && o->field_selector != NULL)
		rc = kube_qadd(&p, "fieldSelector", o->field_selector);
	if (rc == 0 && o != NULL && o->limit > 0) {
		snprintf(lim, sizeof(lim), "%ld", o->limit);
		rc = kube_qadd(&p, "limit", lim);
	}
	if (rc == 0 && o != NULL && o->continue_ != NULL && o->continue_[0] != '\0')
		rc = kube_qadd(&p, "continue", o->continue_);
	if (rc == 0)
		rc = call_json(c, "GET", p.ptr, NULL, NULL, 0, out);
	cairn_buf_dispose(&p);
	return rc;
}

int cairn_kube_apply(cairn_kube_client *c, const json_t *obj, unsigned flags, json_t **out)
{
	const char *av = json_string_value(json_object_get(obj, "apiVersion"));
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	const json_t *md = json_object_get(obj, "metadata");
	const char *name = json_string_value(json_object_get(md, "name"));
	const char *ns = json_string_value(json_object_get(md, "namespace"));
	cairn_kube_mapping m;
	cairn_buf p = CAIRN_BUF_INIT(8192);
	char *body = NULL;
	int rc;

	if (av == NULL || kind == NULL || name == NULL)
		return cairn_error_set(CAIRN_EINVAL,
		                       "object to apply needs apiVersion, kind and metadata.name");
	rc = cairn_kube_mapping_for(c, av, kind, &m);
	if (rc == 0)
		rc = kube_path(&p, c, &m, ns != NULL ? ns : "", name);
	if (rc == 0)
		rc = kube_qadd(&p, "fieldManager", "cairn");
	if (rc == 0)
		rc = kube_qadd(&p, "force", "true");
	if (rc == 0 && (flags & CAIRN_KUBE_DRY_RUN))
		rc = kube_qadd(&p, "dryRun", "All");
	if (rc == 0) {
		/* JSON is YAML: the apply body is sent as compact JSON */
		body = json_dumps(obj, JSON_COMPACT);
		if (body == NULL)
			rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	if (rc == 0)
		rc = call_json(c, "PATCH", p.ptr, "application/apply-patch+yaml", body,
		               strlen(body), out);
	free(body);
	cairn_buf_dispose(&p);
	return rc;
}

int cairn_kube_delete(cairn_kube_client *c, const cairn_kube_mapping *m, const char *ns,
                      const char *name, const char *propagation)
{
	cairn_buf p = CAIRN_BUF_INIT(8192);
	int rc = kube_path(&p, c, m, ns != NULL ? ns : "", name);

	if (rc == 0 && propagation != NULL)
		rc = kube_qadd(&p, "propagationPolicy", propagation);
	if (rc == 0)
		rc = call_json(c, "DELETE", p.ptr, NULL, NULL, 0, NULL);
	cairn_buf_dispose(&p);
	return rc;
}
