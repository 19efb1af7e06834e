/*
 * subst.c - post-build `${var}` substitution, as Flux's kustomize-controller
 * does it: each object is printed as YAML, the text is substituted, and the
 * result is parsed again, so `replicas: ${REPLICAS}` becomes an integer and
 * `enabled: ${FLAG}` a boolean. The expression forms are those of the
 * envsubst dialect Flux uses (see docs/render.md, "Substitution").
 */
#include <ctype.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/render.h"
#include "cairn/yaml.h"
#include "render_private.h"

#define SUBST_DISABLE_KEY "kustomize.toolkit.fluxcd.io/substitute"

/* What one `${...}` expression asks for, after its name. */
enum subst_op {
	OP_PLAIN,
	OP_DEFAULT,
	OP_DEFAULT_UNSET,
	OP_SUBSTR,
	OP_REPLACE
};

struct subst_expr {
	const char *name;
	size_t name_len;
	enum subst_op op;
	const char *a, *b; /* default text, or replace's substring and replacement */
	size_t a_len, b_len;
	long long pos, len; /* substring; len < 0: to the end */
	size_t end;         /* offset just past the closing brace */
};

static int name_start(char c)
{
	return c == '_' || isalpha((unsigned char)c);
}

static int name_char(char c)
{
	return c == '_' || isalnum((unsigned char)c);
}

/* A decimal number of at most 9 digits at s[*i]; -1 when there is none. */
static long long read_num(const char *s, size_t n, size_t *i)
{
	long long v = 0;
	size_t start = *i;

	while (*i < n && isdigit((unsigned char)s[*i]) && *i - start < 9)
		v = v * 10 + (s[(*i)++] - '0');
	return *i == start ? -1 : v;
}

/*
 * Parse the expression whose "${" starts at s[at]. Returns 1 with `e`
 * filled, 0 when the text is not an expression at all (no valid name: it
 * is then left as it is), or CAIRN_EINVAL for a valid name followed by
 * an operator this dialect does not have or by no closing brace.
 */
static int parse_expr(struct subst_expr *e, const char *s, size_t n, size_t at, const char *what)
{
	size_t i = at + 2, close;
	const char *nl;

	if (i >= n || !name_start(s[i]))
		return 0;
	memset(e, 0, sizeof(*e));
	e->name = s + i;
	while (i < n && name_char(s[i]))
		i++;
	e->name_len = (size_t)(s + i - e->name);
	e->len = -1;
	nl = memchr(s + i, '}', n - i);
	if (nl == NULL)
		return cairn_error_set(CAIRN_EINVAL, "unterminated substitution '${%.*s' in %s",
		                       (int)e->name_len, e->name, what);
	close = (size_t)(nl - s);
	e->end = close + 1;
	if (i == close)
		return 1;
	if (s[i] == ':' && i + 1 < close && (s[i + 1] == '=' || s[i + 1] == '-')) {
		e->op = OP_DEFAULT;
		e->a = s + i + 2;
		e->a_len = close - i - 2;
		return 1;
	}
	if (s[i] == '=' || s[i] == '-') {
		e->op = OP_DEFAULT_UNSET;
		e->a = s + i + 1;
		e->a_len = close - i - 1;
		return 1;
	}
	if (s[i] == ':') {
		i++;
		e->op = OP_SUBSTR;
		e->pos = read_num(s, close, &i);
		if (e->pos >= 0 && i < close && s[i] == ':') {
			i++;
			e->len = read_num(s, close, &i);
			if (e->len < 0)
				e->pos = -1;
		}
		if (e->pos >= 0 && i == close)
			return 1;
	} else if (s[i] == '/' && i + 1 < close && s[i + 1] != '/') {
		const char *slash = memchr(s + i + 1, '/', close - i - 1);

		e->op = OP_REPLACE;
		e->a = s + i + 1;
		e->a_len = slash ? (size_t)(slash - e->a) : close - i - 1;
		e->b = slash ? slash + 1 : s + close;
		e->b_len = (size_t)(s + close - e->b);
		if (e->a_len > 0)
			return 1;
	}
	return cairn_error_set(CAIRN_EINVAL, "unsupported substitution '%.*s' in %s",
	                       (int)(close + 1 - at), s + at, what);
}

