/*
 * diff.c - comparing a desired object (as the server would store it) with
 * the live one: leaf-level differences as JSON pointers, and a unified diff
 * of the normalised YAML as `argocd app diff` shows it.
 *
 * Lists are compared by index, not by merge key: the desired side is
 * meant to be the server-side-apply dry-run answer, in which the server has
 * already merged keyed lists into the live order, so an index comparison
 * shows exactly the elements that differ and the pointers stay RFC 6901.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/hash.h"
#include "cairn/sync.h"
#include "cairn/yaml.h"
#include "compare_private.h"

/* Most leaf differences recorded for one object. */
#define MAX_ENTRIES 100000
/* Largest LCS table (cells) before the middle of a diff is shown whole. */
#define MAX_LCS_CELLS ((size_t)16 << 20)
#define CONTEXT 3

/* ---- Secret values ---------------------------------------------------------- */

/* SHA-256 hex of a Secret value: of the decoded bytes when it is valid
 * base64 (so equal data with different padding compares equal), else of
 * the text itself. */
static void secret_hash(char hex[65], const json_t *v)
{
	const char *s = json_string_value(v);
	size_t n = s ? json_string_length(v) : 0, dn = 0;
	uint8_t *dec = s ? malloc(n + 1) : NULL;

	if (s != NULL && dec != NULL && cairn_base64_decode(dec, n + 1, &dn, s, n) == 0)
		cairn_sha256_hex(hex, dec, dn);
	else if (s != NULL)
		cairn_sha256_hex(hex, s, n);
	else
		cairn_sha256_hex(hex, "", 0);
	free(dec);
}

/*
 * Replace every Secret data value on both sides by a run of '+': as Argo
 * CD does, the first distinct value of a key (desired first) becomes
 * CAIRN_SECRET_MASK and each further distinct value (by hash) four '+'
 * longer, so a changed value still shows as a changed line while no byte of
 * it remains.
 */
