/* app_tests.h - the TCase builders of the app module's suite. */
#ifndef CAIRN_APP_TESTS_H
#define CAIRN_APP_TESTS_H

#include <check.h>

void app_load_tests(Suite *s);
void app_rules_tests(Suite *s);
void app_gen_tests(Suite *s);
void app_git_tests(Suite *s);

#endif
