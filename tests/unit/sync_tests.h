/* sync_tests.h - the sync module's TCase builders (one per test file). */
#ifndef CAIRN_SYNC_TESTS_H
#define CAIRN_SYNC_TESTS_H

#include <check.h>

void sync_compare_tests(Suite *s);
/* Z2 (plan) and Z3 (run) add their builders below this line. */
void sync_plan_tests(Suite *s);
void sync_run_tests(Suite *s);
void sync_drift_tests(Suite *s);
void sync_rollout_tests(Suite *s);

#endif
