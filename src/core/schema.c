/*
 * schema.c - OpenAPI v2/v3 documents as a schema set, and validation of
 * objects against them, in the spirit of `kubectl --validate=strict` and
 * `kubeconform -strict`: unknown fields, types, required fields and enums.
 *
 * The documents stay jansson trees; an index maps "group/version/Kind" (the
 * core group is "v1/Kind") to the definition and to the table its local
 * $refs resolve against, so nothing is converted or cached on disk.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/stat.h>

#include "cairn/buf.h"
#include "cairn/error.h"
#include "cairn/schema.h"

/* The Kubernetes documents are a few MiB; anything far larger is a mistake. */
#define MAX_DOC_BYTES ((size_t)256 << 20)
/* At most this many findings for one object: past it the rest is noise. */
#define MAX_FINDINGS_PER_OBJECT 1000
/* $ref chains longer than this are a loop. */
#define MAX_REF_HOPS 32
#define MAX_V3_FILES 1024

struct cairn_schema_set {
	json_t *docs;  /* array of the loaded documents (owned) */
	json_t *index; /* "group/version/Kind" -> [schema, definitions] (borrowed into docs) */
};

void cairn_schema_set_free(cairn_schema_set *set)
{
	if (set == NULL)
		return;
	json_decref(set->index);
	json_decref(set->docs);
	free(set);
}

void cairn_schema_findings_free(cairn_schema_finding *findings, size_t count)
{
	for (size_t i = 0; findings && i < count; i++) {
		free(findings[i].pointer);
		free(findings[i].message);
	}
	free(findings);
}

/* Index every definition of `defs` that names its group/version/kind. When
 * several documents define the same kind the first one loaded wins. */
static int index_definitions(cairn_schema_set *set, json_t *defs)
{
	const char *name;
	json_t *schema;

	json_object_foreach(defs, name, schema)
	{
		json_t *gvks = json_object_get(schema, "x-kubernetes-group-version-kind");
		size_t i;
		json_t *gvk;

		json_array_foreach(gvks, i, gvk)
		{
			const char *g = json_string_value(json_object_get(gvk, "group"));
			const char *v = json_string_value(json_object_get(gvk, "version"));
			const char *k = json_string_value(json_object_get(gvk, "kind"));
			char key[512];
			json_t *entry;

			if (v == NULL || k == NULL)
				continue;
			snprintf(key, sizeof(key), "%s%s%s/%s", g && *g ? g : "",
			         g && *g ? "/" : "", v, k);
			if (json_object_get(set->index, key))
				continue;
			entry = json_pack("[OO]", schema, defs);
			if (entry == NULL || json_object_set_new(set->index, key, entry) < 0)
				return cairn_error_set(CAIRN_ENOMEM,
				                       "out of memory indexing schemas");
		}
	}
	return 0;
}

/* Load one document and index it; v2 keeps its definitions under
 * "definitions", v3 under "components"/"schemas". */
static int load_doc(cairn_schema_set *set, const char *path, int required)
{
	cairn_buf b = CAIRN_BUF_INIT(MAX_DOC_BYTES);
	json_error_t jerr;
	json_t *doc = NULL, *defs;
	int rc;

	rc = cairn_buf_read_file(&b, path);
	if (rc < 0)
		goto out;
	doc = json_loadb(b.ptr ? b.ptr : "", b.len, 0, &jerr);
	if (doc == NULL) {
		rc = cairn_error_set_at(CAIRN_EINVAL, path, jerr.line, jerr.column,
		                        "invalid JSON in an OpenAPI document: %s", jerr.text);
		goto out;
	}
	defs = json_object_get(doc, "definitions");
	if (!json_is_object(defs))
		defs = json_object_get(json_object_get(doc, "components"), "schemas");
	if (!json_is_object(defs)) {
		rc = required ? cairn_error_set(CAIRN_EINVAL,
		                                "'%s' is not an OpenAPI document: no definitions "
		                                "or components.schemas",
		                                path)
		              : 0;
		goto out;
	}
	rc = index_definitions(set, defs);
	if (rc == 0 && json_array_append(set->docs, doc) < 0)
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory loading schemas");
out:
	json_decref(doc);
	cairn_buf_dispose(&b);
	return rc;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Load every *.json of a directory (the OpenAPI v3 layout: one document per
 * group-version), in name order so the first-wins rule is stable. */
static int load_v3_dir(cairn_schema_set *set, const char *dir, size_t *loaded)
{
	char *names[MAX_V3_FILES];
	size_t n = 0;
	struct dirent *de;
	DIR *d = opendir(dir);
	int rc = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && n < MAX_V3_FILES) {
		size_t len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		names[n] = strdup(de->d_name);
		if (names[n] == NULL) {
			rc = cairn_error_set(CAIRN_ENOMEM, "out of memory listing '%s'", dir);
			goto out;
		}
		n++;
	}
	qsort(names, n, sizeof(names[0]), name_cmp);
	for (size_t i = 0; i < n && rc == 0; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		rc = load_doc(set, path, 0);
		(*loaded)++;
	}
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	closedir(d);
	return rc;
}

