/* test_rollout.c - the rollout module's Check suite. */
#include "rollout_tests.h"
#include "testutil.h"

int main(void)
{
	Suite *s = suite_create("rollout");

	rollout_expr_tests(s);
	rollout_analysis_tests(s);
	/* The rollout engine's test files add their calls below this line. */
	rollout_engine_spec_tests(s);
	rollout_engine_tests(s);
	rollout_engine_bg_tests(s);
	return test_run_suite(s);
}
