/* test_render.c - the render module's Check suite. */
#include "render_tests.h"

int main(void)
{
	Suite *s = suite_create("render");

	render_parity_tests(s);
	render_refuse_tests(s);
	render_gen_tests(s);
	render_patch_tests(s);
	render_scale_tests(s);
	return test_run_suite(s);
}
