/* test_sim_server.c - the cairn-sim server's Check suite (store, watch, selectors). */
#include "sim_server_tests.h"
#include "testutil.h"

int main(void)
{
	Suite *s = suite_create("sim_server");

	sim_server_store_tests(s);
	sim_server_select_tests(s);
	return test_run_suite(s);
}