/* The variable's value, or NULL when it is not defined. */
static const char *lookup(const json_t *vars, const struct subst_expr *e)
{
	char name[256];
	const json_t *v;

	if (vars == NULL || e->name_len >= sizeof(name))
		return NULL;
	memcpy(name, e->name, e->name_len);
	name[e->name_len] = '\0';
	v = json_object_get(vars, name);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Append the value of one parsed expression. */
static int expand(cairn_buf *out, const struct subst_expr *e, const json_t *vars, unsigned flags,
                  const char *what)
{
	const char *v = lookup(vars, e);
	size_t vl;

	if (e->op == OP_DEFAULT && (v == NULL || *v == '\0'))
		return cairn_buf_put(out, e->a, e->a_len);
	if (e->op == OP_DEFAULT_UNSET && v == NULL)
		return cairn_buf_put(out, e->a, e->a_len);
	if (v == NULL) {
		if (flags & CAIRN_RENDER_SUBST_LENIENT)
			return 0;
		return cairn_error_set(CAIRN_EINVAL, "variable '%.*s' is not defined, in %s",
		                       (int)e->name_len, e->name, what);
	}
	vl = strlen(v);
	if (e->op == OP_SUBSTR) {
		size_t p = (size_t)e->pos < vl ? (size_t)e->pos : vl;
		size_t l = vl - p;

		if (e->len >= 0 && (size_t)e->len < l)
			l = (size_t)e->len;
		return cairn_buf_put(out, v + p, l);
	}
	if (e->op == OP_REPLACE) {
		const char *hit = NULL;
		int rc;

		for (size_t i = 0; !hit && e->a_len <= vl && i <= vl - e->a_len; i++)
			if (memcmp(v + i, e->a, e->a_len) == 0)
				hit = v + i;
		if (hit == NULL)
			return cairn_buf_put(out, v, vl);
		if ((rc = cairn_buf_put(out, v, (size_t)(hit - v))) < 0 ||
		    (rc = cairn_buf_put(out, e->b, e->b_len)) < 0)
			return rc;
		return cairn_buf_puts(out, hit + e->a_len);
	}
	return cairn_buf_put(out, v, vl);
}

int cairn_render_subst_text(cairn_buf *out, const char *text, size_t len, const json_t *vars,
                            unsigned flags, const char *what)
{
	cairn_buf tmp = CAIRN_BUF_INIT(out->max);
	size_t i = 0, lit = 0;
	int rc = 0;

	if (what == NULL)
		what = "the text";
	while (i < len) {
		struct subst_expr e;
		const char *d = memchr(text + i, '$', len - i);

		if (d == NULL)
			break;
		i = (size_t)(d - text);
		if (i + 2 < len && text[i + 1] == '$' && text[i + 2] == '{') {
			/* `$${` is the escape for a literal `${`. */
			if ((rc = cairn_buf_put(&tmp, text + lit, i - lit)) < 0)
				goto out;
			lit = i + 1;
			i += 3;
			continue;
		}
		if (i + 1 >= len || text[i + 1] != '{') {
			i++;
			continue;
		}
		rc = parse_expr(&e, text, len, i, what);
		if (rc < 0)
			goto out;
		if (rc == 0) {
			i += 2;
			continue;
		}
		if ((rc = cairn_buf_put(&tmp, text + lit, i - lit)) < 0 ||
		    (rc = expand(&tmp, &e, vars, flags, what)) < 0)
			goto out;
		i = lit = e.end;
	}
	if ((rc = cairn_buf_put(&tmp, text + lit, len - lit)) < 0 ||
	    (rc = cairn_buf_put(out, tmp.ptr ? tmp.ptr : "", tmp.len)) < 0)
		goto out;
out:
	cairn_buf_dispose(&tmp);
	return rc < 0 ? rc : 0;
}

/* Whether a key or string anywhere in `j` holds "${" (or "$${"). */
static int has_expr(const json_t *j)
{
	const char *k;
	const json_t *v;
	size_t i;

	if (json_is_string(j))
		return strstr(json_string_value(j), "${") != NULL;
	if (json_is_array(j)) {
		json_array_foreach(j, i, v) if (has_expr(v)) return 1;
	} else if (json_is_object(j)) {
		json_object_foreach((json_t *)j, k, v) if (strstr(k, "${") || has_expr(v)) return 1;
	}
	return 0;
}

/* metadata.<map>.<key> as a string, or NULL. */
static const char *meta_str(const json_t *obj, const char *map, const char *key)
{
	const json_t *v =
	        json_object_get(json_object_get(json_object_get(obj, "metadata"), map), key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Flux's opt-out: the label or annotation substitute: disabled. */
static int disabled(const json_t *obj)
{
	const char *l = meta_str(obj, "labels", SUBST_DISABLE_KEY);
	const char *a = meta_str(obj, "annotations", SUBST_DISABLE_KEY);

	return (l && strcmp(l, "disabled") == 0) || (a && strcmp(a, "disabled") == 0);
}

/* Substitute one object through its YAML text; `*out` gets a new reference. */
static int subst_object(json_t **out, json_t *obj, const json_t *vars, unsigned flags)
{
	cairn_buf yaml = CAIRN_BUF_INIT(CAIRN_RENDER_FILE_MAX);
	cairn_buf done = CAIRN_BUF_INIT(CAIRN_RENDER_FILE_MAX);
	cairn_yaml_opts yo = CAIRN_YAML_OPTS_INIT;
	json_t *docs = NULL;
	const char *ns = res_str(obj, "metadata", "namespace");
	const json_t *kind = json_object_get(obj, "kind");
	char what[512];
	int rc;

	snprintf(what, sizeof(what), "%s '%s%s%s'",
	         json_is_string(kind) ? json_string_value(kind) : "object", ns ? ns : "",
	         ns ? "/" : "",
	         res_str(obj, "metadata", "name") ? res_str(obj, "metadata", "name") : "");
	yo.profile = CAIRN_YAML_KUBECTL;
	if ((rc = cairn_yaml_emit(&yaml, obj)) < 0 ||
	    (rc = cairn_render_subst_text(&done, yaml.ptr, yaml.len, vars, flags, what)) < 0)
		goto out;
	rc = cairn_yaml_load(&docs, NULL, done.ptr ? done.ptr : "", done.len, what, &yo);
	if (rc < 0) {
		cairn_error_prefix("after substitution, %s: ", what);
		goto out;
	}
	if (json_array_size(docs) != 1 || !json_is_object(json_array_get(docs, 0))) {
		rc = cairn_error_set(CAIRN_EINVAL,
		                     "substitution turned %s into something that is not one object",
		                     what);
		goto out;
	}
	*out = json_incref(json_array_get(docs, 0));
out:
	json_decref(docs);
	cairn_buf_dispose(&yaml);
	cairn_buf_dispose(&done);
	return rc;
}

int cairn_render_subst(json_t **out, const json_t *objs, const json_t *vars, unsigned flags)
{
	json_t *res = json_array(), *obj, *nobj;
	size_t i;
	int rc = 0;

	if (res == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	if (!json_is_array(objs)) {
		rc = cairn_error_set(CAIRN_EINVAL, "substitution needs an array of objects");
		goto out;
	}
	json_array_foreach(objs, i, obj)
	{
		if (!json_is_object(obj) || disabled(obj) || !has_expr(obj))
			nobj = json_incref(obj);
		else if ((rc = subst_object(&nobj, obj, vars, flags)) < 0)
			goto out;
		if (json_array_append_new(res, nobj) < 0) {
			rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
			goto out;
		}
	}
	*out = res;
	res = NULL;
out:
	json_decref(res);
	return rc;
}