int cairn_schema_set_load(cairn_schema_set **out, const char *dir)
{
	cairn_schema_set *set = calloc(1, sizeof(*set));
	char path[4096];
	struct stat st;
	size_t loaded = 0;
	int rc;

	if (set == NULL || (set->docs = json_array()) == NULL ||
	    (set->index = json_object()) == NULL) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory loading schemas");
		goto out;
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		rc = cairn_error_set(CAIRN_ENOTFOUND, "schema directory '%s' does not exist", dir);
		goto out;
	}
	/* swagger.json alone describes every built-in kind; the v3 documents
	 * are read only when there is no v2 one. */
	snprintf(path, sizeof(path), "%s/swagger.json", dir);
	if (stat(path, &st) == 0) {
		rc = load_doc(set, path, 1);
		loaded++;
	} else {
		snprintf(path, sizeof(path), "%s/v3", dir);
		rc = load_v3_dir(set, path, &loaded);
		if (rc == 0 && loaded == 0)
			rc = load_v3_dir(set, dir, &loaded);
	}
	if (rc == 0 && json_object_size(set->index) == 0)
		rc = cairn_error_set(CAIRN_ENOTFOUND,
		                     "no OpenAPI document with Kubernetes kinds in '%s' (expected "
		                     "swagger.json or v3/*.json)",
		                     dir);
	if (rc < 0)
		goto out;
	*out = set;
	set = NULL;
out:
	cairn_schema_set_free(set);
	return rc;
}

/* ---- validation ----------------------------------------------------------- */

struct vctx {
	const json_t *defs;
	cairn_schema_finding **findings;
	size_t *count;
	size_t added;
	cairn_buf ptr;  /* RFC 6901 pointer of the current node */
	cairn_buf path; /* the same as "spec.containers[0].image", for messages */
	int rc;
};

