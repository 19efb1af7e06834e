/*
 * ignore.c - normalisation before comparing and Argo CD's ignoreDifferences
 * (jsonPointers, jqPathExpressions through libjq, managedFieldsManagers).
 *
 * libjq 1.6 keeps state that is not safe to share between threads (and its
 * compiled programs are not reentrant), so every libjq call made here runs
 * under one process-wide mutex. Expressions are compiled once, at
 * cairn_ignore_compile() time, as `path(EXPR)`: the paths they select are
 * then deleted from our own jansson tree, so numbers jq cannot hold exactly
 * (integers beyond 2^53) are never round-tripped through jq.
 */
#include <fnmatch.h>
#include <jq.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/buf.h"
#include "cairn/error.h"
#include "cairn/hash.h"
#include "cairn/sync.h"
#include "compare_private.h"

/* Limits on what one rule list may hold. */
#define MAX_RULES 1000
#define MAX_ITEMS 256
#define MAX_STRING 4096
/* Paths one jq expression may select in one object before we give up on it. */
#define MAX_JQ_PATHS 10000

static pthread_mutex_t jq_lock = PTHREAD_MUTEX_INITIALIZER;

struct jq_expr {
	char *src;
	jq_state *jq;
};

struct rule {
	char *group, *kind, *name, *ns;
	char **ptrs;
	size_t nptrs;
	struct jq_expr *jq;
	size_t njq;
	char **managers;
	size_t nmgr;
};

struct cairn_ignore {
	struct rule *v;
	size_t n;
};

/* ---- JSON pointers (RFC 6901) -------------------------------------------- */

/* 1 when `p` is a syntactically valid pointer: "" or '/'-led with every
 * '~' followed by '0' or '1'. */
static int pointer_valid(const char *p)
{
	if (p[0] != '\0' && p[0] != '/')
		return 0;
	for (const char *c = p; *c; c++)
		if (*c == '~' && c[1] != '0' && c[1] != '1')
			return 0;
	return 1;
}

/* Decode one reference token of length n into `out` (size >= n+1). */
static void token_decode(char *out, const char *tok, size_t n)
{
	size_t j = 0;

	for (size_t i = 0; i < n; i++) {
		if (tok[i] == '~' && i + 1 < n && (tok[i + 1] == '0' || tok[i + 1] == '1')) {
			out[j++] = tok[i + 1] == '0' ? '~' : '/';
			i++;
		} else {
			out[j++] = tok[i];
		}
	}
	out[j] = '\0';
}

/* An array index token: digits only, no leading zero (RFC 6901). */
static int token_index(const char *t, size_t *idx)
{
	size_t v = 0;

	if (t[0] == '\0' || (t[0] == '0' && t[1] != '\0'))
		return -1;
	for (const char *c = t; *c; c++) {
		if (*c < '0' || *c > '9' || v > 100000000)
			return -1;
		v = v * 10 + (size_t)(*c - '0');
	}
	*idx = v;
	return 0;
}

int sync__pointer_remove(json_t *root, const char *pointer)
{
	json_t *node = root;
	const char *p = pointer;
	char tok[MAX_STRING + 1];

	if (pointer[0] != '/')
		return CAIRN_ENOTFOUND; /* "" would be the whole document: never removed */
	while (*p == '/') {
		const char *next = strchr(p + 1, '/');
		size_t n = next ? (size_t)(next - p - 1) : strlen(p + 1);
		size_t idx;
		int last = next == NULL;

		if (n > MAX_STRING)
			return CAIRN_ENOTFOUND;
		token_decode(tok, p + 1, n);
		if (json_is_object(node)) {
			if (last)
				return json_object_del(node, tok) == 0 ? 0 : CAIRN_ENOTFOUND;
			node = json_object_get(node, tok);
		} else if (json_is_array(node)) {
			if (token_index(tok, &idx) < 0 || idx >= json_array_size(node))
				return CAIRN_ENOTFOUND;
			if (last)
				return json_array_remove(node, idx) == 0 ? 0 : CAIRN_ENOTFOUND;
			node = json_array_get(node, idx);
		} else {
			return CAIRN_ENOTFOUND;
		}
		if (node == NULL)
			return CAIRN_ENOTFOUND;
		p = next;
	}
	return CAIRN_ENOTFOUND;
}

