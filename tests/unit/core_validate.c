/* core_validate.c - tests not written yet */
#include "testutil.h"

void core_validate_tests(Suite *s)
{
	(void)s;
}
