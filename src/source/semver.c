/*
 * semver.c - semantic versions and the constraint language Argo CD accepts
 * in targetRevision (the Masterminds/semver v3 dialect).
 *
 * Every comparison is turned into an interval of versions at parse time
 * ("~1.2" is [1.2.0, 1.3.0), ">1.2" is [1.3.0, inf) because a missing part
 * is a wildcard), so matching is two comparisons per term.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/source.h"

/* Longest constraint text and most terms accepted. */
#define SEMVER_CONSTRAINT_MAX 1024
#define SEMVER_TERMS_MAX 64

/* One comparison as an interval: [lo, hi) with inclusivity flags. */
struct term {
	int has_lo, lo_incl, has_hi, hi_incl, negate, pre; /* pre: names a pre-release */
	cairn_semver lo, hi;
	int group;
};

struct cairn_semver_constraint {
	struct term terms[SEMVER_TERMS_MAX];
	int nterms;
	int ngroups;
};

/* Parse a number without leading zeros (unless strict is off); advances *p. */
static int parse_num(uint64_t *out, const char **p, int strict)
{
	const char *s = *p;
	uint64_t v = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	if (strict && s[0] == '0' && isdigit((unsigned char)s[1]))
		return -1;
	while (isdigit((unsigned char)*s)) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
		s++;
	}
	*out = v;
	*p = s;
	return 0;
}

/* Check pre-release identifiers: dot-separated, [0-9A-Za-z-]+, numeric
 * ones without leading zeros. */
static int check_pre(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0)
		return -1;
	while (i <= n) {
		size_t start = i, digits = 0;
		while (i < n && s[i] != '.') {
			if (!isalnum((unsigned char)s[i]) && s[i] != '-')
				return -1;
			digits += isdigit((unsigned char)s[i]) ? 1 : 0;
			i++;
		}
		if (i == start)
			return -1;
		if (digits == i - start && digits > 1 && s[start] == '0')
			return -1;
		i++;
	}
	return 0;
}

/* Parse "[v]X[.Y[.Z]][-pre][+build]" where parts may be wildcards when
 * `wild` is set. *nparts gets how many numeric parts were given before
 * the first wildcard or the end. */
static int parse_version(cairn_semver *out, int *nparts, const char *s, int loose, int wild)
{
	cairn_semver v;
	uint64_t *parts[3] = {&v.major, &v.minor, &v.patch};
	const char *p = s, *pre, *end;
	int n = 0;

	memset(&v, 0, sizeof(v));
	if (*p == 'v' || *p == 'V')
		p++;
	for (int i = 0; i < 3; i++) {
		if (i > 0) {
			if (*p != '.')
				break;
			p++;
		}
		if (wild && (*p == 'x' || *p == 'X' || *p == '*')) {
			p++;
			for (int j = i + 1; j < 3 && *p == '.'; j++) {
				if (p[1] != 'x' && p[1] != 'X' && p[1] != '*')
					return -1;
				p += 2;
			}
			goto tail;
		}
		if (parse_num(parts[i], &p, !loose) < 0)
			return -1;
		n++;
	}
	if (n < 3 && !loose && !wild)
		return -1;
tail:
	end = p + strcspn(p, "+");
	if (*p == '-') {
		pre = p + 1;
		if (check_pre(pre, (size_t)(end - pre)) < 0 || (size_t)(end - pre) >= sizeof(v.pre))
			return -1;
		memcpy(v.pre, pre, (size_t)(end - pre));
		v.pre[end - pre] = '\0';
	} else if (p != end) {
		return -1;
	}
	if (*end == '+' && check_pre(end + 1, strlen(end + 1)) < 0)
		return -1;
	*out = v;
	if (nparts)
		*nparts = n;
	return 0;
}