int sync__pointer_append(cairn_buf *buf, const char *key)
{
	int rc = cairn_buf_putc(buf, '/');

	for (const char *c = key; rc == 0 && *c; c++) {
		if (*c == '~')
			rc = cairn_buf_puts(buf, "~0");
		else if (*c == '/')
			rc = cairn_buf_puts(buf, "~1");
		else
			rc = cairn_buf_putc(buf, *c);
	}
	return rc;
}

/* ---- compiling rules ------------------------------------------------------ */

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void rule_free(struct rule *r)
{
	free(r->group);
	free(r->kind);
	free(r->name);
	free(r->ns);
	free_strv(r->ptrs, r->nptrs);
	free_strv(r->managers, r->nmgr);
	pthread_mutex_lock(&jq_lock);
	for (size_t i = 0; i < r->njq; i++)
		if (r->jq[i].jq != NULL)
			jq_teardown(&r->jq[i].jq);
	pthread_mutex_unlock(&jq_lock);
	for (size_t i = 0; i < r->njq; i++)
		free(r->jq[i].src);
	free(r->jq);
}

void cairn_ignore_free(cairn_ignore *ig)
{
	if (ig == NULL)
		return;
	for (size_t i = 0; i < ig->n; i++)
		rule_free(&ig->v[i]);
	free(ig->v);
	free(ig);
}

