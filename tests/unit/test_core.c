/* test_core.c - the core module's Check suite. */
#include "testutil.h"

int main(void)
{
	Suite *s = suite_create("core");

	core_basics_tests(s);
	core_yaml_load_tests(s);
	core_yaml_emit_tests(s);
	core_json_tests(s);
	core_util_tests(s);
	core_k8s_tests(s);
	core_validate_tests(s);
	return test_run_suite(s);
}
