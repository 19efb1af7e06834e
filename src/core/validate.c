/*
 * validate.c - `cairn validate` as a library: walk paths, load each file as
 * `kubectl apply -f` would, flatten `kind: List`, and turn every problem the
 * identity checks and the schemas find into a finding placed at a line and
 * column through the loader's marks.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "cairn/error.h"
#include "cairn/k8s.h"
#include "cairn/validate.h"
#include "cairn/yaml.h"

#define DEFAULT_MAX_FINDINGS 100000
#define DEFAULT_MAX_FILE_BYTES ((size_t)64 << 20)
/* Deeper directory trees than this are refused rather than walked. */
#define MAX_WALK_DEPTH 64
/* Longest JSON pointer we build for an item of a List. */
#define POINTER_MAX 4096

void cairn_validation_init(cairn_validation *v)
{
	memset(v, 0, sizeof(*v));
}

void cairn_validation_dispose(cairn_validation *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < v->count; i++) {
		free(v->findings[i].file);
		free(v->findings[i].message);
		free(v->findings[i].pointer);
	}
	free(v->findings);
	cairn_validation_init(v);
}

/* What one file's checks need to place and record a finding. */
struct run {
	cairn_validation *v;
	const cairn_validate_opts *opts;
	size_t max_findings;
	const char *file;
	const cairn_yaml_marks *marks;
	size_t doc;
	const char *prefix; /* pointer of the object inside its document ("" or "/items/N") */
	size_t first;       /* index of the current object's first finding */
};

/* Record a finding. The position comes from the marks when a pointer is
 * given; the file-level findings (pointer NULL) carry line and column as
 * passed. Returns 0, CAIRN_ENOMEM or CAIRN_ELIMIT. */
static int add_finding(struct run *r, const char *pointer, int line, int column, cairn_severity sev,
                       const char *message)
{
	cairn_validation *v = r->v;
	cairn_finding *f;

	if (v->count >= r->max_findings)
		return cairn_error_set(CAIRN_ELIMIT, "too many findings: more than %zu",
		                       r->max_findings);
	if (v->count == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		cairn_finding *p = realloc(v->findings, cap * sizeof(*p));
		if (p == NULL)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory recording findings");
		v->findings = p;
		v->cap = cap;
	}
	f = &v->findings[v->count];
	memset(f, 0, sizeof(*f));
	f->file = strdup(r->file);
	f->message = strdup(message);
	f->pointer = pointer ? strdup(pointer) : NULL;
	if (f->file == NULL || f->message == NULL || (pointer && f->pointer == NULL)) {
		free(f->file);
		free(f->message);
		free(f->pointer);
		return cairn_error_set(CAIRN_ENOMEM, "out of memory recording findings");
	}
	f->line = line;
	f->column = column;
	if (pointer && r->marks)
		cairn_yaml_marks_lookup(r->marks, r->doc, pointer, &f->line, &f->column);
	f->document = r->doc;
	f->severity = sev;
	v->count++;
	if (sev == CAIRN_SEVERITY_ERROR)
		v->errors++;
	return 0;
}

/* A problem inside the current object: its pointer is relative to the
 * object, so the List prefix goes in front. */
static int add_object_finding(struct run *r, const char *pointer, const char *message)
{
	char full[POINTER_MAX];

	snprintf(full, sizeof(full), "%s%s", r->prefix, pointer);
	return add_finding(r, full, 0, 0, CAIRN_SEVERITY_ERROR, message);
}

static int report_cb(void *ud, const char *pointer, const char *message)
{
	return add_object_finding(ud, pointer, message);
}

/* The identity checks and the schema may both object to one node (a label
 * value that is a boolean, say): the first word is kept, as one problem. */
static int already_reported(const struct run *r, const char *pointer)
{
	size_t plen = strlen(r->prefix);

	for (size_t i = r->first; i < r->v->count; i++) {
		const char *p = r->v->findings[i].pointer;
		if (p && strncmp(p, r->prefix, plen) == 0 && strcmp(p + plen, pointer) == 0)
			return 1;
	}
	return 0;
}

