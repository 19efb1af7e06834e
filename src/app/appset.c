/*
 * appset.c - ApplicationSets: the list and git (directories, files)
 * generators, and the two template syntaxes.
 *
 * Default templates replace `{{param}}` (spaces allowed inside the braces)
 * with a flat string parameter and leave unknown names untouched, as
 * Argo CD's fasttemplate rendering does. `goTemplate: true` templates accept
 * only field access, `{{.a.b}}`; a missing key is an error (Argo CD prints
 * "<no value>" unless missingkey=error, which is never what was meant), and
 * functions, pipelines, `if`/`range` or variables are refused with the
 * template field named, rather than rendered wrongly.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <sys/stat.h>

#include "app/app_private.h"
#include "cairn/error.h"

#define PARAM_MAX 4096

struct render {
	const struct app__where *w;
	const json_t *params; /* flat (default) or nested (goTemplate) */
	int go;
	const char *appset;
	size_t element;
};

/* ---- parameters ----------------------------------------------------------- */

/* A JSON scalar as template text; objects and arrays have none. */
static int scalar_text(char *out, size_t size, const json_t *v)
{
	if (json_is_string(v))
		return snprintf(out, size, "%s", json_string_value(v)) < (int)size ? 0 : -1;
	if (json_is_integer(v))
		snprintf(out, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_real(v))
		snprintf(out, size, "%.17g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(out, size, "%s", json_is_true(v) ? "true" : "false");
	else if (json_is_null(v))
		out[0] = '\0';
	else
		return -1;
	return 0;
}

/* Flatten nested values into "a.b" keys for the default syntax. */
static int flatten(json_t *flat, const char *prefix, const json_t *v, int depth)
{
	char key[512], text[PARAM_MAX];
	const char *k;
	json_t *x;

	if (depth > 32)
		return cairn_error_set(CAIRN_ELIMIT, "parameters nested too deep");
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, x)
		{
			snprintf(key, sizeof(key), "%s%s%s", prefix, prefix[0] ? "." : "", k);
			if (flatten(flat, key, x, depth + 1) < 0)
				return CAIRN_ELIMIT;
		}
		return 0;
	}
	if (scalar_text(text, sizeof(text), v) < 0)
		return 0; /* lists have no default-syntax form */
	return json_object_set_new(flat, prefix, json_string(text)) == 0
	               ? 0
	               : cairn_error_set(CAIRN_ENOMEM, "out of memory");
}

/* Argo CD's "normalized" names: lower-case, runs of other characters to '-'. */
static void normalize(char *out, size_t size, const char *s)
{
	size_t o = 0;

	for (; *s && o + 1 < size; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) || c == '-' || c == '.')
			out[o++] = (char)tolower(c);
		else if (o == 0 || out[o - 1] != '-')
			out[o++] = '-';
	}
	out[o] = '\0';
}

/*
 * The path parameters of the git generator for `dir` (and `file` for the
 * files generator), in the nested form; the default syntax uses them
 * flattened, plus "path[N]" segments.
 */
static json_t *path_params(const char *dir, const char *file)
{
	char norm[512];
	const char *base = strrchr(dir, '/');
	json_t *p = json_object(), *seg = json_array();
	const char *s = dir;

	base = base ? base + 1 : dir;
	json_object_set_new(p, "path", json_string(dir));
	json_object_set_new(p, "basename", json_string(base));
	normalize(norm, sizeof(norm), base);
	json_object_set_new(p, "basenameNormalized", json_string(norm));
	if (file != NULL) {
		json_object_set_new(p, "filename", json_string(file));
		normalize(norm, sizeof(norm), file);
		json_object_set_new(p, "filenameNormalized", json_string(norm));
	}
	while (*s) {
		const char *e = strchr(s, '/');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		json_array_append_new(seg, json_stringn(s, n));
		s += n + (e ? 1 : 0);
	}
	json_object_set_new(p, "segments", seg);
	return p;
}

/* Merge path params under `prefix` (pathParamPrefix) into params. */
static void add_path_params(json_t *params, const char *prefix, const char *dir, const char *file)
{
	json_t *pp = path_params(dir, file);

	if (prefix && prefix[0]) {
		json_t *outer = json_object_get(params, prefix);
		if (!json_is_object(outer)) {
			outer = json_object();
			json_object_set_new(params, prefix, outer);
		}
		json_object_set_new(outer, "path", pp);
	} else {
		json_object_set_new(params, "path", pp);
	}
}

