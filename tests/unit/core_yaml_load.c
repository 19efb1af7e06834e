/* core_yaml_load.c - tests not written yet */
#include "testutil.h"

void core_yaml_load_tests(Suite *s)
{
	(void)s;
}
