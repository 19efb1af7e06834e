/*
 * generate.c - kustomize's configMapGenerator and secretGenerator: data
 * from `envs`, `literals` and `files` read through the cairn_tree,
 * `options` merged with the kustomization's `generatorOptions`, the
 * behaviors create/merge/replace against objects already accumulated, and
 * the content-hash name suffix added once the top-level build is done.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/hash.h"
#include "cairn/render.h"
#include "cairn/util.h"
#include "render_private.h"

/* Most keys one generator may produce. */
#define GEN_KEYS_MAX 10000

/* What one generator entry asks for, after options are merged. */
struct gen {
	int secret;
	const char *name, *ns, *type, *behavior;
	json_t *labels, *annotations; /* owned */
	int hash, immutable;
	json_t *data, *binary; /* owned; binary only for ConfigMaps */
	const char *file;
};

/* Whether `s` (of `len` bytes) is well-formed UTF-8, as Go's utf8.Valid. */
static int utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned c = s[i];
		size_t n;
		unsigned cp;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			return 0;
		if (i + n >= len)
			return 0;
		for (size_t j = 1; j <= n; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return 0;
		i += n + 1;
	}
	return 1;
}

/* kustomize's encodeBase64: an encoding of 70 characters or more is cut
 * into lines of 70, each (the last too) ending in a newline. */
static json_t *wrap_base64(const char *enc)
{
	size_t n = strlen(enc), k = 0;
	char *w;
	json_t *v;

	if (n < 70)
		return json_string(enc);
	if ((w = malloc(n + n / 70 + 2)) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i += 70) {
		size_t c = n - i < 70 ? n - i : 70;
		memcpy(w + k, enc + i, c);
		k += c;
		w[k++] = '\n';
	}
	v = json_stringn(w, k);
	free(w);
	return v;
}

/* Add key -> value (len bytes) to the generator's data; a repeated key is
 * refused, as kustomize does. Secrets and binary ConfigMap values are
 * stored base64-encoded. */
static int gen_put(struct gen *g, const char *key, const char *val, size_t len)
{
	int binary = !utf8_valid((const unsigned char *)val, len);
	json_t *v;

	if (key[0] == '\0')
		return cairn_error_set(CAIRN_EINVAL, "%s '%s' has an empty data key, in %s",
		                       g->secret ? "secret" : "configmap", g->name, g->file);
	if (json_object_get(g->data, key) || json_object_get(g->binary, key))
		return cairn_error_set(CAIRN_EINVAL, "%s '%s' repeats the key '%s', in %s",
		                       g->secret ? "secret" : "configmap", g->name, key, g->file);
	if (json_object_size(g->data) + json_object_size(g->binary) >= GEN_KEYS_MAX)
		return cairn_error_set(CAIRN_ELIMIT, "%s '%s' has more than %d keys, in %s",
		                       g->secret ? "secret" : "configmap", g->name, GEN_KEYS_MAX,
		                       g->file);
	if (g->secret || binary) {
		char *enc = malloc(cairn_base64_encoded_len(len));
		if (enc == NULL)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		cairn_base64_encode(enc, (const uint8_t *)val, len);
		v = wrap_base64(enc);
		free(enc);
	} else {
		v = json_stringn(val, len);
	}
	if (v == NULL ||
	    json_object_set_new(g->secret || !binary ? g->data : g->binary, key, v) < 0)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	return 0;
}

/* Read `rel`, relative to the kustomization's directory, which it may not
 * leave (kustomize's root-only load restriction). */
