/* core_json.c - tests not written yet */
#include "testutil.h"

void core_json_tests(Suite *s)
{
	(void)s;
}