/* An optional string field of a rule; NULL stays NULL unless `def`. */
static int rule_string(char **out, const json_t *rule, const char *field, const char *def,
                       const char *where, size_t ri)
{
	json_t *v = json_object_get(rule, field);
	const char *s = def;

	if (v != NULL && !json_is_null(v)) {
		if (!json_is_string(v))
			return cairn_error_set(CAIRN_EINVAL,
			                       "%s: ignoreDifferences[%zu].%s is not a string",
			                       where, ri, field);
		s = json_string_value(v);
		if (strlen(s) > MAX_STRING)
			return cairn_error_set(
			        CAIRN_ELIMIT,
			        "%s: ignoreDifferences[%zu].%s is longer than %d bytes", where, ri,
			        field, MAX_STRING);
	}
	*out = NULL;
	if (s != NULL && (*out = strdup(s)) == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	return 0;
}

/* A list-of-strings field of a rule into a new vector. */
static int rule_strings(char ***out, size_t *n, const json_t *rule, const char *field,
                        const char *where, size_t ri)
{
	json_t *v = json_object_get(rule, field), *e;
	size_t i;
	char **vec;

	*out = NULL;
	*n = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return cairn_error_set(CAIRN_EINVAL, "%s: ignoreDifferences[%zu].%s is not a list",
		                       where, ri, field);
	if (json_array_size(v) > MAX_ITEMS)
		return cairn_error_set(CAIRN_ELIMIT,
		                       "%s: ignoreDifferences[%zu].%s has more than %d entries",
		                       where, ri, field, MAX_ITEMS);
	vec = calloc(json_array_size(v) + 1, sizeof(*vec));
	if (vec == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	json_array_foreach(v, i, e)
	{
		if (!json_is_string(e) || json_string_length(e) > MAX_STRING) {
			free_strv(vec, i);
			return cairn_error_set(
			        CAIRN_EINVAL,
			        "%s: ignoreDifferences[%zu].%s[%zu] is not a string of "
			        "at most %d bytes",
			        where, ri, field, i, MAX_STRING);
		}
		if ((vec[i] = strdup(json_string_value(e))) == NULL) {
			free_strv(vec, i);
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		}
	}
	*out = vec;
	*n = json_array_size(v);
	return 0;
}

/* libjq reports compile errors through this callback; keep the first. */
static void jq_error_cb(void *ud, jv msg)
{
	char *first = ud;

	msg = jq_format_error(msg);
	if (first[0] == '\0' && jv_get_kind(msg) == JV_KIND_STRING) {
		/* One line, without libjq's "jq: error: " and the trailing ':'
		 * that introduces its source excerpt. */
		const char *m = jv_string_value(msg);
		size_t n;
		if (strncmp(m, "jq: error: ", 11) == 0)
			m += 11;
		n = strcspn(m, "\n");
		while (n > 0 && (m[n - 1] == ':' || m[n - 1] == ' '))
			n--;
		(void)snprintf(first, 512, "%.*s", (int)n, m);
	}
	jv_free(msg);
}

/* Compile `src` into a fresh jq state (caller holds jq_lock); NULL on error
 * with the message in err. */
static jq_state *jq_try_compile(const char *src, char err[512])
{
	jq_state *jq = jq_init();

	if (jq == NULL) {
		(void)snprintf(err, 512, "out of memory");
		return NULL;
	}
	jq_set_error_cb(jq, jq_error_cb, err);
	if (!jq_compile(jq, src)) {
		if (err[0] == '\0')
			(void)snprintf(err, 512, "syntax error");
		jq_teardown(&jq);
		return NULL;
	}
	return jq;
}

/*
 * 1 when every string literal of jq text `src` is closed. libjq 1.6 leaks
 * memory on an unterminated string, so such text is refused before it gets
 * there. Interpolations ("\\(...)") nest strings in pairs, so counting the
 * unescaped quotes outside comments is enough.
 */
static int jq_strings_closed(const char *src)
{
	int in = 0;

	for (const char *c = src; *c; c++) {
		if (!in && *c == '#') {
			while (c[1] != '\0' && c[1] != '\n')
				c++;
		} else if (in && *c == '\\') {
			if (c[1] == '\0')
				break;
			c++;
		} else if (*c == '"') {
			in = !in;
		}
	}
	return !in;
}

/*
 * Compile one jqPathExpressions entry. It must compile on its own first, so
 * that text such as ".a) | (.b" cannot escape the path(...) wrapper; the
 * newline before ')' keeps a trailing '#' comment from eating it.
 */
static int compile_jq(struct jq_expr *out, const char *src, const char *where, size_t ri, size_t ji)
{
	char err[512] = "";
	cairn_buf wrapped = CAIRN_BUF_INIT(MAX_STRING + 16);
	jq_state *jq;
	int rc = 0;

	if (cairn_buf_printf(&wrapped, "path(%s\n)", src) < 0) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	if (!jq_strings_closed(src)) {
		rc = cairn_error_set(CAIRN_EINVAL,
		                     "jq expression '%s' does not compile (%s: "
		                     "ignoreDifferences[%zu].jqPathExpressions[%zu]): unterminated "
		                     "string",
		                     src, where, ri, ji);
		goto out;
	}
	pthread_mutex_lock(&jq_lock);
	jq = jq_try_compile(src, err);
	if (jq != NULL) {
		jq_teardown(&jq);
		jq = jq_try_compile(wrapped.ptr, err);
	}
	pthread_mutex_unlock(&jq_lock);
	if (jq == NULL) {
		rc = cairn_error_set(CAIRN_EINVAL,
		                     "jq expression '%s' does not compile (%s: "
		                     "ignoreDifferences[%zu].jqPathExpressions[%zu]): %s",
		                     src, where, ri, ji, err);
		goto out;
	}
	out->jq = jq;
	if ((out->src = strdup(src)) == NULL) {
		pthread_mutex_lock(&jq_lock);
		jq_teardown(&out->jq);
		pthread_mutex_unlock(&jq_lock);
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
out:
	cairn_buf_dispose(&wrapped);
	return rc;
}

static const char *const rule_fields[] = {
        "group",
        "kind",
        "name",
        "namespace",
        "jsonPointers",
        "jqPathExpressions",
        "managedFieldsManagers",
};

static int check_fields(const json_t *rule, const char *where, size_t ri)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)rule, key, v)
	{
		size_t i, n = sizeof(rule_fields) / sizeof(rule_fields[0]);

		for (i = 0; i < n; i++)
			if (strcmp(key, rule_fields[i]) == 0)
				break;
		if (i == n)
			return cairn_error_set(CAIRN_EINVAL,
			                       "unknown field '%s' in %s: ignoreDifferences[%zu]",
			                       key, where, ri);
	}
	return 0;
}