static int mask_secrets(json_t *wanted, json_t *live)
{
	json_t *sides[2] = {json_object_get(wanted, "data"), json_object_get(live, "data")};
	json_t *keys = json_object(), *v;
	const char *k;
	int rc = 0;

	if (keys == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	/* data that is not a map (the API refuses it) is masked whole. */
	for (int s = 0; s < 2; s++)
		if (sides[s] != NULL && !json_is_object(sides[s])) {
			json_object_set_new(s == 0 ? wanted : live, "data",
			                    json_string(CAIRN_SECRET_MASK));
			sides[s] = NULL;
		}
	for (int s = 0; s < 2; s++)
		if (json_is_object(sides[s]))
			json_object_foreach(sides[s], k, v) json_object_set(keys, k, json_null());
	json_object_foreach(keys, k, v)
	{
		char h[2][65] = {"", ""};
		char mask[16];

		for (int s = 0; s < 2; s++) {
			json_t *val = json_object_get(sides[s], k);
			if (val == NULL)
				continue;
			secret_hash(h[s], val);
			(void)snprintf(mask, sizeof(mask), "%s%s", CAIRN_SECRET_MASK,
			               s == 1 && h[0][0] != '\0' && strcmp(h[0], h[1]) != 0 ? "++++"
			                                                                    : "");
			if (json_object_set_new(sides[s], k, json_string(mask)) < 0)
				rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		}
	}
	json_decref(keys);
	return rc;
}

/* ---- leaf differences ----------------------------------------------------- */

struct walk {
	cairn_diff *d;
	size_t cap;
	cairn_buf path;
};

/* Equal as the API means it: numbers by value (1 and 1.0 are the same). */
static int values_equal(const json_t *a, const json_t *b)
{
	if (json_is_number(a) && json_is_number(b))
		return json_number_value(a) == json_number_value(b) &&
		       (!json_is_integer(a) || !json_is_integer(b) ||
		        json_integer_value(a) == json_integer_value(b));
	return json_equal(a, b);
}

static int add_entry(struct walk *w, const json_t *live, const json_t *wanted)
{
	cairn_diff *d = w->d;
	cairn_diff_entry *e;

	if (d->n >= MAX_ENTRIES)
		return cairn_error_set(CAIRN_ELIMIT, "more than %d differences in %s '%s'",
		                       MAX_ENTRIES, d->id.kind, d->id.name);
	if (d->n == w->cap) {
		size_t ncap = w->cap ? w->cap * 2 : 16;
		cairn_diff_entry *nv = realloc(d->v, ncap * sizeof(*nv));
		if (nv == NULL)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		d->v = nv;
		w->cap = ncap;
	}
	e = &d->v[d->n];
	e->path = strdup(w->path.ptr ? w->path.ptr : "");
	if (e->path == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	e->live = live ? json_deep_copy(live) : NULL;
	e->wanted = wanted ? json_deep_copy(wanted) : NULL;
	d->n++;
	return 0;
}

static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int walk(struct walk *w, const json_t *live, const json_t *wanted);

/* Both sides are objects: every key of either, in byte order. */
static int walk_object(struct walk *w, const json_t *live, const json_t *wanted)
{
	size_t n = json_object_size(live) + json_object_size(wanted), k = 0, mark = w->path.len;
	const char **keys = malloc((n ? n : 1) * sizeof(*keys));
	const char *key;
	json_t *v;
	int rc = 0;

	if (keys == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	json_object_foreach((json_t *)live, key, v) keys[k++] = key;
	json_object_foreach((json_t *)wanted, key, v) if (json_object_get(live, key) == NULL)
	        keys[k++] = key;
	qsort(keys, k, sizeof(*keys), key_cmp);
	for (size_t i = 0; rc == 0 && i < k; i++) {
		if ((rc = sync__pointer_append(&w->path, keys[i])) < 0)
			break;
		rc = walk(w, json_object_get(live, keys[i]), json_object_get(wanted, keys[i]));
		cairn_buf_truncate(&w->path, mark);
	}
	free(keys);
	return rc;
}

static int walk(struct walk *w, const json_t *live, const json_t *wanted)
{
	size_t mark = w->path.len;
	int rc = 0;

	if (live != NULL && wanted != NULL && json_is_object(live) && json_is_object(wanted))
		return walk_object(w, live, wanted);
	if (live != NULL && wanted != NULL && json_is_array(live) && json_is_array(wanted)) {
		size_t n = json_array_size(live) > json_array_size(wanted)
		                   ? json_array_size(live)
		                   : json_array_size(wanted);
		for (size_t i = 0; rc == 0 && i < n; i++) {
			if ((rc = cairn_buf_printf(&w->path, "/%zu", i)) < 0)
				break;
			rc = walk(w, json_array_get(live, i), json_array_get(wanted, i));
			cairn_buf_truncate(&w->path, mark);
		}
		return rc;
	}
	if (live != NULL && wanted != NULL && values_equal(live, wanted))
		return 0;
	return add_entry(w, live, wanted);
}

void cairn_diff_free(cairn_diff *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].path);
		json_decref(d->v[i].live);
		json_decref(d->v[i].wanted);
	}
	free(d->v);
	json_decref(d->live_norm);
	json_decref(d->wanted_norm);
	free(d);
}