static void finding(struct vctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void finding(struct vctx *c, const char *fmt, ...)
{
	char msg[CAIRN_ERROR_MSG_MAX];
	cairn_schema_finding *arr;
	va_list ap;

	if (c->rc < 0 || c->added >= MAX_FINDINGS_PER_OBJECT)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	arr = realloc(*c->findings, (*c->count + 1) * sizeof(*arr));
	if (arr == NULL) {
		c->rc = cairn_error_set(CAIRN_ENOMEM, "out of memory recording findings");
		return;
	}
	*c->findings = arr;
	arr[*c->count].pointer = strdup(c->ptr.ptr ? c->ptr.ptr : "");
	arr[*c->count].message = strdup(msg);
	if (arr[*c->count].pointer == NULL || arr[*c->count].message == NULL) {
		free(arr[*c->count].pointer);
		free(arr[*c->count].message);
		c->rc = cairn_error_set(CAIRN_ENOMEM, "out of memory recording findings");
		return;
	}
	(*c->count)++;
	c->added++;
}

/* Follow $ref (also the v3 form {allOf: [{$ref}]}) to the definition it
 * names; *name is set to the last definition name seen (or left alone). */
static const json_t *resolve(const struct vctx *c, const json_t *s, const char **name)
{
	for (int hops = 0; hops < MAX_REF_HOPS && s; hops++) {
		const json_t *all = json_object_get(s, "allOf");
		const char *ref, *slash;

		if (json_is_array(all) && json_array_size(all) == 1 &&
		    json_object_get(json_array_get(all, 0), "$ref"))
			s = json_array_get(all, 0);
		ref = json_string_value(json_object_get(s, "$ref"));
		if (ref == NULL)
			return s;
		slash = strrchr(ref, '/');
		if (slash == NULL)
			return NULL;
		*name = slash + 1;
		s = json_object_get(c->defs, slash + 1);
	}
	return NULL;
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "a list";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

/* Kubernetes quantities: a signed decimal number, then nothing, a binary SI
 * suffix (Ki..Ei), a decimal SI suffix (n u m k M G T P E) or an exponent. */
static int is_quantity(const char *s)
{
	static const char *const suffixes[] = {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n", "u",
	                                       "m",  "k",  "M",  "G",  "T",  "P",  "E", ""};
	size_t digits = 0;

	if (*s == '+' || *s == '-')
		s++;
	while ((*s >= '0' && *s <= '9') || *s == '.') {
		if (*s != '.')
			digits++;
		s++;
	}
	if (digits == 0)
		return 0;
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (*s < '0' || *s > '9')
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
		return *s == '\0';
	}
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
		if (strcmp(s, suffixes[i]) == 0)
			return 1;
	return 0;
}

static const char *shown_path(const struct vctx *c)
{
	return c->path.len ? c->path.ptr : "(document)";
}

static void validate_node(struct vctx *c, const json_t *schema, const json_t *v);

/* Extend the pointer and the dotted path by a member name, or (key NULL)
 * by the index of a list element. */
static int push(struct vctx *c, const char *key, size_t index)
{
	size_t dlen = c->path.len;
	int rc = 0;

	if (key == NULL) {
		rc = cairn_buf_printf(&c->ptr, "/%zu", index);
		return rc < 0 ? rc : cairn_buf_printf(&c->path, "[%zu]", index);
	}
	rc = cairn_buf_putc(&c->ptr, '/');
	for (const char *p = key; *p && rc == 0; p++)
		rc = *p == '~'   ? cairn_buf_puts(&c->ptr, "~0")
		     : *p == '/' ? cairn_buf_puts(&c->ptr, "~1")
		                 : cairn_buf_putc(&c->ptr, *p);
	return rc < 0 ? rc : cairn_buf_printf(&c->path, "%s%s", dlen ? "." : "", key);
}

/* Validate a child, then cut the pointer and path back to the parent's. */
static void descend(struct vctx *c, const json_t *schema, const json_t *v, const char *key,
                    size_t index)
{
	size_t plen = c->ptr.len, dlen = c->path.len;
	int rc = push(c, key, index);

	if (rc < 0)
		c->rc = rc;
	else
		validate_node(c, schema, v);
	cairn_buf_truncate(&c->ptr, plen);
	cairn_buf_truncate(&c->path, dlen);
}

static void validate_object(struct vctx *c, const json_t *schema, const json_t *v)
{
	const json_t *props = json_object_get(schema, "properties");
	const json_t *addl = json_object_get(schema, "additionalProperties");
	int preserve =
	        json_is_true(json_object_get(schema, "x-kubernetes-preserve-unknown-fields"));
	const json_t *req = json_object_get(schema, "required");
	const char *key;
	json_t *child;
	size_t i;

	json_object_foreach((json_t *)v, key, child)
	{
		const json_t *ps = json_object_get(props, key);

		if (ps) {
			descend(c, ps, child, key, 0);
		} else if (json_is_object(addl)) {
			descend(c, addl, child, key, 0);
		} else if (!(preserve || json_is_true(addl) || (props == NULL && addl == NULL))) {
			size_t plen = c->ptr.len, dlen = c->path.len;

			/* The finding points at the unknown member itself. */
			if (push(c, key, 0) == 0)
				finding(c, "unknown field '%s'", c->path.ptr);
			cairn_buf_truncate(&c->ptr, plen);
			cairn_buf_truncate(&c->path, dlen);
		}
		if (c->rc < 0)
			return;
	}
	json_array_foreach(req, i, child)
	{
		const char *name = json_string_value(child);
		if (name && json_object_get(v, name) == NULL)
			finding(c, "missing required field '%s%s%s'",
			        c->path.ptr ? c->path.ptr : "", c->path.len ? "." : "", name);
	}
}

/* The value's JSON type against the schema's "type"; int-or-string and
 * Quantity fields take what Kubernetes' decoders take. Returns 1 when the
 * value may be looked into further. */
static int check_type(struct vctx *c, const json_t *schema, const char *defname, const json_t *v)
{
	const char *type = json_string_value(json_object_get(schema, "type"));
	const char *format = json_string_value(json_object_get(schema, "format"));

	if (json_is_true(json_object_get(schema, "x-kubernetes-int-or-string")) ||
	    (format && strcmp(format, "int-or-string") == 0)) {
		if (!json_is_integer(v) && !json_is_string(v))
			finding(c,
			        "wrong type for field '%s': expected an integer or a string, got "
			        "%s",
			        shown_path(c), type_name(v));
		return 0;
	}
	if (defname && strcmp(defname, "io.k8s.apimachinery.pkg.api.resource.Quantity") == 0) {
		if (json_is_string(v) && !is_quantity(json_string_value(v)))
			finding(c,
			        "invalid quantity '%s' for field '%s': expected a number with an "
			        "optional suffix such as 'm', 'Mi' or 'G'",
			        json_string_value(v), shown_path(c));
		else if (!json_is_string(v) && !json_is_number(v))
			finding(c, "wrong type for field '%s': expected a quantity, got %s",
			        shown_path(c), type_name(v));
		return 0;
	}
	if (type == NULL)
		return json_is_object(v) || json_is_array(v);
	if (strcmp(type, "object") == 0    ? json_is_object(v)
	    : strcmp(type, "array") == 0   ? json_is_array(v)
	    : strcmp(type, "string") == 0  ? json_is_string(v)
	    : strcmp(type, "integer") == 0 ? json_is_integer(v)
	    : strcmp(type, "number") == 0  ? json_is_number(v)
	    : strcmp(type, "boolean") == 0 ? json_is_boolean(v)
	                                   : 1) {
		if (json_is_integer(v) && format && strcmp(format, "int32") == 0 &&
		    (json_integer_value(v) > INT32_MAX || json_integer_value(v) < INT32_MIN))
			finding(c,
			        "value %" JSON_INTEGER_FORMAT
			        " of field '%s' is out of range: it must fit in 32 bits",
			        json_integer_value(v), shown_path(c));
		return 1;
	}
	finding(c, "wrong type for field '%s': expected %s %s, got %s", shown_path(c),
	        strchr("aeiou", type[0]) ? "an" : "a", type, type_name(v));
	return 0;
}

static void check_enum(struct vctx *c, const json_t *schema, const json_t *v)
{
	const json_t *en = json_object_get(schema, "enum");
	char list[512];
	size_t i, n = 0;
	json_t *e;

	if (!json_is_array(en) || json_array_size(en) == 0)
		return;
	json_array_foreach(en, i, e) if (json_equal(e, (json_t *)v)) return;
	list[0] = '\0';
	json_array_foreach(en, i, e) if (json_is_string(e) && n < sizeof(list)) n +=
	        (size_t)snprintf(list + n, sizeof(list) - n, "%s'%s'", i ? ", " : "",
	                         json_string_value(e));
	if (json_is_string(v))
		finding(c, "unsupported value '%s' for field '%s': expected one of %s",
		        json_string_value(v), shown_path(c), list);
	else
		finding(c, "unsupported value for field '%s': expected one of %s", shown_path(c),
		        list);
}

static void validate_node(struct vctx *c, const json_t *schema, const json_t *v)
{
	const char *defname = NULL;

	if (c->rc < 0)
		return;
	schema = resolve(c, schema, &defname);
	/* null leaves a field unset, as the API server reads it
	 * ("creationTimestamp: null" is common in generated manifests). */
	if (schema == NULL || json_is_null(v))
		return;
	if (!check_type(c, schema, defname, v))
		return;
	check_enum(c, schema, v);
	if (json_is_object(v)) {
		validate_object(c, schema, v);
	} else if (json_is_array(v)) {
		const json_t *items = json_object_get(schema, "items");
		size_t i;
		json_t *e;

		if (items == NULL)
			return;
		json_array_foreach(v, i, e)
		{
			descend(c, items, e, NULL, i);
			if (c->rc < 0)
				return;
		}
	}
}

int cairn_schema_validate(const cairn_schema_set *set, const json_t *obj,
                          cairn_schema_finding **findings, size_t *count)
{
	const char *api = json_string_value(json_object_get(obj, "apiVersion"));
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	struct vctx c;
	const json_t *entry;
	char key[512];

	if (api == NULL || kind == NULL)
		return cairn_error_set(
		        CAIRN_ENOTFOUND,
		        "could not find schema: the object has no apiVersion or kind");
	snprintf(key, sizeof(key), "%s/%s", api, kind);
	entry = json_object_get(set->index, key);
	if (entry == NULL)
		return cairn_error_set(CAIRN_ENOTFOUND,
		                       "could not find schema for kind '%s' of apiVersion '%s'",
		                       kind, api);
	memset(&c, 0, sizeof(c));
	c.defs = json_array_get(entry, 1);
	c.findings = findings;
	c.count = count;
	cairn_buf_init(&c.ptr, 64 * 1024);
	cairn_buf_init(&c.path, 64 * 1024);
	validate_node(&c, json_array_get(entry, 0), obj);
	cairn_buf_dispose(&c.ptr);
	cairn_buf_dispose(&c.path);
	return c.rc;
}
