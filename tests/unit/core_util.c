/* core_util.c - tests not written yet */
#include "testutil.h"

void core_util_tests(Suite *s)
{
	(void)s;
}