static int gen_read(cairn_buf *b, cairn_tree *t, const char *dir, const char *rel, const char *file)
{
	char *tmp, *p = NULL;
	size_t len = strlen(dir) + strlen(rel) + 2;
	int rc;

	if (cairn_path_check_relative(rel) < 0)
		return cairn_error_set(CAIRN_EPERM,
		                       "file '%s' leaves the directory of the kustomization, in %s",
		                       rel, file);
	if ((tmp = malloc(len)) == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	snprintf(tmp, len, "%s%s%s", dir, dir[0] ? "/" : "", rel);
	rc = cairn_path_clean(&p, tmp);
	free(tmp);
	if (rc == 0)
		rc = cairn_tree_read(t, b, p, CAIRN_RENDER_FILE_MAX);
	if (rc < 0)
		cairn_error_prefix("file '%s' of %s", rel, file);
	free(p);
	return rc;
}

/*
 * An env file as kustomize reads it: lines (a final CR dropped), a leading
 * BOM and leading white space ignored, blank lines and '#' comments skipped,
 * KEY=VALUE split at the first '=' with the value kept verbatim. A line
 * without '=' takes its value from kustomize's own environment, which a
 * renderer must not depend on: it is refused.
 */
static int gen_env(struct gen *g, const char *text, size_t len, const char *rel)
{
	size_t pos = 0, lineno = 0;
	int rc = 0;

	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		pos = 3;
	while (rc == 0 && pos < len) {
		const char *line = text + pos, *nl = memchr(line, '\n', len - pos), *eq;
		size_t n = nl ? (size_t)(nl - line) : len - pos;
		char *key;
		pos += n + 1;
		lineno++;
		if (n > 0 && line[n - 1] == '\r')
			n--;
		if (!utf8_valid((const unsigned char *)line, n))
			return cairn_error_set(CAIRN_EINVAL,
			                       "line %zu of env file '%s' is not UTF-8", lineno,
			                       rel);
		while (n > 0 && (*line == ' ' || *line == '\t' || *line == '\v' || *line == '\f'))
			line++, n--;
		if (n == 0 || line[0] == '#')
			continue;
		eq = memchr(line, '=', n);
		if (eq == NULL)
			return cairn_error_set(
			        CAIRN_EUNSUPPORTED,
			        "line %zu of env file '%s' has no '=': its value would "
			        "come from kustomize's environment",
			        lineno, rel);
		if (memchr(line, '\0', n) != NULL)
			return cairn_error_set(
			        CAIRN_EINVAL, "line %zu of env file '%s' holds a NUL", lineno, rel);
		key = strndup(line, (size_t)(eq - line));
		if (key == NULL)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		rc = gen_put(g, key, eq + 1, n - (size_t)(eq - line) - 1);
		free(key);
	}
	return rc;
}

/* Every element of the list `field` must be a string; calls fn on each. */
static int gen_each(struct gen *g, const json_t *e, const char *field,
                    int (*fn)(struct gen *, const char *, void *), void *ud)
{
	json_t *l = json_object_get(e, field), *v;
	size_t i;
	int rc;

	if (l == NULL || json_is_null(l))
		return 0;
	if (json_is_string(l) && strcmp(field, "env") == 0)
		return fn(g, json_string_value(l), ud);
	if (!json_is_array(l))
		return cairn_error_set(CAIRN_EINVAL, "'%s' of generator '%s' is not a list, in %s",
		                       field, g->name, g->file);
	json_array_foreach(l, i, v)
	{
		if (!json_is_string(v))
			return cairn_error_set(CAIRN_EINVAL,
			                       "%s[%zu] of generator '%s' is not a string, in %s",
			                       field, i, g->name, g->file);
		if ((rc = fn(g, json_string_value(v), ud)) < 0)
			return rc;
	}
	return 0;
}

struct src_ctx {
	cairn_tree *t;
	const char *dir;
};

static int src_env(struct gen *g, const char *rel, void *ud)
{
	struct src_ctx *c = ud;
	cairn_buf b = CAIRN_BUF_INIT(CAIRN_RENDER_FILE_MAX);
	int rc = gen_read(&b, c->t, c->dir, rel, g->file);

	if (rc == 0)
		rc = gen_env(g, b.ptr ? b.ptr : "", b.len, rel);
	cairn_buf_dispose(&b);
	return rc;
}

/* KEY=VALUE, a value wrapped in matching single or double quotes unwrapped. */
static int src_literal(struct gen *g, const char *lit, void *ud)
{
	const char *eq = strchr(lit, '=');
	size_t vlen;
	char *key;
	int rc;

	(void)ud;
	if (eq == NULL)
		return cairn_error_set(CAIRN_EINVAL,
		                       "literal '%s' of generator '%s' is not key=value, in %s",
		                       lit, g->name, g->file);
	vlen = strlen(eq + 1);
	if ((key = strndup(lit, (size_t)(eq - lit))) == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	if (vlen >= 2 && (eq[1] == '"' || eq[1] == '\'') && eq[vlen] == eq[1])
		rc = gen_put(g, key, eq + 2, vlen - 2);
	else
		rc = gen_put(g, key, eq + 1, vlen);
	free(key);
	return rc;
}

/* PATH (key: its base name) or KEY=PATH. */
static int src_file(struct gen *g, const char *spec, void *ud)
{
	struct src_ctx *c = ud;
	cairn_buf b = CAIRN_BUF_INIT(CAIRN_RENDER_FILE_MAX);
	const char *eq = strchr(spec, '='), *rel = eq ? eq + 1 : spec, *slash;
	char *key;
	int rc;

	slash = strrchr(rel, '/');
	key = eq ? strndup(spec, (size_t)(eq - spec)) : strdup(slash ? slash + 1 : rel);
	if (key == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	rc = gen_read(&b, c->t, c->dir, rel, g->file);
	if (rc == 0)
		rc = gen_put(g, key, b.ptr ? b.ptr : "", b.len);
	free(key);
	cairn_buf_dispose(&b);
	return rc;
}

/* A string map of `opts`[field] merged over `base` into a new object. */
static int merge_map(json_t **out, const json_t *base, const json_t *opts, const char *field,
                     const char *file)
{
	json_t *m = json_object(), *v = json_object_get(opts, field), *x;
	const char *k;

	if (m == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	if (base != NULL)
		json_object_update(m, (json_t *)base);
	if (v != NULL && !json_is_null(v) && !json_is_object(v)) {
		json_decref(m);
		return cairn_error_set(
		        CAIRN_EINVAL, "'%s' of generator options is not a map, in %s", field, file);
	}
	json_object_foreach(v, k, x)
	{
		if (!json_is_string(x)) {
			json_decref(m);
			return cairn_error_set(CAIRN_EINVAL, "%s '%s' is not a string, in %s",
			                       field, k, file);
		}
		json_object_set(m, k, x);
	}
	*out = m;
	return 0;
}

/* Options: the generator's own over the kustomization's generatorOptions;
 * disableNameSuffixHash and immutable hold when either says so. */
static int gen_options(struct gen *g, const json_t *e, const json_t *global)
{
	const json_t *own = json_object_get(e, "options");
	json_t *l = NULL, *a = NULL;
	int rc;

	if ((rc = merge_map(&l, NULL, global, "labels", g->file)) < 0 ||
	    (rc = merge_map(&g->labels, l, own, "labels", g->file)) < 0 ||
	    (rc = merge_map(&a, NULL, global, "annotations", g->file)) < 0 ||
	    (rc = merge_map(&g->annotations, a, own, "annotations", g->file)) < 0)
		goto out;
	g->hash = !json_is_true(json_object_get(global, "disableNameSuffixHash")) &&
	          !json_is_true(json_object_get(own, "disableNameSuffixHash"));
	g->immutable = json_is_true(json_object_get(global, "immutable")) ||
	               json_is_true(json_object_get(own, "immutable"));
out:
	json_decref(l);
	json_decref(a);
	return rc;
}

/* The generated object, fields as kustomize sets them (the emitter sorts). */
static json_t *gen_object(const struct gen *g)
{
	json_t *o = json_object(), *md = json_object();

	if (o == NULL || md == NULL)
		goto fail;
	json_object_set_new(o, "apiVersion", json_string("v1"));
	json_object_set_new(o, "kind", json_string(g->secret ? "Secret" : "ConfigMap"));
	json_object_set_new(md, "name", json_string(g->name));
	if (g->ns && g->ns[0])
		json_object_set_new(md, "namespace", json_string(g->ns));
	if (json_object_size(g->labels))
		json_object_set(md, "labels", g->labels);
	if (json_object_size(g->annotations))
		json_object_set(md, "annotations", g->annotations);
	json_object_set_new(o, "metadata", md);
	md = NULL;
	if (json_object_size(g->data) || g->secret)
		json_object_set(o, "data", g->data);
	if (json_object_size(g->binary))
		json_object_set(o, "binaryData", g->binary);
	if (g->secret)
		json_object_set_new(o, "type", json_string(g->type ? g->type : "Opaque"));
	if (g->immutable)
		json_object_set_new(o, "immutable", json_true());
	return o;
fail:
	json_decref(o);
	json_decref(md);
	return NULL;
}

/* Index of the object of `s` the generator merges into or replaces: same
 * kind, a name it has had, and the generator's namespace when set. */
static long gen_find(const rset *s, const struct gen *g)
{
	const char *kind = g->secret ? "Secret" : "ConfigMap";
	long hit = -1;

	for (size_t i = 0; i < s->n; i++) {
		const char *ns = res_str(s->v[i].obj, "metadata", "namespace");
		size_t j;
		json_t *n;
		int had = 0;
		if (strcmp(res_str(s->v[i].obj, "kind", NULL), kind) != 0)
			continue;
		json_array_foreach(s->v[i].names, j, n) had |=
		        strcmp(json_string_value(n), g->name) == 0;
		if (!had || (g->ns && g->ns[0] && strcmp(g->ns, ns ? ns : "") != 0))
			continue;
		if (hit >= 0)
			return -2;
		hit = (long)i;
	}
	return hit;
}

/* Merge into / replace the existing object `old` (kustomize's
 * appendReplaceOrMerge): its name, namespace, name history and place are
 * kept, labels and annotations merged, data merged (merge) or not; the name
 * takes a hash only when both the old object and the entry want one. */
static int gen_apply(rres *old, json_t *obj, int merge, int hash)
{
	json_t *omd = json_object_get(old->obj, "metadata"), *md = json_object_get(obj, "metadata");
	static const char *const maps[] = {"labels", "annotations", "data", "binaryData"};

	for (size_t i = 0; i < 4; i++) {
		json_t *parent = i < 2 ? md : obj, *oparent = i < 2 ? omd : old->obj;
		json_t *ov = json_object_get(oparent, maps[i]),
		       *nv = json_object_get(parent, maps[i]);
		json_t *m;
		if (!json_is_object(ov) || (i >= 2 && !merge))
			continue;
		if ((m = json_deep_copy(ov)) == NULL)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		if (json_is_object(nv))
			json_object_update(m, nv);
		json_object_set_new(parent, maps[i], m);
	}
	json_object_set(md, "name", json_object_get(omd, "name"));
	if (json_object_get(omd, "namespace"))
		json_object_set(md, "namespace", json_object_get(omd, "namespace"));
	else
		json_object_del(md, "namespace");
	json_decref(old->obj);
	old->obj = json_incref(obj);
	old->hash = old->hash && hash; /* kubectl: either side can turn it off */
	return 0;
}

static int gen_sources(struct gen *g, const json_t *e, cairn_tree *t, const char *dir)
{
	struct src_ctx c = {t, dir};
	int rc;

	if ((rc = gen_each(g, e, "envs", src_env, &c)) < 0 ||
	    (rc = gen_each(g, e, "env", src_env, &c)) < 0 ||
	    (rc = gen_each(g, e, "literals", src_literal, &c)) < 0 ||
	    (rc = gen_each(g, e, "files", src_file, &c)) < 0)
		return rc;
	return 0;
}

/* One generator entry: build its object and add it to, or fold it into, s. */
static int gen_one(rset *s, const json_t *e, int secret, const json_t *global, cairn_tree *t,
                   const char *dir, const char *file)
{
	struct gen g = {.secret = secret, .file = file};
	json_t *obj = NULL;
	long at;
	int rc;

	g.name = res_str(e, "name", NULL);
	g.ns = res_str(e, "namespace", NULL);
	g.type = res_str(e, "type", NULL);
	g.behavior = res_str(e, "behavior", NULL);
	if (!json_is_object(e) || g.name == NULL || g.name[0] == '\0')
		return cairn_error_set(CAIRN_EINVAL, "a %s without a name, in %s",
		                       secret ? "secretGenerator" : "configMapGenerator", file);
	if (g.behavior == NULL || g.behavior[0] == '\0')
		g.behavior = "create";
	if (strcmp(g.behavior, "create") && strcmp(g.behavior, "merge") &&
	    strcmp(g.behavior, "replace"))
		return cairn_error_set(CAIRN_EINVAL,
		                       "behavior '%s' of generator '%s' is not create, merge or "
		                       "replace, in %s",
		                       g.behavior, g.name, file);
	if ((g.data = json_object()) == NULL || (g.binary = json_object()) == NULL) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = gen_options(&g, e, global)) < 0 || (rc = gen_sources(&g, e, t, dir)) < 0)
		goto out;
	if ((obj = gen_object(&g)) == NULL) {
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	at = gen_find(s, &g);
	if (at == -2) {
		rc = cairn_error_set(CAIRN_EINVAL, "generator '%s' matches several objects, in %s",
		                     g.name, file);
	} else if (strcmp(g.behavior, "create") == 0) {
		if (at >= 0)
			rc = cairn_error_set(
			        CAIRN_EINVAL,
			        "%s '%s' already exists: its behavior must be merge or "
			        "replace, in %s",
			        secret ? "Secret" : "ConfigMap", g.name, file);
		else if ((rc = rset_add(s, obj, file)) == 0)
			s->v[s->n - 1].hash = g.hash;
	} else if (at < 0) {
		rc = cairn_error_set(CAIRN_EINVAL,
		                     "generator '%s' has behavior %s but no %s '%s' comes from the "
		                     "resources, in %s",
		                     g.name, g.behavior, secret ? "Secret" : "ConfigMap", g.name,
		                     file);
	} else {
		rc = gen_apply(&s->v[at], obj, strcmp(g.behavior, "merge") == 0, g.hash);
	}
out:
	json_decref(obj);
	json_decref(g.labels);
	json_decref(g.annotations);
	json_decref(g.data);
	json_decref(g.binary);
	return rc;
}

int gen_run(rset *s, cairn_tree *t, const char *dir, const json_t *kz, const char *file)
{
	const json_t *global = json_object_get(kz, "generatorOptions");
	static const char *const fields[] = {"configMapGenerator", "secretGenerator"};

	if (global != NULL && !json_is_null(global) && !json_is_object(global))
		return cairn_error_set(CAIRN_EINVAL, "'generatorOptions' is not a map, in %s",
		                       file);
	for (int f = 0; f < 2; f++) {
		json_t *l = json_object_get(kz, fields[f]), *e;
		size_t i;
		int rc;
		if (l == NULL || json_is_null(l))
			continue;
		if (!json_is_array(l))
			return cairn_error_set(CAIRN_EINVAL, "'%s' is not a list, in %s", fields[f],
			                       file);
		json_array_foreach(l, i, e)
		{
			if ((rc = gen_one(s, e, f == 1, global, t, dir, file)) < 0)
				return rc;
		}
	}
	return 0;
}

/* ---- the name suffix hash -------------------------------------------------- */

/* A string as Go's encoding/json writes it (HTML-safe escapes). */
static int go_string(cairn_buf *b, const char *s)
{
	int rc = cairn_buf_putc(b, '"');

	for (; rc == 0 && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			rc = cairn_buf_printf(b, "\\%c", c);
		else if (c == '\n')
			rc = cairn_buf_puts(b, "\\n");
		else if (c == '\r')
			rc = cairn_buf_puts(b, "\\r");
		else if (c == '\t')
			rc = cairn_buf_puts(b, "\\t");
		else if (c == '\b')
			rc = cairn_buf_puts(b, "\\b");
		else if (c == '\f')
			rc = cairn_buf_puts(b, "\\f");
		else if (c < 0x20 || c == '<' || c == '>' || c == '&')
			rc = cairn_buf_printf(b, "\\u%04x", c);
		else if (c == 0xe2 && (unsigned char)s[1] == 0x80 &&
		         ((unsigned char)s[2] == 0xa8 || (unsigned char)s[2] == 0xa9)) {
			rc = cairn_buf_printf(b, "\\u%04x",
			                      (unsigned char)s[2] == 0xa8 ? 0x2028 : 0x2029);
			s += 2;
		} else
			rc = cairn_buf_putc(b, (char)c);
	}
	return rc == 0 ? cairn_buf_putc(b, '"') : rc;
}

static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A string map as Go writes a map[string]string: keys in byte order. */
static int go_map(cairn_buf *b, const json_t *m)
{
	size_t n = json_object_size(m), i = 0;
	const char **keys = calloc(n ? n : 1, sizeof(*keys));
	const char *k;
	json_t *v;
	int rc;

	if (keys == NULL)
		return CAIRN_ENOMEM;
	json_object_foreach((json_t *)m, k, v) keys[i++] = k;
	qsort(keys, n, sizeof(*keys), key_cmp);
	rc = cairn_buf_putc(b, '{');
	for (i = 0; rc == 0 && i < n; i++) {
		const char *val = json_string_value(json_object_get(m, keys[i]));
		if (i > 0)
			rc = cairn_buf_putc(b, ',');
		if (rc == 0)
			rc = go_string(b, keys[i]);
		if (rc == 0)
			rc = cairn_buf_putc(b, ':');
		if (rc == 0)
			rc = go_string(b, val ? val : "");
	}
	free(keys);
	return rc == 0 ? cairn_buf_putc(b, '}') : rc;
}

/*
 * kustomize's content hash: SHA-256 of the Go JSON encoding of
 * {binaryData?, data, kind, name: "", type (Secrets)}, the first ten hex
 * digits with 0, 1, 3, a and e replaced by g, h, k, m and t (so the suffix
 * never reads as a number and avoids a few letters).
 */
int gen_hash(char out[11], const json_t *obj)
{
	cairn_buf b = CAIRN_BUF_INIT(0);
	const char *kind = res_str(obj, "kind", NULL);
	json_t *bin = json_object_get(obj, "binaryData"), *data = json_object_get(obj, "data");
	json_t *empty = json_object();
	char hex[65];
	int rc = empty ? 0 : CAIRN_ENOMEM;

	if (rc == 0 && json_object_size(bin) > 0) {
		rc = cairn_buf_puts(&b, "{\"binaryData\":");
		if (rc == 0)
			rc = go_map(&b, bin);
		if (rc == 0)
			rc = cairn_buf_puts(&b, ",\"data\":");
	} else if (rc == 0) {
		rc = cairn_buf_puts(&b, "{\"data\":");
	}
	/* a ConfigMap without data hashes "data":"" (kustomize's quirk) */
	if (rc == 0 && !json_is_object(data) && strcmp(kind, "Secret") != 0)
		rc = cairn_buf_puts(&b, "\"\"");
	else if (rc == 0)
		rc = go_map(&b, json_is_object(data) ? data : empty);
	if (rc == 0)
		rc = cairn_buf_printf(&b, ",\"kind\":\"%s\",\"name\":\"\"", kind);
	if (rc == 0 && strcmp(kind, "Secret") == 0) {
		const char *type = res_str(obj, "type", NULL);
		rc = cairn_buf_puts(&b, ",\"type\":");
		if (rc == 0)
			rc = go_string(&b, type ? type : "");
	}
	if (rc == 0)
		rc = cairn_buf_putc(&b, '}');
	if (rc == 0) {
		static const char from[] = "013ae", to[] = "ghkmt";
		cairn_sha256_hex(hex, b.ptr, b.len);
		for (int i = 0; i < 10; i++) {
			const char *p = strchr(from, hex[i]);
			out[i] = p ? to[p - from] : hex[i];
		}
		out[10] = '\0';
	}
	json_decref(empty);
	cairn_buf_dispose(&b);
	return rc < 0 ? cairn_error_set(CAIRN_ENOMEM, "out of memory") : 0;
}

int gen_hash_names(rset *s)
{
	for (size_t i = 0; i < s->n; i++) {
		json_t *md = json_object_get(s->v[i].obj, "metadata"), *name;
		char h[11], *full;
		size_t len;
		if (!s->v[i].hash)
			continue;
		if (gen_hash(h, s->v[i].obj) < 0)
			return CAIRN_ENOMEM;
		len = strlen(res_str(s->v[i].obj, "metadata", "name")) + 12;
		if ((full = malloc(len)) == NULL)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		snprintf(full, len, "%s-%s", res_str(s->v[i].obj, "metadata", "name"), h);
		name = json_string(full);
		free(full);
		if (name == NULL || json_object_set(md, "name", name) < 0 ||
		    json_array_append_new(s->v[i].names, name) < 0)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		s->v[i].hash = 0;
	}
	return 0;
}