int cairn_semver_parse(cairn_semver *out, const char *s, int loose)
{
	if (!s || parse_version(out, NULL, s, loose, 0) < 0)
		return cairn_error_set(CAIRN_EINVAL, "bad version '%s'", s ? s : "");
	return 0;
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

/* Compare pre-release strings per SemVer 2.0.0 section 11. */
static int cmp_pre(const char *a, const char *b)
{
	if (!*a || !*b)
		return !*a && !*b ? 0 : (*a ? -1 : 1);
	while (*a && *b) {
		size_t na = strcspn(a, "."), nb = strcspn(b, ".");
		int da = strspn(a, "0123456789") == na, db = strspn(b, "0123456789") == nb;
		int c;

		if (da && db)
			c = na != nb ? (na < nb ? -1 : 1) : memcmp(a, b, na);
		else if (da || db)
			c = da ? -1 : 1;
		else {
			c = memcmp(a, b, na < nb ? na : nb);
			if (c == 0)
				c = na < nb ? -1 : na > nb;
		}
		if (c)
			return c < 0 ? -1 : 1;
		a += na + (a[na] == '.');
		b += nb + (b[nb] == '.');
	}
	return *a ? 1 : *b ? -1 : 0;
}

int cairn_semver_compare(const cairn_semver *a, const cairn_semver *b)
{
	int c = cmp_u64(a->major, b->major);

	if (!c)
		c = cmp_u64(a->minor, b->minor);
	if (!c)
		c = cmp_u64(a->patch, b->patch);
	if (!c)
		c = cmp_pre(a->pre, b->pre);
	return c;
}

/* The first version past a partial one: "1" -> 2.0.0, "1.2" -> 1.3.0. */
static cairn_semver bump(const cairn_semver *v, int level)
{
	cairn_semver r;

	memset(&r, 0, sizeof(r));
	r.major = v->major;
	if (level <= 1) {
		r.major++;
	} else {
		r.minor = v->minor + 1;
		if (level == 3) {
			r.minor = v->minor;
			r.patch = v->patch + 1;
		}
	}
	return r;
}

static void set_lo(struct term *t, cairn_semver v, int incl)
{
	t->has_lo = 1;
	t->lo = v;
	t->lo_incl = incl;
}

static void set_hi(struct term *t, cairn_semver v, int incl)
{
	t->has_hi = 1;
	t->hi = v;
	t->hi_incl = incl;
}

/* Turn "op version" into an interval; n is the number of parts given. */
static int make_term(struct term *t, const char *op, const cairn_semver *v, int n)
{
	memset(t, 0, sizeof(*t));
	t->pre = v->pre[0] != '\0';
	if (n == 0 && strcmp(op, "!=") != 0 && op[0] != '<' && op[0] != '>')
		return 0; /* "*", "~*", "^x": anything */
	if (n == 0)
		return -1;
	if (!strcmp(op, "=") || !strcmp(op, "!=")) {
		set_lo(t, *v, 1);
		if (n == 3)
			set_hi(t, *v, 1);
		else
			set_hi(t, bump(v, n), 0);
		t->negate = op[0] == '!';
	} else if (!strcmp(op, ">")) {
		if (n == 3)
			set_lo(t, *v, 0);
		else
			set_lo(t, bump(v, n), 1);
	} else if (!strcmp(op, ">=")) {
		set_lo(t, *v, 1);
	} else if (!strcmp(op, "<")) {
		set_hi(t, *v, 0);
	} else if (!strcmp(op, "<=")) {
		if (n == 3)
			set_hi(t, *v, 1);
		else
			set_hi(t, bump(v, n), 0);
	} else if (!strcmp(op, "~") || !strcmp(op, "~>")) {
		set_lo(t, *v, 1);
		set_hi(t, bump(v, n == 1 ? 1 : 2), 0);
	} else if (!strcmp(op, "^")) {
		set_lo(t, *v, 1);
		if (v->major > 0 || n == 1)
			set_hi(t, bump(v, 1), 0);
		else if (v->minor > 0 || n == 2)
			set_hi(t, bump(v, 2), 0);
		else
			set_hi(t, bump(v, 3), 0);
	} else {
		return -1;
	}
	return 0;
}

/* Split the operator off a token: returns its length (0 = bare "="). */
static size_t op_len(const char *s)
{
	static const char *const ops[] = {"!=", ">=", "<=", "~>", "=", ">", "<", "~", "^"};

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strncmp(s, ops[i], strlen(ops[i])) == 0)
			return strlen(ops[i]);
	return 0;
}

