/*
 * rollout_expr.c - the condition language: values, precedence, the
 * builtins, NaN/Inf/empty/multi-series results, and the compile and
 * evaluation errors with their positions.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/analysis.h"
#include "cairn/error.h"
#include "rollout_tests.h"
#include "testutil.h"

enum res {
	R_NIL,
	R_SCALAR,
	R_EMPTY,
	R_ONE,
	R_NAN,
	R_MULTI,
	R_INF,
	R_MAP,
	R_NEGINF
};

/* The `result` a case is evaluated against, as providers produce them. */
static cairn_value *make_result(enum res r)
{
	cairn_value *v = NULL;
	json_error_t err;
	json_t *j;

	switch (r) {
	case R_NIL:
		return NULL;
	case R_SCALAR:
		return cairn_value_new_float(0.5);
	case R_EMPTY:
		return cairn_value_new_list();
	case R_ONE:
		v = cairn_value_new_list();
		ck_assert_int_eq(cairn_value_add(v, NULL, cairn_value_new_float(0.01)), 0);
		return v;
	case R_NAN:
		v = cairn_value_new_list();
		ck_assert_int_eq(cairn_value_add(v, NULL, cairn_value_new_float(NAN)), 0);
		return v;
	case R_INF:
	case R_NEGINF:
		v = cairn_value_new_list();
		ck_assert_int_eq(
		        cairn_value_add(v, NULL,
		                        cairn_value_new_float(r == R_INF ? INFINITY : -INFINITY)),
		        0);
		return v;
	case R_MULTI:
		v = cairn_value_new_list();
		ck_assert_int_eq(cairn_value_add(v, NULL, cairn_value_new_float(0.01)), 0);
		ck_assert_int_eq(cairn_value_add(v, NULL, cairn_value_new_float(0.2)), 0);
		return v;
	case R_MAP:
		j = json_loads(
		        "{\"ok\":true,\"status\":\"healthy\",\"data\":{\"n\":3,\"rate\":0.25,"
		        "\"s\":\"42\",\"f\":\"0.5\"},\"list\":[1,2,3],\"none\":null}",
		        0, &err);
		ck_assert_ptr_nonnull(j);
		ck_assert_int_eq(cairn_value_from_json(&v, j), 0);
		json_decref(j);
		return v;
	}
	return NULL;
}

