/* test_sync.c - the sync module's Check suite. */
#include "sync_tests.h"
#include "testutil.h"

int main(void)
{
	Suite *s = suite_create("sync");

	sync_compare_tests(s);
	/* Z2 (plan) and Z3 (run) add their calls below this line. */
	sync_plan_tests(s);
	sync_run_tests(s);
	sync_drift_tests(s);
	sync_rollout_tests(s);
	return test_run_suite(s);
}