/* Schema checks for one object. An unknown kind is a finding unless the
 * caller chose to ignore missing schemas (kubeconform's wording is kept). */
static int check_schema(struct run *r, const json_t *obj)
{
	cairn_schema_finding *sf = NULL;
	size_t n = 0;
	int rc;

	rc = cairn_schema_validate(r->opts->schemas, obj, &sf, &n);
	if (rc == CAIRN_ENOTFOUND) {
		if (r->opts->ignore_missing_schemas)
			return 0;
		rc = add_object_finding(r, "", cairn_error_last()->message);
		goto out;
	}
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < n && rc == 0; i++)
		if (!already_reported(r, sf[i].pointer))
			rc = add_object_finding(r, sf[i].pointer, sf[i].message);
out:
	cairn_schema_findings_free(sf, n);
	return rc;
}

static int check_object(struct run *r, const json_t *obj)
{
	int rc;

	r->v->objects++;
	r->first = r->v->count;
	rc = cairn_k8s_check_object(obj, report_cb, r);
	if (rc < 0)
		return rc;
	/* Schemas need a usable apiVersion and kind to find the schema. */
	if (r->opts->schemas && json_is_string(json_object_get(obj, "apiVersion")) &&
	    json_is_string(json_object_get(obj, "kind")))
		return check_schema(r, obj);
	return 0;
}

/* Is `name` (a path) a kustomization file by its base name, as kustomize
 * looks them up? */
static int is_kustomization_name(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return strcmp(base, "kustomization.yaml") == 0 || strcmp(base, "kustomization.yml") == 0 ||
	       strcmp(base, "Kustomization") == 0;
}

/* Kustomize's own configuration (a Kustomization or Component, or any
 * document of a file named like one) is build input, not a cluster object:
 * it is read as YAML but not held to object identity rules, as kustomize
 * accepts one without apiVersion, kind or metadata. */
static int is_kustomize_config(const struct run *r, const json_t *doc)
{
	const char *api = json_string_value(json_object_get(doc, "apiVersion"));

	if (api != NULL && strncmp(api, "kustomize.config.k8s.io/", 24) == 0)
		return 1;
	return is_kustomization_name(r->file) && json_is_object(doc) && api == NULL;
}

static int is_list(const json_t *doc)
{
	const json_t *kind = json_object_get(doc, "kind");

	return json_is_object(doc) && json_is_string(kind) &&
	       strcmp(json_string_value(kind), "List") == 0 && json_object_get(doc, "items");
}

/* `kind: List` (as `kubectl get -o yaml` prints) is a wrapper: kubectl
 * applies its items one by one, so each item is checked as an object. */
static int check_list(struct run *r, const json_t *doc)
{
	const json_t *items = json_object_get(doc, "items");
	char prefix[64];
	size_t i;
	json_t *item;
	int rc = 0;

	if (!json_is_array(items)) {
		r->prefix = "";
		return add_object_finding(r, "/items", "items of a List must be a list");
	}
	json_array_foreach(items, i, item)
	{
		snprintf(prefix, sizeof(prefix), "/items/%zu", i);
		r->prefix = prefix;
		rc = check_object(r, item);
		if (rc < 0)
			break;
	}
	r->prefix = "";
	return rc;
}