static const struct {
	const char *expr;
	enum res result;
	const char *want; /* the formatted value, or "!" + part of the error */
} cases[] = {
        /* literals and arithmetic, expr's precedence */
        {"1 + 2 * 3", R_NIL, "7"},
        {"(1 + 2) * 3", R_NIL, "9"},
        {"7 / 2", R_NIL, "3.5"},
        {"7 % 3", R_NIL, "1"},
        {"-7 % 3", R_NIL, "-1"},
        {"2 ** 3 ** 2", R_NIL, "512"},
        {"-2 ** 2", R_NIL, "-4"},
        {"2 ^ 10", R_NIL, "1024"},
        {"10 - 2 - 3", R_NIL, "5"},
        {"1.5e2 + 0.5", R_NIL, "150.5"},
        {"1 / 0", R_NIL, "+Inf"},
        {"-1 / 0", R_NIL, "-Inf"},
        {"7.5 % 2", R_NIL, "!'%' needs integers, got float and int at 5 in '7.5 % 2'"},
        {"1 % 0", R_NIL, "!integer division by zero at 3"},
        {"9223372036854775807 + 1", R_NIL, "!integer overflow in '+'"},
        {"'a' + 'b'", R_NIL, "!'+' needs numbers, got string and string"},
        {"\"it's\" == 'it\\'s'", R_NIL, "true"},
        {"nil == nil", R_NIL, "true"},
        {"'a\"b\\\\c\\n'", R_NIL, "\"a\\\"b\\\\c\\u000a\""},
        {"1 == 1.0", R_NIL, "true"},
        {"1 == '1'", R_NIL, "false"},
        {"1 != '1'", R_NIL, "true"},
        {"'abc' < 'abd'", R_NIL, "true"},
        {"1 < 'a'", R_NIL, "!cannot compare int and string with '<' at 3"},
        {"true && false || true", R_NIL, "true"},
        {"true and not false", R_NIL, "true"},
        {"not true or true", R_NIL, "true"},
        {"!(1 < 2)", R_NIL, "false"},
        {"1 < 2 == true", R_NIL, "true"},
        {"1 && true", R_NIL, "!'and' needs a bool, got int at 1"},
        {"false && 1", R_NIL, "false"}, /* short-circuit, as expr */
        {"true ? 1 : 2", R_NIL, "1"},
        {"2 in [1, 2, 3]", R_NIL, "true"},
        {"4 not in [1, 2, 3]", R_NIL, "true"},
        /* scalar results */
        {"result", R_SCALAR, "0.5"},
        {"result <= 0.5", R_SCALAR, "true"},
        {"result * 2 == 1", R_SCALAR, "true"},
        {"result[0]", R_SCALAR, "!cannot index float at 7"},
        {"len(result)", R_SCALAR, "!len() of float"},
        /* vectors */
        {"result[0] < 0.05", R_ONE, "true"},
        {"result[-1]", R_MULTI, "0.2"},
        {"result[1] > 0.1", R_MULTI, "true"},
        {"len(result)", R_MULTI, "2"},
        {"all(result, # < 0.05)", R_MULTI, "false"},
        {"any(result, {# > 0.1})", R_MULTI, "true"},
        {"none(result, # > 0.5)", R_MULTI, "true"},
        {"all(result, all(result, # < 1))", R_MULTI, "true"},
        {"0.2 in result", R_MULTI, "true"},
        {"result[2]", R_MULTI, "!index 2 out of range (2 items) at 7"},
        {"result[0.5]", R_MULTI, "!a list is indexed by an int, not float"},
        /* empty vector: no data is never success */
        {"result[0] < 0.05", R_EMPTY, "!index 0 out of range (0 items) at 7"},
        {"all(result, # < 0.05)", R_EMPTY, "!all() over an empty list at 1"},
        {"any(result, # > 0.05)", R_EMPTY, "!any() over an empty list"},
        {"len(result) == 0", R_EMPTY, "true"},
        /* NaN: every ordering is false, != is true (Go), isNaN tells */
        {"result[0] < 0.05", R_NAN, "false"},
        {"result[0] >= 0.05", R_NAN, "false"},
        {"result[0] == result[0]", R_NAN, "false"},
        {"result[0] != 0.05", R_NAN, "true"},
        {"isNaN(result[0])", R_NAN, "true"},
        {"isNaN(result[0]) || result[0] > 0.05", R_NAN, "true"},
        {"isNaN(1)", R_NIL, "false"},
        {"isNaN('x')", R_NIL, "!isNaN() needs a number, got string"},
        {"result[0] * 0", R_NAN, "NaN"},
        /* infinities */
        {"isInf(result[0])", R_INF, "true"},
        {"result[0] > 1e308", R_INF, "true"},
        {"result[0] < 0", R_NEGINF, "true"},
        {"isInf(result[0])", R_ONE, "false"},
        /* maps (web provider) */
        {"result.ok", R_MAP, "true"},
        {"result.status == 'healthy'", R_MAP, "true"},
        {"result.data.n + 1", R_MAP, "4"},
        {"result['data']['rate']", R_MAP, "0.25"},
        {"result.missing", R_MAP, "null"},
        {"result.missing.x", R_MAP, "!cannot fetch 'x' from nil at 15"},
        {"result.list[1]", R_MAP, "2"},
        {"'ok' in result", R_MAP, "true"},
        {"len(result.list)", R_MAP, "3"},
        {"len(result.status)", R_MAP, "7"},
        {"result.ok.x", R_MAP, "!cannot fetch 'x' from bool"},
        /* builtins */
        {"asInt(result.data.s) == 42", R_MAP, "true"},
        {"asInt(result.data.n)", R_MAP, "3"},
        {"asInt(result.data.rate)", R_MAP, "!asInt() cannot convert the float 0.25"},
        {"asInt('4x')", R_NIL, "!asInt() cannot convert string '4x'"},
        {"asFloat(result.data.f) + 1", R_MAP, "1.5"},
        {"asFloat('abc')", R_NIL, "!asFloat() cannot convert string 'abc'"},
        {"asFloat(3)", R_NIL, "3"},
        {"default(result.none, 7)", R_MAP, "7"},
        {"default(result.data.n, 7)", R_MAP, "3"},
        {"isNil(result)", R_NIL, "true"},
        {"isNil(result.none)", R_MAP, "true"},
        {"result", R_NIL, "null"},
        {"result.x", R_NIL, "!cannot fetch 'x' from nil"},
        {"result[0]", R_NIL, "!cannot index nil"},
};

