/* test_daemon.c - the daemon module's Check suite. */
#include "daemon_tests.h"

int main(void)
{
	Suite *s = suite_create("daemon");

	daemon_webhook_tests(s);
	daemon_auth_tests(s);
	daemon_http_tests(s);
	daemon_audit_tests(s);
	return test_run_suite(s);
}