int cairn_validate_bytes(cairn_validation *v, const char *data, size_t len, const char *filename,
                         const cairn_validate_opts *opts)
{
	static const cairn_validate_opts defaults = CAIRN_VALIDATE_OPTS_INIT;
	cairn_yaml_opts yopts = CAIRN_YAML_OPTS_INIT;
	cairn_yaml_marks *marks = NULL;
	json_t *docs = NULL, *doc;
	struct run r;
	size_t i;
	int rc;

	if (opts == NULL)
		opts = &defaults;
	memset(&r, 0, sizeof(r));
	r.v = v;
	r.opts = opts;
	r.max_findings = opts->max_findings ? opts->max_findings : DEFAULT_MAX_FINDINGS;
	r.file = filename ? filename : "<input>";
	r.prefix = "";
	v->files++;
	yopts.profile = CAIRN_YAML_KUBECTL;
	yopts.max_input_bytes =
	        opts->max_file_bytes ? opts->max_file_bytes : DEFAULT_MAX_FILE_BYTES;
	rc = cairn_yaml_load(&docs, &marks, data, len, r.file, &yopts);
	if (rc == CAIRN_ENOMEM)
		goto out;
	if (rc < 0) {
		/* A YAML error is one finding at its place; the walk goes on. */
		const cairn_error *e = cairn_error_last();
		rc = add_finding(&r, NULL, e->line, e->column, CAIRN_SEVERITY_ERROR, e->message);
		goto out;
	}
	r.marks = marks;
	json_array_foreach(docs, i, doc)
	{
		r.doc = i;
		if (json_is_null(doc))
			continue;
		if (is_kustomize_config(&r, doc)) {
			v->kustomizations++;
			continue;
		}
		rc = is_list(doc) ? check_list(&r, doc) : check_object(&r, doc);
		if (rc < 0)
			goto out;
	}
	rc = 0;
out:
	cairn_yaml_marks_free(marks);
	json_decref(docs);
	return rc;
}

/* Record a problem reading `path` itself (no place in it). */
static int file_problem(cairn_validation *v, const cairn_validate_opts *opts, const char *path,
                        const char *message)
{
	struct run r;

	memset(&r, 0, sizeof(r));
	r.v = v;
	r.opts = opts;
	r.max_findings = opts->max_findings ? opts->max_findings : DEFAULT_MAX_FINDINGS;
	r.file = path;
	r.prefix = "";
	return add_finding(&r, NULL, 0, 0, CAIRN_SEVERITY_ERROR, message);
}

static int validate_file(cairn_validation *v, const char *path, const cairn_validate_opts *opts)
{
	cairn_buf b;
	int rc;

	cairn_buf_init(&b, opts->max_file_bytes ? opts->max_file_bytes : DEFAULT_MAX_FILE_BYTES);
	rc = cairn_buf_read_file(&b, path);
	if (rc == CAIRN_ENOMEM)
		goto out;
	if (rc < 0) {
		v->files++;
		rc = file_problem(v, opts, path, cairn_error_last()->message);
		goto out;
	}
	rc = cairn_validate_bytes(v, b.ptr ? b.ptr : "", b.len, path, opts);
out:
	cairn_buf_dispose(&b);
	return rc;
}

static int has_manifest_suffix(const char *name)
{
	static const char *const suffixes[] = {".yaml", ".yml", ".json"};
	size_t n = strlen(name);

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		size_t m = strlen(suffixes[i]);
		if (n > m && strcmp(name + n - m, suffixes[i]) == 0)
			return 1;
	}
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int validate_path(cairn_validation *v, const char *path, const cairn_validate_opts *opts,
                         int depth);

/* Read a directory's names, sort them so the output does not depend on the
 * file system's order, and visit each. */
static int validate_dir(cairn_validation *v, const char *dir, const cairn_validate_opts *opts,
                        int depth)
{
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int rc = 0;

	if (depth > MAX_WALK_DEPTH)
		return file_problem(v, opts, dir, "directory tree too deep: more than 64 levels");
	d = opendir(dir);
	if (d == NULL) {
		cairn_error_set_errno(errno, "cannot open directory");
		return file_problem(v, opts, dir, cairn_error_last()->message);
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **p = realloc(names, (cap ? cap * 2 : 32) * sizeof(*p));
			if (p == NULL) {
				rc = cairn_error_set(CAIRN_ENOMEM, "out of memory listing '%s'",
				                     dir);
				goto out;
			}
			names = p;
			cap = cap ? cap * 2 : 32;
		}
		names[n] = strdup(de->d_name);
		if (names[n] == NULL) {
			rc = cairn_error_set(CAIRN_ENOMEM, "out of memory listing '%s'", dir);
			goto out;
		}
		n++;
	}
	if (n > 1)
		qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n && rc == 0; i++) {
		cairn_buf child;
		struct stat st;

		cairn_buf_init(&child, 8192);
		rc = cairn_buf_printf(&child, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/",
		                      names[i]);
		if (rc == 0 && lstat(child.ptr, &st) == 0) {
			if (S_ISDIR(st.st_mode))
				rc = validate_dir(v, child.ptr, opts, depth + 1);
			else if (!S_ISLNK(st.st_mode) || stat(child.ptr, &st) == 0)
				if (S_ISREG(st.st_mode) && has_manifest_suffix(names[i]))
					rc = validate_file(v, child.ptr, opts);
		}
		cairn_buf_dispose(&child);
	}
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return rc;
}

