/*
 * fuzz_expr.c - the condition language: any input either compiles or is
 * refused with a message naming the expression; a compiled expression is
 * evaluated against a scalar, a vector with NaN and +Inf, an empty vector,
 * a map and nil, and each evaluation either gives a value or an error with
 * a message (never a crash, a leak or an unset error). The jsonPath parser
 * of the web provider gets the same input.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/analysis.h"
#include "cairn/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cairn_value *results[5];

static void setup(void)
{
	json_t *j =
	        json_loads("{\"ok\":true,\"data\":{\"n\":3,\"s\":\"42\"},\"list\":[1,2]}", 0, NULL);

	results[0] = cairn_value_new_float(0.5);
	results[1] = cairn_value_new_list();
	cairn_value_add(results[1], NULL, cairn_value_new_float(NAN));
	cairn_value_add(results[1], NULL, cairn_value_new_float(INFINITY));
	cairn_value_add(results[1], NULL, cairn_value_new_float(0.01));
	results[2] = cairn_value_new_list();
	cairn_value_from_json(&results[3], j);
	results[4] = NULL;
	json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;
	cairn_expr *e = NULL;
	const json_t *v;
	json_t *doc;

	if (results[0] == NULL)
		setup();
	if (size > CAIRN_EXPR_MAX_LEN + 8)
		return 0;
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (cairn_expr_compile(&e, text) == 0) {
		for (size_t i = 0; i < 5; i++) {
			cairn_value *out = NULL;
			char *s = NULL;

			if (cairn_expr_eval(&out, e, results[i]) == 0) {
				if (cairn_value_format(&s, out) != 0)
					abort();
				free(s);
				cairn_value_free(out);
			} else if (cairn_error_last()->message[0] == '\0' || out != NULL) {
				abort();
			}
		}
		cairn_expr_free(e);
	} else if (e != NULL || cairn_error_last()->message[0] == '\0') {
		abort();
	}
	doc = json_loads("{\"a\":{\"b\":[1,{\"c\":2}]}}", 0, NULL);
	(void)cairn_analysis_jsonpath(&v, doc, text);
	json_decref(doc);
	free(text);
	return 0;
}