/* The nested params seen by the default syntax: flattened, with path[N]. */
static int to_flat(json_t **out, const json_t *nested)
{
	json_t *flat = json_object();
	const char *k;
	json_t *v;
	int rc = 0;

	if (flat == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	json_object_foreach((json_t *)nested, k, v)
	{
		const json_t *pp = strcmp(k, "path") == 0 ? v : json_object_get(v, "path");
		const char *pre = strcmp(k, "path") == 0 ? "" : k;
		if (json_is_object(pp) && json_is_array(json_object_get(pp, "segments"))) {
			char key[512];
			const char *pk;
			json_t *pv;
			size_t i;
			json_object_foreach((json_t *)pp, pk, pv)
			{
				if (strcmp(pk, "segments") == 0) {
					json_t *sv;
					json_array_foreach(pv, i, sv)
					{
						snprintf(key, sizeof(key), "%s%spath[%zu]", pre,
						         pre[0] ? "." : "", i);
						json_object_set(flat, key, sv);
					}
					continue;
				}
				if (strcmp(pk, "path") == 0)
					snprintf(key, sizeof(key), "%s%spath", pre,
					         pre[0] ? "." : "");
				else
					snprintf(key, sizeof(key), "%s%spath.%s", pre,
					         pre[0] ? "." : "", pk);
				json_object_set(flat, key, pv);
			}
			if (pre[0] == '\0')
				continue;
		}
		if ((rc = flatten(flat, k, v, 0)) < 0)
			break;
	}
	if (rc < 0) {
		json_decref(flat);
		return rc;
	}
	*out = flat;
	return 0;
}

/* ---- rendering ------------------------------------------------------------ */

static int go_lookup(char *out, size_t size, const struct render *r, const char *expr,
                     const char *field)
{
	const json_t *v = r->params;
	const char *p = expr + 1;
	char name[256];

	while (*p) {
		size_t n = 0;
		while (p[n] && p[n] != '.')
			n++;
		if (n == 0 || n >= sizeof(name))
			break;
		memcpy(name, p, n);
		name[n] = '\0';
		v = json_object_get(v, name);
		if (v == NULL)
			return app__err(r->w, CAIRN_EINVAL, "",
			                "applicationset '%s' element %zu: template field '%s': no "
			                "parameter '%s'",
			                r->appset, r->element, field, expr);
		p += n;
		if (*p == '.')
			p++;
	}
	if (scalar_text(out, size, v) < 0)
		return app__err(r->w, CAIRN_EINVAL, "",
		                "applicationset '%s' element %zu: template field '%s': parameter "
		                "'%s' is not a scalar",
		                r->appset, r->element, field, expr);
	return 0;
}

static int go_expr_ok(const char *e)
{
	if (e[0] != '.')
		return 0;
	if (e[1] == '\0')
		return 0;
	for (const char *p = e + 1; *p; p++) {
		if (*p == '.') {
			if (p[1] == '.' || p[1] == '\0')
				return 0;
		} else if (!isalnum((unsigned char)*p) && *p != '_') {
			return 0;
		}
	}
	return 1;
}

/* Render one string; `field` names it in errors. */
static int render_string(json_t **out, const struct render *r, const char *s, const char *field)
{
	cairn_buf b = CAIRN_BUF_INIT(1 << 20);
	char expr[512], text[PARAM_MAX];
	int rc = 0;

	while (*s) {
		const char *open = strstr(s, "{{"), *close;
		size_t n;
		if (open == NULL || (close = strstr(open + 2, "}}")) == NULL) {
			rc = cairn_buf_puts(&b, s);
			break;
		}
		if ((rc = cairn_buf_put(&b, s, (size_t)(open - s))) < 0)
			break;
		const char *a = open + 2, *e = close;
		while (a < e && *a == ' ')
			a++;
		while (e > a && e[-1] == ' ')
			e--;
		n = (size_t)(e - a);
		if (n >= sizeof(expr))
			n = sizeof(expr) - 1;
		memcpy(expr, a, n);
		expr[n] = '\0';
		if (r->go) {
			if (!go_expr_ok(expr)) {
				rc = app__err(
				        r->w, CAIRN_EUNSUPPORTED, "",
				        "applicationset '%s': template field '%s': '{{%s}}' is "
				        "not supported (only field access such as "
				        "'{{.path.basename}}'; no functions, pipelines, "
				        "if/range or variables)",
				        r->appset, field, expr);
				break;
			}
			if ((rc = go_lookup(text, sizeof(text), r, expr, field)) < 0)
				break;
			rc = cairn_buf_puts(&b, text);
		} else {
			const json_t *v = json_object_get(r->params, expr);
			if (json_is_string(v))
				rc = cairn_buf_puts(&b, json_string_value(v));
			else
				rc = cairn_buf_put(&b, open, (size_t)(close + 2 - open));
		}
		if (rc < 0)
			break;
		s = close + 2;
	}
	if (rc == 0) {
		*out = json_stringn(b.ptr ? b.ptr : "", b.len);
		if (*out == NULL)
			rc = cairn_error_set(CAIRN_EINVAL,
			                     "applicationset '%s': template field '%s' renders "
			                     "invalid UTF-8",
			                     r->appset, field);
	}
	cairn_buf_dispose(&b);
	return rc;
}

/* Render every string (keys included) of a template copy. */
static int render_value(json_t **out, const struct render *r, const json_t *v, const char *path,
                        int depth)
{
	char sub[512];
	int rc;

	if (depth > 64)
		return cairn_error_set(CAIRN_ELIMIT, "template nested too deep at '%s'", path);
	if (json_is_string(v))
		return render_string(out, r, json_string_value(v), path);
	if (json_is_object(v)) {
		json_t *o = json_object(), *rk = NULL, *rv = NULL;
		const char *k;
		json_t *x;
		json_object_foreach((json_t *)v, k, x)
		{
			snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] ? "." : "", k);
			if ((rc = render_string(&rk, r, k, sub)) < 0 ||
			    (rc = render_value(&rv, r, x, sub, depth + 1)) < 0) {
				json_decref(rk);
				json_decref(o);
				return rc;
			}
			json_object_set_new(o, json_string_value(rk), rv);
			json_decref(rk);
		}
		*out = o;
		return 0;
	}
	if (json_is_array(v)) {
		json_t *a = json_array(), *rv;
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x)
		{
			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
			if ((rc = render_value(&rv, r, x, sub, depth + 1)) < 0) {
				json_decref(a);
				return rc;
			}
			json_array_append_new(a, rv);
		}
		*out = a;
		return 0;
	}
	*out = json_deep_copy(v);
	return 0;
}