static int compile_rule(struct rule *r, const json_t *rule, const char *where, size_t ri)
{
	char **srcs = NULL;
	size_t nsrc = 0;
	int rc;

	if (!json_is_object(rule))
		return cairn_error_set(CAIRN_EINVAL, "%s: ignoreDifferences[%zu] is not a mapping",
		                       where, ri);
	if ((rc = check_fields(rule, where, ri)) < 0 ||
	    (rc = rule_string(&r->group, rule, "group", "", where, ri)) < 0 ||
	    (rc = rule_string(&r->kind, rule, "kind", NULL, where, ri)) < 0 ||
	    (rc = rule_string(&r->name, rule, "name", "", where, ri)) < 0 ||
	    (rc = rule_string(&r->ns, rule, "namespace", "", where, ri)) < 0 ||
	    (rc = rule_strings(&r->ptrs, &r->nptrs, rule, "jsonPointers", where, ri)) < 0 ||
	    (rc = rule_strings(&r->managers, &r->nmgr, rule, "managedFieldsManagers", where, ri)) <
	            0 ||
	    (rc = rule_strings(&srcs, &nsrc, rule, "jqPathExpressions", where, ri)) < 0)
		goto out;
	if (r->kind == NULL || r->kind[0] == '\0') {
		rc = cairn_error_set(CAIRN_EINVAL, "%s: ignoreDifferences[%zu] has no kind", where,
		                     ri);
		goto out;
	}
	for (size_t i = 0; i < r->nptrs; i++)
		if (!pointer_valid(r->ptrs[i])) {
			rc = cairn_error_set(CAIRN_EINVAL,
			                     "'%s' is not a JSON pointer (%s: "
			                     "ignoreDifferences[%zu].jsonPointers[%zu])",
			                     r->ptrs[i], where, ri, i);
			goto out;
		}
	if (nsrc > 0 && (r->jq = calloc(nsrc, sizeof(*r->jq))) == NULL) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nsrc; i++) {
		if ((rc = compile_jq(&r->jq[i], srcs[i], where, ri, i)) < 0)
			goto out;
		r->njq++;
	}
out:
	free_strv(srcs, nsrc);
	return rc;
}

int cairn_ignore_compile(cairn_ignore **out, const json_t *rules, const char *where)
{
	cairn_ignore *ig;
	size_t i;
	int rc = 0;

	if (where == NULL)
		where = "ignoreDifferences";
	if (rules != NULL && !json_is_null(rules) && !json_is_array(rules))
		return cairn_error_set(CAIRN_EINVAL, "%s: ignoreDifferences is not a list", where);
	if (json_array_size(rules) > MAX_RULES)
		return cairn_error_set(CAIRN_ELIMIT, "%s: more than %d ignoreDifferences rules",
		                       where, MAX_RULES);
	if ((ig = calloc(1, sizeof(*ig))) == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	if (json_array_size(rules) > 0 &&
	    (ig->v = calloc(json_array_size(rules), sizeof(*ig->v))) == NULL) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < json_array_size(rules); i++) {
		ig->n++;
		if ((rc = compile_rule(&ig->v[i], json_array_get(rules, i), where, i)) < 0)
			goto out;
	}
out:
	if (rc < 0) {
		cairn_ignore_free(ig);
		return rc;
	}
	*out = ig;
	return 0;
}

/* ---- applying rules -------------------------------------------------------- */

/* Argo CD matches group and kind as globs, name and namespace exactly
 * (empty: any). */
static int rule_matches(const struct rule *r, const json_t *obj)
{
	const char *api = json_string_value(json_object_get(obj, "apiVersion"));
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	json_t *meta = json_object_get(obj, "metadata");
	const char *name = json_string_value(json_object_get(meta, "name"));
	const char *ns = json_string_value(json_object_get(meta, "namespace"));
	char group[254] = "";
	const char *slash;

	if (api != NULL && (slash = strchr(api, '/')) != NULL &&
	    (size_t)(slash - api) < sizeof(group)) {
		memcpy(group, api, (size_t)(slash - api));
		group[slash - api] = '\0';
	}
	if (fnmatch(r->group, group, 0) != 0 || fnmatch(r->kind, kind ? kind : "", 0) != 0)
		return 0;
	if (r->name[0] != '\0' && (name == NULL || strcmp(r->name, name) != 0))
		return 0;
	if (r->ns[0] != '\0' && (ns == NULL || strcmp(r->ns, ns) != 0))
		return 0;
	return 1;
}

/* jq's order on path components: numbers before strings. */
static int component_cmp(const json_t *a, const json_t *b)
{
	if (json_is_integer(a) && json_is_integer(b)) {
		json_int_t x = json_integer_value(a), y = json_integer_value(b);
		return x < y ? -1 : x > y;
	}
	if (json_is_integer(a) != json_is_integer(b))
		return json_is_integer(a) ? -1 : 1;
	return strcmp(json_string_value(a), json_string_value(b));
}

