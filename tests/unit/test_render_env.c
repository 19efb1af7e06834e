/* test_render_env.c - the render module's environment stage: substitution,
 * overrides, plugins, and the refusal of paths leaving the source root. */
#include "render_env_tests.h"

int main(void)
{
	Suite *s = suite_create("render_env");

	render_subst_tests(s);
	render_security_tests(s);
	render_prov_tests(s);
	return test_run_suite(s);
}