/* ---- one element -> one Application -------------------------------------- */

static int emit_app(cairn_app_set *set, const json_t *doc, const json_t *nested,
                    const struct app__where *w, size_t element)
{
	const json_t *spec = json_object_get(doc, "spec");
	const json_t *tmpl = json_object_get(spec, "template");
	const char *name =
	        json_string_value(json_object_get(json_object_get(doc, "metadata"), "name"));
	struct render r = {w, NULL, json_is_true(json_object_get(spec, "goTemplate")), name,
	                   element};
	json_t *flat = NULL, *meta = NULL, *aspec = NULL, *manifest = NULL;
	struct app__where gw = *w;
	cairn_app *a = NULL;
	const json_t *env;
	int rc;

	if (r.go) {
		r.params = nested;
	} else {
		if ((rc = to_flat(&flat, nested)) < 0)
			return rc;
		r.params = flat;
	}
	if ((rc = render_value(&meta, &r, json_object_get(tmpl, "metadata"),
	                       "spec.template.metadata", 0)) < 0 ||
	    (rc = render_value(&aspec, &r, json_object_get(tmpl, "spec"), "spec.template.spec",
	                       0)) < 0)
		goto out;
	manifest = json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "argoproj.io/v1alpha1", "kind",
	                     "Application", "metadata", meta ? meta : json_object(), "spec",
	                     aspec ? aspec : json_object());
	meta = aspec = NULL;
	if (manifest == NULL) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	gw.ptr_prefix = "/spec/template";
	if ((rc = app__parse_application(&a, manifest, &gw)) < 0) {
		cairn_error_prefix("applicationset '%s' element %zu: ", name, element);
		goto out;
	}
	a->line = app__line(w, "");
	env = json_object_get(nested, "env");
	if ((rc = app__strdup(&a->generator, name)) < 0 ||
	    (rc = app__strdup(&a->env_param, json_is_string(env) ? json_string_value(env) : NULL)) <
	            0) {
		app__app_free(a);
		goto out;
	}
	rc = app__set_add_app(set, a, w);