static int path_cmp_desc(const void *pa, const void *pb)
{
	const json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
	size_t na = json_array_size(a), nb = json_array_size(b);

	for (size_t i = 0; i < na && i < nb; i++) {
		int c = component_cmp(json_array_get(a, i), json_array_get(b, i));
		if (c != 0)
			return -c;
	}
	return na < nb ? 1 : na > nb ? -1 : 0;
}

/* Delete the value at a jq path (strings and integer indices) if present. */
static void delete_path(json_t *root, const json_t *path)
{
	json_t *node = root;
	size_t n = json_array_size(path);

	for (size_t i = 0; node != NULL && i < n; i++) {
		json_t *c = json_array_get(path, i);
		int last = i + 1 == n;

		if (json_is_string(c) && json_is_object(node)) {
			if (last)
				json_object_del(node, json_string_value(c));
			else
				node = json_object_get(node, json_string_value(c));
		} else if (json_is_integer(c) && json_is_array(node)) {
			json_int_t k = json_integer_value(c);
			if (k < 0)
				k += (json_int_t)json_array_size(node);
			if (k < 0 || (size_t)k >= json_array_size(node))
				return;
			if (last)
				json_array_remove(node, (size_t)k);
			else
				node = json_array_get(node, (size_t)k);
		} else {
			return;
		}
	}
}

/* One jq path (an array of strings and numbers) as a jansson array; NULL
 * when a component is something else (a slice object). */
static json_t *jv_path_to_json(jv p)
{
	json_t *out = json_array();
	int n = jv_array_length(jv_copy(p));

	for (int i = 0; out != NULL && i < n; i++) {
		jv c = jv_array_get(jv_copy(p), i);
		json_t *e = NULL;

		if (jv_get_kind(c) == JV_KIND_STRING) {
			e = json_string(jv_string_value(c));
		} else if (jv_get_kind(c) == JV_KIND_NUMBER) {
			double d = jv_number_value(c);
			if (d == (double)(json_int_t)d && d > -1e15 && d < 1e15)
				e = json_integer((json_int_t)d);
		}
		jv_free(c);
		if (e == NULL || json_array_append_new(out, e) < 0) {
			json_decref(out);
			out = NULL;
		}
	}
	jv_free(p);
	return out;
}

/*
 * Run `path(EXPR)` over `obj` and collect the selected paths into `paths`.
 * As Argo CD, an expression that fails at run time on this object (e.g.
 * iterating over null) is skipped for it: returns -1 and `paths` is left
 * for the caller to drop. Caller holds jq_lock.
 */
static int jq_collect(jq_state *jq, const char *text, json_t *paths)
{
	jv in = jv_parse(text), r;
	int rc = 0;

	if (!jv_is_valid(in)) {
		jv_free(in);
		return -1;
	}
	jq_start(jq, in, 0);
	for (;;) {
		r = jq_next(jq);
		if (!jv_is_valid(r)) {
			if (jv_invalid_has_msg(jv_copy(r)))
				rc = -1;
			jv_free(r);
			break;
		}
		if (json_array_size(paths) >= MAX_JQ_PATHS) {
			jv_free(r);
			rc = -1;
			break;
		}
		if (jv_get_kind(r) == JV_KIND_ARRAY) {
			json_t *p = jv_path_to_json(r);
			if (p != NULL)
				json_array_append_new(paths, p);
		} else {
			jv_free(r);
		}
	}
	return rc;
}

/* Apply one rule's jq expressions to `obj`: collect every path first
 * against the unchanged object, then delete them deepest/last first. */
static int apply_jq(const struct rule *r, json_t *obj)
{
	char *text = NULL;
	json_t *paths = NULL, *all = NULL;
	int rc = 0;

	if (r->njq == 0)
		return 0;
	text = json_dumps(obj, JSON_COMPACT | JSON_ENCODE_ANY);
	all = json_array();
	if (text == NULL || all == NULL) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < r->njq; i++) {
		if ((paths = json_array()) == NULL) {
			rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
			goto out;
		}
		pthread_mutex_lock(&jq_lock);
		int bad = jq_collect(r->jq[i].jq, text, paths);
		pthread_mutex_unlock(&jq_lock);
		if (bad == 0)
			json_array_extend(all, paths);
		json_decref(paths);
		paths = NULL;
	}
	{
		size_t n = json_array_size(all);
		json_t **v = n ? malloc(n * sizeof(*v)) : NULL;
		if (n > 0 && v == NULL) {
			rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < n; i++)
			v[i] = json_array_get(all, i);
		if (n > 0)
			qsort(v, n, sizeof(*v), path_cmp_desc);
		for (size_t i = 0; i < n; i++)
			delete_path(obj, v[i]);
		free(v);
	}