static int validate_path(cairn_validation *v, const char *path, const cairn_validate_opts *opts,
                         int depth)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		v->files++;
		cairn_error_set_errno(errno, "cannot read");
		return file_problem(v, opts, path, cairn_error_last()->message);
	}
	if (S_ISDIR(st.st_mode))
		return validate_dir(v, path, opts, depth);
	return validate_file(v, path, opts);
}

int cairn_validate_paths(cairn_validation *v, const char *const *paths, size_t npaths,
                         const cairn_validate_opts *opts)
{
	static const cairn_validate_opts defaults = CAIRN_VALIDATE_OPTS_INIT;
	int rc = 0;

	if (opts == NULL)
		opts = &defaults;
	for (size_t i = 0; i < npaths && rc == 0; i++)
		rc = validate_path(v, paths[i], opts, 0);
	return rc;
}

int cairn_validation_write_text(cairn_buf *out, const cairn_validation *v)
{
	int rc = 0;

	for (size_t i = 0; i < v->count && rc == 0; i++) {
		const cairn_finding *f = &v->findings[i];
		const char *sev = f->severity == CAIRN_SEVERITY_WARNING ? "warning: " : "";

		if (f->line > 0)
			rc = cairn_buf_printf(out, "%s:%d:%d: %s%s\n", f->file, f->line, f->column,
			                      sev, f->message);
		else
			rc = cairn_buf_printf(out, "%s: %s%s\n", f->file, sev, f->message);
	}
	return rc;
}

/* File names need not be UTF-8, and a message cut at its maximum may end
 * inside a character: such bytes become '?' rather than failing the output. */
static json_t *string_lossy(const char *s)
{
	json_t *j = json_string(s);
	char *copy;

	if (j != NULL)
		return j;
	copy = strdup(s);
	if (copy == NULL)
		return NULL;
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

static json_t *finding_json(const cairn_finding *f)
{
	json_t *o =
	        json_pack("{s:o, s:i, s:i, s:o, s:s}", "file", string_lossy(f->file), "line",
	                  f->line, "column", f->column, "message", string_lossy(f->message),
	                  "severity", f->severity == CAIRN_SEVERITY_WARNING ? "warning" : "error");

	if (o && f->pointer && json_object_set_new(o, "pointer", string_lossy(f->pointer)) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int cairn_validation_to_json(json_t **out, const cairn_validation *v)
{
	json_t *root = NULL, *arr = json_array();
	int rc = CAIRN_ENOMEM;

	if (arr == NULL)
		goto out;
	for (size_t i = 0; i < v->count; i++)
		if (json_array_append_new(arr, finding_json(&v->findings[i])) < 0)
			goto out;
	root = json_pack("{s:O, s:I, s:I, s:I}", "findings", arr, "files", (json_int_t)v->files,
	                 "objects", (json_int_t)v->objects, "kustomizations",
	                 (json_int_t)v->kustomizations);
	if (root == NULL)
		goto out;
	*out = root;
	rc = 0;
out:
	json_decref(arr);
	if (rc < 0)
		cairn_error_set(rc, "out of memory building the findings");
	return rc;
}
