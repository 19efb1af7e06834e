/*
 * expr.c - the subset of the expr language that Argo Rollouts conditions
 * use, compiled to a tree and evaluated over `result`.
 *
 * Precedence follows expr: or/|| < and/&& < comparisons and `in` <
 * + - < * / % < ** ^ (right-associative); unary not/! bind like * and unary
 * minus tighter than **'s left side. `/` and `**` always give floats, `%`
 * needs integers, comparisons mix ints and floats, == between different
 * types is false. Anything else is refused at compile time with its
 * position. docs/analysis.md lists the subset and the deliberate
 * differences (predicates over empty lists are errors).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/analysis.h"
#include "cairn/error.h"

#include "expr_private.h"

static const struct {
	const char *name;
	enum fn fn;
	int nargs;
	int predicate; /* second argument is a predicate over # */
} functions[] = {
        {"len", F_LEN, 1, 0},         {"all", F_ALL, 2, 1},         {"any", F_ANY, 2, 1},
        {"none", F_NONE, 2, 1},       {"isNaN", F_ISNAN, 1, 0},     {"isInf", F_ISINF, 1, 0},
        {"isNil", F_ISNIL, 1, 0},     {"default", F_DEFAULT, 2, 0}, {"asInt", F_ASINT, 1, 0},
        {"asFloat", F_ASFLOAT, 1, 0},
};

/* ---- lexer ---- */

enum tok {
	T_EOF,
	T_NUM,
	T_STR,
	T_IDENT,
	T_OP
};

struct parser {
	const char *src;
	size_t len, p;
	enum tok tok;
	int tpos; /* 1-based */
	char text[64];
	char *str; /* T_STR value (owned until taken) */
	int64_t ival;
	double fval;
	int is_float;
	int depth, pred_depth;
};

static int perr(struct parser *ps, int pos, const char *what, const char *arg)
{
	if (arg != NULL)
		return cairn_error_set(CAIRN_EINVAL, "%s '%s' at %d in '%s'", what, arg, pos,
		                       ps->src);
	return cairn_error_set(CAIRN_EINVAL, "%s at %d in '%s'", what, pos, ps->src);
}

/* Strings: single or double quotes, with the escapes \\ \' \" \n \t \r. */
static int lex_string(struct parser *ps)
{
	char q = ps->src[ps->p++];
	char *out = malloc(ps->len + 1);
	size_t n = 0;

	if (out == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	while (ps->p < ps->len && ps->src[ps->p] != q) {
		char c = ps->src[ps->p++];

		if (c == '\\') {
			char e = ps->p < ps->len ? ps->src[ps->p++] : '\0';

			switch (e) {
			case '\\':
			case '\'':
			case '"':
				c = e;
				break;
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case 'r':
				c = '\r';
				break;
			default:
				free(out);
				return perr(ps, (int)ps->p - 1, "unsupported escape in string",
				            NULL);
			}
		}
		out[n++] = c;
	}
	if (ps->p >= ps->len) {
		free(out);
		return perr(ps, ps->tpos, "unterminated string", NULL);
	}
	ps->p++;
	out[n] = '\0';
	free(ps->str);
	ps->str = out;
	ps->tok = T_STR;
	return 0;
}

static int lex_number(struct parser *ps)
{
	const char *start = ps->src + ps->p;
	char *end;
	size_t k = 0;

	while (isdigit((unsigned char)start[k]))
		k++;
	ps->is_float = 0;
	/* "1..3" is a range, which is refused later; a '.' must be followed by a digit */
	if (start[k] == '.' && isdigit((unsigned char)start[k + 1]))
		ps->is_float = 1;
	if (start[k] == 'e' || start[k] == 'E')
		ps->is_float = 1;
	errno = 0;
	if (ps->is_float) {
		ps->fval = strtod(start, &end);
	} else {
		long long v = strtoll(start, &end, 10);

		if (errno == ERANGE)
			return perr(ps, ps->tpos, "integer out of range", NULL);
		ps->ival = v;
	}
	if (end == start)
		return perr(ps, ps->tpos, "bad number", NULL);
	if (isalpha((unsigned char)*end) || *end == '_')
		return perr(ps, ps->tpos, "bad number", NULL);
	k = (size_t)(end - start);
	snprintf(ps->text, sizeof(ps->text), "%.*s", (int)(k < 63 ? k : 63), start);
	ps->p += k;
	ps->tok = T_NUM;
	return 0;
}

static int next(struct parser *ps)
{
	static const char *ops[] = {"==", "!=", "<=", ">=", "&&", "||", "**", "..", "??", "?.",
	                            "<",  ">",  "!",  "+",  "-",  "*",  "/",  "%",  "^",  "(",
	                            ")",  "[",  "]",  ",",  ".",  "#",  "?",  ":",  "{",  "}"};

	while (ps->p < ps->len && isspace((unsigned char)ps->src[ps->p]))
		ps->p++;
	ps->tpos = (int)ps->p + 1;
	ps->text[0] = '\0';
	if (ps->p >= ps->len) {
		ps->tok = T_EOF;
		return 0;
	}
	char c = ps->src[ps->p];
	if (c == '\'' || c == '"')
		return lex_string(ps);
	if (isdigit((unsigned char)c))
		return lex_number(ps);
	if (isalpha((unsigned char)c) || c == '_' || c == '$') {
		size_t k = 0;

		while (ps->p + k < ps->len &&
		       (isalnum((unsigned char)ps->src[ps->p + k]) || ps->src[ps->p + k] == '_' ||
		        ps->src[ps->p + k] == '$'))
			k++;
		if (k >= sizeof(ps->text))
			return perr(ps, ps->tpos, "name too long", NULL);
		memcpy(ps->text, ps->src + ps->p, k);
		ps->text[k] = '\0';
		ps->p += k;
		ps->tok = T_IDENT;
		return 0;
	}
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		size_t k = strlen(ops[i]);

		if (strncmp(ps->src + ps->p, ops[i], k) == 0) {
			memcpy(ps->text, ops[i], k + 1);
			ps->p += k;
			ps->tok = T_OP;
			return 0;
		}
	}
	char bad[2] = {c, '\0'};
	return perr(ps, ps->tpos, "unexpected character", bad);
}