out:
	json_decref(flat);
	json_decref(meta);
	json_decref(aspec);
	json_decref(manifest);
	return rc;
}

/* ---- generators ------------------------------------------------------------- */

static int gen_list(cairn_app_set *set, const json_t *doc, const json_t *list,
                    const struct app__where *w, const char *ptr)
{
	const json_t *elements = json_object_get(list, "elements");
	size_t i;
	json_t *e;
	int rc;

	if (!json_is_array(elements))
		return app__err(w, CAIRN_EINVAL, ptr,
		                "'list.elements' must be a list of mappings of parameters");
	json_array_foreach(elements, i, e)
	{
		if (!json_is_object(e))
			return app__err(w, CAIRN_EINVAL, ptr,
			                "'list.elements[%zu]' must be a mapping of parameters", i);
		if ((rc = emit_app(set, doc, e, w, i)) < 0)
			return rc;
	}
	return 0;
}

static int glob_match(const char *pattern, const char *path)
{
	return fnmatch(pattern, path, strstr(pattern, "**") ? 0 : FNM_PATHNAME) == 0;
}

/* Paths of the listing selected by the path items (later excludes win). */
static int selected(const json_t *items, const char *path)
{
	int in = 0;
	size_t i;
	json_t *it;

	json_array_foreach(items, i, it)
	{
		const char *pat = json_string_value(json_object_get(it, "path"));
		int excl = json_is_true(json_object_get(it, "exclude"));
		if (pat == NULL || !glob_match(pat, path))
			continue;
		if (excl)
			return 0;
		in = 1;
	}
	return in;
}

/* Render the generator's `values` with the element's params; add as values.KEY. */
static int add_values(json_t *params, const json_t *values, const struct app__where *w,
                      const char *appset, int go)
{
	struct render r = {w, NULL, go, appset, 0};
	json_t *flat = NULL, *out = json_object(), *rv;
	const char *k;
	json_t *v;
	int rc = 0;

	if (!go && (rc = to_flat(&flat, params)) < 0) {
		json_decref(out);
		return rc;
	}
	r.params = go ? params : flat;
	json_object_foreach((json_t *)values, k, v)
	{
		if ((rc = render_string(&rv, &r, json_string_value(v), "values")) < 0)
			break;
		json_object_set_new(out, k, rv);
	}
	json_decref(flat);
	if (rc < 0) {
		json_decref(out);
		return rc;
	}
	json_object_set_new(params, "values", out);
	return 0;
}

static int gen_git_file(cairn_app_set *set, const json_t *doc, const json_t *git,
                        const struct app__where *w, const cairn_app_reader *rd, const char *path,
                        size_t *element);

static int gen_git(cairn_app_set *set, const json_t *doc, const json_t *git,
                   const struct app__where *w, const cairn_app_load_opts *opts, const char *ptr)
{
	const char *url = json_string_value(json_object_get(git, "repoURL"));
	const char *rev = json_string_value(json_object_get(git, "revision"));
	const json_t *dirs = json_object_get(git, "directories");
	const json_t *files = json_object_get(git, "files");
	const json_t *spec = json_object_get(doc, "spec");
	const char *prefix = json_string_value(json_object_get(git, "pathParamPrefix"));
	const char *name =
	        json_string_value(json_object_get(json_object_get(doc, "metadata"), "name"));
	char **paths = NULL;
	int *is_dir = NULL;
	size_t n = 0, element = 0;
	int rc;

	if (url == NULL)
		return app__err(w, CAIRN_EINVAL, ptr, "missing field 'git.repoURL'");
	if ((dirs == NULL) == (files == NULL))
		return app__err(w, CAIRN_EINVAL, ptr,
		                "'git' needs exactly one of 'directories' and 'files'");
	if (opts == NULL || opts->reader == NULL)
		return app__err(w, CAIRN_EUNSUPPORTED, ptr,
		                "applicationset '%s': the git generator needs repository access, "
		                "which this command does not have",
		                name);
	if ((rc = opts->reader->list(opts->reader->ctx, url, rev ? rev : "HEAD", &paths, &is_dir,
	                             &n)) < 0) {
		cairn_error_prefix("applicationset '%s': ", name);
		return rc;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (dirs != NULL && is_dir[i] && selected(dirs, paths[i])) {
			json_t *params = json_object();
			add_path_params(params, prefix, paths[i], NULL);
			if (json_is_object(json_object_get(git, "values")))
				rc = add_values(params, json_object_get(git, "values"), w, name,
				                json_is_true(json_object_get(spec, "goTemplate")));
			if (rc == 0)
				rc = emit_app(set, doc, params, w, element++);
			json_decref(params);
		} else if (files != NULL && !is_dir[i] && selected(files, paths[i])) {
			rc = gen_git_file(set, doc, git, w, opts->reader, paths[i], &element);
		}
	}
	app__strlist_free(paths, n);
	free(is_dir);
	return rc;
}

