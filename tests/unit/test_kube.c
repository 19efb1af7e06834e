/* test_kube.c - the kube module's Check suite. */
#include "kube_tests.h"
#include "testutil.h"

int main(void)
{
	Suite *s = suite_create("kube");

	kube_config_tests(s);
	kube_sim_tests(s);
	kube_watch_tests(s);
	kube_health_tests(s);
	kube_batch_tests(s);
	return test_run_suite(s);
}