START_TEST(test_expr_values)
{
	cairn_expr *e = NULL;
	cairn_value *res = make_result(cases[_i].result), *v = NULL;
	char *text = NULL;
	int rc = cairn_expr_compile(&e, cases[_i].expr);

	ck_assert_msg(rc == 0, "'%s' does not compile: %s", cases[_i].expr,
	              cairn_error_last()->message);
	rc = cairn_expr_eval(&v, e, res);
	if (cases[_i].want[0] == '!') {
		ck_assert_msg(rc == CAIRN_EINVAL, "'%s' evaluated to something", cases[_i].expr);
		ck_assert_ptr_null(v);
		ck_assert_error_contains(cases[_i].want + 1);
	} else {
		ck_assert_msg(rc == 0, "'%s': %s", cases[_i].expr, cairn_error_last()->message);
		ck_assert_int_eq(cairn_value_format(&text, v), 0);
		ck_assert_msg(strcmp(text, cases[_i].want) == 0, "'%s' gave %s, want %s",
		              cases[_i].expr, text, cases[_i].want);
	}
	free(text);
	cairn_value_free(v);
	cairn_value_free(res);
	cairn_expr_free(e);
}
END_TEST

static const struct {
	const char *expr;
	const char *err;
} bad[] = {
        {"1.5e2 + .5", "unexpected '.' at 9"},
        {"foo(result)", "unknown function 'foo' at 1 in 'foo(result)'"},
        {"result[0] < limit", "unknown name 'limit' at 13 in 'result[0] < limit'"},
        {"result matches 'x'", "unsupported operator 'matches' at 8"},
        {"result[0] ?"
         "? 1",
         "unsupported operator '?"
         "?' at 11"},
        {"1..3", "unsupported operator '..' at 2"},
        {"result[1:2]", "slices are not supported at 9"},
        {"# > 1", "'#' outside a predicate of all(), any() or none() at 1"},
        {"len(result, 2)", "too many arguments to 'len' at 13"},
        {"all(result)", "all() takes 2 arguments, got 1 at 1"},
        {"(1 + 2", "unexpected end of expression, expected ')' at 7"},
        {"1 +", "unexpected end of expression at 4"},
        {"'abc", "unterminated string at 1"},
        {"'a\\x'", "unsupported escape in string at 3"},
        {"1 2", "unexpected '2' at 3"},
        {"result @ 1", "unexpected character '@' at 8"},
        {"[1, 2]", "array literals are only supported after 'in' at 1"},
        {"12abc", "bad number at 1"},
        {"", "empty expression"},
        {"   ", "empty expression"},
        {"result.", "expected a field name after '.' at 8"},
        {"a not b", "unknown name 'a' at 1"},
        {"1 not 2", "unexpected 'not' at 3"},
};

START_TEST(test_expr_compile_errors)
{
	cairn_expr *e = NULL;

	ck_assert_int_eq(cairn_expr_compile(&e, bad[_i].expr), CAIRN_EINVAL);
	ck_assert_ptr_null(e);
	ck_assert_error_contains(bad[_i].err);
}
END_TEST

START_TEST(test_expr_limits)
{
	char deep[300], *longsrc = malloc(CAIRN_EXPR_MAX_LEN + 2);
	cairn_expr *e = NULL;
	size_t n = 0;

	for (int i = 0; i < 100; i++)
		deep[n++] = '(';
	deep[n++] = '1';
	for (int i = 0; i < 100; i++)
		deep[n++] = ')';
	deep[n] = '\0';
	ck_assert_int_eq(cairn_expr_compile(&e, deep), CAIRN_ELIMIT);
	ck_assert_error_contains("nested deeper than 64");
	ck_assert_ptr_nonnull(longsrc);
	memset(longsrc, '1', CAIRN_EXPR_MAX_LEN + 1);
	longsrc[CAIRN_EXPR_MAX_LEN + 1] = '\0';
	ck_assert_int_eq(cairn_expr_compile(&e, longsrc), CAIRN_ELIMIT);
	ck_assert_error_contains("longer than 4096");
	free(longsrc);
}
END_TEST

START_TEST(test_expr_bool)
{
	cairn_expr *e = NULL;
	int b = -1;

	ck_assert_int_eq(cairn_expr_compile(&e, "result"), 0);
	ck_assert_int_eq(cairn_expr_eval_bool(&b, e, NULL), CAIRN_EINVAL);
	ck_assert_error_contains("condition 'result' gave nil, not a bool");
	ck_assert_int_eq(b, -1);
	cairn_expr_free(e);
	ck_assert_int_eq(cairn_expr_compile(&e, "len(result) > 0"), 0);
	ck_assert_str_eq(cairn_expr_source(e), "len(result) > 0");
	cairn_expr_free(e);
}
END_TEST

void rollout_expr_tests(Suite *s)
{
	TCase *tc = tcase_create("expr");

	tcase_add_loop_test(tc, test_expr_values, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_loop_test(tc, test_expr_compile_errors, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, test_expr_limits);
	tcase_add_test(tc, test_expr_bool);
	suite_add_tcase(s, tc);
}