static int is_op(const struct parser *ps, const char *op)
{
	return ps->tok == T_OP && strcmp(ps->text, op) == 0;
}

static int is_word(const struct parser *ps, const char *w)
{
	return ps->tok == T_IDENT && strcmp(ps->text, w) == 0;
}

/* ---- parser ---- */

static void node_free(struct node *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->n; i++)
		node_free(n->a[i]);
	free(n->s);
	free(n->name);
	free(n);
}

static struct node *node_new(enum node_kind k, int pos)
{
	struct node *n = calloc(1, sizeof(*n));

	if (n != NULL) {
		n->kind = k;
		n->pos = pos;
	}
	return n;
}

static int parse_expr(struct node **out, struct parser *ps, int min_prec);

static int expect(struct parser *ps, const char *op)
{
	if (!is_op(ps, op)) {
		if (ps->tok == T_EOF)
			return perr(ps, ps->tpos, "unexpected end of expression, expected", op);
		return perr(ps, ps->tpos, "expected", op);
	}
	return next(ps);
}

/* A call: the name is known, the current token is '('. Predicates may be
 * written bare or in braces: all(result, # < 1) or all(result, {# < 1}). */
static int parse_call(struct node **out, struct parser *ps, const char *name, int pos)
{
	struct node *n = NULL;
	int idx = -1, rc;

	for (size_t i = 0; i < sizeof(functions) / sizeof(functions[0]); i++)
		if (strcmp(functions[i].name, name) == 0)
			idx = (int)i;
	if (idx < 0)
		return perr(ps, pos, "unknown function", name);
	n = node_new(N_CALL, pos);
	if (n == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	n->op = (int)functions[idx].fn;
	rc = next(ps);
	while (rc == 0 && !is_op(ps, ")")) {
		int pred = functions[idx].predicate && n->n == 1;
		int brace = 0;

		if (n->n >= (size_t)functions[idx].nargs) {
			rc = perr(ps, ps->tpos, "too many arguments to", name);
			break;
		}
		if (pred && is_op(ps, "{")) {
			brace = 1;
			rc = next(ps);
		}
		ps->pred_depth += pred;
		if (rc == 0)
			rc = parse_expr(&n->a[n->n], ps, 0);
		ps->pred_depth -= pred;
		if (rc < 0)
			break;
		n->n++;
		if (brace && (rc = expect(ps, "}")) < 0)
			break;
		if (is_op(ps, ","))
			rc = next(ps);
		else if (!is_op(ps, ")"))
			rc = perr(ps, ps->tpos, "expected ',' or ')' in call of", name);
	}
	if (rc == 0 && n->n != (size_t)functions[idx].nargs) {
		char msg[96];

		snprintf(msg, sizeof(msg), "%s() takes %d argument%s, got %zu at", name,
		         functions[idx].nargs, functions[idx].nargs == 1 ? "" : "s", n->n);
		rc = cairn_error_set(CAIRN_EINVAL, "%s %d in '%s'", msg, pos, ps->src);
	}
	if (rc == 0)
		rc = next(ps);
	if (rc < 0) {
		node_free(n);
		return rc;
	}
	*out = n;
	return 0;
}

static int parse_array(struct node **out, struct parser *ps, int pos)
{
	struct node *n = node_new(N_ARRAY, pos);
	int rc;

	if (n == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	rc = next(ps);
	while (rc == 0 && !is_op(ps, "]")) {
		if (n->n >= MAX_ARGS) {
			rc = perr(ps, ps->tpos, "array literal longer than 8 items", NULL);
			break;
		}
		rc = parse_expr(&n->a[n->n], ps, 0);
		if (rc < 0)
			break;
		n->n++;
		if (is_op(ps, ","))
			rc = next(ps);
		else if (!is_op(ps, "]"))
			rc = perr(ps, ps->tpos, "expected ',' or ']'", NULL);
	}
	if (rc == 0)
		rc = next(ps);
	if (rc < 0) {
		node_free(n);
		return rc;
	}
	*out = n;
	return 0;
}

static int parse_primary(struct node **out, struct parser *ps)
{
	int pos = ps->tpos, rc;
	struct node *n = NULL;

	if (ps->tok == T_NUM) {
		n = node_new(ps->is_float ? N_FLOAT : N_INT, pos);
		if (n != NULL) {
			n->i = ps->ival;
			n->f = ps->fval;
		}
	} else if (ps->tok == T_STR) {
		n = node_new(N_STR, pos);
		if (n != NULL) {
			n->s = ps->str;
			ps->str = NULL;
		}
	} else if (ps->tok == T_IDENT) {
		char name[64];

		memcpy(name, ps->text, sizeof(name));
		if ((rc = next(ps)) < 0)
			return rc;
		if (is_op(ps, "("))
			return parse_call(out, ps, name, pos);
		if (strcmp(name, "true") == 0 || strcmp(name, "false") == 0) {
			n = node_new(N_BOOL, pos);
			if (n != NULL)
				n->b = name[0] == 't';
		} else if (strcmp(name, "nil") == 0) {
			n = node_new(N_NIL, pos);
		} else if (strcmp(name, "result") == 0) {
			n = node_new(N_RESULT, pos);
		} else {
			return perr(ps, pos, "unknown name", name);
		}
		if (n == NULL)
			return cairn_error_set(CAIRN_ENOMEM, "out of memory");
		*out = n;
		return 0;
	} else if (is_op(ps, "#")) {
		if (ps->pred_depth == 0)
			return perr(ps, pos, "'#' outside a predicate of all(), any() or none()",
			            NULL);
		n = node_new(N_ELEM, pos);
	} else if (is_op(ps, "(")) {
		if ((rc = next(ps)) < 0 || (rc = parse_expr(&n, ps, 0)) < 0)
			return rc;
		if ((rc = expect(ps, ")")) < 0) {
			node_free(n);
			return rc;
		}
		*out = n;
		return 0;
	} else if (is_op(ps, "[")) {
		return parse_array(out, ps, pos);
	} else if (ps->tok == T_EOF) {
		return perr(ps, pos, "unexpected end of expression", NULL);
	} else {
		return perr(ps, pos, "unexpected", ps->text);
	}
	if (n == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	if ((rc = next(ps)) < 0) {
		node_free(n);
		return rc;
	}
	*out = n;
	return 0;
}

/* Member and index access after a primary: a.b, a[expr]. */
static int parse_postfix(struct node **out, struct parser *ps)
{
	struct node *n = NULL, *m;
	int rc = parse_primary(&n, ps);

	while (rc == 0 && (is_op(ps, ".") || is_op(ps, "["))) {
		int pos = ps->tpos, dot = is_op(ps, ".");

		m = node_new(dot ? N_MEMBER : N_INDEX, pos);
		if (m == NULL) {
			rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
			break;
		}
		m->a[0] = n;
		m->n = 1;
		n = m;
		if ((rc = next(ps)) < 0)
			break;
		if (dot) {
			if (ps->tok != T_IDENT) {
				rc = perr(ps, ps->tpos, "expected a field name after '.'", NULL);
				break;
			}
			m->name = strdup(ps->text);
			if (m->name == NULL) {
				rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
				break;
			}
			rc = next(ps);
		} else {
			if (is_op(ps, ":") || is_op(ps, "]")) {
				rc = perr(ps, ps->tpos, "slices are not supported", NULL);
				break;
			}
			if ((rc = parse_expr(&m->a[1], ps, 0)) < 0)
				break;
			m->n = 2;
			if (is_op(ps, ":")) {
				rc = perr(ps, ps->tpos, "slices are not supported", NULL);
				break;
			}
			rc = expect(ps, "]");
		}
	}
	if (rc < 0) {
		node_free(n);
		return rc;
	}
	*out = n;
	return 0;
}

static int parse_unary(struct node **out, struct parser *ps)
{
	int pos = ps->tpos, rc;
	enum node_kind k;
	int prec;
	struct node *n;

	if (is_word(ps, "not") || is_op(ps, "!")) {
		k = N_NOT;
		prec = 50;
	} else if (is_op(ps, "-")) {
		k = N_NEG;
		prec = 90;
	} else if (is_op(ps, "+")) {
		if ((rc = next(ps)) < 0)
			return rc;
		return parse_expr(out, ps, 90);
	} else {
		return parse_postfix(out, ps);
	}
	n = node_new(k, pos);
	if (n == NULL)
		return cairn_error_set(CAIRN_ENOMEM, "out of memory");
	if ((rc = next(ps)) < 0 || (rc = parse_expr(&n->a[0], ps, prec)) < 0) {
		node_free(n);
		return rc;
	}
	n->n = 1;
	*out = n;
	return 0;
}

/* The binary operator at the current token: its op, precedence and
 * associativity; 0 when the token is not a binary operator. Operators of
 * expr outside the subset are refused by name. */
static int binop(struct parser *ps, int *op, int *prec, int *right, int *is_in)
{
	static const struct {
		const char *t;
		int op, prec, right;
	} tab[] = {
	        {"||", B_OR, 10, 0},   {"or", B_OR, 10, 0},  {"&&", B_AND, 15, 0},
	        {"and", B_AND, 15, 0}, {"==", B_EQ, 20, 0},  {"!=", B_NE, 20, 0},
	        {"<", B_LT, 20, 0},    {"<=", B_LE, 20, 0},  {">", B_GT, 20, 0},
	        {">=", B_GE, 20, 0},   {"+", B_ADD, 30, 0},  {"-", B_SUB, 30, 0},
	        {"*", B_MUL, 60, 0},   {"/", B_DIV, 60, 0},  {"%", B_MOD, 60, 0},
	        {"**", B_POW, 100, 1}, {"^", B_POW, 100, 1},
	};
	static const char *refused[] = {"matches", "contains", "startsWith", "endsWith",
	                                "..",      "??",       "?.",         "|"};

	*is_in = 0;
	if (ps->tok != T_OP && ps->tok != T_IDENT)
		return 0;
	if (is_word(ps, "in")) {
		*is_in = 1;
		*prec = 20;
		*right = 0;
		*op = 0;
		return 1;
	}
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		if (strcmp(ps->text, tab[i].t) == 0) {
			*op = tab[i].op;
			*prec = tab[i].prec;
			*right = tab[i].right;
			return 1;
		}
	}
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (strcmp(ps->text, refused[i]) == 0)
			return -1;
	return 0;
}

static int parse_expr(struct node **out, struct parser *ps, int min_prec)
{
	struct node *left = NULL, *n;
	int rc, op, prec, right, is_in, r;

	if (++ps->depth > MAX_DEPTH) {
		ps->depth--;
		return cairn_error_set(CAIRN_ELIMIT, "expression nested deeper than %d in '%s'",
		                       MAX_DEPTH, ps->src);
	}
	rc = parse_unary(&left, ps);
	while (rc == 0) {
		int pos = ps->tpos, negate = 0;

		/* `not in` is one operator */
		if (is_word(ps, "not") && min_prec <= 20) {
			int savepos = ps->tpos;

			if ((rc = next(ps)) < 0)
				break;
			if (!is_word(ps, "in")) {
				rc = perr(ps, savepos, "unexpected", "not");
				break;
			}
			negate = 1;
		}
		r = binop(ps, &op, &prec, &right, &is_in);
		if (r < 0) {
			rc = perr(ps, pos, "unsupported operator", ps->text);
			break;
		}
		if (r == 0 || prec < min_prec)
			break;
		n = node_new(is_in ? N_IN : N_BIN, pos);
		if (n == NULL) {
			rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
			break;
		}
		n->op = is_in ? negate : op;
		n->a[0] = left;
		n->n = 1;
		left = n;
		if ((rc = next(ps)) < 0 ||
		    (rc = parse_expr(&n->a[1], ps, right ? prec : prec + 1)) < 0)
			break;
		n->n = 2;
	}
	/* the conditional operator binds loosest */
	if (rc == 0 && min_prec == 0 && is_op(ps, "?")) {
		n = node_new(N_COND, ps->tpos);
		if (n == NULL) {
			rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		} else {
			n->a[0] = left;
			n->n = 1;
			left = n;
			if ((rc = next(ps)) == 0 && (rc = parse_expr(&n->a[1], ps, 0)) == 0) {
				n->n = 2;
				if ((rc = expect(ps, ":")) == 0 &&
				    (rc = parse_expr(&n->a[2], ps, 0)) == 0)
					n->n = 3;
			}
		}
	}
	ps->depth--;
	if (rc < 0) {
		node_free(left);
		return rc;
	}
	*out = left;
	return 0;
}

/* An array literal is only a value on the right of `in`: check that. */
static int check_arrays(struct parser *ps, const struct node *n, int allowed)
{
	if (n->kind == N_ARRAY && !allowed)
		return perr(ps, n->pos, "array literals are only supported after 'in'", NULL);
	for (size_t i = 0; i < n->n; i++) {
		int rc = check_arrays(ps, n->a[i], n->kind == N_IN && i == 1);

		if (rc < 0)
			return rc;
	}
	return 0;
}

int cairn_expr_compile(cairn_expr **out, const char *src)
{
	struct parser ps = {0};
	struct node *root = NULL;
	cairn_expr *e;
	int rc;

	if (src == NULL)
		return cairn_error_set(CAIRN_EINVAL, "empty expression");
	ps.src = src;
	ps.len = strlen(src);
	if (ps.len > CAIRN_EXPR_MAX_LEN)
		return cairn_error_set(CAIRN_ELIMIT, "expression longer than %d bytes",
		                       CAIRN_EXPR_MAX_LEN);
	if ((rc = next(&ps)) < 0)
		goto out;
	if (ps.tok == T_EOF) {
		rc = cairn_error_set(CAIRN_EINVAL, "empty expression");
		goto out;
	}
	if ((rc = parse_expr(&root, &ps, 0)) < 0)
		goto out;
	if (ps.tok != T_EOF) {
		rc = perr(&ps, ps.tpos, "unexpected", ps.tok == T_STR ? "string" : ps.text);
		goto out;
	}
	if ((rc = check_arrays(&ps, root, 0)) < 0)
		goto out;
	e = calloc(1, sizeof(*e));
	if (e == NULL || (e->src = strdup(src)) == NULL) {
		free(e);
		rc = cairn_error_set(CAIRN_ENOMEM, "out of memory");
		goto out;
	}
	e->root = root;
	root = NULL;
	*out = e;
out:
	node_free(root);
	free(ps.str);
	return rc;
}

const char *cairn_expr_source(const cairn_expr *e)
{
	return e->src;
}

void cairn_expr_free(cairn_expr *e)
{
	if (e == NULL)
		return;
	node_free(e->root);
	free(e->src);
	free(e);
}
