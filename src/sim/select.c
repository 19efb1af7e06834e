/*
 * src/sim/select.c - label and field selectors as the API server reads
 * them: "a=b,c!=d,e in (x,y),f notin (z),g,!h" and "metadata.name=x,
 * status.phase!=Running".
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"

#include "sim.h"

enum {
	OP_EQ,
	OP_NE,
	OP_IN,
	OP_NOTIN,
	OP_EXISTS,
	OP_NOTEXISTS
};

struct req {
	int op;
	int field; /* field selector (dotted path) rather than a label */
	char *key;
	char **vals;
	size_t nvals;
};

struct sim_selector {
	struct req *r;
	size_t n;
};

void sim_selector_free(sim_selector *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->r[i].key);
		for (size_t j = 0; j < s->r[i].nvals; j++)
			free(s->r[i].vals[j]);
		free(s->r[i].vals);
	}
	free(s->r);
	free(s);
}

static char *trimmed(const char *b, const char *e)
{
	char *s;

	while (b < e && (*b == ' ' || *b == '\t'))
		b++;
	while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	s = malloc((size_t)(e - b) + 1);
	if (s) {
		memcpy(s, b, (size_t)(e - b));
		s[e - b] = '\0';
	}
	return s;
}

static int add_val(struct req *q, char *v)
{
	char **nv = realloc(q->vals, (q->nvals + 1) * sizeof *nv);

	if (!v || !nv) {
		free(v);
		if (nv)
			q->vals = nv;
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	}
	q->vals = nv;
	q->vals[q->nvals++] = v;
	return 0;
}

/* One requirement from [b, e). */
static int parse_req(struct req *q, const char *b, const char *e, int field)
{
	const char *p;

	memset(q, 0, sizeof *q);
	q->field = field;
	while (b < e && *b == ' ')
		b++;
	if (b < e && *b == '!' && !field) {
		q->op = OP_NOTEXISTS;
		q->key = trimmed(b + 1, e);
		return q->key ? 0 : CAIRN_ENOMEM;
	}
	for (p = b; p < e; p++) {
		if (*p == '!' && p + 1 < e && p[1] == '=') {
			q->op = OP_NE;
			q->key = trimmed(b, p);
			return add_val(q, trimmed(p + 2, e));
		}
		if (*p == '=') {
			q->op = OP_EQ;
			q->key = trimmed(b, p);
			return add_val(q, trimmed(p + (p + 1 < e && p[1] == '=' ? 2 : 1), e));
		}
		if (*p == ' ' && !field) {
			const char *w = p;
			while (w < e && *w == ' ')
				w++;
			int notin = (size_t)(e - w) > 5 && !strncmp(w, "notin", 5);
			int in = (size_t)(e - w) > 2 && !strncmp(w, "in", 2);
			const char *lp = memchr(w, '(', (size_t)(e - w));
			const char *rp = lp ? memchr(lp, ')', (size_t)(e - lp)) : NULL;
			if ((!in && !notin) || !lp || !rp)
				break;
			q->op = notin ? OP_NOTIN : OP_IN;
			q->key = trimmed(b, p);
			for (const char *s = lp + 1; s <= rp;) {
				const char *c = memchr(s, ',', (size_t)(rp - s));
				if (!c)
					c = rp;
				if (add_val(q, trimmed(s, c)))
					return CAIRN_ENOMEM;
				s = c + 1;
			}
			return 0;
		}
	}
	if (field || p < e)
		return cairn_error_set(CAIRN_EINVAL, "unable to parse requirement: '%.*s'",
		                       (int)(e - b), b);
	q->op = OP_EXISTS;
	q->key = trimmed(b, e);
	return q->key ? 0 : CAIRN_ENOMEM;
}

/* Split on commas outside parentheses and parse each requirement. */
static int parse_all(sim_selector *s, const char *text, int field)
{
	const char *b = text, *p;
	int depth = 0;

	if (!text || !*text)
		return 0;
	for (p = text;; p++) {
		if (*p == '(')
			depth++;
		else if (*p == ')')
			depth--;
		if ((*p == ',' && depth == 0) || !*p) {
			struct req *nr;
			int rc;
			if (p == b) {
				if (!*p)
					break;
				b = p + 1;
				continue;
			}
			nr = realloc(s->r, (s->n + 1) * sizeof *nr);
			if (!nr)
				return cairn_error_set(CAIRN_ENOMEM, "out of memory");
			s->r = nr;
			rc = parse_req(&s->r[s->n], b, p, field);
			s->n++;
			if (rc)
				return rc;
			if (!s->r[s->n - 1].key || !*s->r[s->n - 1].key)
				return cairn_error_set(CAIRN_EINVAL,
				                       "unable to parse requirement: '%.*s'",
				                       (int)(p - b), b);
			if (!*p)
				break;
			b = p + 1;
		}
	}
	return 0;
}

/*
 * sim_selector_parse - read a labelSelector and a fieldSelector (either may
 * be NULL or empty). CAIRN_EINVAL on a malformed requirement; *out owned by
 * the caller.
 */
int sim_selector_parse(sim_selector **out, const char *label_sel, const char *field_sel)
{
	sim_selector *s = calloc(1, sizeof *s);
	int rc;

	if (!s)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	rc = parse_all(s, label_sel, 0);
	if (!rc)
		rc = parse_all(s, field_sel, 1);
	if (rc) {
		sim_selector_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

/* The string at a dotted path ("status.phase"), or NULL. */
static const char *field_value(const json_t *obj, const char *path)
{
	char part[256];
	const json_t *v = obj;

	while (*path && v) {
		size_t n = strcspn(path, ".");
		if (n >= sizeof part)
			return NULL;
		memcpy(part, path, n);
		part[n] = '\0';
		v = json_object_get(v, part);
		path += n + (path[n] == '.');
	}
	return json_string_value(v);
}

/* 1 when obj satisfies every requirement. */
int sim_selector_match(const sim_selector *s, const json_t *obj)
{
	const json_t *labels = json_object_get(json_object_get(obj, "metadata"), "labels");

	if (!s)
		return 1;
	for (size_t i = 0; i < s->n; i++) {
		const struct req *q = &s->r[i];
		const char *v = q->field ? field_value(obj, q->key)
		                         : json_string_value(json_object_get(labels, q->key));
		int in = 0;

		if (q->field && !v)
			v = "";
		for (size_t j = 0; v && j < q->nvals; j++)
			in |= !strcmp(v, q->vals[j]);
		switch (q->op) {
		case OP_EQ:
		case OP_IN:
			if (!v || !in)
				return 0;
			break;
		case OP_NE:
		case OP_NOTIN:
			if (v && in)
				return 0;
			break;
		case OP_EXISTS:
			if (!v)
				return 0;
			break;
		default:
			if (v)
				return 0;
		}
	}
	return 1;
}
