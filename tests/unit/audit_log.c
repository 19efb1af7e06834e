/* audit_log.c - tests not written yet */
#include "testutil.h"

void audit_log_tests(Suite *s)
{
	(void)s;
}