out:
	free(text);
	json_decref(all);
	return rc;
}

/* A fieldsV1 node owns the whole value when it is a leaf ({}) or lists
 * "." (the element itself is a member of the set). */
static int fset_whole(const json_t *fs)
{
	return json_object_size(fs) == 0 || json_object_get(fs, ".") != NULL;
}

/* 1 when list element `e` carries every field of key object `key`. */
static int key_matches(const json_t *e, const json_t *key)
{
	const char *k;
	json_t *v;

	if (!json_is_object(e) || !json_is_object(key))
		return 0;
	json_object_foreach((json_t *)key, k, v)
	{
		if (!json_equal(json_object_get(e, k), v))
			return 0;
	}
	return 1;
}

/*
 * Remove from `node` what managedFields fieldsV1 set `fs` owns. The
 * encoding: "f:<name>" a field of a map, "k:<json object>" the element of
 * a keyed list whose key fields have those values, "v:<json value>" the
 * element of a set list equal to the value, "i:<n>" a list index; "." in a
 * set means the element itself. Unknown or unparsable keys are skipped.
 */
static void remove_owned(json_t *node, const json_t *fs, int depth)
{
	const char *k;
	json_t *sub;

	if (depth > 64 || !json_is_object(fs))
		return;
	json_object_foreach((json_t *)fs, k, sub)
	{
		if (strncmp(k, "f:", 2) == 0 && json_is_object(node)) {
			json_t *v = json_object_get(node, k + 2);
			if (v == NULL)
				continue;
			if (fset_whole(sub))
				json_object_del(node, k + 2);
			else
				remove_owned(v, sub, depth + 1);
		} else if ((k[0] == 'k' || k[0] == 'v' || k[0] == 'i') && k[1] == ':' &&
		           json_is_array(node)) {
			json_t *want = json_loads(k + 2, JSON_DECODE_ANY, NULL);
			size_t i = json_array_size(node);

			while (want != NULL && i-- > 0) {
				json_t *e = json_array_get(node, i);
				int hit = k[0] == 'k' ? key_matches(e, want)
				          : k[0] == 'v'
				                  ? json_equal(e, want)
				                  : (json_is_integer(want) &&
				                     json_integer_value(want) == (json_int_t)i);
				if (!hit)
					continue;
				if (fset_whole(sub))
					json_array_remove(node, i);
				else
					remove_owned(e, sub, depth + 1);
			}
			json_decref(want);
		}
	}
}

/* Remove what the rule's managers own in `managers_src`'s managedFields. */
static void apply_managers(const struct rule *r, json_t *obj, const json_t *managers_src)
{
	json_t *mf = json_object_get(json_object_get(managers_src, "metadata"), "managedFields");
	json_t *e;
	size_t i;

	if (r->nmgr == 0 || !json_is_array(mf))
		return;
	json_array_foreach(mf, i, e)
	{
		const char *mgr = json_string_value(json_object_get(e, "manager"));
		const char *type = json_string_value(json_object_get(e, "fieldsType"));

		if (mgr == NULL || (type != NULL && strcmp(type, "FieldsV1") != 0))
			continue;
		for (size_t j = 0; j < r->nmgr; j++)
			if (strcmp(mgr, r->managers[j]) == 0) {
				remove_owned(obj, json_object_get(e, "fieldsV1"), 0);
				break;
			}
	}
}

/* ---- normalisation ---------------------------------------------------------- */

int sync__is_secret(const json_t *obj)
{
	const char *api = json_string_value(json_object_get(obj, "apiVersion"));
	const char *kind = json_string_value(json_object_get(obj, "kind"));

	return api != NULL && kind != NULL && strcmp(api, "v1") == 0 && strcmp(kind, "Secret") == 0;
}

