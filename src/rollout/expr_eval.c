/*
 * expr_eval.c - evaluating a compiled expression over `result`.
 *
 * Values during evaluation are small structs: scalars by value, strings
 * borrowed from the tree or from `result`, lists and maps as pointers into
 * `result`; nothing is allocated until the final value is copied out.
 * Type mismatches are evaluation errors (the measurement becomes Error),
 * never a silent false or true.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/analysis.h"
#include "cairn/error.h"
#include "expr_private.h"

struct ev {
	cairn_value_kind kind;
	int b;
	int64_t i;
	double f;
	const char *s;
	const cairn_value *ref; /* LIST, MAP */
};

struct ctx {
	const cairn_expr *e;
	const cairn_value *result;
	int *nan_seen;
};

static const char *kind_name(cairn_value_kind k)
{
	static const char *names[] = {"nil", "bool", "int", "float", "string", "list", "map"};

	return names[k];
}

static int eerr(const struct ctx *c, int pos, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int eerr(const struct ctx *c, int pos, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cairn_error_set(CAIRN_EINVAL, "%s at %d in '%s'", msg, pos, c->e->src);
}

static void from_value(struct ev *out, const cairn_value *v)
{
	memset(out, 0, sizeof(*out));
	if (v == NULL) {
		out->kind = CAIRN_VALUE_NIL;
		return;
	}
	out->kind = v->kind;
	out->b = v->b;
	out->i = v->i;
	out->f = v->f;
	out->s = v->s;
	out->ref = v;
}

static int is_num(const struct ev *v)
{
	return v->kind == CAIRN_VALUE_INT || v->kind == CAIRN_VALUE_FLOAT;
}

static double num(const struct ev *v)
{
	return v->kind == CAIRN_VALUE_INT ? (double)v->i : v->f;
}

/* expr's ==: numbers compare by value across int and float (NaN equals
 * nothing), different kinds are unequal, lists and maps are refused. */
static int equal(const struct ctx *c, int pos, const struct ev *l, const struct ev *r, int *out)
{
	if (l->kind == CAIRN_VALUE_LIST || l->kind == CAIRN_VALUE_MAP ||
	    r->kind == CAIRN_VALUE_LIST || r->kind == CAIRN_VALUE_MAP)
		return eerr(c, pos, "cannot compare %s with %s", kind_name(l->kind),
		            kind_name(r->kind));
	if (l->kind == CAIRN_VALUE_INT && r->kind == CAIRN_VALUE_INT)
		*out = l->i == r->i;
	else if (is_num(l) && is_num(r)) {
		*out = num(l) == num(r);
		if (isnan(num(l)) || isnan(num(r)))
			*c->nan_seen = 1;
	} else if (l->kind != r->kind)
		*out = 0;
	else if (l->kind == CAIRN_VALUE_STRING)
		*out = strcmp(l->s, r->s) == 0;
	else if (l->kind == CAIRN_VALUE_BOOL)
		*out = l->b == r->b;
	else
		*out = 1; /* nil == nil */
	return 0;
}

static int eval(const struct ctx *c, const struct node *n, const struct ev *elem, struct ev *out);

static int eval_bool(const struct ctx *c, const struct node *n, const struct ev *elem,
                     const char *what, int *out)
{
	struct ev v;
	int rc = eval(c, n, elem, &v);

	if (rc < 0)
		return rc;
	if (v.kind != CAIRN_VALUE_BOOL)
		return eerr(c, n->pos, "%s needs a bool, got %s", what, kind_name(v.kind));
	*out = v.b;
	return 0;
}

static int compare(const struct ctx *c, const struct node *n, const struct ev *l,
                   const struct ev *r, struct ev *out)
{
	static const char *names[] = {[B_LT] = "<", [B_LE] = "<=", [B_GT] = ">", [B_GE] = ">="};
	int cmp, res = 0;

	out->kind = CAIRN_VALUE_BOOL;
	if (is_num(l) && is_num(r)) {
		double a = num(l), b = num(r);

		if (l->kind == CAIRN_VALUE_INT && r->kind == CAIRN_VALUE_INT) {
			a = 0;
			b = 0;
			cmp = (l->i > r->i) - (l->i < r->i);
		} else if (isnan(a) || isnan(b)) {
			out->b = 0; /* every ordering with NaN is false, as in Go */
			*c->nan_seen = 1;
			return 0;
		} else {
			cmp = (a > b) - (a < b);
		}
	} else if (l->kind == CAIRN_VALUE_STRING && r->kind == CAIRN_VALUE_STRING) {
		cmp = strcmp(l->s, r->s);
	} else {
		return eerr(c, n->pos, "cannot compare %s and %s with '%s'", kind_name(l->kind),
		            kind_name(r->kind), names[n->op]);
	}
	switch (n->op) {
	case B_LT:
		res = cmp < 0;
		break;
	case B_LE:
		res = cmp <= 0;
		break;
	case B_GT:
		res = cmp > 0;
		break;
	default:
		res = cmp >= 0;
		break;
	}
	out->b = res;
	return 0;
}

static int arith(const struct ctx *c, const struct node *n, const struct ev *l, const struct ev *r,
                 struct ev *out)
{
	static const char *names[] = {[B_ADD] = "+", [B_SUB] = "-", [B_MUL] = "*",
	                              [B_DIV] = "/", [B_MOD] = "%", [B_POW] = "**"};
	int ints = l->kind == CAIRN_VALUE_INT && r->kind == CAIRN_VALUE_INT;

	if (!is_num(l) || !is_num(r))
		return eerr(c, n->pos, "'%s' needs numbers, got %s and %s", names[n->op],
		            kind_name(l->kind), kind_name(r->kind));
	memset(out, 0, sizeof(*out));
	if (n->op == B_MOD) {
		if (!ints)
			return eerr(c, n->pos, "'%%' needs integers, got %s and %s",
			            kind_name(l->kind), kind_name(r->kind));
		if (r->i == 0)
			return eerr(c, n->pos, "integer division by zero");
		out->kind = CAIRN_VALUE_INT;
		out->i = (r->i == -1) ? 0 : l->i % r->i;
		return 0;
	}
	if (ints && (n->op == B_ADD || n->op == B_SUB || n->op == B_MUL)) {
		int64_t v;
		int ovf = n->op == B_ADD   ? __builtin_add_overflow(l->i, r->i, &v)
		          : n->op == B_SUB ? __builtin_sub_overflow(l->i, r->i, &v)
		                           : __builtin_mul_overflow(l->i, r->i, &v);

		if (ovf)
			return eerr(c, n->pos, "integer overflow in '%s'", names[n->op]);
		out->kind = CAIRN_VALUE_INT;
		out->i = v;
		return 0;
	}
	out->kind = CAIRN_VALUE_FLOAT;
	switch (n->op) {
	case B_ADD:
		out->f = num(l) + num(r);
		break;
	case B_SUB:
		out->f = num(l) - num(r);
		break;
	case B_MUL:
		out->f = num(l) * num(r);
		break;
	case B_DIV:
		out->f = num(l) / num(r); /* x/0 is +-Inf or NaN, as Go's floats */
		break;
	default:
		out->f = pow(num(l), num(r));
		break;
	}
	return 0;
}

static int eval_binary(const struct ctx *c, const struct node *n, const struct ev *elem,
                       struct ev *out)
{
	struct ev l, r;
	int rc, b;

	if (n->op == B_AND || n->op == B_OR) {
		const char *what = n->op == B_AND ? "'and'" : "'or'";

		if ((rc = eval_bool(c, n->a[0], elem, what, &b)) < 0)
			return rc;
		if (b == (n->op == B_OR)) {
			from_value(out, NULL);
			out->kind = CAIRN_VALUE_BOOL;
			out->b = b;
			return 0;
		}
		if ((rc = eval_bool(c, n->a[1], elem, what, &b)) < 0)
			return rc;
		from_value(out, NULL);
		out->kind = CAIRN_VALUE_BOOL;
		out->b = b;
		return 0;
	}
	if ((rc = eval(c, n->a[0], elem, &l)) < 0 || (rc = eval(c, n->a[1], elem, &r)) < 0)
		return rc;
	switch (n->op) {
	case B_EQ:
	case B_NE:
		if ((rc = equal(c, n->pos, &l, &r, &b)) < 0)
			return rc;
		from_value(out, NULL);
		out->kind = CAIRN_VALUE_BOOL;
		out->b = n->op == B_EQ ? b : !b;
		return 0;
	case B_LT:
	case B_LE:
	case B_GT:
	case B_GE:
		return compare(c, n, &l, &r, out);
	default:
		return arith(c, n, &l, &r, out);
	}
}

static int eval_in(const struct ctx *c, const struct node *n, const struct ev *elem, struct ev *out)
{
	struct ev l, r, item;
	int rc, found = 0, eq;

	if ((rc = eval(c, n->a[0], elem, &l)) < 0)
		return rc;
	if (n->a[1]->kind == N_ARRAY) {
		for (size_t i = 0; i < n->a[1]->n && !found; i++) {
			if ((rc = eval(c, n->a[1]->a[i], elem, &item)) < 0 ||
			    (rc = equal(c, n->pos, &l, &item, &eq)) < 0)
				return rc;
			found = eq;
		}
	} else {
		if ((rc = eval(c, n->a[1], elem, &r)) < 0)
			return rc;
		if (r.kind == CAIRN_VALUE_LIST) {
			for (size_t i = 0; i < r.ref->n && !found; i++) {
				from_value(&item, r.ref->items[i]);
				if ((rc = equal(c, n->pos, &l, &item, &eq)) < 0)
					return rc;
				found = eq;
			}
		} else if (r.kind == CAIRN_VALUE_MAP) {
			if (l.kind != CAIRN_VALUE_STRING)
				return eerr(c, n->pos, "'in' a map needs a string, got %s",
				            kind_name(l.kind));
			for (size_t i = 0; i < r.ref->n && !found; i++)
				found = strcmp(r.ref->keys[i], l.s) == 0;
		} else {
			return eerr(c, n->pos, "'in' needs a list or a map, got %s",
			            kind_name(r.kind));
		}
	}
	from_value(out, NULL);
	out->kind = CAIRN_VALUE_BOOL;
	out->b = n->op ? !found : found;
	return 0;
}

static int eval_access(const struct ctx *c, const struct node *n, const struct ev *elem,
                       struct ev *out)
{
	struct ev base, idx;
	int rc;

	if ((rc = eval(c, n->a[0], elem, &base)) < 0)
		return rc;
	if (n->kind == N_MEMBER) {
		idx.kind = CAIRN_VALUE_STRING;
		idx.s = n->name;
	} else if ((rc = eval(c, n->a[1], elem, &idx)) < 0) {
		return rc;
	}
	if (base.kind == CAIRN_VALUE_MAP) {
		if (idx.kind != CAIRN_VALUE_STRING)
			return eerr(c, n->pos, "a map is indexed by a string, not %s",
			            kind_name(idx.kind));
		for (size_t i = 0; i < base.ref->n; i++) {
			if (strcmp(base.ref->keys[i], idx.s) == 0) {
				from_value(out, base.ref->items[i]);
				return 0;
			}
		}
		from_value(out, NULL); /* a missing key is nil, as in expr */
		return 0;
	}
	if (base.kind == CAIRN_VALUE_LIST && n->kind == N_INDEX) {
		int64_t i, len = (int64_t)base.ref->n;

		if (idx.kind != CAIRN_VALUE_INT)
			return eerr(c, n->pos, "a list is indexed by an int, not %s",
			            kind_name(idx.kind));
		i = idx.i < 0 ? idx.i + len : idx.i;
		if (i < 0 || i >= len)
			return eerr(c, n->pos, "index %lld out of range (%lld item%s)",
			            (long long)idx.i, (long long)len, len == 1 ? "" : "s");
		from_value(out, base.ref->items[i]);
		return 0;
	}
	if (n->kind == N_MEMBER)
		return eerr(c, n->pos, "cannot fetch '%s' from %s", n->name, kind_name(base.kind));
	return eerr(c, n->pos, "cannot index %s", kind_name(base.kind));
}

/* all/any/none: the list must be non-empty — an empty vector means no
 * data, and "all of nothing is true" would pass a gate by accident. */
static int eval_predicate(const struct ctx *c, const struct node *n, const struct ev *elem,
                          struct ev *out)
{
	static const char *names[] = {[F_ALL] = "all", [F_ANY] = "any", [F_NONE] = "none"};
	struct ev list, item;
	int rc, b, res = n->op == F_ALL || n->op == F_NONE;

	if ((rc = eval(c, n->a[0], elem, &list)) < 0)
		return rc;
	if (list.kind != CAIRN_VALUE_LIST)
		return eerr(c, n->pos, "%s() needs a list, got %s", names[n->op],
		            kind_name(list.kind));
	if (list.ref->n == 0)
		return eerr(c, n->pos, "%s() over an empty list", names[n->op]);
	for (size_t i = 0; i < list.ref->n; i++) {
		from_value(&item, list.ref->items[i]);
		if ((rc = eval_bool(c, n->a[1], &item, "the predicate", &b)) < 0)
			return rc;
		if (n->op == F_ALL && !b) {
			res = 0;
			break;
		}
		if (n->op == F_ANY && b) {
			res = 1;
			break;
		}
		if (n->op == F_NONE && b) {
			res = 0;
			break;
		}
	}
	from_value(out, NULL);
	out->kind = CAIRN_VALUE_BOOL;
	out->b = res;
	return 0;
}

static int convert(const struct ctx *c, const struct node *n, const struct ev *a, struct ev *out)
{
	char *end;

	memset(out, 0, sizeof(*out));
	if (n->op == F_ASFLOAT) {
		out->kind = CAIRN_VALUE_FLOAT;
		if (is_num(a)) {
			out->f = num(a);
			return 0;
		}
		if (a->kind == CAIRN_VALUE_STRING && a->s[0] != '\0') {
			out->f = strtod(a->s, &end);
			if (*end == '\0')
				return 0;
		}
		return eerr(c, n->pos, "asFloat() cannot convert %s%s%s%s", kind_name(a->kind),
		            a->kind == CAIRN_VALUE_STRING ? " '" : "",
		            a->kind == CAIRN_VALUE_STRING ? a->s : "",
		            a->kind == CAIRN_VALUE_STRING ? "'" : "");
	}
	out->kind = CAIRN_VALUE_INT;
	if (a->kind == CAIRN_VALUE_INT) {
		out->i = a->i;
		return 0;
	}
	if (a->kind == CAIRN_VALUE_FLOAT && isfinite(a->f) && a->f == trunc(a->f) &&
	    fabs(a->f) < 9.2e18) {
		out->i = (int64_t)a->f;
		return 0;
	}
	if (a->kind == CAIRN_VALUE_STRING && a->s[0] != '\0') {
		errno = 0;
		out->i = strtoll(a->s, &end, 10);
		if (*end == '\0' && errno == 0)
			return 0;
	}
	if (a->kind == CAIRN_VALUE_FLOAT)
		return eerr(c, n->pos, "asInt() cannot convert the float %g", a->f);
	return eerr(c, n->pos, "asInt() cannot convert %s%s%s%s", kind_name(a->kind),
	            a->kind == CAIRN_VALUE_STRING ? " '" : "",
	            a->kind == CAIRN_VALUE_STRING ? a->s : "",
	            a->kind == CAIRN_VALUE_STRING ? "'" : "");
}

static int eval_call(const struct ctx *c, const struct node *n, const struct ev *elem,
                     struct ev *out)
{
	struct ev a;
	int rc;

	if (n->op == F_ALL || n->op == F_ANY || n->op == F_NONE)
		return eval_predicate(c, n, elem, out);
	if ((rc = eval(c, n->a[0], elem, &a)) < 0)
		return rc;
	switch (n->op) {
	case F_LEN:
		from_value(out, NULL);
		out->kind = CAIRN_VALUE_INT;
		if (a.kind == CAIRN_VALUE_STRING)
			out->i = (int64_t)strlen(a.s);
		else if (a.kind == CAIRN_VALUE_LIST || a.kind == CAIRN_VALUE_MAP)
			out->i = (int64_t)a.ref->n;
		else
			return eerr(c, n->pos, "len() of %s", kind_name(a.kind));
		return 0;
	case F_ISNAN:
	case F_ISINF:
		if (!is_num(&a))
			return eerr(c, n->pos, "%s() needs a number, got %s",
			            n->op == F_ISNAN ? "isNaN" : "isInf", kind_name(a.kind));
		from_value(out, NULL);
		out->kind = CAIRN_VALUE_BOOL;
		out->b =
		        a.kind == CAIRN_VALUE_FLOAT && (n->op == F_ISNAN ? isnan(a.f) : isinf(a.f));
		return 0;
	case F_ISNIL:
		from_value(out, NULL);
		out->kind = CAIRN_VALUE_BOOL;
		out->b = a.kind == CAIRN_VALUE_NIL;
		return 0;
	case F_DEFAULT:
		if (a.kind != CAIRN_VALUE_NIL) {
			*out = a;
			return 0;
		}
		return eval(c, n->a[1], elem, out);
	default:
		return convert(c, n, &a, out);
	}
}

static int eval(const struct ctx *c, const struct node *n, const struct ev *elem, struct ev *out)
{
	int rc, b;

	switch (n->kind) {
	case N_NIL:
		from_value(out, NULL);
		return 0;
	case N_BOOL:
	case N_INT:
	case N_FLOAT:
	case N_STR:
		from_value(out, NULL);
		out->kind = n->kind == N_BOOL    ? CAIRN_VALUE_BOOL
		            : n->kind == N_INT   ? CAIRN_VALUE_INT
		            : n->kind == N_FLOAT ? CAIRN_VALUE_FLOAT
		                                 : CAIRN_VALUE_STRING;
		out->b = n->b;
		out->i = n->i;
		out->f = n->f;
		out->s = n->s;
		return 0;
	case N_RESULT:
		from_value(out, c->result);
		return 0;
	case N_ELEM:
		*out = *elem;
		return 0;
	case N_MEMBER:
	case N_INDEX:
		return eval_access(c, n, elem, out);
	case N_NEG:
		if ((rc = eval(c, n->a[0], elem, out)) < 0)
			return rc;
		if (out->kind == CAIRN_VALUE_INT) {
			if (out->i == INT64_MIN)
				return eerr(c, n->pos, "integer overflow in '-'");
			out->i = -out->i;
		} else if (out->kind == CAIRN_VALUE_FLOAT) {
			out->f = -out->f;
		} else {
			return eerr(c, n->pos, "'-' needs a number, got %s", kind_name(out->kind));
		}
		return 0;
	case N_NOT:
		if ((rc = eval_bool(c, n->a[0], elem, "'not'", &b)) < 0)
			return rc;
		from_value(out, NULL);
		out->kind = CAIRN_VALUE_BOOL;
		out->b = !b;
		return 0;
	case N_BIN:
		return eval_binary(c, n, elem, out);
	case N_IN:
		return eval_in(c, n, elem, out);
	case N_COND:
		if ((rc = eval_bool(c, n->a[0], elem, "'?'", &b)) < 0)
			return rc;
		return eval(c, n->a[b ? 1 : 2], elem, out);
	case N_CALL:
		return eval_call(c, n, elem, out);
	case N_ARRAY:
		break;
	}
	return eerr(c, n->pos, "array literal outside 'in'");
}

int cairn_expr_eval(cairn_value **out, const cairn_expr *e, const cairn_value *result)
{
	int nan_seen = 0;
	struct ctx c = {e, result, &nan_seen};
	struct ev v;
	cairn_value *res;
	int rc = eval(&c, e->root, NULL, &v);

	if (rc < 0)
		return rc;
	switch (v.kind) {
	case CAIRN_VALUE_NIL:
		res = cairn_value_new_nil();
		break;
	case CAIRN_VALUE_BOOL:
		res = cairn_value_new_bool(v.b);
		break;
	case CAIRN_VALUE_INT:
		res = cairn_value_new_int(v.i);
		break;
	case CAIRN_VALUE_FLOAT:
		res = cairn_value_new_float(v.f);
		break;
	case CAIRN_VALUE_STRING:
		res = cairn_value_new_string(v.s);
		break;
	default:
		res = cairn_value_copy(v.ref);
		break;
	}
	if (res == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	*out = res;
	return 0;
}

int expr__eval_bool(int *out, int *nan_seen, const cairn_expr *e, const cairn_value *result)
{
	struct ctx c = {e, result, nan_seen};
	struct ev v;
	int rc = eval(&c, e->root, NULL, &v);

	if (rc < 0)
		return rc;
	if (v.kind != CAIRN_VALUE_BOOL)
		return cairn_error_set(CAIRN_EINVAL, "condition '%s' gave %s, not a bool", e->src,
		                       kind_name(v.kind));
	*out = v.b;
	return 0;
}

int cairn_expr_eval_bool(int *out, const cairn_expr *e, const cairn_value *result)
{
	int nan_seen = 0;

	return expr__eval_bool(out, &nan_seen, e, result);
}