int cairn_sync_diff(cairn_diff **out, const json_t *wanted, const json_t *live,
                    const cairn_ignore *ig)
{
	cairn_diff *d = calloc(1, sizeof(*d));
	struct walk w = {d, 0, CAIRN_BUF_INIT(1 << 20)};
	int rc;

	if (d == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	if ((rc = cairn_res_id_of(&d->id, wanted, NULL)) < 0 ||
	    (rc = sync__normalize_raw(&d->wanted_norm, wanted, ig, live)) < 0)
		goto out;
	if (live == NULL) {
		d->missing = 1;
		if (sync__is_secret(wanted))
			rc = mask_secrets(d->wanted_norm, NULL);
		goto out;
	}
	if ((rc = sync__normalize_raw(&d->live_norm, live, ig, live)) < 0)
		goto out;
	/* Decided on the inputs: a rule may have removed kind from the copies. */
	if (sync__is_secret(wanted) || sync__is_secret(live))
		if ((rc = mask_secrets(d->wanted_norm, d->live_norm)) < 0)
			goto out;
	if ((rc = cairn_buf_puts(&w.path, "")) < 0 ||
	    (rc = walk(&w, d->live_norm, d->wanted_norm)) < 0)
		goto out;
	d->equal = d->n == 0;
out:
	cairn_buf_dispose(&w.path);
	if (rc < 0) {
		cairn_diff_free(d);
		return rc;
	}
	*out = d;
	return 0;
}

/* ---- unified diff ----------------------------------------------------------- */

struct lines {
	const char **p;
	size_t *len;
	size_t n;
};

/* Split text into lines (without their newlines); the text is borrowed. */
static int split_lines(struct lines *l, const char *text, size_t size)
{
	size_t cap = 1;

	for (size_t i = 0; i < size; i++)
		cap += text[i] == '\n';
	l->p = malloc(cap * sizeof(*l->p));
	l->len = malloc(cap * sizeof(*l->len));
	l->n = 0;
	if (l->p == NULL || l->len == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	for (size_t i = 0; i < size;) {
		const char *nl = memchr(text + i, '\n', size - i);
		size_t n = nl ? (size_t)(nl - (text + i)) : size - i;
		l->p[l->n] = text + i;
		l->len[l->n++] = n;
		i += n + 1;
	}
	return 0;
}

static int line_eq(const struct lines *a, size_t i, const struct lines *b, size_t j)
{
	return a->len[i] == b->len[j] && memcmp(a->p[i], b->p[j], a->len[i]) == 0;
}

/*
 * The edit script between a and b as a string of ' ', '-', '+' (one per
 * output line): common prefix and suffix first, then an LCS over the middle
 * (deletions before insertions at each change). A middle too large for the
 * table is shown as all removed then all added, which is still a correct
 * diff, only not a minimal one.
 */
static int edit_script(char **out, size_t *outn, const struct lines *a, const struct lines *b)
{
	size_t pre = 0, suf = 0, n, m, k = 0;
	uint32_t *t = NULL;
	char *s = malloc(a->n + b->n + 1);

	if (s == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	while (pre < a->n && pre < b->n && line_eq(a, pre, b, pre))
		pre++;
	while (suf < a->n - pre && suf < b->n - pre &&
	       line_eq(a, a->n - 1 - suf, b, b->n - 1 - suf))
		suf++;
	n = a->n - pre - suf;
	m = b->n - pre - suf;
	memset(s, ' ', pre);
	k = pre;
	if (n > 0 && m > 0 && (n + 1) * (m + 1) <= MAX_LCS_CELLS)
		t = calloc((n + 1) * (m + 1), sizeof(*t));
	if (t != NULL) {
		for (size_t i = n; i-- > 0;)
			for (size_t j = m; j-- > 0;)
				t[i * (m + 1) + j] =
				        line_eq(a, pre + i, b, pre + j)
				                ? t[(i + 1) * (m + 1) + j + 1] + 1
				        : t[(i + 1) * (m + 1) + j] >= t[i * (m + 1) + j + 1]
				                ? t[(i + 1) * (m + 1) + j]
				                : t[i * (m + 1) + j + 1];
		size_t i = 0, j = 0;
		while (i < n || j < m) {
			if (i < n && j < m && line_eq(a, pre + i, b, pre + j)) {
				s[k++] = ' ';
				i++, j++;
			} else if (j >= m ||
			           (i < n && t[(i + 1) * (m + 1) + j] >= t[i * (m + 1) + j + 1])) {
				s[k++] = '-';
				i++;
			} else {
				s[k++] = '+';
				j++;
			}
		}
		free(t);
	} else {
		memset(s + k, '-', n);
		k += n;
		memset(s + k, '+', m);
		k += m;
	}
	memset(s + k, ' ', suf);
	k += suf;
	*out = s;
	*outn = k;
	return 0;
}

/* "@@ -l,c +l,c @@" as GNU diff writes it: ",1" left out, an empty range
 * numbered by the line before it. */
static int hunk_header(cairn_buf *out, size_t a0, size_t an, size_t b0, size_t bn, int color)
{
	int rc = cairn_buf_puts(out, color ? "\033[36m@@ -" : "@@ -");

	if (rc == 0)
		rc = an == 1 ? cairn_buf_printf(out, "%zu", a0 + 1)
		             : cairn_buf_printf(out, "%zu,%zu", an ? a0 + 1 : a0, an);
	if (rc == 0)
		rc = bn == 1 ? cairn_buf_printf(out, " +%zu", b0 + 1)
		             : cairn_buf_printf(out, " +%zu,%zu", bn ? b0 + 1 : b0, bn);
	if (rc == 0)
		rc = cairn_buf_puts(out, color ? " @@\033[0m\n" : " @@\n");
	return rc;
}

static int put_line(cairn_buf *out, char op, const char *p, size_t len, int color)
{
	const char *on = op == '-' ? "\033[31m" : op == '+' ? "\033[32m" : "";
	int rc = 0;

	if (color && op != ' ')
		rc = cairn_buf_puts(out, on);
	if (rc == 0)
		rc = cairn_buf_putc(out, op);
	if (rc == 0)
		rc = cairn_buf_put(out, p, len);
	if (rc == 0 && color && op != ' ')
		rc = cairn_buf_puts(out, "\033[0m");
	if (rc == 0)
		rc = cairn_buf_putc(out, '\n');
	return rc;
}

/* Write the hunks of edit script `s` (3 lines of context, hunks closer
 * than 2*3 unchanged lines joined). */
static int write_hunks(cairn_buf *out, const char *s, size_t n, const struct lines *a,
                       const struct lines *b, int color)
{
	size_t i = 0, ai = 0, bi = 0;
	int rc = 0;

	while (rc == 0 && i < n) {
		size_t start, end, a0, b0, an = 0, bn = 0, ax, bx;

		if (s[i] == ' ') {
			i++, ai++, bi++;
			continue;
		}
		start = i;
		end = i;
		while (end < n) { /* extend over changes separated by short runs */
			size_t run = 0;
			while (end < n && s[end] != ' ')
				end++;
			while (end + run < n && s[end + run] == ' ')
				run++;
			if (end + run >= n || run > 2 * CONTEXT)
				break;
			end += run;
		}
		size_t ctx0 = start < CONTEXT ? start : CONTEXT;
		size_t ctx1 = n - end < CONTEXT ? n - end : CONTEXT;
		for (size_t x = start - ctx0; x < end + ctx1; x++) {
			an += s[x] != '+';
			bn += s[x] != '-';
		}
		a0 = ai - ctx0;
		b0 = bi - ctx0;
		rc = hunk_header(out, a0, an, b0, bn, color);
		ax = a0;
		bx = b0;
		for (size_t x = start - ctx0; rc == 0 && x < end + ctx1; x++) {
			if (s[x] == '+')
				rc = put_line(out, '+', b->p[bx], b->len[bx], color), bx++;
			else if (s[x] == '-')
				rc = put_line(out, '-', a->p[ax], a->len[ax], color), ax++;
			else
				rc = put_line(out, ' ', a->p[ax], a->len[ax], color), ax++, bx++;
		}
		ai = ax;
		bi = bx;
		i = end + ctx1;
	}
	return rc;
}

int cairn_diff_format(cairn_buf *out, const cairn_diff *d, int color)
{
	cairn_buf ya = CAIRN_BUF_INIT(64 << 20), yb = CAIRN_BUF_INIT(64 << 20);
	struct lines la = {0}, lb = {0};
	char *script = NULL;
	size_t nscript = 0, mark = out->len;
	int rc = 0;

	if (d->equal)
		return 0;
	if ((d->live_norm != NULL && (rc = cairn_yaml_emit(&ya, d->live_norm)) < 0) ||
	    (d->wanted_norm != NULL && (rc = cairn_yaml_emit(&yb, d->wanted_norm)) < 0))
		goto out;
	if ((rc = split_lines(&la, ya.ptr ? ya.ptr : "", ya.len)) < 0 ||
	    (rc = split_lines(&lb, yb.ptr ? yb.ptr : "", yb.len)) < 0 ||
	    (rc = edit_script(&script, &nscript, &la, &lb)) < 0)
		goto out;
	/* The header as `argocd app diff` prints it, blank line first. */
	if ((rc = cairn_buf_printf(out, "\n%s===== %s/%s %s/%s ======%s\n", color ? "\033[1m" : "",
	                           d->id.group, d->id.kind, d->id.ns, d->id.name,
	                           color ? "\033[0m" : "")) < 0 ||
	    (rc = cairn_buf_printf(out, "%s--- live\n+++ desired%s\n", color ? "\033[1m" : "",
	                           color ? "\033[0m" : "")) < 0)
		goto out;
	rc = write_hunks(out, script, nscript, &la, &lb, color);
out:
	if (rc < 0)
		cairn_buf_truncate(out, mark);
	free(script);
	free(la.p);
	free(la.len);
	free(lb.p);
	free(lb.len);
	cairn_buf_dispose(&ya);
	cairn_buf_dispose(&yb);
	return rc;
}
