/* test_audit.c - the audit module's Check suite. */
#include "testutil.h"

int main(void)
{
	Suite *s = suite_create("audit");

	audit_merkle_tests(s);
	audit_log_tests(s);
	return test_run_suite(s);
}