/* Fold a Secret's stringData into data as the API server does (each value
 * base64-encoded, overriding a data entry of the same key). */
static int fold_string_data(json_t *obj)
{
	json_t *sd = json_object_get(obj, "stringData"), *data, *v;
	const char *k;

	if (!json_is_object(sd))
		goto out;
	data = json_object_get(obj, "data");
	if (!json_is_object(data)) {
		data = json_object();
		if (data == NULL || json_object_set_new(obj, "data", data) < 0)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	json_object_foreach(sd, k, v)
	{
		const char *s = json_string_value(v);
		size_t n = s ? json_string_length(v) : 0;
		char *enc;

		if (s == NULL)
			continue;
		if ((enc = malloc(cairn_base64_encoded_len(n))) == NULL)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		cairn_base64_encode(enc, (const uint8_t *)s, n);
		if (json_object_set_new(data, k, json_string(enc)) < 0) {
			free(enc);
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		}
		free(enc);
	}
out:
	json_object_del(obj, "stringData");
	return 0;
}

/* Server-set metadata that never counts as a difference. */
static const char *const server_meta[] = {
        "managedFields", "resourceVersion", "uid", "generation", "creationTimestamp", "selfLink",
};
static const char *const server_annotations[] = {
        "kubectl.kubernetes.io/last-applied-configuration",
        "deployment.kubernetes.io/revision",
};

/* Drop labels/annotations maps left empty (or null), as the API does. */
static void drop_empty_maps(json_t *meta)
{
	static const char *const maps[] = {"labels", "annotations"};

	for (size_t i = 0; i < 2; i++) {
		json_t *m = json_object_get(meta, maps[i]);
		if (m != NULL &&
		    (json_is_null(m) || (json_is_object(m) && json_object_size(m) == 0)))
			json_object_del(meta, maps[i]);
	}
}

int sync__normalize_raw(json_t **out, const json_t *obj, const cairn_ignore *ig,
                        const json_t *live_for_managers)
{
	json_t *c, *meta;
	int rc;

	if (!json_is_object(obj))
		return cairn_error_set(CAIRN_EINVAL, "object to compare is not a JSON object");
	if ((c = json_deep_copy(obj)) == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	/* Argo CD 3 ignores the status field of every resource by default. */
	json_object_del(c, "status");
	meta = json_object_get(c, "metadata");
	if (json_is_object(meta)) {
		json_t *ann = json_object_get(meta, "annotations");
		for (size_t i = 0; i < sizeof(server_meta) / sizeof(server_meta[0]); i++)
			json_object_del(meta, server_meta[i]);
		for (size_t i = 0; json_is_object(ann) && i < 2; i++)
			json_object_del(ann, server_annotations[i]);
		drop_empty_maps(meta);
	}
	if (sync__is_secret(obj) && (rc = fold_string_data(c)) < 0)
		goto fail;
	for (size_t i = 0; ig != NULL && i < ig->n; i++) {
		const struct rule *r = &ig->v[i];
		if (!rule_matches(r, c))
			continue;
		for (size_t j = 0; j < r->nptrs; j++)
			(void)sync__pointer_remove(c, r->ptrs[j]);
		if ((rc = apply_jq(r, c)) < 0)
			goto fail;
		apply_managers(r, c, live_for_managers ? live_for_managers : obj);
	}
	if (json_is_object(meta = json_object_get(c, "metadata")))
		drop_empty_maps(meta);
	*out = c;
	return 0;
fail:
	json_decref(c);
	return rc;
}

int cairn_sync_normalize(json_t **out, const json_t *obj, const cairn_ignore *ig,
                         const json_t *live_for_managers)
{
	json_t *c, *data, *v;
	const char *k;
	int rc;

	if ((rc = sync__normalize_raw(&c, obj, ig, live_for_managers)) < 0)
		return rc;
	/* Decided on the input: a rule may have removed kind from the copy. */
	data = json_object_get(c, "data");
	if (sync__is_secret(obj) && json_is_object(data)) {
		json_object_foreach(data, k, v)
		{
			json_object_set_new(data, k, json_string(CAIRN_SECRET_MASK));
		}
	} else if (sync__is_secret(obj) && data != NULL) {
		json_object_set_new(c, "data", json_string(CAIRN_SECRET_MASK));
	}
	*out = c;
	return 0;
}
