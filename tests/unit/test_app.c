/* test_app.c - the app module's Check suite. */
#include "app_tests.h"
#include "testutil.h"

int main(void)
{
	Suite *s = suite_create("app");

	app_load_tests(s);
	app_rules_tests(s);
	app_gen_tests(s);
	app_git_tests(s);
	return test_run_suite(s);
}