/* One config file of the files generator: an object, or a list of objects. */
static int gen_git_file(cairn_app_set *set, const json_t *doc, const json_t *git,
                        const struct app__where *w, const cairn_app_reader *rd, const char *path,
                        size_t *element)
{
	const char *url = json_string_value(json_object_get(git, "repoURL"));
	const char *rev = json_string_value(json_object_get(git, "revision"));
	const char *prefix = json_string_value(json_object_get(git, "pathParamPrefix"));
	const json_t *spec = json_object_get(doc, "spec");
	cairn_buf b = CAIRN_BUF_INIT(CAIRN_APP_MAX_FILE_BYTES);
	json_t *docs = NULL, *content;
	char dir[1024];
	const char *slash = strrchr(path, '/');
	int rc;

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 0, path);
	if ((rc = rd->read(rd->ctx, url, rev ? rev : "HEAD", path, &b)) < 0 ||
	    (rc = cairn_yaml_load(&docs, NULL, b.ptr ? b.ptr : "", b.len, path, NULL)) < 0)
		goto out;
	content = json_array_get(docs, 0);
	for (size_t i = 0; i < (json_is_array(content) ? json_array_size(content) : 1); i++) {
		const json_t *one = json_is_array(content) ? json_array_get(content, i) : content;
		json_t *params;
		if (!json_is_object(one)) {
			rc = cairn_error_set_at(CAIRN_EINVAL, path, 1, 1,
			                        "git files generator: '%s' must hold a mapping of "
			                        "parameters (or a list of them)",
			                        path);
			goto out;
		}
		params = json_deep_copy(one);
		add_path_params(params, prefix, dir, slash ? slash + 1 : path);
		if (json_is_object(json_object_get(git, "values")))
			rc = add_values(params, json_object_get(git, "values"), w,
			                json_string_value(json_object_get(
			                        json_object_get(doc, "metadata"), "name")),
			                json_is_true(json_object_get(spec, "goTemplate")));
		if (rc == 0)
			rc = emit_app(set, doc, params, w, (*element)++);
		json_decref(params);
		if (rc < 0)
			goto out;
	}
out:
	json_decref(docs);
	cairn_buf_dispose(&b);
	return rc;
}

