/* test_state.c - the state module's Check suite. */
#include "state_tests.h"
#include "testutil.h"

int main(void)
{
	Suite *s = suite_create("state");

	state_open_tests(s);
	state_records_tests(s);
	state_crash_tests(s);
	state_rollout_tests(s);
	return test_run_suite(s);
}
