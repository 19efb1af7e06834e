/* sim_objects_tests.h - the TCase builders of the sim objects suite and
 * small JSON helpers they share. */
#ifndef CAIRN_SIM_OBJECTS_TESTS_H
#define CAIRN_SIM_OBJECTS_TESTS_H

#include <jansson.h>

#include "testutil.h"

void sim_objects_patch_tests(Suite *s);
void sim_objects_ssa_tests(Suite *s);
void sim_objects_defaults_tests(Suite *s);

/* Parse JSON text written in a test (aborts the test on a typo). */
static inline json_t *J(const char *text)
{
	json_error_t err;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &err);

	ck_assert_msg(v != NULL, "bad test JSON '%s': %s", text, err.text);
	return v;
}

/* Assert that `got` equals the JSON text `want`, printing both otherwise. */
#define ck_assert_json_eq(got, want)                                                               \
	do {                                                                                       \
		json_t *w_ = J(want);                                                              \
		char *g_ = json_dumps((got), JSON_SORT_KEYS | JSON_ENCODE_ANY | JSON_COMPACT);     \
		char *ws_ = json_dumps(w_, JSON_SORT_KEYS | JSON_ENCODE_ANY | JSON_COMPACT);       \
		ck_assert_msg(json_equal((got), w_), "got %s\nwant %s", g_, ws_);                  \
		free(g_);                                                                          \
		free(ws_);                                                                         \
		json_decref(w_);                                                                   \
	} while (0)

#endif
