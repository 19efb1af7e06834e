/* test_sim_objects.c - the simulator's object transformations: patches,
 * server-side apply and defaulting. */
#include "sim_objects_tests.h"

int main(void)
{
	Suite *s = suite_create("sim_objects");

	sim_objects_patch_tests(s);
	sim_objects_ssa_tests(s);
	sim_objects_defaults_tests(s);
	return test_run_suite(s);
}
