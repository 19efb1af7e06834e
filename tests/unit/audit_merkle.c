/* audit_merkle.c - tests not written yet */
#include "testutil.h"

void audit_merkle_tests(Suite *s)
{
	(void)s;
}