/* Read the next token of a group: stops at space, comma or '|'. */
static size_t next_token(const char **p, char *tok, size_t size)
{
	const char *s = *p;
	size_t n;

	while (*s == ' ' || *s == ',' || *s == '\t')
		s++;
	n = strcspn(s, " ,\t|");
	if (n >= size)
		n = size - 1;
	memcpy(tok, s, n);
	tok[n] = '\0';
	*p = s + n;
	return n;
}

static int add_term(struct cairn_semver_constraint *c, const char *op, const char *ver, int group)
{
	cairn_semver v;
	int n;

	if (c->nterms >= SEMVER_TERMS_MAX)
		return -1;
	if (parse_version(&v, &n, ver, 1, 1) < 0)
		return -1;
	if (make_term(&c->terms[c->nterms], *op ? op : "=", &v, n) < 0)
		return -1;
	c->terms[c->nterms++].group = group;
	return 0;
}

/* Parse one "||"-free group starting at *p; hyphen ranges "a - b" become
 * two terms. */
static int parse_group(struct cairn_semver_constraint *c, const char **p, int group)
{
	char tok[256], op[4], ver[256], prev[256] = "";
	int count = 0;

	while (next_token(p, tok, sizeof(tok)) > 0) {
		size_t ol = op_len(tok);

		memcpy(op, tok, ol);
		op[ol] = '\0';
		if (strcmp(tok, "-") == 0) {
			if (!prev[0] || next_token(p, ver, sizeof(ver)) == 0 || op_len(ver))
				return -1;
			c->nterms--; /* replace "=prev" by ">=prev" and "<=ver" */
			if (add_term(c, ">=", prev, group) < 0 || add_term(c, "<=", ver, group) < 0)
				return -1;
			prev[0] = '\0';
			continue;
		}
		if (tok[ol] == '\0' && next_token(p, ver, sizeof(ver)) == 0)
			return -1;
		else if (tok[ol] != '\0')
			snprintf(ver, sizeof(ver), "%s", tok + ol);
		if (add_term(c, op, ver, group) < 0)
			return -1;
		snprintf(prev, sizeof(prev), "%s", ol ? "" : ver);
		count++;
	}
	return count > 0 ? 0 : -1;
}

int cairn_semver_constraint_parse(cairn_semver_constraint **out, const char *s)
{
	struct cairn_semver_constraint *c;
	const char *p = s;
	int group = 0;

	if (!s || !*s)
		return cairn_error_set(CAIRN_EINVAL, "empty version constraint");
	if (strlen(s) > SEMVER_CONSTRAINT_MAX)
		return cairn_error_set(CAIRN_ELIMIT, "version constraint longer than %d bytes",
		                       SEMVER_CONSTRAINT_MAX);
	c = calloc(1, sizeof(*c));
	if (!c)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	for (;;) {
		if (parse_group(c, &p, group) < 0)
			goto bad;
		group++;
		if (*p == '\0')
			break;
		if (p[0] != '|' || p[1] != '|')
			goto bad;
		p += 2;
	}
	c->ngroups = group;
	*out = c;
	return 0;
bad:
	free(c);
	return cairn_error_set(CAIRN_EINVAL, "bad version constraint '%s'", s);
}

static int term_match(const struct term *t, const cairn_semver *v)
{
	int in = 1;

	if (v->pre[0] && !t->pre)
		return 0;
	if (t->has_lo) {
		int c = cairn_semver_compare(v, &t->lo);
		in = c > 0 || (c == 0 && t->lo_incl);
	}
	if (in && t->has_hi) {
		int c = cairn_semver_compare(v, &t->hi);
		in = c < 0 || (c == 0 && t->hi_incl);
	}
	return t->negate ? !in : in;
}

int cairn_semver_constraint_match(const cairn_semver_constraint *c, const cairn_semver *v)
{
	for (int g = 0; g < c->ngroups; g++) {
		int ok = 1;
		for (int i = 0; i < c->nterms && ok; i++)
			if (c->terms[i].group == g && !term_match(&c->terms[i], v))
				ok = 0;
		if (ok)
			return 1;
	}
	return 0;
}

void cairn_semver_constraint_free(cairn_semver_constraint *c)
{
	free(c);
}
