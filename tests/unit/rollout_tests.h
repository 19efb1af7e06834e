/* rollout_tests.h - the rollout module's TCase builders (one per test file). */
#ifndef CAIRN_ROLLOUT_TESTS_H
#define CAIRN_ROLLOUT_TESTS_H

#include <check.h>

void rollout_expr_tests(Suite *s);
void rollout_analysis_tests(Suite *s);
/* The rollout engine's test files add their builders below this line. */
void rollout_engine_spec_tests(Suite *s);
void rollout_engine_tests(Suite *s);
void rollout_engine_bg_tests(Suite *s);

#endif
