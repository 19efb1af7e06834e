/*
 * expr_private.h - the compiled form of an expression, shared by the
 * parser (expr.c) and the evaluator (expr_eval.c).
 */
#ifndef CAIRN_ROLLOUT_EXPR_PRIVATE_H
#define CAIRN_ROLLOUT_EXPR_PRIVATE_H

#include <stdint.h>
#include <stddef.h>

enum node_kind {
	N_NIL,
	N_BOOL,
	N_INT,
	N_FLOAT,
	N_STR,
	N_RESULT,
	N_ELEM, /* # inside a predicate */
	N_MEMBER,
	N_INDEX,
	N_NEG,
	N_NOT,
	N_BIN,
	N_IN,
	N_COND,
	N_CALL,
	N_ARRAY,
};

enum bin_op {
	B_OR,
	B_AND,
	B_EQ,
	B_NE,
	B_LT,
	B_LE,
	B_GT,
	B_GE,
	B_ADD,
	B_SUB,
	B_MUL,
	B_DIV,
	B_MOD,
	B_POW
};

enum fn {
	F_LEN,
	F_ALL,
	F_ANY,
	F_NONE,
	F_ISNAN,
	F_ISINF,
	F_ISNIL,
	F_DEFAULT,
	F_ASINT,
	F_ASFLOAT
};

#define MAX_ARGS 8
#define MAX_DEPTH 64

struct node {
	enum node_kind kind;
	int pos; /* 1-based offset in the source */
	int op;  /* bin_op, fn, or negated for N_IN */
	int b;
	int64_t i;
	double f;
	char *s;
	char *name;
	struct node *a[MAX_ARGS];
	size_t n;
};

struct cairn_expr {
	char *src;
	struct node *root;
};

struct cairn_expr;
struct cairn_value;
/* As cairn_expr_eval_bool(); *nan_seen is set when an ordering or equality
 * with a NaN operand was evaluated (the run refuses to call such a
 * decision a success). */
int expr__eval_bool(int *out, int *nan_seen, const struct cairn_expr *e,
                    const struct cairn_value *result);

#endif