int app__expand_appset(cairn_app_set *set, const json_t *doc, const struct app__where *w,
                       const cairn_app_load_opts *opts)
{
	const json_t *spec = json_object_get(doc, "spec");
	const json_t *gens = json_object_get(spec, "generators");
	const json_t *opt = json_object_get(spec, "goTemplateOptions");
	char ptr[64];
	size_t i;
	json_t *g;
	int rc;

	if (!json_is_object(json_object_get(spec, "template")))
		return app__err(
		        w, CAIRN_EINVAL, "/spec",
		        "missing field 'spec.template' (expected the Application template)");
	json_array_foreach(opt, i, g)
	{
		const char *o = json_string_value(g);
		if (o == NULL || strcmp(o, "missingkey=error") != 0)
			return app__err(w, CAIRN_EUNSUPPORTED, "/spec/goTemplateOptions",
			                "'spec.goTemplateOptions' value '%s' is not supported "
			                "(missing keys are always errors)",
			                o ? o : "");
	}
	if (json_array_size(gens) == 0)
		return app__err(
		        w, CAIRN_EINVAL, "/spec",
		        "missing field 'spec.generators' (expected a list or git generator)");
	json_array_foreach(gens, i, g)
	{
		snprintf(ptr, sizeof(ptr), "/spec/generators/%zu", i);
		if (json_object_size(g) != 1)
			return app__err(w, CAIRN_EINVAL, ptr,
			                "'spec.generators[%zu]' must hold exactly one generator",
			                i);
		if (json_object_get(g, "list") != NULL)
			rc = gen_list(set, doc, json_object_get(g, "list"), w, ptr);
		else
			rc = gen_git(set, doc, json_object_get(g, "git"), w, opts, ptr);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ---- the local-directory reader ---------------------------------------------- */

struct walk {
	char **paths;
	int *is_dir;
	size_t n, cap;
};

static int walk_add(struct walk *wk, const char *rel, int dir)
{
	if (wk->n >= CAIRN_APP_MAX_OBJECTS)
		return cairn_error_set(CAIRN_ELIMIT, "repository has more than %d entries",
		                       CAIRN_APP_MAX_OBJECTS);
	if (wk->n == wk->cap) {
		size_t cap = wk->cap ? wk->cap * 2 : 64;
		char **p = realloc(wk->paths, cap * sizeof(*p));
		if (p == NULL)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		wk->paths = p;
		int *d = realloc(wk->is_dir, cap * sizeof(*d));
		if (d == NULL)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		wk->is_dir = d;
		wk->cap = cap;
	}
	if ((wk->paths[wk->n] = strdup(rel)) == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	wk->is_dir[wk->n++] = dir;
	return 0;
}

static int walk_dir(struct walk *wk, const char *root, const char *rel, int depth)
{
	char full[4096], sub[4096];
	struct dirent *de;
	DIR *d;
	int rc = 0;

	if (depth > 64)
		return cairn_error_set(CAIRN_ELIMIT, "'%s' nested too deep", rel);
	snprintf(full, sizeof(full), "%s/%s", root, rel);
	if ((d = opendir(full)) == NULL)
		return cairn_error_set_errno(errno, "cannot list '%s'", full);
	while (rc == 0 && (de = readdir(d)) != NULL) {
		struct stat st;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, ".git") == 0)
			continue;
		if (snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "", de->d_name) >=
		            (int)sizeof(sub) ||
		    snprintf(full, sizeof(full), "%s/%s", root, sub) >= (int)sizeof(full))
			continue; /* a path too long to name is not a generator match */
		if (lstat(full, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if ((rc = walk_add(wk, sub, 1)) == 0)
				rc = walk_dir(wk, root, sub, depth + 1);
		} else if (S_ISREG(st.st_mode)) {
			rc = walk_add(wk, sub, 0);
		}
	}
	closedir(d);
	return rc;
}

static int cmp_path(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int dir_list(void *ctx, const char *url, const char *rev, char ***out_paths,
                    int **out_is_dir, size_t *out_count)
{
	struct walk wk = {NULL, NULL, 0, 0};
	const char *root = ctx;
	int rc;

	(void)url;
	(void)rev;
	if ((rc = walk_dir(&wk, root, "", 0)) < 0) {
		app__strlist_free(wk.paths, wk.n);
		free(wk.is_dir);
		return rc;
	}
	/* Sort paths and their flags together: sort "flag+path" keys. */
	for (size_t i = 0; i < wk.n; i++) {
		size_t l = strlen(wk.paths[i]);
		char *k = malloc(l + 2);
		if (k == NULL) {
			app__strlist_free(wk.paths, wk.n);
			free(wk.is_dir);
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		}
		memcpy(k, wk.paths[i], l);
		k[l] = '\0';
		k[l + 1] = wk.is_dir[i] ? 'd' : 'f';
		free(wk.paths[i]);
		wk.paths[i] = k;
	}
	if (wk.n > 1)
		qsort(wk.paths, wk.n, sizeof(*wk.paths), cmp_path);
	for (size_t i = 0; i < wk.n; i++)
		wk.is_dir[i] = wk.paths[i][strlen(wk.paths[i]) + 1] == 'd';
	*out_paths = wk.paths;
	*out_is_dir = wk.is_dir;
	*out_count = wk.n;
	return 0;
}

static int dir_read(void *ctx, const char *url, const char *rev, const char *path, cairn_buf *out)
{
	char *full = NULL;
	int rc;

	(void)url;
	(void)rev;
	if ((rc = cairn_path_join(&full, ctx, path)) < 0)
		return rc;
	rc = cairn_buf_read_file(out, full);
	free(full);
	return rc;
}

cairn_app_reader cairn_app_reader_dir(const char *root)
{
	cairn_app_reader r = {(void *)(uintptr_t)root, dir_list, dir_read};

	return r;
}
